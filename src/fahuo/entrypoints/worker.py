"""Background work on Huey: SQLite queue by default, Redis when FAHUO_REDIS_URL is set.

Embedded default: `fahuo serve` runs the consumer on threads in its own process. At scale:
`fahuo worker` on as many machines as needed, all pointed at one Redis and one PostgreSQL.
"""

from __future__ import annotations

import structlog
from huey import RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer
from huey.exceptions import TaskLockedException

from fahuo.bootstrap import get_app
from fahuo.config import Settings, get_settings
from fahuo.services.push import process_inbox

log = structlog.get_logger(__name__)


def make_huey(settings: Settings):  # noqa: ANN201
    if settings.redis_url:
        return RedisHuey("fahuo", url=settings.redis_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("fahuo", filename=str(settings.data_dir / "queue.db"))


huey = make_huey(get_settings())


@huey.task(retries=2, retry_delay=5)
def sync_shop_task(shop_ref: int) -> dict:
    # One sync per shop at a time, whichever worker machine picks it up; a second request
    # while one runs is covered by the running one.
    try:
        with huey.lock_task(f"sync-shop-{shop_ref}"):
            return sync_shop(shop_ref)
    except TaskLockedException:
        return {"skipped": True}


def sync_shop(shop_ref: int) -> dict:
    app = get_app()
    with app.uow() as uow:
        shop = uow.shops.get(shop_ref)
    if shop is None or not shop.enabled:
        return {"skipped": True}
    try:
        report = app.order_sync.run(shop_ref, app.platform_for(shop))
    except Exception as exc:
        with app.uow() as uow:
            uow.cursors.record_error(shop_ref, f"{type(exc).__name__}: {exc}")
        raise
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
    try:
        with huey.lock_task("pipeline"):
            return run_pipeline()
    except TaskLockedException:
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
        with huey.lock_task("process-inbox"):
            return drain_inbox()
    except TaskLockedException:  # the running drain picks new messages up
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
        with huey.lock_task("tracking"):
            return run_tracking()
    except TaskLockedException:
        return {"skipped": True}


def run_tracking() -> dict:
    from fahuo.services.aftersales import follow_intercepts
    app = get_app()
    track = app.tracking.run().as_dict()
    # interceptions are judged by the parcels' tracking: read it while it is fresh
    outcomes = follow_intercepts(app.uow)
    found = app.watch.detect().as_dict()
    alerts = app.watch.send_alerts(app.settings.public_url)
    return {"tracking": track, "intercept_outcomes": outcomes, "exceptions": found,
            "alerts": len(alerts)}


@huey.task()
def tracking_pushes_task() -> dict:
    """Merge stored courier pushes soon after they arrive (the webhook only stores them)."""
    try:
        with huey.lock_task("tracking-pushes"):
            app = get_app()
            rep = app.tracking.process_pushes()
            return rep.as_dict()
    except TaskLockedException:
        return {"skipped": True}


@huey.task()
def stock_sync_task(full: bool = False) -> dict:
    """Tell the shops what they can sell (changed SKUs; everything when ``full``)."""
    from fahuo.services.stock_sync import sync_stock
    try:
        with huey.lock_task("stock-sync"):
            app = get_app()
            return sync_stock(app.uow, app.platform_for, full=full).as_dict()
    except TaskLockedException:
        return {"skipped": True}


@huey.task(retries=2, retry_delay=30)
def aftersales_task(shop_ref: int) -> dict:
    """After-sale cases changed on the platform; interceptions offered."""
    from fahuo.services.aftersales import sync_after_sales
    try:
        with huey.lock_task(f"aftersales-{shop_ref}"):
            app = get_app()
            r = sync_after_sales(app.uow, app.platform_for, shop_ref)
            return {"cases": r.cases, "offered": r.offered,
                    "intercept_outcomes": r.intercept_outcomes}
    except TaskLockedException:
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
        with huey.lock_task("wms"):
            port = FileWarehouse(app.settings.wms_dir)
            back = import_confirmations(app.uow, app.platform_for, port,
                                        concurrency=app.settings.platform_concurrency)
            sent = export_outbound(app.uow, port)
            return {"exported": sent.exported, "cancelled": sent.cancelled,
                    "confirmed": back.confirmed, "refused": back.refused}
    except TaskLockedException:
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


class EmbeddedConsumer(Consumer):
    """The consumer on threads inside the web server; the server owns the signals.

    Its threads are daemons and a graceful stop waits at most ``SHUTDOWN_TIMEOUT_S`` for the
    running tasks: a task stuck on the network or a lock must never keep `fahuo serve` from
    stopping on SIGTERM (an interrupted task is redone by the next pass)."""

    SHUTDOWN_TIMEOUT_S = 3.0

    def _set_signal_handlers(self) -> None:  # noqa: D401
        return None


def start_embedded(workers: int = 2, periodic: bool = True) -> EmbeddedConsumer:
    consumer = EmbeddedConsumer(huey, workers=workers, worker_type="thread", periodic=periodic,
                                shutdown_timeout=EmbeddedConsumer.SHUTDOWN_TIMEOUT_S)
    consumer.start()
    return consumer
