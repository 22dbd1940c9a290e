"""API: shops, their settings and ship-from addresses, e-waybill balances, OAuth, the inbox."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictBool

from fahuo.adapters.platforms.doudian.errors import DoudianError
from fahuo.entrypoints.web.deps import (
    MAX_ID, Actor, FahuoDep, SignedIn, UowDep, enqueue, is_admin,
)
from fahuo.services import lists, read_models
from fahuo.services.courier_explain import explain_courier
from fahuo.services.settings import (
    SettingsError, balances, refresh_from_platform, save_address, update_settings,
)
from fahuo.services.shops import (
    NewShop, ShopInputError, UnknownShop, add_shop, authorize_url, issue_oauth_state,
    platform_reference,
)

router = APIRouter()


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


# The API answers with the shop page's own read model: one definition of what a shop shows.
ShopOut = read_models.ShopView



class ShopProblems(BaseModel):
    message: str = "shop not added"
    problems: dict[str, str] = Field(description="field name → what is wrong with it")


class SettingsProblems(BaseModel):
    message: str = "settings not saved"
    problems: dict[str, str] = Field(description=(
        "setting → what is wrong with it (Chinese). Inside the rules the key names the "
        "field: `courier_rules.0.max_weight_g` (the first rule), `audit_rules.presale_lead_s`; "
        "`courier_rules.0` or `audit_rules` alone when the problem names no field. Nothing "
        "was saved."))


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


def _no_shop(uow: Any, shop_ref: int) -> None:
    if not read_models.shop_exists(uow, shop_ref):
        raise HTTPException(404, f"没有店铺 {shop_ref}")


@router.get("/shops", response_model=list[ShopOut])
def list_shops(uow: UowDep) -> list[ShopOut]:
    return read_models.shops(uow)


@router.post("/shops", status_code=201, response_model=ShopOut,
             responses={409: {"model": ShopProblems, "description": "already connected"},
                        400: {"description": "body is not JSON"}})
def create_shop(uow: UowDep, user: SignedIn, actor: Actor, body: ShopIn) -> Any:
    try:
        with uow() as u:
            ref = add_shop(u, NewShop(**body.model_dump()), actor=actor,
                           by_admin=is_admin(user))
    except ShopInputError as exc:
        return JSONResponse(ShopProblems(problems=exc.problems).model_dump(), 409)
    found = read_models.shop(uow, ref)
    assert found is not None  # just added
    return found


@router.post("/shops/{shop_ref}/sync", status_code=202,
             responses={404: {"description": "no such shop"}})
def trigger_sync(uow: UowDep, shop_ref: int = PathParam(ge=1, le=MAX_ID)) -> dict[str, Any]:
    _no_shop(uow, shop_ref)
    return {"queued": enqueue("sync_shop_task", shop_ref)}


@router.get("/shops/{shop_ref}/platform/{what}",
            responses={404: {"description": "no such shop"},
                       502: {"description": "the platform refused or failed"}})
def shop_platform_list(fh: FahuoDep, what: Literal["couriers", "addresses"],
                       shop_ref: int = PathParam(ge=1, le=MAX_ID)) -> list[dict[str, Any]]:
    """Live from the open platform: logistics companies or the shop's address book."""
    try:
        return platform_reference(fh.uow, fh.platform_for, shop_ref, what)
    except UnknownShop as exc:
        raise HTTPException(404, str(exc)) from exc
    except DoudianError as exc:
        raise HTTPException(502, str(exc)) from exc


@router.get("/push-inbox")
def inbox(uow: UowDep,
          status: Literal["pending", "done", "skipped", "failed"] | None = None,
          limit: int = Query(50, ge=1, le=500),
          offset: int = Query(0, ge=0, le=10_000_000)) -> dict[str, Any]:
    """Platform messages, newest first: ``total`` matching, ``items`` (also ``recent``, its
    older name) from ``offset``, ``counts`` per status."""
    found = lists.inbox(uow, status=status, paging=lists.Paging(limit=limit, offset=offset))
    return found.as_api() | {"recent": found.rows, "counts": found.extra["counts"]}


@router.get("/shops/{shop_ref}/settings", responses={404: {"description": "no such shop"}})
def get_settings_(uow: UowDep, shop_ref: int = PathParam(ge=1, le=MAX_ID)) -> dict[str, Any]:
    cfg = read_models.shop_settings(uow, shop_ref)
    if cfg is None:
        raise HTTPException(404, f"没有店铺 {shop_ref}")
    return cfg


@router.put("/shops/{shop_ref}/settings",
            responses={404: {"description": "no such shop"},
                       400: {"description": "nothing saved: `problems` names each wrong "
                                            "setting (or the body is not JSON)"}})
def put_settings(uow: UowDep, actor: Actor, changes: dict[str, Any],
                 shop_ref: int = PathParam(ge=1, le=MAX_ID)) -> Any:
    _no_shop(uow, shop_ref)
    try:
        cfg = update_settings(uow, shop_ref, changes, actor=actor)
    except SettingsError as exc:
        return JSONResponse(SettingsProblems(problems=exc.problems).model_dump(), 400)
    return read_models.masked_settings(cfg)


@router.post("/shops/{shop_ref}/refresh", responses={404: {"description": "no such shop"},
                                                     502: {"description": "platform failed"}})
