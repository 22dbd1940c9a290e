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

from sqlalchemy import Column, Connection, Table, select, update

from fahuo.domain.lifecycle import Lifecycle, StaleState, StateMove

K = TypeVar("K", bound=Hashable)
CHUNK = 500  # below every database's parameter limit


def current_states(conn: Connection, key: Column, state: Column, keys: Sequence[K]
                   ) -> dict[K, str]:
    out: dict[K, str] = {}
    ids = sorted(set(keys))  # type: ignore[type-var]
    for i in range(0, len(ids), CHUNK):
        out.update(conn.execute(select(key, state).where(key.in_(ids[i:i + CHUNK]))).all())
    return out


def move_rows(conn: Connection, table: Table, lifecycle: Lifecycle[Any],
              moves: Mapping[K, tuple[str, str]], log: list[StateMove], *,
              key: str = "id", state: str = "state", **values: Any) -> list[K]:
    """Move each row ``k`` from ``moves[k][0]`` to ``moves[k][1]`` (same state: no move);
    ``values`` are written with every moved row. The keys moved."""
    real = {k: (str(f), str(t)) for k, (f, t) in moves.items() if str(f) != str(t)}
    for k, (f, t) in real.items():
        lifecycle.move(k, f, t)
    if not real:
        return []
    key_col, state_col = table.c[key], table.c[state]
    found = current_states(conn, key_col, state_col, list(real))
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
