"""API: after-sale cases, interceptions, returns received, and the third-party warehouse."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictInt

from fahuo.entrypoints.web.api.paging import REFUSED, listed
from fahuo.entrypoints.web.deps import Actor, FahuoDep, UowDep
from fahuo.bootstrap import intercept
from fahuo.services import lists
from fahuo.services.aftersales import AfterSaleError, receive_return
from fahuo.services.lists import MAX_OFFSET, Paging

router = APIRouter()


class ReceiveIn(BaseModel):
    good: dict[str, StrictInt] = Field(default_factory=dict, description="SKU code → units good")
    damaged: dict[str, StrictInt] = Field(default_factory=dict,
                                          description="SKU code → units damaged")


@router.get("/aftersales", responses=REFUSED)
def api_aftersales(uow: UowDep, status: Literal["open", "closed", "intercept", "all"] = "open",
                   type: int | None = Query(
                       None, ge=0, le=99, description="aftersale_type: 0 退货退款, 1 已发货仅退款, "
                                         "2 未发货仅退款, 3 换货, 6 价保, 7 补寄, 8 维修"),
                   stage: Literal["before_ship", "after_ship"] | None = None,
                   limit: int = Query(200, ge=1, le=2000),
                   offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> Any:
    """After-sale cases, newest first: ``total`` matching, ``items`` from ``offset``."""
    return listed(lambda: lists.aftersales(
        uow, status=status, aftersale_type=None if type is None else str(type), stage=stage,
        paging=Paging(limit=limit, offset=offset)))


@router.post("/aftersales/{aftersale_id}/intercept",
             responses={422: {"description": "why it cannot be intercepted"}})
def api_intercept(fh: FahuoDep, actor: Actor,
                  aftersale_id: str = PathParam(pattern=r"^\d{1,32}$"),
                  via: Literal["auto", "douyin", "kuaidi100"] = Query(
                      "auto", description="auto: Douyin, then Kuaidi100 (快递拦截) for the "
                                          "parcels Douyin will not take")) -> Any:
    """Ask the courier to bring the parcel(s) back; the answer says which path took it."""
    try:
        return intercept(fh.uow, fh.platform_for, aftersale_id, actor=actor, via=via,
                         http=fh.http)
    except AfterSaleError as exc:
        return JSONResponse({"message": str(exc)}, 422)


@router.post("/aftersales/{aftersale_id}/receive",
             responses={422: {"description": "what is wrong"}})
def api_receive(uow: UowDep, actor: Actor, body: ReceiveIn,
                aftersale_id: str = PathParam(pattern=r"^\d{1,32}$")) -> Any:
    """The return arrived: units good back on hand, damaged ones to damaged."""
    try:
        return receive_return(uow, aftersale_id, good=body.good, damaged=body.damaged,
                              actor=actor)
    except AfterSaleError as exc:
        return JSONResponse({"message": str(exc)}, 422)


@router.post("/wms/exchange", responses={409: {"description": "no warehouse folder set"}})
def api_wms(fh: FahuoDep) -> Any:
    """Confirm what the warehouse shipped, then hand it the new parcels (FAHUO_WMS_DIR)."""
    from fahuo.adapters.wms import FileWarehouse
    from fahuo.services.wms import export_outbound, import_confirmations
    if fh.settings.wms_dir is None:
        return JSONResponse({"message": "没有设置仓库文件夹：请设置 FAHUO_WMS_DIR"}, 409)
    port = FileWarehouse(fh.settings.wms_dir)
    back = import_confirmations(fh.uow, fh.platform_for, port,
                                concurrency=fh.settings.platform_concurrency)
    sent = export_outbound(fh.uow, port)
    return {"confirmed": back.confirmed, "refused": back.refused,
            "exported": sent.exported, "cancelled": sent.cancelled, "files": sent.files,
            "notes": sent.notes}
