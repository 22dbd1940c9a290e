"""Queries of the auto-ship pipeline: settings, holds, packs, waybills, ship jobs."""

from __future__ import annotations

import dataclasses
import json
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from fahuo.adapters.crypto import SecretBox
from fahuo.domain.aftersales import MONEY_BACK, REFUND_UNSHIPPED, SUCCEEDED
from fahuo.domain.jobs import JOB, JOB_ITEM, JobItemState, JobState
from fahuo.domain.lifecycle import StateMove
from fahuo.domain.orders import ORDER, Order, OrderState, Receiver, SubOrder
from fahuo.domain.packs import PACK, PackState
from fahuo.domain.waybills import WAYBILL, WaybillState

from . import models as m
from . import search_index
from .print_queries import PrintQueries
from .repositories import new_id
from .states import current_states, move_rows


def _now() -> int:
    return int(time.time())


def _insert(conn: Connection, table):
    return sqlite.insert(table) if conn.dialect.name == "sqlite" else postgresql.insert(table)


def _lock(conn: Connection, q):
    """Row locks on PostgreSQL, in primary-key order (no deadlocks); SQLite has one writer.
    The order every writer follows is in docs/architecture.md ("Locks"): orders by order_id
    across shops, then packs by id, then stock items by id."""
    return q.with_for_update() if conn.dialect.name == "postgresql" else q


SETTINGS_JSON = ("audit_rules", "courier_rules", "cost_table", "split_rules", "sku_facts", "watch_rules")


class SettingsRepository:
    def __init__(self, conn: Connection, box: SecretBox) -> None:
        self.conn, self.box = conn, box

    def get(self, shop_ref: int) -> dict[str, Any]:
        row = self.conn.execute(select(m.shop_settings).where(
            m.shop_settings.c.shop_ref == shop_ref)).first()
        if row is None:
            return {"shop_ref": shop_ref, "default_courier": None, "confirm_mode": "on_print",
                    "label_receiver": "masked", "zpl_font": "E:SIMSUN.TTF",
                    "refund_policy": "block", "merge_window_s": 0, "ship_from_address_id": None,
                    "sender_name": "", "sender_phone": "", "audit_rules": {},
                    "courier_rules": [], "cost_table": {}, "split_rules": {}, "sku_facts": {},
                    "watch_rules": {}}
        d = dict(row._mapping)
        for k in SETTINGS_JSON:
            d[k] = json.loads(d[k] or ("[]" if k == "courier_rules" else "{}"))
        d["sender_name"] = self.box.decrypt(d.pop("sender_name_enc")) or ""
        d["sender_phone"] = self.box.decrypt(d.pop("sender_phone_enc")) or ""
        return d

    def save(self, shop_ref: int, values: dict[str, Any]) -> None:
        row: dict[str, Any] = {"shop_ref": shop_ref, "updated_at": _now()}
        for k, v in values.items():
            if k in SETTINGS_JSON:
                row[k] = json.dumps(v, ensure_ascii=False)
            elif k == "sender_name":
                row["sender_name_enc"] = self.box.encrypt(v)
            elif k == "sender_phone":
                row["sender_phone_enc"] = self.box.encrypt(v)
            else:
                row[k] = v
        ins = _insert(self.conn, m.shop_settings)
        self.conn.execute(ins.values(**row).on_conflict_do_update(
            index_elements=["shop_ref"], set_={k: ins.excluded[k] for k in row if k != "shop_ref"}))

    def replace_addresses(self, shop_ref: int, addresses: list[dict[str, Any]]) -> None:
        """Platform addresses replace the platform ones; manual ones stay."""
        self.conn.execute(delete(m.ship_from_addresses).where(
            m.ship_from_addresses.c.shop_ref == shop_ref,
            m.ship_from_addresses.c.source == "platform"))
        now = _now()
        rows = [{**{k: v for k, v in a.items() if k != "phone"},
                 "phone_enc": self.box.encrypt(a.get("phone") or ""), "shop_ref": shop_ref,
                 "source": "platform", "updated_at": now} for a in addresses]
        if rows:
            self.conn.execute(m.ship_from_addresses.insert(), rows)

    def save_manual_address(self, shop_ref: int, a: dict[str, Any]) -> None:
        """A ship-from address typed by the merchant; platform refreshes leave it alone."""
        row = {k: v for k, v in a.items() if k != "phone"}
        row.update(phone_enc=self.box.encrypt(a.get("phone") or ""), shop_ref=shop_ref,
                   source="manual", updated_at=_now())
        if row.get("is_default_send"):
            self.conn.execute(update(m.ship_from_addresses).where(
                m.ship_from_addresses.c.shop_ref == shop_ref).values(is_default_send=False))
        ins = _insert(self.conn, m.ship_from_addresses)
        self.conn.execute(ins.values(**row).on_conflict_do_update(
            index_elements=["shop_ref", "address_id"],
            set_={k: ins.excluded[k] for k in row if k not in ("shop_ref", "address_id")}))

    def addresses(self, shop_ref: int) -> list[dict[str, Any]]:
        rows = self.conn.execute(select(m.ship_from_addresses).where(
            m.ship_from_addresses.c.shop_ref == shop_ref).order_by(
            m.ship_from_addresses.c.is_default_send.desc(), m.ship_from_addresses.c.address_id))
        out = []
        for r in rows:
            d = dict(r._mapping)
            d["phone"] = self.box.decrypt(d.pop("phone_enc")) or ""
            out.append(d)
        return out

    def replace_netsites(self, shop_ref: int, sites: list[dict[str, Any]]) -> None:
        now = _now()
        ins = _insert(self.conn, m.netsites)
        for s in sites:
            row = {**s, "shop_ref": shop_ref, "checked_at": now,
                   "sender_address": json.dumps(s.get("sender_address") or [],
                                                ensure_ascii=False)}
            self.conn.execute(ins.values(**row).on_conflict_do_update(
                index_elements=["shop_ref", "courier_code", "netsite_code"],
                set_={k: ins.excluded[k] for k in ("netsite_name", "balance", "company_type",
                                                   "sender_address", "checked_at")}))

    def netsites(self, shop_ref: int | None = None) -> list[dict[str, Any]]:
        q = select(m.netsites).order_by(m.netsites.c.shop_ref, m.netsites.c.courier_code,
                                        m.netsites.c.netsite_code)
        if shop_ref is not None:
            q = q.where(m.netsites.c.shop_ref == shop_ref)
        out = []
        for r in self.conn.execute(q):
            d = dict(r._mapping)
            d["sender_address"] = json.loads(d["sender_address"] or "[]")
            out.append(d)
        return out

    def spend_balance(self, shop_ref: int, courier: str, netsite: str, n: int) -> None:
        """Our own running count between platform checks (the platform stays the truth)."""
        self.conn.execute(update(m.netsites).where(
            m.netsites.c.shop_ref == shop_ref, m.netsites.c.courier_code == courier,
            m.netsites.c.netsite_code == netsite, m.netsites.c.balance.is_not(None)).values(
            balance=m.netsites.c.balance - n))


