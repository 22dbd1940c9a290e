"""Tracking, exceptions, deadlines and alert channels: webhooks, API and console pages."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from prometheus_client import Counter
from pydantic import BaseModel, Field, StrictInt

from fahuo.bootstrap import Fahuo
from fahuo.entrypoints.web.auth import current_user
from fahuo.services.tracking import (
    TrackingError, add_account, intercept_view, remove_intercept_partner, set_intercept,
    set_intercept_partner,
)
from fahuo.services.watch import KIND_LABELS, WatchError, add_channel

MAX_ID = 2**31 - 1
JSON_UTF8 = "application/json;charset=utf-8"
TRACK_PUSHES = Counter("fahuo_tracking_pushes_total", "courier pushes received",
                       ["provider", "result"])
TRACK_STATE_LABELS = {
    "info_received": "待揽收", "picked_up": "已揽收", "in_transit": "运输中",
    "out_for_delivery": "派送中", "delivered": "已签收", "failed_attempt": "派送失败",
    "exception": "疑难件", "rejected": "拒收", "returning": "退回中", "returned": "已退回",
    "lost": "丢失",
}
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


COURIER = r"^[a-z][a-z0-9]{1,31}$"


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


def _public_account(a: dict[str, Any]) -> dict[str, Any]:
    cred = {k: ("***" if k in ("key", "salt", "api_key", "secret") else v)
            for k, v in a["credentials"].items() if k != "intercept_partners"}
    out = {k: v for k, v in a.items() if k != "credentials"} | {"credentials": cred}
    if a["provider"] == "kuaidi100":
        out["intercept"] = intercept_view(a)  # courier accounts, their secrets hidden
    return out


def _public_channel(ch: dict[str, Any]) -> dict[str, Any]:
    hidden = ("secret", "password", "key", "url", "hook_id")
    return {k: v for k, v in ch.items() if k != "config"} | {
        "config": {k: ("***" if k in hidden else v) for k, v in ch["config"].items()}}


def _actor(request: Request, default: str) -> str:
    user = current_user(request)
    return user.username if user else default


async def _capped_body(request: Request, limit: int) -> bytes | None:
    """The body, or None past ``limit`` bytes (webhooks are open to the internet)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _form(raw: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace"),
                                          keep_blank_values=True).items()}


