"""One kind of state machine for every lifecycle fahuo keeps (orders, packs, interceptions…).

Pure: no SQL. Each lifecycle is a ``Lifecycle`` with one explicit transition table beside its
entity (``domain/orders.py``, ``domain/packs.py``, ``domain/aftersales.py``); repositories
write a state only after ``move`` allowed it, with a conditional update (``WHERE state =
:from``), so an illegal move raises before anything is written and a row someone else moved
meanwhile raises ``StaleState`` instead of being overwritten.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

S = TypeVar("S", bound=StrEnum)
K = TypeVar("K")


class IllegalTransition(ValueError):
    """A move the lifecycle's table does not allow; nothing was written."""

    def __init__(self, kind: str, subject: object, current: object, target: object) -> None:
        super().__init__(f"{kind} {subject}: cannot move from {current} to {target}")
        self.kind, self.subject, self.current, self.target = kind, subject, current, target


class StaleState(RuntimeError):
    """Rows that were no longer in the state the caller moved them from (another worker
    moved them first). Raised before anything of the batch was written; the caller's unit of
    work should end (it rolls back) and the step is tried again on fresh reads."""

    def __init__(self, kind: str, found: Mapping[Any, Any]) -> None:
        shown = ", ".join(f"{k} is {v}" for k, v in list(found.items())[:5])
        super().__init__(f"{kind}: moved meanwhile ({len(found)}): {shown}")
        self.kind, self.found = kind, dict(found)


@dataclass(frozen=True, slots=True)
class StateMove:
    """One stored transition (what a unit of work wrote), for observers and tests."""

    kind: str
    subject: str
    current: str | None  # None: the row was created in ``target``
    target: str


@dataclass(frozen=True)
class Lifecycle(Generic[S]):
    """A named transition table: ``table[s]`` is every state ``s`` may move to. Staying in
    the same state is not a move (callers skip it); every other pair must be in the table."""

    kind: str
    table: Mapping[S, frozenset[S]]
    initial: frozenset[S]
    _by_value: dict[str, S] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        states = set(self.table)
        for src, targets in self.table.items():
            missing = set(targets) - states
            if missing or src in targets:
                raise ValueError(f"{self.kind}: bad row for {src}: {sorted(map(str, missing))}"
                                 if missing else f"{self.kind}: {src} lists itself")
        if not self.initial <= states:
            raise ValueError(f"{self.kind}: initial states outside the table")
        object.__setattr__(self, "_by_value", {str(s): s for s in states})

    @property
    def states(self) -> frozenset[S]:
        return frozenset(self.table)

    @property
    def terminal(self) -> frozenset[S]:
        return frozenset(s for s, nxt in self.table.items() if not nxt)

    def can_move(self, current: S | str, target: S | str) -> bool:
        return _as(self, target) in self.table[_as(self, current)]

    def move(self, subject: object, current: S | str, target: S | str) -> S:
        """``target`` when the table allows the move; raises ``IllegalTransition``."""
        cur, to = _as(self, current), _as(self, target)
        if to not in self.table[cur]:
            raise IllegalTransition(self.kind, subject, cur, to)
        return to

    def check_new(self, subject: object, state: S | str) -> S:
        """A row created in ``state``: only the lifecycle's initial states."""
        s = _as(self, state)
        if s not in self.initial:
            raise IllegalTransition(self.kind, subject, "(new)", s)
        return s

    def sources(self, target: S | str) -> frozenset[S]:
        """Every state that may move to ``target``."""
        to = _as(self, target)
        return frozenset(s for s, nxt in self.table.items() if to in nxt)

    def moves_to(self, current: Mapping[K, str], target: S | str,
                 among: Collection[S | str]) -> dict[K, tuple[str, str]]:
        """The moves to ``target`` of the rows (key → stored state) whose state is one of
        ``among``: the caller's rule of which rows a step applies to. Rows already there
        are left out; every move is still checked here, so a rule naming a state the table
        does not let reach ``target`` raises instead of skipping."""
        to = _as(self, target)
        which = {_as(self, s) for s in among}
        out = {k: (st, to.value) for k, st in current.items()
               if st != to and _as(self, st) in which}
        for k, (st, _) in out.items():
            self.move(k, st, to)
        return out


def _as(lc: Lifecycle[S], value: S | str) -> S:
    """The state a plain string from the store names; an unknown one raises."""
    got = lc._by_value.get(str(value))
    if got is None:
        raise IllegalTransition(lc.kind, "?", value, "(unknown state)")
    return got


__all__ = ["IllegalTransition", "Lifecycle", "StaleState", "StateMove"]