def _deadline_first(conn: Connection, q: Any, deadline: Any, tie: Any, limit: int) -> list[Any]:
    """Rows of ``q``, earliest deadline first, rows without a deadline last. Two queries an
    index on (state, deadline) can answer in order, instead of one ``NULLS LAST`` sort of
    every matching row: SQLite keeps NULLs first in its indexes, so that sort grew with the
    backlog (40 ms a call at 20,000 synced orders)."""
    rows = list(conn.execute(q.where(deadline.is_not(None)).order_by(deadline, tie)
                             .limit(limit)))
    if len(rows) < limit:
        rows += conn.execute(q.where(deadline.is_(None)).order_by(tie)
                             .limit(limit - len(rows))).all()
    return rows


def _dicts(result: Any) -> list[dict[str, Any]]:
    """Rows as plain dicts: the keys zipped in once (``Row._mapping`` builds a view per row,
    which is most of the cost on the pipeline's thousands of packs)."""
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result]


# What an Order is built from: not the platform's raw payload (kilobytes an order) nor the
# encrypted plain receiver, which the pipeline reads only when it prints.
_ORDER_COLUMNS = [c for c in m.orders.c if c.name not in ("raw", "receiver_plain_enc")]


# A line's columns in SubOrder's own field order: lines are built positionally (they are
# the most numerous objects the pipeline makes).
_SUB_FIELDS = [f.name for f in dataclasses.fields(SubOrder)]


def refunded_units() -> Any:
    """Units of the line refunded before shipment, summed over its cases (a correlated
    subquery on the line's own index: the after-sale sync keeps these, the order sync the
    line, so neither overwrites the other)."""
    al, a = m.after_sale_lines, m.after_sales
    return (select(func.coalesce(func.sum(al.c.units), 0))
            .select_from(al.join(a, a.c.aftersale_id == al.c.aftersale_id))
            .where(al.c.sku_order_id == m.sub_orders.c.sku_order_id,
                   a.c.aftersale_type == REFUND_UNSHIPPED, a.c.aftersale_status == SUCCEEDED,
                   a.c.refund_status == MONEY_BACK)
            .scalar_subquery())


_SUB_COLUMNS = [m.sub_orders.c.order_id,
                *(m.sub_orders.c[name] if name != "refunded_units"
                  else refunded_units().label("refunded_units") for name in _SUB_FIELDS)]


def order_from_rows(row: Any, subs: Sequence[Any]) -> Order:
    r = row
    return Order(
        order_id=r.order_id, shop_id="", order_status=r.order_status, main_status=r.main_status,
        create_time=r.create_time, pay_time=r.pay_time, update_time=r.update_time,
        exp_ship_time=r.exp_ship_time, order_amount=r.order_amount, pay_amount=r.pay_amount,
        post_amount=r.post_amount, buyer_words=r.buyer_words, seller_words=r.seller_words,
        seller_remark_stars=r.seller_remark_stars, presale_type=r.presale_type,
        receiver=Receiver(
            name_cipher=r.receiver_name_cipher, phone_cipher=r.receiver_phone_cipher,
            detail_cipher=r.receiver_detail_cipher, name_mask=r.receiver_name_mask,
            phone_mask=r.receiver_phone_mask, address_mask=r.receiver_address_mask,
            province=r.province, city=r.city, district=r.district, street=r.street),
        sub_orders=[SubOrder(*s[1:]) for s in subs],
        buyer_id=r.buyer_id)


