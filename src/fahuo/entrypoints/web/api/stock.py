"""API: stock levels, moves and count/receipt files, item rules, bundles, sync to the shops."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictInt
from starlette.concurrency import run_in_threadpool

from fahuo.entrypoints.web.api.paging import REFUSED, listed
from fahuo.entrypoints.web.deps import Actor, FahuoDep, UowDep
from fahuo.services import lists
from fahuo.services.lists import MAX_OFFSET, Paging
from fahuo.bootstrap import import_stock_file
from fahuo.services.stock.bundles import set_bundle
from fahuo.services.stock.lines import StockInputError, StockLine
from fahuo.services.stock.moves import move_stock
from fahuo.services.stock.rules import set_item
from fahuo.services.stock_sync import bundle_levels, sync_stock
from fahuo.services.uploads import UploadLimits, UploadRefused, read_upload

router = APIRouter()
CODE = r"^[\w.\-/#+]{1,64}$"


class LineIn(BaseModel):
    sku_code: str = Field(pattern=CODE)
    quantity: StrictInt = Field(ge=-10**7, le=10**7)
    warehouse: str = Field("main", pattern=r"^[\w\-]{1,32}$")
    name: str = Field("", max_length=128)
    new: bool = Field(False, description="a new product: a receipt or count may create this "
                                         "code (otherwise an unknown code is refused)")


class MoveIn(BaseModel):
    move: Literal["receive", "count", "adjust", "damage", "return_good", "return_damaged"]
    lines: list[LineIn] = Field(min_length=1, max_length=10_000)
    reason: str = Field("", max_length=500)


class ItemIn(BaseModel):
    safety: StrictInt | None = Field(None, ge=0, le=10**7)
    sync_rule: dict[str, Any] | None = Field(
        None, description="the fields to change of percent (0–100), add, minimum, maximum; "
                          "the others stay; maximum null clears the maximum")
    name: str | None = Field(None, max_length=128)
    oversell: bool | None = Field(
        None, description="true: add/minimum may advertise stock that is not there "
                          "(oversell, the merchant's explicit choice); false: never more "
                          "than is sellable")


@router.get("/stock", responses=REFUSED)
def api_stock(uow: UowDep, code: str | None = Query(None, max_length=64,
                                                    description="part of the SKU code"),
              q: str | None = Query(None, max_length=64,
                                    description="part of the SKU code or of the name, any case"),
              level: Literal["low", "out"] | None = Query(
                  None, description="low: some available, at most the safety stock; "
                                    "out: nothing available"),
              limit: int = Query(200, ge=1, le=5000),
              offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> Any:
    """On hand, reserved, available, damaged and safety stock per SKU code, by code:
    ``total`` matching, ``items`` from ``offset``."""
    if code and not q and not level:  # by code alone, as before
        with uow(readonly=True) as u:
            total, rows = u.stock.levels(code_like=code, limit=limit, offset=offset)
        return {"total": total, "offset": offset, "limit": limit, "items": rows}
    return listed(lambda: lists.stock(uow, search=q or code, level=level,
                                      paging=Paging(limit=limit, offset=offset)))


@router.post("/stock/moves", responses={422: {"description": "every bad line, named"}})
def api_move(uow: UowDep, actor: Actor, body: MoveIn) -> Any:
    """Receive, count, adjust… many SKUs at once, all or nothing."""
    try:
        moved = move_stock(uow, body.move, [StockLine(**ln.model_dump()) for ln in body.lines],
                           actor=actor, reason=body.reason)
    except StockInputError as exc:
        return JSONResponse({"message": str(exc), "problems": exc.problems}, 422)
    return {"levels": moved.levels, "released": moved.released}


@router.post("/stock/import", responses={
    422: {"description": "every bad row, named (or rows over FAHUO_IMPORT_MAX_ROWS)"},
    413: {"description": "file larger than FAHUO_IMPORT_MAX_BYTES"}})
async def api_import(fh: FahuoDep, actor: Actor, file: UploadFile,
                     move: Literal["count", "receive"] = "count") -> Any:
    """A stock count (盘点) or inbound receipt file: .xlsx or .csv with 商家编码 and 数量."""
    limits = UploadLimits.from_settings(fh.settings)
    name = file.filename or ""
    try:
        data = await read_upload(file, name, limits)
    except UploadRefused as exc:
        return JSONResponse({"message": str(exc), "problems": [str(exc)]}, 413)
    try:  # parsing and the store: in the thread pool, never on the event loop
        moved = await run_in_threadpool(lambda: import_stock_file(
            fh.uow, name, data, move, actor=actor, limits=limits, reason=""))
    except StockInputError as exc:
        return JSONResponse({"message": str(exc), "problems": exc.problems}, 422)
    return {"lines": len(moved.levels), "released": moved.released}


@router.post("/stock/items/{sku_code}", responses={422: {"description": "what is wrong"}})
def api_item(uow: UowDep, actor: Actor, body: ItemIn,
             sku_code: str = PathParam(pattern=CODE)) -> Any:
    """Safety stock, the shop sync rule and oversell of one SKU code or bundle code; only
    the fields given change."""
    try:
        return set_item(uow, sku_code, actor=actor, **body.model_dump())
    except StockInputError as exc:
        return JSONResponse({"message": str(exc), "problems": exc.problems}, 422)


@router.get("/stock/bundles")
def api_bundles(uow: UowDep) -> list[dict[str, Any]]:
    """Bundles (组套): parts, how many the parts can make (``sellable``), what the shop is
    told (``pushed``), the bundle's rule and whether a push is pending."""
    with uow(readonly=True) as u:
        return bundle_levels(u)


@router.post("/stock/bundles/{bundle_code}", responses={422: {"description": "what is wrong"}})
def api_bundle(uow: UowDep, actor: Actor, parts: dict[str, StrictInt],
               bundle_code: str = PathParam(pattern=CODE)) -> Any:
    """A bundle (组套): part code → units per bundle. The shop is told how many bundles
    the parts can make."""
    try:
        return set_bundle(uow, bundle_code, parts, actor=actor)
    except StockInputError as exc:
        return JSONResponse({"message": str(exc), "problems": exc.problems}, 422)


@router.post("/stock/sync")
def api_sync(fh: FahuoDep, full: bool = False) -> dict[str, Any]:
    """Push sellable quantities to the shops now (changed SKUs, or all with full=true)."""
    return sync_stock(fh.uow, fh.platform_for, full=full).as_dict()
