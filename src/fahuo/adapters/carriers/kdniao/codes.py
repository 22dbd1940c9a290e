"""Douyin/fahuo courier code -> Kdniao ``ShipperCode`` (§4). Kdniao codes are uppercase.

Keys are fahuo's courier codes (Douyin ``company_code`` where §4 confirms it, otherwise the
Kuaidi100 code, as in ``fahuo.domain.couriers``). No Kdniao code is documented for 顺丰快运 /
中通快运 / 韵达快运, so those are absent (-> UnknownCourier; add an override if needed).
丹鸟 has two Kdniao codes (DNWL / CNSD); DNWL is the default - UNCONFIRMED which one a given
parcel needs.
"""

from __future__ import annotations

from typing import Mapping

from ..base import CodeMap

DOUYIN_TO_KDNIAO: dict[str, str] = {
    "shunfeng": "SF",
    "zhongtong": "ZTO",
    "yuantong": "YTO",
    "yunda": "YD",
    "shentong": "STO",
    "jtexpress": "JTSD",
    "jd": "JD",
    "jingdongkuaiyun": "JDKY",
    "youzhengguonei": "YZPY",
    "youzhengbk": "YZBK",
    "ems": "EMS",
    "debangkuaidi": "DBL",
    "debangwuliu": "DBL",
    "huitongkuaidi": "HTKY",
    "youshuwuliu": "UC",
    "zhaijisong": "ZJS",
    "danniao": "DNWL",
    "kuayue": "KYSY",
    "annengwuliu": "ANE",
}

#: §2.3: ``CustomerName`` (last 4 digits of a phone) required for 顺丰, 跨越 and 中通.
#: fahuo enforces it on query (8001) and subscribe (1008).
PHONE_REQUIRED: frozenset[str] = frozenset({"SF", "ZTO", "KYSY"})


def kdniao_codes(overrides: Mapping[str, str] | None = None) -> CodeMap:
    return CodeMap("kdniao", DOUYIN_TO_KDNIAO, overrides)
