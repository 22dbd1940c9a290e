"""One transaction per use case. The scope commits on a clean exit; services never commit."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import structlog
from sqlalchemy import Connection, Engine, RootTransaction

from fahuo.adapters.crypto import SecretBox
from fahuo.domain.lifecycle import StateMove

from .aftersale_repositories import AfterSaleRepository
from .board_queries import BoardQueries
from .handover_repositories import HandoverRepository
from .report_queries import ReportQueries
from .leases import DEFAULT_LEASE_S, LeaseRepository
from .list_queries import ListQueries
from .scan_repositories import ScanRepository
from .shipping_repositories import PipelineRepository, PrintRepository, SettingsRepository
from .tracking_repositories import TrackingRepository
from .user_repositories import UserRepository
from .stock_repositories import StockRepository
from .wms_repositories import WmsRepository
from .workbench_queries import WorkbenchQueries
from .repositories import (
    AuditRepository, CursorRepository, InboxRepository, OrderRepository, ShopRepository,
)

if TYPE_CHECKING:
    from fahuo.services import ports

log = structlog.get_logger(__name__)
T = TypeVar("T")
# PostgreSQL gave up on the transaction, not on its data: serialization_failure and
# deadlock_detected. Running the whole unit of work again is the documented answer.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
RETRY_ATTEMPTS = 4
RETRY_BASE_DELAY_S = 0.05


class UnitOfWork:
    shops: ShopRepository
    orders: OrderRepository
    cursors: CursorRepository
    inbox: InboxRepository
    audit: AuditRepository
    settings: SettingsRepository
    pipeline: PipelineRepository
    prints: PrintRepository
    tracking: TrackingRepository
    users: UserRepository
    stock: StockRepository
    aftersales: AfterSaleRepository
    wms: WmsRepository
    handover: HandoverRepository
    scans: ScanRepository
    reports: ReportQueries
    board: BoardQueries
    lists: ListQueries  # the console's paged lists
    workbench: WorkbenchQueries
    leases: LeaseRepository
    conn: Connection
    # Every state this unit of work wrote (orders, packs, interceptions), in order; handed
    # to ``on_commit`` once the transaction is in.
    moves: list[StateMove]

    def __init__(self, engine: Engine, box: SecretBox, *, readonly: bool = False,
                 lease_s: float = DEFAULT_LEASE_S,
                 on_commit: Callable[[list[StateMove]], None] | None = None) -> None:
        self.engine, self.box, self.readonly, self.lease_s = engine, box, readonly, lease_s
        self.on_commit = on_commit
        self._tx: RootTransaction | None = None

    def __enter__(self) -> "UnitOfWork":
        self.conn = self.engine.connect()
        if self.readonly:
            self.conn = self.conn.execution_options(fahuo_readonly=True)
        self._tx = self.conn.begin()
        self.moves = []
        self.shops = ShopRepository(self.conn, self.box)
        self.orders = OrderRepository(self.conn, self.box, self.moves)
        self.cursors = CursorRepository(self.conn)
        self.inbox = InboxRepository(self.conn)
        self.audit = AuditRepository(self.conn)
        self.settings = SettingsRepository(self.conn, self.box)
        self.pipeline = PipelineRepository(self.conn, self.moves)
        self.prints = PrintRepository(self.conn)
        self.tracking = TrackingRepository(self.conn, self.box)
        self.users = UserRepository(self.conn)
        self.stock = StockRepository(self.conn, self.moves)
        self.aftersales = AfterSaleRepository(self.conn, self.moves)
        self.wms = WmsRepository(self.conn)
        self.handover = HandoverRepository(self.conn, self.moves)
        self.scans = ScanRepository(self.conn)
        self.reports = ReportQueries(self.conn)
        self.board = BoardQueries(self.conn)
        self.lists = ListQueries(self.conn)
        self.workbench = WorkbenchQueries(self.conn)
        self.leases = LeaseRepository(self.conn, self.lease_s)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self._tx is not None, "leaving a unit of work that was never entered"
        committed = False
        try:
            if exc_type is None:
                self._tx.commit()
                committed = True
            else:
                self._tx.rollback()
        finally:
            self.conn.close()
        if committed and self.on_commit is not None and self.moves:
            self.on_commit(list(self.moves))


class UnitOfWorkFactory:
    """What services are given: call it to open a unit of work."""

    def __init__(self, engine: Engine, box: SecretBox, *,
                 lease_s: float = DEFAULT_LEASE_S,
                 on_commit: Callable[[list[StateMove]], None] | None = None) -> None:
        self.engine, self.box, self.lease_s = engine, box, lease_s
        self.on_commit = on_commit  # sees each committed unit of work's state moves

    def __call__(self, *, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(self.engine, self.box, readonly=readonly, lease_s=self.lease_s,
                          on_commit=self.on_commit)


def is_retryable(exc: BaseException) -> bool:
    """A deadlock or serialization failure reported by PostgreSQL (SQLAlchemy wraps the
    driver's error; its SQLSTATE is on ``orig``)."""
    orig = getattr(exc, "orig", None)
    return (getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)) \
        in RETRYABLE_SQLSTATES


def in_transaction(uow_factory: Callable[[], UnitOfWork], body: Callable[[UnitOfWork], T], *,
                   attempts: int = RETRY_ATTEMPTS, base_delay: float = RETRY_BASE_DELAY_S,
                   sleep: Callable[[float], None] = time.sleep,
                   jitter: Callable[[], float] = random.random) -> T:
    """Run ``body`` in a fresh unit of work, again (up to ``attempts`` times, after a growing
    wait with jitter) if PostgreSQL aborts it as a deadlock victim or a serialization
    failure. Any other error raises at once.

    Safe only for bodies that are pure store work: the failed attempt was rolled back whole,
    so running it again from the start is as if it ran once. Never pass a body that calls a
    platform (or anything outside the database) inside the transaction: that call would be
    repeated.
    """
    for attempt in range(1, attempts + 1):
        try:
            with uow_factory() as uow:
                return body(uow)
        except Exception as exc:
            if attempt >= attempts or not is_retryable(exc):
                raise
            wait = base_delay * 2 ** (attempt - 1) * (0.5 + jitter())
            log.warning("transaction_retried", attempt=attempt, wait_s=round(wait, 3),
                        error=str(getattr(exc, "orig", exc)).splitlines()[0][:200])
            sleep(wait)
    raise AssertionError("unreachable")  # the loop returns or raises


if TYPE_CHECKING:  # mypy proves the repositories are what the services' ports declare
    def _conforms(u: UnitOfWork) -> tuple[ports.AfterSaleRepo, ports.WmsRepo,
                                          ports.ParcelReads, ports.SkuSightings,
                                          ports.HandoverRepo, ports.ReportReads,
                                          ports.BoardReads]:
        return u.aftersales, u.wms, u.tracking, u.stock, u.handover, u.reports, u.board
