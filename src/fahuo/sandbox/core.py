"""Sandbox state: clock, apps, tokens, orders, limits, faults, stats."""
from __future__ import annotations

import collections
import concurrent.futures
import itertools
import multiprocessing
import os
import json
import random
import secrets
import threading
import time
import uuid
from typing import Any

from . import generator as gen
from .push import PushManager
from .store import Store

ACCESS_TTL = 7 * 86400
REFRESH_TTL = 14 * 86400
CODE_TTL = 600
GRACE = 3600
WINDOW_90D = 90 * 86400
INSERT_BATCH = 5000
PARALLEL_MIN = 20000
try:  # fork: cheap start, and never re-imports the host program's __main__ (unlike spawn)
    _FORK: Any = multiprocessing.get_context("fork")
except ValueError:  # pragma: no cover - non-POSIX
    _FORK = None


class ApiError(Exception):
    """A platform error envelope (HTTP 200, code != 10000)."""

    MSGS = {
        10001: "请求部分失败", 20000: "服务不可用", 20001: "内部服务超时", 30001: "操作权限不足",
        40001: "缺少必选参数", 40002: "缺少必选参数", 40003: "非法的参数", 40004: "非法的参数",
        50000: "业务处理失败", 50001: "业务处理失败", 50002: "业务处理失败",
        60000: "超过限流", 70000: "服务已下线", 90000: "其他",
    }

    def __init__(self, code: int, sub_code: str, sub_msg: str = "", msg: str | None = None):
        super().__init__(f"{code} {sub_code} {sub_msg}")
        self.code = code
        self.sub_code = sub_code
        self.sub_msg = sub_msg or sub_code
        self.msg = msg or self.MSGS.get(code, "error")


class RateLimiter:
    """Sliding one-second window per key; rejected calls are not counted."""

    def __init__(self) -> None:
        self._hits: dict[str, collections.deque] = collections.defaultdict(collections.deque)
        self._lock = threading.Lock()

    def allow(self, key: str, qps: float) -> bool:
        now = time.monotonic()
        with self._lock:
            dq = self._hits[key]
            while dq and now - dq[0] >= 1.0:
                dq.popleft()
            if len(dq) >= qps:
                return False
            dq.append(now)
            return True


