"""API: 交接单 — what waits per courier, lists made of it, printed, marked handed over."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from fahuo.entrypoints.web.deps import MAX_ID, Actor, FahuoDep
from fahuo.services.handover import HandoverError, HandoverNotFound

router = APIRouter(tags=["handover"])
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such list (`message` in Chinese, `fields`)"},
    422: {"description": "what is wrong, in Chinese (`message`), and the fields it names "
                         "(`fields`)"},
}


class CreateIn(BaseModel):
    shop_ref: int = Field(ge=1, le=MAX_ID, description="the shop (#) whose parcels go")
    courier: str = Field(min_length=1, max_length=32,
                         description="courier code or name: zhongtong, 中通 or 中通快递")
    netsite: str | None = Field(None, max_length=64,
                                description="one branch (网点) code only; default: one list "
                                            "per branch of the courier's waiting parcels")


class WaitingOut(BaseModel):
    courier_code: str
    courier: str = Field(description="中通快递 (zhongtong)")
    netsite_code: str
    netsite: str = Field(description="the branch's name, 默认网点 when it has no code")
    count: int
    track_nos: list[str]


def _refused(exc: HandoverError) -> JSONResponse:
    return JSONResponse({"message": str(exc), "fields": [exc.field] if exc.field else []},
                        404 if isinstance(exc, HandoverNotFound) else 422)


@router.get("/handover/waiting", responses=ERRORS)
def api_waiting(fh: FahuoDep, shop_ref: int = Query(ge=1, le=MAX_ID)) -> Any:
    """Per courier and branch: the parcels scanned or confirmed since the last list."""
    try:
        groups = fh.handover.waiting(shop_ref)
    except HandoverError as exc:
        return _refused(exc)
    return [WaitingOut(courier_code=g.courier_code, courier=g.courier,
                       netsite_code=g.netsite_code, netsite=g.netsite, count=g.count,
                       track_nos=list(g.track_nos)) for g in groups]


@router.post("/handover", status_code=201, responses=ERRORS)
def api_create(fh: FahuoDep, actor: Actor, body: CreateIn) -> Any:
    """Make the courier's hand-over list(s) of what waits: one per branch. Each parcel goes
    on one list only; refused whole when nothing waits."""
    try:
        return fh.handover.create(body.shop_ref, body.courier, netsite=body.netsite,
                                  actor=actor)
    except HandoverError as exc:
        return _refused(exc)


@router.get("/handover", responses=ERRORS)
def api_lists(fh: FahuoDep, shop_ref: int | None = Query(None, ge=1, le=MAX_ID),
              state: Literal["open", "handed_over"] | None = None,
              limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=MAX_ID)
              ) -> Any:
    """Hand-over lists, newest first (open: 待交接, handed_over: 已交接)."""
    try:
        total, lists = fh.handover.lists(shop_ref, state=state, limit=limit, offset=offset)
    except HandoverError as exc:
        return _refused(exc)
    return {"total": total, "lists": lists}


@router.get("/handover/{list_id}", responses=ERRORS)
def api_list(fh: FahuoDep, list_id: int = PathParam(ge=1, le=MAX_ID)) -> Any:
    """One list with its parcels (line, number, order, tracking state)."""
    try:
        return fh.handover.get(list_id)
    except HandoverError as exc:
        return _refused(exc)


@router.post("/handover/{list_id}/done", responses=ERRORS)
def api_done(fh: FahuoDep, actor: Actor, list_id: int = PathParam(ge=1, le=MAX_ID)) -> Any:
    """Mark the list handed over to the courier now, by whoever calls (once). Its parcels
    without a pickup scan after the shop's `watch_rules.handover_pickup_s` (default 6 h)
    become 揽收超时 exceptions naming the list."""
    try:
        return fh.handover.done(list_id, actor=actor)
    except HandoverError as exc:
        return _refused(exc)


@router.get("/handover/{list_id}/export", responses={
    **ERRORS, 200: {"description": "the list as PDF or .xlsx",
                    "content": {"application/pdf": {}, "application/vnd.openxmlformats-"
                                "officedocument.spreadsheetml.sheet": {}}}})
def api_export(fh: FahuoDep, actor: Actor, list_id: int = PathParam(ge=1, le=MAX_ID),
               format: Literal["pdf", "xlsx"] = "pdf") -> Response:
    """The list to print and sign: 序号, 运单号, 订单号, the count, signature lines."""
    try:
        out = fh.handover.export(list_id, format, actor=actor)
    except HandoverError as exc:
        return _refused(exc)
    return Response(out.data, media_type=out.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{out.file_name}"'})
