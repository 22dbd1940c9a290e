"""The 今天 board (issue 14): what needs a person now, counted from the store, each count a
link to its list; the same board in the console (refreshing itself), the API and the CLI."""
from __future__ import annotations

import re
import time

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fahuo.bootstrap import set_app
from fahuo.entrypoints.cli import cli
from fahuo.entrypoints.web.app import create_app
from fahuo.services.holds import hold_orders
from fahuo.services.orders import store_platform_orders
from fahuo.services.shops import NewShop, add_shop
from fahuo.services.today import today

H = 3600


def _world(app, make_order) -> int:
    """Five paid orders: two waiting for review far from their deadline, one held by hand,
    one approved and due in 2 hours, one waiting for review and 1 hour late."""
    now = int(time.time())
    far = now + 3 * 86400 - 86400  # make_order's deadline is update_time + 1 day
    with app.uow() as u:
        ref = add_shop(u, NewShop(shop_id="1001", app_key="3409409348479354011",
                                  app_secret="s", gateway_url="http://127.0.0.1:1"))
        store_platform_orders(u, ref, [
            make_order("6900000000000000001", far), make_order("6900000000000000002", far),
            make_order("6900000000000000003", far),
            make_order("6900000000000000004", now + 2 * H - 86400),
            make_order("6900000000000000005", now - H - 86400)])
        u.pipeline.move_orders({"6900000000000000004": ("synced", "approved")})
    hold_orders(app.uow, ["6900000000000000003"], note="买家要改地址", actor="li")
    return ref


def test_the_board_counts_what_needs_a_person_and_links_each_list(fahuo, make_order):
    _world(fahuo, make_order)
    board = today(fahuo.uow)
    cards = {c.key: c for _, cs in board.groups for c in cs}
    assert (cards["review"].count, cards["review"].href) == (3, "/orders?state=synced")
    assert (cards["hold:manual"].count, cards["hold:manual"].href) == (1, "/holds?reason=manual")
    assert cards["hold:manual"].label == "挂起·人工挂起"
    assert (cards["soon"].count, cards["soon"].tone) == (1, "warn")  # due in 2 h
    assert (cards["late"].count, cards["late"].tone) == (1, "alert")  # 1 h late
    assert cards["to_print"].count == 0 and cards["pickup"].count == 0
    assert cards["aftersales"].count == 0 and cards["aftersales"].tone == ""


def test_console_api_and_cli_show_the_same_board(fahuo, make_order):
    _world(fahuo, make_order)
    with TestClient(create_app(fahuo, embedded_worker=False)) as c:
        page = c.get("/").text
        assert 'hx-get="/board"' in page and "every 30s" in page  # refreshes by itself
        part = c.get("/board").text
        assert "<html" not in part  # the board alone, swapped in place
        review = re.search(r'data-key="review"><div class="num">(\d+)</div><div>待审核', part)
        assert review and review[1] == "3"
        assert 'href="/holds?reason=manual"' in part
        held = c.get("/holds?reason=manual").text
        assert "6900000000000000003" in held and "6900000000000000001" not in held
        assert c.get("/holds?reason=nonsense").status_code == 400
        # every card's link opens its list; the late one lists the late order only
        hrefs = set(re.findall(r'<a class="card[^"]*" href="([^"]+)"', part))
        assert len(hrefs) >= 9, hrefs
        for href in hrefs:
            assert c.get(href.replace("&amp;", "&")).status_code == 200, href
        late = c.get("/deadlines?window=overdue").text
        assert "6900000000000000005" in late and "6900000000000000004" not in late
        api = c.get("/api/today").json()
    got = {card["key"]: card["count"] for g in api["groups"] for card in g["cards"]}
    assert got["review"] == 3 and got["late"] == 1 and got["soon"] == 1
    set_app(fahuo)
    try:
        res = CliRunner().invoke(cli, ["today"])
    finally:
        set_app(None)
    assert res.exit_code == 0, res.output
    assert "待审核" in res.output and "/orders?state=synced" in res.output
    assert "已超时" in res.output
