"""After shipping: every parcel tracked, every push stored, polling only as a fallback.

Flow: ``start`` gives each confirmed pack a tracker (the first enabled Kuaidi100 / Kdniao
account tracks it; without one, the shop's own platform is polled with
``logistics.trackNoRouteDetail``) → ``subscribe`` asks the provider to push → the webhook
hands each push to ``accept_*_push``, which verifies it and stores it once (by digest) →
``process_pushes`` merges the events into the trackers → ``poll`` asks about trackers whose
``next_poll_at`` has come (back-off, retired at a terminal state or old age). Platform and
provider calls are never made inside a transaction.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import httpx
import orjson
import structlog

from fahuo.domain.urls import url_problem
from fahuo.adapters.carriers.base import (
    InvalidPush, PhoneRequired, ProviderError, QueryTooSoon, TrackingResult, UnknownCourier,
)
from fahuo.adapters.carriers.kdniao import KdniaoClient, KdniaoSettings
from fahuo.adapters.carriers.kdniao import push as kdniao_push
from fahuo.adapters.carriers.kuaidi100 import Kuaidi100Client, Kuaidi100Settings, kuaidi100_codes
from fahuo.adapters.carriers.kuaidi100.intercept import SECRET_FIELDS, check_partner
from fahuo.adapters.carriers.kuaidi100.settings import DEFAULT_LABEL_URL
from fahuo.adapters.carriers.kuaidi100 import push as k100_push
from fahuo.adapters.platforms.doudian.errors import DoudianError
from fahuo.adapters.store.unit_of_work import UnitOfWork
from fahuo.domain.orders import ORDER, OrderState
from fahuo.domain.tracking import (
    UNKNOWN_DOUYIN, Incident, Tracker, TrackingEvent, TrackingState, apply_events, from_douyin,
    from_kdniao, from_kuaidi100, order_state_from_parcels,
)
from fahuo.domain.watch import WatchRules, next_poll_at
from fahuo.services.ports import PlatformFactory, UowFactory

log = structlog.get_logger(__name__)
PROVIDERS = ("kuaidi100", "kdniao")
# What the parcels' tracking moves an order to, and from where: a wholly shipped order goes
# in transit, then delivered (also an intercepted one the buyer signed for after all). A
# partly shipped order keeps its lines to send, so it stays partly shipped.
_FOLLOWS = {OrderState.IN_TRANSIT: frozenset({OrderState.SHIPPED}),
            OrderState.DELIVERED: frozenset({OrderState.SHIPPED, OrderState.IN_TRANSIT,
                                             OrderState.INTERCEPTED})}


def orders_follow_parcels(u: UnitOfWork, tracker_ids: list[int]) -> int:
    """Move the orders these trackers' parcels carry to where their parcels are (in the
    caller's unit of work, after the trackers were saved). The number of orders moved."""
    parcels = u.tracking.parcels_of_orders(tracker_ids)
    if not parcels:
        return 0
    ids = sorted(parcels)
    u.pipeline.lock_orders(ids)
    current = u.pipeline.order_states(ids)
    moves: dict[str, tuple[str, str]] = {}
    for oid, states in parcels.items():
        target = order_state_from_parcels(states)
        if target is not None and oid in current:
            moves |= ORDER.moves_to({oid: current[oid]}, target, _FOLLOWS[target])
    return len(u.pipeline.move_orders(moves))


class TrackingError(ValueError):
    """Bad tracking input; names what is wrong. Nothing was saved."""


@dataclass
class TrackReport:
    started: int = 0
    subscribed: int = 0
    subscribe_failed: int = 0
    pushes: int = 0
    events: int = 0
    polled: int = 0
    poll_failed: int = 0
    retired: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


# ---- events as stored ---------------------------------------------------------------------

def event_to_json(e: TrackingEvent) -> dict[str, Any]:
    return {"at": e.at, "state": e.state.value, "description": e.description,
            "location": e.location, "raw_state": e.raw_state, "raw_sub_state": e.raw_sub_state,
            "incident": e.incident.value if e.incident else None}


