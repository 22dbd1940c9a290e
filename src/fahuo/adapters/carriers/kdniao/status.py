"""Kdniao ``State`` / ``StateEx`` in fahuo's tracking model (docs/tracking-and-couriers.md §2.6)."""

from __future__ import annotations

from fahuo.domain.tracking import Incident as I, Mapped, TrackingState as T

from ..status import UNKNOWN_CONFIRMED, StatusMap

# --- Kdniao (§2.6) --------------------------------------------------------------------------
# ``State`` 0–6 and ``StateEx`` share meanings for 0–6, so one table holds both. ``State`` 4
# is sticky (stays 4 after any problem), so ``StateEx`` always wins when it is known.
KDNIAO: dict[str, Mapped] = {
    "0": (T.INFO_RECEIVED, None),        # 暂无轨迹信息
    "1": (T.PICKED_UP, None),            # 已揽收
    "10": (T.INFO_RECEIVED, None),       # 待揽件
    "2": (T.IN_TRANSIT, None),           # 在途中
    "201": (T.IN_TRANSIT, None),         # 到达派件城市
    "204": (T.IN_TRANSIT, None),         # 到达转运中心
    "205": (T.IN_TRANSIT, None),         # 到达派件网点
    "206": (T.IN_TRANSIT, None),         # 寄件网点发件
    "202": (T.OUT_FOR_DELIVERY, None),   # 派件中
    "211": (T.OUT_FOR_DELIVERY, None),   # 已放入快递柜或驿站
    "3": (T.DELIVERED, None),            # 已签收
    "301": (T.DELIVERED, None),          # 正常签收
    "302": (T.DELIVERED, None),          # 异常后最终签收
    "304": (T.DELIVERED, None),          # 代收签收
    "311": (T.DELIVERED, None),          # 快递柜或驿站签收
    "5": (T.IN_TRANSIT, None),           # 转寄
    "4": (T.EXCEPTION, I.OTHER),         # 问题件
    "401": (T.EXCEPTION, I.NO_TRACE),    # 发货无信息
    "402": (T.FAILED_ATTEMPT, I.NOT_SIGNED_IN_TIME),  # 超时未签收 (派件 trace > 36 h)
    "403": (T.EXCEPTION, I.NO_UPDATES),  # 超时未更新 (> 5 days)
    "404": (T.REJECTED, I.REFUSED),      # 拒收(退件)
    "405": (T.FAILED_ATTEMPT, I.OTHER),  # 派件异常
    "406": (T.RETURNED, None),           # 退货签收
    "407": (T.RETURNING, None),          # 退货未签收
    "412": (T.FAILED_ATTEMPT, I.UNCOLLECTED),  # 快递柜或驿站超时未取 (> 18 h)
    "413": (T.EXCEPTION, I.INTERCEPTED),  # 单号已拦截
    "414": (T.EXCEPTION, I.DAMAGED),     # 破损
    "415": (T.EXCEPTION, I.CANCELLED),   # 客户取消发货
    "416": (T.FAILED_ATTEMPT, I.RECIPIENT_UNAVAILABLE),  # 无法联系
    "417": (T.EXCEPTION, I.DELAYED),     # 配送延迟
    "418": (T.EXCEPTION, I.OTHER),       # 快件取出
    "419": (T.OUT_FOR_DELIVERY, None),   # 重新派送: a new attempt is progress
    "420": (T.EXCEPTION, I.ADDRESS_PROBLEM),  # 收货地址不详细
    "421": (T.EXCEPTION, I.RECIPIENT_UNAVAILABLE),  # 收件人电话错误
    "422": (T.EXCEPTION, I.MISSORTED),   # 错分件
    "423": (T.EXCEPTION, I.OUT_OF_AREA),  # 超区件
    "6": (T.IN_TRANSIT, None),           # 清关
    "601": (T.IN_TRANSIT, None),         # 待清关
    "602": (T.IN_TRANSIT, None),         # 清关中
    "603": (T.IN_TRANSIT, None),         # 已清关
    "604": (T.EXCEPTION, I.CUSTOMS),     # 清关异常
}


STATUS = StatusMap(KDNIAO, UNKNOWN_CONFIRMED)


def from_kdniao(state: str | int | None, state_ex: str | int | None = None) -> Mapped:
    """Kdniao ``State`` plus ``StateEx``; StateEx wins (State 4 is sticky)."""
    return STATUS(state, state_ex)


__all__ = ["KDNIAO", "STATUS", "from_kdniao"]
