"""Benchmark: the orders workbench, the 今天 board and /deadlines at a million orders (issue 14).

    .venv/bin/python bench/console.py                 # 1,000,000 orders, SQLite
    .venv/bin/python bench/console.py --quick         # 30,000 orders (< 30 s on SQLite)
    .venv/bin/python bench/console.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test

Load (not timed): N orders go straight into a fresh, migrated store, in bulk inserts of
orders, sub-orders, parcels, pack lines, waybills, label prints and holds, with realistic
spreads: 8 shops (one big, a long tail), every order state (most orders of the last 30 days
shipped or delivered; those still to ship paid within the last 2.5 days, so their deadlines
run from overdue to two days out), 5 couriers, 31 provinces by population, 2,000 products
picked by popularity (1–4 lines an order), remarks on some, 3 % presale, after-sales open
on some lines and closed on more, holds by reason, re-taken numbers (a recycled waybill on a
cancelled parcel). The search terms come from the app's own indexing code
(``search_index.reindex_orders`` and ``index_track_nos``), as the sync writes them.

Timed: the app runs in its own process under uvicorn (one worker, no embedded worker); a
signed-in admin's session cookie goes with every request. For each query below the first
page of ``/orders`` and the page after it (the ``下一页`` link of the first) are fetched
over HTTP, each ``--rounds`` times, the queries interleaved; p50 and p95 per page. Its
ceiling, in the same run on the same database: the same page's order ids alone from a bare
``SELECT`` with the same WHERE, ORDER BY and LIMIT (``WorkbenchQueries.bare_page``: no count,
no lines, parcels or holds, no HTML); the ids must be the ones the page shows, or the run
fails. ``ratio = bare p95 / page p95``. The 今天 board (``/board``) has the board's counts
run directly on a connection as its ceiling, ``/deadlines`` a bare SELECT of its first 50
order ids. PostgreSQL (``--pg URL``): everything in a schema of its own, dropped afterwards;
its tables are ANALYZEd after the load, as autovacuum would.
"""

from __future__ import annotations

import argparse
import base64
import html
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sync import free_port

GOALS = {"list_p95_ms": 150.0, "board_p95_ms": 300.0}
CHUNK = 10_000
HOUR, DAY = 3600, 86400

SERVER = textwrap.dedent("""
    import sys, uvicorn
    from fahuo.bootstrap import Fahuo, configure_logging
    from fahuo.config import Settings
    from fahuo.entrypoints.web.app import create_app
    configure_logging("WARNING")
    fh = Fahuo(Settings(data_dir=sys.argv[1], secret_key=sys.argv[2], log_level="WARNING",
                        database_url=sys.argv[4] or None))
    app = create_app(fh, embedded_worker=False)
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[3]), log_level="warning",
                access_log=False)
""")

# ---- what the orders look like ------------------------------------------------------------

SHOP_WEIGHTS = [40, 20, 12, 9, 7, 5, 4, 3]
STATES = [  # (state, weight, order_status)
    ("delivered", 46, 5), ("in_transit", 17, 3), ("shipped", 10, 3), ("partly_shipped", 0.5, 3),
    ("synced", 5, 2), ("approved", 3, 2), ("held", 2, 2), ("waybill_taken", 3, 2),
    ("printed", 3, 2), ("unpaid", 1, 1), ("cancelled", 4, 4), ("refunded", 4, 4),
    ("intercepted", 0.5, 3), ("returned", 1, 4)]
WAITING = {"synced", "approved", "held", "waybill_taken", "printed"}
SENT = {"delivered", "in_transit", "shipped", "partly_shipped", "intercepted", "returned"}
COURIERS = [("zhongtong", 30, "78", 12), ("yuantong", 25, "YT", 13), ("yunda", 18, "43", 11),
            ("shentong", 15, "77", 12), ("shunfeng", 12, "SF", 13)]
