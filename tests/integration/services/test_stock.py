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
from fahuo.services.shipping import Pipeline
from fahuo.services.shops import NewShop, add_shop
from fahuo.adapters.files import SpreadsheetReader
from fahuo.services.stock.lines import StockInputError, StockLine
from fahuo.services.stock.moves import move_stock
from fahuo.services.stock.orders import reserve_in, settle_in
from support import order_payload, orders_in_fahuo


def parse_stock_file(name, data, limits=None):
    from fahuo.services.stock.files import parse_stock_file as parse
    return parse(name, data, limits, files=SpreadsheetReader())

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
                    except Exception as exc:
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
    good = "商家编码,数量,名称,新编码\nCUP-A,40,马克杯,是\nCUP-B,0,,是\n".encode("utf-8-sig")
    lines = parse_stock_file("count.csv", good)
    assert [(x.sku_code, x.quantity, x.row, x.new) for x in lines] == [
        ("CUP-A", 40, 2, True), ("CUP-B", 0, 3, True)]
    move_stock(fahuo.uow, "count", lines, actor="t", ref_type="import", ref_id="count.csv")
    with pytest.raises(StockInputError) as ei:
        parse_stock_file("bad.csv", "商家编码,数量\nCUP-A,4.5\n,3\nCUP-A,1\nCUP-C,2\n".encode())
    assert ei.value.problems == ["第2行 CUP-A：数量“4.5”有小数：库存按件计，只能是整数",
                                 "第3行：商家编码为空", "第4行 CUP-A：与第2行重复"]
    with pytest.raises(StockInputError, match="缺少“数量”列（表头：sku_code、count）"):
        parse_stock_file("x.csv", b"sku_code,count\nA,1\n")
    with pytest.raises(StockInputError) as ei:
        move_stock(fahuo.uow, "adjust", [StockLine("CUP-A", -5), StockLine("CUP-B", -1)],
                   actor="t")
    assert ei.value.problems == ["第2行 CUP-B：调整后实物为 -1 件，库存不能为负"]
    with fahuo.uow() as u:
        levels = {r["sku_code"]: r["on_hand"] for r in u.stock.levels()[1]}
    assert levels == {"CUP-A": 40, "CUP-B": 0}  # the good first line was not applied either


def _levels(app) -> dict[str, tuple[int, int]]:
    with app.uow() as u:
        return {r["sku_code"]: (r["on_hand"], r["reserved"]) for r in u.stock.levels()[1]}


def test_every_problem_of_a_file_comes_back_in_one_round_by_the_files_own_rows(fahuo):
    from fahuo.bootstrap import import_stock_file
    from fahuo.services.stock.bundles import set_bundle
    move_stock(fahuo.uow, "receive", [StockLine("CUP-A", 10, new=True),
                                      StockLine("LID", 3, new=True)], actor="t")
    set_bundle(fahuo.uow, "GIFT-SET", {"CUP-A": 2, "LID": 1}, actor="t")
    ids = _orders(fahuo, 1)  # 2 × TEE-RED-0, sold in the shop: a known code
    move_stock(fahuo.uow, "receive", [StockLine(HOT, 2)], actor="t")
    with fahuo.uow() as u:
        assert reserve_in(u, ids).reserved == ids  # both units held by the order
    data = ("商家编码,数量\n"
            "CUP-A,8\n"           # 2: fine
            "\n"                  # 3: blank, still counted as the merchant sees it
            "LID,1e3\n"           # 4: scientific
            f"{HOT},1\n"          # 5: below the 2 units the order holds
            "CUP-AA,5\n"          # 6: a typo of CUP-A
            "GIFT-SET,4\n"        # 7: a bundle: its stock is its parts'
            "SPOON,１０\n"        # 8: full-width digits (and an unknown code)
            "CUP-A,3\n").encode()  # 9: twice
    with pytest.raises(StockInputError) as ei:
        import_stock_file(fahuo.uow, "盘点.csv", data, "count", actor="t")
    assert ei.value.problems == [
        "第4行 LID：数量“1e3”是科学计数法（Excel 常把数字显示成这样）：请写成整数，如 1000",
        f"第5行 {HOT}：盘点后实物为 1 件，少于已付款订单占用的 2 件",
        "第6行 CUP-AA：未知编码 CUP-AA，是不是 CUP-A？若是新商品，在该行“新编码”列填“是”",
        "第7行 GIFT-SET：这是组套，库存记在部件上（2×CUP-A + 1×LID），请对部件入库或盘点",
        "第8行 SPOON：数量“１０”含全角字符：请用半角数字，写成 10",
        "第9行 CUP-A：与第2行重复",
    ]
    assert _levels(fahuo) == {"CUP-A": (10, 0), "LID": (3, 0), HOT: (2, 2)}  # nothing applied
    # fixed as told: the typo corrected, the new spoon marked new, the rest as it was meant
    fixed = ("商家编码,数量,新编码\nCUP-A,8,\nLID,1000,\nSPOON,10,是\n").encode()
    moved = import_stock_file(fahuo.uow, "盘点.csv", fixed, "count", actor="t")
    assert [lv["sku_code"] for lv in moved.levels] == ["CUP-A", "LID", "SPOON"]
    assert _levels(fahuo) == {"CUP-A": (8, 0), "LID": (1000, 0), "SPOON": (10, 0), HOT: (2, 2)}


