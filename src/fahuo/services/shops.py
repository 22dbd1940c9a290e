"""Connecting shops: validate what the merchant typed, store it encrypted, get a token."""

from __future__ import annotations

from typing import TYPE_CHECKING

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from fahuo.domain.urls import is_loopback, url_problem
from fahuo.services.ports import UowFactory
from fahuo.services.settings import DEFAULT_CONFIRM_MODE

if TYPE_CHECKING:
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
            p["app_key"] = "须为抖店开放平台控制台里的 19 位 App Key"
        if not (self.app_secret or "").strip():
            p["app_secret"] = "必须填写 App Secret"
        if not SHOP_ID.match(self.shop_id or ""):
            p["shop_id"] = "须为数字店铺ID"
        if (bad := url_problem(self.gateway_url)) is not None:
            p["gateway_url"] = bad
        if self.sign_method not in ("hmac-sha256", "md5"):
            p["sign_method"] = "签名方式须为 hmac-sha256 或 md5"
        if self.auth_type not in ("self", "oauth"):
            p["auth_type"] = "须为 self（自用型应用）或 oauth（工具型应用）"
        if self.rate_qps is not None and not (
                isinstance(self.rate_qps, (int, float)) and MIN_QPS <= self.rate_qps <= MAX_QPS):
            p["rate_qps"] = f"每秒调用次数须在 {MIN_QPS} 到 {MAX_QPS} 之间"
        return p


# The documented Douyin open-platform gateways (docs/doudian-open-platform.md §1.1).
DOUYIN_GATEWAYS = ("openapi-fxg.jinritemai.com", "openapi-sandbox.jinritemai.com")


def gateway_needs_admin(url: str) -> bool:
    """Any gateway but Douyin's own (over https) or a sandbox on this computer."""
    p = urlsplit(url or "")
    host = (p.hostname or "").lower()
    return not ((p.scheme == "https" and host in DOUYIN_GATEWAYS) or is_loopback(host))


def add_shop(uow: UnitOfWork, new: NewShop, actor: str = "system", *,
             by_admin: bool = True) -> int:
    """``by_admin``: False for a signed-in operator, who may use only Douyin's gateways (the
    app secret and tokens go to whatever gateway is named)."""
    problems = new.problems()
    if "gateway_url" not in problems and not by_admin and gateway_needs_admin(new.gateway_url):
        problems["gateway_url"] = ("只有管理员可以使用抖音官方网关（" + "、".join(DOUYIN_GATEWAYS)
                                   + "）或本机沙箱以外的地址")
    if uow.shops.find(shop_id=new.shop_id or "", app_key=new.app_key or ""):
        problems["shop_id"] = f"shop {new.shop_id} is already connected with this app key"
    if problems:
        raise ShopInputError(problems)
    ref = uow.shops.add(shop_id=new.shop_id, app_key=new.app_key,
                        app_secret=new.app_secret.strip(), gateway_url=new.gateway_url.rstrip("/"),
                        shop_name=new.shop_name, sign_method=new.sign_method,
                        auth_type=new.auth_type, rate_qps=new.rate_qps)
    # Stored at once: the shop keeps this choice even if the default changes later.
    uow.settings.save(ref, {"confirm_mode": DEFAULT_CONFIRM_MODE})
    uow.audit.add(actor=actor, action="shop.add", subject_type="shop", subject_id=str(ref),
                  detail={"shop_id": new.shop_id, "app_key": new.app_key,
                          "gateway_url": new.gateway_url})
    return ref


class OAuthRefused(PermissionError):
    """An OAuth callback fahuo will not act on; the reason is in the audit log."""


OAUTH_STATE_S = 15 * 60  # the merchant authorises within minutes; the code lives 10
AUTHORIZE_URL = "https://fuwu.jinritemai.com/authorize"


def _state_sig(key: bytes, nonce: str) -> str:
    return hmac.new(key, nonce.encode(), hashlib.sha256).hexdigest()[:32]


def issue_oauth_state(uow_factory: UowFactory, key: bytes, shop_ref: int, *,
                      user_id: int | None, actor: str, now: int | None = None) -> str:
    """A signed, single-use ``state`` for authorising this shop, issued to an admin."""
    at = int(time.time()) if now is None else now
    nonce = secrets.token_urlsafe(18)
    with uow_factory() as uow:
        if uow.shops.get(shop_ref) is None:
            raise UnknownShop(f"店铺 #{shop_ref} 不存在")
        uow.users.forget_oauth_states_before(at - 86400)
        uow.users.add_oauth_state(nonce_hash=hashlib.sha256(nonce.encode()).hexdigest(),
                                  shop_ref=shop_ref, user_id=user_id, created_at=at,
                                  expires_at=at + OAUTH_STATE_S)
        uow.audit.add(actor=actor, action="shop.oauth_start", subject_type="shop",
                      subject_id=str(shop_ref), detail={"expires_at": at + OAUTH_STATE_S})
    return f"{nonce}.{_state_sig(key, nonce)}"


