"""Leases: named locks in the database that expire unless their holder renews them.

Expiry is judged by the database's clock (PostgreSQL ``clock_timestamp()``, SQLite's
``julianday('now')``), never by the clocks of the machines that hold them. A holder that dies
without a word (kill -9, OOM, power loss) stops renewing, and after at most the lease anyone
may take over: nobody has to delete a key by hand.

- ``HeldLease`` (``hold``): exclusive work; a second caller gets ``LeaseHeld`` at once, the
  holder renews every third of the lease on a thread while its work runs.
- ``Candidate``: leader election; stands for the lease for as long as it runs.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from fahuo.services.ports import LeaseHeld

from .models import leases

log = structlog.get_logger(__name__)
DEFAULT_LEASE_S = 30.0


def _machine() -> str:
    """This kernel's boot and pid namespace: where a pid names one process. Two containers
    may share a host name but never both of these."""
    parts = []
    for path in ("/proc/sys/kernel/random/boot_id", "/proc/self/ns/pid"):
        try:
            parts.append(os.readlink(path) if path.endswith("pid")
                         else Path(path).read_text())
        except OSError:
            return ""  # unknown: a lease of this machine then waits for its expiry
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:12]


MACHINE = _machine()


def new_holder() -> str:
    """A holder id unique to one acquisition, readable by people (host:pid:random:machine)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:10]}:{MACHINE}"


def holder_pid(holder: str) -> int | None:
    """The process id in a holder id of ``new_holder``."""
    parts = holder.split(":")
    return int(parts[-3]) if len(parts) >= 4 and parts[-3].isdigit() else None


def died_here(holder: str) -> bool:
    """A holder on this machine whose process is gone: its lease need not run out. A restarted
    `fahuo serve` takes its dead predecessor's work over at once instead of after a lease."""
    pid = holder_pid(holder)
    if pid is None or not MACHINE or holder.rsplit(":", 1)[-1] != MACHINE:
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, another user's
        return False
    return False


class LeaseRepository:
    """``services.ports.Leases`` on one connection (inside a unit of work)."""

    def __init__(self, conn: Connection, ttl_s: float = DEFAULT_LEASE_S) -> None:
        self.conn, self.ttl_s = conn, ttl_s
        pg = conn.dialect.name == "postgresql"
        self._insert = postgresql.insert if pg else sqlite.insert
        self._now = sa.literal_column(
            "(extract(epoch from clock_timestamp()))::float8" if pg
            else "((julianday('now') - 2440587.5) * 86400.0)", type_=sa.Float)

    def _ttl(self, ttl_s: float | None) -> Any:
        return sa.literal(float(ttl_s or self.ttl_s), sa.Float)

    def acquire(self, name: str, holder: str, ttl_s: float | None = None) -> bool:
        # One statement: a free, expired or own lease is taken; a live one of another holder
        # is left alone. Concurrent inserts of one name serialise on its key.
        stmt = self._insert(leases).values(name=name, holder=holder,
                                           expires_at=self._now + self._ttl(ttl_s),
                                           acquired_at=self._now)
        ex = stmt.excluded
        upsert = stmt.on_conflict_do_update(
            index_elements=[leases.c.name],
            set_={"holder": ex.holder, "expires_at": ex.expires_at,
                  "acquired_at": sa.case((leases.c.holder == ex.holder, leases.c.acquired_at),
                                         else_=ex.acquired_at)},
            where=sa.or_(leases.c.holder == ex.holder, leases.c.expires_at <= ex.acquired_at),
        ).returning(leases.c.holder)
        if self.conn.execute(upsert).first() is not None:
            return True
        dead = self.holder_of(name)
        if dead is None or not died_here(dead):
            return False
        res = self.conn.execute(leases.update().where(
            leases.c.name == name, leases.c.holder == dead).values(
            holder=holder, expires_at=self._now + self._ttl(ttl_s), acquired_at=self._now))
        if res.rowcount == 1:
            log.info("lease_taken_from_dead_holder", lease=name, dead=dead, holder=holder)
        return res.rowcount == 1

    def renew(self, name: str, holder: str, ttl_s: float | None = None) -> bool:
        # Still ours (even if just past expiry) means nobody held it meanwhile: taking it
        # rewrites the holder. (A released lease is never renewed: its beat stopped first.)
        res = self.conn.execute(
            leases.update().where(leases.c.name == name, leases.c.holder == holder)
            .values(expires_at=self._now + self._ttl(ttl_s)))
        return res.rowcount == 1

    def release(self, name: str, holder: str) -> None:
        # Expired, not deleted: the row keeps its mark for the next holder.
        self.conn.execute(leases.update().where(leases.c.name == name,
                                                leases.c.holder == holder)
                          .values(expires_at=self._now))

    def holder_of(self, name: str) -> str | None:
        return self.conn.execute(sa.select(leases.c.holder).where(
            leases.c.name == name, leases.c.expires_at > self._now)).scalar()

    def advance_mark(self, name: str, holder: str, mark: int) -> bool:
        res = self.conn.execute(
            leases.update().where(leases.c.name == name, leases.c.holder == holder,
                                  sa.or_(leases.c.mark.is_(None), leases.c.mark < mark))
            .values(mark=mark))
        return res.rowcount == 1


