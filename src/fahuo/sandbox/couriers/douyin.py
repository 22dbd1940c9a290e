"""Douyin ``logistics.trackNoRouteDetail`` (§9.8): the due events of a shop's number as route nodes."""
from __future__ import annotations

from typing import Any

from ..core import ApiError
from ..gateway import Ctx, api_method
from ..logistics.fields import courier_param
from ..params import bad, str_param
from .store import CourierStore
from .timeline import due


# Douyin node state → state_description; both are keys of fahuo's (UNCONFIRMED) DOUYIN table.
DOUYIN_DESC = {"揽收": "已揽收", "在途": "运输中", "派件": "派送中", "待取件": "待取件", "签收": "已签收",
               "疑难": "异常", "拒签": "拒收", "退回": "退回中", "退签": "退签", "丢失": "丢失"}


def douyin_node(ev: dict[str, Any]) -> dict[str, Any]:
    return {"content": ev["context"], "timestamp": str(ev["at"]), "state": ev["douyin"],
            "state_description": DOUYIN_DESC[ev["douyin"]], "site_name": ev["site"]}


class DouyinRoutes(CourierStore):
    def route_detail(self, shop_id: int, code: str, track_no: str) -> dict[str, Any]:
        self._count("route_detail_calls")
        s = self.sb.store.one("SELECT company_code FROM shipments WHERE shop_id=? AND tracking_no=? ORDER BY id LIMIT 1",
                              (shop_id, track_no))
        if s is None:  # unknown, or another shop's number: the same answer (nothing leaks)
            raise ApiError(50002, "isv.business-failed:10", f"运单号不存在或不属于当前店铺: {track_no}")
        if s[0] != code:
            raise ApiError(50002, "isv.business-failed:10", f"运单号与物流公司不匹配: {track_no}（发货时为{s[0]}）")
        row = self.track(track_no)
        if row is None:
            raise ApiError(50002, "isv.business-failed:10", f"暂不支持该物流公司的轨迹查询: {code}")
        now = self.sb.now()
        nodes = [douyin_node(e) for e in row["events"] if due(e) <= now]
        return {"track_info": {"track_no": track_no, "express": code}, "route__node_list": nodes}


@api_method("logistics.trackNoRouteDetail")
def track_no_route_detail(ctx: Ctx, params: dict[str, Any]) -> Any:
    code = courier_param(params)
    tn = str_param(params, "track_no")
    phone = params.get("receiver_phone")
    if phone is not None and not isinstance(phone, (str, int)):
        raise bad("receiver_phone", "receiver_phone应为字符串")
    return ctx.sb.couriers.route_detail(ctx.shop, code, tn)
