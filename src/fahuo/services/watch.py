"""Exceptions a person should see: parcels in trouble and ship deadlines, and who is told.

``detect`` sweeps every parcel that can still be in trouble and every unshipped order near
its deadline, opens an exception record (finding) for each new problem and closes those that
resolved themselves (pickup happened, parcel moved, order shipped, deadline moved by push
112/126). ``detect_orders`` / ``detect_parcels`` do the same for a few subjects at once, right
after a push. People assign, annotate and close findings; a closed-by-hand finding is never
reopened for the same episode. ``send_alerts`` groups what nobody was told about yet into one
message per kind per channel, no more often than each channel's interval, through the
notify port's one grouping (``adapters/notify/grouping.group_alerts``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any, TYPE_CHECKING

import orjson
import structlog

from fahuo.domain.handover import with_handover
from fahuo.domain.names import CHANNEL_KIND, FINDING_KIND, courier_name
from fahuo.domain.urls import url_problem
from fahuo.domain.watch import (
    Finding, FindingKind, WatchRules, detect_deadline, detect_parcel, quiet, reconcile,
)
from fahuo.services.tracking import tracker_from_row
from fahuo.services.ports import Notifier, UowFactory

if TYPE_CHECKING:
    from fahuo.adapters.store.unit_of_work import UnitOfWork

log = structlog.get_logger(__name__)

PARCEL_KINDS = (FindingKind.PICKUP_TIMEOUT, FindingKind.STALLED, FindingKind.FAILED_DELIVERY,
                FindingKind.REFUSED, FindingKind.RETURNED, FindingKind.LOST)
DEADLINE_KINDS = (FindingKind.DEADLINE_SOON_6H, FindingKind.DEADLINE_SOON_2H,
                  FindingKind.OVERDUE)
KIND_LABELS = FINDING_KIND  # the one table of names (domain/names.py)
PAGE = 50_000


class WatchError(ValueError):
    """Bad input for exceptions or alert channels; names what is wrong."""


@dataclass
class WatchReport:
    parcels: int = 0
    orders: int = 0
    opened: int = 0
    closed: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _row(f: Finding, shop_ref: int, last_event: str | None) -> dict[str, Any]:
    return {"key": f.key, "kind": f.kind.value, "shop_ref": shop_ref, "order_id": f.order_id,
            "track_no": f.track_no, "courier_code": f.courier, "since": f.since,
            "detail": f.detail, "last_event": last_event}


class Watch:
    def __init__(self, uow: UowFactory, *, notify: Notifier,
                 clock: Callable[[], float] = time.time) -> None:
        self.uow, self.notify, self.clock = uow, notify, clock

    def _rules(self, u: UnitOfWork) -> dict[int, WatchRules]:
        return {s.id: WatchRules.from_dict(u.settings.get(s.id).get("watch_rules") or {})
                for s in u.shops.list()}

    # -- detection -------------------------------------------------------------------
    def detect(self) -> WatchReport:
        """The full sweep: every parcel not delivered, every unshipped order near its deadline."""
        now = int(self.clock())
        r = WatchReport()
        with self.uow(readonly=True) as u:
            rules = self._rules(u)
            current, shop_of, last_events = self._parcel_findings(u, rules, now, r)
            open_parcels = u.tracking.open_findings(kinds=[k.value for k in PARCEL_KINDS])
            deadline_now, dl_shop = self._deadline_findings(u, rules, now, r)
            open_deadlines = u.tracking.open_findings(kinds=[k.value for k in DEADLINE_KINDS])
            dismissed = u.tracking.dismissed_keys([f.key for f in current + deadline_now])
        self._save(reconcile(self._as_findings(open_parcels), current, now, dismissed),
                   shop_of, last_events, now, r)
        self._save(reconcile(self._as_findings(open_deadlines), deadline_now, now, dismissed),
                   dl_shop, {}, now, r)
        return r

    def detect_orders(self, order_ids: Iterable[str]) -> WatchReport:
        """Deadline findings of these orders only (after a push moved or met a deadline)."""
        ids = sorted(set(order_ids))
        now = int(self.clock())
        r = WatchReport()
        if not ids:
            return r
        with self.uow(readonly=True) as u:
            rules = self._rules(u)
            facts = u.tracking.deadline_facts(ids)
            current, shop_of = [], {}
            for oid, shop_ref, exp, state, status in facts:
                shipped = state not in ("synced", "held", "approved", "waybill_taken",
                                        "printed") or status not in (2, 101)
                for f in detect_deadline(oid, exp, shipped, rules.get(shop_ref, WatchRules()),
                                         now):
                    current.append(f)
                    shop_of[f.key] = shop_ref
            r.orders = len(facts)
            open_ = u.tracking.open_findings(kinds=[k.value for k in DEADLINE_KINDS],
                                             order_ids=ids)
            dismissed = u.tracking.dismissed_keys([f.key for f in current])
        self._save(reconcile(self._as_findings(open_), current, now, dismissed), shop_of, {},
                   now, r)
        return r

    def _parcel_findings(self, u: UnitOfWork, rules: dict[int, WatchRules], now: int,
                         r: WatchReport):
        current: list[Finding] = []
        shop_of: dict[str, int] = {}
        last_events: dict[str, str | None] = {}
        default = WatchRules()
        after = 0
        while True:
            page = u.tracking.watch_page(after, PAGE)
            if not page:
                break
            # parcels handed to the courier on a 交接单 and not scanned yet
            handed = u.handover.handed_over([r.track_no for r in page
                                             if r.picked_up_at is None])
            for row in page:
                rule = rules.get(row.shop_ref, default)
                if quiet(row.state, row.last_event_at, rule, now):
                    continue
                tracker = tracker_from_row(row._mapping, with_events=False)
                found = with_handover(
                    detect_parcel(tracker, row.shipped_at, rule, now, row.order_id), tracker,
                    handed.get((row.courier_code, row.track_no)), rule, now, row.order_id)
                for f in found:
                    current.append(f)
                    shop_of[f.key] = row.shop_ref
                    last_events[f.key] = row.last_event
            r.parcels += len(page)
            after = page[-1].id
        return current, shop_of, last_events

    def _deadline_findings(self, u: UnitOfWork, rules: dict[int, WatchRules], now: int,
                           r: WatchReport):
        horizon = max([x.deadline_warnings_s[0] for x in rules.values()] or
                      [WatchRules().deadline_warnings_s[0]])
        rows = u.tracking.unshipped_due(now + horizon)
        current, shop_of = [], {}
        default = WatchRules()
        for oid, shop_ref, exp, _state in rows:
            for f in detect_deadline(oid, exp, False, rules.get(shop_ref, default), now):
                current.append(f)
                shop_of[f.key] = shop_ref
        r.orders = len(rows)
        return current, shop_of

    @staticmethod
    def _as_findings(open_rows: dict[str, dict[str, Any]]) -> dict[str, Finding]:
        return {k: Finding(FindingKind(v["kind"]), k, v["order_id"], v["track_no"],
                           v["courier_code"], v["since"], None, v["detail"])
                for k, v in open_rows.items()}

    def _save(self, rec, shop_of: dict[str, int], last_events: dict[str, str | None], now: int,
              r: WatchReport) -> None:
        if not rec.to_open and not rec.to_close:
            return
        with self.uow() as u:
            u.tracking.open_new([_row(f, shop_of[f.key], last_events.get(f.key))
                                 for f in rec.to_open], now)
            u.tracking.close([c.finding.key for c in rec.to_close], now, "已自动解除 (resolved)")
        r.opened += len(rec.to_open)
        r.closed += len(rec.to_close)

    # -- people ------------------------------------------------------------------------
    def assign(self, finding_id: int, assignee: str, *, actor: str) -> dict[str, Any]:
        with self.uow() as u:
            f = self._get(u, finding_id)
            u.tracking.update_finding(finding_id, assignee=assignee.strip())
            u.audit.add(actor=actor, action="exception.assign", subject_type="finding",
                        subject_id=str(finding_id), detail={"assignee": assignee})
            return {**f, "assignee": assignee.strip()}

    def note(self, finding_id: int, text: str, *, actor: str) -> dict[str, Any]:
        if not text.strip():
            raise WatchError("备注不能为空")
        with self.uow() as u:
            f = self._get(u, finding_id)
            notes = orjson.loads(f["notes"]) + [{"at": int(self.clock()), "by": actor,
                                                 "text": text.strip()}]
            u.tracking.update_finding(finding_id, notes=orjson.dumps(notes).decode())
            return {**f, "notes": orjson.dumps(notes).decode()}

    def close(self, finding_id: int, reason: str, *, actor: str) -> dict[str, Any]:
        """Closed by a person: stays closed for this episode (a new episode opens anew)."""
        if not reason.strip():
            raise WatchError("请写明关闭异常的原因（如 已联系买家改派）")
        now = int(self.clock())
        with self.uow() as u:
            f = self._get(u, finding_id)
            if f["closed_at"] is not None and f["dismissed"]:
                raise WatchError(f"异常 #{finding_id} 已关闭")
            u.tracking.update_finding(finding_id, closed_at=now, dismissed=True,
                                      close_reason=f"{actor}: {reason.strip()}")
            u.audit.add(actor=actor, action="exception.close", subject_type="finding",
                        subject_id=str(finding_id), detail={"reason": reason})
            return {**f, "closed_at": now, "dismissed": True}

    @staticmethod
    def _get(u: UnitOfWork, finding_id: int) -> dict[str, Any]:
        f = u.tracking.finding(finding_id)
        if f is None:
            raise WatchError(f"没有异常 #{finding_id}")
        return f

    # -- alerts ------------------------------------------------------------------------
    def send_alerts(self, link_base: str = "") -> list[dict[str, Any]]:
        """One grouped message per kind per channel with the open findings that channel has not
        been told about yet. Each channel keeps its own account, so one channel's success or
        interval never hides anything from another; a broken channel is retried each interval."""
        now = int(self.clock())
        with self.uow(readonly=True) as u:
            channels = u.tracking.channels(enabled_only=True)
            if not channels:
                return []
            tried = u.tracking.last_sent(delivered_only=False)
            pending = u.tracking.untold([ch["name"] for ch in channels])
        if not pending:
            return []
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for f in pending:
            by_kind.setdefault(f["kind"], []).append(f)
        routes = {ch["name"]: ch["kinds"] for ch in channels}
        sent: list[dict[str, Any]] = []
        told: dict[int, set[str]] = {}
        log_rows = []
        for ch in channels:
            # what this channel wants and was not told yet, per kind
            untold = {kind: items for kind, found in by_kind.items()
                      if ch["name"] in self.notify.wanted_by(routes, kind)
                      and (items := [f for f in found if ch["name"] not in f["told"]])}
            # told (or tried) within the channel's interval: those kinds wait
            alerts = self.notify.group(
                ((kind, _line(f)) for kind, items in untold.items() for f in items),
                interval_s=ch["interval_s"], now=now,
                last_sent={k: at for (name, k), at in tried.items() if name == ch["name"]},
                titles={k: f"【fahuo】{{count}} 个{KIND_LABELS.get(k, k)}" for k in untold},
                links={k: f"{link_base.rstrip('/')}/exceptions?kind={k}" for k in untold}
                if link_base else None)
            for alert in alerts:
                err = self.notify.send(ch, alert)
                ok = err is None
                if ok:
                    for f in untold[alert.kind]:
                        told.setdefault(f["id"], set()).add(ch["name"])
                else:
                    log.warning("alert.failed", channel=ch["name"], kind=alert.kind, error=err)
                log_rows.append((ch["name"], alert.kind, alert.title, alert.count, ok, err))
                sent.append({"channel": ch["name"], "kind": alert.kind, "count": alert.count,
                             "ok": ok, "error": err})
        with self.uow() as u:
            for row in log_rows:
                u.tracking.log_alert(*row, now)
            u.tracking.mark_told(told, now)
        return sent


def _line(f: dict[str, Any]) -> str:
    who = f"{courier_name(f['courier_code'])} {f['track_no']} " if f["track_no"] else ""
    return f"{who}订单 {f['order_id']}：{f['detail']}"


def add_channel(uow: UowFactory, name: str, kind: str, config: dict[str, Any],
                kinds: list[str], interval_s: int = 1800, *, notify: Notifier) -> int:
    """Validate (by building the channel once) and save an alert channel."""
    problems = []
    if kind not in notify.kinds:
        raise WatchError(f"渠道类型应为 {'、'.join(f'{CHANNEL_KIND.get(k, k)} ({k})' for k in notify.kinds)} 之一，收到 {kind!r}")
    for k in notify.required(kind):
        if not config.get(k):
            problems.append(f"{CHANNEL_KIND.get(kind, kind)}渠道必须填写 {k}")
    bad = [k for k in kinds if k != "*" and k not in KIND_LABELS]
    if bad:
        problems.append(f"未知的异常类型 {'、'.join(bad)}；可选："
                        f"{'、'.join(f'{v} ({k})' for k, v in KIND_LABELS.items())} 或 *（全部）")
    if not kinds:
        problems.append("异常类型 (kinds)：至少选一种，或 *（全部）")
    if not isinstance(interval_s, int) or isinstance(interval_s, bool) or interval_s < 0:
        problems.append(f"发送间隔 (interval_s) 应为不小于 0 的整数秒，收到 {interval_s!r}")
    if not name.strip():
        problems.append("请填写渠道名称")
    for k in ("url", "base_url"):  # where alerts are posted (with the findings in them)
        if k in config and (why := url_problem(config[k])) is not None:
            problems.append(f"{k}: {why}")
    if not problems:
        try:
            notify.build({"kind": kind, "config": config})
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(str(exc))
    if problems:
        raise WatchError("；".join(problems))
    with uow() as u:
        if any(c["name"] == name for c in u.tracking.channels()):
            raise WatchError(f"已有名为 {name!r} 的告警渠道")
        return u.tracking.add_channel(name.strip(), kind, config, kinds, interval_s)


__all__ = ["KIND_LABELS", "Watch", "WatchError", "WatchReport", "add_channel"]
