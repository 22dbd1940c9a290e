"""Stock and after-sales: API and console pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Query, Request, UploadFile
from starlette.datastructures import UploadFile as FormFile
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field, StrictInt
from starlette.concurrency import run_in_threadpool

from fahuo.bootstrap import Fahuo
from fahuo.entrypoints.web.auth import current_user
from fahuo.services.aftersales import AfterSaleError, intercept, list_cases, receive_return
from fahuo.services.stock import (
    MOVES_BY_HAND, Moved, StockInputError, StockLine, import_stock_file, move_stock,
    parse_parts, parts_text, read_quantity, set_bundle, set_item,
)
from fahuo.services.uploads import (
    UploadLimits, UploadRefused, check_declared_body, read_upload,
)
from fahuo.services.stock_sync import bundle_levels, sync_stock

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


class ReceiveIn(BaseModel):
    good: dict[str, StrictInt] = Field(default_factory=dict, description="SKU code → units good")
    damaged: dict[str, StrictInt] = Field(default_factory=dict,
                                          description="SKU code → units damaged")


def _actor(request: Request, default: str) -> str:
    user = current_user(request)
    return user.username if user else default


def _import_file(fh: Fahuo, name: str, data: bytes, move: str, actor: str,
                 limits: UploadLimits, reason: str = "") -> Moved:
    """Read a stock file and apply it, all or nothing (blocking: run it off the loop)."""
    return import_stock_file(fh.uow, name, data, move, actor=actor, limits=limits,
                             reason=reason)


def register(web: FastAPI, api: APIRouter, c: Callable[[], Fahuo], templates: Jinja2Templates,
             enqueue: Callable[..., bool]) -> None:

    # ---- API --------------------------------------------------------------------------
    @api.get("/stock")
    def api_stock(code: str | None = Query(None, max_length=64),
                  limit: int = Query(200, ge=1, le=5000),
                  offset: int = Query(0, ge=0, le=10_000_000)) -> dict[str, Any]:
        """On hand, reserved, available, damaged and safety stock per SKU code."""
        with c().uow(readonly=True) as u:
            total, rows = u.stock.levels(code_like=code, limit=limit, offset=offset)
        return {"total": total, "items": rows}

    @api.post("/stock/moves", responses={422: {"description": "every bad line, named"}})
    def api_move(request: Request, body: MoveIn) -> Any:
        """Receive, count, adjust… many SKUs at once, all or nothing."""
        fh = c()
        try:
            moved = move_stock(fh.uow, body.move, [StockLine(**ln.model_dump())
                                                   for ln in body.lines],
                               actor=_actor(request, "api"), reason=body.reason)
        except StockInputError as exc:
            return JSONResponse({"message": str(exc), "problems": exc.problems}, 422)
        return {"levels": moved.levels, "released": moved.released}

    @api.post("/stock/import", responses={
        422: {"description": "every bad row, named (or rows over FAHUO_IMPORT_MAX_ROWS)"},
        413: {"description": "file larger than FAHUO_IMPORT_MAX_BYTES"}})
    async def api_import(request: Request, file: UploadFile,
                         move: Literal["count", "receive"] = "count") -> Any:
        """A stock count (盘点) or inbound receipt file: .xlsx or .csv with 商家编码 and 数量."""
        fh = c()
        limits = UploadLimits.from_settings(fh.settings)
        name = file.filename or ""
        actor = _actor(request, "api")
        try:
            data = await read_upload(file, name, limits)
        except UploadRefused as exc:
            return JSONResponse({"message": str(exc), "problems": [str(exc)]}, 413)
        try:  # parsing and the store: in the thread pool, never on the event loop
            moved = await run_in_threadpool(_import_file, fh, name, data, move, actor, limits)
        except StockInputError as exc:
            return JSONResponse({"message": str(exc), "problems": exc.problems}, 422)
        return {"lines": len(moved.levels), "released": moved.released}

    @api.post("/stock/items/{sku_code}", responses={422: {"description": "what is wrong"}})
    def api_item(request: Request, body: ItemIn,
                 sku_code: str = PathParam(pattern=CODE)) -> Any:
        """Safety stock, the shop sync rule and oversell of one SKU code or bundle code; only
        the fields given change."""
        try:
            row = set_item(c().uow, sku_code, actor=_actor(request, "api"), **body.model_dump())
        except StockInputError as exc:
            return JSONResponse({"message": str(exc), "problems": exc.problems}, 422)
        return row

    @api.get("/stock/bundles")
    def api_bundles() -> list[dict[str, Any]]:
        """Bundles (组套): parts, how many the parts can make (``sellable``), what the shop is
        told (``pushed``), the bundle's rule and whether a push is pending."""
        with c().uow(readonly=True) as u:
            return bundle_levels(u)

    @api.post("/stock/bundles/{bundle_code}", responses={422: {"description": "what is wrong"}})
    def api_bundle(request: Request, parts: dict[str, StrictInt],
                   bundle_code: str = PathParam(pattern=CODE)) -> Any:
        """A bundle (组套): part code → units per bundle. The shop is told how many bundles
        the parts can make."""
        try:
            return set_bundle(c().uow, bundle_code, parts, actor=_actor(request, "api"))
        except StockInputError as exc:
            return JSONResponse({"message": str(exc), "problems": exc.problems}, 422)

    @api.post("/stock/sync")
    def api_sync(full: bool = False) -> dict[str, Any]:
        """Push sellable quantities to the shops now (changed SKUs, or all with full=true)."""
        fh = c()
        return sync_stock(fh.uow, fh.platform_for, full=full).as_dict()

    @api.get("/aftersales")
    def api_aftersales(status: Literal["open", "closed", "intercept", "all"] = "open",
                       stage: Literal["before_ship", "after_ship"] | None = None,
                       limit: int = Query(200, ge=1, le=2000)) -> list[dict[str, Any]]:
        return list_cases(c().uow, status=status, stage=stage, limit=limit)

    @api.post("/aftersales/{aftersale_id}/intercept",
              responses={422: {"description": "why it cannot be intercepted"}})
    def api_intercept(request: Request,
                      aftersale_id: str = PathParam(pattern=r"^\d{1,32}$"),
                      via: Literal["auto", "douyin", "kuaidi100"] = Query(
                          "auto", description="auto: Douyin, then Kuaidi100 (快递拦截) for the "
                                              "parcels Douyin will not take")) -> Any:
        """Ask the courier to bring the parcel(s) back; the answer says which path took it."""
        fh = c()
        try:
            return intercept(fh.uow, fh.platform_for, aftersale_id,
                             actor=_actor(request, "api"), via=via, http=fh.http)
        except AfterSaleError as exc:
            return JSONResponse({"message": str(exc)}, 422)

    @api.post("/aftersales/{aftersale_id}/receive",
              responses={422: {"description": "what is wrong"}})
    def api_receive(request: Request, body: ReceiveIn,
                    aftersale_id: str = PathParam(pattern=r"^\d{1,32}$")) -> Any:
        """The return arrived: units good back on hand, damaged ones to damaged."""
        fh = c()
        try:
            out = receive_return(fh.uow, aftersale_id, good=body.good, damaged=body.damaged,
                                 actor=_actor(request, "api"))
        except AfterSaleError as exc:
            return JSONResponse({"message": str(exc)}, 422)
        return out

    @api.post("/wms/exchange", responses={409: {"description": "no warehouse folder set"}})
    def api_wms() -> Any:
        """Confirm what the warehouse shipped, then hand it the new parcels (FAHUO_WMS_DIR)."""
        from fahuo.adapters.wms import FileWarehouse
        from fahuo.services.wms import export_outbound, import_confirmations
        fh = c()
        if fh.settings.wms_dir is None:
            return JSONResponse({"message": "no warehouse: set FAHUO_WMS_DIR"}, 409)
        port = FileWarehouse(fh.settings.wms_dir)
        back = import_confirmations(fh.uow, fh.platform_for, port,
                                    concurrency=fh.settings.platform_concurrency)
        sent = export_outbound(fh.uow, port)
        return {"confirmed": back.confirmed, "refused": back.refused,
                "exported": sent.exported, "cancelled": sent.cancelled, "files": sent.files,
                "notes": sent.notes}

    # ---- console ----------------------------------------------------------------------
    @web.get("/stock", response_class=HTMLResponse, include_in_schema=False)
    def stock_page(request: Request, code: str = "", msg: str = "") -> HTMLResponse:
        with c().uow(readonly=True) as u:
            total, rows = u.stock.levels(code_like=code or None, limit=500)
            bundles = bundle_levels(u)
        return templates.TemplateResponse(request, "stock.html", {
            "rows": rows, "total": total, "code": code, "msg": msg, "bundles": bundles,
            "parts_text": parts_text, "moves": sorted(MOVES_BY_HAND)})

    @web.post("/stock", include_in_schema=False)
    async def stock_post(request: Request) -> Response:
        fh = c()
        limits = UploadLimits.from_settings(fh.settings)
        actor = _actor(request, "console")
        try:
            try:  # a body that cannot hold an allowed file is not even parsed
                check_declared_body("上传的文件", request.headers.get("content-length"), limits)
            except UploadRefused as exc:
                raise StockInputError([str(exc)]) from exc
            form = await request.form()
            move = str(form.get("move", ""))
            reason = str(form.get("reason", ""))
            upload = form.get("file")
            if isinstance(upload, FormFile) and upload.filename:
                try:
                    data = await read_upload(upload, upload.filename, limits)
                except UploadRefused as exc:
                    raise StockInputError([str(exc)]) from exc
                moved = await run_in_threadpool(_import_file, fh, upload.filename, data, move,
                                                actor, limits, reason)
            else:
                try:
                    qty = read_quantity(str(form.get("quantity", "")))
                except ValueError as exc:
                    raise StockInputError([str(exc)]) from exc
                line = StockLine(str(form.get("sku_code", "")).strip(), qty,
                                 new=form.get("new") == "1")
                moved = await run_in_threadpool(
                    lambda: move_stock(fh.uow, move, [line], actor=actor, reason=reason,
                                       ref_type="adjust", ref_id=""))
            msg = f"已处理 {len(moved.levels)} 行" + (f"；{len(moved.released)} 单库存到位已放行"
                                                    if moved.released else "")
            if len(moved.levels) == 1:
                (lv,) = moved.levels
                msg += (f"：{lv['sku_code']} 实物 {lv['on_hand']}，占用 {lv['reserved']}，"
                        f"可用 {lv['available']}")
        except StockInputError as exc:
            more = len(exc.problems) - 20
            msg = "未处理（全部未改动）：\n" + "\n".join(exc.problems[:20]) + (
                f"\n另有 {more} 个问题" if more > 0 else "")  # one problem a line
        return RedirectResponse("/stock?msg=" + quote(msg), 303)

    @web.post("/stock/bundles", include_in_schema=False)
    async def stock_bundle_post(request: Request) -> Response:
        form = await request.form()
        try:
            parts = parse_parts([str(form.get("parts", ""))])
            row = await run_in_threadpool(set_bundle, c().uow, str(form.get("bundle_code", "")),
                                          parts, actor=_actor(request, "console"))
            msg = f"组套 {row['bundle_code']} = {parts_text(row['parts'])}"
        except StockInputError as exc:
            msg = "未保存：" + "；".join(exc.problems[:20])
        return RedirectResponse("/stock?msg=" + quote(msg), 303)

    @web.get("/stock/items/{sku_code}", response_class=HTMLResponse, include_in_schema=False)
    def stock_item_page(request: Request, sku_code: str = PathParam(pattern=CODE),
                        msg: str = "") -> Response:
        with c().uow(readonly=True) as u:
            bundle = next((b for b in bundle_levels(u) if b["bundle_code"] == sku_code), None)
            item = None if bundle else next(
                (r for r in u.stock.levels(code_like=sku_code)[1]
                 if r["sku_code"] == sku_code), None)
        row = bundle or item
        if row is None:
            return RedirectResponse("/stock?msg=" + quote(f"未知编码 {sku_code}"), 303)
        return templates.TemplateResponse(request, "stock_item.html", {
            "code": sku_code, "item": item, "bundle": bundle, "rule": row["sync_rule"],
            "oversell": row["oversell"], "msg": msg, "parts_text": parts_text})

    @web.post("/stock/items/{sku_code}", include_in_schema=False)
    async def stock_item_post(request: Request,
                              sku_code: str = PathParam(pattern=CODE)) -> Response:
        form = await request.form()
        problems: list[str] = []

        def whole(key: str, label: str, default: int | None) -> int | None:
            text = str(form.get(key, "")).strip()
            if not text:
                return default
            try:
                return read_quantity(text)
            except ValueError as exc:
                problems.append(f"{label}：{exc}")
                return default
        rule = {"percent": whole("percent", "同步比例", 100), "add": whole("add", "加量", 0),
                "minimum": whole("minimum", "最低", 0),
                "maximum": whole("maximum", "最高", None)}  # empty: no maximum
        safety = whole("safety", "安全库存", None) if "safety" in form else None
        try:
            if problems:
                raise StockInputError(problems)
            await run_in_threadpool(lambda: set_item(
                c().uow, sku_code, actor=_actor(request, "console"), safety=safety,
                sync_rule=rule, oversell=form.get("oversell") == "1"))
            msg = "已保存，下一轮同步推送到店铺"
        except StockInputError as exc:
            msg = "未保存：\n" + "\n".join(exc.problems)
        return RedirectResponse(f"/stock/items/{quote(sku_code)}?msg=" + quote(msg), 303)

    @web.get("/aftersales", response_class=HTMLResponse, include_in_schema=False)
    def aftersales_page(request: Request, status: str = "open", msg: str = "") -> HTMLResponse:
        status = status if status in ("open", "closed", "intercept", "all") else "open"
        return templates.TemplateResponse(request, "aftersales.html", {
            "rows": list_cases(c().uow, status=status), "status": status, "msg": msg})

    @web.post("/aftersales/{aftersale_id}", include_in_schema=False)
    async def aftersales_post(request: Request, aftersale_id: str) -> Response:
        fh = c()
        form = await request.form()
        try:
            if form.get("action") == "intercept":
                r = intercept(fh.uow, fh.platform_for, aftersale_id,
                              actor=_actor(request, "console"),
                              via=str(form.get("via") or "auto"), http=fh.http)
                msg = r["detail"]
            else:
                code = str(form.get("sku_code", "")).strip()
                good, bad = str(form.get("good", "0")), str(form.get("damaged", "0"))
                if not (good.isdigit() and bad.isdigit()):
                    raise AfterSaleError("数量必须是整数")
                receive_return(fh.uow, aftersale_id, good={code: int(good)},
                               damaged={code: int(bad)}, actor=_actor(request, "console"))
                msg = "退货已入库"
        except AfterSaleError as exc:
            msg = f"失败：{exc}"
        return RedirectResponse("/aftersales?msg=" + quote(msg), 303)
