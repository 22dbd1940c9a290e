"""Reachability: the remote areas each courier does not serve, and ``logistics.getOutRange``."""
from __future__ import annotations

from typing import Any

from ..gateway import Ctx, api_method
from ..params import obj_param, p_int
from .fields import address_param, courier_param


# Remote areas (out of delivery range) per courier: (province, city | None, district | None).
_SANSHA = ("海南省", "三沙市", None)
OUT_OF_RANGE: dict[str, list[tuple[str, str | None, str | None]]] = {
    "zhongtong": [("西藏自治区", "阿里地区", None), ("西藏自治区", "那曲市", None), _SANSHA],
    "yuantong": [("西藏自治区", "阿里地区", None), ("新疆维吾尔自治区", "和田地区", None), _SANSHA],
    "yunda": [("西藏自治区", None, None), ("青海省", "玉树藏族自治州", None), _SANSHA],
    "shentong": [("西藏自治区", None, None), ("新疆维吾尔自治区", "和田地区", None),
                 ("新疆维吾尔自治区", "阿勒泰地区", None), _SANSHA],
    "jtexpress": [("西藏自治区", "阿里地区", None), _SANSHA],
    "shunfeng": [_SANSHA],
}
OUT_RANGE_REASON = 4  # 网点经营问题


def _name_match(a: str, b: str) -> bool:
    a, b = (a or "").strip(), (b or "").strip()
    return bool(a and b) and (a == b or a.startswith(b) or b.startswith(a))


def out_of_range(code: str, province: str, city: str, district: str) -> bool:
    for p, c, d in OUT_OF_RANGE.get(code, ()):
        if _name_match(province, p) and (c is None or _name_match(city, c)) and (d is None or _name_match(district, d)):
            return True
    return False


@api_method("logistics.getOutRange")
def get_out_range(ctx: Ctx, params: dict[str, Any]) -> Any:
    code = courier_param(params)
    typ = p_int(params, "type", 0, lo=0, hi=2, msg="type仅支持0（揽派合一）、1（揽收）、2（派送）")
    checks = []
    if typ in (0, 1):
        checks.append(address_param(obj_param(params, "sender_address"), "sender_address"))
    if typ in (0, 2):
        checks.append(address_param(obj_param(params, "receiver_address"), "receiver_address"))
    out = any(out_of_range(code, a["province_name"], a["city_name"], a["district_name"]) for a in checks)
    return {"is_out_range": out, "out_range_reason": OUT_RANGE_REASON if out else 0}
