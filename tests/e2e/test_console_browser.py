"""The console in a real browser (Debian's chromium): what a merchant and a packer click."""

import os
import shutil
import time

import pytest

from support import make_fahuo, need_service, ready_to_ship, serve_in_thread

from fahuo.entrypoints.web.app import create_app
from fahuo.services.shipping import Pipeline
from fahuo.services.settings import update_settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def browser():
    if not os.path.exists(CHROMIUM):
        need_service("chromium", "Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture
def fahuo(tmp_path):
    app = make_fahuo(tmp_path, sync_lag_s=1)
    yield app
    app.close()


def _sync(app, ref):
    time.sleep(1.05)
    with app.uow() as uow:
        shop = uow.shops.get(ref)
    app.order_sync.run(ref, app.platform_for(shop))


def test_merchant_filters_orders_and_releases_a_held_one(fahuo, sandbox, browser):
    ref, creds = ready_to_ship(fahuo, sandbox, qps=1000)
    update_settings(fahuo.uow, ref, {"confirm_mode": "on_scan"}, actor="test")
    sandbox.generate(creds["shop_id"], 80, seed=51, spread_seconds=3600)
    _sync(fahuo, ref)
    Pipeline(fahuo.uow, fahuo.platform_for).run()
    # Which orders the random shop's buyers remark on varies; hold one by hand for sure.
    from fahuo.services.holds import hold_orders
    with fahuo.uow() as uow:
        taken = uow.pipeline.packs_in_state(["waybill_taken"], limit=80)[0]["main_order_id"]
    hold_orders(fahuo.uow, [taken], "买家来电要改地址", actor="test")
    held = {"order_id": taken}
    with serve_in_thread(create_app(fahuo, embedded_worker=False)) as url:
        page = browser.new_page()
        blocked = []  # the console's CSP allows only its own files: nothing may be refused
        page.on("console", lambda m: "Content Security Policy" in m.text and blocked.append(
            m.text))
        page.goto(f"{url}/")
        assert page.locator("#total-orders").inner_text() == "80"
        assert page.locator("#state-chart canvas").count() == 1  # ECharts drew the chart
        page.goto(f"{url}/orders")
        page.select_option("select[name=state]", "held")  # htmx swaps the table in place
        page.wait_for_function("document.querySelector('#orders-table').innerText"
                               ".includes('已挂起')")
        assert "state=held" in page.url
        assert held["order_id"] in page.locator("#orders-table").inner_text()
        page.goto(f"{url}/holds")
        page.check(f"input[name=order_id][value='{held['order_id']}']")
        page.click("button[value=release]")
        assert "已放行 1 单" in page.locator("[role=status]").inner_text()
        assert blocked == []
    with fahuo.uow() as uow:
        assert uow.orders.get(held["order_id"])["state"] == "approved"


def test_packer_scans_and_a_refunded_parcel_turns_the_screen_red(fahuo, sandbox, browser):
    ref, creds = ready_to_ship(fahuo, sandbox, qps=1000)
    update_settings(fahuo.uow, ref, {"confirm_mode": "on_scan", "audit_rules": {
        "hold_on_buyer_remark": False, "hold_on_seller_remark": False, "hold_presale": False}},
        actor="test")
    sandbox.generate(creds["shop_id"], 12, seed=52, spread_seconds=600)
    _sync(fahuo, ref)
    Pipeline(fahuo.uow, fahuo.platform_for).run()
    with fahuo.uow() as uow:
        good, bad = uow.pipeline.packs_in_state(["waybill_taken"], limit=10)[:2]
    sandbox.http.post("/sandbox/orders/refund", json={"order_id": bad["main_order_id"]})
    _sync(fahuo, ref)
    with serve_in_thread(create_app(fahuo, embedded_worker=False)) as url:
        page = browser.new_page()
        page.goto(f"{url}/scan")
        page.fill("input[name=code]", good["track_no"])
        page.press("input[name=code]", "Enter")
        page.wait_for_selector("[data-verdict=shipped]")
        assert page.locator(".scan-ok").count() == 1
        page.fill("input[name=code]", bad["track_no"])  # the box is ready for the next scan
        page.press("input[name=code]", "Enter")
        page.wait_for_selector("[data-verdict=intercepted]")
        assert "不要发货" in page.locator(".scan-stop").inner_text()
        page.screenshot(path=str(fahuo.settings.data_dir / "scan.png"))
    shipped = [o for s in sandbox.http.get("/sandbox/shipments", params={
        "shop_id": creds["shop_id"]}).json() for o in s["order_ids"]]
    assert shipped == [good["main_order_id"]]


class FakePrintComponent:
    """The Douyin print component as the packer's computer runs it: checks each task, acks,
    then reports every document printed."""

    def __init__(self) -> None:
        import threading

        from websockets.sync.server import serve
        self.tasks: list[dict] = []
        self.server = serve(self._handle, "127.0.0.1", 0)
        self.port = self.server.socket.getsockname()[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _handle(self, ws) -> None:
        import json
        for raw in ws:
            msg = json.loads(raw)
            if msg.get("cmd") != "print":
                continue
            task = msg["task"]
            docs = task["documents"]
            ok = all(d["contents"][0].get(k) for d in docs
                     for k in ("params", "encryptedData", "signature", "templateURL"))
            ok = ok and all("method=logistics.getShopKey" in d["contents"][0]["params"]
                            for d in docs)
            self.tasks.append(msg)
            ws.send(json.dumps({"cmd": "print", "requestID": msg["requestID"],
                                "taskID": task["taskID"],
                                "status": "success" if ok else "failed", "msg": ""}))
            if ok:
                ws.send(json.dumps({"cmd": "notifyPrintResult", "printer": "ZTO-76",
                                    "taskID": task["taskID"], "taskStatus": "printed",
                                    "printStatus": [{"documentID": d["documentID"],
                                                     "status": "success", "msg": "",
                                                     "trackNo": d.get("docNo", "")}
                                                    for d in docs]}))

    def close(self) -> None:
        self.server.shutdown()


def test_platform_waybills_print_through_the_print_component(fahuo, sandbox, browser):
    ref, creds = ready_to_ship(fahuo, sandbox, qps=1000)
    update_settings(fahuo.uow, ref, {"confirm_mode": "on_print", "audit_rules": {
        "hold_on_buyer_remark": False, "hold_on_seller_remark": False, "hold_presale": False}},
        actor="test")
    sandbox.generate(creds["shop_id"], 25, seed=53, spread_seconds=600)
    _sync(fahuo, ref)
    Pipeline(fahuo.uow, fahuo.platform_for).run()
    with fahuo.uow() as uow:
        packs = uow.pipeline.packs_in_state(["waybill_taken"], limit=100)
    component = FakePrintComponent()
    try:
        with serve_in_thread(create_app(fahuo, embedded_worker=False)) as url:
            page = browser.new_page()
            page.goto(f"{url}/print/component?ws=ws://127.0.0.1:{component.port}")
            page.click("#go")
            page.wait_for_selector("#log[data-state=done]", timeout=20000)
            assert f"已打印 {len(packs)} 张" in page.locator("#log").inner_text()
    finally:
        component.close()
    assert sum(len(t["task"]["documents"]) for t in component.tasks) == len(packs)
    with fahuo.uow() as uow:
        assert not uow.pipeline.packs_in_state(["waybill_taken"], limit=100)
        assert len(uow.pipeline.packs_in_state(["printed"], limit=100)) == len(packs)
    Pipeline(fahuo.uow, fahuo.platform_for).run()  # on_print: printed parcels ship
    shipped = {o for s in sandbox.http.get("/sandbox/shipments", params={
        "shop_id": creds["shop_id"]}).json() for o in s["order_ids"]}
    assert {p["main_order_id"] for p in packs} <= shipped


def test_a_merchant_signs_in_and_handles_a_logistics_exception(fahuo, sandbox, browser):
    from fahuo.adapters.carriers.registry import CarrierRegistry
    from fahuo.services.tracking import Tracking
    from fahuo.services.users import add_user
    from fahuo.services.watch import Watch
    ref, creds = ready_to_ship(fahuo, sandbox, qps=1000)
    update_settings(fahuo.uow, ref, {"audit_rules": {
        "hold_on_buyer_remark": False, "hold_on_seller_remark": False, "hold_presale": False}},
        actor="test")
    sandbox.generate(creds["shop_id"], 12, seed=52, spread_seconds=600)
    _sync(fahuo, ref)
    Pipeline(fahuo.uow, fahuo.platform_for).run()
    later = int(time.time()) + 30 * 3600  # a day and more: nobody collected the parcels
    Tracking(fahuo.uow, fahuo.platform_for, carriers=CarrierRegistry()).start()
    Watch(fahuo.uow, notify=fahuo.notify, clock=lambda: later).detect()
    add_user(fahuo.uow, "boss", "correct horse", actor="test")
    with serve_in_thread(create_app(fahuo, embedded_worker=False)) as url:
        page = browser.new_page()
        page.goto(f"{url}/exceptions")
        assert "/login" in page.url  # strangers sign in first
        page.fill("input[name=username]", "boss")
        page.fill("input[name=password]", "correct horse")
        page.click("button:has-text('登录')")
        page.wait_for_url(f"{url}/exceptions*")
        assert page.locator("table tbody tr").count() >= 5
        assert "揽收超时" in page.content()
        first = page.locator("input[name=finding_id]").first
        fid = first.get_attribute("value")
        first.check()
        page.fill("input[name=text]", "小王")
        page.click("button[value=assign]")
        page.wait_for_url("**msg=*")
        assert "已处理 1 条" in page.content()
        page.locator(f"input[name=finding_id][value='{fid}']").check()
        page.fill("input[name=text]", "已联系快递，明早揽收")
        page.click("button[value=close]")
        page.wait_for_url("**msg=*")
        page.goto(f"{url}/exceptions?status=closed")
        assert "已联系快递，明早揽收" in page.content() and "小王" in page.content()
