"""Console: shops (add, sync), a shop's page and settings, and authorising a tool-app shop."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import structlog
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fahuo.adapters.platforms.doudian.errors import DoudianError
from fahuo.domain.couriers import COURIERS
from fahuo.domain.holds import AUDIT_FIELD_NAMES, STAR_NAMES
from fahuo.domain.regions import PROVINCES
from fahuo.domain.routing import RULE_FIELD_NAMES
from fahuo.entrypoints.web.console import settings_forms as sf
from fahuo.entrypoints.web.console.render import error_page, render
from fahuo.entrypoints.web.deps import Actor, FahuoDep, SignedIn, UowDep, enqueue, is_admin
from fahuo.services import read_models
from fahuo.services.courier_explain import explain_courier
from fahuo.services.settings import (
    ADDRESS_FIELDS, CONFIRM_MODE_NAMES, CONFIRM_MODES, ON_WAYBILL_WARNING, SETTING_NAMES,
    SettingsError, refresh_from_platform, save_address, settings_warnings, update_settings,
    validate,
)
from fahuo.services.shops import (
    NewShop, OAuthRefused, ShopInputError, UnknownShop, add_shop, authorize_url, connect_shop,
    issue_oauth_state, use_oauth_state,
)

log = structlog.get_logger(__name__)
router = APIRouter()
JSON_SETTINGS = ("audit_rules", "courier_rules", "split_rules", "sku_facts", "cost_table",
                 "watch_rules")
RISK_TICK = "选择取号后发货需要勾选“我了解虚假发货风险”。"


def _back(shop_ref: int | str, msg: str, sample: str = "", anchor: str = "") -> RedirectResponse:
    extra = f"&sample={quote(sample)}" if sample else ""
    return RedirectResponse(f"/shops/{shop_ref}?msg=" + quote(msg) + extra + anchor, 303)


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
def shop_page(request: Request, fh: FahuoDep, shop_ref: int, msg: str = "",
              sample: str = Query("", max_length=32), address: str = Query("", max_length=32)
              ) -> HTMLResponse:
    return _page(request, fh, shop_ref, msg=msg, sample=sample, address=address)


def _page(request: Request, fh: Any, shop_ref: int, *, msg: str = "", sample: str = "",
          address: str = "", errs: dict[str, str] | None = None, basic: Any = None,
          rules: list[dict[str, Any]] | None = None, audit: dict[str, Any] | None = None,
          address_form: dict[str, Any] | None = None, status: int = 200) -> HTMLResponse:
    """The shop page; a form whose save failed shows what was typed (``basic`` the posted
    form, ``rules``/``audit``/``address_form`` typed values) with ``errs`` by field."""
    found = read_models.shop_page(fh.uow, fh.platform_for, shop_ref)
    if found is None:
        return error_page(request, f"店铺 {shop_ref} 不存在", 404)
    cfg = found.settings
    book = read_models.shop_addresses(fh.uow, shop_ref) or []
    explained = explain_courier(fh.uow, fh.platform_for, shop_ref, sample or None)
    known = [(c.code, c.name) for c in COURIERS]
    editing = next((a for a in book if a["address_id"] == address), None)
    return render(request, "shop.html", {
        "s": found.shop, "error": found.error, "msg": msg, "cfg": cfg,
        "balances": found.balances, "json": json.dumps, "modes": CONFIRM_MODES,
        "mode_names": CONFIRM_MODE_NAMES, "on_waybill_warning": ON_WAYBILL_WARNING,
        "errs": errs or {}, "basic": sf.basic_view(cfg, basic),
        "rules": rules if rules is not None else [sf.rule_view(r) for r in cfg["courier_rules"]],
        "audit": audit if audit is not None else sf.audit_view(cfg["audit_rules"]),
        "book": book, "accounts": explained.accounts, "known_couriers": known,
        "provinces": [full for full, _ in PROVINCES], "stars": STAR_NAMES,
        "names": SETTING_NAMES, "rule_names": RULE_FIELD_NAMES,
        "audit_names": AUDIT_FIELD_NAMES, "x": explained,
        "address_form": address_form if address_form is not None else (
            {**editing, "phone": ""} if editing else {}),
        "warnings": settings_warnings(cfg, set(explained.accounts)),
        "json_typed": {k: str(basic[k]) for k in JSON_SETTINGS
                       if basic is not None and k in basic},
        **found.lists}, status_code=status)


@router.post("/shops/{shop_ref}/sync")
def shops_sync(shop_ref: int) -> Response:
    enqueue("sync_shop_task", shop_ref)
    return RedirectResponse("/shops", status_code=303)


def settings_from_form(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The settings a basic or JSON settings form changes, and what could not be read; a
    field left empty changes nothing."""
    changes, problems = sf.basic_changes(form)
    for key in JSON_SETTINGS:
        raw = str(form.get(key, "")).strip()
        if raw:
            try:
                changes[key] = json.loads(raw)
            except ValueError as exc:
                problems[key] = f"不是有效的 JSON：{exc}"
    return changes, problems


