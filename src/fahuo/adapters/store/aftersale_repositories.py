"""The after-sale aggregate: cases as read from the platform, the units each case is about,
the receipt of a return (claimed, then closed, in the caller's transaction), the reads the
interception flow needs, and the one writer of a case's interception state
(``move_intercepts``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select, update

from fahuo.domain.aftersales import INTERCEPT, InterceptState
from fahuo.domain.lifecycle import StateMove

from . import models as m
from .repositories import _insert
from .states import current_states, move_rows


class AfterSaleRepository:
    def __init__(self, conn: Connection, moves: list[StateMove] | None = None) -> None:
        self.conn = conn
        self.moves: list[StateMove] = [] if moves is None else moves

    def lock_cases(self, aftersale_ids: Iterable[str]) -> None:
        """Row locks on the cases, by id (PostgreSQL; SQLite's writer is single)."""
        ids = sorted(set(aftersale_ids))
        if ids and self.conn.dialect.name == "postgresql":
            a = m.after_sales
            self.conn.execute(select(a.c.aftersale_id).where(a.c.aftersale_id.in_(ids))
                              .order_by(a.c.aftersale_id).with_for_update()).all()

    def intercept_states(self, aftersale_ids: Iterable[str]) -> dict[str, str]:
        a = m.after_sales
        return current_states(self.conn, a.c.aftersale_id, a.c.intercept_state,
                              list(aftersale_ids))

    def move_intercepts(self, moves: dict[str, tuple[str, str]], **values: Any) -> list[str]:
        """Interception states, each from the state the caller read (checked against the
        interception lifecycle, conditional on that state, recorded); ``values`` (detail,
        path, claim time) are written with each case moved. The cases moved."""
        if not moves:
            return []
        self.lock_cases(moves)
        return move_rows(self.conn, m.after_sales, INTERCEPT, moves, self.moves,
                         key="aftersale_id", state="intercept_state", **values)

    def move_intercepts_from(self, aftersale_ids: Iterable[str],
                             sources: frozenset[InterceptState], target: InterceptState,
                             **values: Any) -> list[str]:
        """Move to ``target`` the cases among these still in one of ``sources`` (read under
        their lock); the others stay. The cases moved."""
        ids = sorted(set(aftersale_ids))
        if not ids:
            return []
        self.lock_cases(ids)
        return self.move_intercepts(INTERCEPT.moves_to(self.intercept_states(ids), target,
                                                       sources), **values)

    # Kept by fahuo across re-reads of a case: the platform knows nothing of them.
    OWN_COLUMNS = ("intercept_state", "intercept_detail", "intercept_via",
                   "intercept_claimed_at", "received_at", "good_qty", "damaged_qty",
                   "received_lines")

    def upsert_cases(self, rows: list[dict[str, Any]]) -> None:
        """Cases as the platform gave them; a case read again keeps fahuo's own columns."""
        if not rows:
            return
        stmt = _insert(self.conn, m.after_sales)
        stmt = stmt.on_conflict_do_update(index_elements=["aftersale_id"], set_={
            c.name: stmt.excluded[c.name] for c in m.after_sales.c
            if c.name not in self.OWN_COLUMNS and c.name != "aftersale_id"})
        self.conn.execute(stmt, [{**x, "intercept_state": "", "intercept_detail": "",
                                  "intercept_via": ""} for x in rows])

    def untouched_refund_cases(self, statuses: Iterable[int]) -> list[dict[str, Any]]:
        """Open after-shipment refund cases (type 0/1) in these statuses, interception
        untouched: {aftersale_id, order_id}."""
        a = m.after_sales
        return [dict(r._mapping) for r in self.conn.execute(
            select(a.c.aftersale_id, a.c.order_id).where(
                a.c.stage == "after_ship", a.c.intercept_state == "", a.c.closed_at.is_(None),
                a.c.aftersale_status.in_(sorted(statuses)), a.c.aftersale_type.in_((0, 1))))]

    def orders_with_intercept_in(self, order_ids: Iterable[str], states: Iterable[str]
                                 ) -> set[str]:
        """Orders among these with a case whose interception is in one of ``states``."""
        a, ids, out = m.after_sales, sorted(set(order_ids) - {""}), set[str]()
        for i in range(0, len(ids), 500):
            out.update(self.conn.execute(select(a.c.order_id).where(
                a.c.order_id.in_(ids[i:i + 500]),
                a.c.intercept_state.in_(sorted(states)))).scalars())
        return out

    def returns_not_received(self) -> list[dict[str, Any]]:
        """Cases with a return parcel named and not received yet."""
        a = m.after_sales
        return [dict(r._mapping) for r in self.conn.execute(select(a).where(
            a.c.return_tracking_no != "", a.c.received_at.is_(None)))]

    def list_cases(self, *, status: str = "open", stage: str | None = None,
                   limit: int = 200) -> list[dict[str, Any]]:
        """Newest first; status: open | closed | intercept (touched) | anything else: all."""
        a = m.after_sales
        q = select(a).order_by(a.c.update_time.desc()).limit(limit)
        if status == "open":
            q = q.where(a.c.closed_at.is_(None))
        elif status == "closed":
            q = q.where(a.c.closed_at.is_not(None))
        elif status == "intercept":
            q = q.where(a.c.intercept_state != "")
        if stage:
            q = q.where(a.c.stage == stage)
        return [dict(r._mapping) for r in self.conn.execute(q)]

    def other_cases_of_order(self, order_id: str, aftersale_id: str) -> list[dict[str, Any]]:
        """The order's other cases: {aftersale_id, intercept_state, intercept_detail}."""
        a = m.after_sales
        return [dict(r._mapping) for r in self.conn.execute(select(
            a.c.aftersale_id, a.c.intercept_state, a.c.intercept_detail).where(
            a.c.order_id == order_id, a.c.aftersale_id != aftersale_id))]

    def open_siblings(self, order_id: str, aftersale_id: str, not_in: Iterable[str]
                      ) -> list[str]:
        """The order's other open after-shipment cases whose interception is not in
        ``not_in``."""
        a = m.after_sales
        return list(self.conn.execute(select(a.c.aftersale_id).where(
            a.c.order_id == order_id, a.c.aftersale_id != aftersale_id,
            a.c.stage == "after_ship", a.c.closed_at.is_(None),
            a.c.intercept_state.not_in(sorted(not_in)))).scalars())

    def claims_older_than(self, state: str, before: int,
                          aftersale_ids: Iterable[str] | None = None) -> list[str]:
        """Cases in ``state`` claimed before ``before`` (among these ids, if given)."""
        a = m.after_sales
        q = select(a.c.aftersale_id).where(a.c.intercept_state == state,
                                           a.c.intercept_claimed_at < before)
        if aftersale_ids is not None:
            q = q.where(a.c.aftersale_id.in_(sorted(set(aftersale_ids))))
        return list(self.conn.execute(q).scalars())

    def cases_to_follow(self, states: Iterable[str], shop_ref: int | None = None
                        ) -> list[dict[str, Any]]:
        """{aftersale_id, order_id, intercept_state, intercept_via} of cases whose
        interception is in ``states`` (of one shop, if given)."""
        a = m.after_sales
        q = select(a.c.aftersale_id, a.c.order_id, a.c.intercept_state,
                   a.c.intercept_via).where(a.c.intercept_state.in_(sorted(states)))
        if shop_ref is not None:
            q = q.where(a.c.shop_ref == shop_ref)
        return [dict(r._mapping) for r in self.conn.execute(q)]

    def lock_claim_rows(self, order_id: str, aftersale_id: str) -> list[dict[str, Any]]:
        """The order's cases (or just this one, without an order), locked in id order on
        PostgreSQL (SQLite writers are serial): {aftersale_id, intercept_state,
        intercept_detail, intercept_via}."""
        a = m.after_sales
        q = select(a.c.aftersale_id, a.c.intercept_state, a.c.intercept_detail,
                   a.c.intercept_via).where(
            a.c.order_id == order_id if order_id else a.c.aftersale_id == aftersale_id)
        if self.conn.dialect.name == "postgresql":
            q = q.order_by(a.c.aftersale_id).with_for_update()
        return [dict(r._mapping) for r in self.conn.execute(q)]

    def set_lines(self, rows: list[dict[str, Any]]) -> None:
        """rows: {aftersale_id, sku_order_id, units}; a case read again replaces its units."""
        if not rows:
            return
        stmt = _insert(self.conn, m.after_sale_lines)
        self.conn.execute(stmt.on_conflict_do_update(
            index_elements=["aftersale_id", "sku_order_id"],
            set_={"units": stmt.excluded.units}), rows)

    def case(self, aftersale_id: str) -> dict[str, Any] | None:
        row = self.conn.execute(select(m.after_sales).where(
            m.after_sales.c.aftersale_id == aftersale_id)).first()
        return dict(row._mapping) if row else None

    def order_ids_of(self, aftersale_ids: Iterable[str]) -> list[str]:
        ids = sorted(set(aftersale_ids))
        a, out = m.after_sales, set[str]()
        for i in range(0, len(ids), 500):
            out.update(self.conn.execute(select(a.c.order_id).where(
                a.c.aftersale_id.in_(ids[i:i + 500]), a.c.order_id != "")).scalars())
        return sorted(out)

    def case_ids_of_order(self, order_id: str) -> list[str]:
        a = m.after_sales
        return list(self.conn.execute(select(a.c.aftersale_id).where(
            a.c.order_id == order_id).order_by(a.c.aftersale_id)).scalars())

    def claim_receipt(self, aftersale_id: str, now: int) -> bool:
        """Mark the case received unless it already was: one receipt per case, also against a
        second click or a second screen."""
        a = m.after_sales
        return bool(self.conn.execute(update(a).where(
            a.c.aftersale_id == aftersale_id, a.c.received_at.is_(None)).values(
            received_at=now)).rowcount)

    def close_receipt(self, aftersale_id: str, **values: Any) -> None:
        a = m.after_sales
        self.conn.execute(update(a).where(a.c.aftersale_id == aftersale_id).values(**values))


__all__ = ["AfterSaleRepository"]
