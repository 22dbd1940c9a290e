"""The Chinese name of every code a merchant may see: one table per code set.

Screens, CLI output, exports and alerts show ``name(code)``, the code beside it at most
(``中通快递 (zhongtong)``), never the code alone. Tables that already live with their rules are
referred to, not copied (hold reasons, stock moves, couriers, platform statuses).
"""

from __future__ import annotations

from collections.abc import Mapping

from fahuo.domain.aftersales import InterceptState
from fahuo.domain.couriers import COURIERS
from fahuo.domain.handover import HandoverState
from fahuo.domain.holds import HoldReason
from fahuo.domain.orders import OrderState
from fahuo.domain.packs import PackState
from fahuo.domain.stock import MOVE_NAMES
from fahuo.domain.tracking import INCIDENT_NAMES, STATE_NAMES, TrackingState
from fahuo.domain.watch import FindingKind

O, P, T, K, I = OrderState, PackState, TrackingState, FindingKind, InterceptState  # noqa: E741

ORDER_STATE: Mapping[str, str] = {
    O.UNPAID: "待支付", O.SYNCED: "待审核", O.HELD: "已挂起", O.APPROVED: "已审核",
    O.WAYBILL_TAKEN: "已取号", O.PRINTED: "已打印", O.PARTLY_SHIPPED: "部分发货",
    O.SHIPPED: "已发货", O.IN_TRANSIT: "运输中", O.DELIVERED: "已签收", O.CANCELLED: "已取消",
    O.REFUNDED: "已退款", O.INTERCEPTED: "已拦截", O.RETURNED: "已退回",
}
PACK_STATE: Mapping[str, str] = {
    P.PLANNED: "已分包", P.WAYBILL_PENDING: "取号中", P.WAYBILL_TAKEN: "已取号",
    P.PRINTED: "已打印", P.SCANNED: "已扫描", P.MANUAL: "导入单号", P.CONFIRMED: "已发货",
    P.FAILED: "回传失败", P.STALE: "面单失效", P.CANCELLED: "已作废",
}
PACK_KIND: Mapping[str, str] = {"whole": "整单", "merged": "合并", "split": "拆分"}
TRACK_STATE: Mapping[str, str] = STATE_NAMES
INCIDENT: Mapping[str, str] = INCIDENT_NAMES
FINDING_KIND: Mapping[str, str] = {
    K.PICKUP_TIMEOUT: "揽收超时（虚假发货风险）", K.STALLED: "物流停滞",
    K.FAILED_DELIVERY: "派送失败/疑难", K.REFUSED: "拒收", K.RETURNED: "退回", K.LOST: "丢件",
    K.DEADLINE_SOON_6H: "即将超时发货（6小时内）", K.DEADLINE_SOON_2H: "即将超时发货（2小时内）",
    K.OVERDUE: "已超时未发货",
}
HOLD_REASON: Mapping[str, str] = {r.value: r.label for r in HoldReason}
INTERCEPT_STATE: Mapping[str, str] = {
    I.NONE: "—", I.OFFERED: "可拦截", I.REQUESTING: "拦截申请中", I.REQUESTED: "已申请拦截",
    I.RETURNING: "退回中", I.RETURNED: "已退回", I.FAILED: "拦截失败", I.UNAVAILABLE: "无法拦截",
    I.UNSURE: "结果未知（请向快递核实）",
}
# 批量发货 / 导入发货 jobs, their rows, and a preview's rows
JOB_KIND: Mapping[str, str] = {"batch": "批量发货", "import": "导入发货"}
JOB_STATUS: Mapping[str, str] = {"preview": "预览", "running": "进行中", "done": "已完成",
                                 "failed": "失败"}
JOB_ITEM_STATUS: Mapping[str, str] = {
    "ready": "可发货", "invalid": "不可发货", "already_shipped": "已用此单号发货",
    "pending": "待发货", "shipped": "已发货", "skipped": "已跳过", "failed": "发货失败",
}
INBOX_STATUS: Mapping[str, str] = {"pending": "待处理", "done": "已处理",
                                   "skipped": "已跳过（不处理的消息类型）", "failed": "处理失败"}
