"""What other aggregates read of the parcels: an order's parcels with their tracker
states, who is tracked, and the unshipped orders the deadline watch looks at."""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import Connection, select

from . import models as m

UNSHIPPED_STATES = ("synced", "held", "approved", "waybill_taken", "printed")


class ParcelReadRepository:
    conn: Connection

    def parcels_of_orders(self, tracker_ids: Iterable[int]
                          ) -> dict[str, list[str | None]]:
        """For the orders these trackers' parcels carry: order_id → the tracker state of
        each of its confirmed, numbered parcels (None: not tracked yet). Return parcels
        (trackers without a pack) carry no order here."""
        t, p, pl = m.trackers, m.packs, m.pack_lines
        ids = sorted(set(tracker_ids))
        orders: set[str] = set()
        for i in range(0, len(ids), 500):
            orders.update(self.conn.execute(
                select(pl.c.order_id).distinct().select_from(
                    t.join(pl, pl.c.pack_id == t.c.pack_id))
                .where(t.c.id.in_(ids[i:i + 500]))).scalars())
        got = sorted(orders)
        out: dict[str, dict[int, str | None]] = {}
        for i in range(0, len(got), 500):
            for oid, pid, st in self.conn.execute(
                    select(pl.c.order_id, p.c.id, t.c.state)
                    .select_from(pl.join(p, p.c.id == pl.c.pack_id)
                                 .outerjoin(t, t.c.pack_id == p.c.id))
                    .where(pl.c.order_id.in_(got[i:i + 500]), p.c.state == "confirmed",
                           p.c.track_no.is_not(None), p.c.track_no != "")):
                out.setdefault(oid, {})[pid] = st
        return {oid: list(by_pack.values()) for oid, by_pack in out.items()}

    def shipped_parcels(self, order_ids: Iterable[str]
                        ) -> dict[str, dict[int, tuple[str, str | None]]]:
        """order_id → {pack id: (number, tracker state or None)} of each of the orders'
        confirmed, numbered parcels."""
        t, p, pl = m.trackers, m.packs, m.pack_lines
        got = sorted(set(order_ids))
        out: dict[str, dict[int, tuple[str, str | None]]] = {}
        for i in range(0, len(got), 500):
            for oid, pid, no, st in self.conn.execute(
                    select(pl.c.order_id, p.c.id, p.c.track_no, t.c.state)
                    .select_from(pl.join(p, p.c.id == pl.c.pack_id)
                                 .outerjoin(t, t.c.pack_id == p.c.id))
                    .where(pl.c.order_id.in_(got[i:i + 500]), p.c.state == "confirmed",
                           p.c.track_no.is_not(None), p.c.track_no != "")):
                out.setdefault(oid, {})[pid] = (no, st)
        return out

    def orders_with_tracker_in(self, order_ids: Iterable[str], states: Iterable[str]
                               ) -> set[str]:
        """Orders among these with a tracker in one of ``states``."""
        t, ids, out = m.trackers, sorted(set(order_ids)), set[str]()
        for i in range(0, len(ids), 500):
            out.update(self.conn.execute(select(t.c.order_id).where(
                t.c.order_id.in_(ids[i:i + 500]), t.c.state.in_(sorted(states)))).scalars())
        return out

    def tracked_numbers(self, track_nos: Iterable[str]) -> set[str]:
        """The numbers among these that have a tracker."""
        t, nos, out = m.trackers, sorted(set(track_nos)), set[str]()
        for i in range(0, len(nos), 500):
            out.update(self.conn.execute(select(t.c.track_no).where(
                t.c.track_no.in_(nos[i:i + 500]))).scalars())
        return out

    # ---- deadlines -------------------------------------------------------------------
    def unshipped_due(self, until: int, shop_ref: int | None = None, order_ids=None
                      ) -> list[tuple[str, int, int, str]]:
        """(order_id, shop_ref, exp_ship_time, state) of unshipped paid orders whose
        deadline is at or before ``until``."""
        o = m.orders
        q = (select(o.c.order_id, o.c.shop_ref, o.c.exp_ship_time, o.c.state)
             .where(o.c.state.in_(UNSHIPPED_STATES), o.c.exp_ship_time.is_not(None),
                    o.c.exp_ship_time <= until, o.c.order_status.in_((2, 101)))
             .order_by(o.c.exp_ship_time))
        if shop_ref:
            q = q.where(o.c.shop_ref == shop_ref)
        if order_ids is not None:
            q = q.where(o.c.order_id.in_(sorted(order_ids)))
        return [tuple(r) for r in self.conn.execute(q)]

    def deadline_facts(self, order_ids: Iterable[str]) -> list[tuple[str, int, int | None, str,
                                                                       int]]:
        """(order_id, shop_ref, exp_ship_time, state, order_status) of these orders."""
        ids = sorted(set(order_ids))
        o = m.orders
        out = []
        for i in range(0, len(ids), 500):
            out += [tuple(r) for r in self.conn.execute(select(
                o.c.order_id, o.c.shop_ref, o.c.exp_ship_time, o.c.state, o.c.order_status
            ).where(o.c.order_id.in_(ids[i:i + 500])))]
        return out


__all__ = ["UNSHIPPED_STATES", "ParcelReadRepository"]
