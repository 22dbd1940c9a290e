"""API: labels, pick lists and slips in batches; the Douyin print component's tasks."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from fahuo.entrypoints.web.deps import MAX_ID, Actor, FahuoDep, SignedIn, UowDep, may_see_receiver
from fahuo.services.print_component import (
    ComponentTaskError, component_tasks, record_component_result,
)
from fahuo.services.print_data import print_data
from fahuo.services.printing import PrintError, hand_out, print_documents, print_labels, select_packs

router = APIRouter()
PackId = Annotated[int, Field(ge=1, le=MAX_ID)]


class PackIds(BaseModel):
    pack_ids: list[PackId] = Field(min_length=1, max_length=2000)


class PrintLabelsIn(BaseModel):
    pack_ids: list[PackId] | None = Field(
        None, max_length=5000, description="default: every pack waiting to print")
    format: Literal["pdf", "zpl"] = "pdf"
    size: Literal["76x130", "100x150", "100x180", "4x6"] = "76x130"
    order_by: Literal["deadline", "route"] = "deadline"
    dpi: Literal[203, 300] = 203
    printer: str = Field("", max_length=128)
    reason: str = Field("", max_length=500)


class PrintDocsIn(BaseModel):
    pack_ids: list[PackId] | None = Field(None, max_length=5000)
    format: Literal["pdf", "xlsx"] = "pdf"
    printer: str = Field("", max_length=128)
    reason: str = Field("", max_length=500)


class ComponentTasksIn(BaseModel):
    pack_ids: list[PackId] | None = Field(None, max_length=2000)
    printer: str = Field("", max_length=128)
    per_task: int = Field(10, ge=1, le=100)


@router.post("/packs/print-data")
def api_print_data(fh: FahuoDep, body: PackIds) -> dict[str, Any]:
    """Encrypted print data and signatures for the platform print component."""
    batch = print_data(fh.uow, fh.platform_for, body.pack_ids)
    return {"documents": batch.documents,
            "problems": {str(k): v for k, v in batch.problems.items()}}


# Before /print/{kind}: the first route whose path matches answers.
@router.post("/print/labels", responses={
    200: {"content": {"application/pdf": {}, "text/plain": {}},
          "description": "the label file; X-Fahuo-Batch names its print batch"},
    409: {"description": "cannot print (no number, reprint without a reason, …)"}})
def api_print_labels(fh: FahuoDep, user: SignedIn, actor: Actor,
                     body: PrintLabelsIn) -> Response:
    try:
        r = print_labels(fh.uow, body.pack_ids, fmt=body.format, size=body.size,
                         order_by=body.order_by, actor=actor,
                         printer=body.printer, reason=body.reason, dpi=body.dpi,
                         out_dir=fh.settings.data_dir / "prints",
                         may_see_receiver=may_see_receiver(user),
                         plain_keep_s=fh.settings.plain_label_keep_s)
    except PrintError as exc:
        return JSONResponse({"message": str(exc)}, 409)
    return Response(hand_out(r),
                    media_type="application/pdf" if body.format == "pdf" else "text/plain",
                    headers={"X-Fahuo-Batch": str(r.batch_id),
                             "X-Fahuo-Already-Printed": str(r.already_printed).lower(),
                             "X-Fahuo-Reprint": str(r.reprint).lower(),
                             "Content-Disposition": f'attachment; filename="{r.path.name}"'})


@router.post("/print/{kind}", responses={
    200: {"content": {"application/pdf": {}, "application/octet-stream": {}},
          "description": "the document; X-Fahuo-Batch names its print batch"},
    409: {"description": "cannot print (reprint without a reason, …)"}})
def api_print_documents(fh: FahuoDep, actor: Actor, body: PrintDocsIn,
                        kind: Literal["picklist", "slips"]) -> Response:
    try:
        r = print_documents(fh.uow, kind, body.pack_ids, fmt=body.format, actor=actor,
                            printer=body.printer, reason=body.reason,
                            out_dir=fh.settings.data_dir / "prints")
    except PrintError as exc:
        return JSONResponse({"message": str(exc)}, 409)
    return Response(r.path.read_bytes(), media_type="application/pdf"
                    if body.format == "pdf" else "application/octet-stream",
                    headers={"X-Fahuo-Batch": str(r.batch_id),
                             "X-Fahuo-Already-Printed": str(r.already_printed).lower(),
                             "Content-Disposition": f'attachment; filename="{r.path.name}"'})


@router.post("/print/component/tasks",
             responses={422: {"description": "a pack id listed twice"}})
def api_component_tasks(fh: FahuoDep, uow: UowDep, body: ComponentTasksIn) -> Any:
    """Print tasks for the Douyin print component (platform waybills)."""
    with uow(readonly=True) as u:
        ids = body.pack_ids or [p["id"] for p in select_packs(u, None, "labels")]
    if not ids:
        return {"tasks": [], "problems": {}}
    try:
        return component_tasks(fh.uow, fh.platform_for, ids, printer=body.printer,
                               per_task=body.per_task)
    except ComponentTaskError as exc:
        return JSONResponse({"message": str(exc)}, 422)


@router.post("/print/component/result")
async def api_component_result(request: Request, uow: UowDep, actor: Actor) -> Any:
    """What the component reported (notifyPrintResult), relayed by the console page."""
    raw = await request.body()
    try:
        return record_component_result(uow, raw, actor=actor)
    except ValueError as exc:
        return JSONResponse({"message": str(exc)}, 400)
