"""Stock ledger queries. Rows of ``stock_items`` are locked in id order (Saleor's rule) so two
workers reserving overlapping SKUs never deadlock; on SQLite the single writer does it."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import Connection, Integer, bindparam, column, func, select, update, values

from fahuo.domain.lifecycle import StateMove
from fahuo.domain.reservations import RESERVATION, ReservationState as RS
from fahuo.domain.stock import SyncRule

from . import models as m
from .repositories import _insert
from .shipping_repositories import refunded_units
from .states import current_states, move_rows

_KEY = ("order_id", "item_id")  # a reservation: one order's hold on one stock item


def _now() -> int:
    return int(time.time())


class StockRepository:
    def __init__(self, conn: Connection, moves: list[StateMove] | None = None) -> None:
        self.conn = conn
        self.moves: list[StateMove] = [] if moves is None else moves

    # ---- items -----------------------------------------------------------------------
    def any_items(self) -> bool:
        """Whether the merchant keeps any stock in fahuo at all."""
        return self.conn.execute(select(m.stock_items.c.id).limit(1)).first() is not None

    def items(self, codes: Iterable[str] | None = None, warehouse: str | None = None,
              *, lock: bool = False) -> dict[tuple[str, str], dict[str, Any]]:
        """(sku_code, warehouse) → row. ``lock``: FOR UPDATE in id order (PostgreSQL)."""
        s = m.stock_items
        q = select(s).order_by(s.c.id)
        if codes is not None:
            q = q.where(s.c.sku_code.in_(sorted(set(codes))))
        if warehouse is not None:
            q = q.where(s.c.warehouse == warehouse)
        if lock and self.conn.dialect.name == "postgresql":
            q = q.with_for_update()
        return {(r.sku_code, r.warehouse): dict(r._mapping) for r in self.conn.execute(q)}

    def lock_ids(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """Rows by id, locked in id order on PostgreSQL."""
        ids = sorted(set(ids))
        if not ids:
            return {}
        s = m.stock_items
        q = select(s).where(s.c.id.in_(ids)).order_by(s.c.id)
        if self.conn.dialect.name == "postgresql":
            q = q.with_for_update()
        return {r.id: dict(r._mapping) for r in self.conn.execute(q)}

    def ensure_items(self, rows: list[dict[str, Any]]) -> None:
        """Create missing items (sku_code, warehouse, name); existing ones are left alone."""
        if not rows:
            return
        now = _now()
        stmt = _insert(self.conn, m.stock_items).on_conflict_do_nothing()
        self.conn.execute(stmt, [{"on_hand": 0, "reserved": 0, "damaged": 0, "safety": 0,
                                  "sync_rule": "{}", "name": "", **r, "updated_at": now}
                                 for r in rows])

    def set_item(self, item_id: int, **values: Any) -> None:
        self.conn.execute(update(m.stock_items).where(m.stock_items.c.id == item_id)
                          .values(**values, updated_at=_now()))

    def apply(self, moves: list[dict[str, Any]]) -> None:
        """moves: {item_id, move, on_hand, reserved, damaged, ref_type, ref_id, reason, actor}
        (deltas). Balances and journal in two executemany calls; the caller has checked the
        invariants on locked rows."""
        if not moves:
            return
        now = _now()
        s = m.stock_items
        totals: dict[int, list[int]] = {}
        for mv in moves:
            t = totals.setdefault(mv["item_id"], [0, 0, 0])
            t[0] += mv["on_hand"]
            t[1] += mv["reserved"]
            t[2] += mv["damaged"]
        rows = [(i, t[0], t[1], t[2]) for i, t in sorted(totals.items())]
        if self.conn.dialect.name == "postgresql":
            # One statement per batch: executemany would be a round trip per item.
            for k in range(0, len(rows), 1000):
                d = values(column("id", Integer), column("oh", Integer), column("rs", Integer),
                           column("dm", Integer), name="d").data(rows[k:k + 1000])
                self.conn.execute(update(s).where(s.c.id == d.c.id).values(
                    on_hand=s.c.on_hand + d.c.oh, reserved=s.c.reserved + d.c.rs,
                    damaged=s.c.damaged + d.c.dm, dirty_at=now, updated_at=now))
        else:
            self.conn.execute(
                update(s).where(s.c.id == bindparam("_id")).values(
                    on_hand=s.c.on_hand + bindparam("_oh"),
                    reserved=s.c.reserved + bindparam("_rs"),
                    damaged=s.c.damaged + bindparam("_dm"), dirty_at=now, updated_at=now),
                [{"_id": i, "_oh": a, "_rs": b, "_dm": c} for i, a, b, c in rows])
        self.conn.execute(m.stock_journal.insert(), [
            {"item_id": mv["item_id"], "move": mv["move"], "on_hand": mv["on_hand"],
             "reserved": mv["reserved"], "damaged": mv["damaged"],
             "ref_type": mv.get("ref_type", ""), "ref_id": mv.get("ref_id", ""),
             "reason": mv.get("reason", ""), "actor": mv.get("actor", ""), "at": now}
            for mv in moves])

    def levels(self, *, code_like: str | None = None, limit: int = 500, offset: int = 0
               ) -> tuple[int, list[dict[str, Any]]]:
        s = m.stock_items
        q, cq = select(s).order_by(s.c.sku_code, s.c.warehouse), select(func.count()).select_from(s)
        if code_like:
            q, cq = q.where(s.c.sku_code.contains(code_like)), cq.where(
                s.c.sku_code.contains(code_like))
        total = self.conn.execute(cq).scalar_one()
        rows = [dict(r._mapping) for r in self.conn.execute(q.limit(limit).offset(offset))]
        for r in rows:
            r["available"] = r["on_hand"] - r["reserved"]
            r["sync_rule"] = SyncRule.from_dict(orjson.loads(r["sync_rule"] or "{}")).to_dict()
        return total, rows

    def journal_sums(self) -> dict[int, tuple[int, int, int]]:
        j = m.stock_journal
        return {i: (a, b, c) for i, a, b, c in self.conn.execute(
            select(j.c.item_id, func.sum(j.c.on_hand), func.sum(j.c.reserved),
                   func.sum(j.c.damaged)).group_by(j.c.item_id))}

    # ---- reservations ----------------------------------------------------------------
    def reservations(self, order_ids: Iterable[str], states: Iterable[str] | None = None
                     ) -> list[dict[str, Any]]:
        ids = sorted(set(order_ids))
        r = m.stock_reservations
        out: list[dict[str, Any]] = []
        for i in range(0, len(ids), 500):
            q = select(r).where(r.c.order_id.in_(ids[i:i + 500]))
            if states is not None:
                q = q.where(r.c.state.in_(list(states)))
            out += [dict(x._mapping) for x in self.conn.execute(q)]
        return out

    # A reservation's ``state`` is written only by these three, through its lifecycle
    # (``domain/reservations.RESERVATION``): conditional on the state read, row count checked.
    def add_reservations(self, rows: list[dict[str, Any]]) -> None:
        """rows: {order_id, item_id, quantity}, reserved. An order whose earlier reservation
        went back (released by hand, say) and is planned again reserves afresh on the same
        row (released → reserved); a row still reserved or shipped raises (``StaleState``)."""
        if not rows:
            return
        r = m.stock_reservations
        now = _now()
        found = current_states(self.conn, [r.c.order_id, r.c.item_id], r.c.state,
                               [(x["order_id"], x["item_id"]) for x in rows])
        new = [{**x, "state": RESERVATION.check_new((x["order_id"], x["item_id"]),
                                                     RS.RESERVED).value, "updated_at": now}
               for x in rows if (x["order_id"], x["item_id"]) not in found]
        again: dict[int, dict[tuple[str, int], tuple[str, str]]] = {}
        for x in rows:
            if (x["order_id"], x["item_id"]) in found:
                again.setdefault(x["quantity"], {})[(x["order_id"], x["item_id"])] = (
                    RS.RELEASED, RS.RESERVED)
        for quantity, moves in sorted(again.items()):
            move_rows(self.conn, r, RESERVATION, moves, self.moves, key=_KEY,
                      quantity=quantity, updated_at=now)
        if new:
            self.conn.execute(r.insert(), new)
            self.moves.extend(StateMove(RESERVATION.kind, str((x["order_id"], x["item_id"])),
                                        None, x["state"]) for x in new)

    def keep_reserved(self, rows: list[tuple[str, int, int]]) -> None:
        """(order_id, item_id, units kept): a live reservation shrinks to what it keeps, and
        is released when that is none."""
        r = m.stock_reservations
        now = _now()
        shrink = [(o, i, q) for o, i, q in rows if q > 0]
        if shrink:
            self.conn.execute(
                update(r).where(r.c.order_id == bindparam("_o"), r.c.item_id == bindparam("_i"),
                                r.c.state == RS.RESERVED.value)
                .values(quantity=bindparam("_q"), updated_at=now),
                [{"_o": o, "_i": i, "_q": q} for o, i, q in shrink])
        gone = {(o, i): (RS.RESERVED, RS.RELEASED) for o, i, q in rows if q <= 0}
        move_rows(self.conn, r, RESERVATION, gone, self.moves, key=_KEY, quantity=0,
                  updated_at=now)

    def reserved_orders_with_refunded_lines(self, limit: int = 5000) -> list[str]:
        """Orders holding a live reservation with a line refunded (whole or in part) before
        it left: their reservation may hold more than they still send."""
        r, s, al = m.stock_reservations, m.sub_orders, m.after_sale_lines
        refunded = ((s.c.after_sale_status == 12) & (s.c.refund_status == 3)) | \
            s.c.sku_order_id.in_(select(al.c.sku_order_id))
        q = (select(r.c.order_id).distinct()
             .select_from(r.join(s, s.c.order_id == r.c.order_id))
             .where(r.c.state == "reserved", refunded).limit(limit))
        return list(self.conn.execute(q).scalars())

    def live_reservations(self, *, order_id: str | None = None, limit: int = 500
                          ) -> list[dict[str, Any]]:
        """Live reservations with their code and the order's state, oldest first."""
        r, s, o = m.stock_reservations, m.stock_items, m.orders
        q = (select(r.c.order_id, r.c.item_id, r.c.quantity, r.c.updated_at, s.c.sku_code,
                    s.c.warehouse, o.c.state.label("order_state"), o.c.shop_ref)
             .select_from(r.join(s, s.c.id == r.c.item_id)
                          .join(o, o.c.order_id == r.c.order_id, isouter=True))
             .where(r.c.state == "reserved").order_by(r.c.updated_at, r.c.order_id, s.c.sku_code)
             .limit(limit))
        if order_id is not None:
            q = q.where(r.c.order_id == order_id)
        return [dict(x._mapping) for x in self.conn.execute(q)]

    def returned_units(self, aftersale_ids: Iterable[str]) -> dict[str, int]:
        """Units received back (good and damaged) by these cases, per stock code."""
        ids = sorted(set(aftersale_ids))
        if not ids:
            return {}
        j, s = m.stock_journal, m.stock_items
        q = (select(s.c.sku_code, func.sum(j.c.on_hand + j.c.damaged))
             .select_from(j.join(s, s.c.id == j.c.item_id))
             .where(j.c.ref_type == "return", j.c.ref_id.in_(ids),
                    j.c.move.in_(("return_good", "return_damaged")))
             .group_by(s.c.sku_code))
        return {code: int(n) for code, n in self.conn.execute(q)}

    def journal(self, *, ref_id: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """Newest first, with the code each entry moved."""
        j, s = m.stock_journal, m.stock_items
        q = (select(j, s.c.sku_code).select_from(j.join(s, s.c.id == j.c.item_id))
             .order_by(j.c.id.desc()).limit(limit))
        if ref_id is not None:
            q = q.where(j.c.ref_id == ref_id)
        return [dict(x._mapping) for x in self.conn.execute(q)]

    def settle_reservations(self, keys: list[tuple[str, int]], target: str) -> None:
        """Live reservations (order, item) released or shipped; raises if one is no longer
        reserved."""
        move_rows(self.conn, m.stock_reservations, RESERVATION,
                  {k: (RS.RESERVED, target) for k in keys}, self.moves, key=_KEY,
                  updated_at=_now())

    def reserved_orders_in_states(self, order_states: Iterable[str], limit: int = 5000
                                  ) -> list[str]:
        """Orders holding a live reservation whose fahuo state is one of these."""
        r, o = m.stock_reservations, m.orders
        q = (select(r.c.order_id).distinct().select_from(r.join(o, o.c.order_id == r.c.order_id))
             .where(r.c.state == "reserved", o.c.state.in_(list(order_states))).limit(limit))
        return list(self.conn.execute(q).scalars())

    def unreserved_demand(self) -> dict[str, int]:
        """Units per merchant code of paid, unshipped orders holding no reservation yet
        (waiting for audit, held for a remark, presale…): sold, though not yet reserved."""
        s, o, r = m.sub_orders, m.orders, m.stock_reservations
        has = select(r.c.order_id).where(r.c.order_id == o.c.order_id,
                                         r.c.state.in_(("reserved", "shipped"))).exists()
        refunded = refunded_units()  # a line's units refunded before shipment (packs'
        # units_to_ship): a line of 3 with 1 refunded still sells 2; one shown refunded with
        # no case known yet, none
        q = (select(s.c.merchant_code, func.sum(s.c.quantity - refunded))
             .select_from(s.join(o, o.c.order_id == s.c.order_id))
             .where(o.c.state.in_(("synced", "held", "approved", "waybill_taken", "printed")),
                    o.c.order_status.in_((2, 101, 105)), ~has, s.c.merchant_code != "",
                    s.c.order_status != 4, s.c.quantity > refunded,
                    ~((s.c.after_sale_status == 12) & (s.c.refund_status == 3)
                      & (refunded == 0)))
             .group_by(s.c.merchant_code))
        return {code: int(n) for code, n in self.conn.execute(q)}

    # ---- bundles ---------------------------------------------------------------------
    def bundles(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for b, c, q in self.conn.execute(select(m.bundles.c.bundle_code,
                                                m.bundles.c.component_code,
                                                m.bundles.c.quantity)):
            out.setdefault(b, {})[c] = q
        return out

    def set_bundle(self, bundle_code: str, parts: dict[str, int]) -> None:
        self.conn.execute(m.bundles.delete().where(m.bundles.c.bundle_code == bundle_code))
        if parts:
            self.conn.execute(m.bundles.insert(), [
                {"bundle_code": bundle_code, "component_code": c, "quantity": q}
                for c, q in parts.items()])
        self.set_bundle_settings(bundle_code, dirty_at=_now())  # new parts: push it again

    def bundle_settings(self, codes: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """bundle code → its own sync rule, oversell flag and dirty mark (bundles without a
        row have the defaults)."""
        b = m.bundle_settings
        q = select(b)
        if codes is not None:
            q = q.where(b.c.bundle_code.in_(sorted(set(codes))))
        return {r.bundle_code: dict(r._mapping) for r in self.conn.execute(q)}

    def set_bundle_settings(self, bundle_code: str, **values: Any) -> None:
        now = _now()
        stmt = _insert(self.conn, m.bundle_settings).values(
            bundle_code=bundle_code, updated_at=now, **values)
        self.conn.execute(stmt.on_conflict_do_update(
            index_elements=["bundle_code"], set_={**values, "updated_at": now}))

    def clear_bundles_dirty(self, codes: list[str], before: int) -> None:
        b = m.bundle_settings
        for i in range(0, len(codes), 500):
            self.conn.execute(update(b).where(b.c.bundle_code.in_(codes[i:i + 500]),
                                              b.c.dirty_at < before).values(dirty_at=None))

    def sold_codes(self, codes: Iterable[str] | None = None) -> set[str]:
        """Merchant codes found on order lines (of these codes, or all): codes the shops
        really sell. A scan of the order lines: for refusals and new codes, not hot paths."""
        s = m.sub_orders
        q = select(s.c.merchant_code).distinct().where(s.c.merchant_code != "")
        if codes is None:
            return set(self.conn.execute(q).scalars())
        ids, out = sorted(set(codes)), set()
        for i in range(0, len(ids), 500):
            out |= set(self.conn.execute(q.where(s.c.merchant_code.in_(ids[i:i + 500])))
                       .scalars())
        return out

    def code_names(self, codes: Iterable[str]) -> dict[str, str]:
        """code → product name, for telling the merchant which product a code is: the stock
        item's own name, else the title the shops sell it under (order lines). Refusals and
        new codes only, never a hot path."""
        ids = sorted({c for c in codes if c})
        out: dict[str, str] = {}
        si, s = m.stock_items, m.sub_orders
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            out.update({c: n for c, n in self.conn.execute(
                select(s.c.merchant_code, func.max(s.c.product_name))
                .where(s.c.merchant_code.in_(part), s.c.product_name != "")
                .group_by(s.c.merchant_code))})
            out.update({c: n for c, n in self.conn.execute(
                select(si.c.sku_code, func.max(si.c.name))
                .where(si.c.sku_code.in_(part), si.c.name != "").group_by(si.c.sku_code))})
        return out

    # ---- shop SKUs and sync ----------------------------------------------------------
    def dirty(self, limit: int = 5000) -> list[dict[str, Any]]:
        s = m.stock_items
        return [dict(r._mapping) for r in self.conn.execute(
            select(s).where(s.c.dirty_at.is_not(None)).order_by(s.c.id).limit(limit))]

    def clear_dirty(self, ids: list[int], before: int) -> None:
        s = m.stock_items
        for i in range(0, len(ids), 500):
            # strictly before: a change in the very second of the read is pushed next time
            self.conn.execute(update(s).where(s.c.id.in_(ids[i:i + 500]),
                                              s.c.dirty_at < before).values(dirty_at=None))

    def skus_sold_as(self, codes: Iterable[str]) -> list[dict[str, Any]]:
        """Every platform SKU an order line sold under one of these merchant codes:
        {shop_ref, sku_id, product_id, sku_code}, one per (shop, SKU)."""
        s, o = m.sub_orders, m.orders
        want = sorted(set(codes))
        out: dict[tuple[int, str], dict[str, Any]] = {}
        for i in range(0, len(want), 500):
            for r in self.conn.execute(
                    select(o.c.shop_ref, s.c.sku_id, s.c.product_id, s.c.merchant_code)
                    .distinct().select_from(s.join(o, o.c.order_id == s.c.order_id))
                    .where(s.c.merchant_code.in_(want[i:i + 500]), s.c.sku_id != "")):
                out[(r.shop_ref, str(r.sku_id))] = {
                    "shop_ref": r.shop_ref, "sku_id": str(r.sku_id),
                    "product_id": str(r.product_id), "sku_code": r.merchant_code}
        return list(out.values())

    def upsert_shop_skus(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        stmt = _insert(self.conn, m.shop_skus)
        stmt = stmt.on_conflict_do_update(
            index_elements=["shop_ref", "sku_id"],
            set_={"product_id": stmt.excluded.product_id, "sku_code": stmt.excluded.sku_code})
        self.conn.execute(stmt, rows)

    def shop_skus(self, codes: Iterable[str] | None = None) -> list[dict[str, Any]]:
        k = m.shop_skus
        q = select(k).order_by(k.c.shop_ref, k.c.product_id, k.c.sku_id)
        if codes is not None:
            q = q.where(k.c.sku_code.in_(sorted(set(codes))))
        return [dict(r._mapping) for r in self.conn.execute(q)]

    def mark_pushed(self, rows: list[tuple[int, str, int]], now: int) -> None:
        if rows:
            k = m.shop_skus
            self.conn.execute(update(k).where(k.c.shop_ref == bindparam("_s"),
                                              k.c.sku_id == bindparam("_k"))
                              .values(last_pushed=bindparam("_q"), pushed_at=now),
                              [{"_s": s, "_k": sku, "_q": q} for s, sku, q in rows])


__all__ = ["StockRepository"]
