"""Interception after shipment: offered when the buyer wants money back for a parcel already
on its way, asked for through the platform or a courier-side provider, followed by the
parcel's own tracking.

Two kinds of path (``intercept_paths``): Douyin ``afterSale.applyLogisticsIntercept`` and a
provider account that can intercept (the carrier registry's ``Capability.INTERCEPT``:
Kuaidi100 ``interceptOrder``, 快递拦截, through a tracking account that has a secret and the
courier's e-waybill account). ``via="auto"`` asks Douyin first and sends the parcels Douyin
will not take to the courier-side path when it is set up for their courier. The path used is
stored in ``intercept_via`` (douyin, the provider's name such as kuaidi100, both joined by
"+"; "" when none took it) and, for people, leads ``intercept_detail`` ("抖音：…" /
"快递100：…"). Whether it worked is read from the parcel's own tracking afterwards (``follow_intercepts``): on its way back or
back → returning / returned; signed by the buyer → failed.

A case is claimed (``requesting``) before anything is sent and is refused while it, or
another case of the same order (they share the parcels), is requesting / requested /
returning / returned. Douyin's "already requested" (reason code 3) counts as requested. A
courier-side answer lost or unreadable leaves ``unsure``: no automatic retry, only an
explicit path once the merchant has checked with the courier.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any, TYPE_CHECKING

import structlog

from fahuo.domain.aftersales import (
    ASKED, BUSY as BUSY_STATES, INTERCEPT, InterceptState as I,
)
from fahuo.domain.lifecycle import StaleState
from fahuo.domain.names import INTERCEPT_STATE
from fahuo.domain.orders import INTERCEPTABLE, RETURNABLE, OrderState
from fahuo.services.ports import Capability, Carrier, Carriers, PlatformFactory, UowFactory

from .intercept_paths import (
    PLATFORM, PLATFORM_LABEL, Parcel, by_douyin, courier_step, summary,
)

if TYPE_CHECKING:
    from fahuo.adapters.store.unit_of_work import UnitOfWork

log = structlog.get_logger(__name__)
# The buyer wants money back and the parcel is still the courier's to turn round (at 11 the
# buyer has sent the goods back already: nothing left to intercept).
REFUND_WANTED = {6, 7}
AUTO = "auto"
# The interception lifecycle is domain/aftersales.py's (InterceptState, INTERCEPT); every
# write goes through ``u.aftersales.move_intercepts`` (checked, conditional, recorded).
# Asked for (or already coming back): a second request would pay twice.
INTERCEPTED = tuple(sorted(ASKED))
# Claimed by a request under way (a double click, a second console): nobody else may ask.
REQUESTING = I.REQUESTING.value
BUSY = tuple(sorted(BUSY_STATES))
# A courier-side answer was lost or unreadable: the courier may have taken it (and charged).
# Not retried automatically: a person checks with the courier, then picks a path explicitly.
UNSURE = I.UNSURE.value
NOT_BUSY = INTERCEPT.states - BUSY_STATES
# A claim older than this was left by a crash mid-request: the request may have gone out.
CLAIM_STALE_S = 600


class AfterSaleError(ValueError):
    """Bad input for an after-sale action; names what is wrong (``aftersales`` shares it)."""


def couriers(carriers: Carriers) -> tuple[Carrier, ...]:
    """The courier-side paths: providers that declare interception, in registry order."""
    return carriers.able(Capability.INTERCEPT)


def vias(carriers: Carriers) -> tuple[str, ...]:
    """What ``via`` may be: auto, the platform's path, each courier-side path."""
    return (AUTO, PLATFORM, *(c.name for c in couriers(carriers)))


def labels(carriers: Carriers) -> dict[str, str]:
    """Each path as merchants read it, in the order a combined path is written."""
    return {PLATFORM: PLATFORM_LABEL, **{c.name: c.label for c in couriers(carriers)}}


def offer_intercepts(u: UnitOfWork) -> int:
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


def _state(code: str) -> str:
    return f"{INTERCEPT_STATE.get(code, code)} ({code})"


def _refusal(aftersale_id: str, own: Any, others: list[Any], via: str) -> str | None:
    """Why this case may not be sent now (``own``/``others``: rows with aftersale_id,
    intercept_state, intercept_detail; ``others`` the same order's other cases)."""
    if own.intercept_state == REQUESTING:
        return f"售后 {aftersale_id} 正在申请拦截，请等待结果"
    if own.intercept_state in INTERCEPTED:
        return (f"售后 {aftersale_id} 已申请过拦截"
                f"（{_state(own.intercept_state)}：{own.intercept_detail}）")
    for o in others:  # one set of parcels per order: asking again would pay twice
        if o.intercept_state in BUSY:
            return (f"售后 {aftersale_id} 所在订单已通过售后 {o.aftersale_id} 申请过拦截"
                    f"（{_state(o.intercept_state)}：{o.intercept_detail}）")
    unsure = [o for o in [own, *others] if o.intercept_state == UNSURE]
    if unsure and via == AUTO:
        x = unsure[0]
        of = "" if x is own else f"（经同一订单的售后 {x.aftersale_id}）"
        return (f"售后 {aftersale_id} 的拦截可能已被快递受理{of}（{x.intercept_detail}）："
                "请先向快递核实，再明确选择拦截途径（如 快递100 kuaidi100 或 抖音 douyin）重试")
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
            raise AfterSaleError(f"没有售后单 {aftersale_id}")
        why = _refusal(aftersale_id, own, [r for r in rows if r is not own], via)
        if why:
            raise AfterSaleError(why)
        try:  # conditional on the state read: a second click finds it claimed
            u.aftersales.move_intercepts({aftersale_id: (own.intercept_state, REQUESTING)},
                                         intercept_detail="正在申请拦截…",
                                         intercept_claimed_at=int(time.time()))
        except StaleState:  # changed since it was read
            raise AfterSaleError(f"售后 {aftersale_id} 正在申请拦截，请等待结果") from None
    return {"intercept_state": own.intercept_state, "intercept_detail": own.intercept_detail,
            "intercept_via": own.intercept_via}


