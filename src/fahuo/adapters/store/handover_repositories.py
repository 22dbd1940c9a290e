"""``uow.handover``: hand-over lists (交接单) and the parcels on them.

A pack is on one list at most (``handover_items`` is keyed by pack): two people making the
same courier's list at once cannot both list a parcel; the second insert finds it taken and
the service refuses that list whole. A list's state moves only through
``states.move_rows`` with ``domain.handover.HANDOVER``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, func, select

from fahuo.domain.handover import HANDOVER, READY_STATES, HandedOver, HandoverState
from fahuo.domain.lifecycle import StateMove

from . import models as m
from .repositories import _insert, new_id
from .states import move_rows

CHUNK = 500


class HandoverRepository:
    def __init__(self, conn: Connection, moves: list[StateMove]) -> None:
        self.conn, self.moves = conn, moves

    # ---- what waits for a list -----------------------------------------------------------
    def candidates(self, shop_ref: int, since: int) -> list[dict[str, Any]]:
        """The shop's numbered packs in a ready state, changed since ``since``, on no list,
        with their tracker's state and pickup time (None when not tracked)."""
        p, hi, t = m.packs, m.handover_items, m.trackers
        q = (select(p.c.id, p.c.courier_code, p.c.netsite_code, p.c.track_no, p.c.state,
                    p.c.updated_at, p.c.main_order_id, p.c.unpacked_at,
                    t.c.state.label("tracker_state"), t.c.picked_up_at)
             .select_from(p.outerjoin(hi, hi.c.pack_id == p.c.id)
                          .outerjoin(t, t.c.pack_id == p.c.id))
             .where(p.c.shop_ref == shop_ref, p.c.state.in_(sorted(READY_STATES)),
                    p.c.track_no.is_not(None), p.c.track_no != "",
                    p.c.courier_code.is_not(None), p.c.updated_at >= since,
                    hi.c.pack_id.is_(None))
             .order_by(p.c.updated_at, p.c.id))
        return [dict(r._mapping) for r in self.conn.execute(q)]

    def netsite_names(self, shop_ref: int) -> dict[tuple[str, str], str]:
        n = m.netsites
        return {(c, code): name for c, code, name in self.conn.execute(
            select(n.c.courier_code, n.c.netsite_code, n.c.netsite_name)
            .where(n.c.shop_ref == shop_ref))}

    # ---- lists ---------------------------------------------------------------------------
    def add_list(self, *, shop_ref: int, courier_code: str, netsite_code: str,
                 items: Sequence[tuple[int, str, str]], actor: str, now: int) -> tuple[int, int]:
        """A new open list of ``items`` (pack id, number, order id), in that order: (its id,
        how many of the packs it got; fewer when another list took some meanwhile)."""
        state = HANDOVER.check_new("(new)", HandoverState.OPEN)
        res = self.conn.execute(m.handover_lists.insert().values(
            shop_ref=shop_ref, courier_code=courier_code, netsite_code=netsite_code,
            state=state.value, packs=len(items), created_at=now, created_by=actor))
        list_id = new_id(res)
        self.moves.append(StateMove(HANDOVER.kind, str(list_id), None, state.value))
        rows = [{"pack_id": pid, "list_id": list_id, "seq": i, "track_no": no, "order_id": oid}
                for i, (pid, no, oid) in enumerate(items, 1)]
        for i in range(0, len(rows), CHUNK):
            self.conn.execute(_insert(self.conn, m.handover_items).on_conflict_do_nothing(
                index_elements=["pack_id"]), rows[i:i + CHUNK])
        hi = m.handover_items  # counted back: a batch's rowcount is not reliable everywhere
        got = self.conn.execute(select(func.count()).select_from(hi)
                                .where(hi.c.list_id == list_id)).scalar_one()
        return list_id, int(got)

    def get(self, list_id: int, *, lock: bool = False) -> dict[str, Any] | None:
        q = select(m.handover_lists).where(m.handover_lists.c.id == list_id)
        if lock and self.conn.dialect.name == "postgresql":
            q = q.with_for_update()
        r = self.conn.execute(q).first()
        return None if r is None else dict(r._mapping)

    def lists(self, *, shop_ref: int | None = None, state: str | None = None,
              limit: int = 50, offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        h = m.handover_lists
        conds = []
        if shop_ref is not None:
            conds.append(h.c.shop_ref == shop_ref)
        if state is not None:
            conds.append(h.c.state == state)
        total = self.conn.execute(select(func.count()).select_from(h).where(*conds)).scalar_one()
        rows = self.conn.execute(select(h).where(*conds).order_by(h.c.id.desc())
                                 .limit(limit).offset(offset))
        return int(total), [dict(r._mapping) for r in rows]

    def items(self, list_id: int) -> list[dict[str, Any]]:
        """The list's parcels in line order, each with its tracker's state and pickup time."""
        hi, t = m.handover_items, m.trackers
        q = (select(hi.c.seq, hi.c.pack_id, hi.c.track_no, hi.c.order_id,
                    t.c.state.label("tracker_state"), t.c.picked_up_at)
             .select_from(hi.outerjoin(t, t.c.pack_id == hi.c.pack_id))
             .where(hi.c.list_id == list_id).order_by(hi.c.seq))
        return [dict(r._mapping) for r in self.conn.execute(q)]

    def move(self, moves: dict[int, tuple[str, str]], **values: Any) -> list[int]:
        """List states, checked against ``HANDOVER``, conditional and recorded."""
        return move_rows(self.conn, m.handover_lists, HANDOVER, moves, self.moves, **values)

    # ---- what the pickup watch reads -----------------------------------------------------
    def handed_over(self, track_nos: Iterable[str]) -> dict[tuple[str, str], HandedOver]:
        """(courier, number) → the handed-over list it went out on, for these numbers."""
        h, hi = m.handover_lists, m.handover_items
        nos = sorted(set(track_nos))
        out: dict[tuple[str, str], HandedOver] = {}
        for i in range(0, len(nos), CHUNK):
            for no, lid, courier, at in self.conn.execute(
                    select(hi.c.track_no, h.c.id, h.c.courier_code, h.c.handed_over_at)
                    .select_from(hi.join(h, h.c.id == hi.c.list_id))
                    .where(hi.c.track_no.in_(nos[i:i + CHUNK]),
                           h.c.state == HandoverState.HANDED_OVER.value)
                    .order_by(h.c.id)):
                out[(courier, no)] = HandedOver(int(lid), courier, int(at))
        return out


__all__ = ["HandoverRepository"]
