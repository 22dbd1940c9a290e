"""API: tracking accounts (and their 快递拦截 set-up), trackers, exceptions, deadlines, alerts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictInt

from fahuo.bootstrap import (
    Fahuo, add_account, add_channel, remove_intercept_partner, set_intercept,
    set_intercept_partner,
)
from fahuo.entrypoints.web.api.paging import REFUSED, listed
from fahuo.entrypoints.web.deps import MAX_ID, Actor, FahuoDep, UowDep
from fahuo.services import lists
from fahuo.services.lists import MAX_OFFSET, FindingFilter, Paging
from fahuo.services.read_models import public_account, public_channel
from fahuo.services.tracking import TrackingError
from fahuo.services.watch import WatchError

router = APIRouter()
COURIER = r"^[a-z][a-z0-9]{1,31}$"
Kind = Literal["pickup_timeout", "stalled", "failed_delivery", "refused", "returned", "lost",
               "deadline_soon_6h", "deadline_soon_2h", "overdue"]


class AccountIn(BaseModel):
    provider: Literal["kuaidi100", "kdniao"]
    name: str = Field(min_length=1, max_length=64)
    credentials: dict[str, str] = Field(
        description="kuaidi100: customer, key, salt (+ secret, label_url for 快递拦截); "
                    "kdniao: ebusiness_id, api_key")
    base_url: str = Field(min_length=8, max_length=255,
                          description="provider endpoint (Kuaidi100: https://poll.kuaidi100.com)")
    callback_url: str = Field(min_length=8, max_length=255,
                              description="fahuo's public address; pushes go to "
                                          "<it>/webhooks/<provider>/<account id>")


class InterceptSetupIn(BaseModel):
    secret: str | None = Field(None, min_length=1, max_length=128,
                               description="the Kuaidi100 account's secret (signs 快递拦截)")
    label_url: str | None = Field(None, min_length=8, max_length=255,
                                  description="/label/order URL; default "
                                              "https://api.kuaidi100.com/label/order")


class PartnerIn(BaseModel):
    """A courier's e-waybill account, as Kuaidi100 names the fields."""
    partnerId: str = Field(min_length=1, max_length=256)
    partnerKey: str | None = Field(None, max_length=256)
    partnerSecret: str | None = Field(None, max_length=256)
    partnerName: str | None = Field(None, max_length=256)
    code: str | None = Field(None, max_length=256)
    net: str | None = Field(None, max_length=256,
                            description="douyin for Douyin-authorised e-waybill accounts")
    appKey: str | None = Field(None, max_length=256, description="ZTO service-provider mode")
    appSecret: str | None = Field(None, max_length=256, description="ZTO service-provider mode")


class ChannelIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    kind: Literal["dingtalk", "feishu", "wecom", "webhook", "email"]
    config: dict[str, Any] = Field(description="dingtalk: url, secret; feishu: hook_id, secret; "
                                               "wecom: key; webhook: url, secret; email: host, "
                                               "port, sender, to[], user, password")
    kinds: list[str] = Field(default_factory=lambda: ["*"])
    interval_s: StrictInt = Field(1800, ge=0, le=7 * 86400)


class AssignIn(BaseModel):
    assignee: str = Field(min_length=1, max_length=64)


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=2000)


class CloseIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class PollIn(BaseModel):
    track_nos: list[str] = Field(default_factory=list, max_length=500)


@router.get("/tracking/accounts")
def api_accounts(fh: FahuoDep) -> list[dict[str, Any]]:
    with fh.uow(readonly=True) as u:
        return [public_account(a, fh.carriers) for a in u.tracking.accounts()]


@router.post("/tracking/accounts", status_code=201,
             responses={422: {"description": "what is wrong with the account"}})
def api_add_account(fh: FahuoDep, body: AccountIn) -> Any:
    try:
        acc_id = add_account(fh.uow, body.provider, body.name, body.credentials,
                             body.base_url, body.callback_url)
    except TrackingError as exc:
        return JSONResponse({"message": str(exc)}, 422)
    fh.tracking.accounts(fresh=True)
    return {"id": acc_id}


