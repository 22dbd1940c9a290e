"""Console: stock levels, moves and count/receipt files, bundles, one code's sync rule."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as FormFile

from fahuo.bootstrap import import_stock_file
from fahuo.entrypoints.web.api.stock import CODE
from fahuo.entrypoints.web.console.paging import kept, refused
from fahuo.entrypoints.web.console.render import render
from fahuo.entrypoints.web.deps import Actor, FahuoDep, UowDep
from fahuo.services import lists, read_models
from fahuo.services.lists import PER_PAGE, STOCK_LEVEL, ListFilterError, Paging
from fahuo.services.stock.bundles import parse_parts, parts_text, set_bundle
from fahuo.services.stock.lines import StockInputError, StockLine, read_quantity
from fahuo.services.stock.moves import MOVES_BY_HAND, move_stock
from fahuo.services.stock.rules import set_item
from fahuo.services.stock_sync import bundle_levels
from fahuo.services.uploads import UploadLimits, UploadRefused, check_declared_body, read_upload

router = APIRouter()


@router.get("/stock")
def stock_page(request: Request, uow: UowDep, q: str = "", level: str = "", code: str = "",
               page: int = 1, per: int = PER_PAGE, msg: str = "") -> HTMLResponse:
    search = q or code  # ``code``: the search's name before it found names too
    try:
        found = lists.stock(uow, search=search, level=level, paging=Paging.of_page(page, per))
    except ListFilterError as exc:
        return refused(request, exc)
    with uow(readonly=True) as u:
        bundles = bundle_levels(u)
    return render(request, "stock.html", {
        "p": found, "bundles": bundles, "q": search, "level": level, "msg": msg,
        "params": kept(per, q=search, level=level), "LEVELS": STOCK_LEVEL,
        "parts_text": parts_text, "moves": sorted(MOVES_BY_HAND)})


@router.post("/stock")
async def stock_post(request: Request, fh: FahuoDep, actor: Actor) -> Response:
    limits = UploadLimits.from_settings(fh.settings)
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
            name = upload.filename
            try:
                data = await read_upload(upload, name, limits)
            except UploadRefused as exc:
                raise StockInputError([str(exc)]) from exc
            moved = await run_in_threadpool(lambda: import_stock_file(
                fh.uow, name, data, move, actor=actor, limits=limits, reason=reason))
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


@router.post("/stock/bundles")
async def stock_bundle_post(request: Request, uow: UowDep, actor: Actor) -> Response:
    form = await request.form()
    try:
        parts = parse_parts([str(form.get("parts", ""))])
        row = await run_in_threadpool(set_bundle, uow, str(form.get("bundle_code", "")),
                                      parts, actor=actor)
        msg = f"组套 {row['bundle_code']} = {parts_text(row['parts'])}"
    except StockInputError as exc:
        msg = "未保存：" + "；".join(exc.problems[:20])
    return RedirectResponse("/stock?msg=" + quote(msg), 303)


@router.get("/stock/items/{sku_code}")
def stock_item_page(request: Request, uow: UowDep, sku_code: str = PathParam(pattern=CODE),
                    msg: str = "") -> Response:
    item, bundle = read_models.stock_code(uow, sku_code)
    row = bundle or item
    if row is None:
        return RedirectResponse("/stock?msg=" + quote(f"未知编码 {sku_code}"), 303)
    return render(request, "stock_item.html", {
        "code": sku_code, "item": item, "bundle": bundle, "rule": row["sync_rule"],
        "oversell": row["oversell"], "msg": msg, "parts_text": parts_text})


@router.post("/stock/items/{sku_code}")
async def stock_item_post(request: Request, uow: UowDep, actor: Actor,
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
            uow, sku_code, actor=actor, safety=safety, sync_rule=rule,
            oversell=form.get("oversell") == "1"))
        msg = "已保存，下一轮同步推送到店铺"
    except StockInputError as exc:
        msg = "未保存：\n" + "\n".join(exc.problems)
    return RedirectResponse(f"/stock/items/{quote(sku_code)}?msg=" + quote(msg), 303)
