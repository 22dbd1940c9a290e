"""The tracking service: trackers started, subscribed and polled; pushes through ``pushes``.

Flow: ``start`` gives each confirmed pack a tracker (the first enabled provider account
tracks it; without one, the registry's fallback, the shop's own platform, is polled) →
``subscribe`` asks the provider to push → the webhook hands each push to ``accept_push``,
which has it checked by its provider and stores it once (by digest) → ``process_pushes``
merges the events into the trackers → ``poll`` asks about trackers whose ``next_poll_at``
has come (back-off, retired at a terminal state or old age). Platform and provider calls
are never made inside a transaction. Which provider does what is the registry's
(``ports.Carriers``), never a branch on a provider's name here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import structlog

from fahuo.adapters.carriers.base import (
    PhoneRequired, ProviderError, QueryTooSoon, UnknownCourier,
)
from fahuo.adapters.platforms.doudian.errors import DoudianError
from fahuo.domain.tracking import TrackingEvent, TrackingState
from fahuo.domain.watch import WatchRules
from fahuo.services.ports import Carriers, PlatformFactory, UowFactory

from . import pushes
from .accounts import push_url
from .model import TrackReport, merged, orders_follow_parcels, phone_tail

log = structlog.get_logger(__name__)


class Tracking:
    def __init__(self, uow: UowFactory, platform_for: PlatformFactory, *, carriers: Carriers,
                 clock: Callable[[], float] = time.time, rules: WatchRules | None = None,
                 concurrency: int = 8) -> None:
        self.uow, self.platform_for, self.clock = uow, platform_for, clock
        self.carriers = carriers
        self.rules = rules or WatchRules()
        self.concurrency = concurrency
        self._clients: dict[int, Any] = {}
        self._accounts: tuple[float, dict[int, dict[str, Any]]] = (0.0, {})

    # -- accounts ------------------------------------------------------------------------
    def accounts(self, *, fresh: bool = False) -> dict[int, dict[str, Any]]:
        """Enabled provider accounts, cached a few seconds (the webhook reads them per push)."""
        at, cached = self._accounts
        if fresh or self.clock() - at > 5:
            with self.uow(readonly=True) as u:
                cached = {a["id"]: a for a in u.tracking.accounts()}
            self._accounts = (self.clock(), cached)
        return cached

    def client_for(self, account: dict[str, Any]) -> Any:
        """One client per account: it keeps the per-number query guard (Kuaidi100's 30 min)."""
        c = self._clients.get(account["id"])
        if c is None:
            c = self.carriers.get(account["provider"]).client(account, clock=self.clock)
            self._clients[account["id"]] = c
        return c

    # -- 1. start ------------------------------------------------------------------------
    def start(self, limit: int = 5000) -> TrackReport:
        """A tracker for every confirmed pack that has none."""
        r = TrackReport()
        accounts = [a for a in self.accounts(fresh=True).values() if a["enabled"]]
        account = accounts[0] if accounts else None
        source = account["provider"] if account else self.carriers.fallback.name
        with self.uow() as u:
            packs = u.tracking.untracked_packs(limit)
            rows = []
            for p in packs:
                shipped = int(p["updated_at"])
                rows.append({"shop_ref": p["shop_ref"], "pack_id": p["id"],
                             "order_id": p["main_order_id"], "courier_code": p["courier_code"],
                             "track_no": p["track_no"], "source": source,
                             "account_id": account["id"] if account else None,
                             "phone_tail": phone_tail(p["receiver_phone_mask"]),
                             "state": TrackingState.INFO_RECEIVED.value, "shipped_at": shipped,
                             "subscribed": False, "poll_attempts": 0,
                             "next_poll_at": shipped + self.rules.poll_base_s})
            r.started = u.tracking.add_trackers(rows)
        return r

    # -- 2. subscribe --------------------------------------------------------------------
    def subscribe(self, limit: int = 500) -> TrackReport:
        r = TrackReport()
        accounts = self.accounts(fresh=True)
        with self.uow(readonly=True) as u:
            todo = u.tracking.to_subscribe(limit)
        ok: list[int] = []
        failed: dict[int, str] = {}
        for t in todo:
            acc = accounts.get(t["account_id"])
            if acc is None or not acc["enabled"]:
                failed[t["id"]] = "物流查询账号不存在或已停用"
                continue
            try:
                self.carriers.get(acc["provider"]).subscribe(self.client_for(acc), acc, t,
                                                             push_url(acc))
                ok.append(t["id"])
            except (ProviderError, PhoneRequired, UnknownCourier, ValueError) as exc:
                if isinstance(exc, ProviderError) and exc.retryable:
                    continue  # next round
                failed[t["id"]] = str(exc)
                log.warning("tracking.subscribe_failed", track_no=t["track_no"], error=str(exc))
        with self.uow() as u:
            u.tracking.mark_subscribed(ok, failed)
        r.subscribed, r.subscribe_failed = len(ok), len(failed)
        return r

    # -- 3. pushes (pushes.py) -------------------------------------------------------------
    def accept_push(self, provider: str, account_id: int, form: dict[str, Any]
                    ) -> tuple[int, str]:
        """(HTTP status, body) for the provider's webhook; stored once, before the reply."""
        return pushes.accept_push(self, provider, account_id, form)

    def process_pushes(self, limit: int = 2000) -> TrackReport:
        return pushes.process_pushes(self, limit)

    # -- 4. polling ----------------------------------------------------------------------
    def poll(self, limit: int = 500, *, track_nos: list[str] | None = None) -> TrackReport:
        """Ask about trackers whose time has come (or exactly these numbers)."""
        r = TrackReport()
        now = int(self.clock())
        accounts = self.accounts(fresh=True)
        fallback = self.carriers.fallback
        with self.uow(readonly=True) as u:
            if track_nos:
                due = [t for ts in u.tracking.by_track_nos(track_nos).values() for t in ts]
            else:
                due = u.tracking.due_for_poll(now, limit)
            shops = {s.id: s for s in u.shops.list()}

        def ask(t: dict[str, Any]) -> tuple[dict[str, Any], list[TrackingEvent] | None, str]:
            try:
                if t["source"] == fallback.name:  # no account: the shop's own platform
                    return t, fallback.query(self.platform_for(shops[t["shop_ref"]]), t), ""
                acc = accounts.get(t["account_id"])
                if acc is None:
                    return t, None, "物流查询账号不存在"
                carrier = self.carriers.get(acc["provider"])
                return t, carrier.query(self.client_for(acc), t), ""
            except QueryTooSoon as exc:
                return t, [], str(exc)  # counts as a fruitless attempt; back-off handles it
            except (ProviderError, DoudianError, PhoneRequired, UnknownCourier,
                    ValueError) as exc:
                return t, None, str(exc)

        with ThreadPoolExecutor(max_workers=max(1, min(self.concurrency, len(due) or 1))) as pool:
            answers = list(pool.map(ask, due))
        with self.uow() as u:
            # Merge into the rows as they are now: pushes merged while we asked stay merged.
            fresh = u.tracking.by_ids([t["id"] for t, _, _ in answers], lock=True)
            saves = []
            for t, events, error in answers:
                if events is None:
                    r.poll_failed += 1
                    log.warning("tracking.poll_failed", track_no=t["track_no"], error=error)
                    events = []
                else:
                    r.polled += 1
                s = merged(fresh.get(t["id"], t), events, rules=self.rules,
                           now=int(self.clock()), news_resets=True, polled=True)
                if s["next_poll_at"] is None:
                    r.retired += 1
                r.events += len(events)
                saves.append(s)
            u.tracking.save_progress(saves)
            orders_follow_parcels(u, [s["id"] for s in saves])
        return r

    def run(self) -> TrackReport:
        """One round: start, subscribe, merge pushes, poll what is due."""
        total = TrackReport()
        for step in (self.start, self.subscribe, self.process_pushes, self.poll):
            rep = step()
            for k, v in rep.as_dict().items():
                setattr(total, k, getattr(total, k) + v)
        return total


__all__ = ["Tracking"]