PROVINCES = [  # by population, roughly
    ("广东省", 12.6), ("山东省", 10.2), ("河南省", 9.9), ("江苏省", 8.5), ("四川省", 8.4),
    ("河北省", 7.5), ("湖南省", 6.6), ("浙江省", 6.5), ("安徽省", 6.1), ("湖北省", 5.8),
    ("广西壮族自治区", 5.0), ("云南省", 4.7), ("江西省", 4.5), ("辽宁省", 4.3), ("福建省", 4.2),
    ("陕西省", 4.0), ("贵州省", 3.9), ("山西省", 3.5), ("重庆市", 3.2), ("黑龙江省", 3.2),
    ("新疆维吾尔自治区", 2.6), ("甘肃省", 2.5), ("上海市", 2.5), ("内蒙古自治区", 2.4),
    ("吉林省", 2.4), ("北京市", 2.2), ("天津市", 1.4), ("海南省", 1.0), ("宁夏回族自治区", 0.7),
    ("青海省", 0.6), ("西藏自治区", 0.4)]
HOLD_REASONS = [("buyer_remark", 30), ("stock_short", 15), ("seller_remark", 10),
                ("address_incomplete", 10), ("after_sale_open", 10), ("manual", 10),
                ("amount_above", 5), ("out_of_range", 5), ("risk_control", 5)]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
BUYER_WORDS = ["请尽快发货", "不要放快递柜，直接送到家", "送人的，包装好看一点", "能发顺丰吗",
               "地址改一下：同小区 5 栋", "要大码的", "周末才有人收"]
SELLER_WORDS = ["加急", "赠品：小样两份", "老客户，多送一个", "已与买家确认颜色"]
PREFIX = ["夏季新款", "秋冬加厚", "ins风", "纯棉", "韩版宽松", "复古", "网红同款", "大码",
          "儿童", "轻薄透气"]
ITEM = ["连衣裙", "短袖T恤", "牛仔裤", "卫衣", "羽绒服", "运动鞋", "保温杯", "蓝牙耳机", "面膜",
        "洗发水", "手机壳", "收纳盒", "零食大礼包", "茶叶", "口红"]
SUFFIX = ["女", "男", "学生", "套装", "礼盒装", ""]
COLORS = ["红", "黑", "白", "蓝"]
SIZES = ["S", "M", "L", "XL"]
N_PRODUCTS = 2000


def _cum(weights: list[float]) -> list[float]:
    out, t = [], 0.0
    for w in weights:
        t += w
        out.append(t)
    return out


