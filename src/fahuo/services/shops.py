"""Connecting shops: validate what the merchant typed, store it encrypted, get a token."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from fahuo.adapters.store.unit_of_work import UnitOfWork

APP_KEY = re.compile(r"^\d{19}$")
SHOP_ID = re.compile(r"^\d{1,20}$")
# A budget below one call in two seconds stalls every task of the shop; above the
# platform's own scale it is a typo.
MIN_QPS, MAX_QPS = 0.5, 10000


class ShopInputError(ValueError):
    """Names every field that is wrong; nothing was stored."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


@dataclass(slots=True)
class NewShop:
    shop_id: str
    app_key: str
    app_secret: str
    gateway_url: str = "https://openapi-fxg.jinritemai.com"
    shop_name: str = ""
    sign_method: str = "hmac-sha256"
    auth_type: str = "self"
    rate_qps: float | None = None

    def problems(self) -> dict[str, str]:
        p: dict[str, str] = {}
        if not APP_KEY.match(self.app_key or ""):
            p["app_key"] = "must be the 19-digit app key from the Douyin open platform console"
        if not (self.app_secret or "").strip():
            p["app_secret"] = "is required"
        if not SHOP_ID.match(self.shop_id or ""):
            p["shop_id"] = "must be the numeric shop id (店铺ID)"
        if not (self.gateway_url or "").startswith(("http://", "https://")):
            p["gateway_url"] = "must be an http(s) URL"
        if self.sign_method not in ("hmac-sha256", "md5"):
            p["sign_method"] = "must be hmac-sha256 or md5"
        if self.auth_type not in ("self", "oauth"):
            p["auth_type"] = "must be self (自用型应用) or oauth (工具型应用)"
        if self.rate_qps is not None and not (
                isinstance(self.rate_qps, (int, float)) and MIN_QPS <= self.rate_qps <= MAX_QPS):
            p["rate_qps"] = f"must be between {MIN_QPS} and {MAX_QPS} calls per second"
        return p


def add_shop(uow: UnitOfWork, new: NewShop, actor: str = "system") -> int:
    problems = new.problems()
    if uow.shops.find(shop_id=new.shop_id or "", app_key=new.app_key or ""):
        problems["shop_id"] = f"shop {new.shop_id} is already connected with this app key"
    if problems:
        raise ShopInputError(problems)
    ref = uow.shops.add(shop_id=new.shop_id, app_key=new.app_key,
                        app_secret=new.app_secret.strip(), gateway_url=new.gateway_url.rstrip("/"),
                        shop_name=new.shop_name, sign_method=new.sign_method,
                        auth_type=new.auth_type, rate_qps=new.rate_qps)
    uow.audit.add(actor=actor, action="shop.add", subject_type="shop", subject_id=str(ref),
                  detail={"shop_id": new.shop_id, "app_key": new.app_key,
                          "gateway_url": new.gateway_url})
    return ref


def connect_shop(platform, uow_factory: Callable[[], UnitOfWork], shop_ref: int,
                 code: str | None = None) -> str:
    """Get (or check) the shop's token now, so a wrong key or secret shows up at once."""
    session = platform.session
    if code:  # tool apps: the OAuth code the merchant was redirected back with
        session.token_store.save(str(shop_ref), session.client.create_token(code=code))
    tokens = session.tokens()
    with uow_factory() as uow:
        uow.audit.add(actor="system", action="shop.connect", subject_type="shop",
                      subject_id=str(shop_ref), detail={"shop_name": tokens.shop_name if tokens
                                                        else ""})
    return tokens.shop_name if tokens else ""


class UnknownShop(LookupError):
    pass


def platform_reference(uow_factory: Callable[[], UnitOfWork], platform_for, shop_ref: int,
                       what: str) -> list[dict]:
    """Live platform lists a merchant checks while setting up: couriers or ship-from addresses."""
    from dataclasses import asdict
    with uow_factory() as uow:
        shop = uow.shops.get(shop_ref)
    if shop is None:
        raise UnknownShop(f"no shop {shop_ref}")
    api = platform_for(shop)
    if what == "couriers":
        return [asdict(c) for c in api.logistics_companies()]
    if what == "addresses":
        return [asdict(a) for a in api.all_addresses()]
    raise ValueError(f"unknown list {what!r}: couriers or addresses")
