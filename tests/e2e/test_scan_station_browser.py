"""The scan station in Debian's chromium as a packer with a keyboard-wedge scanner uses it: keys
only, never a mouse for scanning. The box has focus, each scan's answer, the day's figures and
the list change without a reload, the box is ready again, and a tone sounds: one high beep for
a parcel that may go, a low double buzz for one that must not."""

from __future__ import annotations

import os
import shutil
import time

import pytest
from e2e.test_console_browser import browser  # noqa: F401 - a fixture
from scan_world import parcels_at_the_desk
from support import make_fahuo, serve_in_thread

from playwright.sync_api import expect

from fahuo.entrypoints.web.app import create_app
from fahuo.services.holds import hold_orders


# Records every tone the page starts: the oscillator's type and frequency at start().
RECORD_TONES = """
window.__tones = [];
(function () {
  var Real = window.AudioContext;
  window.AudioContext = function () {
    var ac = new Real();
    var make = ac.createOscillator.bind(ac);
    ac.createOscillator = function () {
      var osc = make(), freq = null, set = osc.frequency.setValueAtTime.bind(osc.frequency);
      osc.frequency.setValueAtTime = function (v, t) { freq = v; return set(v, t); };
      var start = osc.start.bind(osc);
      osc.start = function (when) {
        window.__tones.push({type: osc.type, freq: freq === null ? osc.frequency.value : freq});
        return start(when);
      };
      return osc;
    };
    return ac;
  };
}());
"""



class Slow:
    """The shop's platform answering each call after a while, as over a real network: scans
    typed meanwhile wait their turn."""

    def __init__(self, shop) -> None:
        self.shop = shop

    def __getattr__(self, name: str):
        got = getattr(self.shop, name)
        if not callable(got):
            return got

        def slowly(*args, **kwargs):
            time.sleep(0.4)
            return got(*args, **kwargs)
        return slowly


@pytest.fixture
def desk(tmp_path):
    app = make_fahuo(tmp_path)
    platform_for, packs = parcels_at_the_desk(app)
    app.platform_for = lambda shop: Slow(platform_for(shop))
    hold_orders(app.uow, [packs[3]["main_order_id"]], "买家要改地址", actor="t")
    yield app, packs
    app.close()


def _focused(page) -> bool:
    return page.evaluate("document.activeElement && document.activeElement.id") == "scan-code"


def _tones(page) -> list[tuple[str, float]]:
    return [(t["type"], t["freq"]) for t in page.evaluate("window.__tones")]


def _scan(page, code: str) -> None:
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def test_a_packer_scans_with_the_keyboard_only(desk, browser, tmp_path):  # noqa: F811
    app, packs = desk
    with serve_in_thread(create_app(app, embedded_worker=False)) as url:
        page = browser.new_page()
        blocked: list[str] = []  # the page's own script under the console's CSP: none refused
        page.on("console", lambda m: "Content Security Policy" in m.text and blocked.append(
            m.text))
        page.add_init_script(RECORD_TONES)
        page.goto(f"{url}/scan")
        page.evaluate("window.__sameLoad = true")  # gone if the page ever reloads
        assert _focused(page)
        assert page.locator("#scan-sound").inner_text() == "声音：开"

        _scan(page, packs[0]["track_no"])
        page.wait_for_selector("#scan-result [data-verdict=shipped]")
        expect(page.locator("#scan-mine")).to_have_text("1")
        assert page.locator("#scan-total").inner_text() == "1"
        assert page.locator("#scan-recent tbody tr").count() == 1
        assert page.input_value("#scan-code") == "" and _focused(page)
        assert _tones(page) == [("sine", 1760)]  # one short high beep

        _scan(page, packs[3]["track_no"])  # held: must not leave
        page.wait_for_selector("#scan-result [data-verdict=held]")
        expect(page.locator("#scan-refused")).to_have_text("1")
        first = page.locator("#scan-recent tbody tr").first
        assert packs[3]["track_no"] in first.inner_text() and "挂起中" in first.inner_text()
        assert first.get_attribute("data-ok") == "no"
        assert _focused(page)
        assert _tones(page)[1:] == [("square", 196), ("square", 196)]  # the low double buzz

        # three scans back to back, before the first answer is in: none is lost
        _scan(page, packs[1]["track_no"])
        _scan(page, packs[2]["track_no"])
        _scan(page, "YT0000000000001")
        expect(page.locator("#scan-refused")).to_have_text("2")
        expect(page.locator("#scan-pending")).to_have_text("")
        assert page.locator("#scan-mine").inner_text() == "3"
        codes = page.locator("#scan-recent tbody tr td:nth-child(2)").all_inner_texts()
        assert codes == ["YT0000000000001", packs[2]["track_no"], packs[1]["track_no"],
                         packs[3]["track_no"], packs[0]["track_no"]]
        assert "YT0000000000001" in page.locator("#scan-result").inner_text()  # the last one

        # a click somewhere on the page, or focus lost: the next scan still lands in the box
        page.click("h1")
        assert _focused(page)
        page.evaluate("document.activeElement.blur()")
        assert not _focused(page)
        _scan(page, packs[4]["track_no"])
        page.wait_for_selector("#scan-result [data-verdict=shipped]")
        assert packs[4]["track_no"] in page.locator("#scan-result").inner_text()
        expect(page.locator("#scan-mine")).to_have_text("4")
        assert _focused(page)

        # muted: no tone, the box keeps focus, and the choice outlives a reload
        page.click("#scan-sound")
        assert page.locator("#scan-sound").inner_text() == "声音：关（已静音）"
        assert _focused(page)
        heard = len(_tones(page))
        _scan(page, "YT0000000000002")
        expect(page.locator("#scan-refused")).to_have_text("3")
        assert len(_tones(page)) == heard
        assert page.evaluate("window.__sameLoad") is True  # all of it without a reload
        page.screenshot(path=str(tmp_path / "scan.png"), full_page=True)
        if os.environ.get("FAHUO_SCAN_SCREENSHOT"):
            shutil.copy(tmp_path / "scan.png", os.environ["FAHUO_SCAN_SCREENSHOT"])

        page.reload()
        assert page.locator("#scan-sound").inner_text() == "声音：关（已静音）"
        assert page.get_attribute("#scan-sound", "aria-pressed") == "true"
        # the figures and the list come from the store: the same after the reload
        assert (page.locator("#scan-mine").inner_text(),
                page.locator("#scan-total").inner_text(),
                page.locator("#scan-refused").inner_text()) == ("4", "4", "3")
        assert page.locator("#scan-recent tbody tr").count() == 7
        assert _focused(page)
        assert blocked == []
