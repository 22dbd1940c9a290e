"""A buyer's return parcel is tracked like an outgoing one, on the shop's own polling rules."""

from __future__ import annotations

import time

from fahuo.adapters.platforms.doudian.stock import AfterSalePage
from fahuo.bootstrap import sync_after_sales
from support import labelled_pack

OID = "6900000000000000301"
CASE = "7200000000000000301"
RETURN_NO = "3999000099990"


class OneReturnCase:
    """afterSale.List with one return case (type 0: goods back) naming its return parcel."""

    def after_sales(self, *, update_start, update_end, page=0, size=100):
        return AfterSalePage(items=[{
            "aftersale_info": {"aftersale_id": CASE, "aftersale_type": 0,
                               "aftersale_status": 11, "update_time": int(time.time()),
                               "return_logistics_company_name": "圆通快递",
                               "return_logistics_code": RETURN_NO},
            "order_info": {"shop_order_id": OID, "related_order_info": [
                {"sku_order_id": f"{OID}1", "order_status": 3, "item_num": 1}]}}])


def _return_tracker(fahuo):
    with fahuo.uow(readonly=True) as u:
        (t,) = u.tracking.by_track_nos([RETURN_NO])[RETURN_NO]
        return t


def test_a_return_parcel_is_first_polled_after_the_shops_configured_interval(fahuo,
                                                                          make_order):
    ref, _ = labelled_pack(fahuo, make_order, OID, "78000000000301")
    with fahuo.uow() as u:
        u.settings.save(ref, {"watch_rules": {"poll_base_s": 7 * 60}})
    before = int(time.time())
    sync_after_sales(fahuo.uow, lambda shop: OneReturnCase(), ref)
    t = _return_tracker(fahuo)
    assert (t["pack_id"], t["order_id"], t["courier_code"]) == (None, OID, "yuantong")
    assert t["state"] == "info_received"
    # 7 minutes as configured, not the old fixed 30
    assert before + 7 * 60 <= t["next_poll_at"] <= int(time.time()) + 7 * 60


def test_without_rules_a_return_parcel_takes_the_default_first_interval(fahuo, make_order):
    ref, _ = labelled_pack(fahuo, make_order, OID, "78000000000301")
    before = int(time.time())
    sync_after_sales(fahuo.uow, lambda shop: OneReturnCase(), ref)
    t = _return_tracker(fahuo)
    assert before + 30 * 60 <= t["next_poll_at"] <= int(time.time()) + 30 * 60