def event_from_json(d: dict[str, Any]) -> TrackingEvent:
    return TrackingEvent(at=int(d["at"]), state=TrackingState(d["state"]),
                         description=d.get("description") or "",
                         location=d.get("location") or "", raw_state=d.get("raw_state") or "",
                         raw_sub_state=d.get("raw_sub_state") or "",
                         incident=Incident(d["incident"]) if d.get("incident") else None)


def tracker_from_row(row: dict[str, Any], *, with_events: bool = True) -> Tracker:
    events = tuple(event_from_json(e) for e in orjson.loads(row["events"])) if with_events else ()
    return Tracker(track_no=row["track_no"], courier=row["courier_code"],
                   state=TrackingState(row["state"]), last_event_at=row["last_event_at"],
                   picked_up_at=row["picked_up_at"], events=events,
                   incident=Incident(row["incident"]) if row["incident"] else None,
                   state_since=row["state_since"], created_at=row["shipped_at"])


def provider_events(provider: str, result: TrackingResult) -> list[TrackingEvent]:
    """A provider's raw trace lines in the one normalised model (raw codes kept).

    A line without its own code takes the result's overall state only if it is the newest
    line; older uncoded lines are "in transit" (a later line exists, so the parcel moved),
    never the overall state, or one 签收 would make the whole history "delivered"."""
    out = []
    mapper = from_kuaidi100 if provider == "kuaidi100" else from_kdniao
    timed = [ev for ev in result.events if ev.at is not None]  # untimed lines cannot be ordered
    for i, ev in enumerate(timed):
        newest = i == len(timed) - 1
        if ev.raw_state or ev.raw_sub_state:
            state, incident = mapper(ev.raw_state or (result.raw_state if newest else None),
                                     ev.raw_sub_state)
        elif newest:
            state, incident = mapper(result.raw_state, result.raw_sub_state)
        else:
            state, incident = TrackingState.IN_TRANSIT, None
        out.append(TrackingEvent(at=ev.at or 0, state=state, description=ev.description or "",
                                 location=ev.location or "", raw_state=ev.raw_state or "",
                                 raw_sub_state=ev.raw_sub_state or "", incident=incident))
    return out


def douyin_events(nodes: list[dict[str, Any]]) -> list[TrackingEvent]:
    out = []
    for n in nodes:
        mapped = from_douyin(n["state"])
        if mapped is UNKNOWN_DOUYIN and n.get("state_description"):
            mapped = from_douyin(n["state_description"])
        out.append(TrackingEvent(at=n["at"], state=mapped[0], description=n["description"],
                                 location=n["location"], raw_state=n["state"],
                                 raw_sub_state=n.get("state_description", ""),
                                 incident=mapped[1]))
    return out


def _kdniao_json(body: str) -> dict[str, Any]:
    """RequestData as stored: JSON, sometimes still percent-encoded (the webhook accepts both)."""
    from urllib.parse import unquote
    for text in (body, unquote(body)):
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            return obj
    raise InvalidPush("kdniao RequestData is not a JSON object")


def _phone_tail(mask: str | None) -> str:
    digits = "".join(c for c in (mask or "").rsplit("-", 1)[-1] if c.isdigit())
    return digits[-4:] if len(digits) >= 4 else ""


# ---- the service --------------------------------------------------------------------------