def _intercept_act(fh: Fahuo, fn: Callable[[], dict[str, Any]]) -> Any:
    try:
        out = fn()
    except TrackingError as exc:
        code = 404 if str(exc).startswith("没有物流查询账号") else 422
        return JSONResponse({"message": str(exc)}, code)
    fh.tracking.accounts(fresh=True)
    return out


@router.put("/tracking/accounts/{account_id}/intercept",
            responses={404: {"description": "no such account"},
                       422: {"description": "what is wrong"}})
def api_intercept_setup(fh: FahuoDep, actor: Actor, body: InterceptSetupIn,
                        account_id: int = PathParam(ge=1, le=MAX_ID)) -> Any:
    """Let a Kuaidi100 account intercept parcels (快递拦截): its secret, its label URL."""
    return _intercept_act(fh, lambda: set_intercept(
        fh.uow, account_id, secret=body.secret, label_url=body.label_url, actor=actor))


@router.put("/tracking/accounts/{account_id}/intercept/partners/{courier}",
            responses={404: {"description": "no such account"},
                       422: {"description": "what is wrong"}})
def api_intercept_partner(fh: FahuoDep, actor: Actor, body: PartnerIn,
                          account_id: int = PathParam(ge=1, le=MAX_ID),
                          courier: str = PathParam(pattern=COURIER)) -> Any:
    """The courier's e-waybill account Kuaidi100 needs to intercept its parcels."""
    return _intercept_act(fh, lambda: set_intercept_partner(
        fh.uow, account_id, courier, body.model_dump(exclude_none=True), actor=actor))


@router.delete("/tracking/accounts/{account_id}/intercept/partners/{courier}",
               responses={404: {"description": "no such account"},
                          422: {"description": "what is wrong"}})
def api_intercept_partner_remove(fh: FahuoDep, actor: Actor,
                                 account_id: int = PathParam(ge=1, le=MAX_ID),
                                 courier: str = PathParam(pattern=COURIER)) -> Any:
    return _intercept_act(fh, lambda: remove_intercept_partner(
        fh.uow, account_id, courier, actor=actor))