UowFactory = Callable[[], Any]  # a unit of work with ``.leases`` (services.ports.Leases)


class HeldLease:
    """``with hold(uow, "pipeline"):`` — exclusive across every process on one database.

    Raises ``LeaseHeld`` at once if another holder has it. While the block runs, a thread
    renews the lease every third of its length; ``lost`` is set if it was taken over anyway
    (this process stalled longer than the lease)."""

    def __init__(self, uow: UowFactory, name: str, *, ttl_s: float | None = None,
                 holder: str | None = None) -> None:
        self.uow, self.name, self.ttl_s = uow, name, ttl_s
        self.holder = holder or new_holder()
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "HeldLease":
        with self.uow() as u:
            self.ttl_s = float(self.ttl_s or u.leases.ttl_s)
            if not u.leases.acquire(self.name, self.holder, self.ttl_s):
                raise LeaseHeld(self.name, u.leases.holder_of(self.name))
        self._thread = threading.Thread(target=self._beat, name=f"lease-{self.name}",
                                        daemon=True)
        self._thread.start()
        return self

    def _beat(self) -> None:
        assert self.ttl_s is not None
        while not self._stop.wait(self.ttl_s / 3):
            try:
                with self.uow() as u:
                    kept = u.leases.renew(self.name, self.holder, self.ttl_s)
            except Exception as exc:  # noqa: BLE001 - the store may be back at the next beat
                log.warning("lease_renew_failed", lease=self.name, error=str(exc))
                continue
            if not kept:
                self.lost.set()
                log.error("lease_lost", lease=self.name, holder=self.holder)
                return

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        try:
            with self.uow() as u:
                u.leases.release(self.name, self.holder)
        except Exception as exc:  # noqa: BLE001 - it expires by itself
            log.warning("lease_release_failed", lease=self.name, error=str(exc))


def hold(uow: UowFactory, name: str, *, ttl_s: float | None = None) -> HeldLease:
    return HeldLease(uow, name, ttl_s=ttl_s)


class Candidate:
    """Leader election by lease: ``start()`` campaigns every third of the lease (taking the
    lease whenever it is free, renewing it while held) until ``stop()``.

    ``claim(mark)`` is the leader's atomic "I still lead and nobody did ``mark`` yet": the
    lease is taken or renewed and its mark moved forward in one transaction."""

    def __init__(self, uow: UowFactory, name: str, *, ttl_s: float | None = None,
                 holder: str | None = None) -> None:
        self.uow, self.name, self.ttl_s = uow, name, ttl_s
        self.holder = holder or new_holder()
        self.leading = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def campaign(self) -> bool:
        try:
            with self.uow() as u:
                self.ttl_s = float(self.ttl_s or u.leases.ttl_s)
                self._lead(u.leases.acquire(self.name, self.holder, self.ttl_s))
        except Exception as exc:  # noqa: BLE001 - try again at the next beat
            log.warning("lease_campaign_failed", lease=self.name, error=str(exc))
            self._lead(False)
        return self.leading

    def claim(self, mark: int) -> bool:
        with self.uow() as u:
            self.ttl_s = float(self.ttl_s or u.leases.ttl_s)
            self._lead(u.leases.acquire(self.name, self.holder, self.ttl_s))
            return self.leading and u.leases.advance_mark(self.name, self.holder, mark)

    def _lead(self, now_leading: bool) -> None:
        if now_leading != self.leading:
            log.info("leader_elected" if now_leading else "leader_lost", lease=self.name,
                     holder=self.holder)
        self.leading = now_leading

    def start(self) -> "Candidate":
        self.campaign()
        self._thread = threading.Thread(target=self._loop, name=f"candidate-{self.name}",
                                        daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait((self.ttl_s or DEFAULT_LEASE_S) / 3):
            self.campaign()

    def stop(self) -> None:
        """Step down: the lease is released, so another candidate leads at its next beat."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        try:
            with self.uow() as u:
                u.leases.release(self.name, self.holder)
        except Exception as exc:  # noqa: BLE001 - it expires by itself
            log.warning("lease_release_failed", lease=self.name, error=str(exc))
        self.leading = False