class World:
    """Every order of the bench, chunk by chunk, from one seed."""

    def __init__(self, shops: list[int], now: int) -> None:
        self.rng = random.Random(14)
        self.now, self.shops = now, shops
        self.pack_id = 0
        rng = self.rng
        self.products = [(f"SKU-{p:05d}", f"36{p:08d}", rng.choice(PREFIX) + rng.choice(ITEM)
                          + rng.choice(SUFFIX), 2000 + int(rng.lognormvariate(math.log(6000), 0.8)))
                         for p in range(N_PRODUCTS)]
        self.product_cum = _cum([1 / (p + 1) ** 0.9 for p in range(N_PRODUCTS)])  # popularity
        self.state_cum = _cum([w for _, w, _ in STATES])
        self.courier_cum = _cum([w for _, w, _, _ in COURIERS])
        self.province_cum = _cum([w for _, w in PROVINCES])
        self.shop_cum = _cum(SHOP_WEIGHTS[:len(shops)])
        self.hold_cum = _cum([w for _, w in HOLD_REASONS])
        self.track_nos: list[str] = []  # a few, for the search
        self.phone_tails: list[str] = []

    def pick(self, items: list[Any], cum: list[float]) -> Any:
        return self.rng.choices(items, cum_weights=cum)[0]

    def chunk(self, start: int, n: int, batch_id: int) -> dict[str, list[dict[str, Any]]]:
        rng, now = self.rng, self.now
        out: dict[str, list[dict[str, Any]]] = {k: [] for k in (
            "orders", "subs", "packs", "lines", "waybills", "prints", "holds", "numbers")}
        for i in range(start, start + n):
            oid = f"69{(i * 7919 + 12345) % 10**17:017d}"
            state, _, status = self.pick(STATES, self.state_cum)
            presale = 1 if rng.random() < 0.03 else 0
            if state == "unpaid":
                created, paid = now - rng.randrange(60, 2 * HOUR), None
            elif state in WAITING:  # still to ship: paid within the last 2.5 days
                paid = now - rng.randrange(60, 60 * HOUR)
                created = paid - rng.randrange(5, 600)
            else:  # a month of orders, the promotion's days busier
                back = rng.triangular(0, 30 * DAY, 3 * DAY)
                paid = now - int(back) - 6 * HOUR
                created = paid - rng.randrange(5, 600)
            deadline = None if paid is None else paid + (
                rng.randrange(3 * DAY, 10 * DAY) if presale else 48 * HOUR)
            phone = f"1{rng.randrange(30, 99)}{rng.randrange(10)}****{rng.randrange(10000):04d}"
            province = self.pick(PROVINCES, self.province_cum)[0]
            lines = 1 if rng.random() < 0.75 else rng.choice((2, 2, 2, 3, 4))
            amount, mine = 0, []
            for k in range(lines):
                code, sku, title, price = self.pick(self.products, self.product_cum)
                qty = 1 if rng.random() < 0.85 else rng.choice((2, 3))
                color, size = rng.choice(COLORS), rng.choice(SIZES)
                r = rng.random()
                aftersale = (rng.choice((6, 7, 11, 13, 14, 29)) if r < 0.02
                             else rng.choice((12, 28)) if r < 0.06 else 0)
                amount += price * qty
                mine.append({
                    "sku_order_id": f"7{oid[2:]}{k}", "order_id": oid, "product_id": sku[:6],
                    "sku_id": f"{sku}{COLORS.index(color)}{SIZES.index(size)}",
                    "merchant_code": f"{code}-{color}", "product_name": title,
                    "spec": f"颜色:{color};尺码:{size}", "quantity": qty,
                    "pay_amount": price * qty, "order_status": status,
                    "after_sale_status": aftersale, "after_sale_type": 0 if aftersale else None,
                    "refund_status": None, "presale_type": presale,
                    "exp_ship_time": deadline})
            out["subs"] += mine
            shop = self.pick(self.shops, self.shop_cum)
            out["orders"].append({
                "order_id": oid, "shop_ref": shop, "state": state, "order_status": status,
                "main_status": status, "create_time": created, "pay_time": paid,
                "update_time": now - rng.randrange(0, DAY), "exp_ship_time": deadline,
                "order_amount": amount + rng.choice((0, 0, 500, 1000)), "pay_amount": amount,
                "post_amount": 0,
                "buyer_words": rng.choice(BUYER_WORDS) if rng.random() < 0.15 else "",
                "seller_words": rng.choice(SELLER_WORDS) if rng.random() < 0.08 else "",
                "seller_remark_stars": 0, "presale_type": presale, "buyer_id": "",
                "receiver_name_cipher": "", "receiver_phone_cipher": "",
                "receiver_detail_cipher": "", "receiver_name_mask": rng.choice(SURNAMES) + "**",
                "receiver_phone_mask": phone, "receiver_address_mask": "****",
                "province": province, "city": province[:2] + "市", "district": "城区",
                "street": "", "receiver_plain_enc": None, "raw": "{}", "synced_at": now,
                "audited_at": now})
            if len(self.phone_tails) < 50 and rng.random() < 0.01:
                self.phone_tails.append(phone[-4:])
            self._parcels(out, oid, mine, shop, state, deadline, batch_id)
            self._holds(out, oid, state)
        return out

    def _parcels(self, out: dict[str, list[dict[str, Any]]], oid: str,
                 subs: list[dict[str, Any]], shop: int, state: str, deadline: int | None,
                 batch_id: int) -> None:
        rng, now = self.rng, self.now
        if state in ("waybill_taken", "printed") or state in SENT:
            pstate = state if state in ("waybill_taken", "printed") else "confirmed"
        elif state == "approved":
            pstate = "waybill_pending"
        elif state == "cancelled" and rng.random() < 0.3:
            pstate = "cancelled"
        else:
            return
        parcels = [(pstate, "")]
        if pstate == "confirmed" and rng.random() < 0.02:  # re-taken: the first recycled
            parcels.insert(0, ("cancelled", "old"))
        for pst, ppid in parcels:
            self.pack_id += 1
            pid = self.pack_id
            code, _, prefix, digits = self.pick(COURIERS, self.courier_cum)
            number = None if pst == "waybill_pending" else (
                prefix + f"{rng.randrange(10 ** (digits - 1), 10 ** digits)}")
            out["packs"].append({
                "id": pid, "shop_ref": shop, "kind": "whole", "state": pst,
                "main_order_id": oid, "platform_pack_id": ppid, "seq": 1, "of": 1,
                "courier_code": code, "courier_rule": "", "courier_reason": "",
                "netsite_code": None, "track_no": number, "sort_code": "", "short_address": "",
                "package_center": "", "request_id": f"bench-{pid}", "platform_pack": None,
                "exp_ship_time": deadline, "last_error": None, "unpacked_at": None,
                "unpacked_by": None, "created_at": now - DAY, "updated_at": now})
            for s in subs:
                out["lines"].append({"pack_id": pid, "sku_order_id": s["sku_order_id"],
                                     "order_id": oid, "quantity": s["quantity"]})
            if number is None:
                continue
            out["numbers"].append({"pack_id": pid, "track_no": number})
            out["waybills"].append({
                "courier_code": code, "track_no": number, "shop_ref": shop, "pack_id": pid,
                "status": {"cancelled": "recycled", "confirmed": "used"}.get(pst, "live"),
                "source": "ewaybill", "taken_at": now - DAY,
                "recycled_at": now - DAY if pst == "cancelled" else None})
            if pst in ("printed", "confirmed") and rng.random() < 0.97:
                for _ in range(2 if rng.random() < 0.05 else 1):
                    out["prints"].append({"batch_id": batch_id, "pack_id": pid,
                                          "kind": "labels", "reprint": False,
                                          "printed_by": "bench", "printed_at": now - DAY})
            if len(self.track_nos) < 50 and rng.random() < 0.01:
                self.track_nos.append(number)

    def _holds(self, out: dict[str, list[dict[str, Any]]], oid: str, state: str) -> None:
        rng, now = self.rng, self.now
        reasons = []
        if state == "held":
            reasons = [(r, None) for r in {self.pick(HOLD_REASONS, self.hold_cum)[0]
                                           for _ in range(2 if rng.random() < 0.2 else 1)}]
        elif rng.random() < 0.03:  # held once, released since
            reasons = [(self.pick(HOLD_REASONS, self.hold_cum)[0], now - rng.randrange(DAY))]
        for reason, released in reasons:
            out["holds"].append({
                "order_id": oid, "reason": reason, "detail": "", "source": "rule",
                "created_at": now - 2 * DAY, "released_at": released,
                "released_by": "bench" if released else None})