WAYBILL_STATUS: Mapping[str, str] = {"live": "有效", "used": "已使用", "unused": "未使用",
                                     "recycled": "已回收"}
CHANNEL_KIND: Mapping[str, str] = {"dingtalk": "钉钉", "feishu": "飞书", "wecom": "企业微信",
                                   "webhook": "Webhook 回调", "email": "邮件"}
STOCK_MOVE: Mapping[str, str] = {str(k): v for k, v in MOVE_NAMES.items()}
COURIER: Mapping[str, str] = {c.code: c.name for c in COURIERS}
HANDOVER_STATE: Mapping[str, str] = {HandoverState.OPEN: "待交接",
                                     HandoverState.HANDED_OVER: "已交接"}
# 扫描发货: what a scan told the packer (services/scan.ScanResult.verdict)
SCAN_VERDICT: Mapping[str, str] = {
    "shipped": "放行（已发货）", "already_shipped": "放行（此前已发货）", "intercepted": "拦截",
    "held": "挂起中", "unknown": "未知单号", "not_ready": "未就绪", "failed": "回传失败",
}

# the platform's after-sale statuses (aftersale_status) fahuo shows
AFTERSALE_STATUS: Mapping[str, str] = {
    "6": "待商家同意", "7": "待买家退货", "8": "待商家发货", "11": "待商家二次同意",
    "12": "售后成功", "27": "商家拒绝", "28": "售后失败",
}
USER_ROLE: Mapping[str, str] = {"admin": "管理员", "operator": "操作员"}
USER_STATE: Mapping[str, str] = {"active": "正常", "disabled": "已停用"}
# when a shop tells the platform a parcel shipped (shop_settings.confirm_mode)
CONFIRM_MODE: Mapping[str, str] = {"on_print": "打印后发货", "on_scan": "扫描后发货",
                                   "on_waybill": "取号后发货"}
# what the Douyin print component reported of a task (print_component results)
PRINT_TASK_STATUS: Mapping[str, str] = {"printed": "已打印", "rendered": "已渲染",
                                        "failed": "打印失败", "refused": "组件拒绝任务"}
# the steps of a shipping pass (services/shipping), as hold texts and pass notes name them
PIPELINE_STEP: Mapping[str, str] = {"recycle": "回收单号", "audit": "审单", "reaudit": "复审",
                                    "plan": "分包", "waybills": "取号", "confirm": "发货"}

# Every code set by name, for screens that pick one by name and for the untranslated-text test.
CODE_SETS: Mapping[str, Mapping[str, str]] = {
    "order_state": ORDER_STATE, "pack_state": PACK_STATE, "pack_kind": PACK_KIND,
    "track_state": TRACK_STATE, "incident": INCIDENT, "finding_kind": FINDING_KIND, "hold_reason": HOLD_REASON,
    "intercept_state": INTERCEPT_STATE, "job_kind": JOB_KIND, "job_status": JOB_STATUS,
    "job_item_status": JOB_ITEM_STATUS, "inbox_status": INBOX_STATUS,
    "waybill_status": WAYBILL_STATUS, "channel_kind": CHANNEL_KIND, "stock_move": STOCK_MOVE,
    "courier": COURIER, "handover_state": HANDOVER_STATE, "scan_verdict": SCAN_VERDICT,
    "aftersale_status": AFTERSALE_STATUS, "user_role": USER_ROLE, "user_state": USER_STATE,
    "confirm_mode": CONFIRM_MODE, "print_task_status": PRINT_TASK_STATUS,
    "pipeline_step": PIPELINE_STEP,
}


def name(table: Mapping[str, str], code: object) -> str:
    """The Chinese name; an unknown code is shown as it is (better than nothing)."""
    if code is None or code == "":
        return ""
    return table.get(str(code), str(code))


def courier_name(code: object) -> str:
    """``中通快递 (zhongtong)``: the name a merchant knows, the code beside it for support."""
    if not code:
        return ""
    zh = COURIER.get(str(code))
    return f"{zh} ({code})" if zh else str(code)
