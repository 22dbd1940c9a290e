"""Every console page, with the demo's data, in Chinese: no state, kind or courier code alone.

The demo runs as a person starts it; the test follows every link of the nav, every list (each
state of the order list, each tab), and a detail page of each kind (an order in each state
found, the shop, a stock item, a shipping job), the pages a form answers with (a scan, an
import preview), and every GET route of the console. The raw codes come from the domain's own enums
and the stored code sets, not from the translation tables, so a code missing from the tables
is caught too. A code may stand beside its Chinese name in brackets (``中通快递 (zhongtong)``).
English sentences (three English words in a row, outside commands in ``<code>``) fail too.
"""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from types import ModuleType
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
from fahuo.domain.tracking import Incident, TrackingState
from fahuo.domain.watch import FindingKind
from fahuo.entrypoints.web import console

pytestmark = pytest.mark.slow

# the code sets the store keeps as plain strings (adapters/store/models.py)
STORED = {"whole", "merged", "split",                               # pack kinds
          "batch", "import", "preview", "running", "done",          # jobs
          "ready", "invalid", "already_shipped", "pending", "shipped", "skipped", "failed",
          "live", "used", "unused", "recycled",                     # waybill numbers
          "dingtalk", "feishu", "wecom", "webhook", "email",        # alert channels
          "admin", "operator"}                                      # user roles
RAW = ({s.value for e in (OrderState, PackState, TrackingState, FindingKind, HoldReason,
                          InterceptState, Move, Incident) for s in e} | {c.code for c in COURIERS} | STORED) - {""}
WORD = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(sorted(map(re.escape, RAW), key=len,
                                                           reverse=True)) + r")(?![A-Za-z0-9_])")
# a code in brackets right after Chinese text (or a name in capitals, EMS) is the code beside
# its name: allowed
BESIDE = re.compile(r"(?<=[\u4e00-\u9fff）)A-Z])\s*[(（][^()（）]{1,80}[)）]")
# an English sentence: three words of letters in a row ("no carrier scan 0 h after shipping")
SENTENCE = re.compile(r"(?<![\w/.@-])[A-Za-z]{2,}(?:[ ,;:'-]+[A-Za-z]{2,}){2,}(?![\w/.@-])")
# every page a person can open (the OAuth callback is the platform's redirect, not a page)
ROUTES = sorted(r.path for m in vars(console).values() if isinstance(m, ModuleType)
                and hasattr(m, "router") for r in m.router.routes
                if "GET" in getattr(r, "methods", ()) and not r.path.startswith("/oauth"))


class VisibleText(HTMLParser):
    """The text a person reads, and the page's links (form field values are not text)."""

    HIDDEN = {"script", "style", "textarea", "head", "code"}  # <code>: commands to type

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


def _visible(html: str) -> tuple[str, list[str]]:
    p = VisibleText()
    p.feed(html)
    return "\n".join(p.parts), p.links


def _read(client: httpx.Client, path: str, ok: tuple[int, ...] = (200,)) -> tuple[str, list[str]]:
    r = client.get(path)
    assert r.status_code in ok, (path, r.status_code, r.text[:500])
    return _visible(r.text)


def untranslated(text: str) -> list[str]:
    bare = BESIDE.sub("", text)
    return sorted({m[1] for m in WORD.finditer(bare)} | {m[0] for m in SENTENCE.finditer(bare)})


def _route_of(path: str) -> str | None:
    for r in ROUTES:
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", r), path):
            return r
    return None


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no form token on the page"
    return m[1]


def test_the_word_check_itself():
    assert untranslated("状态 waybill_taken") == ["waybill_taken"]
    assert untranslated("中通快递 (zhongtong) 7312") == []
    assert untranslated("zhongtong 7312") == ["zhongtong"]
    assert untranslated("已发货 · whole · ready/failed") == ["failed", "ready", "whole"]
    assert untranslated("shipped_at 已发货") == []  # only whole words
    assert untranslated("EMS (ems)") == [] and untranslated("ems (ems)") == ["ems"]
    assert untranslated("订单 1：no carrier scan 0 h after shipping") == ["no carrier scan"]
    assert untranslated("地址有误 (address_problem)") == [] and untranslated(
        "派送失败 address_problem") == ["address_problem"]
    assert untranslated("API 令牌 · App Key · 中通快递 (zhongtong)") == []
    assert _route_of("/orders/6900000000000000001") == "/orders/{order_id}"


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
        # a hand-over list (交接单), once parcels are printed and confirmed
        shop_ref = api.get("/api/shops").json()[0]["id"]
        waiting: list = []
        deadline = time.monotonic() + 120
        while not waiting and time.monotonic() < deadline:
            waiting = api.get("/api/handover/waiting", params={"shop_ref": shop_ref}).json()
            time.sleep(0 if waiting else 1)
        assert waiting, f"no parcel waits for hand-over: {demo.text()[-2000:]}"
        assert api.post("/api/handover", json={"shop_ref": shop_ref, "courier": waiting[0][
            "courier_code"]}).status_code == 201

        with httpx.Client(base_url=base, timeout=30) as client:
            pages: dict[str, str] = {}
            _, nav = _read(client, "/")
            todo = ["/", *nav, *(r for r in ROUTES if "{" not in r),
                    *(f"/orders?state={s}" for s in by_state),
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
                if u.path.endswith("/export"):  # a file, not a page: it is there
                    r = client.get(key)
                    assert r.status_code == 200 and "html" not in r.headers["content-type"], key
                    pages[key] = ""
                    continue
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
            # the pages a form answers with: a scan (a parcel with a number, a number nobody
            # has) and a tracking-number import preview (orders in several states)
            taken = api.get("/api/packs", params={"state": "waybill_taken"}).json()
            token = _csrf(client.get("/scan").text)
            for code in ([taken[0]["track_no"]] if taken else []) + ["YT9999999999999"]:
                r = client.post("/scan", data={"csrf_token": token, "code": code})
                assert r.status_code == 200, (code, r.status_code, r.text[:300])
                pages[f"POST /scan {code}"] = _visible(r.text)[0]
            rows = "".join(f"{o},中通快递,7312{n:010d}\n" for n, o in enumerate(by_state.values()))
            r = client.post("/ship/import", data={"csrf_token": _csrf(client.get("/ship").text)},
                            files={"file": ("单号.csv", ("订单号,快递公司,快递单号\n" + rows)
                                            .encode(), "text/csv")})
            assert r.status_code == 200, (r.status_code, r.text[:300])
            pages["POST /ship/import"] = _visible(r.text)[0]
            # a label file asked for once it is gone: sent back to 打印 with the reason
            r = client.get("/print/file/999999")
            assert r.status_code == 303, (r.status_code, r.text[:300])
            pages["/print/file/999999"] = _read(client, r.headers["location"])[0]
        missing = set(ROUTES) - {_route_of(urlparse(k).path) for k in pages
                                 if not k.startswith("POST")}
        assert not missing, f"console pages the walk never reached: {sorted(missing)}"
        details = {re.sub(r"/[^/]+$", "/*", p) for p in pages}
        assert {"/orders/*", "/shops/*", "/stock/items/*", "/ship/jobs/*"} <= details, details
        assert len(pages) >= 20, sorted(pages)
        leaks = {p: w for p, t in pages.items() if (w := untranslated(t))}
        assert leaks == {}, leaks
    finally:
        demo.stop()
