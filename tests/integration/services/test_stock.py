"""Stock in the store: no overselling under concurrent workers (SQLite and PostgreSQL), holds
for stock short released deadline-first when stock arrives, deductions on shipment, releases
on cancel/refund, and count files applied all or nothing."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from fahuo.domain.orders import OrderState
from fahuo.services.holds import release_orders
from fahuo.services.orders import store_platform_orders
from fahuo.services.pipeline import Pipeline
from fahuo.services.shops import NewShop, add_shop
from fahuo.services.stock import (
    StockInputError, StockLine, move_stock, parse_stock_file, reserve_in,
    settle_in,
)
from support import order_payload, orders_in_fahuo

HOT = "TEE-RED-0"  # order_payload's first line: 2 units each


def _orders(app, n: int, start: int = 0) -> list[str]:
    with app.uow() as uow:
        ref = uow.shops.list()[0].id if uow.shops.list() else add_shop(uow, NewShop(
            shop_id="1001", app_key="3409409348479354011", app_secret="s",
            gateway_url="http://127.0.0.1:1"))
        ids = [str(6900000000000100000 + start + i) for i in range(n)]
        store_platform_orders(uow, ref, [order_payload(oid, 1_700_000_000 + i)
                                         for i, oid in enumerate(ids)])
    return ids


def _check_ledger(app) -> dict:
    with app.uow() as uow:
        (row,) = uow.stock.items([HOT]).values()
        sums = uow.stock.journal_sums()[row["id"]]
        live = sum(r["quantity"] for r in uow.stock.reservations(
            [str(6900000000000100000 + i) for i in range(1000)], ("reserved",)))
    assert (row["on_hand"], row["reserved"], row["damaged"]) == tuple(sums)  # journal = balance
    assert 0 <= row["reserved"] <= row["on_hand"] and row["reserved"] == live
    return row


def test_hot_sku_is_never_oversold_by_concurrent_workers(fahuo_any_db):
    app = fahuo_any_db
    ids = _orders(app, 120)
    move_stock(app.uow, "receive", [StockLine(HOT, 51)], actor="t")
    errors: list[BaseException] = []
    won: list[str] = []
    lock = threading.Lock()

    def worker(chunk: list[str]) -> None:
        try:
            for k in range(0, len(chunk), 3):  # small transactions, interleaving a lot
                for attempt in range(50):
                    try:
                        with app.uow() as u:
                            got = reserve_in(u, chunk[k:k + 3])
                        break
                    except Exception as exc:  # noqa: BLE001 - SQLite busy: try again
                        if "locked" not in str(exc) or attempt == 49:
                            raise
                        time.sleep(0.01)
                with lock:
                    won.extend(got.reserved)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(ids[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    row = _check_ledger(app)
    assert len(won) == 25 and row["reserved"] == 50 and row["on_hand"] == 51  # 2 units each
    # nobody can reserve the last single unit for a 2-unit order
    with app.uow() as u:
        assert reserve_in(u, ids).short  # the rest stay short


def test_release_ship_and_rebuild(fahuo_any_db):
    app = fahuo_any_db
    ids = _orders(app, 6)
    move_stock(app.uow, "receive", [StockLine(HOT, 10)], actor="t")
    with app.uow() as u:
        assert len(reserve_in(u, ids).reserved) == 5
        u.pipeline.set_states({ids[0]: OrderState.CANCELLED.value,
                               ids[1]: OrderState.SHIPPED.value})
        assert settle_in(u) == {"released": 1, "shipped": 1}
        assert settle_in(u) == {"released": 0, "shipped": 0}  # once only
    row = _check_ledger(app)
    assert (row["on_hand"], row["reserved"]) == (8, 6)


def test_stock_files_apply_all_or_nothing_and_name_bad_rows(fahuo):
    good = "商家编码,数量,名称\nCUP-A,40,马克杯\nCUP-B,0,\n".encode("utf-8-sig")
    lines = parse_stock_file("count.csv", good)
    assert [(x.sku_code, x.quantity) for x in lines] == [("CUP-A", 40), ("CUP-B", 0)]
    move_stock(fahuo.uow, "count", lines, actor="t", ref_type="import", ref_id="count.csv")
    with pytest.raises(StockInputError) as ei:
        parse_stock_file("bad.csv", "商家编码,数量\nCUP-A,4.5\n,3\nCUP-A,1\nCUP-C,2\n".encode())
    assert ei.value.problems == ["row 2 (CUP-A): quantity '4.5' is not a whole number "
                                 "between -10000000 and 10000000",
                                 "row 3: SKU code is empty"]
    with pytest.raises(StockInputError, match="missing column 数量"):
        parse_stock_file("x.csv", b"sku_code,count\nA,1\n")
    with pytest.raises(StockInputError, match="line 2 .CUP-B.: .*negative"):
        move_stock(fahuo.uow, "adjust", [StockLine("CUP-A", -5), StockLine("CUP-B", -1)],
                   actor="t")
    with fahuo.uow() as u:
        levels = {r["sku_code"]: r["on_hand"] for r in u.stock.levels()[1]}
    assert levels == {"CUP-A": 40, "CUP-B": 0}  # the good first line was not applied either


def test_pipeline_holds_short_orders_and_releases_them_deadline_first(fahuo, sandbox):
    ref, _ = orders_in_fahuo(fahuo, sandbox, 40, seed=21, run=False, hold_after_sale=False)
    with fahuo.uow() as uow:
        _, rows = uow.orders.search(shop_ref=ref, limit=100)
        loaded = uow.pipeline.load_orders([r["order_id"] for r in rows if r["order_status"] == 2])
    units = Counter()
    for _, _, o in loaded.values():
        for s in o.sub_orders:
            units[s.merchant_code] += s.quantity
    hot, demand = units.most_common(1)[0]
    assert demand >= 2
    # the merchant manages stock for the busiest SKU only, and has too little of it
    move_stock(fahuo.uow, "receive", [StockLine(hot, demand - 1)], actor="t")
    Pipeline(fahuo.uow, fahuo.platform_for).run()
    with fahuo.uow() as uow:
        (item,) = uow.stock.items([hot]).values()
        held = uow.pipeline.order_ids_in_state(OrderState.HELD.value, limit=100)
        holds = uow.pipeline.open_holds(held)
    short = [o for o in held if any(h["reason"] == "stock_short" for h in holds[o])]
    assert short, "someone must wait for stock"
    assert item["reserved"] == 0 and item["on_hand"] <= demand - 1  # shipped ones deducted
    assert item["on_hand"] >= 0
    # a person cannot release past missing stock
    res = release_orders(fahuo.uow, short[:1], actor="t")
    assert short[0] in res.refused and "库存不足" in res.refused[short[0]]
    # stock arrives: enough for exactly one waiting order → the earliest deadline gets it
    with fahuo.uow() as uow:
        waiting = uow.pipeline.load_orders(short)
    by_deadline = sorted(short, key=lambda o: (waiting[o][2].exp_ship_time or 0, o))
    first_need = sum(s.quantity for s in waiting[by_deadline[0]][2].sub_orders
                     if s.merchant_code == hot)
    with fahuo.uow() as uow:
        (item,) = uow.stock.items([hot]).values()
    top_up = max(1, first_need - (item["on_hand"] - item["reserved"]))
    moved = move_stock(fahuo.uow, "receive", [StockLine(hot, top_up)], actor="t")
    assert moved.released[:1] == by_deadline[:1]  # at once, to the earliest deadline
    Pipeline(fahuo.uow, fahuo.platform_for).run()
    with fahuo.uow() as uow:
        assert uow.pipeline.order_states([by_deadline[0]])[by_deadline[0]] == "shipped"
        (item,) = uow.stock.items([hot]).values()
        sums = uow.stock.journal_sums()[item["id"]]
    assert item["reserved"] == 0 and (item["on_hand"], item["reserved"], item["damaged"]) == sums


def test_a_bundle_reserves_its_parts(fahuo):
    from fahuo.services.stock import set_bundle
    ids = _orders(fahuo, 3)  # each: 2 × TEE-RED-0
    set_bundle(fahuo.uow, HOT, {"CUP": 2, "LID": 1}, actor="t")
    move_stock(fahuo.uow, "receive", [StockLine("CUP", 9), StockLine("LID", 10)], actor="t")
    with fahuo.uow() as u:
        got = reserve_in(u, ids)
        levels = {r["sku_code"]: (r["on_hand"], r["reserved"]) for r in u.stock.levels()[1]}
    assert len(got.reserved) == 2 and "CUP 需要4件，可用1件" in got.short[ids[2]]
    assert levels == {"CUP": (9, 8), "LID": (10, 4)}
    with pytest.raises(StockInputError, match="itself a bundle"):
        set_bundle(fahuo.uow, "BIG", {HOT: 1}, actor="t")


def test_a_line_refunded_after_reservation_goes_back_on_the_shelf_when_the_rest_ships(fahuo):
    ids = _orders(fahuo, 1)  # 2 × TEE-RED-0
    move_stock(fahuo.uow, "receive", [StockLine(HOT, 10)], actor="t")
    with fahuo.uow() as u:
        assert reserve_in(u, ids).reserved == ids
        # the buyer's refund of that line completes before the parcel leaves
        u.conn.exec_driver_sql("update sub_orders set after_sale_status=12, refund_status=3 "
                               "where order_id=?", (ids[0],))
    from fahuo.services.stock import ship_in
    with fahuo.uow() as u:
        ship_in(u, ids)
    row = _check_ledger(fahuo)
    assert (row["on_hand"], row["reserved"]) == (10, 0)  # nothing of it left the shelf