@pytest.mark.parametrize("typed, why", [
    ("1e3", "数量“1e3”是科学计数法（Excel 常把数字显示成这样）：请写成整数，如 1000"),
    ("１０", "数量“１０”含全角字符：请用半角数字，写成 10"),
    ("1,000", "数量“1,000”含千位分隔符：请去掉逗号，写成 1000"),
    ("1.5", "数量“1.5”有小数：库存按件计，只能是整数"),
    ("12345678901234567890", "数量“12345678901234567890”超出范围：一行最多 ±10000000 件"),
    ("inf", "数量“inf”不是整数"),
])
def test_numbers_are_never_converted_behind_the_merchants_back(fahuo, typed, why):
    from fahuo.bootstrap import import_stock_file
    data = f"商家编码,数量,新编码\nCUP-A,5,是\nCUP-B,\"{typed}\",是\n".encode()
    with pytest.raises(StockInputError) as ei:
        import_stock_file(fahuo.uow, "入库.csv", data, "receive", actor="t")
    assert ei.value.problems == [f"第3行 CUP-B：{why}"]
    assert _levels(fahuo) == {}


def test_a_typo_code_is_refused_with_the_closest_code_and_a_new_one_must_be_marked(fahuo):
    move_stock(fahuo.uow, "receive", [StockLine("CUP-A", 5, new=True)], actor="t")
    with pytest.raises(StockInputError) as ei:
        move_stock(fahuo.uow, "receive", [StockLine("CUP-AA", 5)], actor="t")
    assert ei.value.problems == [
        "未知编码 CUP-AA，是不是 CUP-A？若是新商品，请标明新编码（控制台勾选“新编码”，"
        "命令行加 --new-code，接口在该行写 \"new\": true）"]
    with pytest.raises(StockInputError, match="未知编码 ZZ-9（库存、组套和订单里都没有）"):
        move_stock(fahuo.uow, "count", [StockLine("ZZ-9", 5)], actor="t")
    with pytest.raises(StockInputError, match=r"未知编码 CUP-AA（还没有库存记录：先入库或盘点），"
                                              "是不是 CUP-A？"):
        move_stock(fahuo.uow, "adjust", [StockLine("CUP-AA", -1, new=True)], actor="t")
    assert _levels(fahuo) == {"CUP-A": (5, 0)}  # nothing created by the refusals
    move_stock(fahuo.uow, "receive", [StockLine("CUP-AA", 5, new=True)], actor="t")
    _orders(fahuo, 1)  # the shop sells TEE-RED-0: its first receipt needs no mark
    move_stock(fahuo.uow, "receive", [StockLine(HOT, 4)], actor="t")
    assert _levels(fahuo) == {"CUP-A": (5, 0), "CUP-AA": (5, 0), HOT: (4, 0)}


def test_levels_after_a_receipt_are_after_held_orders_took_their_units(fahuo):
    from fahuo.services.stock.orders import retry_short
    ids = _orders(fahuo, 3)  # 2 × TEE-RED-0 each
    move_stock(fahuo.uow, "receive", [StockLine(HOT, 1)], actor="t")
    with fahuo.uow() as u:
        short = reserve_in(u, ids).short
        assert sorted(short) == ids
        u.pipeline.set_states({o: OrderState.HELD.value for o in ids})
        u.pipeline.add_holds([{"order_id": o, "reason": "stock_short", "detail": short[o],
                               "source": "stock"} for o in ids])
    assert retry_short(fahuo.uow).reserved == []
    moved = move_stock(fahuo.uow, "receive", [StockLine(HOT, 4)], actor="t")  # 5: two orders
    assert moved.released == ids[:2]
    (lv,) = moved.levels
    assert (lv["on_hand"], lv["reserved"], lv["available"]) == (5, 4, 1)