class Tracking:
    def __init__(self, uow: UowFactory, platform_for: PlatformFactory, *,
                 http: httpx.Client | None = None, clock: Callable[[], float] = time.time,
                 rules: WatchRules | None = None, concurrency: int = 8) -> None:
        self.uow, self.platform_for, self.clock = uow, platform_for, clock
        self.http = http or httpx.Client(timeout=15.0)
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

    def client_for(self, account: dict[str, Any]):
        c = self._clients.get(account["id"])
        if c is None:
            cred = account["credentials"]
            if account["provider"] == "kuaidi100":
                c = Kuaidi100Client(Kuaidi100Settings(customer=cred["customer"], key=cred["key"],
                                                      base_url=account["base_url"]),
                                    http=self.http, clock=self.clock)
            else:
                c = KdniaoClient(KdniaoSettings(ebusiness_id=cred["ebusiness_id"],
                                                api_key=cred["api_key"],
                                                endpoint=account["base_url"]), http=self.http)
            self._clients[account["id"]] = c
        return c

    # -- 1. start ------------------------------------------------------------------------
    def start(self, limit: int = 5000) -> TrackReport:
        """A tracker for every confirmed pack that has none."""
        r = TrackReport()
        accounts = [a for a in self.accounts(fresh=True).values() if a["enabled"]]
        account = accounts[0] if accounts else None
        with self.uow() as u:
            packs = u.tracking.untracked_packs(limit)
            rows = []
            for p in packs:
                shipped = int(p["updated_at"])
                rows.append({"shop_ref": p["shop_ref"], "pack_id": p["id"],
                             "order_id": p["main_order_id"], "courier_code": p["courier_code"],
                             "track_no": p["track_no"],
                             "source": account["provider"] if account else "douyin",
                             "account_id": account["id"] if account else None,
                             "phone_tail": _phone_tail(p["receiver_phone_mask"]),
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
                failed[t["id"]] = "tracking account missing or disabled"
                continue
            try:
                self._subscribe_one(acc, t)
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

    def _subscribe_one(self, acc: dict[str, Any], t: dict[str, Any]) -> None:
        client = self.client_for(acc)
        if acc["provider"] == "kuaidi100":
            client.subscribe(t["track_no"], t["courier_code"], push_url(acc),
                             acc["credentials"]["salt"], t["phone_tail"] or None)
        else:
            client.subscribe(t["track_no"], t["courier_code"], push_url(acc),
                             t["phone_tail"] or None)

    # -- 3. pushes -----------------------------------------------------------------------
    def accept_kuaidi100_push(self, account_id: int, form: dict[str, Any]) -> tuple[int, str]:
        """(HTTP status, body) for Kuaidi100. Stored once, before the reply."""
        acc = self.accounts().get(account_id)
        if acc is None or acc["provider"] != "kuaidi100":
            return 404, k100_push.reply_failure("unknown tracking account")
        param, sign = form.get("param"), form.get("sign")
        if not param:
            return 400, k100_push.reply_failure("missing param")
        if not k100_push.verify_push_sign(param, sign, acc["credentials"]["salt"]):
            log.warning("tracking.push_rejected", provider="kuaidi100", reason="bad sign")
            return 401, k100_push.reply_failure("sign mismatch")
        self._store_push(account_id, param)
        return 200, k100_push.REPLY_OK

    def accept_kdniao_push(self, account_id: int, form: dict[str, Any]) -> tuple[int, str]:
        acc = self.accounts().get(account_id)
        if acc is None or acc["provider"] != "kdniao":
            return 404, kdniao_push.reply("", success=False, reason="unknown tracking account")
        cred = acc["credentials"]
        try:
            kdniao_push.parse_push(form, cred["api_key"], ebusiness_id=cred["ebusiness_id"])
        except InvalidPush as exc:
            log.warning("tracking.push_rejected", provider="kdniao", reason=str(exc))
            return 401, kdniao_push.reply(cred["ebusiness_id"], success=False, reason=str(exc))
        self._store_push(account_id, form["RequestData"])
        return 200, kdniao_push.reply(cred["ebusiness_id"])

    def _store_push(self, account_id: int, body: str) -> None:
        digest = hashlib.sha256(body.encode()).hexdigest()
        with self.uow() as u:
            u.tracking.store_push(account_id, digest, body, int(self.clock()))

    def process_pushes(self, limit: int = 2000) -> TrackReport:
        """Merge stored pushes into their trackers, in batches."""
        r = TrackReport()
        accounts = self.accounts(fresh=True)
        with self.uow(readonly=True) as u:
            pending = u.tracking.pending_pushes(limit)
        if not pending:
            return r
        results: list[tuple[int, TrackingResult, str, bool]] = []
        errors: dict[int, str] = {}
        for p in pending:
            acc = accounts.get(p["account_id"])
            try:
                if acc is None:
                    raise InvalidPush("account gone")
                if acc["provider"] == "kuaidi100":
                    push = k100_push.parse_push({"param": p["body"]}, None, allow_unsigned=True)
                    if push.result is not None:
                        results.append((p["id"], push.result, "kuaidi100", push.stopped))
                else:
                    obj = _kdniao_json(p["body"])
                    for d in obj.get("Data") or []:
                        if isinstance(d, dict):  # what the push parser skips, skip here too
                            results.append((p["id"], kdniao_push.parse_trace(d), "kdniao",
                                            False))
            except (InvalidPush, ValueError) as exc:
                errors[p["id"]] = str(exc)
        by_no: dict[str, list[tuple[str, TrackingResult, bool]]] = {}
        for _, res, prov, stopped in results:
            by_no.setdefault(res.track_no, []).append((prov, res, stopped))
        with self.uow() as u:
            trackers = u.tracking.by_track_nos(by_no, lock=True)
            saves = []
            for no, items in by_no.items():
                rows = trackers.get(no)
                if not rows:
                    continue  # not ours (or not yet started): nothing to merge into
                row = rows[0]
                events = [e for prov, res, _ in items for e in provider_events(prov, res)]
                stopped = any(s for _, _, s in items)
                saves.append(self._merged(row, events, news_resets=True, stopped=stopped))
                r.events += len(events)
            u.tracking.save_progress([s for s in saves if s is not None])
            orders_follow_parcels(u, [s["id"] for s in saves if s is not None])
            u.tracking.mark_pushes([p["id"] for p in pending], int(self.clock()), errors)
        r.pushes = len(pending)
        return r

    def _merged(self, row: dict[str, Any], events: list[TrackingEvent], *, news_resets: bool,
                stopped: bool = False, polled: bool = False) -> dict[str, Any]:
        before = tracker_from_row(row)
        after = apply_events(before, events)
        news = len(after.events) > len(before.events)
        attempts = 0 if (news and news_resets) else row["poll_attempts"] + (1 if polled else 0)
        now = int(self.clock())
        nxt = next_poll_at(after, bool(row["subscribed"]) and not stopped, attempts,
                           self.rules, now)
        if row["next_poll_at"] is None:
            nxt = None  # retired stays retired
        last = after.events[-1] if after.events else None
        return {"id": row["id"], "state": after.state.value,
                "incident": after.incident.value if after.incident else None,
                "state_since": after.state_since, "last_event_at": after.last_event_at,
                "picked_up_at": after.picked_up_at,
                "last_event": orjson.dumps(event_to_json(last)).decode() if last else None,
                "events": orjson.dumps([event_to_json(e) for e in after.events]).decode(),
                "poll_attempts": attempts, "next_poll_at": nxt}

    # -- 4. polling ----------------------------------------------------------------------
    def poll(self, limit: int = 500, *, track_nos: list[str] | None = None) -> TrackReport:
        """Ask about trackers whose time has come (or exactly these numbers)."""
        r = TrackReport()
        now = int(self.clock())
        accounts = self.accounts(fresh=True)
        with self.uow(readonly=True) as u:
            if track_nos:
                due = [t for ts in u.tracking.by_track_nos(track_nos).values() for t in ts]
            else:
                due = u.tracking.due_for_poll(now, limit)
            shops = {s.id: s for s in u.shops.list()}

        def ask(t: dict[str, Any]) -> tuple[dict[str, Any], list[TrackingEvent] | None, str]:
            try:
                if t["source"] == "douyin":
                    api = self.platform_for(shops[t["shop_ref"]])
                    return t, douyin_events(api.track_route(t["courier_code"], t["track_no"])), ""
                acc = accounts.get(t["account_id"])
                if acc is None:
                    return t, None, "tracking account missing"
                res = self.client_for(acc).query(t["track_no"], t["courier_code"],
                                                 t["phone_tail"] or None)
                return t, provider_events(acc["provider"], res), ""
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
                s = self._merged(fresh.get(t["id"], t), events, news_resets=True, polled=True)
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


# ---- accounts (CLI / API) -------------------------------------------------------------------

def push_url(account: dict[str, Any]) -> str:
    """Where the provider pushes for this account: fahuo's public address + the receiver."""
    return f"{account['callback_url'].rstrip('/')}/webhooks/{account['provider']}/{account['id']}"


def add_account(uow: UowFactory, provider: str, name: str, credentials: dict[str, Any],
                base_url: str, callback_url: str) -> int:
    """Validate and save a tracking provider account; names every missing field."""
    problems = []
    need = {"kuaidi100": ("customer", "key", "salt"), "kdniao": ("ebusiness_id", "api_key")}
    if provider not in need:
        raise TrackingError(f"provider must be one of {', '.join(need)}, got {provider!r}")
    for k in need[provider]:
        if not str(credentials.get(k) or "").strip():
            problems.append(f"{k} is required for {provider}")
    credentials = dict(credentials)
    if provider == "kuaidi100":  # the optional interception keys, checked like the rest
        for k in ("secret", "label_url"):
            if k in credentials and not str(credentials[k] or "").strip():
                credentials.pop(k)  # an empty form field means "not given"
        problems += _label_url_problems(credentials.get("label_url"))
        if "intercept_partners" in credentials:
            problems.append("set courier accounts for interception with the partner command "
                            "(fahuo track intercept-partner), not with the account")
    if not name.strip():
        problems.append("name is required")
    if (bad := url_problem(base_url)) is not None:
        problems.append(f"base_url: {bad} ({base_url!r})")
    if (bad := url_problem(callback_url)) is not None:
        problems.append(f"callback_url must be fahuo's public http(s) address (pushes go to "
                        f"<it>/webhooks/{provider}/<account id>): {bad} ({callback_url!r})")
    if problems:
        raise TrackingError("; ".join(problems))
    with uow() as u:
        if any(a["name"] == name for a in u.tracking.accounts()):
            raise TrackingError(f"a tracking account named {name!r} exists")
        acc_id = u.tracking.add_account(provider, name.strip(), credentials, base_url.rstrip("/"),
                                        callback_url)
        u.audit.add(actor="system", action="tracking.account.add", subject_type="tracking_account",
                    subject_id=str(acc_id), detail={"provider": provider, "name": name})
    return acc_id


def _label_url_problems(url: Any) -> list[str]:
    if url is None or (bad := url_problem(url)) is None:
        return []
    return [f"label_url must be an http(s) URL (Kuaidi100: {DEFAULT_LABEL_URL}): {bad} "
            f"({url!r})"]


def _k100_account(u: UnitOfWork, account_id: int) -> dict[str, Any]:
    acc = u.tracking.account(account_id, lock=True)
    if acc is None:
        raise TrackingError(f"no tracking account #{account_id}")
    if acc["provider"] != "kuaidi100":
        raise TrackingError(f"tracking account #{account_id} is {acc['provider']}: interception "
                            "goes through a Kuaidi100 account")
    return acc


def _courier(code: str) -> str:
    courier = (code or "").strip().lower()
    try:
        kuaidi100_codes().to_provider(courier)
    except UnknownCourier as exc:
        raise TrackingError(f"{exc}; use fahuo's courier codes (zhongtong, yuantong, …)") from exc
    return courier


def set_intercept(uow: UowFactory, account_id: int, *, secret: str | None = None,
                  label_url: str | None = None, actor: str) -> dict[str, Any]:
    """Turn on Kuaidi100 interception for an account: its secret (signs labelV2 calls) and,
    when not Kuaidi100's own, the ``/label/order`` URL (a sandbox's). Returns the public view."""
    problems = _label_url_problems(label_url)
    if secret is not None and not secret.strip():
        problems.append("secret must not be empty")
    if secret is None and label_url is None:
        problems.append("give the secret, the label_url or both")
    if problems:
        raise TrackingError("; ".join(problems))
    with uow() as u:
        acc = _k100_account(u, account_id)
        cred = dict(acc["credentials"])
        if secret is not None:
            cred["secret"] = secret.strip()
        if label_url is not None:
            cred["label_url"] = label_url.rstrip("/")
        u.tracking.update_credentials(account_id, cred)
        u.audit.add(actor=actor, action="tracking.account.intercept", subject_type=
                    "tracking_account", subject_id=str(account_id),
                    detail={"secret": "set" if secret is not None else "kept",
                            "label_url": cred.get("label_url", DEFAULT_LABEL_URL)})
    return intercept_view({**acc, "credentials": cred})


def set_intercept_partner(uow: UowFactory, account_id: int, courier: str,
                          fields: dict[str, Any], *, actor: str) -> dict[str, Any]:
    """The courier's e-waybill account (partnerId, partnerKey, …) Kuaidi100 needs to
    intercept that courier's parcels; replaces what was set for this courier."""
    courier = _courier(courier)
    try:
        partner = check_partner(courier, fields)
    except ValueError as exc:
        raise TrackingError(str(exc)) from exc
    with uow() as u:
        acc = _k100_account(u, account_id)
        cred = dict(acc["credentials"])
        cred["intercept_partners"] = {**(cred.get("intercept_partners") or {}), courier: partner}
        u.tracking.update_credentials(account_id, cred)
        u.audit.add(actor=actor, action="tracking.account.intercept_partner",
                    subject_type="tracking_account", subject_id=str(account_id),
                    detail={"courier": courier, "fields": sorted(partner)})  # names, no values
    return intercept_view({**acc, "credentials": cred})


def remove_intercept_partner(uow: UowFactory, account_id: int, courier: str, *,
                             actor: str) -> dict[str, Any]:
    courier = (courier or "").strip().lower()
    with uow() as u:
        acc = _k100_account(u, account_id)
        cred = dict(acc["credentials"])
        partners = dict(cred.get("intercept_partners") or {})
        if courier not in partners:
            raise TrackingError(f"account #{account_id} has no {courier!r} courier account for "
                                f"interception (it has: {', '.join(sorted(partners)) or 'none'})")
        del partners[courier]
        cred["intercept_partners"] = partners
        u.tracking.update_credentials(account_id, cred)
        u.audit.add(actor=actor, action="tracking.account.intercept_partner_removed",
                    subject_type="tracking_account", subject_id=str(account_id),
                    detail={"courier": courier})
    return intercept_view({**acc, "credentials": cred})


def intercept_view(account: dict[str, Any]) -> dict[str, Any]:
    """What interception through this account can do, without a secret in it."""
    cred = account["credentials"]
    partners = cred.get("intercept_partners") or {}
    return {"account_id": account["id"], "name": account["name"],
            "secret": bool(cred.get("secret")),
            "label_url": cred.get("label_url") or DEFAULT_LABEL_URL,
            "couriers": {c: {k: ("***" if k in SECRET_FIELDS else v) for k, v in p.items()}
                         for c, p in sorted(partners.items())}}


__all__ = ["Tracking", "TrackReport", "TrackingError", "add_account", "douyin_events", "push_url",
           "event_from_json", "event_to_json", "intercept_view", "provider_events",
           "remove_intercept_partner", "set_intercept", "set_intercept_partner",
           "tracker_from_row"]
