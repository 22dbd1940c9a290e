"""交接单 end to end on the sandbox shop: parcels scanned at the packing station wait for
their courier; the console makes the list, hands out its PDF and Excel with exactly those
numbers, and marks it handed over (who, when); the API and the CLI say the same; a real
browser shows the page."""

from __future__ import annotations

import io
import re
import time

import fitz
import pytest
from e2e.test_console_browser import browser  # noqa: F401 - a fixture
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from support import make_fahuo, ready_to_ship, serve_in_thread

from fahuo.bootstrap import set_app
from fahuo.entrypoints.web.app import create_app
from fahuo.services.scan import scan
from fahuo.services.settings import update_settings
from fahuo.services.shipping import Pipeline



@pytest.fixture
def fahuo(tmp_path):
    app = make_fahuo(tmp_path, sync_lag_s=1)
    yield app
    app.close()


def _scanned(app, sandbox, n: int, scan_n: int, seed: int) -> tuple[int, list[dict]]:
    """A sandbox shop shipping on scan, ``n`` orders with numbers, ``scan_n`` of them
    scanned (so shipped); the scanned packs."""
    ref, creds = ready_to_ship(app, sandbox, qps=1000)
    update_settings(app.uow, ref, {"confirm_mode": "on_scan", "audit_rules": {
        "hold_on_buyer_remark": False, "hold_on_seller_remark": False, "hold_presale": False}},
        actor="test")
    sandbox.generate(creds["shop_id"], n, seed=seed, spread_seconds=600)
    time.sleep(1.05)
    with app.uow() as uow:
        shop = uow.shops.get(ref)
    app.order_sync.run(ref, app.platform_for(shop))
    Pipeline(app.uow, app.platform_for).run()
    with app.uow() as uow:
        packs = uow.pipeline.packs_in_state(["waybill_taken"], limit=100)
    assert len(packs) >= scan_n
    done = []
    for p in packs[:scan_n]:
        assert scan(app.uow, app.platform_for, p["track_no"]).verdict == "shipped"
        done.append(p)
    return ref, done


def _csrf(client, path: str) -> str:
    m = re.search(r'name="csrf-token" content="([^"]*)"', client.get(path).text)
    assert m
    return m.group(1)


def test_console_makes_prints_and_hands_over_the_list(fahuo, sandbox, tmp_path):
    ref, scanned = _scanned(fahuo, sandbox, 8, 5, seed=71)
    numbers = {p["track_no"] for p in scanned}
    by_courier: dict[str, set[str]] = {}
    for p in scanned:
        by_courier.setdefault(p["courier_code"], set()).add(p["track_no"])
    courier, mine = max(by_courier.items(), key=lambda kv: len(kv[1]))
    with TestClient(create_app(fahuo, embedded_worker=False)) as c:
        page = c.get("/handover")
        assert page.status_code == 200 and "待交接" in page.text
        rows = re.findall(rf'<tr data-courier="{courier}">.*?<td class="count">(\d+)</td>'
                          r'.*?name="netsite" value="([^"]*)"', page.text, re.S)
        assert len(rows) == 1 and int(rows[0][0]) == len(mine)  # only the scanned ones wait
        token = _csrf(c, "/handover")
        r = c.post("/handover", data={"shop_ref": str(ref), "courier": courier,
                                      "netsite": rows[0][1], "csrf_token": token},
                   follow_redirects=True)
        assert r.status_code == 200 and "已生成 交接单 #" in r.text, re.findall(
            r'role="alert">(.*?)</p>', r.text)
        list_id = int(re.search(r"已生成 交接单 #(\d+)", r.text).group(1))
        # nothing of that courier waits any more
        assert f'<tr data-courier="{courier}">' not in c.get("/handover").text
        pdf = c.get(f"/handover/{list_id}/export", params={"format": "pdf"})
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        text = "".join(pg.get_text() for pg in fitz.open(stream=pdf.content, filetype="pdf"))
        assert {n for n in numbers if n in text} == mine  # its numbers, and only those
        assert f"交接单 #{list_id}" in text and f"{len(mine)} 件" in text
        xlsx = c.get(f"/handover/{list_id}/export", params={"format": "xlsx"})
        assert xlsx.status_code == 200
        ws = load_workbook(io.BytesIO(xlsx.content)).active
        rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
        head = rows.index(("序号", "运单号", "订单号"))
        lines = rows[head + 1:]
        assert len(lines) == len(mine) and {r[1] for r in lines} == mine
        assert [r[0] for r in lines] == list(range(1, len(mine) + 1))
        assert ("包裹数", f"{len(mine)} 件") in [r[:2] for r in rows]
        r = c.post(f"/handover/{list_id}/done", data={"csrf_token": token},
                   follow_redirects=True)
        assert f"交接单 #{list_id} 已标记交接" in r.text
        again = c.post(f"/handover/{list_id}/done", data={"csrf_token": token},
                       follow_redirects=True)
        assert "已于" in again.text and "标记交接" in again.text
        detail = c.get(f"/handover/{list_id}").text
        assert "已交接" in detail and all(n in detail for n in mine)
        # the API says the same, errors name the field
        api = c.get(f"/api/handover/{list_id}").json()
        assert api["state"] == "handed_over" and api["handed_over_by"] == "console"
        assert {it["track_no"] for it in api["items"]} == mine
        bad = c.post("/api/handover", json={"shop_ref": ref, "courier": "火星快递"})
        assert bad.status_code == 422 and bad.json()["fields"] == ["courier"]
        assert "不认识" in bad.json()["message"]
        assert c.get("/api/handover/99999").status_code == 404
        nope = c.get(f"/api/handover/{list_id}/export", params={"format": "docx"})
        assert nope.status_code == 422 and "format" in nope.json()["fields"]
        assert c.get("/handover/abc").status_code == 422  # the console's Chinese error page
        assert "应为整数" in c.get("/handover/abc").text


