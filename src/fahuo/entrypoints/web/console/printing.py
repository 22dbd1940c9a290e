"""Console: printing labels and documents in batches, and the Douyin print component page."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fahuo.entrypoints.web.console.render import render
from fahuo.entrypoints.web.deps import MAX_ID, Actor, FahuoDep, SignedIn, UowDep, may_see_receiver
from fahuo.services import print_jobs
from fahuo.services.print_component import component_results
from fahuo.services.printing import PLAIN_PREFIX, PrintError, hand_out, print_documents

router = APIRouter()
LOOPBACK_WS = ("ws://localhost:", "ws://127.0.0.1:", "wss://localhost:", "wss://127.0.0.1:")
DEFAULT_WS = "ws://localhost:13888"


@router.get("/print")
def print_page(request: Request, uow: UowDep, msg: str = "", ws: str = DEFAULT_WS
               ) -> HTMLResponse:
    return render(request, "print.html", {**print_jobs.print_page(uow), "msg": msg,
                                          "plan": None, "ws": _ws(ws)})


def _ws(ws: str) -> str:
    """The component's address: only ever on this computer."""
    return ws if ws.startswith(LOOPBACK_WS) else DEFAULT_WS


def _numbers(text: str) -> list[str]:
    return [x for x in re.split(r"[\s,，、;；]+", text.strip()) if x]


def selection_from_form(form: Any) -> print_jobs.Selection:
    """The print form: a batch (补打), typed pack or order numbers, or a filter."""
    def text(key: str) -> str:
        return str(form.get(key, "") or "").strip()

    batch = text("batch")
    if batch:
        if not batch.isdigit():
            raise PrintError(f"批次号 {batch!r} 应为数字 (batch)")
        return print_jobs.Selection(batch=int(batch))
    packs, orders = _numbers(text("pack_ids")), _numbers(text("order_ids"))
    if packs:
        bad = [p for p in packs if not p.isdigit() or len(p) > 12]
        if bad:
            raise PrintError(f"包裹号应为数字：{'、'.join(bad[:10])} (pack_ids)")
        return print_jobs.Selection(pack_ids=tuple(int(p) for p in packs))
    if orders:
        bad = [o for o in orders if not o.isdigit() or len(o) > 32]
        if bad:
            raise PrintError(f"订单号应为数字：{'、'.join(bad[:10])} (order_ids)")
        return print_jobs.Selection(order_ids=tuple(orders))
    shop, within = text("shop_ref"), text("due_within_h")
    if shop and not shop.isdigit():
        raise PrintError(f"店铺 {shop!r} 不存在 (shop_ref)")
    try:
        hours = float(within) if within else None
    except ValueError:
        raise PrintError(f"截止时间窗 {within!r} 应为小时数 (due_within_h)") from None
    return print_jobs.Selection(
        shop_ref=int(shop) if shop else None, courier=text("courier") or None,
        due_before=print_jobs.parse_shop_time(text("due_before")) if text("due_before")
        else None, due_within_h=hours, not_printed=not form.get("include_printed"))


@router.post("/print")
async def print_post(request: Request, fh: FahuoDep, user: SignedIn, actor: Actor
                     ) -> Response:
    """Print a selection: platform e-waybills go to the print component on this page,
    the others come back as fahuo's PDF/ZPL."""
    form = await request.form()
    reason = str(form.get("reason", ""))
    try:
        plan = print_jobs.print_selection(
            fh.uow, fh.platform_for, selection_from_form(form),
            fmt=str(form.get("format", "pdf")), size=str(form.get("size", "76x130")),
            order_by=str(form.get("order_by", "deadline")), actor=actor,
            printer=str(form.get("printer", "")), reason=reason,
            out_dir=fh.settings.data_dir / "prints",
            may_see_receiver=may_see_receiver(user),
            plain_keep_s=fh.settings.plain_label_keep_s,
            zpl_font=str(form.get("zpl_font", "") or "").strip() or None)
    except PrintError as exc:
        return RedirectResponse("/print?msg=" + quote(f"未打印：{exc}"), 303)
    r = plan.result
    if r is not None and not plan.platform and not plan.refused:  # the file itself
        return Response(hand_out(r), media_type="application/pdf"
                        if r.path.suffix == ".pdf" else "text/plain",
                        headers={"Content-Disposition": f'attachment; filename="{r.path.name}"',
                                 "X-Fahuo-Already-Printed": str(r.already_printed).lower()})
    return render(request, "print.html", {
        **print_jobs.print_page(fh.uow), "msg": "", "plan": plan, "reason": reason,
        "printer": str(form.get("printer", "")), "ws": _ws(str(form.get("ws", ""))),
        "platform_ids": json.dumps(plan.platform), "platform_count": len(plan.platform),
        "auto": "1"})


@router.get("/print/file/{batch_id}")
def print_file(fh: FahuoDep, batch_id: int = PathParam(ge=1, le=MAX_ID)) -> Response:
    """A label batch's file, once more (a plain-receiver file only once: it is deleted)."""
    with fh.uow(readonly=True) as u:
        b = u.prints.batch(batch_id)
    name = (b or {}).get("file_name") or ""
    path = fh.settings.data_dir / "prints" / name
    if not name or "/" in name or not path.exists():
        return RedirectResponse("/print?msg=" + quote(
            f"批次 #{batch_id} 的文件已不在（明文面单下载一次后即删除）：请补打"), 303)
    data = path.read_bytes()
    if name.startswith(PLAIN_PREFIX):
        path.unlink(missing_ok=True)
    return Response(data, media_type="application/pdf" if name.endswith(".pdf")
                    else "text/plain",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/print/documents")
async def print_docs_post(request: Request, fh: FahuoDep, actor: Actor) -> Response:
    form = await request.form()
    kind, fmt = str(form.get("kind", "")), str(form.get("format", "pdf"))
    try:
        r = print_documents(fh.uow, kind, None, fmt=fmt, actor=actor,
                            reason=str(form.get("reason", "")),
                            out_dir=fh.settings.data_dir / "prints")
    except PrintError as exc:
        return RedirectResponse("/print?msg=" + quote(f"未打印：{exc}"), 303)
    return Response(r.path.read_bytes(), media_type="application/pdf" if fmt == "pdf"
                    else "application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{r.path.name}"'})


@router.get("/print/component")
def component_page(request: Request, uow: UowDep, ws: str = DEFAULT_WS,
                   packs: str = Query("", max_length=20000), reason: str = "") -> HTMLResponse:
    """The print component's page: prints what waits (or the packs named, e.g. from the
    CLI), and shows each task's outcome as the component reported it."""
    ws = _ws(ws)
    ids = [int(p) for p in _numbers(packs) if p.isdigit() and len(p) <= 12]
    return render(request, "print_component.html", {
        "ws": ws, "platform_ids": json.dumps(ids) if ids else "", "reason": reason,
        "platform_count": len(ids),
        "results": component_results(uow)})