# ---- the store ------------------------------------------------------------------------------

def load(app: Any, n: int, now: int) -> World:
    from sqlalchemy import text

    from fahuo.adapters.store import models as m
    from fahuo.adapters.store.search_index import index_track_nos, reindex_orders
    from fahuo.services.shops import NewShop, add_shop
    shops = []
    with app.uow() as u:
        for k in range(len(SHOP_WEIGHTS)):
            shops.append(add_shop(u, NewShop(shop_id=f"{k + 1}", app_key="7000000000000000001",
                                             app_secret="s", shop_name=f"店铺{k + 1}",
                                             gateway_url="http://127.0.0.1:9")))
    world = World(shops, now)
    sqlite = app.engine.dialect.name == "sqlite"
    tables = [("orders", m.orders), ("subs", m.sub_orders), ("packs", m.packs),
              ("lines", m.pack_lines), ("waybills", m.waybills), ("prints", m.print_records),
              ("holds", m.order_holds)]
    for batch_id, start in enumerate(range(0, n, CHUNK), start=1):
        rows = world.chunk(start, min(CHUNK, n - start), batch_id)
        with app.engine.begin() as conn:
            if sqlite:
                conn.exec_driver_sql("PRAGMA cache_size=-400000")  # the loader's own: 400 MB
            conn.execute(m.print_batches.insert(), [{
                "id": batch_id, "kind": "labels", "format": "pdf", "size": "76x130",
                "order_by": "deadline", "pack_ids": "[]", "selection_key": f"bench-{batch_id}",
                "fingerprint": "0" * 64, "file_name": f"bench-{batch_id}.pdf", "printer": "",
                "reprint_of": None, "reason": "", "created_by": "bench", "created_at": now}])
            for key, table in tables:
                if rows[key] and sqlite:  # plain executemany over tuples, as the sync does
                    cols = list(rows[key][0])
                    conn.exec_driver_sql(
                        f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES "
                        f"({', '.join('?' * len(cols))})",
                        [tuple(r[c] for c in cols) for r in rows[key]])
                elif rows[key]:
                    conn.execute(table.insert(), rows[key])
            reindex_orders(conn, rows["orders"], rows["subs"])
            index_track_nos(conn, [(r["pack_id"], r["track_no"]) for r in rows["numbers"]])
    with app.engine.begin() as conn:
        if not sqlite:  # fahuo never runs ANALYZE on SQLite: its planner goes without
            for t in ("orders", "sub_orders", "packs", "pack_lines", "waybills",
                      "print_records", "order_holds", "order_search"):
                conn.execute(text(f"ANALYZE {t}"))
            conn.execute(text("SELECT setval(pg_get_serial_sequence('packs', 'id'), "
                              "(SELECT max(id) FROM packs))"))
    return world