def _release(uow: UowFactory, aftersale_id: str, before: dict[str, Any],
             parcels: list[Parcel], exc: BaseException, *, actor: str, via: str) -> None:
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
              actor: str, via: str = AUTO, carriers: Carriers) -> dict[str, Any]:
    """Ask the courier to bring the parcel(s) back: through Douyin, through a courier-side
    provider, or (``auto``) Douyin first and the courier-side path for the parcels Douyin
    will not take.

    The case is claimed (``requesting``) before anything is sent, so a second click is
    refused instead of paying twice, and the claim always ends in a final state."""
    allowed, names = vias(carriers), labels(carriers)
    if via not in allowed:
        raise AfterSaleError(f"拦截途径 (via) 应为 {'、'.join(allowed)} 之一，收到 {via!r}")
    paths = [c for c in couriers(carriers) if via in (AUTO, c.name)]
    with uow(readonly=True) as u:
        case = u.aftersales.case(aftersale_id)
        if case is None:
            raise AfterSaleError(f"没有售后单 {aftersale_id}")
        if case["stage"] != "after_ship":
            raise AfterSaleError("订单还没发货：发货流程会拦下它，无需快递拦截")
        others = [SimpleNamespace(**o) for o in u.aftersales.other_cases_of_order(
            case["order_id"], aftersale_id)] if case["order_id"] else []
        why = _refusal(aftersale_id, SimpleNamespace(**case), others, via)
        if why:
            raise AfterSaleError(why)
        packs = [p for p in u.pipeline.packs_of_orders([case["order_id"]])
                 if p["state"] == "confirmed" and p["track_no"]]
        shop = u.shops.require(case["shop_ref"])
        enabled = u.tracking.accounts(enabled_only=True) if paths else []
    if not packs:
        raise AfterSaleError(f"订单 {case['order_id']} 在 fahuo 里没有已发出的包裹")
    parcels = [Parcel(p["courier_code"] or "", p["track_no"]) for p in packs]
    routes = {c.name: {p.courier: c.intercept_route(
        [a for a in enabled if a["provider"] == c.name], p.courier) for p in parcels}
        for c in paths}
    for c in paths:
        if via == c.name:  # checked for every parcel before anything is sent
            missing = sorted({str(why) for acc, why in routes[c.name].values() if acc is None})
            if missing:
                raise AfterSaleError(f"{c.label} 拦截尚未配置："
                                     + "；".join(missing))
    before = _claim(uow, aftersale_id, case["order_id"], via)
    try:
        if via in (AUTO, PLATFORM):
            by_douyin(platform_for(shop), aftersale_id, parcels)
        for c in paths:
            courier_step(aftersale_id, parcels, c, routes[c.name])
        state, detail = summary(parcels, names)
    except BaseException as exc:
        _release(uow, aftersale_id, before, parcels, exc, actor=actor, via=via)
        raise
    used = sorted({p.via for p in parcels if p.via})
    via_used = "+".join(v for v in names if v in used)  # douyin | kuaidi100 | both | ""
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


def follow_intercepts(uow: UowFactory, shop_ref: int | None = None, *,
                      carriers: Carriers) -> int:
    """Interceptions asked for, judged by the parcels' own tracking (after a tracking pass)."""
    with uow() as u:
        return follow_in(u, shop_ref, labels(carriers))


def _expire_claims(u: UnitOfWork, aftersale_ids: list[str] | None = None) -> int:
    """Claims a crash left behind (``requesting`` for over CLAIM_STALE_S) become ``unsure``:
    the request may have gone out, so only an explicit retry, after a look, may follow."""
    return len(u.aftersales.move_intercepts_from(
        u.aftersales.claims_older_than(REQUESTING, int(time.time()) - CLAIM_STALE_S,
                                       aftersale_ids), frozenset({I.REQUESTING}), I.UNSURE,
        intercept_detail="拦截结果未知：申请中断（程序中止），请先向快递核实包裹是否已被拦截，"
                         "再选择拦截途径重新拦截"))


def follow_in(u: UnitOfWork, shop_ref: int | None, names: dict[str, str]) -> int:
    """``follow_intercepts`` in the caller's unit of work (the after-sale sync's)."""
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
        label = "+".join(names[v] for v in (c.intercept_via or PLATFORM).split("+"))
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


__all__ = ["CLAIM_STALE_S", "AfterSaleError", "follow_in", "follow_intercepts", "intercept",
           "labels", "offer_intercepts", "vias"]
