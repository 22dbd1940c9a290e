"""Kuaidi100 快递拦截 (labelV2 ``interceptOrder``): ask the courier to turn a parcel round.

``POST settings.label_url`` (default ``https://api.kuaidi100.com/label/order``, not the poll
host), form ``method=interceptOrder``, ``key``, ``t`` (epoch milliseconds), ``param`` (JSON
text), ``sign``::

    sign = UPPERCASE(MD5(param + t + key + secret))   # param = the exact JSON text sent

``param`` (official SDK ``InterceptOrderReq``): ``orderId`` (ours), ``kuaidicom``,
``kuaidinum``, the courier's e-waybill account (``partnerId``, ``partnerKey``,
``partnerSecret``, ``partnerName``, ``code``, ``net`` — ``net=douyin`` for Douyin-authorised
accounts), ``reason``, ``interceptType`` (RETURN_SEND_STATION / RETURN_SEND_ADDR / MODIFY_ADDR,
the last with ``recManInfo{name, mobile, printAddr}``), ``orderRole`` (1 寄方, 2 收方, 3 第三方),
``interceptPayType``, ``salt``, ``callbackUrl``, ``appKey``/``appSecret`` (ZTO service-provider
mode only). Only fields that are set are sent.

Reply (labelV2 ``Result``): ``{"code": int, "message", "data", "time"}``; 200 = accepted,
anything else is a refusal -> :class:`ProviderError` carrying Kuaidi100's own code and words.
The shapes of ``data`` and of the result callback are undocumented: ``data`` is handed back
raw and never interpreted, and no callback is asked for by default.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import httpx

from ..base import ProviderError, json_body
from .client import dump_param
from .codes import kuaidi100_codes
from .settings import Kuaidi100Settings

__all__ = ["INTERCEPT_TYPES", "ORDER_ROLES", "PAY_TYPES", "PARTNER_FIELDS", "ZTO_FIELDS",
           "SECRET_FIELDS", "InterceptAck", "InterceptRequest", "Kuaidi100Interceptor",
           "check_partner", "label_sign"]

PROVIDER = "kuaidi100"
METHOD = "interceptOrder"
INTERCEPT_TYPES: dict[str, str] = {
    "RETURN_SEND_STATION": "退回寄件网点",
    "RETURN_SEND_ADDR": "退回寄件地址",
    "MODIFY_ADDR": "修改地址",
}
ORDER_ROLES: dict[str, str] = {"1": "寄方", "2": "收方", "3": "第三方"}
PAY_TYPES = ("SHIPPER", "CONSIGNEE", "THIRDPARTY", "MONTHLY")
#: the courier's e-waybill account, per courier
PARTNER_FIELDS = ("partnerId", "partnerKey", "partnerSecret", "partnerName", "code", "net")
#: only for ZTO in service-provider mode
ZTO_FIELDS = ("appKey", "appSecret")
ZTO_CODES = frozenset({"zhongtong"})
SECRET_FIELDS = frozenset({"partnerKey", "partnerSecret", "appSecret"})
RECEIVER_FIELDS = ("name", "mobile", "printAddr")
MAX_FIELD = 256


def label_sign(param: str, t: str, key: str, secret: str) -> str:
    """labelV2: ``UPPERCASE(MD5(param + t + key + secret))``."""
    return hashlib.md5((param + t + key + secret).encode("utf-8")).hexdigest().upper()


def check_partner(courier: str, fields: Mapping[str, Any]) -> dict[str, str]:
    """A courier's e-waybill account as sent to Kuaidi100: known field names only, strings,
    ``partnerId`` present. Raises ValueError naming every problem."""
    problems = []
    allowed = PARTNER_FIELDS + (ZTO_FIELDS if courier in ZTO_CODES else ())
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        extra = (f" ({', '.join(ZTO_FIELDS)} only for {', '.join(sorted(ZTO_CODES))})"
                 if set(unknown) & set(ZTO_FIELDS) else "")
        problems.append(f"unknown partner fields {', '.join(unknown)}; allowed: "
                        f"{', '.join(allowed)}{extra}")
    clean: dict[str, str] = {}
    for k in allowed:
        v = fields.get(k)
        if v is None:
            continue
        if not isinstance(v, str):
            problems.append(f"{k} must be text")
            continue
        v = v.strip()
        if len(v) > MAX_FIELD:
            problems.append(f"{k} is longer than {MAX_FIELD} characters")
        elif v:
            clean[k] = v
    if "partnerId" not in clean and not any(p.startswith("partnerId") for p in problems):
        problems.append(f"partnerId (the {courier} e-waybill account) is required")
    if problems:
        raise ValueError("; ".join(problems))
    return clean


@dataclass(frozen=True)
class InterceptRequest:
    order_id: str  # fahuo's own id for this request (Kuaidi100 ``orderId``)
    courier: str  # fahuo/Douyin courier code; mapped to ``kuaidicom``
    track_no: str
    partner: Mapping[str, str] = field(repr=False)  # see :func:`check_partner`
    reason: str = ""
    intercept_type: str = "RETURN_SEND_ADDR"
    order_role: str | None = "1"
    pay_type: str | None = None
    #: ``recManInfo`` {name, mobile, printAddr}: the new receiver, MODIFY_ADDR only
    receiver: Mapping[str, str] | None = field(default=None, repr=False)
    salt: str | None = field(default=None, repr=False)
    callback_url: str | None = None


@dataclass(frozen=True)
class InterceptAck:
    track_no: str
    order_id: str
    code: int
    message: str
    data: Any  # undocumented shape: kept as sent
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)


class Kuaidi100Interceptor:
    name = PROVIDER

    def __init__(self, settings: Kuaidi100Settings, *, http: httpx.Client | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        if not settings.secret:
            raise ValueError("快递100拦截需要账号的 secret（Kuaidi100 interception needs the secret）")
        self.settings = settings
        self.http = http if http is not None else httpx.Client(timeout=settings.timeout)
        self.clock = clock
        self.codes = kuaidi100_codes(settings.courier_overrides)

    # -- request builders (pure) -------------------------------------------------------
    def build_param(self, req: InterceptRequest) -> dict[str, Any]:
        problems = []
        number = (req.track_no or "").strip()
        if not number or len(number) > 32:
            problems.append(f"kuaidinum must be 1-32 characters, got {number!r}")
        if not (req.order_id or "").strip():
            problems.append("orderId is required")
        if req.intercept_type not in INTERCEPT_TYPES:
            problems.append(f"interceptType must be one of {', '.join(INTERCEPT_TYPES)}, got "
                            f"{req.intercept_type!r}")
        if req.order_role is not None and req.order_role not in ORDER_ROLES:
            problems.append(f"orderRole must be one of {', '.join(ORDER_ROLES)}, got "
                            f"{req.order_role!r}")
        if req.pay_type is not None and req.pay_type not in PAY_TYPES:
            problems.append(f"interceptPayType must be one of {', '.join(PAY_TYPES)}, got "
                            f"{req.pay_type!r}")
        receiver = None
        if req.intercept_type == "MODIFY_ADDR":
            given = dict(req.receiver or {})
            missing = [k for k in RECEIVER_FIELDS if not str(given.get(k) or "").strip()]
            if missing:
                problems.append(f"MODIFY_ADDR needs recManInfo with {', '.join(missing)}")
            receiver = {k: str(given[k]).strip() for k in RECEIVER_FIELDS if k in given}
        elif req.receiver:
            problems.append("recManInfo is only for interceptType MODIFY_ADDR")
        if req.callback_url and not req.callback_url.startswith(("https://", "http://")):
            problems.append(f"callbackUrl must be an http(s) URL, got {req.callback_url!r}")
        try:
            partner = check_partner(req.courier, req.partner)
        except ValueError as exc:
            problems.append(str(exc))
            partner = {}
        if problems:
            raise ValueError("; ".join(problems))
        param: dict[str, Any] = {"orderId": req.order_id.strip(),
                                 "kuaidicom": self.codes.to_provider(req.courier),
                                 "kuaidinum": number, **partner,
                                 "interceptType": req.intercept_type}
        # only what is set goes out
        for k, v in (("reason", req.reason), ("orderRole", req.order_role),
                     ("interceptPayType", req.pay_type), ("salt", req.salt),
                     ("callbackUrl", req.callback_url)):
            if v:
                param[k] = v
        if receiver:
            param["recManInfo"] = receiver
        return param

    def build_form(self, req: InterceptRequest) -> dict[str, str]:
        text = dump_param(self.build_param(req))
        t = str(int(self.clock() * 1000))
        key, secret = self.settings.key, self.settings.secret or ""
        return {"method": METHOD, "key": key, "t": t, "param": text,
                "sign": label_sign(text, t, key, secret)}

    # -- the call ------------------------------------------------------------------------
    def intercept(self, req: InterceptRequest) -> InterceptAck:
        """Accepted -> :class:`InterceptAck`; refused or unreachable -> ProviderError."""
        form = self.build_form(req)
        try:
            resp = self.http.post(self.settings.label_url, data=form)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ProviderError(PROVIDER, "transport-connect", str(exc) or type(exc).__name__,
                                retryable=True) from exc
        except httpx.HTTPError as exc:
            # The request may have arrived: interception is not idempotent, so never retried
            # blindly; the caller says the outcome is unknown.
            raise ProviderError(PROVIDER, "transport",
                                f"未收到快递100答复，拦截可能已受理：{exc or type(exc).__name__}"
                                ) from exc
        body = json_body(PROVIDER, resp)
        code = body.get("code")
        if isinstance(code, bool) or not isinstance(code, (int, str)) \
                or not str(code).strip().lstrip("-").isdigit():
            raise ProviderError(PROVIDER, "bad-response", f"no numeric code in {resp.text[:200]!r}",
                                payload=body)
        code = int(str(code).strip())
        message = str(body.get("message") or "")
        if code != 200:
            raise ProviderError(PROVIDER, str(code), message or "拦截失败", payload=body)
        return InterceptAck(track_no=req.track_no.strip(), order_id=req.order_id.strip(),
                            code=code, message=message, data=body.get("data"), raw=body)
