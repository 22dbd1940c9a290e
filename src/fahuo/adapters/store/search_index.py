"""Keeps ``order_search`` current: called where orders and waybills are written.

An order's own terms (``src='o'``) are rewritten whole with each stored version; a tracking
number's (``src='w'``) are added when the number is stored and stay (a recycled number is
still the one the buyer may read out). Terms come from ``domain/search.py``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects import postgresql

from fahuo.domain.search import order_terms, terms

from . import models as m

_SLICE = 500  # ids per statement, below every database's parameter limit


def _insert_terms(conn: Connection, rows: list[dict[str, str]]) -> None:
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        # plain executemany over tuples: the sync's hot path, as the order upsert does
        conn.exec_driver_sql("INSERT OR IGNORE INTO order_search (term, order_id, src) "
                             "VALUES (?, ?, ?)",
                             [(r["term"], r["order_id"], r["src"]) for r in rows])
        return
    ins = postgresql.insert(m.order_search).on_conflict_do_nothing(
        index_elements=["term", "order_id"])
    conn.execute(ins, rows)


def terms_of(order: Mapping[str, Any], subs: Iterable[Mapping[str, Any]]) -> set[str]:
    return order_terms(
        order_id=str(order["order_id"]), name_mask=order.get("receiver_name_mask") or "",
        phone_mask=order.get("receiver_phone_mask") or "",
        buyer_words=order.get("buyer_words") or "", seller_words=order.get("seller_words") or "",
        lines=[(str(s["sku_order_id"]), s.get("merchant_code") or "", s.get("sku_id") or "",
                s.get("product_name") or "") for s in subs])


def reindex_orders(conn: Connection, orders: Sequence[Mapping[str, Any]],
                   subs: Sequence[Mapping[str, Any]]) -> None:
    """The orders' own terms as these rows (order rows and all their sub-order rows) say."""
    if not orders:
        return
    by_order: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for s in subs:
        by_order[str(s["order_id"])].append(s)
    ids = [str(o["order_id"]) for o in orders]
    for i in range(0, len(ids), _SLICE):
        conn.execute(delete(m.order_search).where(
            m.order_search.c.order_id.in_(ids[i:i + _SLICE]), m.order_search.c.src == "o"))
    rows = [{"term": t, "order_id": str(o["order_id"]), "src": "o"}
            for o in orders for t in sorted(terms_of(o, by_order[str(o["order_id"])]))]
    _insert_terms(conn, rows)


def index_track_nos(conn: Connection, pack_numbers: Sequence[tuple[int, str]]) -> None:
    """Tracking numbers (pack id, number) as terms of every order on the pack."""
    if not pack_numbers:
        return
    pack_ids = sorted({p for p, _ in pack_numbers})
    orders_of: dict[int, set[str]] = defaultdict(set)
    pl = m.pack_lines
    for i in range(0, len(pack_ids), _SLICE):
        for pid, oid in conn.execute(select(pl.c.pack_id, pl.c.order_id).where(
                pl.c.pack_id.in_(pack_ids[i:i + _SLICE]))):
            orders_of[pid].add(oid)
    packs = m.packs
    for i in range(0, len(pack_ids), _SLICE):  # a pack may be an order's without lines yet
        for pid, oid in conn.execute(select(packs.c.id, packs.c.main_order_id).where(
                packs.c.id.in_(pack_ids[i:i + _SLICE]))):
            orders_of[pid].add(oid)
    rows = [{"term": t, "order_id": oid, "src": "w"}
            for pid, no in pack_numbers for oid in sorted(orders_of[pid])
            for t in sorted(terms(no))]
    _insert_terms(conn, rows)


def backfill(conn: Connection, batch: int = 2000) -> int:
    """Every stored order's and tracking number's terms (migration 0024). Returns orders."""
    o, s, w = m.orders, m.sub_orders, m.waybills
    cols = [o.c.order_id, o.c.receiver_name_mask, o.c.receiver_phone_mask, o.c.buyer_words,
            o.c.seller_words]
    done, last = 0, ""
    while True:
        rows = [dict(r._mapping) for r in conn.execute(
            select(*cols).where(o.c.order_id > last).order_by(o.c.order_id).limit(batch))]
        if not rows:
            break
        ids = [r["order_id"] for r in rows]
        subs = [dict(r._mapping) for r in conn.execute(
            select(s.c.order_id, s.c.sku_order_id, s.c.merchant_code, s.c.sku_id,
                   s.c.product_name).where(s.c.order_id.in_(ids)))]
        reindex_orders(conn, rows, subs)
        done += len(rows)
        last = ids[-1]
    last_pack = -1
    while True:
        nums = conn.execute(select(w.c.pack_id, w.c.track_no).where(w.c.pack_id > last_pack)
                            .order_by(w.c.pack_id).limit(batch)).all()
        if not nums:
            break
        # a pack's numbers all in one slice: continue after the last pack seen whole
        top = nums[-1][0]
        if len(nums) == batch and nums[0][0] != top:
            nums = [n for n in nums if n[0] != top]
            top = nums[-1][0]
        index_track_nos(conn, [(int(p), str(n)) for p, n in nums])
        last_pack = top
    return done
