"""The one way a repository writes a lifecycle's state: checked, conditional, recorded.

``move_rows`` checks every move against the lifecycle (``IllegalTransition``), reads the
rows' states (the caller has locked them: PostgreSQL row locks in the documented order,
SQLite's single writer) and raises ``StaleState`` if any row is no longer in the state the
caller moved it from, all before the first write, so a refused batch leaves nothing behind.
Then one ``UPDATE … WHERE key IN (…) AND state = :from`` per (from, to) pair, its row count
checked. What was written is appended to the unit of work's ``moves``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Column, Connection, Table, select, tuple_, update

from fahuo.domain.lifecycle import Lifecycle, StaleState, StateMove

K = TypeVar("K", bound=Hashable)
CHUNK = 500  # below every database's parameter limit


def current_states(conn: Connection, key: Column | Sequence[Column], state: Column,
                   keys: Sequence[K]) -> dict[K, str]:
    """key → stored state; ``key`` is one column, or several (then keys are tuples)."""
    out: dict[K, str] = {}
    ids = sorted(set(keys))  # type: ignore[type-var]
    cols = [key] if isinstance(key, Column) else list(key)
    where = cols[0] if len(cols) == 1 else tuple_(*cols)
    for i in range(0, len(ids), CHUNK):
        for row in conn.execute(select(*cols, state).where(where.in_(ids[i:i + CHUNK]))):
            out[row[0] if len(cols) == 1 else tuple(row[:-1])] = row[-1]  # type: ignore[index]
    return out


def move_rows(conn: Connection, table: Table, lifecycle: Lifecycle[Any],
              moves: Mapping[K, tuple[str, str]], log: list[StateMove], *,
              key: str | tuple[str, ...] = "id", state: str = "state", **values: Any
              ) -> list[K]:
    """Move each row ``k`` from ``moves[k][0]`` to ``moves[k][1]`` (same state: no move);
    ``values`` are written with every moved row. ``key`` names the key column, or the
    columns of a composite key (then ``k`` is a tuple). The keys moved."""
    real = {k: (str(f), str(t)) for k, (f, t) in moves.items() if str(f) != str(t)}
    for k, (f, t) in real.items():
        lifecycle.move(k, f, t)
    if not real:
        return []
    cols = [table.c[key]] if isinstance(key, str) else [table.c[k] for k in key]
    key_col = cols[0] if len(cols) == 1 else tuple_(*cols)
    state_col = table.c[state]
    found = current_states(conn, cols[0] if len(cols) == 1 else cols, state_col, list(real))
    stale = {k: found.get(k, "(gone)") for k, (f, _) in real.items() if found.get(k) != f}
    if stale:
        raise StaleState(lifecycle.kind, stale)
    pairs: dict[tuple[str, str], list[K]] = defaultdict(list)
    for k, pair in real.items():
        pairs[pair].append(k)
    for (f, t), ks in pairs.items():
        ks = sorted(ks)  # type: ignore[type-var]
        for i in range(0, len(ks), CHUNK):
            part = ks[i:i + CHUNK]
            n = conn.execute(update(table).where(key_col.in_(part), state_col == f)
                             .values({state: t, **values})).rowcount
            if n != len(part):  # moved between the read and the write: no lock was held
                raise StaleState(lifecycle.kind, {k: "?" for k in part})
    log.extend(StateMove(lifecycle.kind, str(k), f, t) for k, (f, t) in real.items())
    return sorted(real)  # type: ignore[type-var]


__all__ = ["current_states", "move_rows"]
