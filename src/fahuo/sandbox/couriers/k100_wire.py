"""Kuaidi100 wire formats (tracking-and-couriers.md §1): courier codes, state names, the trace and
``lastResult`` shapes, signatures, reply bodies and what counts as an acknowledged push."""
from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx

from .places import CITIES, fmt_time


# Kuaidi100 ``com`` codes the sandbox tracks: §4 cross-reference plus the sandbox's own Douyin list.
K100_COMPANIES: dict[str, str] = {
    "shunfeng": "顺丰速运", "shunfengkuaiyun": "顺丰快运", "zhongtong": "中通快递",
    "zhongtongkuaiyun": "中通快运", "yuantong": "圆通速递", "yunda": "韵达快递", "yundakuaiyun": "韵达快运",
    "shentong": "申通快递", "jtexpress": "极兔速递", "youzhengguonei": "邮政快递包裹",
    "youzhengbk": "邮政标准快递", "youzhengdsbk": "邮政电商标快", "ems": "EMS", "jd": "京东快递",
    "jingdongkuaiyun": "京东快运", "debangkuaidi": "德邦快递", "debangwuliu": "德邦物流",
    "huitongkuaidi": "百世快递", "youshuwuliu": "优速快递", "zhaijisong": "宅急送", "danniao": "丹鸟",
    "kuayue": "跨越速运", "annengwuliu": "安能物流", "fengwang": "丰网速运", "zhongyouex": "众邮快递",
}


PHONE_QUERY = frozenset({"shunfeng", "shunfengkuaiyun", "zhongtong"})  # §1.2 query needs phone
PHONE_SUBSCRIBE = frozenset({"shunfeng", "shunfengkuaiyun"})  # §1.3: "mandatory for SF"


# Kuaidi100 names (§1.5): base state → name (resultv2=1), statusCode → name (resultv2=4).
BASE_NAME = {"1": "揽收", "0": "在途", "5": "派件", "3": "签收", "6": "退回", "4": "退签", "14": "拒签", "2": "疑难"}
CODE_NAME = {"103": "已揽收", "1002": "干线", "1001": "到达派件城市", "5": "派件", "501": "投柜或驿站",
             "301": "本人签收", "302": "派件异常后签收", "304": "投柜或站签收", "204": "派件异常", "205": "柜或驿站超时未取",
             "206": "无法联系", "14": "拒签", "6": "退回", "4": "退签", "2": "疑难"}


def k100_item(ev: dict[str, Any], resultv2: str) -> dict[str, Any]:
    """One ``data[]`` trace (§1.2): extra fields only for the resultv2 levels that ask for them."""
    t = fmt_time(ev["at"])
    item: dict[str, Any] = {"time": t, "ftime": t, "context": ev["context"], "location": ev["city"]}
    if resultv2 in ("1", "4", "8"):
        prov, cid, lat, lon = CITIES.get(ev["city"], ("", "000000", 0.0, 0.0))
        item.update(areaCode=f"CN{cid}000000", areaName=f"{prov.rstrip('省市')},{ev['city']}" if prov else ev["city"],
                    status=BASE_NAME[ev["state"]])
        if resultv2 in ("4", "8"):
            item.update(status=CODE_NAME.get(ev["code"], BASE_NAME[ev["state"]]), statusCode=ev["code"],
                        areaCenter=f"{lon},{lat}")
    return item


def last_result(number: str, com: str, events: list[dict[str, Any]], resultv2: str,
                order: str = "desc") -> dict[str, Any]:
    """The push's ``lastResult`` / the query body (§1.2, §1.4). ``events`` oldest first."""
    items = [k100_item(e, resultv2) for e in events]
    if order != "asc":
        items.reverse()
    newest = events[-1] if events else None
    return {"message": "ok", "nu": number, "ischeck": "1" if newest and newest["state"] == "3" else "0",
            "condition": "F00", "com": com, "status": "200", "state": newest["state"] if newest else "0",
            "data": items}


def route_info(plan: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    def place(city: str) -> dict[str, str]:
        prov, cid, _, _ = CITIES.get(city, ("", "000000", 0, 0))
        return {"number": f"CN{cid}000000", "name": f"{prov.rstrip('省市')},{city}" if prov else city}

    cur = events[-1]["city"] if events else plan["origin"]["city"]
    return {"from": place(plan["origin"]["city"]), "cur": place(cur), "to": place(plan["dest"]["city"])}


def k100_sign(text: str, *, sha256: bool = False) -> str:
    h = hashlib.sha256 if sha256 else hashlib.md5
    return h(text.encode("utf-8")).hexdigest().upper()


def phone_tail(phone: Any) -> str | None:
    """Last 4 digits (after the last "-" for platform virtual numbers, §1.2); None if fewer."""
    text = str(phone or "").strip().rsplit("-", 1)[-1]
    digits = "".join(c for c in text if c.isdigit())
    return digits[-4:] if len(digits) >= 4 else None


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def k100_reply(code: str, message: str, result: bool = False) -> dict[str, Any]:
    return {"result": result, "returnCode": code, "message": message}


def acknowledged(resp: httpx.Response) -> bool:
    """§1.4/§8: only ``{"result":true,"returnCode":"200","message":"成功"}`` (SDK sample: "提交成功") counts."""
    if resp.status_code != 200:
        return False
    try:
        body = resp.json()
    except ValueError:
        return False
    return (isinstance(body, dict) and body.get("result") is True and body.get("returnCode") == "200"
            and body.get("message") in ("成功", "提交成功"))
