"""The scan station in the console (plain form post and htmx), the API and the CLI: each shows
today's count and the recent scans from the store, in Chinese."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from scan_world import parcels_at_the_desk
from support import flat

from fahuo.entrypoints.web.app import create_app
from fahuo.services.holds import hold_orders
from fahuo.services.scan import scan


@pytest.fixture
def desk(fahuo):
    platform_for, packs = parcels_at_the_desk(fahuo)
    fahuo.platform_for = platform_for  # the console, API and CLI ship through the fake shop
    return packs


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m
    return m[1]


def _num(html: str, el_id: str) -> int:
    m = re.search(rf'id="{el_id}">(\d+)<', html)
    assert m, el_id
    return int(m[1])


def test_console_form_post_without_javascript_and_with_htmx(fahuo, desk):
    with TestClient(create_app(fahuo, embedded_worker=False)) as c:
        page = c.get("/scan").text
        assert (_num(page, "scan-mine"), _num(page, "scan-total")) == (0, 0)
        assert "还没有扫描记录" in page and 'src="/static/scan.js"' in page
        # no JavaScript: the whole page comes back with the answer, the figures and the list
        r = c.post("/scan", data={"csrf_token": _csrf(page), "code": desk[0]["track_no"]})
        assert r.status_code == 200 and 'data-verdict="shipped"' in r.text
        assert (_num(r.text, "scan-mine"), _num(r.text, "scan-total")) == (1, 1)
        assert "<h1>扫描发货</h1>" in r.text and "hx-swap-oob" not in r.text
        assert "中通快递 (zhongtong)" in r.text and "放行（已发货）" in r.text
        # htmx: the answer alone, with the board swapped in beside it out of band
        hold_orders(fahuo.uow, [desk[1]["main_order_id"]], "买家要改地址", actor="t")
        r = c.post("/scan", data={"code": desk[1]["track_no"]},
                   headers={"HX-Request": "true", "X-CSRF-Token": _csrf(page)})
        assert r.status_code == 200 and "<h1>" not in r.text
        assert 'data-verdict="held"' in r.text and 'id="scan-board"' in r.text
        assert 'hx-swap-oob="true"' in r.text
        assert (_num(r.text, "scan-mine"), _num(r.text, "scan-refused")) == (1, 1)
        rows = re.findall(r'<tr class="scan-row-(ok|stop)"', r.text)
        assert rows == ["stop", "ok"]  # newest first
        assert "挂起中：挂起中，不要发货" in re.sub(r"<[^>]+>", "", r.text)  # with the reason
        board = c.get("/scan/board").text  # what the page polls: the same, from the store
        assert board.count('<tr class="scan-row-') == 2 and _num(board, "scan-total") == 1


def test_api_lists_today_and_recent_scans_and_documents_it(fahuo, desk):
    scan(fahuo.uow, fahuo.platform_for, desk[0]["track_no"], actor="api")
    scan(fahuo.uow, fahuo.platform_for, "YT0000000000001", actor="小李")
    with TestClient(create_app(fahuo, embedded_worker=False)) as c:
        got = c.get("/api/scans").json()
        assert got["today"]["actor"] == "api"  # an install without users: the way in
        assert (got["today"]["mine"], got["today"]["total"], got["today"]["refused"]) == (
            1, 1, 1)
        first, second = got["recent"]
        assert (first["code"], first["ok"], first["verdict"], first["verdict_name"],
                first["actor"], first["pack_id"]) == ("YT0000000000001", False, "unknown",
                                                      "未知单号", "小李", None)
        assert first["message"].startswith("未知运单号")
        assert (second["ok"], second["courier"], second["order_ids"]) == (
            True, "中通快递 (zhongtong)", [desk[0]["main_order_id"]])
        assert len(c.get("/api/scans", params={"limit": 1}).json()["recent"]) == 1
        bad = c.get("/api/scans", params={"limit": 0})
        assert bad.status_code == 422
        doc = c.get("/openapi.json").json()
        op = doc["paths"]["/api/scans"]["get"]
        assert "today" in op["description"] or "today" in op.get("summary", "")
        schema = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert schema.endswith("/ScanStationOut")


def test_cli_scan_then_scan_recent(fahuo, desk, run):
    ok = run("--as", "王仓管", "scan", desk[0]["track_no"])
    assert ok.exit_code == 0 and "发货成功" in ok.output
    stop = run("--as", "王仓管", "scan", "YT0000000000002")
    assert stop.exit_code == 1
    shown = run("--as", "王仓管", "scan", "recent")
    assert shown.exit_code == 0, shown.output
    text = flat(shown)
    assert "今天放行：王仓管 1 件，全部 1 件；未放行 1 次" in text
    assert "最近 2 次扫描" in text and "中通快递 (zhongtong)" in text
    assert text.index("YT0000000000002") < text.index(desk[0]["track_no"])  # newest first
    assert "未知单号：未知运单号" in text
    other = flat(run("--as", "小李", "scan", "recent"))
    assert "今天放行：小李 0 件，全部 1 件" in other
