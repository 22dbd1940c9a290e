"""Reserved stock: what is reserved and why, release by hand, and 拆包放回 (API and console)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field, StrictInt, model_validator

from fahuo.bootstrap import Fahuo
from fahuo.domain.aftersales import goods_come_back
from fahuo.entrypoints.web.auth import current_user
from fahuo.services.reservations import (
    NOTE_MAX, ReservationError, release_by_hand, reserved_view, unpack,
)


class ReleaseIn(BaseModel):
    note: str = Field(max_length=NOTE_MAX, description="why (required): kept in the journal")


class UnpackIn(BaseModel):
    track_no: str | None = Field(None, max_length=64, description="the parcel's tracking number")
    pack_id: StrictInt | None = Field(None, ge=1, description="or fahuo's pack id")
    note: str = Field("", max_length=NOTE_MAX)

    @model_validator(mode="after")
    def _one(self) -> "UnpackIn":
        if (self.track_no is None) == (self.pack_id is None):
            raise ValueError("give track_no or pack_id (one of them)")
        return self


def _actor(request: Request, default: str) -> str:
    user = current_user(request)
    return user.username if user else default


def register(web: FastAPI, api: APIRouter, c: Callable[[], Fahuo],
             templates: Jinja2Templates) -> None:
    # the after-sale page offers a receipt only where goods come back (the service decides)
    templates.env.globals["goods_come_back"] = goods_come_back

    @api.get("/stock/reservations")
    def api_reservations(limit: int = 500) -> dict[str, Any]:
        """Live reservations by order (state, holds), printed parcels waiting to be unpacked,
        and the latest releases with their reasons."""
        return reserved_view(c().uow, limit=max(1, min(limit, 5000)))

    @api.post("/stock/reservations/{order_id}/release",
              responses={422: {"description": "why it cannot be released (Chinese)"}})
    def api_release(request: Request, body: ReleaseIn,
                    order_id: str = PathParam(pattern=r"^\d{1,32}A?$")) -> Any:
        """Give an order's reserved stock back by hand (手工释放), with a note; audited."""
        try:
            return release_by_hand(c().uow, order_id, note=body.note,
                                   actor=_actor(request, "api")).as_dict()
        except ReservationError as exc:
            return JSONResponse({"message": str(exc)}, 422)

    @api.post("/packs/unpack", responses={422: {"description": "why not (Chinese)"}})
    def api_unpack(request: Request, body: UnpackIn) -> Any:
        """A printed parcel that will not ship was opened and its goods put back (拆包放回):
        what its orders no longer send is released now."""
        try:
            return unpack(c().uow, track_no=body.track_no, pack_id=body.pack_id,
                          actor=_actor(request, "api"), note=body.note).as_dict()
        except ReservationError as exc:
            return JSONResponse({"message": str(exc)}, 422)

    @web.get("/stock/reservations", response_class=HTMLResponse, include_in_schema=False)
    def reservations_page(request: Request, msg: str = "") -> HTMLResponse:
        return templates.TemplateResponse(request, "reservations.html", {
            **reserved_view(c().uow), "msg": msg})

    @web.post("/stock/reservations/{order_id}/release", include_in_schema=False)
    async def reservations_release(request: Request, order_id: str) -> Response:
        form = await request.form()
        try:
            msg = release_by_hand(c().uow, order_id, note=str(form.get("note", "")),
                                  actor=_actor(request, "console")).message
        except ReservationError as exc:
            msg = f"未释放：{exc}"
        return RedirectResponse("/stock/reservations?msg=" + quote(msg), 303)

    @web.post("/stock/unpack", include_in_schema=False)
    async def unpack_post(request: Request) -> Response:
        form = await request.form()
        pack_id = str(form.get("pack_id", "")).strip()
        try:
            if pack_id and not pack_id.isdigit():
                raise ReservationError(f"包裹编号必须是数字：{pack_id[:20]!r}")
            msg = unpack(c().uow, track_no=str(form.get("track_no", "")) or None,
                         pack_id=int(pack_id) if pack_id else None,
                         actor=_actor(request, "console"),
                         note=str(form.get("note", ""))).message
        except ReservationError as exc:
            msg = f"未处理：{exc}"
        back = str(form.get("back", ""))
        return RedirectResponse(("/scan" if back == "scan" else "/stock/reservations")
                                + "?msg=" + quote(msg), 303)
