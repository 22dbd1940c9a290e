"""Shop orders: paged reads (``order.searchList``), generation, and the changes the platform pushes.

Also the helpers every handler that writes an order uses: load, save, touch (``update_time``) and
push to the apps subscribed to the shop.
"""
from __future__ import annotations

import concurrent.futures
import json
import multiprocessing
import os
import random
import secrets
import time
from typing import TYPE_CHECKING, Any

import orjson

from . import generator as gen
from .receivers import apply_receiver, random_receiver
from .stock.ledger import order_units, take_new_orders, take_units

if TYPE_CHECKING:
    from .core import Sandbox

INSERT_BATCH = 5000
PARALLEL_MIN = 20000
try:  # fork: cheap start, and never re-imports the host program's __main__ (unlike spawn)
    _FORK: Any = multiprocessing.get_context("fork")
except ValueError:  # pragma: no cover - non-POSIX
    _FORK = None


def load_order(conn: Any, shop_id: int | None, oid: int) -> dict[str, Any] | None:
    if shop_id is None:
        row = conn.execute("SELECT payload FROM orders WHERE order_id=?", (oid,)).fetchone()
    else:
        row = conn.execute("SELECT payload FROM orders WHERE order_id=? AND shop_id=?", (oid, shop_id)).fetchone()
    return orjson.loads(row[0]) if row else None


def save_order(conn: Any, order: dict[str, Any]) -> None:
    conn.execute("UPDATE orders SET update_time=?, order_status=?, payload=? WHERE order_id=?",
                 (order["update_time"], order["order_status"], gen.dumps(order), int(order["order_id"])))


def touch(order: dict[str, Any], now: int) -> int:
    """``update_time`` = max(now, previous + 1) on the order and its lines; returns it."""
    ut = max(now, int(order["update_time"]) + 1)
    order["update_time"] = ut
    for s in order["sku_order_list"]:
        s["update_time"] = ut
    return ut


def push_to_shop(sb: Sandbox, shop_id: int, msgs: list[dict[str, Any]]) -> None:
    if not msgs:
        return
    for app_key in sb.push.apps_for_shop(shop_id):
        sb.push.enqueue(app_key, msgs)


def set_status(sb: Sandbox, order_id: int, status: int) -> dict[str, Any]:
    """Admin: force an order's status (no push)."""
    if status not in gen.ORDER_STATUS_DESC:
        raise ValueError(f"bad order_status {status}")
    with sb.store.transaction() as conn:
        o = load_order(conn, None, order_id)
        if o is None:
            raise ValueError(f"unknown order {order_id}")
        gen.set_status(o, status)
        ut = touch(o, int(sb.now()))
        save_order(conn, o)
    return {"order_id": str(order_id), "order_status": status, "update_time": ut}


