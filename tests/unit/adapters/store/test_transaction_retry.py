"""The second line against deadlocks: a whole unit of work runs again when PostgreSQL
aborts it as a deadlock victim (40P01) or a serialization failure (40001); any other
error raises at once, and a run out of attempts raises the database's error."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from fahuo.adapters.store.unit_of_work import in_transaction


class _DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def _db_error(sqlstate: str, kind=OperationalError):
    return kind("UPDATE orders ...", {}, _DriverError(sqlstate))


class _Uow:
    """A unit of work that records whether it committed or rolled back."""

    def __init__(self, log: list[str]) -> None:
        self.log = log

    def __enter__(self) -> "_Uow":
        self.log.append("begin")
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.log.append("rollback" if exc_type else "commit")


def _run(body, attempts: int = 4):
    log: list[str] = []
    waits: list[float] = []
    result = in_transaction(lambda: _Uow(log), body, attempts=attempts, base_delay=0.1,
                            sleep=waits.append, jitter=lambda: 0.5)
    return result, log, waits


def test_deadlock_twice_then_the_whole_unit_runs_again_and_commits():
    calls = []

    def body(uow):
        calls.append(uow)
        if len(calls) <= 2:
            raise _db_error("40P01")
        return "stored"

    result, log, waits = _run(body)
    assert result == "stored"
    assert len(calls) == 3 and len({id(u) for u in calls}) == 3  # a fresh unit each time
    assert log == ["begin", "rollback", "begin", "rollback", "begin", "commit"]
    # base 0.1 s doubling, jitter factor 0.5 + 0.5 = 1
    assert waits == pytest.approx([0.1, 0.2])


def test_serialization_failure_is_retried_too():
    n = []

    def body(uow):
        n.append(1)
        if len(n) == 1:
            raise _db_error("40001")
        return len(n)

    assert _run(body)[0] == 2


@pytest.mark.parametrize("error", [
    _db_error("23505", IntegrityError),  # unique violation: running again changes nothing
    _db_error("57014"),  # query cancelled
    ValueError("bad input"),
])
def test_other_errors_raise_at_once(error):
    calls = []

    def body(uow):
        calls.append(1)
        raise error

    with pytest.raises(type(error)):
        _run(body)
    assert len(calls) == 1


def test_out_of_attempts_raises_the_deadlock():
    calls = []

    def body(uow):
        calls.append(1)
        raise _db_error("40P01")

    with pytest.raises(OperationalError, match="40P01"):
        _run(body, attempts=3)
    assert len(calls) == 3
