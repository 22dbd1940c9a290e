"""Stock from the command line, the API and the console: the same services, the same rules
(oversell chosen per SKU with a warning, a maximum that can be cleared, bundles with their own
rule, typo codes and odd numbers refused, levels shown after held orders took their units)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from fahuo.domain.orders import OrderState
from fahuo.entrypoints.web.app import create_app
from fahuo.services.orders import store_platform_orders
from fahuo.services.shops import NewShop, add_shop
from fahuo.services.stock.lines import StockLine
from fahuo.services.stock.moves import move_stock
from fahuo.services.stock.orders import reserve_in
from support import flat, order_payload

HOT = "TEE-RED-0"  # order_payload's first line: 2 units each


def _held_for_stock(app, n: int) -> list[str]:
    """n orders of 2 × HOT, held for stock with 1 unit on the shelf."""
    with app.uow() as uow:
        ref = add_shop(uow, NewShop(shop_id="1001", app_key="3409409348479354011",
                                    app_secret="s", gateway_url="http://127.0.0.1:1"))
        ids = [str(6900000000000200000 + i) for i in range(n)]
        store_platform_orders(uow, ref, [order_payload(oid, 1_700_000_000 + i)
                                         for i, oid in enumerate(ids)])
    move_stock(app.uow, "receive", [StockLine(HOT, 1)], actor="t")
    with app.uow() as u:
        short = reserve_in(u, ids).short
        u.pipeline.set_states({o: OrderState.HELD.value for o in ids})
        u.pipeline.add_holds([{"order_id": o, "reason": "stock_short", "detail": short[o],
                               "source": "stock"} for o in ids])
    return ids


@pytest.fixture
def client(fahuo):
    with TestClient(create_app(fahuo, embedded_worker=False)) as c:
        yield c


def test_the_cli_echo_shows_levels_after_held_orders_took_their_units(fahuo, run):
    ids = _held_for_stock(fahuo, 3)
    got = run("stock", "adjust", HOT, "4", "--move", "receive")
    assert got.exit_code == 0, got.output
    # 5 on hand; two orders took 2 each at once: 4 reserved, 1 available (not "available 5")
    assert f"{HOT}：实物 5，占用 4，可用 1" in flat(got)
    assert "2 个缺货挂起的订单占到了库存" in flat(got) and ids[0] in got.output


def test_the_cli_refuses_odd_numbers_and_typo_codes_and_marks_new_ones(fahuo, run):
    assert run("stock", "adjust", "CUP-A", "5", "--move", "receive",
               "--new-code").exit_code == 0
    wide = run("stock", "adjust", "CUP-A", "１０", "--move", "receive")
    assert wide.exit_code == 2 and "数量“１０”含全角字符：请用半角数字，写成 10" in flat(wide)
    typo = run("stock", "adjust", "CUP-AA", "5", "--move", "receive")
    assert typo.exit_code == 2 and "未知编码 CUP-AA，是不是 CUP-A？" in flat(typo)
    assert "--new-code" in flat(typo)
    with fahuo.uow() as u:
        assert {r["sku_code"]: r["on_hand"] for r in u.stock.levels()[1]} == {"CUP-A": 5}


def test_the_cli_file_import_lists_every_problem_by_row(fahuo, run, tmp_path):
    (tmp_path / "入库.csv").write_text("商家编码,数量\nCUP-A,1,000\nCUP-B,1.5\nCUP-C,3\n",
                                      encoding="utf-8")
    got = run("stock", "import", str(tmp_path / "入库.csv"), "--move", "receive")
    assert got.exit_code == 2
    text = flat(got)
    assert "第3行 CUP-B：数量“1.5”有小数" in text and "第4行 CUP-C：未知编码 CUP-C" in text
    # an unquoted 1,000 is two CSV cells: never read as 1
    assert "第2行 CUP-A：比表头多出 1 格（“000”）：数字里的逗号会把一格拆成两格" in text
    assert "3 个问题，什么都没有改动" in text


def test_stock_set_oversells_with_a_warning_and_clears_a_maximum(fahuo, run):
    move_stock(fahuo.uow, "receive", [StockLine("CUP-A", 5, new=True)], actor="t")
    assert "最高7" in flat(run("stock", "set", "CUP-A", "--maximum", "7", "--minimum", "2"))
    on = run("stock", "set", "CUP-A", "--oversell")
    assert on.exit_code == 0 and "注意：已允许超卖" in flat(on) and "允许超卖" in flat(
        run("stock", "show"))
    cleared = run("stock", "set", "CUP-A", "--no-maximum", "--no-oversell")
    assert cleared.exit_code == 0 and "最高" not in flat(cleared) and "最低2" in flat(cleared)
    with fahuo.uow() as u:
        (row,) = u.stock.levels()[1]
    assert row["sync_rule"] == {"percent": 100, "add": 0, "minimum": 2, "maximum": None}
    assert row["oversell"] is False
    both = run("stock", "set", "CUP-A", "--maximum", "3", "--no-maximum")
    assert both.exit_code == 2 and "只能选一个" in flat(both)


def test_bundles_from_the_cli(fahuo, run):
    move_stock(fahuo.uow, "receive", [StockLine("CUP-A", 7, new=True),
                                      StockLine("LID", 10, new=True)], actor="t")
    made = run("stock", "bundle", "GIFT-SET", "--part", "CUP-A=2", "--part", "LID=1")
    assert made.exit_code == 0 and "GIFT-SET = 2×CUP-A + 1×LID" in flat(made)
    bad = run("stock", "bundle", "BOX", "--part", "CUP-A=１")
    assert bad.exit_code == 2 and "部件 CUP-A：数量“１”含全角字符" in flat(bad)
    assert run("stock", "set", "GIFT-SET", "--maximum", "2").exit_code == 0
    listed = run("stock", "bundles")
    row = next(ln for ln in listed.output.splitlines() if "GIFT-SET" in ln)
    cells = [c.strip() for c in row.split("│")]
    # 7 cups make 3, 10 lids make 10: 3 bundles, and the bundle's maximum tells the shop 2
    assert cells[3:6] == ["3", "2", "最高2"]
    safety = run("stock", "set", "GIFT-SET", "--safety", "1")
    assert safety.exit_code == 2 and "库存和安全库存都记在部件上" in flat(safety)
    into = run("stock", "adjust", "GIFT-SET", "3", "--move", "receive", "--new-code")
    assert into.exit_code == 2 and "这是组套，库存记在部件上" in flat(into)


def test_the_api_sets_oversell_clears_a_maximum_and_lists_bundles(fahuo, client):
    r = client.post("/api/stock/moves", json={"move": "receive", "lines": [
        {"sku_code": "CUP-A", "quantity": 7, "new": True}, {"sku_code": "CUP-AA", "quantity": 1}]})
    assert r.status_code == 422
    assert r.json()["problems"] == [
        "第2行 CUP-AA：未知编码 CUP-AA，是不是 CUP-A？若是新商品，请标明新编码（控制台勾选“新编码”，"
        "命令行加 --new-code，接口在该行写 \"new\": true）"]
    assert client.get("/api/stock").json()["total"] == 0  # the good line was not applied
    assert client.post("/api/stock/moves", json={"move": "receive", "lines": [
        {"sku_code": "CUP-A", "quantity": 7, "new": True}]}).status_code == 200
    r = client.post("/api/stock/items/CUP-A", json={"sync_rule": {"maximum": 5, "add": 2},
                                                    "oversell": True})
    assert r.status_code == 200 and r.json()["oversell"] is True
    assert r.json()["sync_rule"] == {"percent": 100, "add": 2, "minimum": 0, "maximum": 5}
    r = client.post("/api/stock/items/CUP-A", json={"sync_rule": {"maximum": None}})
    assert r.json()["sync_rule"] == {"percent": 100, "add": 2, "minimum": 0, "maximum": None}
    assert r.json()["oversell"] is True  # not named: unchanged
    r = client.post("/api/stock/items/CUP-A", json={"sync_rule": {"percent": 150}})
    assert r.status_code == 422 and "同步比例（percent）必须在 0 到 100 之间" in r.json()["message"]
    assert client.post("/api/stock/bundles/GIFT-SET", json={"CUP-A": 2}).status_code == 200
    (b,) = client.get("/api/stock/bundles").json()
    assert (b["bundle_code"], b["parts"], b["sellable"], b["dirty"]) == (
        "GIFT-SET", {"CUP-A": 2}, 3, True)
    assert b["pushed"] == 3 and b["oversell"] is False  # CUP-A's own oversell is not its


def test_the_console_sets_rules_with_an_oversell_warning_and_badge(fahuo, client):
    move_stock(fahuo.uow, "receive", [StockLine("CUP-A", 7, new=True)], actor="t")
    page = client.get("/stock/items/CUP-A").text
    assert "允许超卖" in page and "留空 = 不设上限" in page and 'name="oversell"' in page
    r = client.post("/stock/items/CUP-A", data={"safety": "1", "percent": "100", "add": "3",
                                                "minimum": "0", "maximum": "6",
                                                "oversell": "1"}, follow_redirects=True)
    assert "已保存" in r.text and "已允许超卖：" in r.text  # the warning on screen
    listing = client.get("/stock").text
    assert 'class="badge badge-risk"' in listing and "最高6" in listing
    move_stock(fahuo.uow, "receive", [StockLine("LID", 1, new=True)], actor="t")
    plain = client.get("/stock", params={"code": "LID"}).text  # the default rule says nothing
    assert "比例" not in plain.split("<h2>")[0] and "最高" not in plain.split("<h2>")[0]
    # the maximum left empty is cleared; the checkbox left out turns oversell off
    r = client.post("/stock/items/CUP-A", data={"safety": "1", "percent": "100", "add": "3",
                                                "minimum": "0", "maximum": ""},
                    follow_redirects=True)
    assert "已保存" in r.text and "已允许超卖：" not in r.text
    with fahuo.uow() as u:
        row = u.stock.levels(code_like="CUP-A")[1][0]
    assert row["sync_rule"]["maximum"] is None and row["oversell"] is False
    assert row["sku_code"] == "CUP-A" and row["safety"] == 1 and row["sync_rule"]["add"] == 3
    bad = client.post("/stock/items/CUP-A", data={"safety": "1.5", "maximum": "1e3"},
                      follow_redirects=True).text
    assert "未保存" in bad and "安全库存：数量“1.5”有小数" in bad and "最高：数量“1e3”是科学计数法" in bad


def test_the_console_defines_bundles_and_refuses_odd_numbers(fahuo, client):
    move_stock(fahuo.uow, "receive", [StockLine("CUP-A", 7, new=True),
                                      StockLine("LID", 10, new=True)], actor="t")
    r = client.post("/stock/bundles", data={"bundle_code": "GIFT-SET",
                                            "parts": "CUP-A=2，LID=1"}, follow_redirects=True)
    assert "组套 GIFT-SET = 2×CUP-A + 1×LID" in r.text
    assert "<td><b>3</b></td>" in r.text  # what the shop will be told
    r = client.post("/stock", data={"move": "receive", "sku_code": "LID", "quantity": "１０"},
                    follow_redirects=True)
    assert "未处理（全部未改动）：\n数量“１０”含全角字符" in r.text
    r = client.post("/stock", data={"move": "receive", "sku_code": "SPOON", "quantity": "4"},
                    follow_redirects=True)
    assert "未知编码 SPOON" in r.text
    r = client.post("/stock", data={"move": "receive", "sku_code": "SPOON", "quantity": "4",
                                    "new": "1"}, follow_redirects=True)
    assert "已处理 1 行：SPOON 实物 4，占用 0，可用 4" in r.text
