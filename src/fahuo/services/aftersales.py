"""After-sale cases: kept current from ``afterSale.List``; interception offered when the buyer
wants money back for a parcel already on its way; returns received and inspected into stock.

A refund *before* shipment is stopped by the pipeline itself (the order's lines carry the
after-sale status; see ``Pipeline.confirm`` and scan-to-ship). Here: the case list, the
after-shipment interception and returns.

Interception has two paths: Douyin ``afterSale.applyLogisticsIntercept`` and Kuaidi100
``interceptOrder`` (快递拦截, through a Kuaidi100 tracking account that has a secret and the
courier's e-waybill account). ``via="auto"`` asks Douyin first and sends the parcels Douyin
will not take to Kuaidi100 when it is set up for their courier. The path used is stored in
``intercept_via`` ("douyin", "kuaidi100", "douyin+kuaidi100"; "" when none took it) and, for
people, leads ``intercept_detail`` ("抖音：…" / "快递100：…"). Whether it worked is read from
the parcel's own tracking afterwards (``follow_intercepts``): on its way back or back →
returning / returned; signed by the buyer → failed.

A case is claimed (``requesting``) before anything is sent and is refused while it, or
another case of the same order (they share the parcels), is requesting / requested /
returning / returned. Douyin's "already requested" (reason code 3) counts as requested. A
Kuaidi100 answer lost or unreadable leaves ``unsure``: no automatic retry, only an explicit
path once the merchant has checked with the courier.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import httpx
import orjson
import structlog
from fahuo.adapters.carriers.base import ProviderError
from fahuo.adapters.carriers.kuaidi100 import (
    INTERCEPT_TYPES, InterceptRequest, Kuaidi100Interceptor, Kuaidi100Settings,
)
from fahuo.adapters.carriers.kuaidi100.settings import DEFAULT_LABEL_URL
from fahuo.adapters.platforms.doudian.errors import (
    DoudianError, TransportError, UnexpectedResponse,
)
from fahuo.adapters.store.unit_of_work import UnitOfWork
from fahuo.domain.couriers import courier_code
from fahuo.domain.aftersales import (
    ASKED, BUSY as BUSY_STATES, INTERCEPT, InterceptState as I, goods_come_back, receipt_problems,
)
from fahuo.domain.lifecycle import StaleState
from fahuo.domain.orders import INTERCEPTABLE, RETURNABLE, OrderState
from fahuo.domain.packs import units_sent
from fahuo.domain.stock import expand
from fahuo.domain.tracking import Tracker
from fahuo.domain.watch import WatchRules, next_poll_at
from fahuo.services.ports import PlatformFactory, UowFactory
from fahuo.services.stock import StockInputError, StockLine, follow_lines_in, move_stock_in

log = structlog.get_logger(__name__)
CURSOR = "aftersales"
OPEN = {6, 7, 8, 11, 13, 27}      # waiting on someone (27: refused once, buyer may appeal)
# The buyer wants money back and the parcel is still the courier's to turn round (at 11 the
# buyer has sent the goods back already: nothing left to intercept).
REFUND_WANTED = {6, 7}
FIRST_SYNC_DAYS = 7
OVERLAP_S, LAG_S = 120, 3
VIAS = ("auto", "douyin", "kuaidi100")
VIA_LABEL = {"douyin": "抖音", "kuaidi100": "快递100"}
# The interception lifecycle is domain/aftersales.py's (InterceptState, INTERCEPT); every
# write goes through ``u.aftersales.move_intercepts`` (checked, conditional, recorded).
# Asked for (or already coming back): a second request would pay twice.
INTERCEPTED = tuple(sorted(ASKED))
# Claimed by a request under way (a double click, a second console): nobody else may ask.
REQUESTING = I.REQUESTING.value
BUSY = tuple(sorted(BUSY_STATES))
# Kuaidi100's answer was lost or unreadable: the courier may have taken it (and charged).
# Not retried automatically: a person checks with the courier, then picks a path explicitly.
UNSURE = I.UNSURE.value
NOT_BUSY = INTERCEPT.states - BUSY_STATES
# A claim older than this was left by a crash mid-request: the request may have gone out.
CLAIM_STALE_S = 600
# Douyin ``unavailable_reason_code`` 3 (该包裹已申请拦截，请勿重复申请): already asked, so it
# counts as requested, never as a refusal to take to Kuaidi100.
ALREADY_REQUESTED_CODE = 3
ALREADY_REQUESTED_TEXT = "已申请拦截"
K100_INTERCEPT_TYPE = "RETURN_SEND_ADDR"  # back to the sender, who is the merchant


class AfterSaleError(ValueError):
    """Bad input for an after-sale action; names what is wrong."""


@dataclass
class AfterSaleReport:
    cases: int = 0
    offered: int = 0
    returns_tracked: int = 0
    intercept_outcomes: int = 0
    notes: list[str] = field(default_factory=list)


def _case_row(shop_ref: int, item: dict[str, Any]) -> dict[str, Any]:
    info, order = item.get("aftersale_info") or {}, item.get("order_info") or {}
    related = order.get("related_order_info") or []
    shipped = any(int(r.get("order_status") or 0) in (3, 5, 255) for r in related)
    status = int(info.get("aftersale_status") or 0)
    return {
        "aftersale_id": str(info.get("aftersale_id")), "shop_ref": shop_ref,
        "order_id": str(order.get("shop_order_id") or ""),
        "sku_order_ids": orjson.dumps([str(r.get("sku_order_id")) for r in related]).decode(),
        "aftersale_type": int(info.get("aftersale_type") or 0), "aftersale_status": status,
        "refund_status": info.get("refund_status"),
        "refund_amount": int(info.get("refund_amount") or 0),
        "stage": "after_ship" if shipped else "before_ship",
        # afterSale.List names the return courier (e.g. 圆通快递), it gives no code
        "return_company": courier_code(str(info.get("return_logistics_company_name") or ""))
        or "",
        "return_tracking_no": str(info.get("return_logistics_code") or ""),
        "apply_time": info.get("apply_time"), "update_time": int(info.get("update_time") or 0),
        "closed_at": None if status in OPEN else int(info.get("update_time") or time.time()),
    }


def _case_lines(item: dict[str, Any]) -> list[dict[str, Any]]:
    """The units the case is about, per line (aftersale_item_num; a one-line case without it
    takes aftersale_num, else the line's item_num)."""
    info, order = item.get("aftersale_info") or {}, item.get("order_info") or {}
    related = [r for r in order.get("related_order_info") or [] if r.get("sku_order_id")]
    out = []
    for r in related:
        units = r.get("aftersale_item_num")
        if units in (None, "") and len(related) == 1:
            units = info.get("aftersale_num")
        if units in (None, ""):
            units = r.get("item_num")
        try:
            n = int(units or 0)
        except (TypeError, ValueError):
            n = 0
        out.append({"aftersale_id": str(info.get("aftersale_id")),
                    "sku_order_id": str(r["sku_order_id"]), "units": max(0, n)})
    return out


def sync_after_sales(uow: UowFactory, platform_for: PlatformFactory, shop_ref: int,
                     now: int | None = None) -> AfterSaleReport:
    """Read cases changed since the cursor (page by page), then offer interceptions."""
    now = int(now or time.time())
    r = AfterSaleReport()
    with uow() as u:
        shop = u.shops.get(shop_ref)
        start = u.cursors.get(shop_ref, CURSOR)
    if shop is None:
        raise AfterSaleError(f"no shop {shop_ref}")
    start = (start - OVERLAP_S) if start else now - FIRST_SYNC_DAYS * 86400
    end = now - LAG_S
    api = platform_for(shop)
    rows: dict[str, dict[str, Any]] = {}
    units: dict[str, list[dict[str, Any]]] = {}
    page = 0
    while True:
        got = api.after_sales(update_start=start, update_end=end, page=page)
        for item in got.items:
            row = _case_row(shop_ref, item)
            if row["aftersale_id"] != "None":
                rows[row["aftersale_id"]] = row
                units[row["aftersale_id"]] = _case_lines(item)
        if not got.has_more or not got.items:
            break
        page += 1
    with uow() as u:
        if rows:
            u.aftersales.upsert_cases(list(rows.values()))
            u.aftersales.set_lines([ln for ls in units.values() for ln in ls])
            # a refund agreed before shipment gives its units back now (partial ones too)
            follow_lines_in(u, u.aftersales.order_ids_of(rows), actor="aftersales")
        r.offered = _offer_intercepts(u)
        r.returns_tracked = _track_returns(u, now)
        r.intercept_outcomes = _follow_intercepts(u, shop_ref)
        u.cursors.advance(shop_ref, end, len(rows), kind=CURSOR)
    r.cases = len(rows)
    return r


def _offer_intercepts(u: UnitOfWork) -> int:
    """A refund wanted for a parcel still travelling: offer to call it back."""
    cases = u.aftersales.untouched_refund_cases(REFUND_WANTED)
    if not cases:
        return 0
    order_ids = [c["order_id"] for c in cases]
    delivered = u.tracking.orders_with_tracker_in(order_ids,
                                                  ("delivered", "returned", "returning"))
    # a case of the same order already asked for (or being asked for) shares its parcels
    busy = u.aftersales.orders_with_intercept_in(order_ids, BUSY)
    offer = [c["aftersale_id"] for c in cases
             if c["order_id"] not in delivered and c["order_id"] not in busy]
    # still untouched (a request may have claimed one since it was read)
    return len(u.aftersales.move_intercepts_from(
        offer, frozenset({I.NONE}), I.OFFERED, intercept_detail="买家已申请退款，包裹仍在途：可拦截"))


def _track_returns(u: UnitOfWork, now: int) -> int:
    """The buyer's return parcel gets a tracker like any other parcel, first polled when the
    shop's tracking rules say a new parcel is (``watch_rules``, as for outgoing parcels)."""
    rows = u.aftersales.returns_not_received()
    if not rows:
        return 0
    known = u.tracking.tracked_numbers([r["return_tracking_no"] for r in rows])
    rules: dict[int, WatchRules] = {}
    new = []
    for r in rows:
        if r["return_tracking_no"] in known:
            continue
        if r["shop_ref"] not in rules:
            rules[r["shop_ref"]] = WatchRules.from_dict(
                u.settings.get(r["shop_ref"]).get("watch_rules") or {})
        tracker = Tracker(track_no=r["return_tracking_no"],
                          courier=r["return_company"] or "unknown", created_at=now)
        new.append({"shop_ref": r["shop_ref"], "pack_id": None, "order_id": r["order_id"],
                    "courier_code": tracker.courier, "track_no": tracker.track_no,
                    "source": "douyin", "phone_tail": "", "state": tracker.state.value,
                    "shipped_at": now, "subscribed": False, "poll_attempts": 0,
                    "next_poll_at": next_poll_at(tracker, False, 0, rules[r["shop_ref"]], now)})
    return u.tracking.add_trackers(new)


def list_cases(uow: UowFactory, *, status: str = "open", stage: str | None = None,
               limit: int = 200) -> list[dict[str, Any]]:
    with uow(readonly=True) as u:
        bundles = u.stock.bundles()
        return [r | {"sku_order_ids": orjson.loads(r["sku_order_ids"]),
                     **_received(r["received_lines"], bundles)}
                for r in u.aftersales.list_cases(status=status, stage=stage, limit=limit)]


def _received(stored: str, bundles: dict[str, dict[str, int]]) -> dict[str, Any]:
    """What came back as it was named (a bundle as bundles), for lists and screens."""
    lines = orjson.loads(stored or "{}")

    def text(kind: str) -> str:
        return "、".join(f"{c}×{q}" + ("（组套）" if c in bundles else "")
                        for c, q in (lines.get(kind) or {}).items())
    return {"received_lines": lines, "received_good": text("good"),
            "received_damaged": text("damaged")}


def _case(u: UnitOfWork, aftersale_id: str) -> dict[str, Any]:
    row = u.aftersales.case(aftersale_id)
    if row is None:
        raise AfterSaleError(f"no after-sale case {aftersale_id}")
    return row


@dataclass
class _Parcel:
    courier: str
    track_no: str
    via: str = ""  # the path that accepted it
    outcome: str = ""  # ok | unavailable | failed
    douyin: str = ""  # why Douyin did not take it
    k100: str = ""  # why Kuaidi100 did not take it (or is not set up)
    text: str = ""  # what was accepted, and at what cost
    unsure: bool = False  # Douyin may have taken it without our hearing: no second path
    k100_unsure: bool = False  # Kuaidi100 may have taken it without our hearing
    asked: bool = False  # a request for it left fahuo (it may have been taken)
    audit: dict[str, Any] = field(default_factory=dict)


def _k100_route(accounts: list[dict[str, Any]], courier: str
                ) -> tuple[dict[str, Any] | None, dict[str, str] | str]:
    """(account, the courier's e-waybill account) able to intercept ``courier``'s parcels,
    or (None, what is missing)."""
    if not accounts:
        return None, ("no enabled Kuaidi100 account (fahuo track account-add kuaidi100 …)")
    signed = [a for a in accounts if a["credentials"].get("secret")]
    if not signed:
        names = ", ".join(f"#{a['id']} {a['name']}" for a in accounts)
        return None, (f"Kuaidi100 account {names} has no secret "
                      "(fahuo track intercept-setup ACCOUNT --secret …)")
    for a in signed:
        partner = (a["credentials"].get("intercept_partners") or {}).get(courier.lower())
        if partner:
            return a, partner
    return None, (f"no {courier} e-waybill account for Kuaidi100 interception "
                  f"(fahuo track intercept-partner ACCOUNT {courier} --partner-id …)")


def _interceptor(account: dict[str, Any], http: httpx.Client) -> Kuaidi100Interceptor:
    cred = account["credentials"]
    return Kuaidi100Interceptor(Kuaidi100Settings(
        customer=cred["customer"], key=cred["key"], secret=cred["secret"],
        base_url=account["base_url"], label_url=cred.get("label_url") or DEFAULT_LABEL_URL),
        http=http)


def _already_requested(x: dict[str, Any]) -> bool:
    """Douyin's "该包裹已申请拦截，请勿重复申请": asked before (by us or at the courier)."""
    try:
        code = int(x.get("unavailable_reason_code") or 0)
    except (TypeError, ValueError):
        code = 0
    return (code == ALREADY_REQUESTED_CODE
            or ALREADY_REQUESTED_TEXT in str(x.get("unavailable_reason") or ""))


def _by_douyin(api: Any, aftersale_id: str, parcels: list[_Parcel]) -> None:
    for p in parcels:
        p.asked = True
    try:
        res = api.apply_intercept(aftersale_id, [(p.courier, p.track_no) for p in parcels])
    except DoudianError as exc:
        # No answer (or a garbled one) may still mean Douyin took it: asking Kuaidi100 as
        # well could intercept, and charge, twice.
        unsure = isinstance(exc, (TransportError, UnexpectedResponse))
        for p in parcels:  # the platform's own words first; the whole error in the audit
            p.douyin, p.outcome = (exc.sub_msg or exc.msg or str(exc)), "failed"
            p.unsure = unsure
            p.audit["douyin"] = {"error": str(exc)}
        return
    results = [x for x in (res.get("intercept_results") or []) if isinstance(x, dict)]
    by_no = {str(x.get("tracking_no")): x for x in results if x.get("tracking_no")}
    for i, p in enumerate(parcels):
        x = by_no.get(p.track_no) or (results[i] if i < len(results) and not by_no else None)
        if x is None:
            p.douyin, p.outcome = "平台未返回该包裹的拦截结果", "failed"
            continue
        p.audit["douyin"] = {k: x.get(k) for k in ("can_intercept", "is_success",
                                                     "unavailable_reason_code",
                                                     "unavailable_reason", "intercept_cost")}
        if x.get("is_success"):
            p.via, p.outcome = "douyin", "ok"
            p.text = f"已提交拦截，费用 {int(x.get('intercept_cost') or 0) / 100:.2f} 元"
        elif _already_requested(x):  # asking anyone again would pay twice
            p.via, p.outcome = "douyin", "ok"
            reason = str(x.get("unavailable_reason") or "").strip()
            p.text = "此前已申请拦截，未重复申请" + (f"（平台返回：{reason}）" if reason else "")
        else:
            p.douyin = str(x.get("unavailable_reason") or "平台不可拦截")
            p.outcome = "unavailable" if x.get("can_intercept") is False else "failed"


def _by_kuaidi100(aftersale_id: str, p: _Parcel, route: tuple[Any, Any],
                  http: httpx.Client) -> None:
    account, partner = route
    if account is None:
        p.k100 = f"未配置（{partner}）"
        p.outcome = p.outcome or "unavailable"
        return
    req = InterceptRequest(order_id=f"{aftersale_id}-{p.track_no}", courier=p.courier,
                           track_no=p.track_no, partner=partner,
                           reason=f"买家申请退款（售后单 {aftersale_id}）",
                           intercept_type=K100_INTERCEPT_TYPE, order_role="1")
    p.audit["kuaidi100_account"] = account["id"]
    try:
        interceptor = _interceptor(account, http)
        p.asked = True
        ack = interceptor.intercept(req)
    except ProviderError as exc:
        p.k100, p.outcome = f"{exc.message}（{exc.code}）", "failed"
        p.audit["kuaidi100"] = {"code": exc.code, "message": exc.message,
                                "data": (exc.payload or {}).get("data")
                                if isinstance(exc.payload, dict) else None}
        if _k100_unsure(exc):
            p.k100_unsure = True
            p.k100 += "；结果未知：请先向快递核实包裹是否已被拦截，确认未拦截后再选快递100重新拦截"
        return
    except ValueError as exc:  # a stored courier account Kuaidi100 would refuse anyway
        p.k100, p.outcome = str(exc), "failed"
        return
    p.via, p.outcome = "kuaidi100", "ok"
    p.audit["kuaidi100"] = {"code": ack.code, "message": ack.message, "data": ack.data}
    p.text = f"已提交拦截（{INTERCEPT_TYPES[K100_INTERCEPT_TYPE]}）"
    if p.douyin:
        p.text += f"，抖音不可拦截：{p.douyin}"
    if ack.data not in (None, "", {}, []):  # undocumented: shown as it came
        p.text += "，快递100返回：" + orjson.dumps(ack.data).decode()


def _k100_unsure(exc: ProviderError) -> bool:
    """The request may have reached Kuaidi100 and been taken: no answer after sending
    (``transport``), a server error, or an answer that cannot be read. A connection never
    made (``transport-connect``) or a refusal in Kuaidi100's own words is sure."""
    return (exc.code in ("transport", "bad-response") or
            (exc.code.startswith("http-") and exc.code[5:].isdigit() and int(exc.code[5:]) >= 500))


def _summary(parcels: list[_Parcel]) -> tuple[str, str]:
    """(intercept_state, intercept_detail): the path(s) that took the parcels lead the text."""
    ok = [p for p in parcels if p.outcome == "ok"]

    def why(p: _Parcel) -> str:
        parts = ([f"抖音：{p.douyin}"] if p.douyin else []) + (
            [f"快递100：{p.k100}"] if p.k100 else [])
        return "拦截失败：" + ("；".join(parts) or "无结果")

    def line(p: _Parcel) -> str:
        return (f"{VIA_LABEL[p.via]}{p.text}" if p.outcome == "ok" else why(p))

    if len(parcels) == 1:
        (p,) = parcels
        text = f"{VIA_LABEL[p.via]}：{p.text}" if ok else why(p)
    else:
        body = " | ".join(f"{p.track_no} {line(p)}" for p in parcels)
        vias = [v for v in VIA_LABEL if any(p.via == v for p in ok)]
        text = ("+".join(VIA_LABEL[v] for v in vias) + "：" + body) if ok else body
    if ok:
        return "requested", text
    if any(p.k100_unsure for p in parcels):
        return UNSURE, text
    if all(p.outcome == "unavailable" for p in parcels):
        return "unavailable", text
    return "failed", text


def _refusal(aftersale_id: str, own: Any, others: list[Any], via: str) -> str | None:
    """Why this case may not be sent now (``own``/``others``: rows with aftersale_id,
    intercept_state, intercept_detail; ``others`` the same order's other cases)."""
    if own.intercept_state == REQUESTING:
        return (f"interception of {aftersale_id} is being requested right now (正在申请拦截); "
                "wait for its result")
    if own.intercept_state in INTERCEPTED:
        return (f"interception of {aftersale_id} was already requested "
                f"({own.intercept_state}: {own.intercept_detail})")
    for o in others:  # one set of parcels per order: asking again would pay twice
        if o.intercept_state in BUSY:
            return (f"interception of {aftersale_id} was already requested through case "
                    f"{o.aftersale_id} of the same order ({o.intercept_state}: "
                    f"{o.intercept_detail})")
    unsure = [o for o in [own, *others] if o.intercept_state == UNSURE]
    if unsure and via == "auto":
        x = unsure[0]
        of = "" if x is own else f" (through case {x.aftersale_id} of the same order)"
        return (f"interception of {aftersale_id} may already have been taken by the courier"
                f"{of} ({x.intercept_detail}): check with the courier, then retry with "
                "via kuaidi100 (or douyin) explicitly")
    return None


def _claim(uow: UowFactory, aftersale_id: str, order_id: str, via: str) -> dict[str, Any]:
    """Mark the case ``requesting`` (one conditional UPDATE, the order's cases locked on
    PostgreSQL; SQLite writers are serial) before anything is sent; what it was before."""
    with uow() as u:
        rows = [SimpleNamespace(**r) for r in u.aftersales.lock_claim_rows(order_id, aftersale_id)]
        if _expire_claims(u, [r.aftersale_id for r in rows]):
            rows = [SimpleNamespace(**r)
                    for r in u.aftersales.lock_claim_rows(order_id, aftersale_id)]
        own = next((r for r in rows if r.aftersale_id == aftersale_id), None)
        if own is None:
            raise AfterSaleError(f"no after-sale case {aftersale_id}")
        why = _refusal(aftersale_id, own, [r for r in rows if r is not own], via)
        if why:
            raise AfterSaleError(why)
        try:  # conditional on the state read: a second click finds it claimed
            u.aftersales.move_intercepts({aftersale_id: (own.intercept_state, REQUESTING)},
                                         intercept_detail="正在申请拦截…",
                                         intercept_claimed_at=int(time.time()))
        except StaleState:  # changed since it was read
            raise AfterSaleError(f"interception of {aftersale_id} is being requested right "
                                 "now (正在申请拦截); wait for its result") from None
    return {"intercept_state": own.intercept_state, "intercept_detail": own.intercept_detail,
            "intercept_via": own.intercept_via}


def _release(uow: UowFactory, aftersale_id: str, before: dict[str, Any],
             parcels: list[_Parcel], exc: BaseException, *, actor: str, via: str) -> None:
    """Something raised after the claim: nothing sent → the case as it was; something sent →
    ``unsure`` (it may have been taken), with the error."""
    error = f"{type(exc).__name__}: {exc}"
    sent = any(p.asked for p in parcels)
    values = (dict(intercept_state=UNSURE,
                   intercept_detail=f"拦截结果未知：处理中出错（{error}），请先向快递核实包裹是否已被"
                                    "拦截，再选择拦截途径重新拦截")
              if sent else before)
    try:
        with uow() as u:
            u.aftersales.move_intercepts_from(  # unless a crash sweep made it unsure
                [aftersale_id], frozenset({I.REQUESTING}), I(values["intercept_state"]),
                **{k: v for k, v in values.items() if k != "intercept_state"})
            u.audit.add(actor=actor, action="aftersale.intercept", subject_type="aftersale",
                        subject_id=aftersale_id, detail={
                            "via": via, "state": values["intercept_state"], "error": error,
                            "parcels": [{"track_no": p.track_no, "courier": p.courier,
                                         "via": p.via, "outcome": p.outcome,
                                         "asked": p.asked, **p.audit} for p in parcels]})
    except Exception:  # the original error is the one to see
        log.exception("aftersale.intercept_release_failed", aftersale_id=aftersale_id)


def intercept(uow: UowFactory, platform_for: PlatformFactory, aftersale_id: str, *,
              actor: str, via: str = "auto", http: httpx.Client | None = None
              ) -> dict[str, Any]:
    """Ask the courier to bring the parcel(s) back: through Douyin, through Kuaidi100, or
    (``auto``) Douyin first and Kuaidi100 for the parcels Douyin will not take.

    The case is claimed (``requesting``) before anything is sent, so a second click is
    refused instead of paying twice, and the claim always ends in a final state."""
    if via not in VIAS:
        raise AfterSaleError(f"via must be one of {', '.join(VIAS)}, got {via!r}")
    with uow(readonly=True) as u:
        case = _case(u, aftersale_id)
        if case["stage"] != "after_ship":
            raise AfterSaleError("the order has not shipped: the pipeline stops it, no "
                                 "interception needed")
        others = [SimpleNamespace(**o) for o in u.aftersales.other_cases_of_order(
            case["order_id"], aftersale_id)] if case["order_id"] else []
        why = _refusal(aftersale_id, SimpleNamespace(**case), others, via)
        if why:
            raise AfterSaleError(why)
        packs = [p for p in u.pipeline.packs_of_orders([case["order_id"]])
                 if p["state"] == "confirmed" and p["track_no"]]
        shop = u.shops.require(case["shop_ref"])
        accounts = ([x for x in u.tracking.accounts(enabled_only=True)
                     if x["provider"] == "kuaidi100"] if via != "douyin" else [])
    if not packs:
        raise AfterSaleError(f"order {case['order_id']} has no shipped parcel in fahuo")
    parcels = [_Parcel(p["courier_code"] or "", p["track_no"]) for p in packs]
    routes = {p.courier: _k100_route(accounts, p.courier) for p in parcels}
    if via == "kuaidi100":  # checked for every parcel before anything is sent
        missing = sorted({str(why) for acc, why in routes.values() if acc is None})
        if missing:
            raise AfterSaleError("Kuaidi100 interception is not set up: " + "; ".join(missing))
    before = _claim(uow, aftersale_id, case["order_id"], via)
    try:
        if via != "kuaidi100":
            _by_douyin(platform_for(shop), aftersale_id, parcels)
        if via != "douyin":
            _k100_step(aftersale_id, parcels, routes, http)
        state, detail = _summary(parcels)
    except BaseException as exc:
        _release(uow, aftersale_id, before, parcels, exc, actor=actor, via=via)
        raise
    used = sorted({p.via for p in parcels if p.via})
    via_used = "+".join(v for v in VIA_LABEL if v in used)  # douyin | kuaidi100 | both | ""
    with uow() as u:
        u.aftersales.move_intercepts_from([aftersale_id], frozenset({I.REQUESTING}), I(state),
                                          intercept_detail=detail, intercept_via=via_used)
        siblings: list[str] = []
        if state == "requested":
            # One case per refunded line, one set of parcels per order: the order's other
            # open cases are covered too (asking again for them would pay twice).
            siblings = u.aftersales.move_intercepts_from(
                u.aftersales.open_siblings(case["order_id"], aftersale_id, BUSY),
                NOT_BUSY, I.REQUESTED, intercept_detail=detail, intercept_via=via_used)
        u.audit.add(actor=actor, action="aftersale.intercept", subject_type="aftersale",
                    subject_id=aftersale_id, detail={
                        "via": via, "used": used, "state": state, "detail": detail,
                        "same_order_cases": siblings,
                        "parcels": [{"track_no": p.track_no, "courier": p.courier,
                                     "via": p.via, "outcome": p.outcome, **p.audit}
                                    for p in parcels]})
    log.info("aftersale.intercept", aftersale_id=aftersale_id, via=via, used=used, state=state)
    return {"aftersale_id": aftersale_id, "intercept_state": state, "detail": detail,
            "via": via_used}


def _k100_step(aftersale_id: str, parcels: list[_Parcel], routes: dict[str, Any],
               http: httpx.Client | None) -> None:
    """Kuaidi100 for the parcels nobody took; one parcel's trouble never loses the others'."""
    own = http is None
    client = http if http is not None else httpx.Client(timeout=15.0)
    try:
        for p in parcels:
            if p.unsure:
                p.k100 = ("未转快递100：抖音的结果未知，确认包裹未被拦截后可选快递100"
                          "重新拦截")
            elif p.outcome != "ok":
                try:
                    _by_kuaidi100(aftersale_id, p, routes[p.courier], client)
                except Exception as exc:  # noqa: BLE001 — recorded for this parcel only
                    p.k100, p.outcome = f"处理出错：{type(exc).__name__}: {exc}", "failed"
                    p.audit["kuaidi100_error"] = f"{type(exc).__name__}: {exc}"
                    log.exception("aftersale.intercept_kuaidi100_error",
                                  aftersale_id=aftersale_id, track_no=p.track_no)
    finally:
        if own:
            client.close()


def follow_intercepts(uow: UowFactory, shop_ref: int | None = None) -> int:
    """Interceptions asked for, judged by the parcels' own tracking (after a tracking pass)."""
    with uow() as u:
        return _follow_intercepts(u, shop_ref)


def _expire_claims(u: UnitOfWork, aftersale_ids: list[str] | None = None) -> int:
    """Claims a crash left behind (``requesting`` for over CLAIM_STALE_S) become ``unsure``:
    the request may have gone out, so only an explicit retry, after a look, may follow."""
    return len(u.aftersales.move_intercepts_from(
        u.aftersales.claims_older_than(REQUESTING, int(time.time()) - CLAIM_STALE_S,
                                       aftersale_ids), frozenset({I.REQUESTING}), I.UNSURE,
        intercept_detail="拦截结果未知：申请中断（程序中止），请先向快递核实包裹是否已被拦截，"
                         "再选择拦截途径重新拦截"))


def _follow_intercepts(u: UnitOfWork, shop_ref: int | None = None) -> int:
    _expire_claims(u)
    cases = [SimpleNamespace(**c) for c in u.aftersales.cases_to_follow(
        (I.REQUESTED.value, I.RETURNING.value), shop_ref)]
    if not cases:
        return 0
    u.pipeline.lock_orders(sorted({c.order_id for c in cases}))  # orders before their cases
    # the order's shipped parcels (what intercept() asked about), each with its tracker state
    parcels = u.tracking.shipped_parcels({c.order_id for c in cases})
    changed = 0
    for c in cases:
        got = list(parcels.get(c.order_id, {}).values())
        if not got:
            continue
        label = "+".join(VIA_LABEL[v] for v in (c.intercept_via or "douyin").split("+"))
        signed = [no for no, st in got if st == "delivered"]
        states = {st for _, st in got}
        if signed:
            state = "failed"
            detail = f"{label}：拦截未成功，已签收" + (f"（{'、'.join(signed)}）"
                                                    if len(got) > 1 else "")
        elif states == {"returned"}:
            state, detail = "returned", f"{label}：拦截成功，包裹已退回寄件人"
        elif states <= {"returning", "returned"}:
            state, detail = "returning", f"{label}：拦截成功，包裹正在退回寄件人"
        else:
            continue  # still travelling (or not tracked yet): ask again next pass
        if state == c.intercept_state:
            continue
        if not u.aftersales.move_intercepts_from([c.aftersale_id],
                                                 frozenset({I(c.intercept_state)}), I(state),
                                                 intercept_detail=detail):
            continue  # moved meanwhile
        # The order says so too: turned round (intercepted), back with the sender (returned).
        if state in ORDER_AFTER:
            target, among = ORDER_AFTER[state]
            u.pipeline.move_orders_from([c.order_id], among, target)
        u.audit.add(actor="system", action="aftersale.intercept_outcome",
                    subject_type="aftersale", subject_id=c.aftersale_id,
                    detail={"state": state, "detail": detail,
                            "parcels": {no: st for no, st in got}})
        changed += 1
    return changed


# Where a case's interception moves its order, and from where.
ORDER_AFTER = {I.RETURNING.value: (OrderState.INTERCEPTED, INTERCEPTABLE),
               I.RETURNED.value: (OrderState.RETURNED, RETURNABLE)}


def receive_return(uow: UowFactory, aftersale_id: str, *, good: dict[str, int],
                   damaged: dict[str, int], actor: str) -> dict[str, Any]:
    """The return parcel arrived and was inspected: good units back on hand, damaged ones to
    damaged; the case is closed on fahuo's side. Only a case that brings goods back may
    receive, and each code at most what the order sent out less what came back already
    (``domain.aftersales``): a return cannot invent stock. Checked and applied in one
    transaction under the order's lock, so two receipts of one order cannot both pass."""
    asked_good = {c.strip(): q for c, q in good.items() if q}
    asked_damaged = {c.strip(): q for c, q in damaged.items() if q}
    bad = sorted(f"{c}={q}" for c, q in {**good, **damaged}.items()
                 if isinstance(q, bool) or not isinstance(q, int) or q < 0)
    if bad:
        raise AfterSaleError(f"数量必须是不小于 0 的整数：{', '.join(bad)}")
    if not asked_good and not asked_damaged:
        raise AfterSaleError("请填写收回的良品和残次数量（至少一件）")
    now = int(time.time())
    try:
        with uow() as u:  # the check, stock and the case move together, or not at all
            case = u.aftersales.case(aftersale_id)
            if case is None:
                raise AfterSaleError(f"没有售后单 {aftersale_id}")
            u.pipeline.lock_orders([case["order_id"]])
            if case["received_at"]:
                raise AfterSaleError(f"售后单 {aftersale_id} 的退货已经收过货了")
            why = goods_come_back(case["aftersale_type"], case["intercept_state"])
            if why:
                raise AfterSaleError(f"售后单 {aftersale_id} 不能收货入库：{why}")
            subs = orjson.loads(case["sku_order_ids"])
            loaded = u.pipeline.load_orders([case["order_id"]])
            bundles = u.stock.bundles()
            order = loaded[case["order_id"]][2] if case["order_id"] in loaded else None
            lines = [s for s in (order.sub_orders if order else [])
                     if s.sku_order_id in subs or not subs]
            codes = {s.merchant_code for s in lines}
            # A bundle comes back as its parts: either may be named, stock is kept for parts.
            codes |= {part for c in codes for part in bundles.get(c, {})}
            good_parts = expand(asked_good.items(), bundles)
            damaged_parts = expand(asked_damaged.items(), bundles)
            unknown = sorted((set(good_parts) | set(damaged_parts)) - codes)
            if unknown:
                raise AfterSaleError(
                    f"这些编码不在售后单 {aftersale_id} 的商品里：{'、'.join(unknown)}"
                    f"（售后商品：{'、'.join(sorted(codes)) or '无'}）")
            asked = {c: good_parts.get(c, 0) + damaged_parts.get(c, 0)
                     for c in set(good_parts) | set(damaged_parts)}
            problems = receipt_problems(
                asked, _sent_units(u, case["order_id"], order, bundles),
                u.stock.returned_units(u.aftersales.case_ids_of_order(case["order_id"])))
            if problems:
                raise AfterSaleError(f"售后单 {aftersale_id} 不能收货入库：" + "；".join(problems))
            # Claim the case: a second click or a second screen finds it taken.
            if not u.aftersales.claim_receipt(aftersale_id, now):
                raise AfterSaleError(f"售后单 {aftersale_id} 的退货已经收过货了")
            if good_parts:
                move_stock_in(u, "return_good", [StockLine(c, q) for c, q in good_parts.items()],
                              actor=actor, ref_type="return", ref_id=aftersale_id,
                              reason="退货入库")
            if damaged_parts:
                move_stock_in(u, "return_damaged",
                              [StockLine(c, q) for c, q in damaged_parts.items()], actor=actor,
                              ref_type="return", ref_id=aftersale_id, reason="退货残次")
            named = {"good": asked_good, "damaged": asked_damaged}  # as people see it: bundles stay
            u.aftersales.close_receipt(aftersale_id, received_at=now,
                                       good_qty=sum(good_parts.values()),  # stock units (parts)
                                       damaged_qty=sum(damaged_parts.values()),
                                       received_lines=orjson.dumps(named).decode(), closed_at=now)
            # the goods are back with the merchant (a partly shipped order stays so)
            u.pipeline.move_orders_from([case["order_id"]], RETURNABLE, OrderState.RETURNED)
            u.audit.add(actor=actor, action="aftersale.receive", subject_type="aftersale",
                        subject_id=aftersale_id,
                        detail={"good": good_parts, "damaged": damaged_parts})
    except StockInputError as exc:
        raise AfterSaleError(str(exc)) from exc
    return {"aftersale_id": aftersale_id, "good": good_parts, "damaged": damaged_parts}


def _sent_units(u: UnitOfWork, order_id: str, order: Any,
                bundles: dict[str, dict[str, int]]) -> dict[str, int]:
    """Stock units (bundles as parts) the order sent to the buyer, per code."""
    if order is None:
        return {}
    packs = [p["id"] for p in u.pipeline.packs_of_orders([order_id]) if p["state"] == "confirmed"]
    in_packs: dict[str, int] = {}
    for ls in u.pipeline.lines(packs).values():
        for ln in ls:
            if ln["order_id"] == order_id:
                in_packs[ln["sku_order_id"]] = in_packs.get(ln["sku_order_id"], 0) + ln["quantity"]
    return expand(((s.merchant_code, units_sent(s, in_packs.get(s.sku_order_id, 0)))
                   for s in order.sub_orders if s.merchant_code), bundles)


__all__ = ["AfterSaleError", "AfterSaleReport", "VIAS", "follow_intercepts", "intercept",
           "list_cases", "receive_return", "sync_after_sales"]