def _save(fh: Any, shop_ref: int, changes: dict[str, Any], read: dict[str, str],
          actor: str) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """Saves when everything reads and validates: (settings, {}); else (None, every problem
    by field: what the form could not read and what the service refuses, nothing saved)."""
    try:
        if read:  # the service still judges the rest, so the page names every problem
            validate(changes)
            return None, read
        return update_settings(fh.uow, shop_ref, changes, actor=actor), {}
    except SettingsError as exc:
        return None, {**exc.problems, **read}


def _saved_msg(cfg: dict[str, Any]) -> str:
    return "设置已保存" + "".join(f"。注意：{w}" for w in cfg["warnings"])


@router.post("/shops/{shop_ref}/settings")
async def shop_settings_form(request: Request, fh: FahuoDep, actor: Actor,
                             shop_ref: int) -> Response:
    form = await request.form()
    changes, read = settings_from_form(form)
    if changes.get("confirm_mode") == "on_waybill" and not form.get("accept_on_waybill_risk"):
        with fh.uow() as u:
            already = u.settings.get(shop_ref)["confirm_mode"] == "on_waybill"
        if not already:  # an explicit choice only: the merchant ticks that the risk is known
            read["confirm_mode"] = RISK_TICK + ON_WAYBILL_WARNING
    cfg, errs = _save(fh, shop_ref, changes, read, actor)
    if cfg is None:
        return _page(request, fh, shop_ref, msg="未保存：请按提示修改标红的项", errs=errs,
                     basic=form, status=422)
    return _back(shop_ref, _saved_msg(cfg), anchor="#basic")


@router.post("/shops/{shop_ref}/courier-rules")
async def shop_courier_rules_form(request: Request, fh: FahuoDep, actor: Actor,
                                  shop_ref: int) -> Response:
    """The ordered rule list: 保存, 添加 (an empty rule to fill in), 删除, 上移, 下移. Every
    button but 添加 saves the whole list as shown, all or nothing."""
    form = await request.form()
    sample = str(form.get("sample", ""))[:32]
    typed, save = sf.apply_op(sf.rules_typed(form), str(form.get("op", "save")))
    if not save:
        return _page(request, fh, shop_ref, msg="已添加一条空规则：填好后点保存", rules=typed,
                     sample=sample)
    rules, read = sf.rules_changes(typed)
    cfg, errs = _save(fh, shop_ref, {"courier_rules": rules}, read, actor)
    if cfg is None:
        return _page(request, fh, shop_ref, msg="快递策略未保存：请按提示修改标红的项",
                     errs=errs, rules=typed, sample=sample, status=422)
    return _back(shop_ref, "快递策略已保存", sample, "#rules")


@router.post("/shops/{shop_ref}/audit-rules")
async def shop_audit_rules_form(request: Request, fh: FahuoDep, actor: Actor,
                                shop_ref: int) -> Response:
    form = await request.form()
    typed = sf.audit_typed(form)
    rules, read = sf.audit_changes(typed)
    cfg, errs = _save(fh, shop_ref, {"audit_rules": rules}, read, actor)
    if cfg is None:
        return _page(request, fh, shop_ref, msg="审单规则未保存：请按提示修改标红的项",
                     errs=errs, audit=typed, status=422)
    return _back(shop_ref, "审单规则已保存（待审和挂起的订单会按新规则重审）", anchor="#audit")


@router.post("/shops/{shop_ref}/address")
async def shop_address_form(request: Request, fh: FahuoDep, actor: Actor,
                            shop_ref: int) -> Response:
    form = await request.form()
    typed: dict[str, Any] = {k: str(form.get(k, "")) for k in ("address_id", *ADDRESS_FIELDS)}
    default_send = bool(form.get("is_default_send"))
    typed["is_default_send"] = default_send
    try:
        aid = save_address(fh.uow, shop_ref, typed["address_id"], typed, actor,
                           default_send=default_send)
    except SettingsError as exc:
        return _page(request, fh, shop_ref, msg="地址未保存：请按提示修改标红的项",
                     errs={f"address.{k}": v for k, v in exc.problems.items()},
                     address_form={**typed, "phone": ""}, status=422)
    return _back(shop_ref, f"地址 {aid} 已保存，可在发货地址中选择", anchor="#address")


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
