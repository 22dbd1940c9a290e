"""Incremental order sync by update_time windows.

Why the shape:
- Windows end a few seconds before now (late writes on the platform side), start `overlap`
  seconds before the cursor (clock skew, same-second updates), and never reach past 90 days.
- A window holding more than `max_total` orders is halved, so page offsets stay small.
- Pages are live offsets: when an order in a window is updated mid-read it leaves the window
  and every later row shifts up, so one could be skipped. Every page carries `total`; if it
  changes, the window is read again (upserts are idempotent) and halved if it keeps moving.
- The cursor moves only after a whole window is stored, in the same transaction as its last
  page, so a crash at any point resumes with nothing lost and nothing doubled.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from fahuo.adapters.store.unit_of_work import UnitOfWork, in_transaction
from fahuo.services.orders import store_platform_orders
from fahuo.services.ports import ShopPlatform, UowFactory

log = structlog.get_logger(__name__)

PAGE_SIZE = 100
NINETY_DAYS = 90 * 86400


@dataclass(slots=True)
class SyncPolicy:
    overlap_s: int = 60
    lag_s: int = 3
    initial_days: int = 7
    max_total: int = 5000
    max_span_s: int = 86400
    max_rereads: int = 3

    @classmethod
    def from_settings(cls, s) -> "SyncPolicy":
        return cls(overlap_s=s.sync_overlap_s, lag_s=s.sync_lag_s,
                   initial_days=s.sync_initial_days, max_total=s.sync_window_max_total,
                   max_span_s=s.sync_window_max_span_s)


@dataclass(slots=True)
class SyncReport:
    shop_ref: int
    start: int
    end: int
    windows: int = 0
    pages: int = 0
    orders_seen: int = 0
    inserted: int = 0
    updated: int = 0
    stale: int = 0
    rereads: int = 0
    splits: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


Progress = Callable[[int, int], None]  # (orders stored so far, orders expected so far)


class _Prefetch:
    """Fetches the next pages of a window on a thread while the previous one is stored."""

    def __init__(self, api: ShopPlatform, a: int, b: int, pages: range) -> None:
        self._q: queue.Queue = queue.Queue(maxsize=4)
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, args=(api, a, b, pages), daemon=True)
        self._t.start()

    def _run(self, api: ShopPlatform, a: int, b: int, pages: range) -> None:
        for p in pages:
            if self._stop.is_set():
                return
            try:
                item = api.search_orders(update_time_start=a, update_time_end=b, page=p,
                                         size=PAGE_SIZE)
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer, re-raised there
                self._q.put(exc)
                return
            self._q.put(item)

    def get(self):
        item = self._q.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        self._stop.set()
        while self._t.is_alive():
            try:
                self._q.get(timeout=0.05)
            except queue.Empty:
                pass


class OrderSync:
    def __init__(self, uow_factory: UowFactory, policy: SyncPolicy | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.uow, self.policy, self.clock = uow_factory, policy or SyncPolicy(), clock

    def run_recording_failure(self, shop_ref: int, api: ShopPlatform, *,
                              progress: Progress | None = None) -> SyncReport:
        """:meth:`run`, and a failure kept on the shop's cursor (the shop list shows it)
        before it is raised: what the CLI and the worker do for each shop they sync."""
        try:
            return self.run(shop_ref, api, progress=progress)
        except Exception as exc:
            with self.uow() as uow:
                uow.cursors.record_error(shop_ref, f"{type(exc).__name__}: {exc}")
            raise

    def plan(self, cursor: int | None, now: int) -> tuple[int, int]:
        p = self.policy
        floor = now - NINETY_DAYS + 60  # stay inside the platform's 90-day window
        start = (now - p.initial_days * 86400) if cursor is None else cursor - p.overlap_s
        return max(start, floor), now - p.lag_s

    def run(self, shop_ref: int, api: ShopPlatform, *, progress: Progress | None = None,
            until: int | None = None) -> SyncReport:
        t0 = time.perf_counter()
        now = int(self.clock())
        with self.uow() as uow:
            cursor = uow.cursors.get(shop_ref)
        start, end = self.plan(cursor, now)
        if until is not None:
            end = min(end, until)
        report = SyncReport(shop_ref=shop_ref, start=start, end=end)
        if end <= start:
            return report
        # Pre-split into spans the platform will accept, earliest first.
        pending = []
        a = start
        while a < end:
            b = min(a + self.policy.max_span_s, end)
            pending.append((a, b))
            a = b
        while pending:
            a, b = pending.pop(0)
            halves = self._window(shop_ref, api, a, b, report, progress)
            if halves:
                pending[:0] = halves
        report.seconds = time.perf_counter() - t0
        log.info("sync_done", shop_ref=shop_ref, orders=report.orders_seen,
                 inserted=report.inserted, updated=report.updated, pages=report.pages,
                 seconds=round(report.seconds, 2))
        return report

    def _window(self, shop_ref: int, api: ShopPlatform, a: int, b: int, report: SyncReport,
                progress: Progress | None) -> list[tuple[int, int]] | None:
        """Store one window completely, or return the two halves to do instead."""
        for attempt in range(self.policy.max_rereads + 1):
            first = api.search_orders(update_time_start=a, update_time_end=b, page=0,
                                      size=PAGE_SIZE)
            report.pages += 1
            total = first.total
            if total > self.policy.max_total and b - a > 1:
                report.splits += 1
                mid = (a + b) // 2
                return [(a, mid), (mid, b)]
            pages = max(1, math.ceil(total / PAGE_SIZE))
            moved = self._read_pages(shop_ref, api, a, b, first, pages, report, progress)
            if not moved:
                report.windows += 1
                return None
            report.rereads += 1
            log.info("sync_window_moved", shop_ref=shop_ref, start=a, end=b, attempt=attempt)
        if b - a > 1:
            report.splits += 1
            mid = (a + b) // 2
            return [(a, mid), (mid, b)]
        # A one-second window that keeps changing: stored what we saw; the next poll's
        # overlap reads it again.
        with self.uow() as uow:
            uow.cursors.advance(shop_ref, b, 0)
        report.windows += 1
        return None

    def _read_pages(self, shop_ref: int, api: ShopPlatform, a: int, b: int, first, pages: int,
                    report: SyncReport, progress: Progress | None) -> bool:
        """Store every page of the window. True if the window moved under us."""
        total = first.total
        fetch = _Prefetch(api, a, b, range(1, pages)) if pages > 1 else None
        try:
            page = first
            for p in range(pages):
                if p > 0:
                    assert fetch is not None  # pages > 1
                    page = fetch.get()
                    report.pages += 1
                    if page.total != total:
                        return True
                last = p == pages - 1

                def store(uow: UnitOfWork, orders=page.orders, last=last):
                    res = store_platform_orders(uow, shop_ref, orders)
                    if last:
                        uow.cursors.advance(shop_ref, b, total)
                    return res

                # Store work only (the page is in hand): a deadlock victim runs again whole.
                res = in_transaction(self.uow, store)
                report.orders_seen += len(page.orders)
                report.inserted += res.inserted
                report.updated += res.updated
                report.stale += res.stale
                if progress:
                    progress(report.orders_seen, report.orders_seen + (pages - p - 1) * PAGE_SIZE)
                if not page.orders and not last:
                    return True  # fewer rows than total promised: it moved
            return False
        finally:
            if fetch:
                fetch.close()