# ---- timing --------------------------------------------------------------------------------

_IDS = re.compile(r'name="order_id" value="(\d+)"')
_NEXT = re.compile(r'<a href="([^"]+)" rel="next">')


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, math.ceil(p * len(s)) - 1))]


def _time_it(fn: Callable[[], Any], rounds: int) -> list[float]:
    fn()
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def queries(world: World, now: int) -> list[tuple[str, dict[str, str]]]:
    def day(ts: int) -> str:
        from fahuo.domain.clock import SHOP_TZ
        return datetime.fromtimestamp(ts, SHOP_TZ).strftime("%Y-%m-%dT%H:%M")
    return [
        ("no filter", {}),
        ("sort=paid", {"sort": "paid"}),
        ("sort=amount", {"sort": "amount"}),
        ("shop", {"shop": str(world.shops[1])}),
        ("state=synced", {"state": "synced"}),
        ("hold=buyer_remark", {"hold": "buyer_remark"}),
        ("courier=yunda", {"courier": "yunda"}),
        ("printed=yes", {"printed": "yes"}),
        ("printed=no", {"printed": "no"}),
        ("confirmed=no", {"confirmed": "no"}),
        ("due=6h", {"due": "6h"}),
        ("due=overdue", {"due": "overdue"}),
        ("paid range (1 day)", {"paid_from": day(now - 3 * DAY), "paid_to": day(now - 2 * DAY)}),
        ("amount 100-200", {"amount_min": "100", "amount_max": "200"}),
        ("province=浙江", {"province": "浙江"}),
        ("aftersale=open", {"aftersale": "open"}),
        ("presale=yes", {"presale": "yes"}),
        ("q=tracking no", {"q": world.track_nos[0]}),
        ("q=phone tail", {"q": world.phone_tails[0]}),
        ("q=连衣裙", {"q": "连衣裙"}),
    ]


