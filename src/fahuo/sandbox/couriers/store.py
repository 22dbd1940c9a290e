"""The couriers' shared state: Kuaidi100 accounts, one timeline per number (built lazily from the
``shipments`` table or from a subscription), subscriptions and their schedule, push faults, counters.

:class:`CourierStore` is the base of every protocol part of :class:`.service.Couriers`.
"""
from __future__ import annotations

import json
import random
import secrets
import string
import threading
from typing import TYPE_CHECKING, Any

import httpx

from ..methods import shop_addresses
from .k100_wire import K100_COMPANIES, dumps, phone_tail
from .places import DAY, fmt_time
from . import character as char
from .timeline import ANOMALIES, KINDS, due, make_plan, pick_anomaly, timeline

if TYPE_CHECKING:
    from ..core import Sandbox


NO_RECORD_ABORT = 3 * DAY  # §1.3: "3天查询无记录"
NO_CHANGE_ABORT = 60 * DAY  # §1.4: "60天无变化"


SCHEMA = """
CREATE TABLE IF NOT EXISTS k100_accounts (
    customer TEXT PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    secret TEXT
);
CREATE TABLE IF NOT EXISTS k100_intercepts (
    id INTEGER PRIMARY KEY,
    customer TEXT NOT NULL,
    order_id TEXT NOT NULL,
    number TEXT NOT NULL,
    company TEXT NOT NULL,
    intercept_type TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_k100_intercepts_number ON k100_intercepts (number);
CREATE TABLE IF NOT EXISTS tracks (
    track_no TEXT PRIMARY KEY,
    courier TEXT NOT NULL,
    shop_id INTEGER,
    base_time INTEGER NOT NULL,
    source TEXT NOT NULL,
    plan TEXT NOT NULL,
    phones TEXT NOT NULL,
    anomaly TEXT NOT NULL,
    events TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS k100_subs (
    id INTEGER PRIMARY KEY,
    customer TEXT NOT NULL,
    company TEXT NOT NULL,
    number TEXT NOT NULL,
    callbackurl TEXT NOT NULL,
    salt TEXT,
    resultv2 TEXT NOT NULL,
    phone TEXT,
    created_at REAL NOT NULL,
    status TEXT NOT NULL,
    pushed_upto INTEGER NOT NULL DEFAULT 0,
    next_check REAL
);
CREATE INDEX IF NOT EXISTS ix_k100_subs_due ON k100_subs (status, next_check);
CREATE INDEX IF NOT EXISTS ix_k100_subs_number ON k100_subs (number);
CREATE TABLE IF NOT EXISTS k100_pushes (
    id INTEGER PRIMARY KEY,
    sub_id INTEGER NOT NULL,
    number TEXT NOT NULL,
    upto INTEGER NOT NULL,
    status TEXT NOT NULL,
    param TEXT NOT NULL,
    sign TEXT,
    url TEXT NOT NULL,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL,
    state TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_k100_pushes_due ON k100_pushes (state, next_attempt);
CREATE INDEX IF NOT EXISTS ix_k100_pushes_number ON k100_pushes (number);
CREATE TABLE IF NOT EXISTS k100_queries (
    number TEXT PRIMARY KEY,
    last_at REAL NOT NULL
);
"""


DEFAULT_FAULTS: dict[str, Any] = {
    "duplicate_rate": 0.0,  # share of first-attempt pushes sent twice
    "reorder": False,  # shuffle the pushes sent by one tick
    "retry_interval_s": 35 * 60.0,  # §1.4: 3 retries, 35 minutes apart (sandbox clock)
    "max_retries": 3,
    "timeout_s": 5.0,
}


def signed_due(events: list[dict[str, Any]]) -> float | None:
    """When the receiver signs (sandbox clock), for the buyers who may then ask for an after-sale."""
    return next((due(e) for e in events if e["step"] == "signed"), None)


