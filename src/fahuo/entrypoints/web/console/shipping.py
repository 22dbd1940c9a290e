"""Console: the ship page (tracking-number imports), import and ship jobs, scan-to-ship."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as FormFile

from fahuo.domain import names
from fahuo.entrypoints.web.console.paging import kept, refused
from fahuo.entrypoints.web.console.render import error_page, htmx, render
from fahuo.entrypoints.web.deps import MAX_ID, Actor, FahuoDep, UowDep
from fahuo.services import lists, read_models
from fahuo.services.lists import PER_PAGE, ListFilterError, Paging
from fahuo.bootstrap import apply_import, preview_import
from fahuo.services.manual_ship import ImportFileError
from fahuo.services.scan import scan, station
from fahuo.services.uploads import UploadLimits, UploadRefused, check_declared_body, read_upload

router = APIRouter()


@router.get("/ship")
def ship_page(request: Request, uow: UowDep) -> HTMLResponse:
    return render(request, "ship.html", {**read_models.shipping(uow), "preview": None})


@router.post("/ship/import")
async def ship_import_page(request: Request, fh: FahuoDep, actor: Actor) -> Response:
    limits = UploadLimits.from_settings(fh.settings)
    try:  # a body that cannot hold an allowed file is not even parsed
        check_declared_body("上传的文件", request.headers.get("content-length"), limits)
    except UploadRefused as exc:
        return error_page(request, str(exc), 413)
    form = await request.form()
    upload = form.get("file")
    apply = form.get("apply") == "1"
    staged = str(form.get("staged") or "")
    try:
        if staged and apply:  # 确认发货 of the file just previewed, as it was previewed
            kept = fh.staged.take(staged, actor=actor)
            if kept is None:
                return error_page(request, "预览的文件已过期或已使用（保留 30 分钟）：请重新上传并预览",
                                  410)
            name, data = kept
        elif isinstance(upload, FormFile):
            name = upload.filename or "upload.csv"
            data = await read_upload(upload, name, limits)
        else:
            return error_page(request, "请选择 .xlsx 或 .csv 文件", 400)
        if apply:
            job = await run_in_threadpool(apply_import, fh.uow, fh.platform_for, name, data,
                                          actor=actor, limits=limits)
            return RedirectResponse(f"/ship/jobs/{job['id']}", status_code=303)
        prev = await run_in_threadpool(preview_import, fh.uow, name, data, limits)
    except UploadRefused as exc:
        return error_page(request, str(exc), 413)
    except ImportFileError as exc:
        return error_page(request, str(exc), 400)
    token = fh.staged.put(name, data, actor=actor)
    return render(request, "ship.html", {**read_models.shipping(fh.uow), "preview": prev,
                                         "filename": name, "staged": token})


@router.get("/ship/jobs")
def jobs_page(request: Request, uow: UowDep, kind: str = "", status: str = "", page: int = 1,
              per: int = PER_PAGE) -> HTMLResponse:
    try:
        found = lists.jobs(uow, kind=kind, status=status, paging=Paging.of_page(page, per))
    except ListFilterError as exc:
        return refused(request, exc)
    return render(request, "jobs.html", {
        "p": found, "kind": kind, "status": status, "params": kept(per, kind=kind,
                                                                   status=status),
        "KINDS": names.JOB_KIND, "STATUSES": names.JOB_STATUS})


@router.get("/ship/jobs/{job_id}")
def job_page(request: Request, uow: UowDep, job_id: int = PathParam(ge=1, le=MAX_ID),
             status: str = "", page: int = 1, per: int = PER_PAGE) -> HTMLResponse:
    try:
        found = lists.job(uow, job_id, status=status, paging=Paging.of_page(page, per))
    except ListFilterError as exc:
        return refused(request, exc)
    if found is None:
        return error_page(request, f"任务 {job_id} 不存在", 404)
    job, rows = found
    return render(request, "job.html", {
        "job": job, "p": rows, "status": status, "params": kept(per, status=status),
        "STATUSES": names.JOB_ITEM_STATUS})


@router.get("/scan")
def scan_page(request: Request, uow: UowDep, actor: Actor, msg: str = "") -> HTMLResponse:
    return render(request, "scan.html", {"result": None, "msg": msg,
                                         "st": station(uow, actor)})


@router.get("/scan/board")
def scan_board(request: Request, uow: UowDep, actor: Actor) -> HTMLResponse:
    """Today's figures and the recent scans alone (the page refreshes them by itself)."""
    return render(request, "_scan_board.html", {"st": station(uow, actor)})


@router.post("/scan")
def scan_post(request: Request, fh: FahuoDep, actor: Actor, code: str = Form("")
              ) -> HTMLResponse:
    result = scan(fh.uow, fh.platform_for, code, actor=actor)
    # htmx: the answer, with the figures and the list swapped in beside it (out of band)
    return render(request, "scan_result.html" if htmx(request) else "scan.html",
                  {"result": result, "code": code, "st": station(fh.uow, actor),
                   "board_oob": htmx(request)})