def bench(base: str, cookie: str, app: Any, world: World, now: int, rounds: int
          ) -> tuple[list[tuple[str, float, float, float]], list[str]]:
    """[(name, p50, p95, bare p95)], problems."""
    from sqlalchemy import select

    from fahuo.adapters.store import models as m
    from fahuo.adapters.store.board_queries import BoardQueries
    from fahuo.adapters.store.workbench_queries import WorkbenchQueries
    from fahuo.domain.order_filter import parse_cursor, parse_filter
    from fahuo.services.lists import UNSHIPPED
    from fahuo.services.today import SOON_S
    problems: list[str] = []
    client = httpx.Client(base_url=base, cookies={"fahuo_session": cookie}, timeout=120)
    pages: list[tuple[str, str, Callable[[], Any]]] = []  # name, url, bare
    conn = app.engine.connect().execution_options(fahuo_readonly=True)
    wq, bq = WorkbenchQueries(conn), BoardQueries(conn)
    for name, params in queries(world, now):
        f = parse_filter(params)
        r = client.get("/orders", params=params)
        if r.status_code != 200:
            raise SystemExit(f"{name}: /orders answered {r.status_code}: {r.text[:300]}")
        shown = _IDS.findall(r.text)
        if shown != wq.bare_page(f, int(time.time())):
            problems.append(f"{name}: first page shows other orders than the bare SELECT")
        pages.append((name, str(r.url.raw_path.decode()),
                      lambda f=f: wq.bare_page(f, int(time.time()))))
        nxt = _NEXT.search(r.text)
        if not nxt:
            continue
        url = html.unescape(nxt.group(1))
        after = parse_cursor("after", parse_qs(urlsplit(url).query)["after"][0])
        r2 = client.get(url)
        if _IDS.findall(r2.text) != wq.bare_page(f, int(time.time()), after=after):
            problems.append(f"{name}: next page shows other orders than the bare SELECT")
        pages.append((name + " →next", url,
                      lambda f=f, a=after: wq.bare_page(f, int(time.time()), after=a)))
    o = m.orders

    def bare_deadlines() -> list[str]:
        return [x[0] for x in conn.execute(select(o.c.order_id).where(
            o.c.state.in_(UNSHIPPED), o.c.exp_ship_time.is_not(None),
            o.c.order_status.in_((2, 101)), o.c.exp_ship_time <= int(time.time()) + DAY)
            .order_by(o.c.exp_ship_time, o.c.order_id).limit(50))]

    def bare_board() -> None:
        at = int(time.time())
        bq.orders_by_state()
        bq.holds_by_reason()
        bq.packs_by_state(("waybill_taken", "printed", "scanned"))
        bq.due(["synced", "held", "approved", "waybill_taken", "printed"], at, SOON_S)
        bq.open_findings_by_kind()
        bq.open_after_sales()
        bq.shop_troubles(at, 3 * DAY)

    pages += [("/board (今天)", "/board", bare_board), ("/deadlines", "/deadlines", bare_deadlines)]
    for _, url, _ in pages:  # warm every path once
        if client.get(url).status_code != 200:
            raise SystemExit(f"{url} did not answer 200")
    http: dict[str, list[float]] = {name: [] for name, _, _ in pages}
    for _ in range(rounds):  # interleaved: the machine's noise falls on every query alike
        for name, url, _ in pages:
            t = time.perf_counter()
            r = client.get(url)
            http[name].append((time.perf_counter() - t) * 1000)
            if r.status_code != 200:
                raise SystemExit(f"{url} answered {r.status_code}")
    out = []
    for name, _, bare in pages:
        b = _time_it(bare, rounds)
        out.append((name, statistics.median(http[name]), pct(http[name], 0.95), pct(b, 0.95)))
    conn.close()
    client.close()
    return out, problems


