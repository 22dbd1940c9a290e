"""The console lists' count and page queries (``uow.lists``) are served by indexes on SQLite:
no query sorts rows in a temporary B-tree, and each filtered list walks its own index rather
than the whole table (issue 14: a page at a million rows must not sort them all)."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from fahuo.services.lists import UNSHIPPED

# (list call, the index its page must walk). Deadlines merge each unshipped state's rows in
# deadline order: only the merged rows (at most states × (offset + limit)) are sorted.
CALLS = [
    (lambda q: q.findings(status="open"), "ix_findings_open_since"),
    (lambda q: q.findings(status="open", kind="stalled", offset=50), "ix_findings_open_kind_since"),
    (lambda q: q.findings(status="closed"), "ix_findings_open_since"),
    (lambda q: q.trackers(state="in_transit"), "ix_trackers_state_id"),
    (lambda q: q.trackers(courier="zhongtong", offset=100), "ix_trackers_courier_id"),
    (lambda q: q.cases(status="open"), "ix_after_sales_open_update_time"),
    (lambda q: q.cases(status="all", aftersale_type=0), "ix_after_sales_type_update_time"),
    (lambda q: q.cases(status="all"), "ix_after_sales_update_time"),
    (lambda q: q.inbox(), "ix_push_inbox_received_at"),
    (lambda q: q.stock(level="low"), "sqlite_autoindex_stock_items"),  # (sku_code, warehouse)
    (lambda q: q.due(UNSHIPPED, after=None, until=2_000_000_000, offset=50),
     "ix_orders_state_deadline"),
]


@pytest.mark.parametrize("call,index", CALLS, ids=[c[1] + str(i) for i, c in enumerate(CALLS)])
def test_each_list_page_walks_its_index_and_sorts_nothing(fahuo, call, index):
    seen: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))
    engine = fahuo.uow.engine
    event.listen(engine, "before_cursor_execute", keep)
    try:
        with fahuo.uow(readonly=True) as u:
            call(u.lists)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert len(seen) == 2  # the count and the page: nothing per row
    plans = []
    with engine.connect() as c:
        for statement, params in seen:
            raw = c.connection.driver_connection
            plans.append(" | ".join(r[3] for r in raw.execute(
                "EXPLAIN QUERY PLAN " + statement, params).fetchall()))
    count, page = plans
    assert "TEMP B-TREE" not in count, plans
    if index == "ix_orders_state_deadline":  # sorts only what each state's LIMIT let out
        steps = page.split(" | ")
        assert all(steps[i - 1].startswith("SCAN anon") for i, s in enumerate(steps)
                   if "TEMP B-TREE" in s), plans
        assert page.count(f"SEARCH orders USING INDEX {index}") == len(UNSHIPPED), plans
    else:
        assert "TEMP B-TREE" not in page, plans
    assert index in page, plans
