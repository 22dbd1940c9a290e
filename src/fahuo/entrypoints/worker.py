"""Background work on Huey: SQLite queue by default, Redis when FAHUO_REDIS_URL is set.

Embedded default: `fahuo serve` runs the consumer on threads in its own process. At scale:
`fahuo worker` on as many machines as needed, all pointed at one Redis and one PostgreSQL.

Exclusive work takes a lease in the database (`adapters/store/leases.py`), never a Huey lock:
a lease expires when its holder dies, a Huey lock stays until someone deletes it. The periodic
tasks are enqueued by one scheduler only, the holder of the ``scheduler`` lease.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

import structlog
from huey import RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer, Scheduler

from fahuo.adapters.store.leases import Candidate, HeldLease, hold
from fahuo.bootstrap import get_app
from fahuo.config import Settings, get_settings
from fahuo.services.ports import LeaseHeld
from fahuo.services.push import process_inbox

log = structlog.get_logger(__name__)


def make_huey(settings: Settings):
    if settings.redis_url:
        return RedisHuey("fahuo", url=settings.redis_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("fahuo", filename=str(settings.data_dir / "queue.db"))


huey = make_huey(get_settings())


def exclusive(name: str) -> HeldLease:
    """One holder at a time across every worker machine; raises ``LeaseHeld``."""
    return hold(get_app().uow, name)


@huey.task(retries=2, retry_delay=5)
def sync_shop_task(shop_ref: int) -> dict:
    # One sync per shop at a time, whichever worker machine picks it up; a second request
    # while one runs is covered by the running one.
    try:
        with exclusive(f"sync-shop-{shop_ref}"):
            return sync_shop(shop_ref)
    except LeaseHeld:
        return {"skipped": True}


def sync_shop(shop_ref: int) -> dict:
    app = get_app()
    with app.uow() as uow:
        shop = uow.shops.get(shop_ref)
    if shop is None or not shop.enabled:
        return {"skipped": True}
    report = app.order_sync.run_recording_failure(shop_ref, app.platform_for(shop))
    if report.inserted or report.updated:
        _enqueue_pipeline()
    return {"orders": report.orders_seen, "inserted": report.inserted,
            "updated": report.updated}


def _enqueue_pipeline() -> None:
    try:
        pipeline_task()
    except Exception as exc:  # noqa: BLE001 - the periodic pass runs it anyway
        log.warning("pipeline_enqueue_failed", error=str(exc))


@huey.task()
def pipeline_task() -> dict:
    """One pass of audit → packs → waybills → confirmation, deadline first."""
    try:  # the pass takes the ``pipeline`` lease itself (so the API and CLI take turns too)
        return run_pipeline()
    except LeaseHeld:
        return {"skipped": True}


def run_pipeline() -> dict:
    app = get_app()
    summary = app.pipeline().run().summary()
    if summary["confirm"]["done"]:
        try:  # new parcels: start tracking them now, not at the next minute
            tracking_task()
        except Exception as exc:  # noqa: BLE001 - the periodic pass runs it anyway
            log.warning("tracking_enqueue_failed", error=str(exc))
    return summary


@huey.task(retries=2, retry_delay=30)
def refresh_shop_task(shop_ref: int) -> dict:
    """Address book and e-waybill balances from the platform."""
    from fahuo.services.settings import refresh_from_platform
    app = get_app()
    return refresh_from_platform(app.uow, app.platform_for, shop_ref)


@huey.task()
def process_inbox_task() -> dict:
    try:
        with exclusive("process-inbox"):
            return drain_inbox()
    except LeaseHeld:  # the running drain picks new messages up
        return {"skipped": True}


def drain_inbox(max_rounds: int = 20) -> dict:
    app = get_app()
    total = 0
    touched: set[str] = set()
    refund_shops: set[int] = set()
    for _ in range(max_rounds):
        report = process_inbox(app.uow, app.platform_for)
        total += report.processed
        touched.update(report.order_ids)
        refund_shops |= report.aftersale_shops
        if report.processed == 0:
            break
    if touched:  # a deadline moved by push 112/126 moves its warnings now, not next sweep
        app.watch.detect_orders(touched)
    for shop_ref in sorted(refund_shops):  # refund tags 200–227: the case list now
        aftersales_task(shop_ref)
    if total:
        _enqueue_pipeline()
    return {"processed": total}


@huey.task()
def tracking_task() -> dict:
    """Start trackers for new shipments, subscribe, merge pushes, poll what is due; then
    find exceptions and tell people."""
    try:
        with exclusive("tracking"):
            return run_tracking()
    except LeaseHeld:
        return {"skipped": True}


def run_tracking() -> dict:
    from fahuo.bootstrap import follow_intercepts
    app = get_app()
    track = app.tracking.run().as_dict()
    # interceptions are judged by the parcels' tracking: read it while it is fresh
    outcomes = follow_intercepts(app.uow)
    found = app.watch.detect().as_dict()
    alerts = app.watch.send_alerts(app.settings.public_url)
    from fahuo.services.report import send_flag_digest  # once a day per channel
    digest = send_flag_digest(app.uow, app.notify, link_base=app.settings.public_url)
    return {"tracking": track, "intercept_outcomes": outcomes, "exceptions": found,
            "alerts": len(alerts), "digest": len(digest)}


@huey.task()
def tracking_pushes_task() -> dict:
    """Merge stored courier pushes soon after they arrive (the webhook only stores them)."""
    try:
        with exclusive("tracking-pushes"):
            app = get_app()
            rep = app.tracking.process_pushes()
            return rep.as_dict()
    except LeaseHeld:
        return {"skipped": True}


@huey.task()
def stock_sync_task(full: bool = False) -> dict:
    """Tell the shops what they can sell (changed SKUs; everything when ``full``)."""
    from fahuo.services.stock_sync import sync_stock
    try:
        with exclusive("stock-sync"):
            app = get_app()
            return sync_stock(app.uow, app.platform_for, full=full).as_dict()
    except LeaseHeld:
        return {"skipped": True}


@huey.task(retries=2, retry_delay=30)
def aftersales_task(shop_ref: int) -> dict:
    """After-sale cases changed on the platform; interceptions offered."""
    from fahuo.bootstrap import sync_after_sales
    try:
        with exclusive(f"aftersales-{shop_ref}"):
            app = get_app()
            r = sync_after_sales(app.uow, app.platform_for, shop_ref)
            return {"cases": r.cases, "offered": r.offered,
                    "intercept_outcomes": r.intercept_outcomes}
    except LeaseHeld:
        return {"skipped": True}


@huey.task()
def wms_task() -> dict:
    """Exchange files with the third-party warehouse, when one is configured."""
    from fahuo.adapters.wms import FileWarehouse
    from fahuo.services.wms import export_outbound, import_confirmations
    app = get_app()
    if app.settings.wms_dir is None:
        return {"skipped": True}
    try:
        with exclusive("wms"):
            port = FileWarehouse(app.settings.wms_dir)
            back = import_confirmations(app.uow, app.platform_for, port,
                                        concurrency=app.settings.platform_concurrency)
            sent = export_outbound(app.uow, port)
            return {"exported": sent.exported, "cancelled": sent.cancelled,
                    "confirmed": back.confirmed, "refused": back.refused}
    except LeaseHeld:
        return {"skipped": True}


@huey.periodic_task(crontab(minute="23"))
def stock_full_sync() -> None:
    stock_sync_task(full=True)


@huey.periodic_task(crontab(minute=f"*/{max(1, get_settings().sync_every_minutes)}"))
def poll_shops() -> None:
    app = get_app()
    with app.uow() as uow:
        shops = uow.shops.list(enabled_only=True)
    for shop in shops:
        sync_shop_task(shop.id)
        aftersales_task(shop.id)
    stock_sync_task()
    if app.settings.wms_dir is not None:
        wms_task()
    process_inbox_task()  # retries messages whose order fetch failed earlier
    pipeline_task()
    tracking_task()


@huey.periodic_task(crontab(minute="7"))
def refresh_shops() -> None:
    app = get_app()
    with app.uow() as uow:
        shops = uow.shops.list(enabled_only=True)
    for shop in shops:
        refresh_shop_task(shop.id)


class LeaderScheduler(Scheduler):
    """Huey's scheduler, except that only the leader enqueues periodic tasks.

    Every consumer stands for the ``scheduler`` lease (``Candidate``); at the start of each
    period (``FAHUO_PERIODIC_EVERY_S``, on the minute in production) the holder claims the
    period on the lease's mark and enqueues what is due. The claim renews the lease and moves
    the mark in one transaction, so a period is enqueued once across the cluster, also when
    the leader dies and another takes over. Delayed tasks are enqueued by every scheduler,
    as Huey does."""

    def __init__(self, huey, stop_flag, interval, *, candidate: Candidate | None,
                 every_s: int) -> None:
        super().__init__(huey, stop_flag, interval, periodic=False)
        self.candidate, self.every_s = candidate, every_s
        self._period: int | None = None

    def loop(self, now=None) -> None:
        if self.candidate is not None:
            self.enqueue_due()
        super().loop(now)

    def enqueue_due(self, at: float | None = None) -> list[str]:
        """The periodic tasks due this period, if this scheduler leads and nobody enqueued
        them yet; their names."""
        assert self.candidate is not None
        period = int((time.time() if at is None else at) // self.every_s) * self.every_s
        if period == self._period:
            return []
        try:
            mine = self.candidate.claim(period)
        except Exception as exc:  # noqa: BLE001 - asked again at the next loop
            log.warning("scheduler_claim_failed", error=str(exc))
            return []
        self._period = period
        if not mine:
            return []
        stamp = (datetime.fromtimestamp(period, timezone.utc).replace(tzinfo=None)
                 if self.huey.utc else datetime.fromtimestamp(period))
        names = []
        for task in self.huey.read_periodic(stamp):
            try:
                self.huey.enqueue(task)
                names.append(task.name)
            except Exception as exc:  # noqa: BLE001 - the next period enqueues it again
                log.warning("periodic_enqueue_failed", task=task.name, error=str(exc))
        log.info("periodic_enqueued", period=period, tasks=names, holder=self.candidate.holder)
        return names


class FahuoConsumer(Consumer):
    """Huey's consumer with ``LeaderScheduler``: run it on every worker; with ``periodic`` it
    stands for scheduler, without it never enqueues periodic tasks."""

    def __init__(self, huey, *, periodic: bool = True, **kw) -> None:
        app = get_app()
        self.candidate = Candidate(app.uow, "scheduler") if periodic else None
        self.every_s = app.settings.periodic_every_s
        super().__init__(huey, periodic=periodic, **kw)

    def _create_scheduler(self) -> LeaderScheduler:
        self.leader_scheduler = LeaderScheduler(
            self.huey, self.stop_flag, self.scheduler_interval, candidate=self.candidate,
            every_s=self.every_s)
        return self.leader_scheduler

    def start(self) -> None:
        if self.candidate is not None:
            self.candidate.start()
        super().start()

    def stop(self, graceful: bool = False) -> None:
        super().stop(graceful)
        if self.candidate is not None:  # step down: another worker leads at its next beat
            self.candidate.stop()


class EmbeddedConsumer(FahuoConsumer):
    """The consumer on threads inside the web server; the server owns the signals.

    Its threads are daemons and a graceful stop waits at most ``SHUTDOWN_TIMEOUT_S`` for the
    running tasks: a task stuck on the network or a lock must never keep `fahuo serve` from
    stopping on SIGTERM (an interrupted task is redone by the next pass)."""

    SHUTDOWN_TIMEOUT_S = 3.0

    def _set_signal_handlers(self) -> None:
        return None


def start_embedded(workers: int = 2, periodic: bool = True) -> EmbeddedConsumer:
    consumer = EmbeddedConsumer(huey, workers=workers, worker_type="thread", periodic=periodic,
                                shutdown_timeout=EmbeddedConsumer.SHUTDOWN_TIMEOUT_S)
    consumer.start()
    return consumer