def test_set_item_changes_only_what_it_names_clears_a_maximum_and_oversells(fahuo):
    from fahuo.services.stock.bundles import set_bundle
    from fahuo.services.stock.rules import set_item
    move_stock(fahuo.uow, "receive", [StockLine("CUP-A", 5, new=True)], actor="t")
    row = set_item(fahuo.uow, "CUP-A", sync_rule={"percent": 50, "maximum": 30}, actor="t")
    assert row["sync_rule"] == {"percent": 50, "add": 0, "minimum": 0, "maximum": 30}
    row = set_item(fahuo.uow, "CUP-A", sync_rule={"add": 2}, safety=1, actor="t")
    assert row["sync_rule"] == {"percent": 50, "add": 2, "minimum": 0, "maximum": 30}
    row = set_item(fahuo.uow, "CUP-A", sync_rule={"maximum": None}, actor="t")
    assert row["sync_rule"]["maximum"] is None and row["sync_rule"]["percent"] == 50
    assert row["safety"] == 1 and row["oversell"] is False
    assert set_item(fahuo.uow, "CUP-A", oversell=True, actor="t")["oversell"] is True
    with pytest.raises(StockInputError, match="最高（maximum）1 不能低于最低（minimum）2"):
        set_item(fahuo.uow, "CUP-A", sync_rule={"minimum": 2, "maximum": 1}, actor="t")
    with pytest.raises(StockInputError, match="未知编码 CUP-B，是不是 CUP-A？"):
        set_item(fahuo.uow, "CUP-B", safety=1, actor="t")
    set_bundle(fahuo.uow, "GIFT-SET", {"CUP-A": 2}, actor="t")
    b = set_item(fahuo.uow, "GIFT-SET", sync_rule={"maximum": 3}, oversell=True, actor="t")
    assert b["bundle"] and b["sync_rule"]["maximum"] == 3 and b["oversell"] is True
    with pytest.raises(StockInputError, match="GIFT-SET 是组套（2×CUP-A）：库存和安全库存都记在部件上"):
        set_item(fahuo.uow, "GIFT-SET", safety=2, actor="t")
    with pytest.raises(StockInputError, match="CUP-A 已有库存（main 仓实物 5，占用 0）"):
        set_bundle(fahuo.uow, "CUP-A", {"LID": 1}, actor="t")


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
    from fahuo.services.stock.bundles import set_bundle
    ids = _orders(fahuo, 3)  # each: 2 × TEE-RED-0
    set_bundle(fahuo.uow, HOT, {"CUP": 2, "LID": 1}, actor="t")
    move_stock(fahuo.uow, "receive", [StockLine("CUP", 9, new=True),
                                      StockLine("LID", 10, new=True)], actor="t")
    with fahuo.uow() as u:
        got = reserve_in(u, ids)
        levels = {r["sku_code"]: (r["on_hand"], r["reserved"]) for r in u.stock.levels()[1]}
    assert len(got.reserved) == 2 and "CUP 需要4件，可用1件" in got.short[ids[2]]
    assert levels == {"CUP": (9, 8), "LID": (10, 4)}
    with pytest.raises(StockInputError, match=f"部件 {HOT} 本身是组套"):
        set_bundle(fahuo.uow, "BIG", {HOT: 1}, actor="t")


def test_a_line_refunded_after_reservation_goes_back_on_the_shelf_when_the_rest_ships(fahuo):
    ids = _orders(fahuo, 1)  # 2 × TEE-RED-0
    move_stock(fahuo.uow, "receive", [StockLine(HOT, 10)], actor="t")
    with fahuo.uow() as u:
        assert reserve_in(u, ids).reserved == ids
        # the buyer's refund of that line completes before the parcel leaves
        u.conn.exec_driver_sql("update sub_orders set after_sale_status=12, refund_status=3 "
                               "where order_id=?", (ids[0],))
    from fahuo.services.stock.orders import ship_in
    with fahuo.uow() as u:
        ship_in(u, ids)
    row = _check_ledger(fahuo)
    assert (row["on_hand"], row["reserved"]) == (10, 0)  # nothing of it left the shelf
