"""The fahuo web app: REST API (OpenAPI at /docs), push webhooks, and the console."""

from __future__ import annotations

import contextlib
import json
import time
from urllib.parse import quote
from pathlib import Path
from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Query, Request, UploadFile
from starlette.datastructures import UploadFile as FormFile
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest
from pydantic import BaseModel, Field, StrictBool

from fahuo.domain.clock import shop_time
from fahuo.adapters.platforms.doudian.errors import DoudianError
from fahuo.bootstrap import Fahuo, get_app
from fahuo.domain.holds import HoldReason
from fahuo.domain.orders import PLATFORM_STATUS_NAMES, OrderState
from fahuo.domain.pii import mask_phone
from fahuo.entrypoints.web.auth import (
    CsrfRefused, Guard, SignInRequired, check_form_token, csrf_refused_response, current_user,
    may_see_receiver,
)
from fahuo.services.holds import hold_orders, release_orders
from fahuo.services.manual_ship import (
    ImportFileError, apply_import, preview_import, ship_selected,
)
from fahuo.services.push import PushRejected, accept_push
from fahuo.services.print_component import (
    ComponentTaskError, component_tasks, record_component_result,
)
from fahuo.services.print_data import print_data
from fahuo.services.printing import (
    PrintError, hand_out, print_documents, print_labels, select_packs,
)
from fahuo.services.scan import scan
from fahuo.services.settings import (
    SettingsError, balances, refresh_from_platform, update_settings,
)
from fahuo.services.shops import (
    NewShop, OAuthRefused, ShopInputError, UnknownShop, add_shop, authorize_url, connect_shop,
    issue_oauth_state, platform_reference, use_oauth_state,
)
from fahuo.services.uploads import (
    UploadLimits, UploadRefused, check_declared_body, read_upload,
)

log = structlog.get_logger(__name__)
HERE = Path(__file__).parent

MAX_ID = 2**31 - 1
HOLD_LABELS = {r.value: r.label for r in HoldReason}
PUSHES = Counter("fahuo_push_messages_total", "push messages received", ["result"])

STATE_LABELS = {
    "unpaid": "待支付", "synced": "待审核", "held": "已挂起", "approved": "已审核",
    "waybill_taken": "已取号", "printed": "已打印", "partly_shipped": "部分发货",
    "shipped": "已发货", "in_transit": "运输中", "delivered": "已签收", "cancelled": "已取消",
    "refunded": "已退款", "intercepted": "已拦截", "returned": "已退回",
}


def _fmt_time(ts: int | None) -> str:
    return shop_time(ts)


def _fen(v: int | None) -> str:
    return f"¥{(v or 0) / 100:.2f}"


def _countdown(ts: int | None) -> str:
    if not ts:
        return "—"
    left = ts - int(time.time())
    sign = "" if left >= 0 else "超时 "
    left = abs(left)
    return f"{sign}{left // 3600}小时{(left % 3600) // 60}分"


templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters.update(t=_fmt_time, fen=_fen, countdown=_countdown, fromjson=json.loads)
templates.env.globals.update(STATE_LABELS=STATE_LABELS, PLATFORM_STATUS=PLATFORM_STATUS_NAMES)


class ShopIn(BaseModel):
    shop_id: str = Field(pattern=r"^\d{1,20}$", description="numeric Douyin shop id (店铺ID)")
    app_key: str = Field(pattern=r"^\d{19}$", description="19-digit app key")
    app_secret: str = Field(min_length=1, pattern=r"\S")
    gateway_url: str = Field("https://openapi-fxg.jinritemai.com", pattern=r"^https?://\S+$")
    shop_name: str = Field("", max_length=128)
    sign_method: Literal["hmac-sha256", "md5"] = "hmac-sha256"
    auth_type: Literal["self", "oauth"] = "self"
    rate_qps: float | None = Field(None, ge=0.5, le=10000,
                                   description="API calls per second for this app (0.5–10000)")


class ShopOut(BaseModel):
    id: int
    shop_id: str
    shop_name: str
    app_key: str
    gateway_url: str
    enabled: bool
    cursor_time: int | None = None
    last_run_at: int | None = None
    last_error: str | None = None


class SettingsProblems(BaseModel):
    message: str = "settings not saved"
    problems: dict[str, str] = Field(description="setting → what is wrong with it")


class OrdersAct(BaseModel):
    order_ids: list[Annotated[str, Field(pattern=r"^\d{1,32}$")]] = Field(min_length=1,
                                                                            max_length=5000)
    note: str = Field("", max_length=500)


class OrdersHold(OrdersAct):
    note: str = Field(min_length=1, max_length=500, pattern=r"\S",
                      description="why: shown to whoever releases it")


class PackIds(BaseModel):
    pack_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=2000)


class PrintLabelsIn(BaseModel):
    pack_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(
        None, max_length=5000, description="default: every pack waiting to print")
    format: Literal["pdf", "zpl"] = "pdf"
    size: Literal["76x130", "100x150", "100x180", "4x6"] = "76x130"
    order_by: Literal["deadline", "route"] = "deadline"
    dpi: Literal[203, 300] = 203
    printer: str = Field("", max_length=128)
    reason: str = Field("", max_length=500)


class PrintDocsIn(BaseModel):
    pack_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(None, max_length=5000)
    format: Literal["pdf", "xlsx"] = "pdf"
    printer: str = Field("", max_length=128)
    reason: str = Field("", max_length=500)


class ComponentTasksIn(BaseModel):
    pack_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(None, max_length=2000)
    printer: str = Field("", max_length=128)
    per_task: int = Field(10, ge=1, le=100)


class AddressIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    phone: str = Field(pattern=r"^[0-9+\- ]{5,20}$")
    province: str = Field(min_length=2, max_length=32)
    city: str = Field(min_length=1, max_length=32)
    district: str = Field("", max_length=32)
    street: str = Field("", max_length=64)
    detail: str = Field(min_length=1, max_length=200)
    is_default_send: StrictBool = False
    is_default_return: StrictBool = False


class ScanIn(BaseModel):
    code: str = Field(min_length=1, max_length=64, description="the scanned tracking number")


class ShopProblems(BaseModel):
    message: str = "shop not added"
    problems: dict[str, str] = Field(description="field name → what is wrong with it")


class OrderSummary(BaseModel):
    order_id: str
    shop_ref: int
    state: str
    order_status: int
    create_time: int
    pay_time: int | None
    update_time: int
    exp_ship_time: int | None
    pay_amount: int
    buyer_words: str
    seller_words: str
    receiver_name_mask: str
    receiver_phone_mask: str
    province: str
    city: str
    district: str


class OrderList(BaseModel):
    total: int
    items: list[OrderSummary]


def _shops_with_cursors(app: Fahuo) -> list[ShopOut]:
    with app.uow() as uow:
        shops = uow.shops.list()
        cursors = {c["shop_ref"]: c for c in uow.cursors.get_all() if c["kind"] == "orders"}
    out = []
    for s in shops:
        c = cursors.get(s.id, {})
        out.append(ShopOut(id=s.id, shop_id=s.shop_id, shop_name=s.shop_name, app_key=s.app_key,
                           gateway_url=s.gateway_url, enabled=s.enabled,
                           cursor_time=c.get("cursor_time"), last_run_at=c.get("last_run_at"),
                           last_error=c.get("last_error")))
    return out


def _enqueue(task_name: str, *args: Any) -> bool:
    """Hand work to the worker; a dead queue must never lose an accepted push."""
    try:
        from fahuo.entrypoints import worker
        getattr(worker, task_name)(*args)
        return True
    except Exception as exc:  # noqa: BLE001 - the periodic poll retries pending messages
        log.warning("enqueue_failed", task=task_name, error=str(exc))
        return False


def _store_push(fh: Fahuo, raw: bytes, app_id: str | None, sign: str | None) -> Any:
    with fh.uow() as uow:
        return accept_push(uow, raw, app_id, sign, uow.shops.app_secrets())


