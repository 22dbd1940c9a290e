"""Douyin/fahuo courier code -> Kuaidi100 ``com`` (§4). Kuaidi100 codes are lowercase.

Douyin codes CONFIRMED in §4: shunfeng, zhongtong, yuantong, yunda, shentong, jtexpress, jd
(and ``qita``, which has no provider code). For the rest §4 marks the Douyin code
UNCONFIRMED; fahuo's courier table (``fahuo.domain.couriers``) keys them by the Kuaidi100
code, so they map to themselves. Override per deployment via ``Kuaidi100Settings.courier_overrides``.
"""

from __future__ import annotations

from typing import Mapping

from ..base import CodeMap

DOUYIN_TO_KUAIDI100: dict[str, str] = {
    "shunfeng": "shunfeng",
    "shunfengkuaiyun": "shunfengkuaiyun",
    "zhongtong": "zhongtong",
    "zhongtongkuaiyun": "zhongtongkuaiyun",
    "yuantong": "yuantong",
    "yunda": "yunda",
    "yundakuaiyun": "yundakuaiyun",
    "shentong": "shentong",
    "jtexpress": "jtexpress",
    "jd": "jd",
    "jingdongkuaiyun": "jingdongkuaiyun",
    "youzhengguonei": "youzhengguonei",
    "youzhengbk": "youzhengbk",
    "youzhengdsbk": "youzhengdsbk",
    "ems": "ems",
    "debangkuaidi": "debangkuaidi",  # 德邦快递
    "debangwuliu": "debangwuliu",  # 德邦物流
    "huitongkuaidi": "huitongkuaidi",
    "youshuwuliu": "youshuwuliu",
    "zhaijisong": "zhaijisong",
    "danniao": "danniao",
    "kuayue": "kuayue",
    "annengwuliu": "annengwuliu",
}

#: Kuaidi100 ``com`` codes whose query needs ``phone`` (§1.2: 顺丰速运, 顺丰快运, 中通快递).
#: fahuo also enforces it on subscribe (§1.3 says "mandatory for SF"; ZTO added because its
#: query needs it - a subscription that can never fetch traces is worse than an early error).
PHONE_REQUIRED: frozenset[str] = frozenset({"shunfeng", "shunfengkuaiyun", "zhongtong"})


def kuaidi100_codes(overrides: Mapping[str, str] | None = None) -> CodeMap:
    return CodeMap("kuaidi100", DOUYIN_TO_KUAIDI100, overrides)
