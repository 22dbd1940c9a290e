"""One transaction per use case. The scope commits on a clean exit; services never commit."""

from __future__ import annotations

from sqlalchemy import Connection, Engine

from fahuo.adapters.crypto import SecretBox

from .leases import DEFAULT_LEASE_S, LeaseRepository
from .shipping_repositories import PipelineRepository, PrintRepository, SettingsRepository
from .tracking_repositories import TrackingRepository
from .user_repositories import UserRepository
from .stock_repositories import StockRepository
from .repositories import (
    AuditRepository, CursorRepository, InboxRepository, OrderRepository, ShopRepository,
)


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
    leases: LeaseRepository
    conn: Connection

    def __init__(self, engine: Engine, box: SecretBox, *, readonly: bool = False,
                 lease_s: float = DEFAULT_LEASE_S) -> None:
        self.engine, self.box, self.readonly, self.lease_s = engine, box, readonly, lease_s
        self._tx = None

    def __enter__(self) -> "UnitOfWork":
        self.conn = self.engine.connect()
        if self.readonly:
            self.conn = self.conn.execution_options(fahuo_readonly=True)
        self._tx = self.conn.begin()
        self.shops = ShopRepository(self.conn, self.box)
        self.orders = OrderRepository(self.conn, self.box)
        self.cursors = CursorRepository(self.conn)
        self.inbox = InboxRepository(self.conn)
        self.audit = AuditRepository(self.conn)
        self.settings = SettingsRepository(self.conn, self.box)
        self.pipeline = PipelineRepository(self.conn)
        self.prints = PrintRepository(self.conn)
        self.tracking = TrackingRepository(self.conn, self.box)
        self.users = UserRepository(self.conn)
        self.stock = StockRepository(self.conn)
        self.leases = LeaseRepository(self.conn, self.lease_s)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self._tx.commit()
            else:
                self._tx.rollback()
        finally:
            self.conn.close()


class UnitOfWorkFactory:
    """What services are given: call it to open a unit of work."""

    def __init__(self, engine: Engine, box: SecretBox, *,
                 lease_s: float = DEFAULT_LEASE_S) -> None:
        self.engine, self.box, self.lease_s = engine, box, lease_s

    def __call__(self, *, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(self.engine, self.box, readonly=readonly, lease_s=self.lease_s)