def refresh_shop(fh: FahuoDep, shop_ref: int = PathParam(ge=1, le=MAX_ID)) -> dict[str, int]:
    _no_shop(fh.uow, shop_ref)
    try:
        return refresh_from_platform(fh.uow, fh.platform_for, shop_ref)
    except DoudianError as exc:
        raise HTTPException(502, str(exc)) from exc


@router.get("/shops/{shop_ref}/addresses", responses={404: {"description": "no such shop"}})
def list_addresses(uow: UowDep, shop_ref: int = PathParam(ge=1, le=MAX_ID)
                   ) -> list[dict[str, Any]]:
    rows = read_models.shop_addresses(uow, shop_ref)
    if rows is None:
        raise HTTPException(404, f"没有店铺 {shop_ref}")
    return rows


@router.put("/shops/{shop_ref}/addresses/{address_id}",
            responses={404: {"description": "no such shop"},
                       400: {"model": SettingsProblems,
                             "description": "nothing saved: `problems` names each wrong field "
                                            "(an address of the platform's book is changed "
                                            "in the Douyin back office)"}})
def put_address(uow: UowDep, actor: Actor, body: AddressIn,
                shop_ref: int = PathParam(ge=1, le=MAX_ID),
                address_id: str = PathParam(pattern=r"^[A-Za-z0-9_-]{1,32}$")
                ) -> Any:
    """Add or edit a ship-from address by hand (platform refreshes keep it)."""
    _no_shop(uow, shop_ref)
    try:
        aid = save_address(uow, shop_ref, address_id, body.model_dump(), actor,
                           default_send=body.is_default_send)
    except SettingsError as exc:
        return JSONResponse(SettingsProblems(message="address not saved",
                                             problems=exc.problems).model_dump(), 400)
    return {"address_id": aid}


class RuleVerdictOut(BaseModel):
    n: int = Field(description="place in the shop's rule list, from 1")
    name: str
    courier_code: str
    verdict: str = Field(description="选中 / 不适用：why / 适用，但… (Chinese)")
    chosen: bool


class ParcelExplanationOut(BaseModel):
    lines: str = Field(description="what the parcel carries")
    province: str
    city: str
    weight_g: int | None = Field(description="None: a SKU has no weight in sku_facts")
    amount_fen: int
    courier_code: str | None = Field(description="None: no courier; the order would be held 超区")
    rule_name: str | None = Field(description="None: the default courier, or no courier")
    reason: str
    considered: list[list[str]] = Field(description="[courier, why it was not chosen]")
    rules: list[RuleVerdictOut]


class ExplanationOut(BaseModel):
    order_id: str | None
    problem: str | None = Field(description="why there is nothing to explain (Chinese)")
    accounts: list[str] = Field(description="couriers with an e-waybill account")
    recent: list[str] = Field(description="the shop's newest orders, to try instead")
    parcels: list[ParcelExplanationOut]


@router.get("/shops/{shop_ref}/courier-explain", response_model=ExplanationOut,
            responses={404: {"description": "no such shop"}})
def courier_explain(fh: FahuoDep, shop_ref: int = PathParam(ge=1, le=MAX_ID),
                    order_id: str = Query("", pattern=r"^\d{0,32}$",
                                          description="an order of the shop; empty: its newest")
                    ) -> ExplanationOut:
    """Which courier strategy rule would pick which courier for one of the shop's orders,
    and why each rule did or did not (the pipeline's own routing and reach)."""
    _no_shop(fh.uow, shop_ref)
    x = explain_courier(fh.uow, fh.platform_for, shop_ref, order_id or None)
    return ExplanationOut(
        order_id=x.order_id, problem=x.problem, accounts=x.accounts,
        recent=[o["order_id"] for o in x.recent],
        parcels=[ParcelExplanationOut(
            lines=p.lines, province=p.facts.province, city=p.facts.city,
            weight_g=p.facts.weight_g, amount_fen=p.facts.amount_fen,
            courier_code=p.decision.courier_code, rule_name=p.decision.rule_name,
            reason=p.decision.reason_zh, considered=[list(c) for c in p.decision.considered],
            rules=[RuleVerdictOut(n=v.n, name=v.name, courier_code=v.courier_code,
                                  verdict=v.verdict, chosen=v.chosen) for v in p.rules])
            for p in x.parcels])


@router.get("/waybills/balance")
def waybill_balance(uow: UowDep, shop: int | None = Query(None, ge=1, le=MAX_ID)
                    ) -> list[dict[str, Any]]:
    return balances(uow, shop)


@router.post("/shops/{shop_ref}/oauth-state", status_code=201, responses={
    403: {"description": "admins only"}, 404: {"description": "no such shop"}})
def api_oauth_state(fh: FahuoDep, user: SignedIn, actor: Actor,
                    shop_ref: int = PathParam(ge=1, le=MAX_ID),
                    service_id: str = Query("", pattern=r"^\d{0,20}$",
                                            description="the app's service market id")
                    ) -> Any:
    """A single-use `state` (15 minutes) for authorising a tool-app shop, and the
    service-market link that carries it when `service_id` is given."""
    if not is_admin(user):
        return JSONResponse({"message": "只有管理员可以授权店铺 (admins only)"}, 403)
    try:
        state = issue_oauth_state(fh.uow, fh.box.derive("oauth-state"), shop_ref,
                                  user_id=user.id if user else None, actor=actor)
    except UnknownShop as exc:
        raise HTTPException(404, str(exc)) from exc
    return {"state": state,
            "authorize_url": authorize_url(service_id, state) if service_id else None}