@router.get("/trackers", responses=REFUSED)
def api_trackers(uow: UowDep, state: str | None = Query(None, pattern="^[a-z_]{1,20}$"),
                 courier: str | None = Query(None, pattern=COURIER,
                                             description="courier code, e.g. zhongtong"),
                 shop: int | None = Query(None, ge=1, le=MAX_ID),
                 order_id: str | None = Query(None, pattern=r"^\d{1,32}$"),
                 limit: int = Query(100, ge=1, le=1000),
                 offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> Any:
    """Tracked parcels, newest first: ``total`` matching, ``items`` from ``offset``."""
    return listed(lambda: lists.trackers(uow, state=state, courier=courier, shop_ref=shop,
                                         order_id=order_id,
                                         paging=Paging(limit=limit, offset=offset)))


@router.post("/tracking/run")
def api_tracking_run(fh: FahuoDep) -> dict[str, Any]:
    """One round now: start trackers, subscribe, merge pushes, poll what is due."""
    return fh.tracking.run().as_dict()


@router.post("/tracking/poll")
def api_tracking_poll(fh: FahuoDep, body: PollIn) -> dict[str, Any]:
    """Ask now about these numbers (or whatever is due when the list is empty)."""
    return fh.tracking.poll(track_nos=body.track_nos or None).as_dict()


@router.get("/exceptions")
def api_exceptions(uow: UowDep, status: Literal["open", "closed", "all"] = "open",
                   kind: Kind | None = None,
                   shop: int | None = Query(None, ge=1, le=MAX_ID),
                   assignee: str | None = Query(None, max_length=64),
                   order_id: str | None = Query(None, pattern=r"^\d{1,32}$"),
                   limit: int = Query(100, ge=1, le=1000),
                   offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> dict[str, Any]:
    """Exceptions: open ones oldest first, closed ones last closed first, all newest first;
    ``total`` matching, ``items`` from ``offset``, ``counts``: open ones per kind."""
    if order_id:  # one order's exceptions: few, read as before
        with uow(readonly=True) as u:
            total, rows = u.tracking.list_findings(status=status, kind=kind, shop_ref=shop,
                                                   assignee=assignee, order_id=order_id,
                                                   limit=limit, offset=offset)
        return {"total": total, "offset": offset, "limit": limit, "items": rows}
    found = lists.exceptions(uow, FindingFilter(status=status, kind=kind, assignee=assignee,
                                                shop_ref=shop),
                             Paging(limit=limit, offset=offset))
    return found.as_api() | {"counts": found.extra["counts"]}


@router.post("/exceptions/detect")
def api_detect(fh: FahuoDep) -> dict[str, Any]:
    """Run the detection sweep now (the worker runs it every minute)."""
    return fh.watch.detect().as_dict()


def _act(fn: Callable[[], dict[str, Any]]) -> Any:
    try:
        return fn()
    except WatchError as exc:
        code = 404 if str(exc).startswith("没有异常") else 422
        return JSONResponse({"message": str(exc)}, code)


@router.post("/exceptions/{finding_id}/assign",
             responses={404: {"description": "no such exception"}})
def api_assign(fh: FahuoDep, actor: Actor, body: AssignIn,
               finding_id: int = PathParam(ge=1, le=MAX_ID)) -> Any:
    return _act(lambda: fh.watch.assign(finding_id, body.assignee, actor=actor))


@router.post("/exceptions/{finding_id}/note",
             responses={404: {"description": "no such exception"}})
def api_note(fh: FahuoDep, actor: Actor, body: NoteIn,
             finding_id: int = PathParam(ge=1, le=MAX_ID)) -> Any:
    return _act(lambda: fh.watch.note(finding_id, body.text, actor=actor))


@router.post("/exceptions/{finding_id}/close",
             responses={404: {"description": "no such exception"}})
def api_close(fh: FahuoDep, actor: Actor, body: CloseIn,
              finding_id: int = PathParam(ge=1, le=MAX_ID)) -> Any:
    return _act(lambda: fh.watch.close(finding_id, body.reason, actor=actor))


@router.get("/deadlines")
def api_deadlines(uow: UowDep,
                  window: Literal["overdue", "6h", "24h", "later", "all"] | None = Query(
                      None, description="overdue; due within 6 h / 24 h (not yet overdue); "
                                        "later than 24 h; all. Without it: `within_h`"),
                  within_h: int = Query(24, ge=1, le=24 * 30,
                                        description="due within this many hours, overdue "
                                                    "included (when no window is given)"),
                  shop: int | None = Query(None, ge=1, le=MAX_ID),
                  limit: int = Query(100, ge=1, le=1000),
                  offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> dict[str, Any]:
    """Unshipped orders by ship deadline (overdue first), with seconds left: ``total``
    matching, ``items`` from ``offset``."""
    found = lists.deadlines(uow, window=window, within_h=None if window else within_h,
                            shop_ref=shop, paging=Paging(limit=limit, offset=offset))
    return {"now": found.extra["now"], **found.as_api()}


@router.get("/alerts/channels")
def api_channels(uow: UowDep) -> list[dict[str, Any]]:
    with uow(readonly=True) as u:
        return [public_channel(ch) for ch in u.tracking.channels()]


@router.post("/alerts/channels", status_code=201,
             responses={422: {"description": "what is wrong with the channel"}})
def api_add_channel(uow: UowDep, body: ChannelIn) -> Any:
    try:
        return {"id": add_channel(uow, body.name, body.kind, body.config, body.kinds,
                                  body.interval_s)}
    except WatchError as exc:
        return JSONResponse({"message": str(exc)}, 422)


@router.delete("/alerts/channels/{name}", responses={404: {"description": "no such channel"}})
def api_delete_channel(uow: UowDep, name: str = PathParam(min_length=1, max_length=64)) -> Any:
    with uow() as u:
        if not u.tracking.delete_channel(name):
            raise HTTPException(404, f"没有告警渠道 {name!r}")
    return {"deleted": name}


@router.post("/alerts/send")
def api_send_alerts(fh: FahuoDep) -> list[dict[str, Any]]:
    """Tell the channels about exceptions nobody was told of (respecting intervals)."""
    return fh.watch.send_alerts(fh.settings.public_url)
