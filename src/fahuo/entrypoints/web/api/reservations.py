"""API: reserved stock, release by hand (手工释放) and 拆包放回 of printed parcels."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictInt, model_validator

from fahuo.entrypoints.web.deps import Actor, UowDep
from fahuo.services.reservations import (
    NOTE_MAX, ReservationError, release_by_hand, reserved_view, unpack,
)

router = APIRouter()


class ReleaseIn(BaseModel):
    note: str = Field(max_length=NOTE_MAX, description="why (required): kept in the journal")


class UnpackIn(BaseModel):
    track_no: str | None = Field(None, max_length=64, description="the parcel's tracking number")
    pack_id: StrictInt | None = Field(None, ge=1, description="or fahuo's pack id")
    note: str = Field("", max_length=NOTE_MAX)

    @model_validator(mode="after")
    def _one(self) -> "UnpackIn":
        if (self.track_no is None) == (self.pack_id is None):
            raise ValueError("请给出快递单号 track_no 或包裹 pack_id（二选一）")
        return self


@router.get("/stock/reservations")
def api_reservations(uow: UowDep, limit: int = 500) -> dict[str, Any]:
    """Live reservations by order (state, holds), printed parcels waiting to be unpacked,
    and the latest releases with their reasons."""
    return reserved_view(uow, limit=max(1, min(limit, 5000)))


@router.post("/stock/reservations/{order_id}/release",
             responses={422: {"description": "why it cannot be released (Chinese)"}})
def api_release(uow: UowDep, actor: Actor, body: ReleaseIn,
                order_id: str = PathParam(pattern=r"^\d{1,32}A?$")) -> Any:
    """Give an order's reserved stock back by hand (手工释放), with a note; audited."""
    try:
        return release_by_hand(uow, order_id, note=body.note, actor=actor).as_dict()
    except ReservationError as exc:
        return JSONResponse({"message": str(exc)}, 422)


@router.post("/packs/unpack", responses={422: {"description": "why not (Chinese)"}})
def api_unpack(uow: UowDep, actor: Actor, body: UnpackIn) -> Any:
    """A printed parcel that will not ship was opened and its goods put back (拆包放回):
    what its orders no longer send is released now."""
    try:
        return unpack(uow, track_no=body.track_no, pack_id=body.pack_id, actor=actor,
                      note=body.note).as_dict()
    except ReservationError as exc:
        return JSONResponse({"message": str(exc)}, 422)
