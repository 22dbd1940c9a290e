"""Console: logistics exceptions, deadlines, tracking (accounts, alert channels)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fahuo.bootstrap import add_channel
from fahuo.entrypoints.web.console.render import TRACK_STATE_LABELS, render
from fahuo.entrypoints.web.deps import Actor, FahuoDep, UowDep
from fahuo.services import read_models
from fahuo.bootstrap import add_account
from fahuo.services.tracking import TrackingError
from fahuo.services.watch import KIND_LABELS, WatchError

router = APIRouter()
CHANNEL_FIELDS = ("url", "secret", "hook_id", "key", "host", "port", "sender", "user",
                  "password")


@router.get("/exceptions")
def exceptions_page(request: Request, uow: UowDep, kind: str = "", status: str = "open",
                    assignee: str = "", msg: str = "") -> HTMLResponse:
    kind_v = kind if kind in KIND_LABELS else None
    status = status if status in ("open", "closed", "all") else "open"
    found = read_models.exceptions(uow, status=status, kind=kind_v, assignee=assignee or None)
    counts = found["counts"]
    return render(request, "exceptions.html", {
        **found, "kind": kind_v or "", "status": status, "assignee": assignee, "msg": msg,
        "chart_labels": [KIND_LABELS.get(k, k) for k in counts],
        "chart_values": list(counts.values())})


@router.post("/exceptions")
async def exceptions_act(request: Request, fh: FahuoDep, actor: Actor) -> Response:
    form = await request.form()
    ids = [int(str(v)) for v in form.getlist("finding_id") if str(v).isdigit()]
    action, text = str(form.get("action", "")), str(form.get("text", "")).strip()
    if not ids:
        return RedirectResponse("/exceptions?msg=" + quote("没有选择异常"), 303)
    watch, done, errors = fh.watch, 0, []
    for fid in ids:
        try:
            if action == "assign":
                watch.assign(fid, text, actor=actor)
            elif action == "note":
                watch.note(fid, text, actor=actor)
            elif action == "close":
                watch.close(fid, text, actor=actor)
            else:
                raise WatchError(f"未知操作 {action!r}")
            done += 1
        except WatchError as exc:
            errors.append(f"#{fid}: {exc}")
    msg = f"已处理 {done} 条" + (("；" + "；".join(errors[:5])) if errors else "")
    return RedirectResponse("/exceptions?msg=" + quote(msg), 303)


@router.get("/deadlines")
def deadlines_page(request: Request, uow: UowDep, within_h: int = 24) -> HTMLResponse:
    now = int(time.time())
    within_h = min(max(within_h, 1), 24 * 30)
    with uow(readonly=True) as u:
        rows = u.tracking.unshipped_due(now + within_h * 3600)
    return render(request, "deadlines.html", {"rows": rows, "within_h": within_h, "now": now})


@router.get("/tracking")
def tracking_page(request: Request, fh: FahuoDep, state: str = "", msg: str = ""
                  ) -> HTMLResponse:
    state_v = state if state in TRACK_STATE_LABELS else None
    return render(request, "tracking.html", {
        **read_models.tracking(fh.uow, fh.carriers, state_v), "state": state_v or "", "msg": msg,
        "public_url": fh.settings.public_url})


@router.post("/tracking/channels")
async def tracking_add_channel(request: Request, uow: UowDep) -> Response:
    form = await request.form()
    kind = str(form.get("kind", ""))
    config: dict[str, Any] = {k: str(form.get(k, "")).strip()
                              for k in CHANNEL_FIELDS if form.get(k)}
    if form.get("to"):
        config["to"] = [a.strip() for a in str(form.get("to")).split(",") if a.strip()]
    kinds = [str(k) for k in form.getlist("kinds")] or ["*"]
    try:
        interval = int(str(form.get("interval_s") or "1800"))
        add_channel(uow, str(form.get("name", "")), kind, config, kinds, interval)
        msg = "已添加提醒渠道"
    except (WatchError, ValueError) as exc:
        msg = f"添加失败：{exc}"
    return RedirectResponse("/tracking?msg=" + quote(msg), 303)


@router.post("/tracking/accounts")
async def tracking_add_account(request: Request, fh: FahuoDep) -> Response:
    form = await request.form()
    provider = str(form.get("provider", ""))
    keys = (("customer", "key", "salt", "secret", "label_url") if provider == "kuaidi100"
            else ("ebusiness_id", "api_key"))
    cred = {k: str(form.get(k, "")).strip() for k in keys}
    try:
        add_account(fh.uow, provider, str(form.get("name", "")), cred,
                    str(form.get("base_url", "")).strip(),
                    str(form.get("callback_url", "")).strip())
        fh.tracking.accounts(fresh=True)
        msg = "已添加物流查询账号"
    except TrackingError as exc:
        msg = f"添加失败：{exc}"
    return RedirectResponse("/tracking?msg=" + quote(msg), 303)
