"""The print page in a real browser: 打印全部待打印 splits by itself — platform e-waybills to
the print component (a stand-in on this computer answers), the rest as fahuo's PDF — and
the component page shows each task's outcome. Screenshots are kept in the data folder."""

import time

from support import make_fahuo, orders_in_fahuo

import pytest

from e2e.test_console_browser import FakePrintComponent, browser  # noqa: F401 - a fixture

from fahuo.adapters.store import models as m
from fahuo.entrypoints.web.app import create_app
from fahuo.services.shipping import Pipeline
from support import serve_in_thread


@pytest.fixture
def fahuo(tmp_path):
    app = make_fahuo(tmp_path, sync_lag_s=1)
    yield app
    app.close()


def test_print_all_waiting_in_the_browser(fahuo, sandbox, browser):  # noqa: F811
    ref, creds = orders_in_fahuo(fahuo, sandbox, 8, seed=95, confirm_mode=None)
    with fahuo.uow() as u:
        packs = u.pipeline.packs_in_state(["waybill_taken"], limit=100)
        # one number imported from the merchant's own courier account: fahuo draws it
        own = packs[0]
        u.conn.execute(m.waybills.update().where(m.waybills.c.pack_id == own["id"]).values(
            source="manual"))
    shots = fahuo.settings.data_dir
    component = FakePrintComponent()
    try:
        with serve_in_thread(create_app(fahuo, embedded_worker=False)) as url:
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            ws = f"ws://127.0.0.1:{component.port}"
            page.goto(f"{url}/print?ws={ws}")
            assert page.locator("#waiting-platform").inner_text() == str(len(packs) - 1)
            assert page.locator("#waiting-self").inner_text() == "1"
            page.screenshot(path=str(shots / "print.png"), full_page=True)
            with page.expect_download() as dl:
                page.click("#print-form button[type=submit]")
                page.wait_for_selector("#plan-message")
                assert page.locator("#plan-message").inner_text() == (
                    f"{len(packs) - 1} 个平台电子面单已交给打印组件，1 个自绘面单已生成 PDF")
                page.wait_for_selector("#log[data-state=done]", timeout=20000)
                page.click("#labels-file")
            label = dl.value.path().read_bytes()
            assert label[:4] == b"%PDF"
            import pymupdf  # the self-drawn label as the packer sees it, kept beside the pages
            pymupdf.open(stream=label).load_page(0).get_pixmap(dpi=150).save(
                str(shots / "label.png"))
            assert page.locator("#tasks tr[data-ok=yes]").count() >= 1
            assert page.locator("#tasks tr[data-ok=no]").count() == 0
            assert f"已打印 {len(packs) - 1} 张" in page.locator("#log").inner_text()
            page.screenshot(path=str(shots / "print-result.png"), full_page=True)
            page.goto(f"{url}/print/component")
            assert page.locator("#task-history tr[data-ok=yes]").count() >= 1
            page.screenshot(path=str(shots / "print-component.png"), full_page=True)
            page.goto(f"{url}/shops/{ref}")
            page.select_option("select[name=confirm_mode]", "on_waybill")
            page.click("#basic-form button[type=submit]")
            # refused beside the field until the risk is acknowledged; the choice is kept
            assert "需要勾选“我了解虚假发货风险”" in page.locator("#basic-form").inner_text()
            with fahuo.uow(readonly=True) as u:
                assert u.settings.get(ref)["confirm_mode"] == "on_print"
            assert page.locator("select[name=confirm_mode]").input_value() == "on_waybill"
            page.screenshot(path=str(shots / "shop.png"), full_page=True)
    finally:
        component.close()
    assert sum(len(t["task"]["documents"]) for t in component.tasks) == len(packs) - 1
    time.sleep(0.1)
    Pipeline(fahuo.uow, fahuo.platform_for).run()  # on_print (the default): all printed ship
    shipped = {o for s in sandbox.http.get("/sandbox/shipments", params={
        "shop_id": creds["shop_id"]}).json() for o in s["order_ids"]}
    assert {p["main_order_id"] for p in packs} <= shipped
    print("screenshots:", shots)
