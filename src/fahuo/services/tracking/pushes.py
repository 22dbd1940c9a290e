"""Pushes: each checked by its provider and stored once (by digest) before the reply, then
merged into the trackers in batches."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, Protocol

import structlog

from fahuo.adapters.carriers.base import InvalidPush
from fahuo.domain.tracking import TrackingEvent
from fahuo.domain.watch import WatchRules
from fahuo.services.ports import Carriers, UowFactory

from .model import TrackReport, merged, orders_follow_parcels

log = structlog.get_logger(__name__)


class Parts(Protocol):
    """What the push steps use of the ``Tracking`` service."""

    uow: UowFactory
    carriers: Carriers
    clock: Callable[[], float]
    rules: WatchRules

    def accounts(self, *, fresh: bool = False) -> dict[int, dict[str, Any]]: ...


def accept_push(t: Parts, provider: str, account_id: int, form: dict[str, Any]
                ) -> tuple[int, str]:
    """(HTTP status, body) in the provider's own words. Stored once, before the reply."""
    carrier = t.carriers.get(provider)
    acc = t.accounts().get(account_id)
    if acc is None or acc["provider"] != provider:
        return 404, carrier.refuse_push("unknown tracking account")
    answer = carrier.check_push(acc, form)
    if answer.rejected is not None:
        log.warning("tracking.push_rejected", provider=provider, reason=answer.rejected)
    if answer.body is not None:
        digest = hashlib.sha256(answer.body.encode()).hexdigest()
        with t.uow() as u:
            u.tracking.store_push(account_id, digest, answer.body, int(t.clock()))
    return answer.status, answer.reply


def process_pushes(t: Parts, limit: int = 2000) -> TrackReport:
    """Merge stored pushes into their trackers, in batches."""
    r = TrackReport()
    accounts = t.accounts(fresh=True)
    with t.uow(readonly=True) as u:
        pending = u.tracking.pending_pushes(limit)
    if not pending:
        return r
    by_no: dict[str, list[tuple[list[TrackingEvent], bool]]] = {}
    errors: dict[int, str] = {}
    for p in pending:
        acc = accounts.get(p["account_id"])
        try:
            if acc is None:
                raise InvalidPush("account gone")
            read = t.carriers.get(acc["provider"]).read_push(p["body"])
        except (InvalidPush, ValueError) as exc:
            errors[p["id"]] = str(exc)
            continue
        for no, events, stopped in read:
            by_no.setdefault(no, []).append((events, stopped))
    with t.uow() as u:
        trackers = u.tracking.by_track_nos(by_no, lock=True)
        saves = []
        for no, items in by_no.items():
            rows = trackers.get(no)
            if not rows:
                continue  # not ours (or not yet started): nothing to merge into
            events = [e for evs, _ in items for e in evs]
            saves.append(merged(rows[0], events, rules=t.rules, now=int(t.clock()),
                                news_resets=True, stopped=any(s for _, s in items)))
            r.events += len(events)
        u.tracking.save_progress(saves)
        orders_follow_parcels(u, [s["id"] for s in saves])
        u.tracking.mark_pushes([p["id"] for p in pending], int(t.clock()), errors)
    r.pushes = len(pending)
    return r


__all__ = ["Parts", "accept_push", "process_pushes"]