def authorize_url(service_id: str, state: str) -> str:
    return f"{AUTHORIZE_URL}?{urlencode({'service_id': service_id, 'state': state})}"


def _refuse(uow_factory: UowFactory, shop_ref: int | None, reason: str,
            detail: dict) -> OAuthRefused:
    with uow_factory() as uow:
        uow.audit.add(actor=detail.pop("actor", None) or "anonymous",
                      action="shop.oauth_refused", subject_type="shop",
                      subject_id=str(shop_ref or ""), detail={"reason": reason, **detail})
    return OAuthRefused(f"{_REASONS.get(reason, reason)} ({reason})")


_REASONS = {  # for the merchant; the audit log keeps the English reason
    "state is not one fahuo issued": "授权参数不是本系统签发的",
    "unknown state": "授权参数不存在",
    "state already used": "授权链接已经用过",
    "state expired": f"授权链接已过期（{OAUTH_STATE_S // 60} 分钟内有效）",
    "state was issued to another user": "授权链接是发给另一位用户的",
    "the code is for another shop": "授权码属于另一家店铺，令牌未保存",
}


def use_oauth_state(uow_factory: UowFactory, key: bytes, state: str, *,
                    user_id: int | None, actor: str | None = None, client: str = "",
                    now: int | None = None) -> int:
    """The shop # a valid state was issued for; it can never be used again. Anything else
    (forged, unknown, used, expired, another person's) is refused and audited."""
    at = int(time.time()) if now is None else now
    seen = {"actor": actor, "client": client}
    nonce, _, sig = (state or "")[:200].partition(".")
    if not nonce or not hmac.compare_digest(_state_sig(key, nonce), sig):
        raise _refuse(uow_factory, None, "state is not one fahuo issued", seen)
    digest = hashlib.sha256(nonce.encode()).hexdigest()
    with uow_factory() as uow:
        row = uow.users.oauth_state(digest)
        if row is not None and row["user_id"] is not None and row["user_id"] != user_id:
            problem = "state was issued to another user"
        elif row is not None and uow.users.use_oauth_state(digest, at):
            return row["shop_ref"]
        else:
            problem = ("unknown state" if row is None else
                       "state already used" if row["used_at"] else "state expired")
    raise _refuse(uow_factory, row["shop_ref"] if row else None, problem, seen)


def connect_shop(platform, uow_factory: UowFactory, shop_ref: int,
                 code: str | None = None, *, actor: str = "system") -> str:
    """Get (or check) the shop's token now, so a wrong key or secret shows up at once.

    With an OAuth code, the token is kept only when it is for this very shop: a code another
    shop's merchant obtained must never replace this shop's token."""
    session = platform.session
    if code:  # tool apps: the OAuth code the merchant was redirected back with
        with uow_factory() as uow:
            shop = uow.shops.get(shop_ref)
        if shop is None:
            raise UnknownShop(f"店铺 #{shop_ref} 不存在")
        got = session.client.create_token(code=code)
        if str(got.shop_id) != str(shop.shop_id):
            raise _refuse(uow_factory, shop_ref, "the code is for another shop",
                          {"actor": actor, "shop_id": shop.shop_id, "token_shop_id": got.shop_id})
        session.token_store.save(str(shop_ref), got)
    tokens = session.tokens()
    with uow_factory() as uow:
        uow.audit.add(actor=actor, action="shop.connect", subject_type="shop",
                      subject_id=str(shop_ref), detail={"shop_name": tokens.shop_name if tokens
                                                        else ""})
    return tokens.shop_name if tokens else ""


class UnknownShop(LookupError):
    pass


def platform_reference(uow_factory: UowFactory, platform_for, shop_ref: int,
                       what: str) -> list[dict]:
    """Live platform lists a merchant checks while setting up: couriers or ship-from addresses."""
    from dataclasses import asdict
    with uow_factory() as uow:
        shop = uow.shops.get(shop_ref)
    if shop is None:
        raise UnknownShop(f"店铺 #{shop_ref} 不存在")
    api = platform_for(shop)
    if what == "couriers":
        return [asdict(c) for c in api.logistics_companies()]
    if what == "addresses":
        return [asdict(a) for a in api.all_addresses()]
    raise ValueError(f"未知的列表 {what!r}：只有 couriers（快递公司）或 addresses（发货地址）")
