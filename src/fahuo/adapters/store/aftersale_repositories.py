"""After-sale queries used by the stock side of cases: the units each case is about, the
receipt of a return (claimed, then closed, in the caller's transaction), and the one writer
of a case's interception state (``move_intercepts``)."""

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