def create_app(app: Fahuo | None = None, *, embedded_worker: bool | None = None) -> FastAPI:
    container = app

    def c() -> Fahuo:
        return container or get_app()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI):  # noqa: ANN202
        consumer = None
        run_worker = (c().settings.embedded_worker if embedded_worker is None
                      else embedded_worker)
        if run_worker:
            from fahuo.entrypoints.worker import start_embedded
            consumer = start_embedded()
        try:
            yield
        finally:
            if consumer is not None:
                consumer.stop(graceful=True)

    web = FastAPI(title="fahuo 发货", version="0.1.0", lifespan=lifespan,
                  description="Shipping automation for Douyin shops: API, push webhooks, console.",
                  dependencies=[Depends(check_form_token)])
    web.add_exception_handler(CsrfRefused, csrf_refused_response)
    static = HERE / "static"
    static.mkdir(exist_ok=True)
    web.mount("/static", StaticFiles(directory=str(static)), name="static")
    api = APIRouter(prefix="/api", tags=["api"],
                    responses={400: {"description": "the request body is not valid JSON"}})

    # ---- webhooks -------------------------------------------------------------------------
    @web.post("/webhooks/doudian", tags=["webhooks"])
    async def doudian_push(request: Request) -> JSONResponse:
        fh = c()
        limit = fh.settings.webhook_max_body
        declared = request.headers.get("content-length")
        try:
            if declared and declared.isdigit() and int(declared) > limit:
                raise PushRejected(413, f"push body of {declared} bytes exceeds {limit}")
            chunks, size = [], 0
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise PushRejected(413, f"push body exceeds {limit} bytes")
                chunks.append(chunk)
            raw = b"".join(chunks)
            # The store is blocking work: in the thread pool, so one slow insert never
            # stalls every other request on the event loop.
            accepted = await run_in_threadpool(_store_push, fh, raw,
                                               request.headers.get("app-id"),
                                               request.headers.get("event-sign"))
        except PushRejected as exc:
            PUSHES.labels("rejected").inc()
            log.warning("push_rejected", status=exc.status, reason=exc.reason,
                        app_id=request.headers.get("app-id"),
                        client=request.client.host if request.client else None)
            return JSONResponse({"code": exc.status, "msg": exc.reason}, status_code=exc.status)
        PUSHES.labels("stored").inc(accepted.stored)
        PUSHES.labels("duplicate").inc(accepted.duplicates)
        if accepted.stored:
            _enqueue("process_inbox_task")
        return JSONResponse({"code": 0, "msg": "success"})

    # ---- API ------------------------------------------------------------------------------
    @api.get("/orders", response_model=OrderList)
    def list_orders(shop: int | None = Query(None, ge=1, le=MAX_ID),
                    state: OrderState | None = None,
                    order_status: int | None = Query(None, ge=0, le=1000),
                    sort: str = Query("deadline", pattern="^(deadline|updated|created)$"),
                    limit: int = Query(50, ge=1, le=500),
                    offset: int = Query(0, ge=0, le=10_000_000)) -> OrderList:
        with c().uow() as uow:
            total, rows = uow.orders.search(shop_ref=shop, state=state.value if state else None,
                                            order_status=order_status, limit=limit,
                                            offset=offset, sort=sort)
        return OrderList(total=total, items=[OrderSummary(**r) for r in rows])

    @api.get("/orders/{order_id}", responses={404: {"description": "no such order"}})
    def get_order(order_id: str = PathParam(pattern=r"^\d{1,32}$",
                                            description="numeric Douyin order id")
                  ) -> dict[str, Any]:
        with c().uow() as uow:
            order = uow.orders.get(order_id)
            if order is not None:
                order["holds"] = uow.pipeline.open_holds([order_id]).get(order_id, [])
                order["packs"] = uow.pipeline.packs_of_orders([order_id])
        if order is None:
            raise HTTPException(404, f"order {order_id} is not in fahuo")
        for k in ("raw", "receiver_plain_enc", "receiver_name_cipher", "receiver_phone_cipher",
                  "receiver_detail_cipher"):
            order.pop(k, None)
        return order

    @api.get("/orders-summary")
    def orders_summary(shop: int | None = Query(None, ge=1, le=MAX_ID)) -> dict[str, int]:
        with c().uow() as uow:
            return uow.orders.count_by_state(shop)

    @api.get("/shops", response_model=list[ShopOut])
    def list_shops() -> list[ShopOut]:
        return _shops_with_cursors(c())

    @api.post("/shops", status_code=201, response_model=ShopOut,
              responses={409: {"model": ShopProblems, "description": "already connected"},
                         400: {"description": "body is not JSON"}})
    def create_shop(request: Request, body: ShopIn) -> Any:
        fh = c()
        user = current_user(request)
        try:
            with fh.uow() as uow:
                ref = add_shop(uow, NewShop(**body.model_dump()),
                               actor=user.username if user else "api",
                               by_admin=user is None or user.is_admin)
        except ShopInputError as exc:
            return JSONResponse(ShopProblems(problems=exc.problems).model_dump(), 409)
        return next(s for s in _shops_with_cursors(fh) if s.id == ref)

    @api.post("/shops/{shop_ref}/sync", status_code=202,
              responses={404: {"description": "no such shop"}})
    def trigger_sync(shop_ref: int = PathParam(ge=1, le=MAX_ID)) -> dict[str, Any]:
        with c().uow() as uow:
            if uow.shops.get(shop_ref) is None:
                raise HTTPException(404, f"no shop {shop_ref}")
        return {"queued": _enqueue("sync_shop_task", shop_ref)}

    @api.get("/shops/{shop_ref}/platform/{what}",
             responses={404: {"description": "no such shop"},
                        502: {"description": "the platform refused or failed"}})
    def shop_platform_list(what: Literal["couriers", "addresses"],
                           shop_ref: int = PathParam(ge=1, le=MAX_ID)) -> list[dict[str, Any]]:
        """Live from the open platform: logistics companies or the shop's address book."""
        fh = c()
        try:
            return platform_reference(fh.uow, fh.platform_for, shop_ref, what)
        except UnknownShop as exc:
            raise HTTPException(404, str(exc)) from exc
        except DoudianError as exc:
            raise HTTPException(502, str(exc)) from exc

    @api.get("/push-inbox")
    def inbox(limit: int = Query(50, ge=1, le=500)) -> dict[str, Any]:
        with c().uow() as uow:
            return {"counts": uow.inbox.counts(), "recent": uow.inbox.recent(limit)}

    # ---- pipeline ---------------------------------------------------------------------
    @api.get("/shops/{shop_ref}/settings", responses={404: {"description": "no such shop"}})
    def get_settings_(shop_ref: int = PathParam(ge=1, le=MAX_ID)) -> dict[str, Any]:
        with c().uow() as uow:
            if uow.shops.get(shop_ref) is None:
                raise HTTPException(404, f"no shop {shop_ref}")
            cfg = uow.settings.get(shop_ref)
        cfg["sender_phone"] = mask_phone(cfg["sender_phone"]) if cfg["sender_phone"] else ""
        return cfg

    @api.put("/shops/{shop_ref}/settings",
             responses={404: {"description": "no such shop"},
                        400: {"description": "nothing saved: `problems` names each wrong "
                                             "setting (or the body is not JSON)"}})
    def put_settings(changes: dict[str, Any],
                     shop_ref: int = PathParam(ge=1, le=MAX_ID)) -> Any:
        fh = c()
        with fh.uow() as uow:
            if uow.shops.get(shop_ref) is None:
                raise HTTPException(404, f"no shop {shop_ref}")
        try:
            cfg = update_settings(fh.uow, shop_ref, changes, actor="api")
        except SettingsError as exc:
            return JSONResponse(SettingsProblems(problems=exc.problems).model_dump(), 400)
        cfg["sender_phone"] = mask_phone(cfg["sender_phone"]) if cfg["sender_phone"] else ""
        return cfg

    @api.post("/shops/{shop_ref}/refresh", responses={404: {"description": "no such shop"},
                                                      502: {"description": "platform failed"}})
    def refresh_shop(shop_ref: int = PathParam(ge=1, le=MAX_ID)) -> dict[str, int]:
        fh = c()
        with fh.uow() as uow:
            if uow.shops.get(shop_ref) is None:
                raise HTTPException(404, f"no shop {shop_ref}")
        try:
            return refresh_from_platform(fh.uow, fh.platform_for, shop_ref)
        except DoudianError as exc:
            raise HTTPException(502, str(exc)) from exc

    @api.get("/shops/{shop_ref}/addresses", responses={404: {"description": "no such shop"}})
    def list_addresses(shop_ref: int = PathParam(ge=1, le=MAX_ID)) -> list[dict[str, Any]]:
        with c().uow() as uow:
            if uow.shops.get(shop_ref) is None:
                raise HTTPException(404, f"no shop {shop_ref}")
            rows = uow.settings.addresses(shop_ref)
        for r in rows:
            r["phone"] = mask_phone(r["phone"]) if r["phone"] else ""
        return rows

    @api.put("/shops/{shop_ref}/addresses/{address_id}",
             responses={404: {"description": "no such shop"}})
    def put_address(body: AddressIn, shop_ref: int = PathParam(ge=1, le=MAX_ID),
                    address_id: str = PathParam(pattern=r"^[A-Za-z0-9_-]{1,32}$")
                    ) -> dict[str, str]:
        """Add or edit a ship-from address by hand (platform refreshes keep it)."""
        with c().uow() as uow:
            if uow.shops.get(shop_ref) is None:
                raise HTTPException(404, f"no shop {shop_ref}")
            uow.settings.save_manual_address(shop_ref, {"address_id": address_id,
                                                        **body.model_dump()})
            uow.audit.add(actor="api", action="address.save", subject_type="shop",
                          subject_id=str(shop_ref), detail={"address_id": address_id})
        return {"address_id": address_id}

    @api.get("/waybills/balance")
    def waybill_balance(shop: int | None = Query(None, ge=1, le=MAX_ID)) -> list[dict[str, Any]]:
        return balances(c().uow, shop)

    @api.get("/holds")
    def list_holds(shop: int | None = Query(None, ge=1, le=MAX_ID),
                   limit: int = Query(200, ge=1, le=1000)) -> list[dict[str, Any]]:
        with c().uow() as uow:
            return uow.pipeline.held_orders(shop, limit)

    @api.post("/orders/hold")
    def api_hold(body: OrdersHold) -> dict[str, Any]:
        res = hold_orders(c().uow, body.order_ids, body.note, actor="api")
        return {"changed": res.changed, "refused": res.refused}

    @api.post("/orders/release")
    def api_release(body: OrdersAct) -> dict[str, Any]:
        res = release_orders(c().uow, body.order_ids, actor="api", note=body.note)
        return {"changed": res.changed, "refused": res.refused}

    @api.post("/pipeline/run", responses={409: {"description": "另一轮发货正在进行"}})
    def api_pipeline_run() -> dict[str, Any]:
        from fahuo.services.ports import LeaseHeld
        fh = c()
        try:
            return fh.pipeline().run().summary()
        except LeaseHeld:  # one pass at a time across the install; this one did not run
            raise HTTPException(409, "另一轮发货正在进行，请稍后") from None

    @api.get("/packs")
    def list_packs(state: str = Query("waybill_taken", pattern="^[a-z_]{1,20}$"),
                   limit: int = Query(100, ge=1, le=1000)) -> list[dict[str, Any]]:
        with c().uow() as uow:
            return uow.pipeline.packs_in_state([state], limit=limit)

    @api.post("/ship")
    def api_ship(body: OrdersAct) -> dict[str, Any]:
        fh = c()
        return ship_selected(fh.uow, fh.platform_for, body.order_ids, actor="api")

    @api.post("/ship/import", responses={
        400: {"description": "file cannot be read (format, rows over FAHUO_IMPORT_MAX_ROWS, "
                             "over FAHUO_IMPORT_TIME_BUDGET_S)"},
        413: {"description": "file larger than FAHUO_IMPORT_MAX_BYTES"}})
    async def api_ship_import(file: UploadFile, dry_run: bool = Query(True)) -> dict[str, Any]:
        fh = c()
        limits = UploadLimits.from_settings(fh.settings)
        name = file.filename or "upload.csv"
        try:
            data = await read_upload(file, name, limits)
        except UploadRefused as exc:
            raise HTTPException(413, str(exc)) from exc
        try:  # parsing and the store: in the thread pool, never on the event loop
            if dry_run:
                prev = await run_in_threadpool(preview_import, fh.uow, name, data, limits)
                return {"status": "preview", "counts": prev.counts(),
                        "items": [r.__dict__ for r in prev.rows]}
            return await run_in_threadpool(apply_import, fh.uow, fh.platform_for, name, data,
                                           actor="api", limits=limits)
        except ImportFileError as exc:
            raise HTTPException(400, str(exc)) from exc

    @api.post("/packs/print-data")
    def api_print_data(body: PackIds) -> dict[str, Any]:
        """Encrypted print data and signatures for the platform print component."""
        fh = c()
        batch = print_data(fh.uow, fh.platform_for, body.pack_ids)
        return {"documents": batch.documents,
                "problems": {str(k): v for k, v in batch.problems.items()}}

    @api.post("/print/labels", responses={
        200: {"content": {"application/pdf": {}, "text/plain": {}},
              "description": "the label file; X-Fahuo-Batch names its print batch"},
        409: {"description": "cannot print (no number, reprint without a reason, …)"}})
    def api_print_labels(request: Request, body: PrintLabelsIn) -> Response:
        fh = c()
        user = current_user(request)
        try:
            r = print_labels(fh.uow, body.pack_ids, fmt=body.format, size=body.size,
                             order_by=body.order_by, actor=user.username if user else "api",
                             printer=body.printer, reason=body.reason, dpi=body.dpi,
                             out_dir=fh.settings.data_dir / "prints",
                             may_see_receiver=may_see_receiver(request),
                             plain_keep_s=fh.settings.plain_label_keep_s)
        except PrintError as exc:
            return JSONResponse({"message": str(exc)}, 409)
        return Response(hand_out(r),
                        media_type="application/pdf" if body.format == "pdf" else "text/plain",
                        headers={"X-Fahuo-Batch": str(r.batch_id),
                                 "X-Fahuo-Already-Printed": str(r.already_printed).lower(),
                                 "X-Fahuo-Reprint": str(r.reprint).lower(),
                                 "Content-Disposition": f'attachment; filename="{r.path.name}"'})

    @api.post("/print/{kind}", responses={
        200: {"content": {"application/pdf": {}, "application/octet-stream": {}},
              "description": "the document; X-Fahuo-Batch names its print batch"},
        409: {"description": "cannot print (reprint without a reason, …)"}})
    def api_print_documents(body: PrintDocsIn,
                            kind: Literal["picklist", "slips"]) -> Response:
        fh = c()
        try:
            r = print_documents(fh.uow, kind, body.pack_ids, fmt=body.format, actor="api",
                                printer=body.printer, reason=body.reason,
                                out_dir=fh.settings.data_dir / "prints")
        except PrintError as exc:
            return JSONResponse({"message": str(exc)}, 409)
        return Response(r.path.read_bytes(), media_type="application/pdf"
                        if body.format == "pdf" else "application/octet-stream",
                        headers={"X-Fahuo-Batch": str(r.batch_id),
                                 "X-Fahuo-Already-Printed": str(r.already_printed).lower(),
                                 "Content-Disposition": f'attachment; filename="{r.path.name}"'})

    @api.post("/print/component/tasks",
              responses={422: {"description": "a pack id listed twice"}})
    def api_component_tasks(body: ComponentTasksIn) -> Any:
        """Print tasks for the Douyin print component (platform waybills)."""
        fh = c()
        with fh.uow(readonly=True) as uow:
            ids = body.pack_ids or [p["id"] for p in select_packs(uow, None, "labels")]
        if not ids:
            return {"tasks": [], "problems": {}}
        try:
            return component_tasks(fh.uow, fh.platform_for, ids, printer=body.printer,
                                   per_task=body.per_task)
        except ComponentTaskError as exc:
            return JSONResponse({"message": str(exc)}, 422)

    @api.post("/print/component/result")
    async def api_component_result(request: Request) -> Any:
        """What the component reported (notifyPrintResult), relayed by the console page."""
        raw = await request.body()
        try:
            return record_component_result(c().uow, raw, actor="console")
        except ValueError as exc:
            return JSONResponse({"message": str(exc)}, 400)

    @api.post("/scan")
    def api_scan(body: ScanIn) -> dict[str, Any]:
        """Scan-to-ship: confirm the parcel, or say loudly that it must not leave."""
        fh = c()
        return scan(fh.uow, fh.platform_for, body.code, actor="api").__dict__

    @api.get("/ship/jobs/{job_id}", responses={404: {"description": "no such job"}})
    def api_job(job_id: int = PathParam(ge=1, le=MAX_ID)) -> dict[str, Any]:
        with c().uow() as uow:
            job = uow.pipeline.job(job_id)
        if job is None:
            raise HTTPException(404, f"no job {job_id}")
        return job

    def is_admin(request: Request) -> bool:
        # Nobody signed in past SignInRequired means the install has no users: all open.
        user = current_user(request)
        return user is None or user.is_admin

    def oauth_key() -> bytes:
        return c().box.derive("oauth-state")

    @api.post("/shops/{shop_ref}/oauth-state", status_code=201, responses={
        403: {"description": "admins only"}, 404: {"description": "no such shop"}})
    def api_oauth_state(request: Request, shop_ref: int = PathParam(ge=1, le=MAX_ID),
                        service_id: str = Query("", pattern=r"^\d{0,20}$",
                                                description="the app's service market id")
                        ) -> Any:
        """A single-use `state` (15 minutes) for authorising a tool-app shop, and the
        service-market link that carries it when `service_id` is given."""
        if not is_admin(request):
            return JSONResponse({"message": "只有管理员可以授权店铺 (admins only)"}, 403)
        user = current_user(request)
        try:
            state = issue_oauth_state(c().uow, oauth_key(), shop_ref,
                                      user_id=user.id if user else None,
                                      actor=user.username if user else "api")
        except UnknownShop as exc:
            raise HTTPException(404, str(exc)) from exc
        return {"state": state,
                "authorize_url": authorize_url(service_id, state) if service_id else None}

    @web.post("/shops/{shop_ref}/authorize", include_in_schema=False)
    def shop_authorize_form(request: Request, shop_ref: int,
                            service_id: str = Form("")) -> Response:
        if not is_admin(request):
            return RedirectResponse(f"/shops/{shop_ref}?msg=" + quote("只有管理员可以授权店铺"),
                                    303)
        if not service_id.strip().isdigit():
            return RedirectResponse(f"/shops/{shop_ref}?msg=" + quote(
                "请填写服务市场的服务ID（service_id，数字）"), 303)
        user = current_user(request)
        try:
            state = issue_oauth_state(c().uow, oauth_key(), shop_ref,
                                      user_id=user.id if user else None,
                                      actor=user.username if user else "console")
        except UnknownShop as exc:
            return RedirectResponse("/shops?msg=" + quote(str(exc)), 303)
        return RedirectResponse(authorize_url(service_id.strip(), state), 303)

    from fahuo.entrypoints.web import (
        reservation_routes, stock_routes, tracking_routes, user_routes,
    )
    tracking_routes.register(web, api, c, templates, _enqueue)
    stock_routes.register(web, api, c, templates, _enqueue)
    reservation_routes.register(web, api, c, templates)
    user_routes.register(web, api, c, templates)
    web.include_router(api)
    web.add_middleware(SignInRequired, container=c)
    web.add_middleware(Guard, container=c)  # outermost: headers on every answer

    @web.get("/oauth/doudian/callback", include_in_schema=False)
    def oauth_callback(request: Request, code: str = "", state: str = "") -> Response:
        """Where the Douyin service market sends the merchant back. `state` must be a nonce
        fahuo issued to this signed-in admin; the token must be for that shop."""
        fh = c()
        user = current_user(request)
        if not code or not state:
            return RedirectResponse("/shops?msg=" + quote("授权回调缺少 code 或 state"), 303)
        actor = user.username if user else None
        try:
            ref = use_oauth_state(fh.uow, oauth_key(), state, user_id=user.id if user else None,
                                  actor=actor,
                                  client=request.client.host if request.client else "")
            with fh.uow() as uow:
                shop = uow.shops.require(ref)
            connect_shop(fh.platform_for(shop), fh.uow, shop.id, code=code,
                         actor=actor or "oauth")
            msg = "授权成功"
        except OAuthRefused as exc:
            log.warning("oauth_refused", reason=str(exc), user=actor)
            return templates.TemplateResponse(request, "error.html", {
                "message": f"授权被拒绝：{exc}。请在店铺页面重新点击“授权”。"}, 403)
        except DoudianError as exc:
            msg = f"授权失败：{exc}"
        return RedirectResponse(f"/shops/{shop.id}?msg=" + quote(msg), 303)

    @web.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        # A read: it must not queue behind a writer for the SQLite write lock.
        with c().uow(readonly=True) as uow:
            uow.orders.count_by_state()
        return {"status": "ok"}

    @web.get("/metrics", tags=["ops"], response_class=Response, responses={
        200: {"content": {"text/plain": {}}, "description": "Prometheus metrics"}})
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    # ---- console --------------------------------------------------------------------------
    @web.get("/", response_class=HTMLResponse, include_in_schema=False)
    def dashboard(request: Request) -> HTMLResponse:
        fh = c()
        with fh.uow() as uow:
            counts = uow.orders.count_by_state()
            inbox_counts = uow.inbox.counts()
            pack_counts = uow.pipeline.pack_counts()
            _, urgent = uow.orders.search(  # everything not yet handed to the courier
                state=("synced", "held", "approved", "waybill_taken", "printed"), limit=10,
                sort="deadline")
        return templates.TemplateResponse(request, "dashboard.html", {
            "counts": counts, "total": sum(counts.values()), "shops": _shops_with_cursors(fh),
            "inbox": inbox_counts, "urgent": urgent, "packs": pack_counts,
            "low_balances": [b for b in balances(fh.uow) if b["low"]],
            "chart_labels": [STATE_LABELS.get(k, k) for k in counts],
            "chart_values": list(counts.values())})

    @web.get("/orders", response_class=HTMLResponse, include_in_schema=False)
    def orders_page(request: Request, state: str = "", shop: str = "", page: int = 1,
                    sort: str = "deadline") -> HTMLResponse:
        fh = c()
        page = max(1, page)
        state_v = state if state in STATE_LABELS else None
        shop_v = int(shop) if shop.isdigit() else None
        sort = sort if sort in ("deadline", "updated", "created") else "deadline"
        with fh.uow() as uow:
            total, rows = uow.orders.search(shop_ref=shop_v, state=state_v, limit=50,
                                            offset=(page - 1) * 50, sort=sort)
        ctx = {"rows": rows, "total": total, "page": page, "pages": max(1, -(-total // 50)),
               "state": state_v or "", "shop": shop_v or "", "sort": sort,
               "shops": _shops_with_cursors(fh)}
        name = "orders_table.html" if request.headers.get("hx-request") else "orders.html"
        return templates.TemplateResponse(request, name, ctx)

    @web.get("/orders/{order_id}", response_class=HTMLResponse, include_in_schema=False)
    def order_page(request: Request, order_id: str) -> HTMLResponse:
        with c().uow() as uow:
            order = uow.orders.get(order_id) if order_id.isdigit() else None
            history = uow.audit.for_subject("order", order_id) if order else []
            holds = uow.pipeline.open_holds([order_id]).get(order_id, []) if order else []
            packs = uow.pipeline.packs_of_orders([order_id]) if order else []
        if order is None:
            return templates.TemplateResponse(request, "error.html",
                                              {"message": f"订单 {order_id} 不存在"},
                                              status_code=404)
        return templates.TemplateResponse(request, "order.html", {
            "o": order, "history": history, "holds": holds, "packs": packs,
            "REASONS": HOLD_LABELS})

    @web.get("/shops", response_class=HTMLResponse, include_in_schema=False)
    def shops_page(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "shops.html",
                                          {"shops": _shops_with_cursors(c()), "problems": {},
                                           "form": {}})

    @web.post("/shops", response_class=HTMLResponse, include_in_schema=False)
    def shops_add(request: Request, shop_id: str = Form(""), app_key: str = Form(""),
                  app_secret: str = Form(""), gateway_url: str = Form(""),
                  shop_name: str = Form("")) -> Response:
        fh = c()
        new = NewShop(shop_id=shop_id.strip(), app_key=app_key.strip(), app_secret=app_secret,
                      gateway_url=gateway_url.strip() or "https://openapi-fxg.jinritemai.com",
                      shop_name=shop_name.strip())
        user = current_user(request)
        try:
            with fh.uow() as uow:
                add_shop(uow, new, actor=user.username if user else "console",
                         by_admin=user is None or user.is_admin)
        except ShopInputError as exc:
            return templates.TemplateResponse(
                request, "shops.html",
                {"shops": _shops_with_cursors(fh), "problems": exc.problems,
                 "form": {"shop_id": shop_id, "app_key": app_key, "gateway_url": gateway_url,
                          "shop_name": shop_name}}, status_code=422)
        return RedirectResponse("/shops", status_code=303)

    @web.get("/shops/{shop_ref}", response_class=HTMLResponse, include_in_schema=False)
    def shop_page(request: Request, shop_ref: int, msg: str = "") -> HTMLResponse:
        fh = c()
        shop = next((s for s in _shops_with_cursors(fh) if s.id == shop_ref), None)
        if shop is None:
            return templates.TemplateResponse(request, "error.html",
                                              {"message": f"店铺 {shop_ref} 不存在"}, 404)
        lists, error = {}, None
        try:
            for what in ("couriers", "addresses"):
                lists[what] = platform_reference(fh.uow, fh.platform_for, shop_ref, what)
        except DoudianError as exc:
            error = str(exc)
        with fh.uow() as uow:
            cfg = uow.settings.get(shop_ref)
        cfg["sender_phone"] = mask_phone(cfg["sender_phone"]) if cfg["sender_phone"] else ""
        return templates.TemplateResponse(request, "shop.html", {
            "s": shop, "error": error, "msg": msg, "cfg": cfg,
            "balances": balances(fh.uow, shop_ref), "json": json.dumps, **lists})

    @web.post("/shops/{shop_ref}/sync", include_in_schema=False)
    def shops_sync(shop_ref: int) -> Response:
        _enqueue("sync_shop_task", shop_ref)
        return RedirectResponse("/shops", status_code=303)

    @web.get("/holds", response_class=HTMLResponse, include_in_schema=False)
    def holds_page(request: Request, msg: str = "") -> HTMLResponse:
        with c().uow() as uow:
            rows = uow.pipeline.held_orders(limit=500)
        return templates.TemplateResponse(request, "holds.html", {"rows": rows, "msg": msg,
                                                                  "REASONS": HOLD_LABELS})

    @web.post("/holds", include_in_schema=False)
    async def holds_act(request: Request) -> Response:
        form = await request.form()
        ids = [str(v) for v in form.getlist("order_id") if str(v).isdigit()]
        action, note = str(form.get("action", "")), str(form.get("note", ""))
        if not ids:
            return RedirectResponse("/holds?msg=" + quote("没有选择订单"), status_code=303)
        if action == "release":
            res = release_orders(c().uow, ids, actor="console", note=note)
            msg = f"已放行 {len(res.changed)} 单"
        else:
            try:
                res = hold_orders(c().uow, ids, note, actor="console")
                msg = f"已挂起 {len(res.changed)} 单"
            except ValueError as exc:
                msg = str(exc)
                res = None
        if res and res.refused:
            msg += "；未处理: " + "，".join(f"{k}({v})" for k, v in res.refused.items())
        return RedirectResponse("/holds?msg=" + quote(msg), status_code=303)

    @web.get("/ship", response_class=HTMLResponse, include_in_schema=False)
    def ship_page(request: Request) -> HTMLResponse:
        with c().uow() as uow:
            jobs = uow.pipeline.jobs(20)
            packs = uow.pipeline.pack_counts()
        return templates.TemplateResponse(request, "ship.html", {"jobs": jobs, "packs": packs,
                                                                 "preview": None})

    @web.post("/ship/import", response_class=HTMLResponse, include_in_schema=False)
    async def ship_import_page(request: Request) -> Response:
        fh = c()
        limits = UploadLimits.from_settings(fh.settings)
        try:  # a body that cannot hold an allowed file is not even parsed
            check_declared_body("上传的文件", request.headers.get("content-length"), limits)
        except UploadRefused as exc:
            return templates.TemplateResponse(request, "error.html", {"message": str(exc)}, 413)
        form = await request.form()
        upload = form.get("file")
        apply = form.get("apply") == "1"
        if not isinstance(upload, FormFile):
            return templates.TemplateResponse(request, "error.html",
                                              {"message": "请选择 .xlsx 或 .csv 文件"}, 400)
        name = upload.filename or "upload.csv"
        try:
            data = await read_upload(upload, name, limits)
            if apply:
                job = await run_in_threadpool(apply_import, fh.uow, fh.platform_for, name,
                                              data, actor="console", limits=limits)
                return RedirectResponse(f"/ship/jobs/{job['id']}", status_code=303)
            prev = await run_in_threadpool(preview_import, fh.uow, name, data, limits)
        except UploadRefused as exc:
            return templates.TemplateResponse(request, "error.html", {"message": str(exc)}, 413)
        except ImportFileError as exc:
            return templates.TemplateResponse(request, "error.html", {"message": str(exc)}, 400)
        with fh.uow() as uow:
            jobs = uow.pipeline.jobs(20)
            packs = uow.pipeline.pack_counts()
        return templates.TemplateResponse(request, "ship.html", {
            "jobs": jobs, "packs": packs, "preview": prev, "filename": upload.filename})

    @web.get("/print", response_class=HTMLResponse, include_in_schema=False)
    def print_page(request: Request, msg: str = "") -> HTMLResponse:
        with c().uow() as uow:
            waiting = select_packs(uow, None, "labels")
            batches = uow.prints.batches(30)
        return templates.TemplateResponse(request, "print.html", {
            "waiting": len(waiting), "batches": batches,
            "msg": msg})

    @web.post("/print", include_in_schema=False)
    async def print_post(request: Request) -> Response:
        fh = c()
        form = await request.form()
        batch = str(form.get("batch", ""))
        pack_ids = None
        if batch.isdigit():
            with fh.uow() as uow:
                old = uow.prints.batch(int(batch))
            pack_ids = old["pack_ids"] if old else [0]
        try:
            user = current_user(request)
            r = print_labels(fh.uow, pack_ids, fmt=str(form.get("format", "pdf")),
                             size=str(form.get("size", "76x130")),
                             order_by=str(form.get("order_by", "deadline")),
                             actor=user.username if user else "console",
                             printer=str(form.get("printer", "")),
                             reason=str(form.get("reason", "")),
                             out_dir=fh.settings.data_dir / "prints",
                             may_see_receiver=may_see_receiver(request),
                             plain_keep_s=fh.settings.plain_label_keep_s)
        except PrintError as exc:
            return RedirectResponse("/print?msg=" + quote(f"未打印：{exc}"), 303)
        return Response(hand_out(r), media_type="application/pdf"
                        if r.path.suffix == ".pdf" else "text/plain",
                        headers={"Content-Disposition": f'attachment; filename="{r.path.name}"',
                                 "X-Fahuo-Already-Printed": str(r.already_printed).lower()})

    @web.post("/print/documents", include_in_schema=False)
    async def print_docs_post(request: Request) -> Response:
        fh = c()
        form = await request.form()
        kind, fmt = str(form.get("kind", "")), str(form.get("format", "pdf"))
        try:
            r = print_documents(fh.uow, kind, None, fmt=fmt, actor="console",
                                reason=str(form.get("reason", "")),
                                out_dir=fh.settings.data_dir / "prints")
        except PrintError as exc:
            return RedirectResponse("/print?msg=" + quote(f"未打印：{exc}"), 303)
        return Response(r.path.read_bytes(), media_type="application/pdf" if fmt == "pdf"
                        else "application/octet-stream",
                        headers={"Content-Disposition": f'attachment; filename="{r.path.name}"'})

    @web.get("/print/component", response_class=HTMLResponse, include_in_schema=False)
    def component_page(request: Request,
                       ws: str = "ws://localhost:13888") -> HTMLResponse:
        if not ws.startswith(("ws://localhost:", "ws://127.0.0.1:", "wss://localhost:",
                              "wss://127.0.0.1:")):
            ws = "ws://localhost:13888"  # the component only ever listens on this computer
        return templates.TemplateResponse(request, "print_component.html", {"ws": ws})

    @web.get("/scan", response_class=HTMLResponse, include_in_schema=False)
    def scan_page(request: Request, msg: str = "") -> HTMLResponse:
        return templates.TemplateResponse(request, "scan.html", {"result": None, "msg": msg})

    @web.post("/scan", response_class=HTMLResponse, include_in_schema=False)
    def scan_post(request: Request, code: str = Form("")) -> HTMLResponse:
        fh = c()
        result = scan(fh.uow, fh.platform_for, code, actor="console")
        name = "scan_result.html" if request.headers.get("hx-request") else "scan.html"
        return templates.TemplateResponse(request, name, {"result": result, "code": code})

    @web.get("/ship/jobs/{job_id}", response_class=HTMLResponse, include_in_schema=False)
    def job_page(request: Request, job_id: int) -> HTMLResponse:
        with c().uow() as uow:
            job = uow.pipeline.job(job_id)
        if job is None:
            return templates.TemplateResponse(request, "error.html",
                                              {"message": f"任务 {job_id} 不存在"}, 404)
        return templates.TemplateResponse(request, "job.html", {"job": job})

    @web.post("/shops/{shop_ref}/settings", include_in_schema=False)
    async def shop_settings_form(request: Request, shop_ref: int) -> Response:
        form = await request.form()
        changes: dict[str, Any] = {}
        for key in ("default_courier", "confirm_mode", "refund_policy", "sender_name",
                    "sender_phone", "ship_from_address_id", "label_receiver"):
            if key in form and (key != "sender_phone" or str(form[key]).strip()):
                changes[key] = str(form[key])
        if str(form.get("merge_window_s", "")).strip():
            try:
                changes["merge_window_s"] = int(str(form["merge_window_s"]))
            except ValueError:
                changes["merge_window_s"] = str(form["merge_window_s"])
        for key in ("audit_rules", "courier_rules", "split_rules", "sku_facts", "cost_table",
                    "watch_rules"):
            raw = str(form.get(key, "")).strip()
            if raw:
                try:
                    changes[key] = json.loads(raw)
                except ValueError as exc:
                    changes[key] = f"<invalid JSON: {exc}>"
        try:
            update_settings(c().uow, shop_ref, changes, actor="console")
            msg = "设置已保存"
        except SettingsError as exc:
            msg = "未保存：" + "；".join(f"{k}: {v}" for k, v in exc.problems.items())
        return RedirectResponse(f"/shops/{shop_ref}?msg=" + quote(msg), status_code=303)

    @web.post("/shops/{shop_ref}/refresh", include_in_schema=False)
    def shop_refresh_form(shop_ref: int) -> Response:
        fh = c()
        try:
            got = refresh_from_platform(fh.uow, fh.platform_for, shop_ref)
            msg = f"已同步 {got['addresses']} 个地址，{got['netsites']} 个面单网点"
        except (DoudianError, SettingsError) as exc:
            msg = f"同步失败：{exc}"
        return RedirectResponse(f"/shops/{shop_ref}?msg=" + quote(msg), status_code=303)

    @web.get("/inbox", response_class=HTMLResponse, include_in_schema=False)
    def inbox_page(request: Request) -> HTMLResponse:
        with c().uow() as uow:
            ctx = {"counts": uow.inbox.counts(), "recent": uow.inbox.recent(100)}
        return templates.TemplateResponse(request, "inbox.html", ctx)

    return web
