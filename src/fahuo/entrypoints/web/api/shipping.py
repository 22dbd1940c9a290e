"""API: the pipeline pass, packs, batch ship, tracking-number imports, scan-to-ship."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, UploadFile
from fastapi import Path as PathParam
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from fahuo.entrypoints.web.api.orders import OrdersAct
from fahuo.entrypoints.web.api.paging import REFUSED, listed
from fahuo.entrypoints.web.deps import MAX_ID, Actor, FahuoDep, UowDep
from fahuo.bootstrap import apply_import, preview_import
from fahuo.services import lists
from fahuo.services.lists import MAX_OFFSET, Paging
from fahuo.services.manual_ship import ImportFileError, ship_selected
from fahuo.services.ports import LeaseHeld
from fahuo.services.scan import RECENT, scan, station
from fahuo.services.uploads import UploadLimits, UploadRefused, read_upload

router = APIRouter()


class ScanIn(BaseModel):
    code: str = Field(min_length=1, max_length=64, description="the scanned tracking number")


@router.post("/pipeline/run", responses={409: {"description": "另一轮发货正在进行"}})
def api_pipeline_run(fh: FahuoDep) -> dict[str, Any]:
    try:
        return fh.pipeline().run().summary()
    except LeaseHeld:  # one pass at a time across the install; this one did not run
        raise HTTPException(409, "另一轮发货正在进行，请稍后") from None


@router.get("/packs")
def list_packs(uow: UowDep, state: str = Query("waybill_taken", pattern="^[a-z_]{1,20}$"),
               limit: int = Query(100, ge=1, le=1000)) -> list[dict[str, Any]]:
    with uow() as u:
        return u.pipeline.packs_in_state([state], limit=limit)


@router.post("/ship")
def api_ship(fh: FahuoDep, actor: Actor, body: OrdersAct) -> dict[str, Any]:
    return ship_selected(fh.uow, fh.platform_for, body.order_ids, actor=actor)


@router.post("/ship/import", responses={
    400: {"description": "file cannot be read (format, rows over FAHUO_IMPORT_MAX_ROWS, "
                         "over FAHUO_IMPORT_TIME_BUDGET_S)"},
    413: {"description": "file larger than FAHUO_IMPORT_MAX_BYTES"}})
async def api_ship_import(fh: FahuoDep, actor: Actor, file: UploadFile,
                          dry_run: bool = Query(True)) -> dict[str, Any]:
    limits = UploadLimits.from_settings(fh.settings)
    name = file.filename or "upload.csv"
    try:
        data = await read_upload(file, name, limits)
    except UploadRefused as exc:
        raise HTTPException(413, str(exc)) from exc
    try:  # parsing and the store: in the thread pool, never on the event loop
        if dry_run:
            prev = await run_in_threadpool(preview_import, fh.uow, name, data, limits)
            return {"status": "preview", "counts": prev.counts(),
                    "items": [r.__dict__ for r in prev.rows]}
        return await run_in_threadpool(apply_import, fh.uow, fh.platform_for, name, data,
                                       actor=actor, limits=limits)
    except ImportFileError as exc:
        raise HTTPException(400, str(exc)) from exc


@router.post("/scan")
def api_scan(fh: FahuoDep, actor: Actor, body: ScanIn) -> dict[str, Any]:
    """Scan-to-ship: confirm the parcel, or say loudly that it must not leave."""
    return scan(fh.uow, fh.platform_for, body.code, actor=actor).__dict__


class ScanDayOut(BaseModel):
    day: str = Field(description="the shop's date (Beijing time), 2024-03-11")
    actor: str = Field(description="who asked: the signed-in person")
    mine: int = Field(description="parcels this person let go today, each parcel once")
    total: int = Field(description="parcels everyone let go today, each parcel once")
    refused: int = Field(description="scans today that stopped a parcel or found none")


class ScanLineOut(BaseModel):
    at: int = Field(description="epoch seconds")
    time: str = Field(description="the scan's time in shop time, 03-11 09:30:05")
    actor: str
    code: str = Field(description="the number scanned, normalised")
    order_ids: list[str]
    pack_id: int | None = Field(description="None: no parcel has this number")
    courier_code: str
    courier: str = Field(description="中通快递 (zhongtong); — when unknown")
    verdict: str = Field(description="shipped | already_shipped | intercepted | held | "
                                     "unknown | not_ready | failed")
    verdict_name: str = Field(description="the verdict in Chinese: 放行（已发货）, 拦截, …")
    ok: bool = Field(description="true: the parcel may leave")
    message: str = Field(description="the answer the packer got: the refusal's reason")


class ScanStationOut(BaseModel):
    today: ScanDayOut
    recent: list[ScanLineOut] = Field(description="newest first")


@router.get("/scans", response_model=ScanStationOut)
def api_scans(uow: UowDep, actor: Actor,
              limit: int = Query(RECENT, ge=1, le=200, description="how many recent scans")
              ) -> ScanStationOut:
    """The scan station: parcels scanned today (the shop's day, Beijing time) by the
    signed-in person and by everyone, and the last scans with their result, newest first."""
    st = station(uow, actor, limit=limit)
    return ScanStationOut(today=ScanDayOut(**st.today.__dict__),
                          recent=[ScanLineOut(**{**ln.__dict__,
                                                 "order_ids": list(ln.order_ids)})
                                  for ln in st.recent])


@router.get("/ship/jobs", responses=REFUSED)
def api_jobs(uow: UowDep, kind: Literal["batch", "import"] | None = None,
             status: Literal["preview", "running", "done", "failed"] | None = None,
             limit: int = Query(50, ge=1, le=1000),
             offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> Any:
    """Import and batch-ship jobs, newest first: ``total`` matching, ``items`` from
    ``offset`` (without their rows: ``/ship/jobs/{id}/items``)."""
    return listed(lambda: lists.jobs(uow, kind=kind, status=status,
                                     paging=Paging(limit=limit, offset=offset)))


@router.get("/ship/jobs/{job_id}/items",
            responses={404: {"description": "no such job"}, **REFUSED})
def api_job_items(uow: UowDep, job_id: int = PathParam(ge=1, le=MAX_ID),
                  status: Literal["ready", "invalid", "already_shipped", "pending", "shipped",
                                  "skipped", "failed"] | None = None,
                  limit: int = Query(100, ge=1, le=1000),
                  offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> Any:
    """One job's rows in file order: ``total`` matching, ``items`` from ``offset``,
    ``counts`` per result."""
    found = lists.job(uow, job_id, status=status, paging=Paging(limit=limit, offset=offset))
    if found is None:
        raise HTTPException(404, f"没有发货任务 #{job_id}")
    _, rows = found
    return rows.as_api() | {"counts": rows.extra["counts"]}


@router.get("/ship/jobs/{job_id}", responses={404: {"description": "no such job"}})
def api_job(uow: UowDep, job_id: int = PathParam(ge=1, le=MAX_ID)) -> dict[str, Any]:
    with uow() as u:
        job = u.pipeline.job(job_id)
    if job is None:
        raise HTTPException(404, f"没有发货任务 #{job_id}")
    return job
