"""A merchant's morning on the defaults, in a real browser (issue 13, must show).

Overnight orders came in; the shop is as a new shop is (打印后发货, the default audit rules).
The merchant reviews the holds and releases them, prints everything waiting (platform
e-waybills through the Douyin print component — a stand-in on this computer answers as the
real one does — and the one label fahuo draws itself as a PDF whose barcode is the stored
number), scans each parcel at the desk, sees shipment confirmed only after print, prints the
courier's 交接单 and marks it handed over; tracking starts. Screenshots are kept in
``$FAHUO_TEST_ARTIFACTS/morning`` (default: the test's data folder)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from support import connect_sandbox_shop, make_fahuo, serve_in_thread, sync_now

from e2e.test_console_browser import FakePrintComponent, browser  # noqa: F401 - a fixture

from fahuo.adapters.store import models as m
from fahuo.entrypoints.web.app import create_app
from fahuo.services.settings import refresh_from_platform, update_settings
from fahuo.services.shipping import Pipeline


@pytest.fixture
def fahuo(tmp_path):
    app = make_fahuo(tmp_path, sync_lag_s=1)
    yield app
    app.close()


def _shipped(sandbox, shop_id) -> set[str]:
    return {o for s in sandbox.http.get("/sandbox/shipments", params={"shop_id": shop_id}
                                        ).json() for o in s["order_ids"]}


def _barcodes(pdf: bytes) -> list[str]:
    import pymupdf
    import zxingcpp
    from PIL import Image
    found = []
    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        for page in doc:
            png = page.get_pixmap(dpi=300).tobytes("png")
            found += [b.text for b in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]
    return found


def test_a_morning_on_the_defaults(fahuo, sandbox, browser, tmp_path):  # noqa: F811
    shots = Path(os.environ.get("FAHUO_TEST_ARTIFACTS") or fahuo.settings.data_dir) / "morning"
    shots.mkdir(parents=True, exist_ok=True)
    # A shop added as a merchant adds one: only the sender, the default courier and a rule
    # for the one region zhongtong does not reach are set; confirm point and audit rules are
    # the defaults.
    ref, creds = connect_sandbox_shop(fahuo, sandbox, qps=1000)
    refresh_from_platform(fahuo.uow, fahuo.platform_for, ref)
    update_settings(fahuo.uow, ref, {"sender_name": "王仓管", "sender_phone": "13800000000",
                                     "default_courier": "zhongtong", "courier_rules": [
                                         {"name": "西藏走顺丰", "courier_code": "shunfeng",
                                          "provinces": ["西藏自治区"]}]}, actor="test")
    with fahuo.uow(readonly=True) as u:
        assert u.settings.get(ref)["confirm_mode"] == "on_print"
    shop = creds["shop_id"]
    sandbox.generate(shop, 16, seed=113, spread_seconds=8 * 3600)  # the night's orders
    sync_now(fahuo, ref)
    # The generator's remarks depend on the shop id the sandbox hands out, so one order the
    # merchant flagged last night makes sure the morning has something to review.
    with fahuo.uow(readonly=True) as u:
        flagged = next(o["order_id"] for o in u.orders.search(shop_ref=ref, limit=100)[1]
                       if o["order_status"] == 2)
    r = sandbox.http.post("/sandbox/orders/change", json={"order_id": flagged, "kind": "remark"})
    assert r.status_code == 200, r.text
    sync_now(fahuo, ref)
    Pipeline(fahuo.uow, fahuo.platform_for).run()
    with fahuo.uow(readonly=True) as u:
        held = [o["order_id"] for o in u.orders.search(shop_ref=ref, state="held",
                                                        limit=100)[1]]
    assert held, "the night brought no order for review"
    assert _shipped(sandbox, shop) == set()  # numbers taken, nothing printed: nothing shipped

    component = FakePrintComponent()
    try:
        with serve_in_thread(create_app(fahuo, embedded_worker=False)) as url:
            page = browser.new_page(viewport={"width": 1280, "height": 1200})
            # 0. the 今天 board says what waits, each count a link to its list
            page.goto(url)
            hold_cards = page.locator("#today a.card[data-key^='hold:']")
            assert sum(int(hold_cards.nth(i).locator(".num").inner_text())
                       for i in range(hold_cards.count())) >= len(held)
            page.screenshot(path=str(shots / "0-today.png"), full_page=True)
            # 1. holds reviewed and released
            page.goto(f"{url}/holds")
            page.screenshot(path=str(shots / "1-holds.png"), full_page=True)
            for oid in held:
                page.check(f"input[name=order_id][value='{oid}']")
            page.click("button[name=action][value=release]")
            page.wait_for_selector("p.pill")
            # what a person may release is released; the platform's own risk review stays
            # until the platform clears it, and the page says why
            left = {r.inner_text().split("\t")[1].strip(): r.inner_text()
                    for r in page.locator("table tbody tr").all()
                    if "没有挂起的订单" not in r.inner_text()}
            assert all("风控审核中" in text for text in left.values()), left
            held = [o for o in held if o not in left]
            assert held, "nothing a person could release"
            Pipeline(fahuo.uow, fahuo.platform_for).run()  # the released get their numbers
            with fahuo.uow() as u:
                packs = u.pipeline.packs_in_state(["waybill_taken"], limit=100)
                # one parcel goes with the merchant's own courier account: fahuo draws it
                own = packs[0]
                u.conn.execute(m.waybills.update().where(
                    m.waybills.c.pack_id == own["id"]).values(source="manual"))
            assert {p["main_order_id"] for p in packs} >= set(held)
            assert _shipped(sandbox, shop) == set()
            # 2. print all waiting: platform waybills to the component, the rest as a PDF
            page.goto(f"{url}/print?ws=ws://127.0.0.1:{component.port}")
            assert page.locator("#waiting-platform").inner_text() == str(len(packs) - 1)
            assert page.locator("#waiting-self").inner_text() == "1"
            with page.expect_download() as dl:
                page.click("#print-form button[type=submit]")
                page.wait_for_selector("#log[data-state=done]", timeout=30000)
                page.click("#labels-file")
            page.screenshot(path=str(shots / "2-printed.png"), full_page=True)
            pdf = dl.value.path().read_bytes()
            assert own["track_no"] in _barcodes(pdf)
            assert f"已打印 {len(packs) - 1} 张" in page.locator("#log").inner_text()
            # 3. each parcel scanned at the desk, keyboard only (a wedge scanner types + Enter)
            page.goto(f"{url}/scan")
            for p in packs:
                # the field has the focus by itself, and empty, before each parcel
                page.wait_for_function("document.activeElement?.name === 'code'"
                                       " && document.activeElement.value === ''")
                page.keyboard.type(p["track_no"])
                page.keyboard.press("Enter")
                page.wait_for_selector(f"#scan-result:has-text('{p['track_no']}')")
            page.screenshot(path=str(shots / "3-scanned.png"), full_page=True)
            # 4. shipment confirmed at the safe point: the next pass, after print and scan
            Pipeline(fahuo.uow, fahuo.platform_for).run()
            assert _shipped(sandbox, shop) >= {p["main_order_id"] for p in packs
                                               if p["id"] != own["id"]}
            # 5. the 交接单 for zhongtong, printed and marked handed over
            page.goto(f"{url}/handover")
            page.click("#handover-waiting button")
            page.wait_for_selector("#handover-lists")
            page.screenshot(path=str(shots / "5-handover.png"), full_page=True)
            with page.expect_download() as dl:
                page.click("#handover-lists a:has-text('PDF')")
            assert dl.value.path().read_bytes()[:4] == b"%PDF"
            page.click("#handover-lists button:has-text('标记已交接')")
            page.wait_for_selector("#handover-lists:has-text('已交接')")
            page.screenshot(path=str(shots / "5-handed-over.png"), full_page=True)
            # 6. tracking started for every parcel that left
            fahuo.tracking.start()
            page.goto(f"{url}/tracking")
            page.screenshot(path=str(shots / "6-tracking.png"), full_page=True)
    finally:
        component.close()
    with fahuo.uow(readonly=True) as u:
        tracked = {r.track_no for r in u.conn.execute(m.trackers.select())}
    assert {p["track_no"] for p in packs if p["id"] != own["id"]} <= tracked
    print("screenshots:", shots)
