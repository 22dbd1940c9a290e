"""Helpers shared by the tests (importable as `support`)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from fahuo.sandbox.testing import serve_in_thread  # noqa: F401 - re-exported for tests

REQUIRE_ALL = os.environ.get("FAHUO_REQUIRE_ALL") == "1"

def order_payload(order_id: str, update_time: int, *, status: int = 2, shop_id: str = "1001",
                  buyer_words: str = "", post_receiver: str = "", lines: int = 1,
                  main_status: int | None = None) -> dict:
    """A shop_order_list[] element in the platform's shape (§6.1)."""
    subs = []
    for i in range(lines):
        sid = order_id if i == 0 else str(int(order_id) + i)
        subs.append({
            "order_id": sid, "parent_order_id": order_id, "product_id": 3600000000000000001,
            "product_id_str": "3600000000000000001", "sku_id": 1700000000000 + i, "item_num": 2,
            "code": f"TEE-RED-{i}", "product_name": "纯棉T恤", "spec": [{"name": "颜色", "value": "红"}],
            "pay_amount": 4900, "order_status": status, "pre_sale_type": 0,
            "after_sale_info": {"after_sale_status": 0, "after_sale_type": 0, "refund_status": 0},
            "exp_ship_time": update_time + 86400,
        })
    return {
        "order_id": order_id, "shop_id": int(shop_id), "order_status": status,
        "main_status": main_status if main_status is not None else status,
        "create_time": update_time - 100, "pay_time": update_time - 90,
        "update_time": update_time, "exp_ship_time": update_time + 86400,
        "order_amount": 9800, "pay_amount": 9800, "post_amount": 0,
        "buyer_words": buyer_words, "seller_words": "", "seller_remark_stars": 0,
        "encrypt_post_receiver": "##E1ZmFrZWNpcGhlcg==#1##", "encrypt_post_tel": "$$E2MTM4$1$$",
        "mask_post_receiver": "张*", "mask_post_tel": "138****5678",
        "mask_post_addr": "浙江省杭州市西湖区****",
        "post_receiver": post_receiver, "post_tel": "",
        "post_addr": {"province": {"id": "33", "name": "浙江省"},
                      "city": {"id": "3301", "name": "杭州市"},
                      "town": {"id": "330106", "name": "西湖区"},
                      "street": {"id": "", "name": "文新街道"},
                      "detail": "文***号", "encrypt_detail": "##E3ZGV0YWls#1##"},
        "doudian_open_id": "1@#buyer", "sku_order_list": subs, "logistics_info": [],
    }


class SandboxAdmin:
    """The sandbox's unsigned admin API, as a merchant rehearsing a promotion would use it."""

    def __init__(self, base_url: str) -> None:
        import httpx
        self.url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=120)

    def _ok(self, r):
        assert r.status_code == 200, r.text
        return r.json()

    def new_app(self, **kw):
        return self._ok(self.http.post("/sandbox/apps", json=kw))

    def generate(self, shop_id, count, **kw):
        return self._ok(self.http.post("/sandbox/orders/generate",
                                       json={"shop_id": shop_id, "count": count, **kw}))

    def mutate(self, shop_id, count, **kw):
        return self._ok(self.http.post("/sandbox/orders/mutate",
                                       json={"shop_id": shop_id, "count": count, **kw}))

    def index(self, shop_id) -> dict[str, int]:
        rows = self._ok(self.http.get("/sandbox/orders/index", params={"shop_id": shop_id}))
        return {r["order_id"]: r["update_time"] for r in rows}

    def faults(self, **kw):
        return self._ok(self.http.post("/sandbox/faults", json=kw))

    def push_config(self, app_key, url, **kw):
        return self._ok(self.http.post("/sandbox/push/config",
                                       json={"app_key": app_key, "url": url, **kw}))

    def stats(self):
        return self._ok(self.http.get("/sandbox/stats"))


def connect_sandbox_shop(app, sandbox: SandboxAdmin, *, fahuo_qps: float | None = None,
                         **app_kw) -> tuple[int, dict]:
    """A sandbox app + shop, added to fahuo the way a merchant adds a real one."""
    from fahuo.services.shops import NewShop, add_shop
    creds = sandbox.new_app(**app_kw)
    with app.uow() as uow:
        ref = add_shop(uow, NewShop(shop_id=str(creds["shop_id"]), app_key=creds["app_key"],
                                    app_secret=creds["app_secret"], gateway_url=sandbox.url,
                                    rate_qps=fahuo_qps))
    return ref, creds


def make_fahuo(tmp_path: Path, db_url: str | None = None, **overrides):
    from fahuo.adapters.platforms.doudian.client import RetryPolicy
    from fahuo.bootstrap import Fahuo
    from fahuo.config import Settings
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url,
                        secret_key=base64.b64encode(os.urandom(32)).decode(), **overrides)
    app = Fahuo(settings, retry=RetryPolicy(max_attempts=8, initial_wait=0.01, max_wait=0.2))
    app.migrate()
    return app


def ready_to_ship(app, sandbox: SandboxAdmin, **app_kw) -> tuple[int, dict]:
    """A sandbox shop with its address book, e-waybill accounts and sender set in fahuo."""
    from fahuo.services.settings import refresh_from_platform, update_settings
    ref, creds = connect_sandbox_shop(app, sandbox, **app_kw)
    refresh_from_platform(app.uow, app.platform_for, ref)
    # Only SF reaches every part of Tibet in the sandbox: without this rule a test whose
    # random buyer lives in 阿里 would see an (honest) out-of-range hold.
    update_settings(app.uow, ref, {"sender_name": "王仓管", "sender_phone": "13800000000",
                                   "default_courier": "zhongtong", "courier_rules": [
                                       {"name": "西藏走顺丰", "courier_code": "shunfeng",
                                        "provinces": ["西藏自治区"]}]}, actor="test")
    return ref, creds


def need_service(name: str, reason: str) -> None:
    """Skip when a real service is missing, except in CI (FAHUO_REQUIRE_ALL=1): fail there."""
    if REQUIRE_ALL:
        pytest.fail(f"{name} is required in this run but unavailable: {reason}")
    pytest.skip(f"{name} unavailable: {reason}")


