"""Parameter shapes of the e-waybill and shipping methods: couriers, tracking numbers, addresses, contacts."""
from __future__ import annotations

import re
from typing import Any

from ..core import ApiError
from ..methods import COMPANY_BY_CODE
from ..params import bad, missing, str_param


def biz(n: int, msg: str) -> ApiError:
    return ApiError(50002, f"isv.business-failed:{n}", msg)


def company_param(params: dict[str, Any]) -> dict[str, Any]:
    code = str_param(params, "company_code")
    c = COMPANY_BY_CODE.get(code)
    if c is None:
        raise bad("company_code", f"company_code不存在: {code}（请使用order.logisticsCompanyList返回的code）")
    return c


def courier_param(params: dict[str, Any]) -> str:
    code = str_param(params, "logistics_code")
    if code not in COMPANY_BY_CODE:
        raise bad("logistics_code", f"logistics_code不存在: {code}")
    return code


def tracking_param(params: dict[str, Any], name: str = "logistics_code") -> str:
    no = str_param(params, name)
    if not re.fullmatch(r"[A-Za-z0-9-]{6,32}", no):
        raise bad(name, f"运单号格式错误: {no}")
    return no


def address_param(addr: dict[str, Any], label: str, street_required: bool = False) -> dict[str, str]:
    out = {}
    for f in ("province_name", "city_name", "district_name", "detail_address"):
        out[f] = str_param(addr, f, f"{label}.{f}")
    st = addr.get("street_name")
    if street_required and not st:
        raise missing(f"{label}.street_name")
    out["street_name"] = str(st).strip() if st not in (None, "") else ""
    return out


def contact_param(c: dict[str, Any], label: str) -> dict[str, str]:
    name = str_param(c, "name", f"{label}.name")
    mobile, phone = c.get("mobile"), c.get("phone")
    if not mobile and not phone:
        raise missing(f"{label}.mobile", f"{label}需要mobile或phone")
    return {"name": name, "mobile": str(mobile or ""), "phone": str(phone or "")}
