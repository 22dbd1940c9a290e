"""The scans' store on SQLite and PostgreSQL: a day's counts over [start, end), each parcel
once, per person and in total, refusals apart; the recent list newest first and capped."""

from __future__ import annotations

import time

from sqlalchemy import update

from fahuo.adapters.store import models as m
from fahuo.services.orders import store_platform_orders
from fahuo.services.shops import NewShop, add_shop

NOW = int(time.time())
DAY = 1_700_000_000  # any epoch second serves as a day's start here: the store takes bounds


def _packs(app, make_order, n: int) -> list[int]:
    with app.uow() as u:
        ref = add_shop(u, NewShop(shop_id="1001", app_key="3409409348479354011",
                                  app_secret="s", gateway_url="http://127.0.0.1:1"))
        ids = [str(6900000000000000000 + i * 100) for i in range(n)]
        store_platform_orders(u, ref, [make_order(oid, NOW - 100) for oid in ids])
        pids = []
        for oid in ids:
            order = u.pipeline.load_orders([oid])[oid][2]
            pid = u.pipeline.add_pack(
                {"shop_ref": ref, "kind": "whole", "state": "planned", "main_order_id": oid,
                 "platform_pack_id": "", "courier_code": "zhongtong", "request_id": f"r{oid}",
                 "exp_ship_time": order.exp_ship_time},
                [{"order_id": oid, "sku_order_id": s.sku_order_id, "quantity": s.quantity}
                 for s in order.sub_orders])
            u.conn.execute(update(m.packs).where(m.packs.c.id == pid).values(
                state="confirmed", track_no=f"78{pid:011d}"))
            pids.append(pid)
    return pids


def _add(u, at: int, actor: str, pack_id: int | None, ok: bool, code: str = "") -> None:
    u.scans.add(at=at, actor=actor, code=code or f"C{at}", pack_id=pack_id,
                courier_code="zhongtong" if pack_id else "", order_ids=["o1", "o2"][:1],
                verdict="shipped" if ok else "intercepted", ok=ok,
                message="发货成功" if ok else "拦截！不要发货")


def test_day_counts_bounds_distinct_parcels_and_refusals(fahuo_any_db, make_order):
    app = fahuo_any_db
    p = _packs(app, make_order, 3)
    end = DAY + 86400
    with app.uow() as u:
        _add(u, DAY - 1, "王", p[0], True)  # the day before: not counted
        _add(u, DAY, "王", p[0], True)  # the first second of the day counts
        _add(u, DAY + 10, "王", p[0], True)  # the same parcel again: still one
        _add(u, DAY + 20, "李", p[0], True)  # at the other desk: one for 李, none more in total
        _add(u, DAY + 30, "李", p[1], True)
        _add(u, DAY + 40, "李", p[2], False)  # stopped: a refusal, not a parcel let go
        _add(u, DAY + 50, "王", None, False)  # a number nobody has
        _add(u, end, "王", p[2], True)  # the next day's first second: not counted
    with app.uow(readonly=True) as u:
        assert u.scans.day_counts(DAY, end, "王") == {"mine": 1, "total": 2, "refused": 2}
        assert u.scans.day_counts(DAY, end, "李") == {"mine": 2, "total": 2, "refused": 2}
        assert u.scans.day_counts(end, end + 86400, "王") == {"mine": 1, "total": 1,
                                                              "refused": 0}


def test_recent_is_newest_first_and_capped(fahuo_any_db, make_order):
    app = fahuo_any_db
    [pid] = _packs(app, make_order, 1)
    with app.uow() as u:
        for i in range(25):
            _add(u, DAY + i, "王", pid if i % 2 else None, bool(i % 2), code=f"N{i:02d}")
        _add(u, DAY + 24, "李", None, False, code="SAME-SECOND")  # a tie: the later row first
    with app.uow(readonly=True) as u:
        rows = u.scans.recent(20)
        assert len(rows) == 20
        assert [r["code"] for r in rows] == ["SAME-SECOND"] + [f"N{i:02d}"
                                                              for i in range(24, 5, -1)]
        assert rows[1]["order_ids"] == ["o1"] and rows[1]["ok"] is False
        assert rows[2]["pack_id"] == pid and rows[2]["ok"] is True
        assert rows[2]["message"] == "发货成功" and rows[1]["message"] == "拦截！不要发货"
        assert len(u.scans.recent(5)) == 5