class Sandbox:
    def __init__(self, db_path: str, clock_offset: float = 0.0):
        self.store = Store(db_path)
        self.clock_offset = float(clock_offset)
        self.limiter = RateLimiter()
        self.stats_lock = threading.Lock()
        self.calls_by_method: collections.Counter = collections.Counter()
        self.calls_by_code: collections.Counter = collections.Counter()
        self.calls_by_method_code: collections.Counter = collections.Counter()
        self.faults: dict[str, Any] = {}
        # couriers whose parcels afterSale.applyLogisticsIntercept refuses (admin-set)
        self.intercept_unsupported: set[str] = set()
        self._fault_rng = random.Random(7)
        self._fault_counter = itertools.count(1)
        self._log_seq = itertools.count(1)
        self.version = 0  # bumped on every order write (invalidates cached totals)
        self._total_cache: dict[tuple, tuple[int, int]] = {}
        self._cursor_cache: dict[tuple, tuple[int, tuple]] = {}
        self.apps: dict[str, dict[str, Any]] = {}
        for key, secret, shop_id, qps in self.store.all("SELECT app_key, app_secret, shop_id, qps FROM apps"):
            self.apps[key] = {"app_key": key, "app_secret": secret, "shop_id": shop_id, "qps": qps}
        self.push = PushManager(self)
        self.profiles: dict[int, "ProfileRunner"] = {}
        from .couriers import Couriers  # late: couriers imports the gateway, which imports this module
        self.couriers = Couriers(self)
        from . import aftersales, stock  # late, as above
        stock.ensure_schema(self)
        aftersales.ensure_schema(self)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self.push.start()
        self.couriers.start()

    def stop(self) -> None:
        for runner in list(self.profiles.values()):
            runner.stop()
        self.profiles.clear()
        self.couriers.stop()
        self.push.stop()
        self.store.close()

    def now(self) -> float:
        return time.time() + self.clock_offset

    def next_log_id(self) -> str:
        t = time.strftime("%Y%m%d%H%M%S", time.gmtime(self.now() + 8 * 3600))
        return f"{t}{next(self._log_seq):010d}{secrets.token_hex(5).upper()}"

    def record_call(self, method: str, code: int) -> None:
        with self.stats_lock:
            self.calls_by_method[method] += 1
            self.calls_by_code[str(code)] += 1
            self.calls_by_method_code[f"{method}:{code}"] += 1

    # ------------------------------------------------------------------ shops / apps
    def ensure_shop(self, shop_id: int, shop_name: str | None = None) -> str:
        row = self.store.one("SELECT shop_name FROM shops WHERE shop_id=?", (shop_id,))
        if row:
            return row[0]
        name = shop_name or f"沙箱测试店铺{shop_id % 10000:04d}"
        self.store.write("INSERT OR IGNORE INTO shops (shop_id, shop_name) VALUES (?,?)", (shop_id, name))
        return name

    def shop_name(self, shop_id: int) -> str:
        row = self.store.one("SELECT shop_name FROM shops WHERE shop_id=?", (shop_id,))
        return row[0] if row else ""

    def create_app(self, app_key: str | None = None, app_secret: str | None = None, shop_id: int | None = None,
                   shop_name: str | None = None, qps: float | None = None) -> dict[str, Any]:
        if app_key is None:
            app_key = str(secrets.randbelow(9 * 10 ** 18) + 10 ** 18)
        if not (isinstance(app_key, str) and len(app_key) == 19 and app_key.isdigit()):
            raise ValueError("app_key must be 19 digits")
        if app_key in self.apps:
            raise ValueError("app_key already exists")
        app_secret = app_secret or str(uuid.uuid4())
        if shop_id is None:
            shop_id = secrets.randbelow(90_000_000) + 10_000_000
        shop_id = int(shop_id)
        qps = float(qps if qps is not None else 100)
        name = self.ensure_shop(shop_id, shop_name)
        self.store.write("INSERT INTO apps (app_key, app_secret, shop_id, qps) VALUES (?,?,?,?)",
                         (app_key, app_secret, shop_id, qps))
        self.store.write("INSERT OR IGNORE INTO app_shops (app_key, shop_id) VALUES (?,?)", (app_key, shop_id))
        self.apps[app_key] = {"app_key": app_key, "app_secret": app_secret, "shop_id": shop_id, "qps": qps}
        return {"app_key": app_key, "app_secret": app_secret, "shop_id": shop_id, "shop_name": name, "qps": qps}

    def set_qps(self, app_key: str, qps: float) -> None:
        self.store.write("UPDATE apps SET qps=? WHERE app_key=?", (float(qps), app_key))
        self.apps[app_key]["qps"] = float(qps)

    def issue_code(self, app_key: str, shop_id: int, shop_name: str | None = None) -> dict[str, Any]:
        self.ensure_shop(shop_id, shop_name)
        code = secrets.token_hex(16)
        self.store.write("INSERT INTO oauth_codes (code, app_key, shop_id, expires_at) VALUES (?,?,?,?)",
                         (code, app_key, shop_id, self.now() + CODE_TTL))
        return {"code": code, "expires_in": CODE_TTL, "app_key": app_key, "shop_id": shop_id}

    # ------------------------------------------------------------------ tokens
    def _token_data(self, access: str, refresh: str, shop_id: int, access_expires: float) -> dict[str, Any]:
        return {
            "access_token": access,
            "expires_in": max(0, int(access_expires - self.now())),
            "refresh_token": refresh,
            "scope": "SCOPE",
            "shop_id": shop_id,
            "shop_name": self.shop_name(shop_id),
            "authority_id": str(shop_id),
            "auth_subject_type": "MiniShop",
            "encrypt_operator": "",
            "operator_name": "",
            "shop_biz_type": 0,
            "token_type": 0,
        }

    def new_token(self, app_key: str, shop_id: int) -> dict[str, Any]:
        now = self.now()
        access, refresh = str(uuid.uuid4()), str(uuid.uuid4())
        self.store.write(
            "INSERT INTO tokens (access_token, refresh_token, app_key, shop_id, access_expires, refresh_expires, created_at)"
            " VALUES (?,?,?,?,?,?,?)", (access, refresh, app_key, shop_id, now + ACCESS_TTL, now + REFRESH_TTL, now))
        self.store.write("INSERT OR IGNORE INTO app_shops (app_key, shop_id) VALUES (?,?)", (app_key, shop_id))
        return self._token_data(access, refresh, shop_id, now + ACCESS_TTL)

    def token_from_code(self, app_key: str, code: str) -> dict[str, Any]:
        row = self.store.one("SELECT app_key, shop_id, expires_at, used FROM oauth_codes WHERE code=?", (code,))
        if row is None or row[0] != app_key or row[3]:
            raise ApiError(50002, "dop.token-generate-failed:code-invalid", "授权码无效")
        if row[2] <= self.now():
            raise ApiError(50002, "dop.token-generate-failed:code-expired", "授权码已过期")
        self.store.write("UPDATE oauth_codes SET used=1 WHERE code=?", (code,))
        return self.new_token(app_key, row[1])

    def refresh(self, app_key: str, refresh_token: str) -> dict[str, Any]:
        """§5.2 table."""
        now = self.now()
        with self.store.write_lock:
            row = self.store.one("SELECT access_token, app_key, shop_id, access_expires, refresh_expires FROM tokens"
                                 " WHERE refresh_token=?", (refresh_token,))
            if row is None or row[1] != app_key or row[4] <= now:
                raise ApiError(50002, "isv.business-failed:31009", "refresh_token不存在或已过期")
            access, _, shop_id, access_exp, _ = row
            if now < access_exp - GRACE:
                return self._token_data(access, refresh_token, shop_id, access_exp)
            data = self.new_token(app_key, shop_id)
            if now < access_exp:  # last hour: old pair valid one more hour
                self.store.write("UPDATE tokens SET access_expires=?, refresh_expires=? WHERE access_token=?",
                                 (now + GRACE, now + GRACE, access))
            else:  # after expiry: old pair dies
                self.store.write("DELETE FROM tokens WHERE access_token=?", (access,))
            return data

    def check_token(self, app_key: str, access_token: str) -> int:
        row = self.store.one("SELECT app_key, shop_id, access_expires FROM tokens WHERE access_token=?", (access_token,))
        if row is None:
            raise ApiError(40003, "isv.access-token-no-existed", "access_token不存在，请使用最新的access_token访问")
        if row[0] != app_key:
            raise ApiError(40003, "isv.access-token-invalid", "access_token与app_key不匹配")
        if row[2] <= self.now():
            raise ApiError(40003, "isv.access-token-expired", "access_token已过期")
        return row[1]

    # ------------------------------------------------------------------ faults
    def fault_for(self, app_key: str) -> tuple[float, ApiError | None]:
        f = self.faults
        if not f or (f.get("app_key") and f["app_key"] != app_key):
            return 0.0, None
        latency = float(f.get("latency_ms") or 0) / 1000.0
        burst = f.get("throttle_burst")
        if burst:
            every, length = int(burst.get("every_n", 10)), int(burst.get("length", 3))
            i = next(self._fault_counter)
            pos = i % (every + length)
            if length > 0 and (pos == 0 or pos > every):
                return latency, ApiError(60000, "isv.traffic-limited", "请求太频繁，请稍后重试",
                                         msg="请求太频繁，请稍后重试")
        rate = float(f.get("error_rate") or 0)
        if rate and self._fault_rng.random() < rate:
            if self._fault_rng.random() < 0.5:
                return latency, ApiError(20000, "isp.service-error:unknown", "服务不可用，请稍后重试")
            return latency, ApiError(20001, "isp.service-error:timeout", "内部服务超时，请稍后重试")
        return latency, None

    # ------------------------------------------------------------------ orders: read
    def search_orders(self, shop_id: int, *, statuses: list[int] | None, ct: tuple, ut: tuple, order_by: str,
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
        if cached and cached[0] == self.version:
            total = cached[1]
        else:
            version = self.version
            total = self.store.one(f"SELECT COUNT(*) FROM orders WHERE {w}", params)[0]
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
        version = self.version
        if cursor and cursor[0] == version:
            op = ">" if asc else "<"
            sql = (f"SELECT o.payload, k.* FROM (SELECT {cols} FROM orders WHERE {w} AND ({cols}) {op} (?,?,?,?)"
                   f" ORDER BY {order} LIMIT ?) AS k JOIN orders AS o ON o.id = k.id")
            rows = self.store.all(sql, params + list(cursor[1]) + [size])
        else:
            sql = (f"SELECT o.payload, k.* FROM (SELECT {cols} FROM orders WHERE {w} ORDER BY {order}"
                   f" LIMIT ? OFFSET ?) AS k JOIN orders AS o ON o.id = k.id")
            rows = self.store.all(sql, params + [size, page * size])
        if rows and len(rows) == size:
            if len(self._cursor_cache) > 1000:
                self._cursor_cache.clear()
            self._cursor_cache.pop(ckey, None)
            self._cursor_cache[(w, tuple(params), order, size, page + 1)] = (version, rows[-1][1:])
        return total, [r[0] for r in rows]

    def order_payload(self, shop_id: int, order_id: int) -> str | None:
        row = self.store.one("SELECT payload FROM orders WHERE order_id=? AND shop_id=?", (order_id, shop_id))
        return row[0] if row else None

    def order_index(self, shop_id: int) -> list[dict[str, Any]]:
        return [{"order_id": str(o), "update_time": u, "order_status": s} for o, u, s in self.store.all(
            "SELECT order_id, update_time, order_status FROM orders WHERE shop_id=? ORDER BY order_id", (shop_id,))]

    # ------------------------------------------------------------------ orders: write
    def generate(self, shop_id: int, count: int, seed: Any = None, spread_seconds: float = 3 * 86400,
                 profile: str = "steady", at: float | None = None) -> dict[str, Any]:
        shop_id = int(shop_id)
        self.ensure_shop(shop_id)
        existing = self.store.one("SELECT COUNT(*) FROM orders WHERE shop_id=?", (shop_id,))[0]
        base_seed = f"{seed if seed is not None else secrets.token_hex(8)}:{shop_id}:{existing}"
        now = int(at if at is not None else self.now())
        spread = max(0.0, float(spread_seconds))
        push_apps = self.push.apps_for_shop(shop_id)
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
        row = self.store.one("SELECT shop_id, payload FROM orders WHERE order_id=?", (int(order_id),))
        if row is None:
            raise ValueError(f"unknown order {order_id}")
        shop_id, src = row[0], json.loads(row[1])
        rng = random.Random(f"{seed if seed is not None else secrets.token_hex(8)}:{order_id}")
        now = int(self.now())
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
        self._insert_rows(rows, self.push.apps_for_shop(shop_id))
        return {"shop_id": shop_id, "order_ids": ids}

    def _insert_rows(self, rows: list[tuple], push_apps: list[str]) -> int:
        with self.store.write_lock:
            conn = self.store.conn
            before = conn.total_changes
            conn.execute("BEGIN IMMEDIATE")
            try:
                last_id = conn.execute("SELECT COALESCE(MAX(id), 0) FROM orders").fetchone()[0]
                conn.executemany("INSERT OR IGNORE INTO orders (order_id, shop_id, create_time, update_time,"
                                 " order_status, payload) VALUES (?,?,?,?,?,?)", rows)
                n = conn.total_changes - before  # orders only: the stock rows below are not counted
                from .stock import take_new_orders  # late: stock imports the gateway
                take_new_orders(conn, last_id, int(self.now()))  # paid on arrival: the platform stock drops
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self.version += 1
        if push_apps:
            msgs = []
            for r in rows:
                msgs.extend(self.push.messages_for_new_order(json.loads(r[5])))
            for app_key in push_apps:
                self.push.enqueue(app_key, msgs)
        return n

    def _save(self, order: dict[str, Any]) -> None:
        self.store.write("UPDATE orders SET update_time=?, order_status=?, payload=? WHERE order_id=?",
                         (order["update_time"], order["order_status"], gen.dumps(order), int(order["order_id"])))

    def mutate(self, shop_id: int, count: int, seed: Any = None) -> dict[str, Any]:
        shop_id = int(shop_id)
        rng = random.Random(f"mutate:{seed if seed is not None else secrets.token_hex(8)}:{shop_id}:{self.version}")
        ids = [r[0] for r in self.store.all("SELECT order_id FROM orders WHERE shop_id=? AND order_status IN (1,2,105)"
                                            " ORDER BY order_id", (shop_id,))]
        chosen = rng.sample(ids, min(count, len(ids)))
        push_apps = self.push.apps_for_shop(shop_id)
        out = []
        from .stock import order_units, take_units  # late: stock imports the gateway
        with self.store.write_lock:
            conn = self.store.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                for oid in chosen:
                    order = json.loads(conn.execute("SELECT payload FROM orders WHERE order_id=?", (oid,)).fetchone()[0])
                    kind, msgs = self._mutate_one(rng, order)
                    if kind == "paid":  # 1 → 2: the platform stock drops now
                        take_units(conn, order_units(order), order["update_time"])
                    self._save(order)
                    out.append({"order_id": str(oid), "kind": kind, "tags": [m["tag"] for m in msgs],
                                "update_time": order["update_time"], "order_status": order["order_status"]})
                    if push_apps:
                        for app_key in push_apps:
                            self.push.enqueue(app_key, msgs)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self.version += 1
        return {"shop_id": shop_id, "mutated": out}

    def change_order(self, order_id: int, kind: str, seed: Any = None) -> dict[str, Any]:
        """One named change to one order (address, cancel, remark, deadline), pushed like the real thing."""
        if kind not in ("address", "cancel", "remark", "deadline"):
            raise ValueError("kind must be address, cancel, remark or deadline")
        row = self.store.one("SELECT shop_id, payload FROM orders WHERE order_id=?", (int(order_id),))
        if row is None:
            raise ValueError(f"unknown order {order_id}")
        shop_id, order = row[0], json.loads(row[1])
        if order["order_status"] not in (1, 2, 105):
            raise ValueError(f"order {order_id} is in status {order['order_status']}")
        rng = random.Random(f"change:{seed}:{order_id}")
        # The r thresholds of _mutate_one: cancel < 0.2 ≤ remark < 0.5 ≤ address < 0.75 ≤
        # deadline (pushed as 126, or 112 when it becomes an appointment).
        pick = {"cancel": 0.1, "remark": 0.3, "address": 0.6, "deadline": 0.9}[kind]
        with self.store.write_lock:
            kind_done, msgs = self._mutate_one(rng, order, force=pick)
            self._save(order)
            self.version += 1
        for app_key in self.push.apps_for_shop(shop_id):
            self.push.enqueue(app_key, msgs)
        return {"order_id": str(order_id), "kind": kind_done, "update_time": order["update_time"]}

    def _mutate_one(self, rng: random.Random, order: dict[str, Any],
                    force: float | None = None) -> tuple[str, list[dict[str, Any]]]:
        now = int(self.now())
        now = max(now, order["update_time"] + 1)
        order["update_time"] = now
        for s in order["sku_order_list"]:
            s["update_time"] = now
        status = order["order_status"]
        P = self.push
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
            gen.apply_receiver(order, gen.random_receiver(rng))
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


class ProfileRunner:
    """Creates orders in real time following a steady or spike (ramp up / plateau / ramp down) profile."""

    def __init__(self, sb: Sandbox, shop_id: int, profile: str, rate_per_s: float | None, duration_s: float | None):
        self.sb, self.shop_id, self.profile = sb, int(shop_id), profile
        self.rate = float(rate_per_s if rate_per_s is not None else (400 if profile == "spike" else 2))
        self.duration = float(duration_s if duration_s is not None else (180 if profile == "spike" else 3600))
        self.created = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sandbox-profile-{shop_id}", daemon=True)
        self.started_at = time.monotonic()

    def start(self) -> None:
        self._thread.start()

    def rate_at(self, t: float) -> float:
        if self.profile != "spike":
            return self.rate
        f = t / self.duration if self.duration else 1.0
        if f < 0.2:
            return self.rate * (0.05 + 0.95 * f / 0.2)
        if f < 0.6:
            return self.rate
        return self.rate * max(0.05, (1.0 - f) / 0.4)

    def _run(self) -> None:
        tick, acc, seq = 0.25, 0.0, 0
        while not self._stop.wait(tick):
            t = time.monotonic() - self.started_at
            if t > self.duration:
                break
            acc += self.rate_at(t) * tick
            n = int(acc)
            if n:
                acc -= n
                seq += 1
                try:
                    self.created += self.sb.generate(self.shop_id, n, seed=f"profile:{seq}:{time.time_ns()}",
                                                     spread_seconds=0)["inserted"]
                except Exception:  # keep the runner alive; the DB may be closing
                    if self._stop.is_set():
                        break

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)

    def status(self) -> dict[str, Any]:
        return {"shop_id": self.shop_id, "profile": self.profile, "rate_per_s": self.rate,
                "duration_s": self.duration, "created": self.created, "running": self._thread.is_alive()}
