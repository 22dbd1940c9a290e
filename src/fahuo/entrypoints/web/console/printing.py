"""Console: printing labels and documents in batches, and the Douyin print component page."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fahuo.entrypoints.web.console.render import render
from fahuo.entrypoints.web.deps import Actor, FahuoDep, SignedIn, UowDep, may_see_receiver
from fahuo.services import read_models
from fahuo.services.printing import PrintError, hand_out, print_documents, print_labels

router = APIRouter()
LOOPBACK_WS = ("ws://localhost:", "ws://127.0.0.1:", "wss://localhost:", "wss://127.0.0.1:")


@router.get("/print")
def print_page(request: Request, uow: UowDep, msg: str = "") -> HTMLResponse:
    return render(request, "print.html", {**read_models.printing(uow), "msg": msg})


@router.post("/print")
async def print_post(request: Request, fh: FahuoDep, user: SignedIn, actor: Actor
                     ) -> Response:
    form = await request.form()
    batch = str(form.get("batch", ""))
    pack_ids = None
    if batch.isdigit():
        with fh.uow() as u:
            old = u.prints.batch(int(batch))
        pack_ids = old["pack_ids"] if old else [0]
    try:
        r = print_labels(fh.uow, pack_ids, fmt=str(form.get("format", "pdf")),
                         size=str(form.get("size", "76x130")),
                         order_by=str(form.get("order_by", "deadline")), actor=actor,
                         printer=str(form.get("printer", "")),
                         reason=str(form.get("reason", "")),
                         out_dir=fh.settings.data_dir / "prints",
                         may_see_receiver=may_see_receiver(user),
                         plain_keep_s=fh.settings.plain_label_keep_s)
    except PrintError as exc:
        return RedirectResponse("/print?msg=" + quote(f"未打印：{exc}"), 303)
    return Response(hand_out(r), media_type="application/pdf"
                    if r.path.suffix == ".pdf" else "text/plain",
                    headers={"Content-Disposition": f'attachment; filename="{r.path.name}"',
                             "X-Fahuo-Already-Printed": str(r.already_printed).lower()})


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
def component_page(request: Request, ws: str = "ws://localhost:13888") -> HTMLResponse:
    if not ws.startswith(LOOPBACK_WS):
        ws = "ws://localhost:13888"  # the component only ever listens on this computer
    return render(request, "print_component.html", {"ws": ws})