class Orders:
    def __init__(self, sb: Sandbox):
        self.sb = sb
        self._total_cache: dict[tuple, tuple[int, int]] = {}
        self._cursor_cache: dict[tuple, tuple[int, tuple]] = {}

    def search(self, shop_id: int, *, statuses: list[int] | None, ct: tuple, ut: tuple, order_by: str,
               asc: bool, page: int, size: int) -> tuple[int, list[str]]:
        where = ["shop_id=?"]
        params: list[Any] = [shop_id]
        if statuses:
            where.append("order_status IN (%s)" % ",".join("?" * len(statuses)))
            params.extend(statuses)
        for col, (lo, hi) in (("create_time", ct), ("update_time", ut)):
            if lo is not None:
                where.append(f"{col}>=?")
                params.append(lo)
            if hi is not None:
                where.append(f"{col}<=?")
                params.append(hi)
        w = " AND ".join(where)
        key = (w, tuple(params))
        cached = self._total_cache.get(key)
        if cached and cached[0] == self.sb.store.version:
            total = cached[1]
        else:
            version = self.sb.store.version
            total = self.sb.store.one(f"SELECT COUNT(*) FROM orders WHERE {w}", params)[0]
            if len(self._total_cache) > 1000:
                self._total_cache.clear()
            self._total_cache[key] = (version, total)
        if page * size >= total:
            return total, []
        d = "ASC" if asc else "DESC"
        other = "update_time" if order_by == "create_time" else "create_time"
        # the ORDER BY follows the covering index exactly (deterministic total order, no temp sort)
        order = f"{order_by} {d}, order_status {d}, {other} {d}, id {d}"
        cols = f"{order_by}, order_status, {other}, id"
        # Sequential paging: if nothing was written since the previous page, seek from where it ended
        # (same result as OFFSET, without scanning the skipped index entries).
        ckey = (w, tuple(params), order, size, page)
        cursor = self._cursor_cache.get(ckey)
        version = self.sb.store.version
        if cursor and cursor[0] == version:
            op = ">" if asc else "<"
            sql = (f"SELECT o.payload, k.* FROM (SELECT {cols} FROM orders WHERE {w} AND ({cols}) {op} (?,?,?,?)"
                   f" ORDER BY {order} LIMIT ?) AS k JOIN orders AS o ON o.id = k.id")
            rows = self.sb.store.all(sql, params + list(cursor[1]) + [size])
        else:
            sql = (f"SELECT o.payload, k.* FROM (SELECT {cols} FROM orders WHERE {w} ORDER BY {order}"
                   f" LIMIT ? OFFSET ?) AS k JOIN orders AS o ON o.id = k.id")
            rows = self.sb.store.all(sql, params + [size, page * size])
        if rows and len(rows) == size:
            if len(self._cursor_cache) > 1000:
                self._cursor_cache.clear()
            self._cursor_cache.pop(ckey, None)
            self._cursor_cache[(w, tuple(params), order, size, page + 1)] = (version, rows[-1][1:])
        return total, [r[0] for r in rows]

    def payload(self, shop_id: int, order_id: int) -> str | None:
        row = self.sb.store.one("SELECT payload FROM orders WHERE order_id=? AND shop_id=?", (order_id, shop_id))
        return row[0] if row else None

    def index(self, shop_id: int) -> list[dict[str, Any]]:
        return [{"order_id": str(o), "update_time": u, "order_status": s} for o, u, s in self.sb.store.all(
            "SELECT order_id, update_time, order_status FROM orders WHERE shop_id=? ORDER BY order_id", (shop_id,))]

    def generate(self, shop_id: int, count: int, seed: Any = None, spread_seconds: float = 3 * 86400,
                 profile: str = "steady", at: float | None = None) -> dict[str, Any]:
        shop_id = int(shop_id)
        self.sb.ensure_shop(shop_id)
        existing = self.sb.store.one("SELECT COUNT(*) FROM orders WHERE shop_id=?", (shop_id,))[0]
        base_seed = f"{seed if seed is not None else secrets.token_hex(8)}:{shop_id}:{existing}"
        now = int(at if at is not None else self.sb.now())
        spread = max(0.0, float(spread_seconds))
        push_apps = self.sb.push.apps_for_shop(shop_id)
        t0 = time.perf_counter()
        chunks = [(base_seed, k, min(INSERT_BATCH, count - k * INSERT_BATCH), shop_id, now, spread, profile)
                  for k in range((count + INSERT_BATCH - 1) // INSERT_BATCH)]
        pool = None
        if count >= PARALLEL_MIN and _FORK is not None and (os.cpu_count() or 1) > 1:
            pool = concurrent.futures.ProcessPoolExecutor(max_workers=min(4, os.cpu_count() or 1), mp_context=_FORK)
            results = pool.map(gen._gen_chunk_star, chunks)
        else:
            results = (gen.gen_chunk(*c) for c in chunks)
        inserted = 0
        try:
            for _k, rows in enumerate(results):
                inserted += self._insert_rows(rows, push_apps)
            extra = 0
            while inserted < count and extra < 100:  # id collisions (INSERT OR IGNORE): top up
                extra += 1
                rows = gen.gen_chunk(base_seed + ":extra", extra, count - inserted, shop_id, now, spread, profile)
                inserted += self._insert_rows(rows, push_apps)
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        return {"shop_id": shop_id, "inserted": inserted, "elapsed_s": round(time.perf_counter() - t0, 3)}

    def repeat_buyer(self, order_id: int, count: int, seed: Any = None) -> dict[str, Any]:
        """The same buyer orders again to the same address (live-stream habit: 合单 material)."""
        row = self.sb.store.one("SELECT shop_id, payload FROM orders WHERE order_id=?", (int(order_id),))
        if row is None:
            raise ValueError(f"unknown order {order_id}")
        shop_id, src = row[0], json.loads(row[1])
        rng = random.Random(f"{seed if seed is not None else secrets.token_hex(8)}:{order_id}")
        now = int(self.sb.now())
        rows, ids = [], []
        for _ in range(int(count)):
            oid = gen.new_order_id(rng)
            o = gen.make_order(rng, shop_id, oid, now - 5, status=2)
            for k in ("doudian_open_id", "encrypt_post_receiver", "encrypt_post_tel", "mask_post_receiver",
                      "mask_post_tel", "mask_post_addr", "post_addr", "post_receiver", "post_tel"):
                o[k] = src[k]
            o.update(buyer_words="", seller_words="", seller_remark_stars=0,
                     update_time=min(o["update_time"], now))
            for sku in o["sku_order_list"]:
                sku["pre_sale_type"] = 0
            rows.append((oid, shop_id, o["create_time"], o["update_time"], o["order_status"], gen.dumps(o)))
            ids.append(str(oid))
        self._insert_rows(rows, self.sb.push.apps_for_shop(shop_id))
        return {"shop_id": shop_id, "order_ids": ids}

    def _insert_rows(self, rows: list[tuple], push_apps: list[str]) -> int:
        with self.sb.store.transaction() as conn:
            before = conn.total_changes
            last_id = conn.execute("SELECT COALESCE(MAX(id), 0) FROM orders").fetchone()[0]
            conn.executemany("INSERT OR IGNORE INTO orders (order_id, shop_id, create_time, update_time,"
                             " order_status, payload) VALUES (?,?,?,?,?,?)", rows)
            n = conn.total_changes - before  # orders only: the stock rows below are not counted
            take_new_orders(conn, last_id, int(self.sb.now()))  # paid on arrival: the platform stock drops
        if push_apps:
            msgs = []
            for r in rows:
                msgs.extend(self.sb.push.messages_for_new_order(json.loads(r[5])))
            for app_key in push_apps:
                self.sb.push.enqueue(app_key, msgs)
        return n

    def mutate(self, shop_id: int, count: int, seed: Any = None) -> dict[str, Any]:
        shop_id = int(shop_id)
        rng = random.Random(f"mutate:{seed if seed is not None else secrets.token_hex(8)}:{shop_id}:{self.sb.store.version}")
        ids = [r[0] for r in self.sb.store.all("SELECT order_id FROM orders WHERE shop_id=? AND order_status IN (1,2,105)"
                                               " ORDER BY order_id", (shop_id,))]
        chosen = rng.sample(ids, min(count, len(ids)))
        push_apps = self.sb.push.apps_for_shop(shop_id)
        out = []
        with self.sb.store.transaction() as conn:
            for oid in chosen:
                order = json.loads(conn.execute("SELECT payload FROM orders WHERE order_id=?", (oid,)).fetchone()[0])
                kind, msgs = self._mutate_one(rng, order)
                if kind == "paid":  # 1 → 2: the platform stock drops now
                    take_units(conn, order_units(order), order["update_time"])
                save_order(conn, order)
                out.append({"order_id": str(oid), "kind": kind, "tags": [m["tag"] for m in msgs],
                            "update_time": order["update_time"], "order_status": order["order_status"]})
                for app_key in push_apps:
                    self.sb.push.enqueue(app_key, msgs)
        return {"shop_id": shop_id, "mutated": out}

    def change_order(self, order_id: int, kind: str, seed: Any = None) -> dict[str, Any]:
        """One named change to one order (address, cancel, remark, deadline), pushed like the real thing."""
        if kind not in ("address", "cancel", "remark", "deadline"):
            raise ValueError("kind must be address, cancel, remark or deadline")
        row = self.sb.store.one("SELECT shop_id, payload FROM orders WHERE order_id=?", (int(order_id),))
        if row is None:
            raise ValueError(f"unknown order {order_id}")
        shop_id, order = row[0], json.loads(row[1])
        if order["order_status"] not in (1, 2, 105):
            raise ValueError(f"order {order_id} is in status {order['order_status']}")
        rng = random.Random(f"change:{seed}:{order_id}")
        # The r thresholds of _mutate_one: cancel < 0.2 ≤ remark < 0.5 ≤ address < 0.75 ≤
        # deadline (pushed as 126, or 112 when it becomes an appointment).
        pick = {"cancel": 0.1, "remark": 0.3, "address": 0.6, "deadline": 0.9}[kind]
        with self.sb.store.transaction() as conn:
            kind_done, msgs = self._mutate_one(rng, order, force=pick)
            save_order(conn, order)
        for app_key in self.sb.push.apps_for_shop(shop_id):
            self.sb.push.enqueue(app_key, msgs)
        return {"order_id": str(order_id), "kind": kind_done, "update_time": order["update_time"]}

    def _mutate_one(self, rng: random.Random, order: dict[str, Any],
                    force: float | None = None) -> tuple[str, list[dict[str, Any]]]:
        now = int(self.sb.now())
        now = max(now, order["update_time"] + 1)
        order["update_time"] = now
        for s in order["sku_order_list"]:
            s["update_time"] = now
        status = order["order_status"]
        P = self.sb.push
        if force is not None:
            status = 2  # a named change on a paid order
        if status == 105:
            gen.set_status(order, 2)
            return "release", [P.msg(101, order)]
        if status == 1:
            if rng.random() < 0.7:
                order["pay_time"] = now
                order["pay_amount"] = order["order_amount"]
                order["pay_type"] = 1
                order["order_expire_time"] = 0
                for s in order["sku_order_list"]:
                    s["pay_time"] = now
                gen.set_status(order, 2)
                return "paid", [P.msg(101, order)]
            gen.set_status(order, 4)
            order["cancel_reason"] = "超时未支付"
            return "cancel", [P.msg(106, order)]
        r = rng.random() if force is None else force
        if r < 0.2:
            gen.set_status(order, 4)
            order["cancel_reason"] = "买家取消：不想要了"
            for s in order["sku_order_list"]:
                s["after_sale_info"] = {"after_sale_status": 12, "after_sale_type": 2, "refund_status": 3}
            return "cancel", [P.msg(106, order)]
        if r < 0.5:
            order["seller_words"] = rng.choice(gen.SELLER_WORDS)
            order["seller_remark_stars"] = rng.randint(0, 5)
            return "remark", [P.msg(113, order)]
        if r < 0.75:
            apply_receiver(order, random_receiver(rng))
            return "address", [P.msg(105, order)]
        new_exp = gen.end_of_day_gmt8(order["exp_ship_time"], rng.choice((1, 2, 3)))
        order["exp_ship_time"] = new_exp
        for s in order["sku_order_list"]:
            s["exp_ship_time"] = new_exp
        if rng.random() < 0.3:
            order["appointment_ship_time"] = new_exp
            for s in order["sku_order_list"]:
                s["appointment_ship_time"] = new_exp
            return "appointment", [P.msg(112, order)]
        return "deadline", [P.msg(126, order)]
