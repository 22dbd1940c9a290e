"""Console: the ship page (tracking-number imports), import jobs, scan-to-ship."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as FormFile

from fahuo.entrypoints.web.console.render import error_page, htmx, render
from fahuo.entrypoints.web.deps import Actor, FahuoDep, UowDep
from fahuo.services import read_models
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


@router.get("/ship/jobs/{job_id}")
def job_page(request: Request, uow: UowDep, job_id: int) -> HTMLResponse:
    with uow() as u:
        job = u.pipeline.job(job_id)
    if job is None:
        return error_page(request, f"任务 {job_id} 不存在", 404)
    return render(request, "job.html", {"job": job})


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
