"""The Alembic migrations on SQLite and PostgreSQL: they build the schema the models describe,
and rows written before a migration come through it."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from fahuo.adapters.store import models as m
from fahuo.adapters.store.db import make_engine
from fahuo.adapters.store.migrate import alembic_config


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    url = (f"sqlite:///{tmp_path / 'fahuo.db'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    eng = make_engine(url)
    yield eng
    eng.dispose()


def migrate(engine, to: str, *, down: bool = False) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, to)


def test_the_migrations_build_the_schema_the_models_describe(engine):
    migrate(engine, "head")
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, m.metadata) == []


# intercept_detail as fahuo wrote it before 0012 -> the path 0012 reads from it
OLD_DETAILS = {
    "1": ("requested", "抖音：已提交拦截，费用 3.00 元", "douyin"),
    "2": ("requested", "快递100：已提交拦截（退回寄件地址），抖音不可拦截：该物流公司暂不支持平台拦截",
          "kuaidi100"),
    "3": ("requested", "抖音+快递100：78000000000101 抖音已提交拦截，费用 3.00 元 | "
                       "YT0000000000102 快递100已提交拦截（退回寄件地址）", "douyin+kuaidi100"),
    "4": ("returning", "快递100：拦截成功，包裹正在退回寄件人", "kuaidi100"),
    "5": ("failed", "抖音：拦截未成功，已签收", "douyin"),
    "6": ("requested", "已提交拦截，费用 3.00 元", "douyin"),  # from before Kuaidi100
    "7": ("unavailable", "拦截失败：抖音：该物流公司暂不支持平台拦截；快递100：未配置（…）", ""),
    "8": ("failed", "78000000000101 拦截失败：抖音：平台不可拦截 | YT0000000000102 拦截失败："
                    "快递100：快件已签收，无法拦截（30003）", ""),
    "9": ("offered", "买家已申请退款，包裹仍在途：可拦截", ""),
    "10": ("", "", ""),
}


def test_intercept_via_is_read_once_from_the_old_detail_text(engine):
    migrate(engine, "0011")
    now = int(time.time())
    old = sa.table("after_sales", *(sa.column(c.name) for c in m.after_sales.c
                                     if c.name != "intercept_via"))  # as 0011 left it

    def row(aid: str, state: str, detail: str) -> dict:
        return {"aftersale_id": aid, "shop_ref": ref, "order_id": f"69{aid}",
                "sku_order_ids": "[]", "aftersale_type": 1, "aftersale_status": 6,
                "refund_amount": 0, "stage": "after_ship", "return_company": "",
                "return_tracking_no": "", "intercept_state": state, "intercept_detail": detail,
                "good_qty": 0, "damaged_qty": 0, "update_time": now}

    with engine.begin() as conn:
        ref = conn.execute(m.shops.insert().values(
            shop_id="1001", app_key="k", app_secret_enc="x", gateway_url="http://127.0.0.1:1",
            created_at=now, updated_at=now)).inserted_primary_key[0]
        conn.execute(old.insert(), [row(aid, state, detail)
                                    for aid, (state, detail, _) in OLD_DETAILS.items()])
    migrate(engine, "head")
    a = m.after_sales
    with engine.begin() as conn:
        got = dict(conn.execute(sa.select(a.c.aftersale_id, a.c.intercept_via)).all())
        assert got == {aid: via for aid, (_, _, via) in OLD_DETAILS.items()}
        details = dict(conn.execute(sa.select(a.c.aftersale_id, a.c.intercept_detail)).all())
        assert details == {aid: d for aid, (_, d, _) in OLD_DETAILS.items()}  # text untouched
        conn.execute(old.insert().values(row("11", "", "")))  # a writer unaware of the column
        assert conn.execute(sa.select(a.c.intercept_via).where(
            a.c.aftersale_id == "11")).scalar_one() == ""
    migrate(engine, "0011", down=True)
    assert "intercept_via" not in {c["name"] for c in sa.inspect(engine).get_columns(
        "after_sales")}
    migrate(engine, "head")
