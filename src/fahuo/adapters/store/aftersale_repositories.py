"""After-sale queries used by the stock side of cases: the units each case is about, and the
receipt of a return (claimed, then closed, in the caller's transaction)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select, update

from . import models as m
from .repositories import _insert


class AfterSaleRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

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
