"""API: labels, pick lists and slips in batches; the Douyin print component's tasks.

A print takes a selection or a filter (``SelectionIn``) and splits by itself: platform
e-waybills only through the component, other numbers as fahuo's PDF/ZPL."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from fahuo.entrypoints.web.deps import MAX_ID, Actor, FahuoDep, SignedIn, UowDep, may_see_receiver
from fahuo.services.print_component import (
    ComponentTaskError, component_results, component_tasks, record_component_result,
)
from fahuo.services.print_data import print_data
from fahuo.services.print_jobs import Selection, check_reprint, plan_print
from fahuo.services.printing import (
    NothingToPrint, PrintError, hand_out, print_documents, print_labels,
)

router = APIRouter()
PackId = Annotated[int, Field(ge=1, le=MAX_ID)]


class PackIds(BaseModel):
    pack_ids: list[PackId] = Field(min_length=1, max_length=2000)


class SelectionIn(BaseModel):
    """Which packs: named packs, orders or an earlier batch; or else a filter. Nothing
    named and no filter: every pack whose label waits (a live number, never printed)."""

    pack_ids: list[PackId] | None = Field(
        None, max_length=5000, description="these packs (default: a filter, see below)")
    order_ids: list[Annotated[str, Field(min_length=1, max_length=32)]] | None = Field(
        None, max_length=5000, description="the live packs of these orders")
    batch: int | None = Field(None, ge=1, le=MAX_ID, description="the packs of an earlier "
                              "print batch again (a reprint: give a reason)")
    shop_ref: int | None = Field(None, ge=1, le=MAX_ID, description="filter: one shop")
    courier: str | None = Field(None, max_length=32,
                                description="filter: one courier (code or name, 中通 / zhongtong)")
    due_before: int | None = Field(None, ge=0, le=2**40, description="filter: packs whose "
                                   "shipping deadline (Unix seconds) is at or before this")
    due_within_h: float | None = Field(None, gt=0, le=720, description="filter: packs due "
                                       "within this many hours from now")
    not_printed: bool = Field(True, description="filter: only packs never printed "
                              "(false: printed ones too, a reprint needs a reason)")

    def selection(self) -> Selection:
        return Selection(pack_ids=tuple(self.pack_ids or ()),
                         order_ids=tuple(self.order_ids or ()), batch=self.batch,
                         shop_ref=self.shop_ref, courier=self.courier,
                         due_before=self.due_before, due_within_h=self.due_within_h,
                         not_printed=self.not_printed)


class PrintLabelsIn(SelectionIn):
    format: Literal["pdf", "zpl"] = "pdf"
    size: Literal["76x130", "100x150", "100x180", "4x6"] = "76x130"
    order_by: Literal["deadline", "route"] = "deadline"
    dpi: Literal[203, 300] = 203
    zpl_font: str | None = Field(None, max_length=32, description="ZPL printer-resident font "
                                 "for this print, e.g. E:ANMDS.TTF (default: the shop's "
                                 "zpl_font setting)")
    printer: str = Field("", max_length=128)
    reason: str = Field("", max_length=500)


class PrintPlanOut(BaseModel):
    platform_pack_ids: list[int] = Field(description="Douyin platform e-waybills: print "
                                         "them through POST /api/print/component/tasks")
    self_drawn_pack_ids: list[int] = Field(description="drawn by fahuo: POST /api/print/labels")
    message: str


class PrintDocsIn(BaseModel):
    pack_ids: list[PackId] | None = Field(None, max_length=5000)
    format: Literal["pdf", "xlsx"] = "pdf"
    printer: str = Field("", max_length=128)
    reason: str = Field("", max_length=500)


class ComponentTasksIn(SelectionIn):
    pack_ids: list[PackId] | None = Field(None, max_length=2000, description=(
        "these packs (each one that cannot print says why in `problems`)"))
    printer: str = Field("", max_length=128)
    per_task: int = Field(10, ge=1, le=100)
    reason: str = Field("", max_length=500, description="why, when a label is printed again")


@router.post("/packs/print-data")
def api_print_data(fh: FahuoDep, body: PackIds) -> dict[str, Any]:
    """Encrypted print data and signatures for the platform print component."""
    batch = print_data(fh.uow, fh.platform_for, body.pack_ids)
    return {"documents": batch.documents,
            "problems": {str(k): v for k, v in batch.problems.items()}}


@router.post("/print/plan", response_model=PrintPlanOut, responses={
    409: {"description": "nothing to print, a pack without a live number, a reprint without "
                         "a reason (`message`, Chinese)"}})
def api_print_plan(fh: FahuoDep, body: PrintLabelsIn) -> Any:
    """How a print splits, printing nothing: platform e-waybills go to the print component,
    the other numbers are drawn by fahuo as PDF/ZPL."""
    try:
        plan = plan_print(fh.uow, body.selection(), reason=body.reason)
    except PrintError as exc:
        return JSONResponse({"message": str(exc)}, 409)
    msg = "，".join(filter(None, (
        f"{len(plan.platform)} 个平台电子面单由打印组件打印" if plan.platform else "",
        f"{len(plan.self_drawn)} 个自绘面单生成 {body.format.upper()}" if plan.self_drawn
        else "")))
    return PrintPlanOut(platform_pack_ids=plan.platform, self_drawn_pack_ids=plan.self_drawn,
                        message=msg)


# Before /print/{kind}: the first route whose path matches answers.
@router.post("/print/labels", responses={
    200: {"content": {"application/pdf": {}, "text/plain": {}},
          "description": "the self-drawn labels' file (whole addresses: fahuo keeps no copy); "
                         "X-Fahuo-Batch names its print batch, X-Fahuo-Component-Packs how "
                         "many platform e-waybills of a filter were left for the print "
                         "component, X-Fahuo-Refused-Packs the packs left out because the "
                         "platform gave no full address and X-Fahuo-Refused why (JSON, "
                         "percent-encoded UTF-8)"},
    409: {"description": "cannot print (no live number, a platform e-waybill named — those "
                         "print through the print component —, reprint without a reason, …)"}})
def api_print_labels(fh: FahuoDep, user: SignedIn, actor: Actor,
                     body: PrintLabelsIn) -> Response:
    """Labels fahuo draws (numbers that are not Douyin platform e-waybills), each with the
    whole address (decrypted through the platform, audited); name and phone masked unless
    the shop's policy and the caller's permission say plain."""
    sel = body.selection()
    try:
        plan = plan_print(fh.uow, sel, reason=body.reason)
        if plan.platform and sel.named:
            raise PrintError(
                f"{len(plan.platform)} 个包裹是抖音平台电子面单（{'、'.join(map(str, plan.platform[:20]))}），"
                "须由抖音打印组件打印：POST /api/print/component/tasks (platform e-waybills)")
        if not plan.self_drawn:
            raise PrintError(f"没有自绘面单要打印；{len(plan.platform)} 个平台电子面单请用抖音打印组件"
                             "打印 (POST /api/print/component/tasks)")
        r = print_labels(fh.uow, fh.platform_for, plan.self_drawn, fmt=body.format,
                         size=body.size, order_by=body.order_by, actor=actor,
                         printer=body.printer, reason=body.reason, dpi=body.dpi,
                         out_dir=fh.settings.data_dir / "prints",
                         may_see_receiver=may_see_receiver(user),
                         plain_keep_s=fh.settings.plain_label_keep_s, zpl_font=body.zpl_font)
    except PrintError as exc:
        return JSONResponse({"message": str(exc)}, 409)
    return Response(hand_out(r),
                    media_type="application/pdf" if body.format == "pdf" else "text/plain",
                    headers={"X-Fahuo-Batch": str(r.batch_id),
                             "X-Fahuo-Already-Printed": str(r.already_printed).lower(),
                             "X-Fahuo-Reprint": str(r.reprint).lower(),
                             "X-Fahuo-Component-Packs": str(len(plan.platform)),
                             "X-Fahuo-Refused-Packs": ",".join(map(str, sorted(r.refused))),
                             "X-Fahuo-Refused": quote(json.dumps(
                                 {str(k): v for k, v in sorted(r.refused.items())},
                                 ensure_ascii=False)),
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


@router.post("/print/component/tasks", responses={
    422: {"description": "a pack id listed twice"},
    409: {"description": "a reprint without a reason, a bad filter (`message`, Chinese)"}})
def api_component_tasks(fh: FahuoDep, body: ComponentTasksIn) -> Any:
    """Print tasks for the Douyin print component: the platform e-waybills of the selection
    (named packs, orders, a batch or a filter; default every one waiting), confirmed or not."""
    try:
        if body.pack_ids:  # as named: a pack that cannot print is a problem, not a refusal
            ids: list[int] = list(body.pack_ids)
            check_reprint(fh.uow, ids, body.reason)
        else:
            ids = plan_print(fh.uow, body.selection(), reason=body.reason).platform
    except NothingToPrint:
        return {"tasks": [], "problems": {}}
    except PrintError as exc:
        return JSONResponse({"message": str(exc)}, 409)
    if not ids:
        return {"tasks": [], "problems": {}}
    try:
        return component_tasks(fh.uow, fh.platform_for, ids, printer=body.printer,
                               per_task=body.per_task)
    except ComponentTaskError as exc:
        return JSONResponse({"message": str(exc)}, 422)


@router.post("/print/component/result")
async def api_component_result(request: Request, uow: UowDep, actor: Actor,
                               reason: str = Query("", max_length=500)) -> Any:
    """What the component reported (notifyPrintResult, or a refused task), relayed by the
    console page; `reason` is recorded for labels printed again."""
    raw = await request.body()
    try:
        return record_component_result(uow, raw, actor=actor, reason=reason)
    except ValueError as exc:
        return JSONResponse({"message": str(exc)}, 400)


@router.get("/print/component/results")
def api_component_results(uow: UowDep, limit: int = Query(30, ge=1, le=200)
                          ) -> list[dict[str, Any]]:
    """The latest print-component tasks as the component reported them, newest first:
    status, packs printed, each failed pack with the component's message."""
    return component_results(uow, limit)