class PipelineRepository:
    """Orders as the pipeline needs them, holds, packs and waybills. Order and pack states
    are written only by ``move_orders`` / ``move_packs`` (``states.move_rows``: checked
    against the lifecycle, conditional on the state moved from, recorded in ``moves``)."""

    def __init__(self, conn: Connection, moves: list[StateMove] | None = None) -> None:
        self.conn = conn
        self.moves: list[StateMove] = [] if moves is None else moves

    # ---- orders ----------------------------------------------------------------------------
    def order_ids_in_state(self, state: str, *, shop_ref: int | None = None,
                           limit: int = 1000) -> list[str]:
        q = select(m.orders.c.order_id).where(m.orders.c.state == state)
        if shop_ref is not None:
            q = q.where(m.orders.c.shop_ref == shop_ref)
        return [r[0] for r in _deadline_first(self.conn, q, m.orders.c.exp_ship_time,
                                              m.orders.c.order_id, limit)]

    def unpacked_in_state(self, state: str, limit: int) -> list[str]:
        """Orders in ``state`` that no live pack carries yet, deadline first. Filtered in SQL:
        orders whose packs wait (say, on a courier that is down) must not fill the window
        and keep new orders from being planned."""
        o, pl, p = m.orders, m.pack_lines, m.packs
        packed = (select(pl.c.order_id).select_from(pl.join(p, p.c.id == pl.c.pack_id))
                  .where(pl.c.order_id == o.c.order_id, p.c.state != "cancelled").exists())
        q = select(o.c.order_id).where(o.c.state == state, ~packed)
        return [r[0] for r in _deadline_first(self.conn, q, o.c.exp_ship_time, o.c.order_id,
                                              limit)]

    def orders_to_audit(self, limit: int) -> list[str]:
        """Synced orders whose current version the audit has not judged yet, deadline first
        (an unpaid order waits in "synced" and is judged again only when it changes)."""
        o = m.orders
        q = select(o.c.order_id).where(o.c.state == "synced", or_(
            o.c.audited_at.is_(None), o.c.synced_at >= o.c.audited_at))
        return [r[0] for r in _deadline_first(self.conn, q, o.c.exp_ship_time, o.c.order_id,
                                              limit)]

    def held_to_reaudit(self, limit: int, judged_before: int) -> list[str]:
        """Held orders to judge again: changed since they were last judged, or last judged
        before ``judged_before`` (time alone clears some holds: a presale comes due)."""
        o = m.orders
        q = select(o.c.order_id).where(o.c.state == "held", or_(
            o.c.audited_at.is_(None), o.c.synced_at >= o.c.audited_at,
            o.c.audited_at < judged_before))
        return [r[0] for r in _deadline_first(self.conn, q, o.c.exp_ship_time, o.c.order_id,
                                              limit)]

    def lock_orders_to_judge(self, order_ids: Sequence[str], held_limit: int,
                             judged_before: int) -> None:
        """The audit's lock: these orders and the held ones ``held_to_reaudit`` will hand
        it, in one statement (no-op on SQLite, whose writer is single)."""
        if self.conn.dialect.name == "postgresql":
            held = self.held_to_reaudit(held_limit, judged_before) if held_limit else []
            self.lock_orders([*order_ids, *held])

    def mark_audited(self, order_ids: Sequence[str]) -> None:
        if order_ids:
            ids = sorted(order_ids)
            self._lock_in_order(m.orders.c.order_id.in_(ids))
            self.conn.execute(update(m.orders).where(
                m.orders.c.order_id.in_(ids)).values(audited_at=_now()))

    def forget_audits(self, shop_ref: int) -> None:
        """The shop's audit rules changed: its waiting and held orders are judged again."""
        which = and_(m.orders.c.shop_ref == shop_ref,
                     m.orders.c.state.in_(("synced", "held")))
        self._lock_in_order(which)
        self.conn.execute(update(m.orders).where(which).values(audited_at=None))

    def _lock_in_order(self, which: Any) -> None:
        """On PostgreSQL, take the rows' locks in order_id order first, as the sync and the
        pipeline do: two writers locking in different orders could deadlock."""
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(select(m.orders.c.order_id).where(which)
                              .order_by(m.orders.c.order_id).with_for_update()).all()

    def lock_orders(self, order_ids: Sequence[str]) -> None:
        """Lock these orders, all shops together, in one statement by ascending order_id:
        the first lock a transaction takes on orders covers every order it will write, so
        later locks only meet rows it holds already (docs/architecture.md, "Locks")."""
        if order_ids:
            self._lock_in_order(m.orders.c.order_id.in_(sorted(set(order_ids))))

    def lock_packs(self, pack_ids: Sequence[int]) -> None:
        """Before packs are written: their orders first (by order_id), then the packs (by
        id). A writer that locks orders and then packs, as most do, and one that starts
        from packs (confirmations, waybills, printing) then take locks in the same order."""
        if not pack_ids or self.conn.dialect.name != "postgresql":
            return
        ids = sorted(set(pack_ids))
        self._lock_in_order(m.orders.c.order_id.in_(
            select(m.pack_lines.c.order_id).where(m.pack_lines.c.pack_id.in_(ids))))
        self.conn.execute(select(m.packs.c.id).where(m.packs.c.id.in_(ids))
                          .order_by(m.packs.c.id).with_for_update()).all()

    def load_orders(self, order_ids: Sequence[str]) -> dict[str, tuple[int, str, Order]]:
        """order_id → (shop_ref, state, Order), in two queries, locked on PostgreSQL."""
        return {oid: (ref, st, order) for oid, (ref, st, _, order)
                in self.load_orders_stamped(order_ids).items()}

    def load_orders_stamped(self, order_ids: Sequence[str]
                            ) -> dict[str, tuple[int, str, tuple[int, int], Order]]:
        """order_id → (shop_ref, state, stamp, Order). The stamp (synced_at, update_time)
        moves whenever a new version is stored (synced_at counts whole seconds, the
        platform's update_time tells two versions of one second apart), so a caller may keep
        the Order and reuse it while the stamp stays."""
        if not order_ids:
            return {}
        rows = self.conn.execute(_lock(self.conn, select(*_ORDER_COLUMNS).where(
            m.orders.c.order_id.in_(list(order_ids))).order_by(m.orders.c.order_id))).all()
        subs: dict[str, list] = defaultdict(list)
        for s in self.conn.execute(select(*_SUB_COLUMNS).where(
                m.sub_orders.c.order_id.in_(list(order_ids))).order_by(
                m.sub_orders.c.sku_order_id)):
            subs[s[0]].append(s)
        return {r.order_id: (r.shop_ref, r.state, (r.synced_at, r.update_time),
                             order_from_rows(r, subs[r.order_id])) for r in rows}

    def order_stamps(self, order_ids: Sequence[str]
                     ) -> dict[str, tuple[int, str, tuple[int, int]]]:
        """order_id → (shop_ref, state, stamp as in load_orders_stamped), locked on
        PostgreSQL like load_orders."""
        if not order_ids:
            return {}
        o = m.orders
        return {r[0]: (r[1], r[2], (r[3], r[4])) for r in self.conn.execute(_lock(
            self.conn, select(o.c.order_id, o.c.shop_ref, o.c.state, o.c.synced_at,
                              o.c.update_time).where(
                o.c.order_id.in_(list(order_ids))).order_by(o.c.order_id)))}

    def waybill_facts(self, order_ids: Sequence[str]) -> tuple[dict[str, Any], dict[str, str]]:
        """What a waybill request needs, without building whole orders: order_id → row of
        state and receiver columns (locked on PostgreSQL), sku_order_id → product name."""
        if not order_ids:
            return {}, {}
        o, s = m.orders, m.sub_orders
        rows = self.conn.execute(_lock(self.conn, select(
            o.c.order_id, o.c.state, o.c.province, o.c.city, o.c.district, o.c.street,
            o.c.receiver_name_cipher, o.c.receiver_phone_cipher, o.c.receiver_detail_cipher,
            o.c.receiver_name_mask, o.c.receiver_phone_mask, o.c.receiver_address_mask,
        ).where(o.c.order_id.in_(list(order_ids))).order_by(o.c.order_id))).all()
        names = dict(self.conn.execute(select(s.c.sku_order_id, s.c.product_name).where(
            s.c.order_id.in_(list(order_ids)))).all())
        return {r.order_id: r for r in rows}, names

    def plain_receivers(self, order_ids: Sequence[str]) -> dict[str, str]:
        """order_id → encrypted plain receiver, for the orders the platform sent it for."""
        if not order_ids:
            return {}
        q = select(m.orders.c.order_id, m.orders.c.receiver_plain_enc).where(
            m.orders.c.order_id.in_(list(order_ids)), m.orders.c.receiver_plain_enc.is_not(None))
        return {r[0]: r[1] for r in self.conn.execute(q)}

    def order_states(self, order_ids: Sequence[str]) -> dict[str, str]:
        """order_id → fahuo state, without loading the orders."""
        if not order_ids:
            return {}
        return dict(self.conn.execute(_lock(self.conn, select(
            m.orders.c.order_id, m.orders.c.state).where(
            m.orders.c.order_id.in_(list(order_ids))).order_by(m.orders.c.order_id))).all())

    def refund_asked(self, order_ids: Sequence[str], statuses: Sequence[int]) -> set[str]:
        """The orders among these with a line whose after-sale is in ``statuses``."""
        if not order_ids:
            return set()
        q = select(m.sub_orders.c.order_id).distinct().where(
            m.sub_orders.c.order_id.in_(list(order_ids)),
            m.sub_orders.c.after_sale_status.in_(list(statuses)))
        return set(self.conn.execute(q).scalars())

    def stock_lines(self, order_ids: Sequence[str]) -> dict[str, tuple[int | None, list[Any]]]:
        """order_id → (deadline, its lines with just what stock needs: sku_order_id,
        merchant_code, quantity, order_status, after_sale_status, refund_status,
        refunded_units). Cheaper than loading
        whole orders, which the pipeline does once per step already."""
        if not order_ids:
            return {}
        s, o = m.sub_orders, m.orders
        out: dict[str, tuple[int | None, list[Any]]] = {
            oid: (exp, []) for oid, exp in self.conn.execute(
                select(o.c.order_id, o.c.exp_ship_time).where(o.c.order_id.in_(list(order_ids))))}
        for r in self.conn.execute(
                select(s.c.order_id, s.c.sku_order_id, s.c.merchant_code, s.c.quantity,
                       s.c.order_status, s.c.after_sale_status, s.c.refund_status,
                       refunded_units().label("refunded_units"))
                .where(s.c.order_id.in_(list(order_ids))).order_by(s.c.sku_order_id)):
            out[r.order_id][1].append(r)
        return out

    def move_orders(self, moves: dict[str, tuple[str, str]]) -> list[str]:
        """Order states, each from the state the caller read to its target: an illegal
        move raises ``IllegalTransition``, a row moved meanwhile ``StaleState``, both before
        anything is written. The orders moved."""
        if not moves:
            return []
        self.lock_orders(list(moves))  # an UPDATE alone locks in whatever order it scans
        return move_rows(self.conn, m.orders, ORDER, moves, self.moves, key="order_id")

    def set_states(self, states: dict[str, str]) -> list[str]:
        """Move each order to its target from the state it is in now (read under its lock),
        as the lifecycle allows: an illegal move raises before anything is written. For
        callers that decide on the target alone (fixtures, tools); the pipeline names the
        state it moves from (``move_orders``)."""
        if not states:
            return []
        self.lock_orders(list(states))
        current = self.order_states(list(states))
        return self.move_orders({oid: (current.get(oid, "(gone)"), st)
                                 for oid, st in states.items()})

    def move_orders_from(self, order_ids: Sequence[str], sources: frozenset[OrderState],
                         target: OrderState) -> list[str]:
        """Move to ``target`` the orders among these that are (still) in one of
        ``sources``, read under their lock; the others stay. The orders moved."""
        if not order_ids:
            return []
        self.lock_orders(order_ids)
        return self.move_orders(ORDER.moves_to(self.order_states(order_ids), target, sources))

    # ---- holds ----------------------------------------------------------------------------
    def add_holds(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            now = _now()
            self.conn.execute(m.order_holds.insert(), [{**r, "created_at": now} for r in rows])

    def open_holds(self, order_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        if not order_ids:
            return out
        for r in self.conn.execute(select(m.order_holds).where(
                m.order_holds.c.order_id.in_(list(order_ids)),
                m.order_holds.c.released_at.is_(None)).order_by(m.order_holds.c.id)):
            out[r.order_id].append(dict(r._mapping))
        return out

    def release_holds(self, order_ids: Sequence[str], by: str,
                      reasons: Sequence[str] | None = None) -> int:
        q = update(m.order_holds).where(m.order_holds.c.order_id.in_(list(order_ids)),
                                        m.order_holds.c.released_at.is_(None))
        if reasons:
            q = q.where(m.order_holds.c.reason.in_(list(reasons)))
        return self.conn.execute(q.values(released_at=_now(), released_by=by)).rowcount

    def held_orders(self, shop_ref: int | None = None, limit: int = 200,
                    reason: str | None = None) -> list[dict[str, Any]]:
        """Held orders, deadline first, with their open holds; ``reason``: only those held
        (among others) for it."""
        q = (select(m.orders.c.order_id, m.orders.c.shop_ref, m.orders.c.exp_ship_time,
                    m.orders.c.receiver_name_mask, m.orders.c.province, m.orders.c.city,
                    m.orders.c.buyer_words, m.orders.c.seller_words)
             .where(m.orders.c.state == "held")
             .order_by(m.orders.c.exp_ship_time.asc().nulls_last(), m.orders.c.order_id)
             .limit(limit))
        if shop_ref is not None:
            q = q.where(m.orders.c.shop_ref == shop_ref)
        if reason:
            h = m.order_holds
            q = q.where(m.orders.c.order_id.in_(select(h.c.order_id).where(
                h.c.reason == reason, h.c.released_at.is_(None))))
        rows = [dict(r._mapping) for r in self.conn.execute(q)]
        holds = self.open_holds([r["order_id"] for r in rows])
        for r in rows:
            r["holds"] = holds.get(r["order_id"], [])
        return rows

    # ---- packs ----------------------------------------------------------------------------
    def add_pack(self, pack: dict[str, Any], lines: list[dict[str, Any]]) -> int:
        return self.add_packs([(pack, lines)])[0]

    def add_packs(self, packs: Sequence[tuple[dict[str, Any], list[dict[str, Any]]]]
                  ) -> list[int]:
        """Many packs and their lines in a few statements; the new pack ids, in order. The
        packs go in with a plain executemany and their ids are read back by their platform
        key (unique), which costs SQLite far less than ``INSERT … RETURNING`` row sets."""
        if not packs:
            return []
        now = _now()
        rows = [{**p, "created_at": now, "updated_at": now} for p, _ in packs]
        for row in rows:  # a known state; the services create planned or manual ones
            PackState(row["state"])
        by_shape: dict[frozenset[str], list[dict[str, Any]]] = defaultdict(list)
        for row in rows:  # one executemany needs one set of keys
            by_shape[frozenset(row)].append(row)
        for same in by_shape.values():
            self.conn.execute(m.packs.insert(), same)
        p = m.packs
        mains = sorted({r["main_order_id"] for r in rows})
        got: dict[tuple[str, str], int] = {}
        for i in range(0, len(mains), 500):
            got.update({(a, b): pid for pid, a, b in self.conn.execute(
                select(p.c.id, p.c.main_order_id, p.c.platform_pack_id).where(
                    p.c.main_order_id.in_(mains[i:i + 500])))})
        ids = [got[(r["main_order_id"], r.get("platform_pack_id", ""))] for r in rows]
        line_rows = [{**ln, "pack_id": pid} for pid, (_, lines) in zip(ids, packs, strict=True) for ln in lines]
        if line_rows:
            self.conn.execute(m.pack_lines.insert(), line_rows)
        self.moves.extend(StateMove("pack", str(pid), None, str(r["state"]))
                          for pid, r in zip(ids, rows, strict=True))
        return ids

    def held_for(self, reason: str, limit: int = 2000) -> list[str]:
        """Held orders with an open hold of this reason, deadline first."""
        o, h = m.orders, m.order_holds
        held = (select(h.c.id).where(h.c.order_id == o.c.order_id, h.c.reason == reason,
                                     h.c.released_at.is_(None)).exists())
        q = (select(o.c.order_id).where(o.c.state == "held", held)
             .order_by(o.c.exp_ship_time.asc().nulls_last(), o.c.order_id).limit(limit))
        return list(self.conn.execute(q).scalars())

    def open_after_sale_orders(self, states: Sequence[str], statuses: Sequence[int],
                               limit: int = 2000) -> list[str]:
        """Orders in these fahuo states with a line whose after-sale is open (a refund asked)."""
        o, s = m.orders, m.sub_orders
        q = (select(o.c.order_id).distinct().select_from(o.join(s, s.c.order_id == o.c.order_id))
             .where(o.c.state.in_(list(states)), s.c.after_sale_status.in_(list(statuses)))
             .order_by(o.c.order_id).limit(limit))
        return list(self.conn.execute(q).scalars())

    def packs_in_state(self, states: Sequence[str], *, shop_ref: int | None = None,
                       limit: int = 1000) -> list[dict[str, Any]]:
        q = select(m.packs).where(m.packs.c.state.in_(list(states)))
        if shop_ref is not None:
            q = q.where(m.packs.c.shop_ref == shop_ref)
        keys = [c.name for c in m.packs.c]
        return [dict(zip(keys, row, strict=True)) for row in _deadline_first(
            self.conn, q, m.packs.c.exp_ship_time, m.packs.c.id, limit)]

    def packs_by_ids(self, pack_ids: Sequence[int]) -> list[dict[str, Any]]:
        if not pack_ids:
            return []
        q = select(m.packs).where(m.packs.c.id.in_(list(pack_ids))).order_by(m.packs.c.id)
        return _dicts(self.conn.execute(q))

    def pack_by_track_no(self, track_no: str) -> dict[str, Any] | None:
        row = self.conn.execute(select(m.packs).where(m.packs.c.track_no == track_no).order_by(
            m.packs.c.id.desc())).first()
        return dict(row._mapping) if row else None

    def packs_by_track_nos(self, track_nos: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The newest pack per tracking number (a recycled number may have an older pack)."""
        if not track_nos:
            return {}
        q = (select(m.packs).where(m.packs.c.track_no.in_(sorted(set(track_nos))))
             .order_by(m.packs.c.id))
        return {r.track_no: dict(r._mapping) for r in self.conn.execute(q)}  # last wins

    def packs_of_orders(self, order_ids: Sequence[str]) -> list[dict[str, Any]]:
        if not order_ids:
            return []
        ids = select(m.pack_lines.c.pack_id).where(m.pack_lines.c.order_id.in_(list(order_ids)))
        q = select(m.packs).where(m.packs.c.id.in_(ids)).order_by(m.packs.c.id)
        return _dicts(self.conn.execute(q))

    def boxes_not_unpacked(self, limit: int = 200) -> list[dict[str, Any]]:
        """Packs whose label was printed (the goods went into a box) that did not leave, will
        not leave as they are (cancelled, stale, failed) or wait held, and that nobody has
        unpacked yet; newest first."""
        p, o, pl = m.packs, m.orders, m.pack_lines
        printed = select(m.print_records.c.pack_id).where(m.print_records.c.kind == "labels")
        held = select(pl.c.pack_id).select_from(pl.join(o, o.c.order_id == pl.c.order_id)).where(
            o.c.state.in_(("held", "cancelled", "refunded")))
        q = (select(p).where(p.c.id.in_(printed), p.c.state != "confirmed",
                             p.c.unpacked_at.is_(None),
                             or_(p.c.state.in_(("cancelled", "stale", "failed")),
                                 p.c.id.in_(held)))
             .order_by(p.c.id.desc()).limit(limit))
        return _dicts(self.conn.execute(q))

    def lines(self, pack_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        out: dict[int, list[dict[str, Any]]] = defaultdict(list)
        if not pack_ids:
            return out
        for d in _dicts(self.conn.execute(select(m.pack_lines).where(
                m.pack_lines.c.pack_id.in_(list(pack_ids))).order_by(
                m.pack_lines.c.pack_id, m.pack_lines.c.sku_order_id))):
            out[d["pack_id"]].append(d)
        return out

    def update_pack(self, pack_id: int, **values: Any) -> None:
        self.update_packs([pack_id], **values)

    def update_packs(self, pack_ids: Sequence[int], **values: Any) -> None:
        """Columns of packs. A ``state`` among them moves each pack from the state it is in
        now, as the lifecycle allows (``move_packs``; an illegal move raises first)."""
        if "state" in values and pack_ids:
            target = values.pop("state")
            self.lock_packs(pack_ids)
            current = self.pack_states(pack_ids)
            self.move_packs({pid: (current.get(pid, "(gone)"), target) for pid in pack_ids})
        if pack_ids and values:
            self.lock_packs(pack_ids)
            self.conn.execute(update(m.packs).where(m.packs.c.id.in_(list(pack_ids))).values(
                **values, updated_at=_now()))

    def pack_states(self, pack_ids: Sequence[int]) -> dict[int, str]:
        """pack id → state, as stored now (lock them first with ``lock_packs``)."""
        return current_states(self.conn, m.packs.c.id, m.packs.c.state, list(pack_ids))

    def move_packs(self, moves: dict[int, tuple[str, str]], **values: Any) -> list[int]:
        """Pack states, as ``move_orders`` (checked, conditional, recorded); ``values``
        are written with each pack moved. The packs moved."""
        if not moves:
            return []
        self.lock_packs(list(moves))
        return move_rows(self.conn, m.packs, PACK, moves, self.moves, updated_at=_now(),
                         **values)

    def move_packs_from(self, pack_ids: Sequence[int], sources: frozenset[PackState],
                        target: PackState, **values: Any) -> list[int]:
        """Move to ``target`` the packs among these that are (still) in one of
        ``sources``, read under their lock; the others stay. The packs moved."""
        if not pack_ids:
            return []
        self.lock_packs(pack_ids)
        return self.move_packs(PACK.moves_to(self.pack_states(pack_ids), target, sources),
                               **values)

    def set_packs_taken(self, rows: list[dict[str, Any]]) -> list[int]:
        """Packs got their e-waybill numbers: rows of id, track_no, sort_code, short_address,
        package_center, written on every pack (a number must never be lost: recycle gives
        back the number of a pack voided meanwhile); the packs still pending move to
        waybill_taken, last_error cleared. The packs moved."""
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        self.lock_packs(ids)
        cols = ("track_no", "sort_code", "short_address", "package_center")
        stmt = update(m.packs).where(m.packs.c.id == bindparam("k_id")).values(
            updated_at=_now(), **{c: bindparam(f"k_{c}") for c in cols})
        self.conn.execute(stmt, [{"k_id": r["id"], **{f"k_{c}": r[c] for c in cols}}
                                 for r in rows])
        return self.move_packs_from(ids, frozenset({PackState.WAYBILL_PENDING}),
                                    PackState.WAYBILL_TAKEN, last_error=None)

    def pack_counts(self) -> dict[str, int]:
        q = select(m.packs.c.state, func.count()).group_by(m.packs.c.state)
        return {s: n for s, n in self.conn.execute(q)}

    # ---- waybills -------------------------------------------------------------------------
    def add_waybills(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            for r in rows:
                WAYBILL.check_new((r["courier_code"], r["track_no"]), r["status"])
            ins = _insert(self.conn, m.waybills)
            self.conn.execute(ins.on_conflict_do_nothing(
                index_elements=["courier_code", "track_no"]), [{**r, "taken_at": _now()}
                                                               for r in rows])
            # the orders are found by their tracking numbers (the search box)
            search_index.index_track_nos(self.conn, [(int(r["pack_id"]), str(r["track_no"]))
                                                     for r in rows])

    def move_waybills(self, keys: Sequence[tuple[str, str]], target: WaybillState
                      ) -> list[tuple[str, str]]:
        """The live numbers among these (courier, number) become ``target`` (used, recycled,
        unused); the others stay as they are (a number is used or given back once). The
        numbers moved."""
        if not keys:
            return []
        w = m.waybills
        current = current_states(self.conn, [w.c.courier_code, w.c.track_no], w.c.status,
                                 [(c, no) for c, no in keys])
        moves = WAYBILL.moves_to(current, target, {WaybillState.LIVE})
        values = {"recycled_at": _now()} if target is WaybillState.RECYCLED else {}
        return move_rows(self.conn, w, WAYBILL, moves, self.moves,
                         key=("courier_code", "track_no"), state="status", **values)

    def waybill_counts(self, shop_ref: int | None = None) -> dict[str, int]:
        q = select(m.waybills.c.status, func.count()).group_by(m.waybills.c.status)
        if shop_ref is not None:
            q = q.where(m.waybills.c.shop_ref == shop_ref)
        return {s: n for s, n in self.conn.execute(q)}

    # ---- ship jobs ------------------------------------------------------------------------
    # A job's and its rows' ``status`` are written only here, through their lifecycles
    # (``domain/jobs``): made in an initial state, then moved by ``move_rows``.
    def add_job(self, **values: Any) -> int:
        status = JOB.check_new("(new)", values.pop("status", JobState.RUNNING))
        res = self.conn.execute(m.ship_jobs.insert().values(**values, status=status.value,
                                                            created_at=_now()))
        job_id = new_id(res)
        self.moves.append(StateMove(JOB.kind, str(job_id), None, status.value))
        return job_id

    def add_job_items(self, job_id: int, items: list[dict[str, Any]]) -> None:
        # every row with every column: a batch mixes rows with a number and rows without,
        # and one INSERT of many rows needs the same keys in each
        rows = [{"order_id": "", "courier_code": "", "track_no": "", "message": "", **i,
                 "job_id": job_id, "status": JOB_ITEM.check_new(
            (job_id, i["line_no"]), i["status"]).value} for i in items]
        if rows:
            self.conn.execute(m.ship_job_items.insert(), rows)
            self.moves.extend(StateMove(JOB_ITEM.kind, str((job_id, r["line_no"])), None,
                                        r["status"]) for r in rows)

    def finish_job(self, job_id: int, **values: Any) -> None:
        """running → done, with the job's counts (``values``); raises if it is not running."""
        move_rows(self.conn, m.ship_jobs, JOB, {job_id: (JobState.RUNNING, JobState.DONE)},
                  self.moves, state="status", **values)

    def settle_job_item(self, job_id: int, line_no: int, target: JobItemState,
                        message: str = "") -> None:
        """A pending row shipped or failed (with its reason); raises if it is not pending."""
        move_rows(self.conn, m.ship_job_items, JOB_ITEM,
                  {(job_id, line_no): (JobItemState.PENDING, target)}, self.moves,
                  key=("job_id", "line_no"), state="status", message=message)

    def job(self, job_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(select(m.ship_jobs).where(m.ship_jobs.c.id == job_id)).first()
        if row is None:
            return None
        d = dict(row._mapping)
        d["items"] = [dict(r._mapping) for r in self.conn.execute(
            select(m.ship_job_items).where(m.ship_job_items.c.job_id == job_id).order_by(
                m.ship_job_items.c.line_no))]
        return d

    def jobs(self, limit: int = 50) -> list[dict[str, Any]]:
        q = select(m.ship_jobs).order_by(m.ship_jobs.c.id.desc()).limit(limit)
        return [dict(r._mapping) for r in self.conn.execute(q)]

    def job_by_fingerprint(self, fingerprint: str) -> dict[str, Any] | None:
        row = self.conn.execute(select(m.ship_jobs.c.id).where(
            m.ship_jobs.c.fingerprint == fingerprint, m.ship_jobs.c.status == JobState.DONE.value)).first()
        return self.job(row.id) if row else None


class PrintRepository(PrintQueries):
    """Print batches and who printed which pack when (which packs may print: print_queries)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def batch_for_selection(self, selection_key: str) -> dict[str, Any] | None:
        row = self.conn.execute(select(m.print_batches).where(
            m.print_batches.c.selection_key == selection_key,
            m.print_batches.c.reprint_of.is_(None)).order_by(m.print_batches.c.id)).first()
        return None if row is None else self._batch(row)

    def batch(self, batch_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(select(m.print_batches).where(
            m.print_batches.c.id == batch_id)).first()
        return None if row is None else self._batch(row)

    @staticmethod
    def _batch(row: Row[Any]) -> dict[str, Any]:
        d = dict(row._mapping)
        d["pack_ids"] = json.loads(d["pack_ids"])
        return d

    def printed_before(self, pack_ids: Sequence[int], kind: str) -> dict[int, int]:
        """pack id → the batch that first printed it (for this kind of document)."""
        if not pack_ids:
            return {}
        q = (select(m.print_records.c.pack_id, func.min(m.print_records.c.batch_id))
             .where(m.print_records.c.pack_id.in_(list(pack_ids)),
                    m.print_records.c.kind == kind)
             .group_by(m.print_records.c.pack_id))
        return {p: b for p, b in self.conn.execute(q)}

    def add_batch(self, *, pack_ids: Sequence[int], records_reprint: bool, **values: Any) -> int:
        now = _now()
        res = self.conn.execute(m.print_batches.insert().values(
            pack_ids=json.dumps(list(pack_ids)), created_at=now, **values))
        bid = new_id(res)
        self.conn.execute(m.print_records.insert(), [
            {"batch_id": bid, "pack_id": p, "kind": values["kind"], "reprint": records_reprint,
             "printed_by": values["created_by"], "printed_at": now} for p in pack_ids])
        return bid

    def batches(self, limit: int = 50) -> list[dict[str, Any]]:
        rows = self.conn.execute(select(m.print_batches).order_by(
            m.print_batches.c.id.desc()).limit(limit))
        return [self._batch(r) for r in rows]
