"""The console's lists in a real browser (Debian's chromium): a merchant walks to page 2 of the
stock list, and closes every stalled parcel's exception at once with "选择全部 N 条" although
only 50 are on the page (issue 14)."""

from __future__ import annotations

import shutil
import time

from support import serve_in_thread

from e2e.test_console_browser import browser  # noqa: F401 - a fixture

from fahuo.entrypoints.web.app import create_app
from fahuo.services.shops import NewShop, add_shop
from fahuo.services.stock.lines import StockLine
from fahuo.services.stock.moves import move_stock


def _world(app) -> None:
    """60 stock codes; 64 stalled parcels and 6 lost ones, each an open exception."""
    now = int(time.time())
    move_stock(app.uow, "receive", [StockLine(f"CUP-{i:03d}", 10 + i, new=True, name="马克杯")
                                    for i in range(60)], actor="t", reason="到货",
               ref_type="adjust", ref_id="")
    with app.uow() as u:
        ref = add_shop(u, NewShop(shop_id="1001", app_key="3409409348479354011",
                                  app_secret="s", gateway_url="http://127.0.0.1:1"))
        u.tracking.open_new([{
            "key": f"{kind}:{i}", "kind": kind, "shop_ref": ref,
            "order_id": f"{69 if kind == 'stalled' else 68}{i:017d}",
            "track_no": f"YT{i:010d}", "courier_code": "yuantong", "since": now - 9000 + i,
            "detail": "3 天没有新轨迹", "last_event": None}
            for kind, n in (("stalled", 64), ("lost", 6)) for i in range(n)], now)


def test_page_two_of_stock_and_close_all_matching_exceptions(fahuo, browser):  # noqa: F811
    _world(fahuo)
    with serve_in_thread(create_app(fahuo, embedded_worker=False)) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        blocked: list[str] = []  # lists.js comes from the site: the CSP refuses nothing
        page.on("console", lambda m: "Content Security Policy" in m.text and blocked.append(
            m.text))
        page.goto(f"{url}/stock?q=cup")
        assert page.locator(".pager [data-total]").first.inner_text() == "60"
        page.locator("a[rel=next]").first.click()
        page.wait_for_url("**page=2*")
        assert "q=cup" in page.url  # the search stays on page 2
        codes = page.locator("tbody tr td:first-child a").all_inner_texts()
        assert codes[:10] == [f"CUP-{i:03d}" for i in range(50, 60)]
        assert "· 第 51–60 个编码（第 2/2 页）" in page.locator(".pager").first.inner_text()
        shot = fahuo.settings.data_dir / "stock-page-2.png"
        page.screenshot(path=str(shot), full_page=False)
        shutil.copy(shot, "/tmp/fahuo-lists-stock.png")

        page.goto(f"{url}/exceptions?kind=stalled")
        assert page.locator("input[name=finding_id]").count() == 50  # one page of 64
        page.check("input[data-select-matching]")
        # the page's rows are ticked too, to show what "all" starts with
        assert page.locator("input[name=finding_id]:checked").count() == 50
        page.fill("input[name=text]", "已联系快递，重新派送")
        page.evaluate("window.scrollTo(0, 0)")
        shot = fahuo.settings.data_dir / "exceptions-select-all.png"
        page.screenshot(path=str(shot), full_page=False)
        shutil.copy(shot, "/tmp/fahuo-lists-exceptions.png")
        page.click("button[value=close]")
        page.wait_for_url("**msg=*")
        assert "已处理 64 条（筛选出的全部 64 条未处理异常）" in page.content()
        assert "kind=stalled" in page.url
        assert page.locator(".pager [data-total]").first.inner_text() == "0"
        page.goto(f"{url}/exceptions?kind=stalled&status=closed")
        assert page.locator(".pager [data-total]").first.inner_text() == "64"
        page.goto(f"{url}/exceptions")
        assert page.locator(".pager [data-total]").first.inner_text() == "6"  # lost: untouched
        assert blocked == []
