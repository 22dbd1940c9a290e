"""Console: reserved stock, release by hand and 拆包放回."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fahuo.entrypoints.web.console.render import render
from fahuo.entrypoints.web.deps import Actor, UowDep
from fahuo.services.reservations import ReservationError, release_by_hand, reserved_view, unpack

router = APIRouter()


@router.get("/stock/reservations")
def reservations_page(request: Request, uow: UowDep, msg: str = "") -> HTMLResponse:
    return render(request, "reservations.html", {**reserved_view(uow), "msg": msg})


@router.post("/stock/reservations/{order_id}/release")
async def reservations_release(request: Request, uow: UowDep, actor: Actor,
                               order_id: str) -> Response:
    form = await request.form()
    try:
        msg = release_by_hand(uow, order_id, note=str(form.get("note", "")),
                              actor=actor).message
    except ReservationError as exc:
        msg = f"未释放：{exc}"
    return RedirectResponse("/stock/reservations?msg=" + quote(msg), 303)


@router.post("/stock/unpack")
async def unpack_post(request: Request, uow: UowDep, actor: Actor) -> Response:
    form = await request.form()
    pack_id = str(form.get("pack_id", "")).strip()
    try:
        if pack_id and not pack_id.isdigit():
            raise ReservationError(f"包裹编号必须是数字：{pack_id[:20]!r}")
        msg = unpack(uow, track_no=str(form.get("track_no", "")) or None,
                     pack_id=int(pack_id) if pack_id else None, actor=actor,
                     note=str(form.get("note", ""))).message
    except ReservationError as exc:
        msg = f"未处理：{exc}"
    back = str(form.get("back", ""))
    return RedirectResponse(("/scan" if back == "scan" else "/stock/reservations")
                            + "?msg=" + quote(msg), 303)
