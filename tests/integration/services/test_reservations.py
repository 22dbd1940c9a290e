"""Reservations follow the lines on SQLite and PostgreSQL alike: a partial refund read by the
after-sale sync shrinks the reservation, a release by hand and an unpacking give units back,
and an order planned again reserves afresh on its old row."""

from __future__ import annotations

import time

import pytest

from fahuo.adapters.store import models as m
from fahuo.services.orders import store_platform_orders
from fahuo.services.reservations import ReservationError, release_by_hand, unpack
from fahuo.services.shops import NewShop, add_shop
from fahuo.services.stock.lines import StockLine
from fahuo.services.stock.moves import move_stock
from fahuo.services.stock.orders import follow_lines_in, reserve_in

OID = "6900000000000000301"


def _reserved(app, oid=OID) -> int:
    with app.uow() as u:
        return sum(r["quantity"] for r in u.stock.reservations([oid], ("reserved",)))


def test_reservations_follow_a_partial_refund_then_a_person(fahuo_any_db, make_order):
    app = fahuo_any_db
    payload = make_order(OID, 1_700_000_000)  # one line: 2 × TEE-RED-0
    sub = payload["sku_order_list"][0]["order_id"]
    with app.uow() as u:
        ref = add_shop(u, NewShop(shop_id="1001", app_key="3409409348479354011",
                                  app_secret="s", gateway_url="http://127.0.0.1:1"))
        store_platform_orders(u, ref, [payload])
    move_stock(app.uow, "receive", [StockLine("TEE-RED-0", 5, new=True)], actor="t")
    with app.uow() as u:
        assert reserve_in(u, [OID]).reserved == [OID]
    assert _reserved(app) == 2
    # the platform: one unit refunded before shipment, agreed (the line shows 12 / 3)
    payload = make_order(OID, 1_700_000_100)
    payload["sku_order_list"][0]["after_sale_info"] = {
        "after_sale_status": 12, "after_sale_type": 2, "refund_status": 3}
    with app.uow() as u:
        store_platform_orders(u, ref, [payload])
    assert _reserved(app) == 2  # how many units is not known yet: nothing goes back
    with app.uow() as u:
        u.conn.execute(m.after_sales.insert().values(
            aftersale_id="7200000000000000301", shop_ref=ref, order_id=OID,
            sku_order_ids=f'["{sub}"]', aftersale_type=2, aftersale_status=12,
            refund_status=3, stage="before_ship", update_time=int(time.time()),
            closed_at=int(time.time())))
        u.aftersales.set_lines([{"aftersale_id": "7200000000000000301",
                                 "sku_order_id": sub, "units": 1}])
        got = follow_lines_in(u, [OID])
    assert got.orders == {OID: {"TEE-RED-0": 1}} and _reserved(app) == 1
    with pytest.raises(ReservationError, match="备注必填"):
        release_by_hand(app.uow, OID, note="", actor="t")
    assert release_by_hand(app.uow, OID, note="买家要求先不发", actor="t").released == {
        OID: {"TEE-RED-0": 1}}
    assert _reserved(app) == 0
    with app.uow() as u:  # planned again: the old row reserves again, for what is left
        assert reserve_in(u, [OID]).reserved == [OID]
        (row,) = u.stock.reservations([OID])
    assert (row["state"], row["quantity"]) == ("reserved", 1)
    with pytest.raises(ReservationError, match="没有找到"):
        unpack(app.uow, track_no="7300000009999", actor="t")
    with app.uow() as u:
        item = next(r for r in u.stock.levels()[1] if r["sku_code"] == "TEE-RED-0")
        sums = u.stock.journal_sums()[item["id"]]
    assert (item["on_hand"], item["reserved"]) == (5, 1) and sums == (5, 1, 0)
