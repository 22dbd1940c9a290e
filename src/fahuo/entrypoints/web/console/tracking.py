"""Console: logistics exceptions, deadlines, tracking (accounts, alert channels)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from fahuo.bootstrap import add_channel
from fahuo.bootstrap import add_account
from fahuo.domain.names import COURIER
from fahuo.entrypoints.web.console.paging import back, kept, refused
from fahuo.entrypoints.web.console.render import render
from fahuo.entrypoints.web.deps import Actor, FahuoDep, UowDep
from fahuo.services import lists
from fahuo.services.lists import (
    DEADLINE_WINDOW, EXCEPTION_STATUS, PER_PAGE, FindingFilter, ListFilterError, Paging,
)
from fahuo.services.tracking import TrackingError
from fahuo.services.watch import KIND_LABELS, WatchError

router = APIRouter()
CHANNEL_FIELDS = ("url", "secret", "hook_id", "key", "host", "port", "sender", "user",
                  "password")


@router.get("/exceptions")
def exceptions_page(request: Request, uow: UowDep, kind: str = "", status: str = "open",
                    assignee: str = "", page: int = 1, per: int = PER_PAGE, msg: str = ""
                    ) -> HTMLResponse:
    try:
        flt = FindingFilter.parse(status=status, kind=kind, assignee=assignee)
        found = lists.exceptions(uow, flt, Paging.of_page(page, per))
    except ListFilterError as exc:
        return refused(request, exc)
    counts = found.extra["counts"]
    return render(request, "exceptions.html", {
        "p": found, "counts": counts, "kind": flt.kind or "", "status": flt.status,
        "assignee": flt.assignee or "", "msg": msg, "params": kept(per, **flt.query()),
        "filters": flt.query(), "STATUSES": EXCEPTION_STATUS,
        "chart_labels": [KIND_LABELS.get(k, k) for k in counts],
        "chart_values": list(counts.values())})


@router.post("/exceptions")
async def exceptions_act(request: Request, fh: FahuoDep, actor: Actor) -> Response:
    form = await request.form()
    action, text = str(form.get("action", "")), str(form.get("text", "")).strip()
    try:  # the list's filter, sent with the form: where to go back, and what "all" means
        flt = FindingFilter.parse(status=str(form.get("f_status") or "open"),
                                  kind=str(form.get("f_kind") or ""),
                                  assignee=str(form.get("f_assignee") or ""))
    except ListFilterError as exc:
        return refused(request, exc)
    params = flt.query()
    every = form.get("scope") == "matching"
    if every:  # every open finding the filter matches, on every page, read again now
        ids = await run_in_threadpool(lists.matching_open_findings, fh.uow, flt)
    else:
        ids = [int(str(v)) for v in form.getlist("finding_id") if str(v).isdigit()]
    if action not in ("assign", "note", "close"):
        return RedirectResponse(back("/exceptions", params, f"未知操作 {action!r}"), 303)
    if not ids:
        return RedirectResponse(back("/exceptions", params, "没有选择异常"), 303)

    def act() -> tuple[int, list[str]]:
        watch, done, errors = fh.watch, 0, []
        for fid in ids:
            try:
                if action == "assign":
                    watch.assign(fid, text, actor=actor)
                elif action == "note":
                    watch.note(fid, text, actor=actor)
                else:
                    watch.close(fid, text, actor=actor)
                done += 1
            except WatchError as exc:
                errors.append(f"#{fid}: {exc}")
        return done, errors
    done, errors = await run_in_threadpool(act)
    msg = f"已处理 {done} 条" + (f"（筛选出的全部 {len(ids)} 条未处理异常）" if every else "") + (
        ("；" + "；".join(errors[:5])) if errors else "") + (
        f"；另有 {len(errors) - 5} 条未处理" if len(errors) > 5 else "")
    return RedirectResponse(back("/exceptions", params, msg), 303)


@router.get("/deadlines")
def deadlines_page(request: Request, uow: UowDep, window: str = "",
                   within_h: int | None = None, page: int = 1, per: int = PER_PAGE
                   ) -> HTMLResponse:
    if not window and within_h is None:
        within_h = 24  # as before: everything due within a day, overdue included
    try:
        found = lists.deadlines(uow, window=window, within_h=None if window else within_h,
                                paging=Paging.of_page(page, per))
    except ListFilterError as exc:
        return refused(request, exc)
    return render(request, "deadlines.html", {
        "p": found, "now": found.extra["now"], "window": window,
        "within_h": None if window else within_h, "WINDOWS": DEADLINE_WINDOW,
        "params": kept(per, window=window, within_h=None if window else within_h)})


@router.get("/tracking")
def tracking_page(request: Request, fh: FahuoDep, state: str = "", courier: str = "",
                  page: int = 1, per: int = PER_PAGE, msg: str = "") -> HTMLResponse:
    try:
        found = lists.tracking_page(fh.uow, fh.carriers, state=state, courier=courier,
                                    paging=Paging.of_page(page, per))
    except ListFilterError as exc:
        return refused(request, exc)
    return render(request, "tracking.html", {
        **found, "state": state, "courier": courier, "msg": msg,
        "params": kept(per, state=state, courier=courier), "COURIERS": COURIER,
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