class CourierStore:
    def __init__(self, sb: "Sandbox"):
        self.sb = sb
        sb.store.conn.executescript(SCHEMA)
        cols = {r[1] for r in sb.store.conn.execute("PRAGMA table_info(k100_accounts)")}
        if "secret" not in cols:  # a sandbox file from before interception existed
            sb.store.conn.execute("ALTER TABLE k100_accounts ADD COLUMN secret TEXT")
        if "signed_due" not in {r[1] for r in sb.store.conn.execute("PRAGMA table_info(tracks)")}:
            sb.store.conn.execute("ALTER TABLE tracks ADD COLUMN signed_due REAL")
        sb.store.conn.execute("CREATE INDEX IF NOT EXISTS ix_tracks_signed_due ON tracks (signed_due)")
        self.rates: dict[str, float] = {}
        self.character: dict[str, Any] = char.parse({})
        self.faults: dict[str, Any] = dict(DEFAULT_FAULTS)
        self._lock = threading.RLock()  # one tick / anomaly rebuild at a time
        self._stats_lock = threading.Lock()
        self._rng = random.Random(13)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._http: httpx.Client | None = None
        self.stats: dict[str, int] = {k: 0 for k in (
            "subscribe_accepted", "subscribe_duplicate", "subscribe_rejected", "pushes_created", "pushes_sent",
            "pushes_delivered", "pushes_failed", "pushes_dropped", "duplicates_sent", "aborts", "queries_ok",
            "queries_no_result", "queries_rejected", "queries_too_soon", "route_detail_calls",
            "intercepts_accepted", "intercepts_rejected")}

    def _count(self, key: str, n: int = 1) -> None:
        with self._stats_lock:
            self.stats[key] += n

    def create_account(self, customer: str | None = None, key: str | None = None,
                       secret: str | None = None) -> dict[str, Any]:
        customer = customer or secrets.token_hex(16).upper()
        key = key or "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(16))
        secret = secret or secrets.token_hex(16)
        if self.sb.store.one("SELECT 1 FROM k100_accounts WHERE customer=? OR key=?", (customer, key)):
            raise ValueError("customer or key already exists")
        self.sb.store.write("INSERT INTO k100_accounts (customer, key, created_at, secret) VALUES (?,?,?,?)",
                            (customer, key, self.sb.now(), secret))
        return {"customer": customer, "key": key, "secret": secret, "salt_hint": secrets.token_hex(16)}

    def set_rates(self, rates: dict[str, Any]) -> dict[str, float]:
        unknown = set(rates) - set(ANOMALIES)
        if unknown:
            raise ValueError(f"unknown anomaly kinds {sorted(unknown)}; one of {', '.join(ANOMALIES)}")
        clean = {k: float(v) for k, v in rates.items()}
        if any(not 0.0 <= v <= 1.0 for v in clean.values()) or sum(clean.values()) > 1.0 + 1e-9:
            raise ValueError("rates must be within 0..1 and sum to at most 1")
        self.rates = clean
        return dict(clean)

    def set_character(self, conf: dict[str, Any]) -> dict[str, Any]:
        """Per-courier pace, rates and the fast-forward (``character.parse``) for parcels whose
        timeline is built from now on; ``{}`` goes back to one pace and the sandbox-wide rates."""
        self.character = char.parse(conf)
        return self.character

    def set_faults(self, faults: dict[str, Any]) -> dict[str, Any]:
        unknown = set(faults) - set(DEFAULT_FAULTS)
        if unknown:
            raise ValueError(f"unknown tracking fault keys {sorted(unknown)}")
        conf = dict(DEFAULT_FAULTS)
        for k, v in faults.items():
            conf[k] = type(DEFAULT_FAULTS[k])(v)
        if not 0.0 <= conf["duplicate_rate"] <= 1.0 or conf["max_retries"] < 0 or conf["retry_interval_s"] < 0:
            raise ValueError("duplicate_rate must be 0..1, max_retries and retry_interval_s >= 0")
        self.faults = conf
        return dict(conf)

    def _row(self, track_no: str) -> dict[str, Any] | None:
        r = self.sb.store.one("SELECT track_no, courier, shop_id, base_time, source, plan, phones, anomaly, events"
                              " FROM tracks WHERE track_no=?", (track_no,))
        if r is None:
            return None
        return {"track_no": r[0], "courier": r[1], "shop_id": r[2], "base_time": r[3], "source": r[4],
                "plan": json.loads(r[5]), "phones": json.loads(r[6]), "anomaly": r[7], "events": json.loads(r[8])}

    def _insert(self, track_no: str, courier: str, shop_id: int | None, base: int, source: str,
                origin: Any, dest: Any, phones: dict[str, str | None]) -> dict[str, Any]:
        plan = make_plan(track_no, courier, origin, dest)
        ch = self.character
        pace = char.pace_for(ch, courier, plan["dest"]["province"])
        if pace != 1.0:
            plan["pace"] = pace
        if ch["fast_forward"] > 1.0:
            plan["fast_forward"] = ch["fast_forward"]
        kind = pick_anomaly(track_no, char.rates_for(ch, courier, self.rates))
        events = char.stamp_due(timeline(track_no, plan, base, kind), base, plan.get("fast_forward", 1.0))
        self.sb.store.write("INSERT OR IGNORE INTO tracks (track_no, courier, shop_id, base_time, source, plan, phones,"
                            " anomaly, events, signed_due) VALUES (?,?,?,?,?,?,?,?,?,?)",
                            (track_no, courier, shop_id, base, source, dumps(plan), dumps(phones), kind,
                             dumps(events), signed_due(events)))
        return self._row(track_no)  # type: ignore[return-value]

    def track(self, track_no: str) -> dict[str, Any] | None:
        """The timeline of a number, built on first use from its earliest shipment (sandbox clock at shipping)."""
        row = self._row(track_no)
        if row is not None:
            return row
        s = self.sb.store.one("SELECT shop_id, order_ids, company_code, ship_time FROM shipments WHERE tracking_no=?"
                              " ORDER BY id LIMIT 1", (track_no,))
        if s is None or s[2] not in K100_COMPANIES:
            return None
        shop_id, order_ids, courier, ship_time = s
        addrs = shop_addresses(shop_id)
        sender = next((a for a in addrs if a["is_send_default"]), addrs[0])
        origin = {"province": sender["receiver_provinc"], "city": sender["receiver_city"],
                  "district": sender["receiver_district"]}
        w = self.sb.store.one("SELECT n.sender_address FROM waybills w JOIN netsites n ON n.shop_id=w.shop_id AND"
                              " n.logistics_code=w.logistics_code AND n.netsite_code=w.netsite_code WHERE w.track_no=?",
                              (track_no,))
        if w:  # sandbox e-waybill: sent from its netsite's address
            a = json.loads(w[0])[0]
            origin = {"province": a["province_name"], "city": a["city_name"], "district": a["district_name"]}
        dest, receiver = None, None
        oid = (json.loads(order_ids) or [None])[0]
        p = self.sb.store.one("SELECT payload FROM orders WHERE order_id=?", (int(oid),)) if oid else None
        if p:
            o = json.loads(p[0])
            pa = o["post_addr"]
            dest = {"province": pa["province"]["name"], "city": pa["city"]["name"], "district": pa["town"]["name"]}
            receiver = phone_tail(o.get("mask_post_tel"))
        return self._insert(track_no, courier, shop_id, int(ship_time), "shipment", origin, dest,
                            {"receiver": receiver, "sender": phone_tail(sender["receiver_tel"])})

    def set_anomaly(self, track_no: str, kind: str) -> dict[str, Any]:
        """Rebuild the future of a number for ``kind``; events that are due (happened) or pushed stay."""
        if kind not in KINDS:
            raise ValueError(f"unknown anomaly kind {kind!r}; one of {', '.join(KINDS)}")
        return self._rebuild(track_no, kind)

    def intercept(self, track_no: str) -> dict[str, Any]:
        """The parcel turns back now (after-sale interception); not an admin-settable anomaly kind."""
        return self._rebuild(track_no, "intercepted")

    def _rebuild(self, track_no: str, kind: str) -> dict[str, Any]:
        with self._lock:
            row = self.track(track_no)
            if row is None:
                raise LookupError(f"unknown tracking number {track_no}")
            now = self.sb.now()
            events = row["events"]
            pushed = self.sb.store.one("SELECT COALESCE(MAX(pushed_upto), 0) FROM k100_subs WHERE number=?",
                                       (track_no,))[0]
            keep = max(pushed, sum(1 for e in events if due(e) <= now))
            ff = float(row["plan"].get("fast_forward", 1.0))
            new = char.stamp_due(timeline(track_no, row["plan"], row["base_time"], kind, events[:keep],
                                          char.event_now(row["base_time"], now, ff)), row["base_time"], ff)
            self.sb.store.write("UPDATE tracks SET anomaly=?, events=?, signed_due=? WHERE track_no=?",
                                (kind, dumps(new), signed_due(new), track_no))
            row["events"] = new
            for sid, company, created, upto in self.sb.store.all(
                    "SELECT id, company, created_at, pushed_upto FROM k100_subs WHERE number=? AND status='polling'",
                    (track_no,)):
                self._schedule(sid, self._sub_events(row, company), created, upto, now)
        return self.view(track_no)

    def view(self, track_no: str) -> dict[str, Any]:
        row = self.track(track_no)
        if row is None:
            raise LookupError(f"unknown tracking number {track_no}")
        now = self.sb.now()
        subs = self.sb.store.all("SELECT id, customer, company, status, pushed_upto, created_at, callbackurl FROM"
                                 " k100_subs WHERE number=? ORDER BY id", (track_no,))
        pushes = self.sb.store.all("SELECT id, sub_id, upto, status, state, attempts FROM k100_pushes WHERE number=?"
                                   " ORDER BY id", (track_no,))
        stops = self.sb.store.all("SELECT customer, order_id, company, intercept_type, partner_id, at FROM"
                                  " k100_intercepts WHERE number=? ORDER BY id", (track_no,))
        pushed = max((s[4] for s in subs), default=0)
        delivered = max((p[2] for p in pushes if p[4] == "delivered"), default=0)
        return {
            "track_no": track_no, "courier": row["courier"], "shop_id": row["shop_id"], "source": row["source"],
            "base_time": row["base_time"], "anomaly": row["anomaly"], "now": now,
            "origin": row["plan"]["origin"], "dest": row["plan"]["dest"],
            "hubs": [h["city"] for h in row["plan"]["hubs"]],
            "events": [{"index": i, "step": e["step"], "at": e["at"], "time": fmt_time(e["at"]), "due": due(e) <= now,
                        "pushed": i < pushed, "delivered": i < delivered, "state": e["state"],
                        "status_code": e["code"], "douyin_state": e["douyin"], "context": e["context"],
                        "location": e["city"], "site": e["site"]} for i, e in enumerate(row["events"])],
            "subscriptions": [{"id": s[0], "customer": s[1], "company": s[2], "status": s[3], "pushed_upto": s[4],
                               "created_at": s[5], "callbackurl": s[6]} for s in subs],
            "pushes": [{"id": p[0], "sub_id": p[1], "upto": p[2], "status": p[3], "state": p[4], "attempts": p[5]}
                       for p in pushes],
            "intercepts": [{"customer": i[0], "order_id": i[1], "company": i[2], "intercept_type": i[3],
                            "partner_id": i[4], "at": i[5]} for i in stops],
        }

    def intercepted(self, track_no: str) -> bool:
        """Turned back by an interception (either path)."""
        row = self._row(track_no)
        return row is not None and row["anomaly"] == "intercepted"

    @staticmethod
    def _sub_events(row: dict[str, Any], company: str) -> list[dict[str, Any]]:
        # A wrong courier code finds nothing (§1.4 autoCheck: comNew comes with the 3-day abort).
        return row["events"] if row["courier"] == company else []

    def _schedule(self, sid: int, events: list[dict[str, Any]], created: float, upto: int, now: float) -> None:
        """When this subscription next needs a look: its next event, or an abort deadline."""
        nxt = due(events[upto]) if upto < len(events) else None
        if upto == 0:
            deadline = created + NO_RECORD_ABORT
        else:
            deadline = max(due(events[upto - 1]), created) + NO_CHANGE_ABORT
        when = min(x for x in (nxt, deadline) if x is not None)
        self.sb.store.write("UPDATE k100_subs SET next_check=? WHERE id=?", (when, sid))

    def stats_view(self) -> dict[str, Any]:
        st = self.sb.store
        with self._stats_lock:
            s = dict(self.stats)
        return {
            "subscriptions": {"total": st.one("SELECT COUNT(*) FROM k100_subs")[0],
                              "polling": st.one("SELECT COUNT(*) FROM k100_subs WHERE status='polling'")[0],
                              "accepted": s["subscribe_accepted"], "duplicate": s["subscribe_duplicate"],
                              "rejected": s["subscribe_rejected"]},
            "pushes": {"created": s["pushes_created"], "sent": s["pushes_sent"], "delivered": s["pushes_delivered"],
                       "failed": s["pushes_failed"], "dropped": s["pushes_dropped"],
                       "duplicates_sent": s["duplicates_sent"], "aborts": s["aborts"],
                       "pending": st.one("SELECT COUNT(*) FROM k100_pushes WHERE state='pending'")[0]},
            "queries": {"ok": s["queries_ok"], "no_result": s["queries_no_result"], "rejected": s["queries_rejected"],
                        "too_soon": s["queries_too_soon"]},
            "route_detail_calls": s["route_detail_calls"],
            "intercepts": {"accepted": s["intercepts_accepted"], "rejected": s["intercepts_rejected"],
                           "total": st.one("SELECT COUNT(*) FROM k100_intercepts")[0]},
            "rates": dict(self.rates), "faults": dict(self.faults),
        }
