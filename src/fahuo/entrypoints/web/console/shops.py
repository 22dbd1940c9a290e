"""Console: shops (add, sync), a shop's page and settings, and authorising a tool-app shop."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import structlog
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fahuo.adapters.platforms.doudian.errors import DoudianError
from fahuo.entrypoints.web.console.render import error_page, render
from fahuo.entrypoints.web.deps import Actor, FahuoDep, SignedIn, UowDep, enqueue, is_admin
from fahuo.services import read_models
from fahuo.services.settings import (
    CONFIRM_MODE_NAMES, CONFIRM_MODES, ON_WAYBILL_WARNING, SettingsError, refresh_from_platform,
    update_settings,
)
from fahuo.services.shops import (
    NewShop, OAuthRefused, ShopInputError, UnknownShop, add_shop, authorize_url, connect_shop,
    issue_oauth_state, use_oauth_state,
)

log = structlog.get_logger(__name__)
router = APIRouter()
TEXT_SETTINGS = ("default_courier", "confirm_mode", "refund_policy", "sender_name",
                 "sender_phone", "ship_from_address_id", "label_receiver", "zpl_font")
KEEP_WHEN_EMPTY = ("sender_phone", "zpl_font")  # an empty box changes nothing
JSON_SETTINGS = ("audit_rules", "courier_rules", "split_rules", "sku_facts", "cost_table",
                 "watch_rules")


def _back(shop_ref: int | str, msg: str) -> RedirectResponse:
    return RedirectResponse(f"/shops/{shop_ref}?msg=" + quote(msg), 303)


@router.get("/shops")
def shops_page(request: Request, uow: UowDep) -> HTMLResponse:
    return render(request, "shops.html", {"shops": read_models.shops(uow), "problems": {},
                                          "form": {}})


@router.post("/shops")
def shops_add(request: Request, uow: UowDep, user: SignedIn, actor: Actor,
              shop_id: str = Form(""), app_key: str = Form(""), app_secret: str = Form(""),
              gateway_url: str = Form(""), shop_name: str = Form("")) -> Response:
    new = NewShop(shop_id=shop_id.strip(), app_key=app_key.strip(), app_secret=app_secret,
                  gateway_url=gateway_url.strip() or "https://openapi-fxg.jinritemai.com",
                  shop_name=shop_name.strip())
    try:
        with uow() as u:
            add_shop(u, new, actor=actor, by_admin=is_admin(user))
    except ShopInputError as exc:
        return render(request, "shops.html", {
            "shops": read_models.shops(uow), "problems": exc.problems,
            "form": {"shop_id": shop_id, "app_key": app_key, "gateway_url": gateway_url,
                     "shop_name": shop_name}}, status_code=422)
    return RedirectResponse("/shops", status_code=303)


@router.get("/shops/{shop_ref}")
def shop_page(request: Request, fh: FahuoDep, shop_ref: int, msg: str = "") -> HTMLResponse:
    found = read_models.shop_page(fh.uow, fh.platform_for, shop_ref)
    if found is None:
        return error_page(request, f"店铺 {shop_ref} 不存在", 404)
    return render(request, "shop.html", {
        "s": found.shop, "error": found.error, "msg": msg, "cfg": found.settings,
        "balances": found.balances, "json": json.dumps, "modes": CONFIRM_MODES,
        "mode_names": CONFIRM_MODE_NAMES, "on_waybill_warning": ON_WAYBILL_WARNING,
        **found.lists})


@router.post("/shops/{shop_ref}/sync")
def shops_sync(shop_ref: int) -> Response:
    enqueue("sync_shop_task", shop_ref)
    return RedirectResponse("/shops", status_code=303)


def settings_from_form(form: Any) -> dict[str, Any]:
    """The settings a shop page's form changes; a field left empty changes nothing (a JSON
    field that does not parse is passed on for the service to name)."""
    changes: dict[str, Any] = {}
    for key in TEXT_SETTINGS:
        if key in form and (key not in KEEP_WHEN_EMPTY or str(form[key]).strip()):
            changes[key] = str(form[key])
    if str(form.get("merge_window_s", "")).strip():
        try:
            changes["merge_window_s"] = int(str(form["merge_window_s"]))
        except ValueError:
            changes["merge_window_s"] = str(form["merge_window_s"])
    for key in JSON_SETTINGS:
        raw = str(form.get(key, "")).strip()
        if raw:
            try:
                changes[key] = json.loads(raw)
            except ValueError as exc:
                changes[key] = f"<invalid JSON: {exc}>"
    return changes


@router.post("/shops/{shop_ref}/settings")
async def shop_settings_form(request: Request, uow: UowDep, actor: Actor,
                             shop_ref: int) -> Response:
    form = await request.form()
    changes = settings_from_form(form)
    if changes.get("confirm_mode") == "on_waybill" and not form.get("accept_on_waybill_risk"):
        with uow() as u:
            already = u.settings.get(shop_ref)["confirm_mode"] == "on_waybill"
        if not already:  # an explicit choice only: the merchant ticks that the risk is known
            return _back(shop_ref, "未保存：选择取号后发货需要勾选“我了解虚假发货风险”。"
                         + ON_WAYBILL_WARNING)
    try:
        cfg = update_settings(uow, shop_ref, changes, actor=actor)
        msg = "设置已保存" + "".join(f"。注意：{w}" for w in cfg["warnings"])
    except SettingsError as exc:
        msg = "未保存：" + "；".join(f"{k}: {v}" for k, v in exc.problems.items())
    return _back(shop_ref, msg)


@router.post("/shops/{shop_ref}/refresh")
def shop_refresh_form(fh: FahuoDep, shop_ref: int) -> Response:
    try:
        got = refresh_from_platform(fh.uow, fh.platform_for, shop_ref)
        msg = f"已同步 {got['addresses']} 个地址，{got['netsites']} 个面单网点"
    except (DoudianError, SettingsError) as exc:
        msg = f"同步失败：{exc}"
    return _back(shop_ref, msg)


@router.post("/shops/{shop_ref}/authorize")
def shop_authorize_form(fh: FahuoDep, user: SignedIn, actor: Actor, shop_ref: int,
                        service_id: str = Form("")) -> Response:
    if not is_admin(user):
        return _back(shop_ref, "只有管理员可以授权店铺")
    if not service_id.strip().isdigit():
        return _back(shop_ref, "请填写服务市场的服务ID（service_id，数字）")
    try:
        state = issue_oauth_state(fh.uow, fh.box.derive("oauth-state"), shop_ref,
                                  user_id=user.id if user else None, actor=actor)
    except UnknownShop as exc:
        return RedirectResponse("/shops?msg=" + quote(str(exc)), 303)
    return RedirectResponse(authorize_url(service_id.strip(), state), 303)


@router.get("/oauth/doudian/callback")
def oauth_callback(request: Request, fh: FahuoDep, user: SignedIn, code: str = "",
                   state: str = "") -> Response:
    """Where the Douyin service market sends the merchant back. `state` must be a nonce
    fahuo issued to this signed-in admin; the token must be for that shop."""
    if not code or not state:
        return RedirectResponse("/shops?msg=" + quote("授权回调缺少 code 或 state"), 303)
    actor = user.username if user else None  # a state is only ever used by its admin
    try:
        ref = use_oauth_state(fh.uow, fh.box.derive("oauth-state"), state,
                              user_id=user.id if user else None, actor=actor,
                              client=request.client.host if request.client else "")
        with fh.uow() as u:
            shop = u.shops.require(ref)
        connect_shop(fh.platform_for(shop), fh.uow, shop.id, code=code,
                     actor=actor or "oauth")
        msg = "授权成功"
    except OAuthRefused as exc:
        log.warning("oauth_refused", reason=str(exc), user=actor)
        return error_page(request, f"授权被拒绝：{exc}。请在店铺页面重新点击“授权”。", 403)
    except DoudianError as exc:
        msg = f"授权失败：{exc}"
    return _back(shop.id, msg)
