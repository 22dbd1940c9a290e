"""Simulated couriers: tracking timelines, Kuaidi100 (快递100) and Douyin ``trackNoRouteDetail``.

Facts: tracking-and-couriers.md §1 (Kuaidi100) and doudian-open-platform.md §9.8. Choices where
those are silent are listed in the :mod:`fahuo.sandbox` docstring ("Couriers and tracking").

Pure part (no I/O): :func:`make_plan` (route, hubs, people of one parcel), :func:`timeline`
(the events of a plan for one anomaly kind, optionally continuing a kept history),
:func:`pick_anomaly`, and the wire shapes :func:`k100_item`, :func:`last_result`,
:func:`douyin_node`.

Stateful part: :class:`Couriers` (one per :class:`~fahuo.sandbox.core.Sandbox`): Kuaidi100 accounts,
timelines (built lazily from the ``shipments`` table or from a subscription), subscriptions,
pushes (background thread + :meth:`Couriers.tick`), queries and 快递拦截 (``/label/order``
``interceptOrder``, :meth:`Couriers.label_order`).

An event is a dict ``{step, at, state, code, context, city, site, douyin}``: ``state`` is the
Kuaidi100 base ``state``, ``code`` the advanced ``statusCode`` (resultv2=4), ``douyin`` the
Douyin node ``state``.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import math
import random
import secrets
import string
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import httpx
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from . import generator as gen
from .core import ApiError
from .gateway import Ctx, api_method
from .logistics.fields import courier_param
from .methods import shop_addresses
from .params import bad, str_param

if TYPE_CHECKING:
    from .core import Sandbox

HOUR = 3600
DAY = 86400
QUERY_INTERVAL = 30 * 60  # §1.2: one query per waybill per 30 minutes, else 锁单
NO_RECORD_ABORT = 3 * DAY  # §1.3: "3天查询无记录"
NO_CHANGE_ABORT = 60 * DAY  # §1.4: "60天无变化"

ANOMALIES = ("never_collected", "stalled", "failed_delivery", "refused", "returned", "lost")
KINDS = ("none",) + ANOMALIES

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
TERMINAL_STEPS = frozenset({"signed", "returned"})
# labelV2 interceptOrder (official SDK InterceptOrderReq): every field it may carry
LABEL_INTERCEPT_FIELDS = frozenset({
    "orderId", "kuaidicom", "kuaidinum", "partnerId", "partnerKey", "partnerSecret", "partnerName", "code",
    "net", "reason", "interceptType", "recManInfo", "orderRole", "interceptPayType", "salt", "callbackUrl",
    "appKey", "appSecret"})
LABEL_INTERCEPT_TYPES = ("RETURN_SEND_STATION", "RETURN_SEND_ADDR", "MODIFY_ADDR")
LABEL_PAY_TYPES = ("SHIPPER", "CONSIGNEE", "THIRDPARTY", "MONTHLY")

# Kuaidi100 names (§1.5): base state → name (resultv2=1), statusCode → name (resultv2=4).
BASE_NAME = {"1": "揽收", "0": "在途", "5": "派件", "3": "签收", "6": "退回", "4": "退签", "14": "拒签", "2": "疑难"}
CODE_NAME = {"103": "已揽收", "1002": "干线", "1001": "到达派件城市", "5": "派件", "501": "投柜或驿站",
             "301": "本人签收", "302": "派件异常后签收", "304": "投柜或站签收", "204": "派件异常", "205": "柜或驿站超时未取",
             "206": "无法联系", "14": "拒签", "6": "退回", "4": "退签", "2": "疑难"}
# Douyin node state → state_description; both are keys of fahuo's (UNCONFIRMED) DOUYIN table.
DOUYIN_DESC = {"揽收": "已揽收", "在途": "运输中", "派件": "派送中", "待取件": "待取件", "签收": "已签收",
               "疑难": "异常", "拒签": "拒收", "退回": "退回中", "退签": "退签", "丢失": "丢失"}

# city → (province, city id, latitude, longitude): every generator region plus two western hubs.
CITIES: dict[str, tuple[str, str, float, float]] = {
    "北京市": ("北京市", "110100", 39.90, 116.40), "上海市": ("上海市", "310100", 31.23, 121.47),
    "深圳市": ("广东省", "440300", 22.54, 114.06), "广州市": ("广东省", "440100", 23.13, 113.26),
    "东莞市": ("广东省", "441900", 23.02, 113.75), "杭州市": ("浙江省", "330100", 30.27, 120.15),
    "金华市": ("浙江省", "330700", 29.08, 119.65), "苏州市": ("江苏省", "320500", 31.30, 120.58),
    "南京市": ("江苏省", "320100", 32.06, 118.80), "成都市": ("四川省", "510100", 30.57, 104.07),
    "重庆市": ("重庆市", "500100", 29.56, 106.55), "武汉市": ("湖北省", "420100", 30.59, 114.31),
    "长沙市": ("湖南省", "430100", 28.23, 112.94), "青岛市": ("山东省", "370200", 36.07, 120.38),
    "济南市": ("山东省", "370100", 36.65, 117.12), "郑州市": ("河南省", "410100", 34.75, 113.63),
    "石家庄市": ("河北省", "130100", 38.04, 114.51), "西安市": ("陕西省", "610100", 34.34, 108.94),
    "厦门市": ("福建省", "350200", 24.48, 118.09), "合肥市": ("安徽省", "340100", 31.82, 117.23),
    "南昌市": ("江西省", "360100", 28.68, 115.86), "昆明市": ("云南省", "530100", 25.04, 102.71),
    "贵阳市": ("贵州省", "520100", 26.65, 106.63), "南宁市": ("广西壮族自治区", "450100", 22.82, 108.37),
    "沈阳市": ("辽宁省", "210100", 41.81, 123.43), "长春市": ("吉林省", "220100", 43.82, 125.32),
    "哈尔滨市": ("黑龙江省", "230100", 45.80, 126.53), "天津市": ("天津市", "120100", 39.34, 117.36),
    "海口市": ("海南省", "460100", 20.04, 110.20), "乌鲁木齐市": ("新疆维吾尔自治区", "650100", 43.83, 87.62),
    "拉萨市": ("西藏自治区", "540100", 29.65, 91.14), "阿里地区": ("西藏自治区", "542500", 32.50, 80.10),
    "玉树藏族自治州": ("青海省", "632700", 33.00, 97.01), "和田地区": ("新疆维吾尔自治区", "653200", 37.11, 79.92),
    "兰州市": ("甘肃省", "620100", 36.06, 103.83), "西宁市": ("青海省", "630100", 36.62, 101.78),
}
# Sorting centres parcels pass through (remote prefectures are destinations, not hubs).
HUB_CITIES = [c for c in CITIES if c not in ("阿里地区", "玉树藏族自治州", "和田地区", "东莞市", "金华市")]
_DISTRICTS = {"北京市": "朝阳区", "上海市": "浦东新区", "广州市": "天河区", "深圳市": "南山区"}


class TimelineClosed(ValueError):
    """The anomaly cannot apply: the history that already happened rules it out."""


def _rng(*parts: Any) -> random.Random:
    return random.Random(":".join(str(p) for p in parts))


def short_city(name: str) -> str:
    for suf in ("藏族自治州", "地区", "市"):
        if name.endswith(suf) and len(name) > len(suf) + 1:
            return name[: -len(suf)]
    return name


def short_district(name: str) -> str:
    for suf in ("新区", "区", "县", "市", "镇"):
        if name.endswith(suf) and len(name) > len(suf) + 1:
            return name[: -len(suf)]
    return name


def fmt_time(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(at + 8 * HOUR))


def _km(a: str, b: str) -> float:
    _, _, la1, lo1 = CITIES[a]
    _, _, la2, lo2 = CITIES[b]
    p1, p2, dl = math.radians(la1), math.radians(la2), math.radians(lo2 - lo1)
    c = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return 6371.0 * math.acos(max(-1.0, min(1.0, c)))


def resolve_place(place: dict[str, str] | str | None, rng: random.Random) -> dict[str, str]:
    """``{province, city, district}`` with ``city`` a key of :data:`CITIES` (unknown text → a seeded pick)."""
    text = " ".join(str(v) for v in place.values()) if isinstance(place, dict) else str(place or "")
    found = next((c for c in CITIES if c in text), None) or next((c for c in CITIES if short_city(c) in text), None)
    if found is None:
        found = rng.choice(sorted(CITIES))
    district = (place or {}).get("district") if isinstance(place, dict) else None
    return {"province": CITIES[found][0], "city": found, "district": district or _DISTRICTS.get(found, "城区")}


def _centre(courier: str, city: str) -> str:
    suffix = {"zhongtong": "中转部", "shunfeng": "中转场", "yunda": "分拨中心"}.get(courier, "转运中心")
    return short_city(city) + suffix


def _person(rng: random.Random) -> str:
    name = rng.choice(gen.SURNAMES) + rng.choice(gen.GIVEN)
    return f"{name}（{rng.choice(gen.MOBILE_PREFIXES)}****{rng.randrange(10000):04d}）"


def make_plan(track_no: str, courier: str, origin: dict[str, str] | str | None,
              dest: dict[str, str] | str | None) -> dict[str, Any]:
    """The fixed facts of one parcel: resolved places, 2–4 hub scans along the way, people, seeded choices."""
    rng = _rng(track_no, "plan")
    o, d = resolve_place(origin, rng), resolve_place(dest, rng)
    oc, dc = o["city"], d["city"]
    if oc == dc:
        hubs = [{"city": oc, "site": _centre(courier, oc)},
                {"city": dc, "site": f"{short_city(dc)}{short_district(d['district'])}集散点"}]
    else:
        dist = _km(oc, dc)
        n = 2 if dist < 250 else rng.choice((2, 3, 3, 4))
        # intermediate hubs: the smallest detours, visited in order of distance from the sender
        cands = sorted((_km(oc, h) + _km(h, dc) - dist, h) for h in HUB_CITIES if h not in (oc, dc))
        mids = [h for det, h in cands if det <= max(150.0, 0.3 * dist)][: n - 2]
        mids.sort(key=lambda h: _km(oc, h))
        hubs = [{"city": c, "site": _centre(courier, c)} for c in [oc, *mids, dc]]
    branch = ("城东", "城西", "城南", "城北", "新区", "开发区")
    n = len(hubs)
    return {
        "courier": courier, "courier_name": K100_COMPANIES.get(courier, courier), "origin": o, "dest": d,
        "hubs": hubs,
        "origin_site": f"{short_city(oc)}{short_district(o['district'])}{rng.choice(branch)}营业部",
        "dest_site": f"{short_city(dc)}{short_district(d['district'])}{rng.choice(branch)}营业部",
        "collector": _person(rng), "deliverer": _person(rng),
        "locker": f"{d['district']}{rng.choice(gen.COMMUNITIES)}驿站" if rng.random() < 0.3 else "",
        "stall_at": rng.randrange(n),  # stalled: no scan after hub ``stall_at``
        "lost_at": rng.randrange(n),  # lost: after hub ``lost_at``
    }


def pick_anomaly(track_no: str, rates: dict[str, float]) -> str:
    """Deterministic per number: one uniform draw from the number, walked through the rates in KINDS order."""
    u = int(hashlib.sha256(f"anomaly:{track_no}".encode()).hexdigest()[:13], 16) / 16 ** 13
    acc = 0.0
    for kind in ANOMALIES:
        acc += float(rates.get(kind) or 0)
        if u < acc:
            return kind
    return "none"


# ---------------------------------------------------------------------------- timeline

def _steps(plan: dict[str, Any], kept: list[str], kind: str) -> list[str]:
    """Step keys still to come after ``kept`` for ``kind``; an anomaly whose trigger point is already
    behind the parcel applies from where the parcel is now."""
    hubs = [f"hub:{i}" for i in range(len(plan["hubs"]))]
    last = kept[-1] if kept else None
    if last in TERMINAL_STEPS:
        raise TimelineClosed("快件已签收或已退签，轨迹已结束")
    if last and last.startswith("return:"):
        if kind == "returned":
            return []
        raise TimelineClosed("快件已在退回途中")
    passed = max((int(s.split(":")[1]) for s in kept if s.startswith("hub:")), default=-1)
    outs = sum(1 for s in kept if s.startswith("out:"))
    at_door = outs > 0
    head = [] if kept else ["collected"]

    def resume() -> list[str]:  # back on the way to the receiver's door
        return [f"out:{outs + 1}"] if at_door else head + hubs[passed + 1:] + ["out:1"]

    just_out = bool(last and (last.startswith("out:") or last == "locker"))
    if kind == "never_collected":
        if kept:
            raise TimelineClosed("快件已揽收，无法改为未揽收")
        return []
    if kind == "stalled":
        return [] if at_door or last == "lost" else head + hubs[passed + 1: max(plan["stall_at"], passed) + 1]
    if kind == "lost":
        if last == "lost":
            return []
        if at_door:
            return ["lost"]
        return head + hubs[passed + 1: max(plan["lost_at"], passed) + 1] + ["lost"]
    if kind == "failed_delivery":
        if last == "locker":
            return ["failed:locker"]
        if last == "failed:locker" or (last and last.startswith("failed:") and outs >= 2):
            return []
        steps = [] if just_out else resume()
        a = outs if just_out else (outs + 1 if at_door else 1)
        return steps + [f"failed:{a}"] + ([f"out:{a + 1}", f"failed:{a + 1}"] if a < 2 else [])
    if kind == "refused":
        if last == "refused":
            return []
        return (["refused"] if just_out or last == "failed:locker" else resume() + ["refused"])
    if kind == "returned":
        # turns back where it is when already at the door or found after a loss; else first reaches the door
        turn_now = just_out or last in ("refused", "lost") or (last or "").startswith("failed:")
        steps = [] if turn_now else head + hubs[passed + 1:] + ["out:1"]
        visited = len(hubs) if (at_door or steps) else passed + 1
        return steps + ["return:start"] + [f"return:hub:{i}" for i in reversed(range(visited))] + \
            ["return:out", "returned"]
    if kind == "intercepted":  # Douyin or Kuaidi100 interception: turns back from where it is now
        if not kept:
            return []  # not collected yet: the courier never picks it up
        visited = len(hubs) if at_door else passed + 1
        return ["return:intercept"] + [f"return:hub:{i}" for i in reversed(range(visited))] + \
            ["return:out", "returned"]
    if kind == "none":
        if last in ("locker", "failed:locker"):
            return ["signed"]
        steps = [] if just_out else resume()
        clean = not any(s.startswith("failed:") or s in ("refused", "lost") for s in kept)
        if plan["locker"] and clean and (steps[-1:] == ["out:1"] or last == "out:1"):
            steps.append("locker")
        return steps + ["signed"]
    raise ValueError(f"unknown anomaly kind {kind!r}; one of {', '.join(KINDS)}")


def _next_morning(t: int, rng: random.Random) -> int:
    """Delivery rounds start 08:00–11:00 GMT+8."""
    local = (t + 8 * HOUR) % DAY
    day0 = t - local
    if local < 8 * HOUR:
        return day0 + 8 * HOUR + rng.randint(0, 3 * HOUR)
    if local < 11 * HOUR:
        return t + rng.randint(600, HOUR)
    return day0 + DAY + 8 * HOUR + rng.randint(0, 3 * HOUR)


def _next_at(track_no: str, step: str, prev_step: str | None, prev_at: int, prev_city: str, city: str) -> int:
    r = _rng(track_no, "delay", step)
    u = r.randint
    if step == "collected":
        return prev_at + u(2 * HOUR, 6 * HOUR)
    if step == "hub:0":
        return prev_at + u(2 * HOUR, 5 * HOUR)
    if step.startswith("hub:") or step.startswith("return:hub:"):
        return prev_at + u(4 * HOUR, 9 * HOUR) + int(_km(prev_city, city) / 80.0 * HOUR)  # trucks ≈ 80 km/h
    if step.startswith("out:") or step == "return:out":
        return _next_morning(prev_at + 2 * HOUR, r)
    if step == "signed" and prev_step == "locker":
        return prev_at + u(2 * HOUR, 10 * HOUR)  # the buyer picks it up at the station
    if step in ("signed", "locker", "refused", "returned"):
        return prev_at + u(HOUR, 4 * HOUR)
    if step == "failed:locker" or step == "lost":
        return prev_at + u(24 * HOUR, 48 * HOUR)
    if step.startswith("failed:"):
        return prev_at + u(3 * HOUR, 7 * HOUR)
    return prev_at + u(2 * HOUR, 8 * HOUR)  # return:start


def _event(plan: dict[str, Any], step: str, at: int, prev: dict[str, Any] | None, before: list[str]) -> dict[str, Any]:
    o, d = plan["origin"]["city"], plan["dest"]["city"]
    who, courier, locker = plan["deliverer"], plan["courier_name"], plan["locker"]
    dsite, osite, hubs = plan["dest_site"], plan["origin_site"], plan["hubs"]
    pcity, psite = (prev["city"], prev["site"]) if prev else (o, osite)

    def ev(state: str, code: str, dy: str, ctx: str, city: str, site: str) -> dict[str, Any]:
        return {"step": step, "at": at, "state": state, "code": code, "douyin": dy, "context": ctx,
                "city": city, "site": site}

    if step == "collected":
        return ev("1", "103", "揽收", f"【{o}】【{osite}】的快递员{plan['collector']}已揽收", o, osite)
    if step.startswith("hub:"):
        i = int(step[4:])
        h = hubs[i]
        nxt = hubs[i + 1]["site"] if i + 1 < len(hubs) else dsite
        code = "1001" if i + 1 == len(hubs) else "1002"
        return ev("0", code, "在途", f"【{h['city']}】快件已到达【{h['site']}】，即将发往【{nxt}】", h["city"], h["site"])
    if step.startswith("out:"):
        return ev("5", "5", "派件", f"【{d}】【{dsite}】的快递员{who}正在第{step[4:]}次派件，请保持电话畅通，并耐心等待",
                  d, dsite)
    if step == "locker":
        return ev("5", "501", "待取件", f"【{d}】快件已放入【{locker}】，请凭取件码及时取件。如有疑问请联系快递员{who}",
                  d, locker)
    if step == "signed":
        if before and before[-1] in ("locker", "failed:locker"):
            return ev("3", "304", "签收", f"【{d}】快件已在【{locker}】签收，签收人凭取件码签收。感谢使用{courier}，期待再次为您服务",
                      d, locker)
        if any(s.startswith("failed:") or s in ("refused", "lost") for s in before):
            return ev("3", "302", "签收", f"【{d}】快件已签收（派件异常后签收），签收人：本人。感谢使用{courier}", d, dsite)
        return ev("3", "301", "签收", f"【{d}】快件已签收，签收人：本人。感谢使用{courier}，期待再次为您服务", d, dsite)
    if step == "failed:locker":
        return ev("2", "205", "疑难", f"【{d}】快件在【{locker}】超时未取，请尽快取件，逾期将退回", d, locker)
    if step.startswith("failed:"):
        if step == "failed:1":
            return ev("2", "206", "疑难", f"【{d}】快递员{who}派件未成功：电话无人接听，联系不上收件人，"
                                        f"快件暂存【{dsite}】，明日再次派送", d, dsite)
        return ev("2", "204", "疑难", f"【{d}】派件异常：收件地址无人签收，第{step[7:]}次派送失败，快件滞留【{dsite}】，"
                                    "请收件人联系快递员", d, dsite)
    if step == "refused":
        return ev("14", "14", "拒签", f"【{d}】收件人拒收，拒收原因：不想要了。快件暂存【{dsite}】，请寄件人及时处理", d, dsite)
    if step == "lost":
        return ev("2", "2", "丢失", f"【{pcity}】快件在【{psite}】操作时遗失，已登记理赔，请联系寄件网点处理", pcity, psite)
    if step == "return:start":
        why = ("收件人拒收" if "refused" in before else "多次派送失败" if any(s.startswith("failed:") for s in before)
               else "快件找回，按寄件人要求退回" if "lost" in before else "收件人要求退回")
        return ev("6", "6", "退回", f"【{pcity}】快件已安排退回寄件人，退回原因：{why}", pcity, psite)
    if step == "return:intercept":
        return ev("6", "6", "退回", f"【{pcity}】快件已被拦截，按寄件人要求退回", pcity, psite)
    if step.startswith("return:hub:"):
        i = int(step[11:])
        h = hubs[i]
        nxt = hubs[i - 1]["site"] if i > 0 else osite
        return ev("6", "6", "退回", f"【{h['city']}】退回件已到达【{h['site']}】，即将发往【{nxt}】", h["city"], h["site"])
    if step == "return:out":
        return ev("6", "6", "退回", f"【{o}】退回件正在派送给寄件人，派件员：{plan['collector']}", o, osite)
    if step == "returned":
        return ev("4", "4", "退签", f"【{o}】退回件已签收，签收人：寄件人。如有疑问请联系【{osite}】", o, osite)
    raise ValueError(f"unknown step {step!r}")


def _materialise(track_no: str, plan: dict[str, Any], kept: list[dict[str, Any]], steps: list[str],
                 anchor: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    prev = kept[-1] if kept else None
    before = [e["step"] for e in kept]
    at = anchor
    for step in steps:
        ev = _event(plan, step, 0, prev, before)
        prev_city = prev["city"] if prev else plan["origin"]["city"]
        ev["at"] = at = _next_at(track_no, step, before[-1] if before else None, at, prev_city, ev["city"])
        out.append(ev)
        before.append(step)
        prev = ev
    return out


def timeline(track_no: str, plan: dict[str, Any], base: int, kind: str,
             kept: list[dict[str, Any]] | None = None, now: float | None = None) -> list[dict[str, Any]]:
    """Events of ``plan`` for anomaly ``kind``. ``kept`` (events that already happened) stays as is and
    the rest continues from its last event; if that continuation would start at or before ``now``
    (e.g. a stalled parcel resumed days later) it is re-anchored at ``now``."""
    kept = list(kept or [])
    steps = _steps(plan, [e["step"] for e in kept], kind)
    anchor = kept[-1]["at"] if kept else int(base)
    new = _materialise(track_no, plan, kept, steps, anchor)
    if now is not None and new and new[0]["at"] <= now:
        new = _materialise(track_no, plan, kept, steps, int(now))
    return kept + new


# ---------------------------------------------------------------------------- wire shapes

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


def douyin_node(ev: dict[str, Any]) -> dict[str, Any]:
    return {"content": ev["context"], "timestamp": str(ev["at"]), "state": ev["douyin"],
            "state_description": DOUYIN_DESC[ev["douyin"]], "site_name": ev["site"]}


def k100_sign(text: str, *, sha256: bool = False) -> str:
    h = hashlib.sha256 if sha256 else hashlib.md5
    return h(text.encode("utf-8")).hexdigest().upper()


def _tail(phone: Any) -> str | None:
    """Last 4 digits (after the last "-" for platform virtual numbers, §1.2); None if fewer."""
    text = str(phone or "").strip().rsplit("-", 1)[-1]
    digits = "".join(c for c in text if c.isdigit())
    return digits[-4:] if len(digits) >= 4 else None


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _k100(code: str, message: str, result: bool = False) -> dict[str, Any]:
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


# ---------------------------------------------------------------------------- state

SCHEMA = """
CREATE TABLE IF NOT EXISTS k100_accounts (
    customer TEXT PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    secret TEXT
);
CREATE TABLE IF NOT EXISTS k100_intercepts (
    id INTEGER PRIMARY KEY,
    customer TEXT NOT NULL,
    order_id TEXT NOT NULL,
    number TEXT NOT NULL,
    company TEXT NOT NULL,
    intercept_type TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_k100_intercepts_number ON k100_intercepts (number);
CREATE TABLE IF NOT EXISTS tracks (
    track_no TEXT PRIMARY KEY,
    courier TEXT NOT NULL,
    shop_id INTEGER,
    base_time INTEGER NOT NULL,
    source TEXT NOT NULL,
    plan TEXT NOT NULL,
    phones TEXT NOT NULL,
    anomaly TEXT NOT NULL,
    events TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS k100_subs (
    id INTEGER PRIMARY KEY,
    customer TEXT NOT NULL,
    company TEXT NOT NULL,
    number TEXT NOT NULL,
    callbackurl TEXT NOT NULL,
    salt TEXT,
    resultv2 TEXT NOT NULL,
    phone TEXT,
    created_at REAL NOT NULL,
    status TEXT NOT NULL,
    pushed_upto INTEGER NOT NULL DEFAULT 0,
    next_check REAL
);
CREATE INDEX IF NOT EXISTS ix_k100_subs_due ON k100_subs (status, next_check);
CREATE INDEX IF NOT EXISTS ix_k100_subs_number ON k100_subs (number);
CREATE TABLE IF NOT EXISTS k100_pushes (
    id INTEGER PRIMARY KEY,
    sub_id INTEGER NOT NULL,
    number TEXT NOT NULL,
    upto INTEGER NOT NULL,
    status TEXT NOT NULL,
    param TEXT NOT NULL,
    sign TEXT,
    url TEXT NOT NULL,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL,
    state TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_k100_pushes_due ON k100_pushes (state, next_attempt);
CREATE INDEX IF NOT EXISTS ix_k100_pushes_number ON k100_pushes (number);
CREATE TABLE IF NOT EXISTS k100_queries (
    number TEXT PRIMARY KEY,
    last_at REAL NOT NULL
);
"""

DEFAULT_FAULTS: dict[str, Any] = {
    "duplicate_rate": 0.0,  # share of first-attempt pushes sent twice
    "reorder": False,  # shuffle the pushes sent by one tick
    "retry_interval_s": 35 * 60.0,  # §1.4: 3 retries, 35 minutes apart (sandbox clock)
    "max_retries": 3,
    "timeout_s": 5.0,
}
WORKER_INTERVAL_S = 0.5  # real seconds between background ticks


class Couriers:
    def __init__(self, sb: "Sandbox"):
        self.sb = sb
        sb.store.conn.executescript(SCHEMA)
        cols = {r[1] for r in sb.store.conn.execute("PRAGMA table_info(k100_accounts)")}
        if "secret" not in cols:  # a sandbox file from before interception existed
            sb.store.conn.execute("ALTER TABLE k100_accounts ADD COLUMN secret TEXT")
        self.rates: dict[str, float] = {}
        self.faults: dict[str, Any] = dict(DEFAULT_FAULTS)
        self._lock = threading.RLock()  # one tick / anomaly rebuild at a time
        self._stats_lock = threading.Lock()
        self._rng = random.Random(13)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._http: httpx.Client | None = None
        self.stats: dict[str, int] = {k: 0 for k in (
            "subscribe_accepted", "subscribe_duplicate", "subscribe_rejected", "pushes_created", "pushes_sent",
            "pushes_delivered", "pushes_failed", "pushes_dropped", "duplicates_sent", "aborts", "queries_ok",
            "queries_no_result", "queries_rejected", "queries_too_soon", "route_detail_calls",
            "intercepts_accepted", "intercepts_rejected")}

    def _count(self, key: str, n: int = 1) -> None:
        with self._stats_lock:
            self.stats[key] += n

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="sandbox-couriers", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
            self._thread = None
        if self._http is not None:
            self._http.close()
            self._http = None

    def _run(self) -> None:
        while not self._stop.wait(WORKER_INTERVAL_S):
            try:
                self.tick()
            except Exception:  # keep the worker alive; the DB may be closing at shutdown
                if self._stop.is_set():
                    return

    # ------------------------------------------------------------------ accounts / config
    def create_account(self, customer: str | None = None, key: str | None = None,
                       secret: str | None = None) -> dict[str, Any]:
        customer = customer or secrets.token_hex(16).upper()
        key = key or "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(16))
        secret = secret or secrets.token_hex(16)
        if self.sb.store.one("SELECT 1 FROM k100_accounts WHERE customer=? OR key=?", (customer, key)):
            raise ValueError("customer or key already exists")
        self.sb.store.write("INSERT INTO k100_accounts (customer, key, created_at, secret) VALUES (?,?,?,?)",
                            (customer, key, self.sb.now(), secret))
        return {"customer": customer, "key": key, "secret": secret, "salt_hint": secrets.token_hex(16)}

    def set_rates(self, rates: dict[str, Any]) -> dict[str, float]:
        unknown = set(rates) - set(ANOMALIES)
        if unknown:
            raise ValueError(f"unknown anomaly kinds {sorted(unknown)}; one of {', '.join(ANOMALIES)}")
        clean = {k: float(v) for k, v in rates.items()}
        if any(not 0.0 <= v <= 1.0 for v in clean.values()) or sum(clean.values()) > 1.0 + 1e-9:
            raise ValueError("rates must be within 0..1 and sum to at most 1")
        self.rates = clean
        return dict(clean)

    def set_faults(self, faults: dict[str, Any]) -> dict[str, Any]:
        unknown = set(faults) - set(DEFAULT_FAULTS)
        if unknown:
            raise ValueError(f"unknown tracking fault keys {sorted(unknown)}")
        conf = dict(DEFAULT_FAULTS)
        for k, v in faults.items():
            conf[k] = type(DEFAULT_FAULTS[k])(v)
        if not 0.0 <= conf["duplicate_rate"] <= 1.0 or conf["max_retries"] < 0 or conf["retry_interval_s"] < 0:
            raise ValueError("duplicate_rate must be 0..1, max_retries and retry_interval_s >= 0")
        self.faults = conf
        return dict(conf)

    # ------------------------------------------------------------------ timelines
    def _row(self, track_no: str) -> dict[str, Any] | None:
        r = self.sb.store.one("SELECT track_no, courier, shop_id, base_time, source, plan, phones, anomaly, events"
                              " FROM tracks WHERE track_no=?", (track_no,))
        if r is None:
            return None
        return {"track_no": r[0], "courier": r[1], "shop_id": r[2], "base_time": r[3], "source": r[4],
                "plan": json.loads(r[5]), "phones": json.loads(r[6]), "anomaly": r[7], "events": json.loads(r[8])}

    def _insert(self, track_no: str, courier: str, shop_id: int | None, base: int, source: str,
                origin: Any, dest: Any, phones: dict[str, str | None]) -> dict[str, Any]:
        plan = make_plan(track_no, courier, origin, dest)
        kind = pick_anomaly(track_no, self.rates)
        events = timeline(track_no, plan, base, kind)
        self.sb.store.write("INSERT OR IGNORE INTO tracks (track_no, courier, shop_id, base_time, source, plan, phones,"
                            " anomaly, events) VALUES (?,?,?,?,?,?,?,?,?)",
                            (track_no, courier, shop_id, base, source, _dumps(plan), _dumps(phones), kind,
                             _dumps(events)))
        return self._row(track_no)  # type: ignore[return-value]

    def track(self, track_no: str) -> dict[str, Any] | None:
        """The timeline of a number, built on first use from its earliest shipment (sandbox clock at shipping)."""
        row = self._row(track_no)
        if row is not None:
            return row
        s = self.sb.store.one("SELECT shop_id, order_ids, company_code, ship_time FROM shipments WHERE tracking_no=?"
                              " ORDER BY id LIMIT 1", (track_no,))
        if s is None or s[2] not in K100_COMPANIES:
            return None
        shop_id, order_ids, courier, ship_time = s
        addrs = shop_addresses(shop_id)
        sender = next((a for a in addrs if a["is_send_default"]), addrs[0])
        origin = {"province": sender["receiver_provinc"], "city": sender["receiver_city"],
                  "district": sender["receiver_district"]}
        w = self.sb.store.one("SELECT n.sender_address FROM waybills w JOIN netsites n ON n.shop_id=w.shop_id AND"
                              " n.logistics_code=w.logistics_code AND n.netsite_code=w.netsite_code WHERE w.track_no=?",
                              (track_no,))
        if w:  # sandbox e-waybill: sent from its netsite's address
            a = json.loads(w[0])[0]
            origin = {"province": a["province_name"], "city": a["city_name"], "district": a["district_name"]}
        dest, receiver = None, None
        oid = (json.loads(order_ids) or [None])[0]
        p = self.sb.store.one("SELECT payload FROM orders WHERE order_id=?", (int(oid),)) if oid else None
        if p:
            o = json.loads(p[0])
            pa = o["post_addr"]
            dest = {"province": pa["province"]["name"], "city": pa["city"]["name"], "district": pa["town"]["name"]}
            receiver = _tail(o.get("mask_post_tel"))
        return self._insert(track_no, courier, shop_id, int(ship_time), "shipment", origin, dest,
                            {"receiver": receiver, "sender": _tail(sender["receiver_tel"])})

    def set_anomaly(self, track_no: str, kind: str) -> dict[str, Any]:
        """Rebuild the future of a number for ``kind``; events that are due (happened) or pushed stay."""
        if kind not in KINDS:
            raise ValueError(f"unknown anomaly kind {kind!r}; one of {', '.join(KINDS)}")
        return self._rebuild(track_no, kind)

    def intercept(self, track_no: str) -> dict[str, Any]:
        """The parcel turns back now (after-sale interception); not an admin-settable anomaly kind."""
        return self._rebuild(track_no, "intercepted")

    def _rebuild(self, track_no: str, kind: str) -> dict[str, Any]:
        with self._lock:
            row = self.track(track_no)
            if row is None:
                raise LookupError(f"unknown tracking number {track_no}")
            now = self.sb.now()
            events = row["events"]
            pushed = self.sb.store.one("SELECT COALESCE(MAX(pushed_upto), 0) FROM k100_subs WHERE number=?",
                                       (track_no,))[0]
            keep = max(pushed, sum(1 for e in events if e["at"] <= now))
            new = timeline(track_no, row["plan"], row["base_time"], kind, events[:keep], now)
            self.sb.store.write("UPDATE tracks SET anomaly=?, events=? WHERE track_no=?", (kind, _dumps(new), track_no))
            row["events"] = new
            for sid, company, created, upto in self.sb.store.all(
                    "SELECT id, company, created_at, pushed_upto FROM k100_subs WHERE number=? AND status='polling'",
                    (track_no,)):
                self._schedule(sid, self._sub_events(row, company), created, upto, now)
        return self.view(track_no)

    def view(self, track_no: str) -> dict[str, Any]:
        row = self.track(track_no)
        if row is None:
            raise LookupError(f"unknown tracking number {track_no}")
        now = self.sb.now()
        subs = self.sb.store.all("SELECT id, customer, company, status, pushed_upto, created_at, callbackurl FROM"
                                 " k100_subs WHERE number=? ORDER BY id", (track_no,))
        pushes = self.sb.store.all("SELECT id, sub_id, upto, status, state, attempts FROM k100_pushes WHERE number=?"
                                   " ORDER BY id", (track_no,))
        stops = self.sb.store.all("SELECT customer, order_id, company, intercept_type, partner_id, at FROM"
                                  " k100_intercepts WHERE number=? ORDER BY id", (track_no,))
        pushed = max((s[4] for s in subs), default=0)
        delivered = max((p[2] for p in pushes if p[4] == "delivered"), default=0)
        return {
            "track_no": track_no, "courier": row["courier"], "shop_id": row["shop_id"], "source": row["source"],
            "base_time": row["base_time"], "anomaly": row["anomaly"], "now": now,
            "origin": row["plan"]["origin"], "dest": row["plan"]["dest"],
            "hubs": [h["city"] for h in row["plan"]["hubs"]],
            "events": [{"index": i, "step": e["step"], "at": e["at"], "time": fmt_time(e["at"]), "due": e["at"] <= now,
                        "pushed": i < pushed, "delivered": i < delivered, "state": e["state"],
                        "status_code": e["code"], "douyin_state": e["douyin"], "context": e["context"],
                        "location": e["city"], "site": e["site"]} for i, e in enumerate(row["events"])],
            "subscriptions": [{"id": s[0], "customer": s[1], "company": s[2], "status": s[3], "pushed_upto": s[4],
                               "created_at": s[5], "callbackurl": s[6]} for s in subs],
            "pushes": [{"id": p[0], "sub_id": p[1], "upto": p[2], "status": p[3], "state": p[4], "attempts": p[5]}
                       for p in pushes],
            "intercepts": [{"customer": i[0], "order_id": i[1], "company": i[2], "intercept_type": i[3],
                            "partner_id": i[4], "at": i[5]} for i in stops],
        }

    # ------------------------------------------------------------------ Kuaidi100: subscribe (§1.3)
    def _key_account(self, key: str) -> str | None:
        r = self.sb.store.one("SELECT customer FROM k100_accounts WHERE key=?", (key,))
        return r[0] if r else None

    def subscribe(self, form: dict[str, str] | None) -> dict[str, Any]:
        res = self._subscribe(form)
        self._count("subscribe_accepted" if res["returnCode"] == "200" else
                    "subscribe_duplicate" if res["returnCode"] == "501" else "subscribe_rejected")
        return res

    def _subscribe(self, form: dict[str, str] | None) -> dict[str, Any]:
        if form is None:
            return _k100("700", "数据不合法：请求须为application/x-www-form-urlencoded表单")
        if form.get("schema") != "json":
            return _k100("700", "数据不合法：schema须为json")
        try:
            p = json.loads(form.get("param") or "")
        except ValueError:
            return _k100("700", "数据不合法：param不是合法的JSON")
        if not isinstance(p, dict):
            return _k100("700", "数据不合法：param须为JSON对象")
        key = p.get("key")
        customer = self._key_account(key) if isinstance(key, str) and key else None
        if customer is None:
            return _k100("600", "您不是合法的订阅者（key无效）")
        params = p.get("parameters")
        if not isinstance(params, dict):
            return _k100("700", "数据不合法：缺少parameters")
        number = str(p.get("number") or "").strip()
        if not number or len(number) > 32 or not all(c.isascii() and (c.isalnum() or c == "-") for c in number):
            return _k100("700", "数据不合法：单号为空、过长或含非法字符")
        company = str(p.get("company") or "").strip()
        if not company:
            known = self.track(number) if str(params.get("autoCom") or "") == "1" else None
            if known is None:
                return _k100("702", "无法识别快递公司，请传company")
            company = known["courier"]
        if company not in K100_COMPANIES:
            return _k100("700", f"数据不合法：不支持的快递公司 {company}")
        url = params.get("callbackurl")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > 1024:
            return _k100("700", "数据不合法：callbackurl缺失或不是http(s)地址")
        salt = params.get("salt")
        if salt is not None and not isinstance(salt, str):
            return _k100("700", "数据不合法：salt须为字符串")
        resultv2 = str(params.get("resultv2") if params.get("resultv2") is not None else "")
        if resultv2 not in ("", "0", "1", "2", "4", "6", "8"):
            return _k100("700", "数据不合法：resultv2取值错误")
        resultv2 = {"0": "", "2": "1", "6": "4"}.get(resultv2, resultv2)  # older doc levels
        phone = _tail(params.get("phone"))
        if company in PHONE_SUBSCRIBE and not phone:
            return _k100("700", "数据不合法：顺丰单号订阅须提供收/寄件人电话（可传后四位）")
        now = self.sb.now()
        with self.sb.store.write_lock:
            if self.sb.store.one("SELECT 1 FROM k100_subs WHERE customer=? AND company=? AND number=? AND"
                                 " status='polling'", (customer, company, number)):
                return _k100("501", "重复订阅")
            row = self.track(number)
            if row is None:  # a number the sandbox never shipped: it starts moving now
                row = self._insert(number, company, None, int(now), "subscription", p.get("from"), p.get("to"),
                                   {"receiver": phone, "sender": None})
            cur = self.sb.store.conn.execute(
                "INSERT INTO k100_subs (customer, company, number, callbackurl, salt, resultv2, phone, created_at,"
                " status) VALUES (?,?,?,?,?,?,?,?,'polling')", (customer, company, number, url, salt, resultv2, phone, now))
            sid = int(cur.lastrowid or 0)
        self._schedule(sid, self._sub_events(row, company), now, 0, now)
        return _k100("200", "提交成功", True)

    @staticmethod
    def _sub_events(row: dict[str, Any], company: str) -> list[dict[str, Any]]:
        # A wrong courier code finds nothing (§1.4 autoCheck: comNew comes with the 3-day abort).
        return row["events"] if row["courier"] == company else []

    def _schedule(self, sid: int, events: list[dict[str, Any]], created: float, upto: int, now: float) -> None:
        """When this subscription next needs a look: its next event, or an abort deadline."""
        nxt = events[upto]["at"] if upto < len(events) else None
        if upto == 0:
            deadline = created + NO_RECORD_ABORT
        else:
            deadline = max(events[upto - 1]["at"], created) + NO_CHANGE_ABORT
        when = min(x for x in (nxt, deadline) if x is not None)
        self.sb.store.write("UPDATE k100_subs SET next_check=? WHERE id=?", (when, sid))

    # ------------------------------------------------------------------ Kuaidi100: query (§1.2)
    def query(self, form: dict[str, str] | None) -> dict[str, Any]:
        res, kind = self._query(form)
        self._count(kind)
        return res

    def _query(self, form: dict[str, str] | None) -> tuple[dict[str, Any], str]:
        bad = "queries_rejected"
        if form is None:
            return _k100("400", "找不到对应公司（请求须为表单）"), bad
        customer, sign, param = form.get("customer"), form.get("sign"), form.get("param")
        if not customer or not sign or not param:
            return _k100("400", "提交的数据不完整（需要customer、sign、param）"), bad
        r = self.sb.store.one("SELECT key FROM k100_accounts WHERE customer=?", (customer,))
        if r is None:
            return _k100("400", "找不到对应公司（customer错误）"), bad
        sign_type = (form.get("signType") or "MD5").upper()
        if sign_type not in ("MD5", "SHA256"):
            return _k100("400", f"沙箱不支持signType {sign_type}"), bad
        want = k100_sign(param + r[0] + customer, sha256=sign_type == "SHA256")
        if not sign.isascii() or not hmac.compare_digest(want, sign):
            return _k100("503", "验证签名失败"), bad
        try:
            p = json.loads(param)
        except ValueError:
            return _k100("400", "提交的数据不完整（param不是合法的JSON）"), bad
        if not isinstance(p, dict):
            return _k100("400", "提交的数据不完整（param须为JSON对象）"), bad
        com, num = str(p.get("com") or "").strip(), str(p.get("num") or "").strip()
        if not com or not 6 <= len(num) <= 32:
            return _k100("400", "提交的数据不完整（com必填，num须为6-32位）"), bad
        if com not in K100_COMPANIES:
            return _k100("400", f"找不到对应公司 {com}"), bad
        phone = _tail(p.get("phone"))
        if com in PHONE_QUERY and not phone:
            return _k100("408", "手机号码校验失败：顺丰、中通须传收/寄件人电话（可传后四位）"), bad
        row = self.track(num)
        known = {t for t in (row or {}).get("phones", {}).values() if t} if row else set()
        if com in PHONE_QUERY and known and phone not in known:
            return _k100("408", "手机号码校验失败：电话后四位与运单不符"), bad
        now = self.sb.now()
        with self.sb.store.write_lock:
            last = self.sb.store.one("SELECT last_at FROM k100_queries WHERE number=?", (num,))
            if last and now - last[0] < QUERY_INTERVAL:
                return _k100("502", f"该单号查询过于频繁已锁单，请{int((QUERY_INTERVAL - (now - last[0])) // 60) + 1}"
                                    "分钟后再查（同一单号30分钟内只能查询一次）"), "queries_too_soon"
            self.sb.store.conn.execute("INSERT INTO k100_queries (number, last_at) VALUES (?,?) ON CONFLICT(number)"
                                       " DO UPDATE SET last_at=excluded.last_at", (num, now))
        events = [e for e in self._sub_events(row, com) if e["at"] <= now] if row else []
        if not events or row is None:
            return _k100("500", "查询无结果，请隔段时间再查"), "queries_no_result"
        rv2 = {"0": "", "2": "1", "6": "4"}.get(str(p.get("resultv2") or ""), str(p.get("resultv2") or ""))
        body = last_result(num, com, events, rv2, "asc" if p.get("order") == "asc" else "desc")
        if rv2 in ("4", "8"):
            body.update(routeInfo=route_info(row["plan"], events), isLoop=False)
        return body, "queries_ok"

    # ------------------------------------------------------------------ Kuaidi100: interceptOrder (labelV2)
    def label_order(self, form: dict[str, str] | None) -> dict[str, Any]:
        res = self._label_order(form)
        self._count("intercepts_accepted" if res["code"] == 200 else "intercepts_rejected")
        return res

    def _label_order(self, form: dict[str, str] | None) -> dict[str, Any]:
        """``POST /label/order``: only ``method=interceptOrder`` is simulated (checks in the
        :mod:`fahuo.sandbox` docstring, "Kuaidi100 快递拦截")."""
        res = self._result
        if form is None:
            return res(400, "请求须为application/x-www-form-urlencoded表单（UTF-8）")
        method = form.get("method")
        if not method:
            return res(400, "缺少参数：method")
        if method != "interceptOrder":
            return res(501, f"沙箱的/label/order只模拟interceptOrder，不支持method {method}")
        missing = [k for k in ("key", "t", "param", "sign") if not form.get(k)]
        if missing:
            return res(400, f"缺少参数：{'、'.join(missing)}")
        key, t, param, sign = form["key"], form["t"], form["param"], form["sign"]
        if not (t.isascii() and t.isdigit() and len(t) == 13):
            return res(400, f"t须为13位毫秒时间戳，收到 {t[:20]!r}")
        acc = self.sb.store.one("SELECT customer, secret FROM k100_accounts WHERE key=?", (key,))
        if acc is None:
            return res(401, "key无效")
        if not acc[1]:
            return res(401, "该账号未开通电子面单/拦截接口（没有secret）")
        if not sign.isascii() or not hmac.compare_digest(k100_sign(param + t + key + acc[1]), sign):
            return res(401, "签名验证失败")
        try:
            p = json.loads(param)
        except ValueError:
            return res(400, "param不是合法的JSON")
        if not isinstance(p, dict):
            return res(400, "param须为JSON对象")
        unknown = sorted(set(p) - LABEL_INTERCEPT_FIELDS)
        if unknown:
            return res(400, f"param含有不支持的字段：{'、'.join(unknown)}")
        texts = [k for k, v in p.items() if k != "recManInfo" and v is not None and not isinstance(v, str)]
        if texts:
            return res(400, f"以下字段须为字符串：{'、'.join(sorted(texts))}")
        com, num = (p.get("kuaidicom") or "").strip(), (p.get("kuaidinum") or "").strip()
        if not com:
            return res(400, "kuaidicom必填")
        if com not in K100_COMPANIES:
            return res(400, f"不支持的快递公司编码：{com}")
        if not num or len(num) > 32:
            return res(400, "kuaidinum必填（1-32位）")
        kind = p.get("interceptType")
        if kind not in LABEL_INTERCEPT_TYPES:
            return res(400, f"interceptType须为{'、'.join(LABEL_INTERCEPT_TYPES)}之一，收到 {kind!r}")
        if kind == "MODIFY_ADDR":
            rec = p.get("recManInfo")
            lack = [k for k in ("name", "mobile", "printAddr")
                    if not isinstance(rec, dict) or not str(rec.get(k) or "").strip()]
            if lack:
                return res(400, f"修改地址（MODIFY_ADDR）须提供recManInfo：缺少{'、'.join(lack)}")
        if not (p.get("partnerId") or "").strip():
            return res(400, "partnerId必填（快递公司电子面单账号）")
        if p.get("orderRole") is not None and p["orderRole"] not in ("1", "2", "3"):
            return res(400, "orderRole须为1（寄方）、2（收方）或3（第三方）")
        if p.get("interceptPayType") is not None and p["interceptPayType"] not in LABEL_PAY_TYPES:
            return res(400, f"interceptPayType须为{'、'.join(LABEL_PAY_TYPES)}之一")
        url = p.get("callbackUrl")
        if url is not None and not url.startswith(("http://", "https://")):
            return res(400, "callbackUrl须为http(s)地址")
        if kind == "MODIFY_ADDR":
            return res(501, "沙箱不模拟修改地址（MODIFY_ADDR）；请用RETURN_SEND_ADDR或RETURN_SEND_STATION")
        with self._lock:
            row = self.track(num)
            if row is None:
                return res(404, f"单号不存在：{num}")
            if row["courier"] != com:
                return res(404, f"单号与快递公司不符：{num} 不是{K100_COMPANIES[com]}的单号")
            now = self.sb.now()
            pushed = self.sb.store.one("SELECT COALESCE(MAX(pushed_upto), 0) FROM k100_subs WHERE number=?",
                                       (num,))[0]
            keep = max(pushed, sum(1 for e in row["events"] if e["at"] <= now))
            last = row["events"][keep - 1]["step"] if keep else ""
            if row["anomaly"] == "intercepted" or \
                    self.sb.store.one("SELECT 1 FROM k100_intercepts WHERE number=?", (num,)):
                return res(409, "该单号已拦截，请勿重复提交")
            if last == "signed":
                return res(409, "快件已签收，无法拦截")
            if last == "returned" or last.startswith("return:"):
                return res(409, "快件已在退回途中或已退回寄件人，无需拦截")
            if last == "lost":
                return res(409, "快件已遗失，无法拦截")
            try:
                self._rebuild(num, "intercepted")
            except TimelineClosed as exc:
                return res(409, f"无法拦截：{exc}")
            self.sb.store.write("INSERT INTO k100_intercepts (customer, order_id, number, company, intercept_type,"
                                " partner_id, at) VALUES (?,?,?,?,?,?,?)",
                                (acc[0], str(p.get("orderId") or ""), num, com, kind, p["partnerId"].strip(), now))
        return res(200, "提交成功")

    def _result(self, code: int, message: str, data: Any = None) -> dict[str, Any]:
        """labelV2 ``Result``: ``{code, message, data, time}`` (ms, sandbox clock)."""
        return {"code": code, "message": message, "data": data, "time": int(self.sb.now() * 1000)}

    def intercepted(self, track_no: str) -> bool:
        """Turned back by an interception (either path)."""
        row = self._row(track_no)
        return row is not None and row["anomaly"] == "intercepted"

    # ------------------------------------------------------------------ pushes (§1.4)
    def tick(self) -> dict[str, Any]:
        """Create the pushes due now (sandbox clock) and send every push whose attempt is due."""
        with self._lock:
            now = self.sb.now()
            created, aborts = self._create_pushes(now)
            rows = self.sb.store.all("SELECT id, url, param, sign, attempts FROM k100_pushes WHERE state='pending'"
                                     " AND next_attempt<=? ORDER BY id", (now,))
            sends = []
            for r in rows:
                sends.append(r)
                if r[4] == 0 and self.faults["duplicate_rate"] and self._rng.random() < self.faults["duplicate_rate"]:
                    sends.append(r)
                    self._count("duplicates_sent")
            if self.faults["reorder"]:
                self._rng.shuffle(sends)
            ok_ids: set[int] = set()
            sent = failed = 0
            for pid, url, param, sign, _ in sends:
                sent += 1
                if self._post(url, param, sign):
                    ok_ids.add(pid)
                else:
                    failed += 1
            dropped = 0
            for pid, _, _, _, attempts in rows:
                if pid in ok_ids:
                    self.sb.store.write("UPDATE k100_pushes SET state='delivered', attempts=? WHERE id=?",
                                        (attempts + 1, pid))
                elif attempts >= self.faults["max_retries"]:
                    dropped += 1
                    self.sb.store.write("UPDATE k100_pushes SET state='dropped', attempts=? WHERE id=?",
                                        (attempts + 1, pid))
                else:
                    self.sb.store.write("UPDATE k100_pushes SET attempts=?, next_attempt=? WHERE id=?",
                                        (attempts + 1, now + self.faults["retry_interval_s"], pid))
            with self._stats_lock:
                self.stats["pushes_sent"] += sent
                self.stats["pushes_failed"] += failed
                self.stats["pushes_delivered"] += len(ok_ids)
                self.stats["pushes_dropped"] += dropped
            return {"now": now, "created": created, "aborts": aborts, "sent": sent, "delivered": len(ok_ids),
                    "failed": failed, "dropped": dropped}

    def _post(self, url: str, param: str, sign: str | None) -> bool:
        if self._http is None:
            self._http = httpx.Client(trust_env=False)
        form = {"param": param}
        if sign is not None:
            form["sign"] = sign
        try:
            return acknowledged(self._http.post(url, data=form, timeout=float(self.faults["timeout_s"])))
        except httpx.HTTPError:
            return False

    def _new_push(self, sid: int, number: str, upto: int, url: str, salt: str | None, param: dict[str, Any],
                  now: float) -> None:
        text = _dumps(param)
        sign = k100_sign(text + salt) if salt is not None else None  # §1.4: no salt → no sign
        self.sb.store.write("INSERT INTO k100_pushes (sub_id, number, upto, status, param, sign, url, created_at,"
                            " next_attempt, state) VALUES (?,?,?,?,?,?,?,?,?,'pending')",
                            (sid, number, upto, param["status"], text, sign, url, now, now))
        self._count("pushes_created")

    def _create_pushes(self, now: float) -> tuple[int, int]:
        subs = self.sb.store.all("SELECT id, customer, company, number, callbackurl, salt, resultv2, created_at,"
                                 " pushed_upto FROM k100_subs WHERE status='polling' AND next_check<=? ORDER BY id",
                                 (now,))
        created = aborts = 0
        for sid, _, company, number, url, salt, rv2, sub_at, upto in subs:
            row = self.track(number)
            events = self._sub_events(row, company) if row else []
            n_due = sum(1 for e in events if e["at"] <= now)
            status = "polling"
            # One snapshot per event after subscribing; what had happened before comes as one first push.
            for j in range(upto, n_due):
                if j + 1 < n_due and events[j + 1]["at"] <= sub_at:
                    continue
                newest = events[j]
                status = "shutdown" if newest["step"] in TERMINAL_STEPS else "polling"
                bill = {"1": "got", "5": "sending", "3": "check"}.get(newest["state"], "")
                self._new_push(sid, number, j + 1, url, salt, {
                    "status": status, "billstatus": bill, "message": "", "autoCheck": "0", "comOld": "", "comNew": "",
                    "lastResult": last_result(number, company, events[: j + 1], rv2)}, now)
                created += 1
                upto = j + 1
                if status == "shutdown":
                    break
            abort = None
            if status != "shutdown":
                if upto == 0 and now >= sub_at + NO_RECORD_ABORT:
                    abort = "3天查询无记录"
                elif upto and upto >= n_due and now >= max(events[upto - 1]["at"], sub_at) + NO_CHANGE_ABORT:
                    abort = "60天无变化"
            if abort:
                wrong = row is not None and row["courier"] != company
                lr = last_result(number, company, events[:upto], rv2)
                if not upto:
                    lr.update(message=abort, state="", status="")
                self._new_push(sid, number, upto, url, salt, {
                    "status": "abort", "billstatus": "", "message": abort, "autoCheck": "0",
                    "comOld": company if wrong else "", "comNew": row["courier"] if row is not None and wrong else "", "lastResult": lr},
                    now)
                created += 1
                aborts += 1
                self._count("aborts")
                status = "abort"
            self.sb.store.write("UPDATE k100_subs SET pushed_upto=?, status=? WHERE id=?", (upto, status, sid))
            if status == "polling":
                self._schedule(sid, events, sub_at, upto, now)
        return created, aborts

    def stats_view(self) -> dict[str, Any]:
        st = self.sb.store
        with self._stats_lock:
            s = dict(self.stats)
        return {
            "subscriptions": {"total": st.one("SELECT COUNT(*) FROM k100_subs")[0],
                              "polling": st.one("SELECT COUNT(*) FROM k100_subs WHERE status='polling'")[0],
                              "accepted": s["subscribe_accepted"], "duplicate": s["subscribe_duplicate"],
                              "rejected": s["subscribe_rejected"]},
            "pushes": {"created": s["pushes_created"], "sent": s["pushes_sent"], "delivered": s["pushes_delivered"],
                       "failed": s["pushes_failed"], "dropped": s["pushes_dropped"],
                       "duplicates_sent": s["duplicates_sent"], "aborts": s["aborts"],
                       "pending": st.one("SELECT COUNT(*) FROM k100_pushes WHERE state='pending'")[0]},
            "queries": {"ok": s["queries_ok"], "no_result": s["queries_no_result"], "rejected": s["queries_rejected"],
                        "too_soon": s["queries_too_soon"]},
            "route_detail_calls": s["route_detail_calls"],
            "intercepts": {"accepted": s["intercepts_accepted"], "rejected": s["intercepts_rejected"],
                           "total": st.one("SELECT COUNT(*) FROM k100_intercepts")[0]},
            "rates": dict(self.rates), "faults": dict(self.faults),
        }

    # ------------------------------------------------------------------ Douyin logistics.trackNoRouteDetail (§9.8)
    def route_detail(self, shop_id: int, code: str, track_no: str) -> dict[str, Any]:
        self._count("route_detail_calls")
        s = self.sb.store.one("SELECT company_code FROM shipments WHERE shop_id=? AND tracking_no=? ORDER BY id LIMIT 1",
                              (shop_id, track_no))
        if s is None:  # unknown, or another shop's number: the same answer (nothing leaks)
            raise ApiError(50002, "isv.business-failed:10", f"运单号不存在或不属于当前店铺: {track_no}")
        if s[0] != code:
            raise ApiError(50002, "isv.business-failed:10", f"运单号与物流公司不匹配: {track_no}（发货时为{s[0]}）")
        row = self.track(track_no)
        if row is None:
            raise ApiError(50002, "isv.business-failed:10", f"暂不支持该物流公司的轨迹查询: {code}")
        now = self.sb.now()
        nodes = [douyin_node(e) for e in row["events"] if e["at"] <= now]
        return {"track_info": {"track_no": track_no, "express": code}, "route__node_list": nodes}


@api_method("logistics.trackNoRouteDetail")
def track_no_route_detail(ctx: Ctx, params: dict[str, Any]) -> Any:
    code = courier_param(params)
    tn = str_param(params, "track_no")
    phone = params.get("receiver_phone")
    if phone is not None and not isinstance(phone, (str, int)):
        raise bad("receiver_phone", "receiver_phone应为字符串")
    return ctx.sb.couriers.route_detail(ctx.shop, code, tn)


# ---------------------------------------------------------------------------- HTTP (Kuaidi100 endpoints)

async def _form(request: Request) -> dict[str, str] | None:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        return None
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}


def _reply(obj: dict[str, Any]) -> Response:
    return Response(_dumps(obj), media_type="application/json;charset=UTF-8")


async def k100_subscribe(request: Request) -> Response:
    """``POST /poll`` (§1.3)."""
    return _reply(await run_in_threadpool(request.app.state.sandbox.couriers.subscribe, await _form(request)))


async def k100_query(request: Request) -> Response:
    """``POST /poll/query.do`` (§1.2)."""
    return _reply(await run_in_threadpool(request.app.state.sandbox.couriers.query, await _form(request)))


async def k100_label_order(request: Request) -> Response:
    """``POST /label/order`` (labelV2; ``method=interceptOrder`` only)."""
    return _reply(await run_in_threadpool(request.app.state.sandbox.couriers.label_order, await _form(request)))