# ---- the run -------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="30,000 orders (< 30 s)")
    ap.add_argument("--orders", type=int, help="how many orders (default 1,000,000)")
    ap.add_argument("--rounds", type=int, help="requests per page (default 20, quick 5)")
    ap.add_argument("--pg", metavar="URL", help="run on this PostgreSQL (a schema of its own)")
    a = ap.parse_args(argv)
    # --quick: 30,000, not the 100,000: loading 100,000 alone takes ~30 s here
    n = a.orders or (30_000 if a.quick else 1_000_000)
    rounds = a.rounds or (5 if a.quick else 20)

    import sqlalchemy as sa

    from fahuo.bootstrap import Fahuo, configure_logging
    from fahuo.config import Settings
    from fahuo.services.users import add_user, start_session
    configure_logging("WARNING")
    tmp = Path(tempfile.mkdtemp(prefix="fahuo-bench-console-"))
    key = base64.b64encode(os.urandom(32)).decode()
    url, schema = "", ""
    if a.pg:
        schema = f"bench_console_{uuid.uuid4().hex[:8]}"
        eng = sa.create_engine(a.pg)
        with eng.begin() as c:
            c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        eng.dispose()
        url = a.pg + ("&" if "?" in a.pg else "?") + f"options=-csearch_path%3D{schema}"
    proc = None
    try:
        app = Fahuo(Settings(data_dir=tmp, secret_key=key, log_level="WARNING",
                             database_url=url or None))
        app.migrate()
        now = int(time.time())
        t0 = time.perf_counter()
        world = load(app, n, now)
        load_s = time.perf_counter() - t0
        user = add_user(app.uow, "bench", "bench-password-1", role="admin", actor="bench")
        sid = start_session(app.uow, user)
        db = "PostgreSQL" if url else "SQLite"
        print(f"console: {n:,} orders written to {db} in {load_s:.1f}s (not timed)", flush=True)
        port = free_port()
        log = open(tmp / "server.log", "wb")
        proc = subprocess.Popen([sys.executable, "-c", SERVER, str(tmp), key, str(port), url],
                                stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"server did not start; see {tmp}/server.log")
            time.sleep(0.1)
        t0 = time.perf_counter()
        results, problems = bench(base, sid, app, world, now, rounds)
        print(f"console: {len(results)} pages × {rounds} requests in "
              f"{time.perf_counter() - t0:.1f}s", flush=True)
        app.close()
        print(f"{'page':<26} {'p50 ms':>8} {'p95 ms':>8} {'bare p95':>9} {'ratio':>6}")
        for name, p50, p95, bare in results:
            print(f"{name:<26} {p50:8.1f} {p95:8.1f} {bare:9.1f} {bare / p95:6.2f}")
        lists = [r for r in results if not r[0].startswith("/")]
        worst = max(lists, key=lambda r: r[2])
        board = next(r for r in results if r[0].startswith("/board"))
        dl = next(r for r in results if r[0] == "/deadlines")
        slow = [r[0] for r in lists if r[2] >= GOALS["list_p95_ms"]]
        ok = not slow and board[2] < GOALS["board_p95_ms"] and not problems
        for p in problems:
            print("PROBLEM:", p)
        if slow:
            print("over the list goal:", ", ".join(slow))
        print(f"console ({db}, {n:,} orders{', --quick' if a.quick else ''}): /orders pages "
              f"p95 median {statistics.median(r[2] for r in lists):.0f} ms, worst {worst[2]:.0f}"
              f" ms ({worst[0]}) vs bare SELECT {worst[3]:.1f} ms = ratio "
              f"{worst[3] / worst[2]:.2f} | board p95 {board[2]:.0f} ms vs bare counts "
              f"{board[3]:.0f} ms = ratio {board[3] / board[2]:.2f} | /deadlines p95 "
              f"{dl[2]:.0f} ms vs bare {dl[3]:.1f} ms | goals list p95 < "
              f"{GOALS['list_p95_ms']:.0f} ms, board < {GOALS['board_p95_ms']:.0f} ms: "
              f"{'met' if ok else 'NOT met'}")
        return 0 if not problems else 1
    except BaseException:
        if (tmp / "server.log").exists():
            print("server log (last lines):\n" + "\n".join(
                (tmp / "server.log").read_text(errors="replace").splitlines()[-30:]),
                file=sys.stderr)
        raise
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if schema:
            eng = sa.create_engine(a.pg)
            with eng.begin() as c:
                c.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            eng.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
