"""Kuaidi100 ``state`` / ``data[].statusCode`` in fahuo's tracking model (docs/tracking-and-couriers.md §1.5)."""

from __future__ import annotations

from fahuo.domain.tracking import Incident as I, Mapped, TrackingState as T

from ..status import UNKNOWN_CONFIRMED, StatusMap

# --- Kuaidi100 (tracking-and-couriers.md §1.5) --------------------------------------------
# Base states and sub-codes share one table: the codes do not collide, and whether the
# top-level ``state`` itself carries advanced codes under resultv2=4 is UNCONFIRMED.
# 2xx and the customs 10–13 codes are 3P (two third-party tables agree).
KUAIDI100: dict[str, Mapped] = {
    "1": (T.PICKED_UP, None),            # 揽收
    "101": (T.INFO_RECEIVED, None),      # 已下单
    "102": (T.INFO_RECEIVED, None),      # 待揽收
    "103": (T.PICKED_UP, None),          # 已揽收
    "0": (T.IN_TRANSIT, None),           # 在途
    "1001": (T.IN_TRANSIT, None),        # 到达派件城市
    "1002": (T.IN_TRANSIT, None),        # 干线
    "1003": (T.IN_TRANSIT, None),        # 转递 (发往新地址)
    "5": (T.OUT_FOR_DELIVERY, None),     # 派件
    "501": (T.OUT_FOR_DELIVERY, None),   # 投柜或驿站
    "3": (T.DELIVERED, None),            # 签收
    "301": (T.DELIVERED, None),          # 本人签收
    "302": (T.DELIVERED, None),          # 派件异常后签收
    "303": (T.DELIVERED, None),          # 代签
    "304": (T.DELIVERED, None),          # 投柜或站签收
    "6": (T.RETURNING, None),            # 退回
    "4": (T.RETURNED, None),             # 退签
    "401": (T.RETURNED, I.CANCELLED),    # 已销单
    "14": (T.REJECTED, I.REFUSED),       # 拒签
    "7": (T.IN_TRANSIT, None),           # 转投 (handed to another carrier)
    "2": (T.EXCEPTION, I.OTHER),         # 疑难
    "201": (T.FAILED_ATTEMPT, I.NOT_SIGNED_IN_TIME),  # 超时未签收
    "202": (T.EXCEPTION, I.NO_UPDATES),  # 超时未更新
    "203": (T.REJECTED, I.REFUSED),      # 拒收
    "204": (T.FAILED_ATTEMPT, I.OTHER),  # 派件异常
    "205": (T.FAILED_ATTEMPT, I.UNCOLLECTED),  # 柜或驿站超时未取
    "206": (T.FAILED_ATTEMPT, I.RECIPIENT_UNAVAILABLE),  # 无法联系
    "207": (T.EXCEPTION, I.OUT_OF_AREA),  # 超区
    "208": (T.EXCEPTION, I.HELD_UP),     # 滞留
    "209": (T.EXCEPTION, I.DAMAGED),     # 破损
    "210": (T.EXCEPTION, I.CANCELLED),   # 销单
    "8": (T.IN_TRANSIT, None),           # 清关
    "10": (T.IN_TRANSIT, None),          # 待清关
    "11": (T.IN_TRANSIT, None),          # 清关中
    "12": (T.IN_TRANSIT, None),          # 已清关
    "13": (T.EXCEPTION, I.CUSTOMS),      # 清关异常
}


STATUS = StatusMap(KUAIDI100, UNKNOWN_CONFIRMED)


def from_kuaidi100(state: str | int | None, sub_state: str | int | None = None) -> Mapped:
    """Kuaidi100 ``state`` plus ``data[].statusCode`` (resultv2=4); the sub-code wins."""
    return STATUS(state, sub_state)


__all__ = ["KUAIDI100", "STATUS", "from_kuaidi100"]
