"""Every console page, with the demo's data, in Chinese: no state, kind or courier code alone.

The demo runs as a person starts it; the test follows every link of the nav, every list (each
state of the order list, each tab), and a detail page of each kind (an order in each state
found, the shop, a stock item, a shipping job). The raw codes come from the domain's own enums
and the stored code sets, not from the translation tables, so a code missing from the tables
is caught too. A code may stand beside its Chinese name in brackets (``中通快递 (zhongtong)``).
"""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from urllib.parse import urljoin, urlparse

import httpx
import pytest

from e2e.demo_process import Demo, _free_port

from fahuo.domain.aftersales import InterceptState
from fahuo.domain.couriers import COURIERS
from fahuo.domain.holds import HoldReason
from fahuo.domain.orders import OrderState
from fahuo.domain.packs import PackState
from fahuo.domain.stock import Move
from fahuo.domain.tracking import TrackingState
from fahuo.domain.watch import FindingKind

pytestmark = pytest.mark.slow

# the code sets the store keeps as plain strings (adapters/store/models.py)
STORED = {"whole", "merged", "split",                               # pack kinds
          "batch", "import", "preview", "running", "done",          # jobs
          "ready", "invalid", "already_shipped", "pending", "shipped", "skipped", "failed",
          "live", "used", "unused", "recycled",                     # waybill numbers
          "dingtalk", "feishu", "wecom", "webhook", "email"}        # alert channels
RAW = ({s.value for e in (OrderState, PackState, TrackingState, FindingKind, HoldReason,
                          InterceptState, Move) for s in e} | {c.code for c in COURIERS} | STORED) - {""}
WORD = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(sorted(map(re.escape, RAW), key=len,
                                                           reverse=True)) + r")(?![A-Za-z0-9_])")
# a code in brackets right after Chinese text (or a name in capitals, EMS) is the code beside
# its name: allowed
BESIDE = re.compile(r"(?<=[\u4e00-\u9fff）)A-Z])\s*[(（][^()（）]{1,80}[)）]")


class VisibleText(HTMLParser):
    """The text a person reads, and the page's links (form field values are not text)."""

    HIDDEN = {"script", "style", "textarea", "head"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self._hidden += 1
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def _read(client: httpx.Client, path: str, ok: tuple[int, ...] = (200,)) -> tuple[str, list[str]]:
    r = client.get(path)
    assert r.status_code in ok, (path, r.status_code, r.text[:500])
    p = VisibleText()
    p.feed(r.text)
    return "\n".join(p.parts), p.links


def untranslated(text: str) -> list[str]:
    return sorted({m[1] for m in WORD.finditer(BESIDE.sub("", text))})


def test_the_word_check_itself():
    assert untranslated("状态 waybill_taken") == ["waybill_taken"]
    assert untranslated("中通快递 (zhongtong) 7312") == []
    assert untranslated("zhongtong 7312") == ["zhongtong"]
    assert untranslated("已发货 · whole · ready/failed") == ["failed", "ready", "whole"]
    assert untranslated("shipped_at 已发货") == []  # only whole words
    assert untranslated("EMS (ems)") == [] and untranslated("ems (ems)") == ["ems"]


def _wait_for_data(base: str, demo: Demo) -> None:
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        assert demo.proc.poll() is None, demo.text()[-2000:]
        try:
            packs = [len(httpx.get(f"{base}/api/packs", params={"state": s}, timeout=5).json())
                     for s in ("waybill_taken", "printed", "confirmed")]
            orders = httpx.get(f"{base}/api/orders", params={"limit": 1}, timeout=5).json()
        except httpx.HTTPError:
            packs, orders = [0], {"total": 0}
        if sum(packs) >= 5 and orders["total"] >= 100:
            return
        time.sleep(1)
    raise AssertionError(f"the demo made no packs: {demo.text()[-2000:]}")


def test_every_console_page_of_the_demo_is_in_chinese(tmp_path):
    port = _free_port()
    demo = Demo(tmp_path, "--port", str(port), "--sandbox-port", str(_free_port()),
                "--orders", "150", "--rate", "4")
    base = f"http://127.0.0.1:{port}"
    try:
        demo.wait_url()
        _wait_for_data(base, demo)
        api = httpx.Client(base_url=base, timeout=30)
        # a shipping job with rows of several outcomes: one order per state the demo has
        by_state: dict[str, str] = {}
        for st in OrderState:
            got = api.get("/api/orders", params={"state": st.value, "limit": 1}).json()
            if got["items"]:
                by_state[st.value] = got["items"][0]["order_id"]
        assert len(by_state) >= 3, by_state
        assert api.post("/api/ship", json={"order_ids": list(by_state.values())}).status_code == 200
        assert api.post("/api/stock/moves", json={"move": "receive", "reason": "到货", "lines": [
            {"sku_code": "DEMO-1", "quantity": 5, "new": True, "name": "演示商品"}]}
        ).status_code == 200  # a stock item with a move in its history

        with httpx.Client(base_url=base, timeout=30) as client:
            pages: dict[str, str] = {}
            _, nav = _read(client, "/")
            todo = ["/", *nav, *(f"/orders?state={s}" for s in by_state),
                    *(f"/orders/{o}" for o in by_state.values()),
                    *(f"/aftersales?status={s}" for s in ("open", "intercept", "closed", "all")),
                    *(f"/exceptions?kind={k.value}" for k in FindingKind)]
            kinds_seen: set[str] = set()
            while todo:
                path = todo.pop(0)
                u = urlparse(urljoin(base + "/", path))
                if u.netloc != urlparse(base).netloc or u.path.startswith(
                        ("/api", "/static", "/docs", "/openapi", "/webhooks", "/metrics",
                         "/healthz", "/oauth", "/logout", "/print/labels")):
                    continue
                key = u.path + (f"?{u.query}" if u.query else "")
                kind = re.sub(r"/[^/]+$", "/*", u.path) if re.search(
                    r"^/(orders|shops|stock/items|ship/jobs)/", u.path) else key
                if key in pages or (kind != key and kind in kinds_seen and
                                    not u.path.startswith("/orders/")):
                    continue
                kinds_seen.add(kind)
                # the push inbox links orders it has not stored yet: their page says so
                text, links = _read(client, key, (200, 404) if key.startswith("/orders/")
                                    and key.split("/")[2] not in by_state.values() else (200,))
                pages[key] = text
                todo += [x for x in links if not x.startswith(("#", "http", "mailto"))]
        details = {re.sub(r"/[^/]+$", "/*", p) for p in pages}
        assert {"/orders/*", "/shops/*", "/stock/items/*", "/ship/jobs/*"} <= details, details
        assert len(pages) >= 20, sorted(pages)
        leaks = {p: w for p, t in pages.items() if (w := untranslated(t))}
        assert leaks == {}, leaks
    finally:
        demo.stop()
