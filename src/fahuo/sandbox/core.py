"""Sandbox state: clock, apps, tokens, limits, faults, stats; the parts it is made of."""
from __future__ import annotations

import collections
import itertools
import random
import secrets
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from .orders import Orders
from .push import PushManager
from .stock.ledger import SCHEMA as STOCK_SCHEMA
from .store import Store

if TYPE_CHECKING:
    from .profiles import ProfileRunner

ACCESS_TTL = 7 * 86400
REFRESH_TTL = 14 * 86400
CODE_TTL = 600
GRACE = 3600
WINDOW_90D = 90 * 86400


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
        self.netsite_shops: set[int] = set()  # netsites seeded: spares a query per e-waybill call
        self._fault_rng = random.Random(7)
        self._fault_counter = itertools.count(1)
        self._log_seq = itertools.count(1)
        self.apps: dict[str, dict[str, Any]] = {}
        for key, secret, shop_id, qps in self.store.all("SELECT app_key, app_secret, shop_id, qps FROM apps"):
            self.apps[key] = {"app_key": key, "app_secret": secret, "shop_id": shop_id, "qps": qps}
        self.push = PushManager(self)
        self.profiles: dict[int, ProfileRunner] = {}
        self.orders = Orders(self)
        # late: these import the gateway, which imports this module
        from .aftersales.cases import SCHEMA as AFTERSALES_SCHEMA
        from .couriers.service import Couriers
        self.couriers = Couriers(self)
        self.store.conn.executescript(STOCK_SCHEMA)
        self.store.conn.executescript(AFTERSALES_SCHEMA)

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
