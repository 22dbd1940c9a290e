"""Console: 交接单 — per courier what waits for pickup, make the list, print it (PDF /
Excel), mark it handed over; the lists made before."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fahuo.entrypoints.web.console.render import error_page, render
from fahuo.entrypoints.web.deps import MAX_ID, Actor, FahuoDep
from fahuo.services.handover import HandoverError, HandoverNotFound

router = APIRouter()


def _back(shop_ref: int | None, msg: str, *, ok: bool) -> RedirectResponse:
    shop = f"shop={shop_ref}&" if shop_ref else ""
    return RedirectResponse(f"/handover?{shop}{'msg' if ok else 'err'}={quote(msg)}", 303)


@router.get("/handover")
def handover_page(request: Request, fh: FahuoDep, shop: int | None = Query(None, ge=1,
                                                                              le=MAX_ID),
                  msg: str = "", err: str = "") -> HTMLResponse:
    with fh.uow(readonly=True) as u:
        shops = u.shops.list()
    ref = shop if shop is not None else (shops[0].id if shops else None)
    try:
        waiting = fh.handover.waiting(ref) if ref is not None else []
    except HandoverError as exc:
        return error_page(request, str(exc), 404)
    total, lists = fh.handover.lists(ref) if ref is not None else (0, [])
    return render(request, "handover.html", {
        "shops": shops, "shop_ref": ref, "waiting": waiting, "lists": lists, "total": total,
        "msg": msg, "err": err, "detail": None})


@router.post("/handover")
async def handover_create(request: Request, fh: FahuoDep, actor: Actor) -> Response:
    form = await request.form()
    ref_text, courier = str(form.get("shop_ref", "")), str(form.get("courier", ""))
    netsite = form.get("netsite")
    if not ref_text.isdigit() or not 1 <= int(ref_text) <= MAX_ID:
        return _back(None, "提交内容 shop_ref 应为店铺编号", ok=False)
    ref = int(ref_text)
    try:
        made = fh.handover.create(ref, courier, actor=actor,
                                  netsite=None if netsite is None else str(netsite))
    except HandoverError as exc:
        return _back(ref, f"未生成交接单：{exc}", ok=False)
    said = "；".join(f"交接单 #{x['id']}（{x['courier']} {x['netsite']}，{x['packs']} 件）"
                    for x in made)
    return _back(ref, f"已生成 {said}，请打印后交给快递员签字", ok=True)


@router.get("/handover/{list_id}")
def handover_detail(request: Request, fh: FahuoDep, list_id: int = PathParam(ge=1, le=MAX_ID)
                    ) -> HTMLResponse:
    try:
        detail = fh.handover.get(list_id)
    except HandoverNotFound as exc:
        return error_page(request, str(exc), 404)
    return render(request, "handover.html", {"detail": detail, "shop_ref": detail["shop_ref"],
                                             "msg": "", "err": ""})


@router.post("/handover/{list_id}/done")
def handover_done(fh: FahuoDep, actor: Actor, list_id: int = PathParam(ge=1, le=MAX_ID)
                  ) -> Response:
    try:
        done = fh.handover.done(list_id, actor=actor)
    except HandoverNotFound as exc:
        return _back(None, str(exc), ok=False)
    except HandoverError as exc:
        with fh.uow(readonly=True) as u:
            row = u.handover.get(list_id)
        return _back(row["shop_ref"] if row else None, str(exc), ok=False)
    return _back(done["shop_ref"], f"交接单 #{list_id} 已标记交接（{done['handed_over_by']}）",
                 ok=True)


@router.get("/handover/{list_id}/export")
def handover_export(request: Request, fh: FahuoDep, actor: Actor,
                    list_id: int = PathParam(ge=1, le=MAX_ID), format: str = "pdf"
                    ) -> Response:
    try:
        out = fh.handover.export(list_id, format, actor=actor)
    except HandoverNotFound as exc:
        return error_page(request, str(exc), 404)
    except HandoverError as exc:
        return error_page(request, f"请求有误：{exc}", 422)
    return Response(out.data, media_type=out.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{out.file_name}"'})