def test_api_and_cli_make_and_hand_over_a_list(fahuo, sandbox, tmp_path):
    from typer.testing import CliRunner

    from fahuo.entrypoints.cli import cli
    ref, scanned = _scanned(fahuo, sandbox, 6, 3, seed=72)
    courier = scanned[0]["courier_code"]
    mine = {p["track_no"] for p in scanned if p["courier_code"] == courier}
    with TestClient(create_app(fahuo, embedded_worker=False)) as c:
        waiting = c.get("/api/handover/waiting", params={"shop_ref": ref}).json()
        assert {n for g in waiting if g["courier_code"] == courier
                for n in g["track_nos"]} == mine
    set_app(fahuo)
    runner = CliRunner()
    try:
        run = lambda *a: runner.invoke(cli, ["--as", "王仓管", *a],  # noqa: E731
                                       env={"COLUMNS": "250"})
        r = run("handover", "create", "--shop", str(ref), "--courier", courier)
        assert r.exit_code == 0, r.output
        list_id = int(re.search(r"已生成交接单 #(\d+)", r.output).group(1))
        assert all(n in r.output for n in mine)
        out = tmp_path / "h.xlsx"
        r = run("handover", "print", str(list_id), "--format", "xlsx", "--out", str(out))
        assert r.exit_code == 0, r.output
        ws = load_workbook(out).active
        assert {row[1] for row in ws.iter_rows(values_only=True)} >= mine
        r = run("handover", "done", str(list_id))
        assert r.exit_code == 0 and "已标记交接" in r.output and "王仓管" in r.output
        r = run("handover", "done", str(list_id))
        assert r.exit_code == 2 and "已于" in r.output
        r = run("handover", "list", "--shop", str(ref))
        assert f"#{list_id}" in r.output and "已交接" in r.output
        r = run("handover", "create", "--shop", str(ref), "--courier", courier)
        assert r.exit_code == 2 and "没有待交接的包裹" in r.output
    finally:
        set_app(None)



def test_the_handover_page_in_a_browser(fahuo, sandbox, browser):  # noqa: F811
    ref, scanned = _scanned(fahuo, sandbox, 8, 6, seed=73)
    with serve_in_thread(create_app(fahuo, embedded_worker=False)) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        blocked = []
        page.on("console", lambda m: "Content Security Policy" in m.text and blocked.append(
            m.text))
        page.goto(f"{url}/")
        page.click("nav >> text=交接单")
        waiting = page.locator("#handover-waiting tbody tr[data-courier]")
        before = waiting.count()
        assert before >= 1
        counts = sum(int(t) for t in page.locator("#handover-waiting .count").all_inner_texts())
        assert counts == len(scanned)
        page.locator("#handover-waiting button").first.click()
        assert "已生成 交接单 #" in page.locator("[role=status]").inner_text()
        assert page.locator("#handover-waiting tbody tr[data-courier]").count() == before - 1
        with page.expect_download() as dl:
            page.locator("#handover-lists a", has_text="PDF").first.click()
        assert dl.value.suggested_filename.endswith(".pdf")
        page.screenshot(path=str(fahuo.settings.data_dir / "handover-open.png"), full_page=True)
        page.locator("#handover-lists button", has_text="标记已交接").first.click()
        assert "已标记交接" in page.locator("[role=status]").inner_text()
        assert "已交接" in page.locator("#handover-lists tbody tr").first.inner_text()
        page.screenshot(path=str(fahuo.settings.data_dir / "handover.png"), full_page=True)
        page.locator("#handover-lists tbody tr a").first.click()
        assert page.locator("#handover-items tbody tr").count() >= 1
        page.screenshot(path=str(fahuo.settings.data_dir / "handover-detail.png"),
                        full_page=True)
        assert blocked == []
