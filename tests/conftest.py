"""Shared fixtures: a fahuo container on SQLite or PostgreSQL, and the sandbox over HTTP."""

from __future__ import annotations

import base64
import os
import uuid
from pathlib import Path

import pytest

REQUIRE_ALL = os.environ.get("FAHUO_REQUIRE_ALL") == "1"
PG_URL = os.environ.get("FAHUO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("FAHUO_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

# The worker module reads settings at import: keep it off the developer's real data folder.
os.environ.setdefault("FAHUO_DATA_DIR", str(Path(os.environ.get("TMPDIR", "/tmp"))
                                           / f"fahuo-test-{os.getpid()}"))


def need_service(name: str, reason: str) -> None:
    """Skip when a real service is missing, except in CI (FAHUO_REQUIRE_ALL=1): fail there."""
    if REQUIRE_ALL:
        pytest.fail(f"{name} is required in this run but unavailable: {reason}")
    pytest.skip(f"{name} unavailable: {reason}")


def _pg_ready() -> str | None:
    try:
        import sqlalchemy as sa
        eng = sa.create_engine(PG_URL)
        with eng.connect() as c:
            c.execute(sa.text("select 1"))
        eng.dispose()
        return None
    except Exception as exc:  # noqa: BLE001
        return str(exc).splitlines()[0]


@pytest.fixture
def pg_url() -> str:
    problem = _pg_ready()
    if problem:
        need_service("PostgreSQL", problem)
    import sqlalchemy as sa
    schema = f"t_{uuid.uuid4().hex[:10]}"
    eng = sa.create_engine(PG_URL)
    with eng.begin() as c:
        c.execute(sa.text(f'create schema "{schema}"'))
    eng.dispose()
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    eng = sa.create_engine(PG_URL)
    with eng.begin() as c:
        c.execute(sa.text(f'drop schema "{schema}" cascade'))
    eng.dispose()


@pytest.fixture
def redis_url() -> str:
    try:
        import redis
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        need_service("Redis", str(exc))
    return REDIS_URL


def make_fahuo(tmp_path: Path, db_url: str | None = None, **overrides):
    from fahuo.adapters.platforms.doudian.client import RetryPolicy
    from fahuo.bootstrap import Fahuo
    from fahuo.config import Settings
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url,
                        secret_key=base64.b64encode(os.urandom(32)).decode(), **overrides)
    app = Fahuo(settings, retry=RetryPolicy(max_attempts=8, initial_wait=0.01, max_wait=0.2))
    app.migrate()
    return app


@pytest.fixture(params=["sqlite", "postgresql"])
def fahuo_any_db(request, tmp_path):
    """The same test on the embedded default and on a real PostgreSQL server."""
    url = None if request.param == "sqlite" else request.getfixturevalue("pg_url")
    app = make_fahuo(tmp_path, url)
    yield app
    app.close()


@pytest.fixture
def fahuo(tmp_path):
    app = make_fahuo(tmp_path)
    yield app
    app.close()


@pytest.fixture
def sandbox_url(tmp_path):
    from fahuo.sandbox.testing import run_sandbox
    with run_sandbox(str(tmp_path / "sandbox.db")) as url:
        yield url


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


@pytest.fixture
def make_order():
    return order_payload
