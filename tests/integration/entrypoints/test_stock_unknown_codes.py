"""An unknown merchant code is refused with the closest known codes and their product names,
never silently created (issue 14); a code the shops sell starts with the title they sell it
under. Service, API and CLI say the same."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from fahuo.entrypoints.web.app import create_app
from fahuo.services.orders import store_platform_orders
from fahuo.services.shops import NewShop, add_shop
from fahuo.services.stock.lines import StockInputError, StockLine
from fahuo.services.stock.moves import move_stock
from support import flat, order_payload

SOLD = "TEE-RED-0"  # order_payload's line: 纯棉T恤


def _cups(app) -> None:
    move_stock(app.uow, "receive", [StockLine("CUP-A1", 5, new=True, name="白瓷杯"),
                                    StockLine("CUP-A2", 5, new=True, name="黑瓷杯"),
                                    StockLine("LID-9", 5, new=True)], actor="t")


def _codes(app) -> dict[str, str]:
    with app.uow() as u:
        return {code: row["name"] for (code, _), row in u.stock.items().items()}


def test_a_typo_is_refused_with_the_closest_codes_and_their_names(fahuo):
    _cups(fahuo)
    with pytest.raises(StockInputError) as ei:
        move_stock(fahuo.uow, "receive", [StockLine("CUP-A1X", 3)], actor="t")
    (why,) = ei.value.problems
    # both cups are close to the typo, the white one closest; the lid is not offered
    assert why.startswith("未知编码 CUP-A1X，是不是 CUP-A1（白瓷杯）、CUP-A2（黑瓷杯）？")
    assert "LID-9" not in why
    with pytest.raises(StockInputError, match=r"是不是 LID-9？"):  # no name: the code alone
        move_stock(fahuo.uow, "count", [StockLine("LID-99", 3)], actor="t")
    assert set(_codes(fahuo)) == {"CUP-A1", "CUP-A2", "LID-9"}  # nothing created


def test_a_code_the_shops_sell_is_created_with_its_product_title(fahuo):
    with fahuo.uow() as u:
        ref = add_shop(u, NewShop(shop_id="1001", app_key="3409409348479354011",
                                  app_secret="s", gateway_url="http://127.0.0.1:1"))
        store_platform_orders(u, ref, [order_payload("6900000000000300001", 1_700_000_000)])
    move_stock(fahuo.uow, "receive", [StockLine(SOLD, 4)], actor="t")
    assert _codes(fahuo) == {SOLD: "纯棉T恤"}
    with pytest.raises(StockInputError, match=r"是不是 TEE-RED-0（纯棉T恤）？"):
        move_stock(fahuo.uow, "receive", [StockLine("TEE-RED-O", 1)], actor="t")


def test_api_and_cli_refuse_with_the_same_suggestion(fahuo, run):
    _cups(fahuo)
    with TestClient(create_app(fahuo, embedded_worker=False)) as c:
        r = c.post("/api/stock/moves", json={"move": "receive",
                                             "lines": [{"sku_code": "CUP-A2X", "quantity": 2}]})
    assert r.status_code == 422 and "是不是 CUP-A2（黑瓷杯）" in r.text
    got = run("stock", "adjust", "CUP-A2X", "2", "--move", "receive")
    assert got.exit_code == 2 and "是不是 CUP-A2（黑瓷杯）" in flat(got)
    made = run("stock", "adjust", "SPOON-1", "2", "--move", "receive", "--new-code",
               "--name", "长柄勺")
    assert made.exit_code == 0, made.output
    assert _codes(fahuo)["SPOON-1"] == "长柄勺"


def test_suggestions_and_titles_on_both_databases(fahuo_any_db):
    app = fahuo_any_db
    with app.uow() as u:
        ref = add_shop(u, NewShop(shop_id="1001", app_key="3409409348479354011",
                                  app_secret="s", gateway_url="http://127.0.0.1:1"))
        store_platform_orders(u, ref, [order_payload("6900000000000300002", 1_700_000_000)])
    _cups(app)
    move_stock(app.uow, "receive", [StockLine(SOLD, 1)], actor="t")
    with pytest.raises(StockInputError, match=r"是不是 CUP-A1（白瓷杯）、CUP-A2（黑瓷杯）？"):
        move_stock(app.uow, "receive", [StockLine("CUP-A1X", 3)], actor="t")
    assert _codes(app)[SOLD] == "纯棉T恤"
    # the sample-order explanation reads the order the way the pipeline does, on either store
    from fahuo.services.courier_explain import explain_courier
    from fahuo.services.settings import update_settings
    with app.uow() as u:
        u.settings.replace_netsites(ref, [{
            "courier_code": "yuantong", "netsite_code": "y1", "netsite_name": "", "balance": 5,
            "company_type": 1, "sender_address": []}])
    update_settings(app.uow, ref, {"courier_rules": [
        {"name": "浙江圆通", "courier_code": "yuantong", "provinces": ["浙江"]}]}, actor="t")
    p = explain_courier(app.uow, app.platform_for, ref).parcels[0]
    assert (p.decision.courier_code, p.lines) == ("yuantong", "纯棉T恤（颜色:红） ×2")
