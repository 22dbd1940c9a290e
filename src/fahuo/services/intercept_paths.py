"""The two kinds of interception path: the platform's (Douyin
``afterSale.applyLogisticsIntercept``) and a courier-side one through a provider account
that can intercept (``Capability.INTERCEPT`` in the carrier registry; Kuaidi100 快递拦截
today). Each parcel keeps what every path said, so one parcel's trouble never loses the
others'."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog

from fahuo.adapters.carriers.base import ProviderError
from fahuo.adapters.platforms.doudian.errors import (
    DoudianError, InterceptRefusal, TransportError, UnexpectedResponse, intercept_refusal,
)
from fahuo.domain.money import yuan
from fahuo.services.ports import Carrier

log = structlog.get_logger(__name__)
PLATFORM = "douyin"  # the platform's own path, as stored in ``intercept_via``
PLATFORM_LABEL = "抖音"
# Douyin's "already asked" (该包裹已申请拦截, classified in the adapter's errors) counts as
# requested, never as a refusal to take to a courier-side path.


@dataclass
class Parcel:
    courier: str
    track_no: str
    via: str = ""  # the path that accepted it
    outcome: str = ""  # ok | unavailable | failed
    douyin: str = ""  # why Douyin did not take it
    courier_why: str = ""  # why the courier-side path did not take it (or is not set up)
    tried: str = ""  # that path, as merchants read it (快递100)
    text: str = ""  # what was accepted, and at what cost
    unsure: bool = False  # Douyin may have taken it without our hearing: no second path
    courier_unsure: bool = False  # the courier-side path may have taken it unheard
    asked: bool = False  # a request for it left fahuo (it may have been taken)
    audit: dict[str, Any] = field(default_factory=dict)


def by_douyin(api: Any, aftersale_id: str, parcels: list[Parcel]) -> None:
    for p in parcels:
        p.asked = True
    try:
        res = api.apply_intercept(aftersale_id, [(p.courier, p.track_no) for p in parcels])
    except DoudianError as exc:
        # No answer (or a garbled one) may still mean Douyin took it: asking a courier-side
        # path as well could intercept, and charge, twice.
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
            p.via, p.outcome = PLATFORM, "ok"
            p.text = f"已提交拦截，费用 {yuan(int(x.get('intercept_cost') or 0))} 元"
        elif intercept_refusal(x) is InterceptRefusal.ALREADY_REQUESTED:  # asked before:
            # asking anyone again would pay twice
            p.via, p.outcome = PLATFORM, "ok"
            reason = str(x.get("unavailable_reason") or "").strip()
            p.text = "此前已申请拦截，未重复申请" + (f"（平台返回：{reason}）" if reason else "")
        else:
            p.douyin = str(x.get("unavailable_reason") or "平台不可拦截")
            p.outcome = "unavailable" if x.get("can_intercept") is False else "failed"


def courier_step(aftersale_id: str, parcels: list[Parcel], carrier: Carrier,
                 routes: dict[str, Any]) -> None:
    """``carrier`` for the parcels nobody took; one parcel's trouble never loses the others'."""
    for p in parcels:
        if p.unsure:
            p.tried = carrier.label
            p.courier_why = (f"未转{carrier.label}：抖音的结果未知，确认包裹未被拦截后可选"
                             f"{carrier.label}重新拦截")
        elif p.outcome != "ok":
            p.tried = carrier.label
            try:
                _by_courier(aftersale_id, p, carrier, routes[p.courier])
            except Exception as exc:
                p.courier_why, p.outcome = f"处理出错：{type(exc).__name__}: {exc}", "failed"
                p.audit[f"{carrier.name}_error"] = f"{type(exc).__name__}: {exc}"
                log.exception(f"aftersale.intercept_{carrier.name}_error",
                              aftersale_id=aftersale_id, track_no=p.track_no)


def _by_courier(aftersale_id: str, p: Parcel, carrier: Carrier, route: tuple[Any, Any]
                ) -> None:
    account, needs = route
    if account is None:
        p.courier_why = f"未配置（{needs}）"
        p.outcome = p.outcome or "unavailable"
        return
    p.audit[f"{carrier.name}_account"] = account["id"]
    try:
        p.asked = True
        ack = carrier.send_back(account, needs, order_id=f"{aftersale_id}-{p.track_no}",
                                courier=p.courier, track_no=p.track_no,
                                reason=f"买家申请退款（售后单 {aftersale_id}）")
    except ProviderError as exc:
        p.courier_why, p.outcome = f"{exc.message}（{exc.code}）", "failed"
        p.audit[carrier.name] = {"code": exc.code, "message": exc.message,
                                 "data": (exc.payload or {}).get("data")
                                 if isinstance(exc.payload, dict) else None}
        if maybe_taken(exc):
            p.courier_unsure = True
            p.courier_why += (f"；结果未知：请先向快递核实包裹是否已被拦截，确认未拦截后再选"
                              f"{carrier.label}重新拦截")
        return
    except ValueError as exc:  # a stored courier account the provider would refuse anyway
        p.courier_why, p.outcome = str(exc), "failed"
        return
    p.via, p.outcome = carrier.name, "ok"
    p.audit[carrier.name] = {"code": ack.code, "message": ack.message, "data": ack.data}
    p.text = f"已提交拦截（{ack.asked_for}）"
    if p.douyin:
        p.text += f"，抖音不可拦截：{p.douyin}"
    if ack.data not in (None, "", {}, []):  # undocumented: shown as it came
        p.text += f"，{carrier.label}返回：" + orjson.dumps(ack.data).decode()


def maybe_taken(exc: ProviderError) -> bool:
    """The request may have reached the provider and been taken: no answer after sending
    (``transport``), a server error, or an answer that cannot be read. A connection never
    made (``transport-connect``) or a refusal in the provider's own words is sure."""
    return (exc.code in ("transport", "bad-response") or
            (exc.code.startswith("http-") and exc.code[5:].isdigit() and int(exc.code[5:]) >= 500))


def summary(parcels: list[Parcel], labels: dict[str, str]) -> tuple[str, str]:
    """(intercept_state, intercept_detail): the path(s) that took the parcels lead the text."""
    ok = [p for p in parcels if p.outcome == "ok"]

    def why(p: Parcel) -> str:
        parts = ([f"抖音：{p.douyin}"] if p.douyin else []) + (
            [f"{p.tried}：{p.courier_why}"] if p.courier_why else [])
        return "拦截失败：" + ("；".join(parts) or "无结果")

    def line(p: Parcel) -> str:
        return (f"{labels[p.via]}{p.text}" if p.outcome == "ok" else why(p))

    if len(parcels) == 1:
        (p,) = parcels
        text = f"{labels[p.via]}：{p.text}" if ok else why(p)
    else:
        body = " | ".join(f"{p.track_no} {line(p)}" for p in parcels)
        vias = [v for v in labels if any(p.via == v for p in ok)]
        text = ("+".join(labels[v] for v in vias) + "：" + body) if ok else body
    if ok:
        return "requested", text
    if any(p.courier_unsure for p in parcels):
        return "unsure", text
    if all(p.outcome == "unavailable" for p in parcels):
        return "unavailable", text
    return "failed", text


__all__ = ["PLATFORM", "PLATFORM_LABEL", "Parcel", "by_douyin",
           "courier_step", "maybe_taken", "summary"]