def register(web: FastAPI, api: APIRouter, c: Callable[[], Fahuo], templates: Jinja2Templates,
             enqueue: Callable[..., bool]) -> None:
    templates.env.globals.update(TRACK_STATES=TRACK_STATE_LABELS, EXC_KINDS=KIND_LABELS)
    last_enqueue = [0.0]

    def merge_soon() -> None:
        # One merge task per second covers every push stored meanwhile (a queue write per
        # push would cost more than storing the push).
        now = time.monotonic()
        if now - last_enqueue[0] >= 1.0:
            last_enqueue[0] = now
            enqueue("tracking_pushes_task")

    # ---- webhooks -------------------------------------------------------------------------
    too_large = {"kuaidi100": '{"result":false,"returnCode":"413","message":"too large"}',
                 "kdniao": '{"Success":false,"Reason":"too large"}'}

    async def courier_push(request: Request, provider: str, account_id: int) -> Response:
        raw = await _capped_body(request, c().settings.webhook_max_body)
        if raw is None:
            return Response(too_large[provider], 413, media_type=JSON_UTF8)
        tracking = c().tracking
        accept = (tracking.accept_kuaidi100_push if provider == "kuaidi100"
                  else tracking.accept_kdniao_push)
        status, body = accept(account_id, _form(raw))
        TRACK_PUSHES.labels(provider, "stored" if status == 200 else "rejected").inc()
        if status == 200:
            merge_soon()
        return Response(body, status, media_type=JSON_UTF8)

    @web.post("/webhooks/kuaidi100/{account_id}", tags=["webhooks"])
    async def kuaidi100_push(request: Request, account_id: int = PathParam(ge=1, le=MAX_ID)
                             ) -> Response:
        """Kuaidi100 subscription push (form `param` + `sign`); stored once, then merged."""
        return await courier_push(request, "kuaidi100", account_id)

    @web.post("/webhooks/kdniao/{account_id}", tags=["webhooks"])
    async def kdniao_push(request: Request, account_id: int = PathParam(ge=1, le=MAX_ID)
                          ) -> Response:
        """Kdniao push (RequestType 101, `RequestData` + `DataSign`)."""
        return await courier_push(request, "kdniao", account_id)

    # ---- API ------------------------------------------------------------------------------
    @api.get("/tracking/accounts")
    def api_accounts() -> list[dict[str, Any]]:
        with c().uow(readonly=True) as u:
            return [_public_account(a) for a in u.tracking.accounts()]

    @api.post("/tracking/accounts", status_code=201,
              responses={422: {"description": "what is wrong with the account"}})
    def api_add_account(body: AccountIn) -> Any:
        fh = c()
        try:
            acc_id = add_account(fh.uow, body.provider, body.name, body.credentials,
                                 body.base_url, body.callback_url)
        except TrackingError as exc:
            return JSONResponse({"message": str(exc)}, 422)
        fh.tracking.accounts(fresh=True)
        return {"id": acc_id}

    def _intercept_act(fn: Callable[[], dict[str, Any]]) -> Any:
        try:
            out = fn()
        except TrackingError as exc:
            code = 404 if str(exc).startswith("no tracking account") else 422
            return JSONResponse({"message": str(exc)}, code)
        c().tracking.accounts(fresh=True)
        return out

    @api.put("/tracking/accounts/{account_id}/intercept",
             responses={404: {"description": "no such account"},
                        422: {"description": "what is wrong"}})
    def api_intercept_setup(request: Request, body: InterceptSetupIn,
                            account_id: int = PathParam(ge=1, le=MAX_ID)) -> Any:
        """Let a Kuaidi100 account intercept parcels (快递拦截): its secret, its label URL."""
        return _intercept_act(lambda: set_intercept(
            c().uow, account_id, secret=body.secret, label_url=body.label_url,
            actor=_actor(request, "api")))

    @api.put("/tracking/accounts/{account_id}/intercept/partners/{courier}",
             responses={404: {"description": "no such account"},
                        422: {"description": "what is wrong"}})
    def api_intercept_partner(request: Request, body: PartnerIn,
                              account_id: int = PathParam(ge=1, le=MAX_ID),
                              courier: str = PathParam(pattern=COURIER)) -> Any:
        """The courier's e-waybill account Kuaidi100 needs to intercept its parcels."""
        return _intercept_act(lambda: set_intercept_partner(
            c().uow, account_id, courier, body.model_dump(exclude_none=True),
            actor=_actor(request, "api")))

    @api.delete("/tracking/accounts/{account_id}/intercept/partners/{courier}",
                responses={404: {"description": "no such account"},
                           422: {"description": "what is wrong"}})
    def api_intercept_partner_remove(request: Request,
                                     account_id: int = PathParam(ge=1, le=MAX_ID),
                                     courier: str = PathParam(pattern=COURIER)) -> Any:
        return _intercept_act(lambda: remove_intercept_partner(
            c().uow, account_id, courier, actor=_actor(request, "api")))

    @api.get("/trackers")
    def api_trackers(state: str | None = Query(None, pattern="^[a-z_]{1,20}$"),
                     shop: int | None = Query(None, ge=1, le=MAX_ID),
                     order_id: str | None = Query(None, pattern=r"^\d{1,32}$"),
                     limit: int = Query(100, ge=1, le=1000),
                     offset: int = Query(0, ge=0, le=10_000_000)) -> dict[str, Any]:
        with c().uow(readonly=True) as u:
            total, rows = u.tracking.list_trackers(state=state, shop_ref=shop,
                                                   order_id=order_id, limit=limit,
                                                   offset=offset)
        return {"total": total, "items": rows}

    @api.post("/tracking/run")
    def api_tracking_run() -> dict[str, Any]:
        """One round now: start trackers, subscribe, merge pushes, poll what is due."""
        return c().tracking.run().as_dict()

    @api.post("/tracking/poll")
    def api_tracking_poll(body: PollIn) -> dict[str, Any]:
        """Ask now about these numbers (or whatever is due when the list is empty)."""
        return c().tracking.poll(track_nos=body.track_nos or None).as_dict()

    @api.get("/exceptions")
    def api_exceptions(status: Literal["open", "closed", "all"] = "open",
                       kind: Kind | None = None,
                       shop: int | None = Query(None, ge=1, le=MAX_ID),
                       assignee: str | None = Query(None, max_length=64),
                       order_id: str | None = Query(None, pattern=r"^\d{1,32}$"),
                       limit: int = Query(100, ge=1, le=1000),
                       offset: int = Query(0, ge=0, le=10_000_000)) -> dict[str, Any]:
        with c().uow(readonly=True) as u:
            total, rows = u.tracking.list_findings(status=status, kind=kind, shop_ref=shop,
                                                   assignee=assignee, order_id=order_id,
                                                   limit=limit, offset=offset)
        return {"total": total, "items": rows}

    @api.post("/exceptions/detect")
    def api_detect() -> dict[str, Any]:
        """Run the detection sweep now (the worker runs it every minute)."""
        return c().watch.detect().as_dict()

    def _act(fn: Callable[[], dict[str, Any]]) -> Any:
        try:
            return fn()
        except WatchError as exc:
            code = 404 if str(exc).startswith("no exception") else 422
            return JSONResponse({"message": str(exc)}, code)

    @api.post("/exceptions/{finding_id}/assign",
              responses={404: {"description": "no such exception"}})
    def api_assign(body: AssignIn, finding_id: int = PathParam(ge=1, le=MAX_ID)) -> Any:
        return _act(lambda: c().watch.assign(finding_id, body.assignee, actor="api"))

    @api.post("/exceptions/{finding_id}/note",
              responses={404: {"description": "no such exception"}})
    def api_note(body: NoteIn, finding_id: int = PathParam(ge=1, le=MAX_ID)) -> Any:
        return _act(lambda: c().watch.note(finding_id, body.text, actor="api"))

    @api.post("/exceptions/{finding_id}/close",
              responses={404: {"description": "no such exception"}})
    def api_close(body: CloseIn, finding_id: int = PathParam(ge=1, le=MAX_ID)) -> Any:
        return _act(lambda: c().watch.close(finding_id, body.reason, actor="api"))

    @api.get("/deadlines")
    def api_deadlines(within_h: int = Query(24, ge=1, le=24 * 30),
                      shop: int | None = Query(None, ge=1, le=MAX_ID)) -> dict[str, Any]:
        """Unshipped orders due within `within_h` hours (overdue first), with seconds left."""
        now = int(time.time())
        with c().uow(readonly=True) as u:
            rows = u.tracking.unshipped_due(now + within_h * 3600, shop_ref=shop)
        return {"now": now, "items": [{"order_id": o, "shop_ref": s, "exp_ship_time": e,
                                       "state": st, "seconds_left": e - now}
                                      for o, s, e, st in rows]}

    @api.get("/alerts/channels")
    def api_channels() -> list[dict[str, Any]]:
        with c().uow(readonly=True) as u:
            return [_public_channel(ch) for ch in u.tracking.channels()]

    @api.post("/alerts/channels", status_code=201,
              responses={422: {"description": "what is wrong with the channel"}})
    def api_add_channel(body: ChannelIn) -> Any:
        try:
            return {"id": add_channel(c().uow, body.name, body.kind, body.config, body.kinds,
                                      body.interval_s)}
        except WatchError as exc:
            return JSONResponse({"message": str(exc)}, 422)

    @api.delete("/alerts/channels/{name}", responses={404: {"description": "no such channel"}})
    def api_delete_channel(name: str = PathParam(min_length=1, max_length=64)) -> Any:
        with c().uow() as u:
            if not u.tracking.delete_channel(name):
                raise HTTPException(404, f"no alert channel {name!r}")
        return {"deleted": name}

    @api.post("/alerts/send")
    def api_send_alerts() -> list[dict[str, Any]]:
        """Tell the channels about exceptions nobody was told of (respecting intervals)."""
        fh = c()
        return fh.watch.send_alerts(fh.settings.public_url)

    # ---- console --------------------------------------------------------------------------
    @web.get("/exceptions", response_class=HTMLResponse, include_in_schema=False)
    def exceptions_page(request: Request, kind: str = "", status: str = "open",
                        assignee: str = "", msg: str = "") -> HTMLResponse:
        kind_v = kind if kind in KIND_LABELS else None
        status = status if status in ("open", "closed", "all") else "open"
        with c().uow(readonly=True) as u:
            total, rows = u.tracking.list_findings(status=status, kind=kind_v,
                                                   assignee=assignee or None, limit=500)
            counts = u.tracking.count_open_by_kind()
        return templates.TemplateResponse(request, "exceptions.html", {
            "rows": rows, "total": total, "kind": kind_v or "", "status": status,
            "assignee": assignee, "counts": counts, "msg": msg,
            "chart_labels": [KIND_LABELS.get(k, k) for k in counts],
            "chart_values": list(counts.values())})

    @web.post("/exceptions", include_in_schema=False)
    async def exceptions_act(request: Request) -> Response:
        form = await request.form()
        ids = [int(str(v)) for v in form.getlist("finding_id") if str(v).isdigit()]
        action, text = str(form.get("action", "")), str(form.get("text", "")).strip()
        if not ids:
            return RedirectResponse("/exceptions?msg=" + quote("没有选择异常"), 303)
        watch, done, errors = c().watch, 0, []
        for fid in ids:
            try:
                if action == "assign":
                    watch.assign(fid, text, actor="console")
                elif action == "note":
                    watch.note(fid, text, actor="console")
                elif action == "close":
                    watch.close(fid, text, actor="console")
                else:
                    raise WatchError(f"unknown action {action!r}")
                done += 1
            except WatchError as exc:
                errors.append(f"#{fid}: {exc}")
        msg = f"已处理 {done} 条" + (("；" + "；".join(errors[:5])) if errors else "")
        return RedirectResponse("/exceptions?msg=" + quote(msg), 303)

    @web.get("/deadlines", response_class=HTMLResponse, include_in_schema=False)
    def deadlines_page(request: Request, within_h: int = 24) -> HTMLResponse:
        now = int(time.time())
        within_h = min(max(within_h, 1), 24 * 30)
        with c().uow(readonly=True) as u:
            rows = u.tracking.unshipped_due(now + within_h * 3600)
        return templates.TemplateResponse(request, "deadlines.html", {
            "rows": rows, "within_h": within_h, "now": now})

    @web.get("/tracking", response_class=HTMLResponse, include_in_schema=False)
    def tracking_page(request: Request, state: str = "", msg: str = "") -> HTMLResponse:
        state_v = state if state in TRACK_STATE_LABELS else None
        with c().uow(readonly=True) as u:
            total, rows = u.tracking.list_trackers(state=state_v, limit=200)
            accounts = [_public_account(a) for a in u.tracking.accounts()]
            channels = [_public_channel(ch) for ch in u.tracking.channels()]
            history = u.tracking.alert_history(20)
            pushes = u.tracking.push_counts()
        return templates.TemplateResponse(request, "tracking.html", {
            "rows": rows, "total": total, "state": state_v or "", "accounts": accounts,
            "channels": channels, "history": history, "pushes": pushes, "msg": msg,
            "public_url": c().settings.public_url})

    @web.post("/tracking/channels", include_in_schema=False)
    async def tracking_add_channel(request: Request) -> Response:
        form = await request.form()
        kind = str(form.get("kind", ""))
        config: dict[str, Any] = {k: str(form.get(k, "")).strip()
                                  for k in ("url", "secret", "hook_id", "key", "host", "port",
                                            "sender", "user", "password") if form.get(k)}
        if form.get("to"):
            config["to"] = [a.strip() for a in str(form.get("to")).split(",") if a.strip()]
        kinds = [str(k) for k in form.getlist("kinds")] or ["*"]
        try:
            interval = int(str(form.get("interval_s") or "1800"))
            add_channel(c().uow, str(form.get("name", "")), kind, config, kinds, interval)
            msg = "已添加提醒渠道"
        except (WatchError, ValueError) as exc:
            msg = f"添加失败：{exc}"
        return RedirectResponse("/tracking?msg=" + quote(msg), 303)

    @web.post("/tracking/accounts", include_in_schema=False)
    async def tracking_add_account(request: Request) -> Response:
        form = await request.form()
        provider = str(form.get("provider", ""))
        keys = (("customer", "key", "salt", "secret", "label_url") if provider == "kuaidi100"
                else ("ebusiness_id", "api_key"))
        cred = {k: str(form.get(k, "")).strip() for k in keys}
        try:
            add_account(c().uow, provider, str(form.get("name", "")), cred,
                        str(form.get("base_url", "")).strip(),
                        str(form.get("callback_url", "")).strip())
            c().tracking.accounts(fresh=True)
            msg = "已添加物流查询账号"
        except TrackingError as exc:
            msg = f"添加失败：{exc}"
        return RedirectResponse("/tracking?msg=" + quote(msg), 303)

