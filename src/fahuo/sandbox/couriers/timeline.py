"""The story of one parcel, pure: its plan (route, hubs, people, seeded choices), the anomaly drawn
for its number, and the events of that plan for an anomaly kind, optionally continuing a kept
history.

An event is a dict ``{step, at, state, code, context, city, site, douyin}``: ``state`` is the
Kuaidi100 base ``state``, ``code`` the advanced ``statusCode`` (resultv2=4), ``douyin`` the
Douyin node ``state``.
"""
from __future__ import annotations

import hashlib
import random
from typing import Any

from .. import receivers
from .k100_wire import K100_COMPANIES
from .places import DAY, HOUR, HUB_CITIES, km, resolve_place, short_city, short_district


ANOMALIES = ("never_collected", "stalled", "failed_delivery", "refused", "returned", "lost")
KINDS = ("none",) + ANOMALIES


TERMINAL_STEPS = frozenset({"signed", "returned"})


class TimelineClosed(ValueError):
    """The anomaly cannot apply: the history that already happened rules it out."""


def _rng(*parts: Any) -> random.Random:
    return random.Random(":".join(str(p) for p in parts))


def _centre(courier: str, city: str) -> str:
    suffix = {"zhongtong": "中转部", "shunfeng": "中转场", "yunda": "分拨中心"}.get(courier, "转运中心")
    return short_city(city) + suffix


def _person(rng: random.Random) -> str:
    name = rng.choice(receivers.SURNAMES) + rng.choice(receivers.GIVEN)
    return f"{name}（{rng.choice(receivers.MOBILE_PREFIXES)}****{rng.randrange(10000):04d}）"


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
        dist = km(oc, dc)
        n = 2 if dist < 250 else rng.choice((2, 3, 3, 4))
        # intermediate hubs: the smallest detours, visited in order of distance from the sender
        cands = sorted((km(oc, h) + km(h, dc) - dist, h) for h in HUB_CITIES if h not in (oc, dc))
        mids = [h for det, h in cands if det <= max(150.0, 0.3 * dist)][: n - 2]
        mids.sort(key=lambda h: km(oc, h))
        hubs = [{"city": c, "site": _centre(courier, c)} for c in [oc, *mids, dc]]
    branch = ("城东", "城西", "城南", "城北", "新区", "开发区")
    n = len(hubs)
    return {
        "courier": courier, "courier_name": K100_COMPANIES.get(courier, courier), "origin": o, "dest": d,
        "hubs": hubs,
        "origin_site": f"{short_city(oc)}{short_district(o['district'])}{rng.choice(branch)}营业部",
        "dest_site": f"{short_city(dc)}{short_district(d['district'])}{rng.choice(branch)}营业部",
        "collector": _person(rng), "deliverer": _person(rng),
        "locker": f"{d['district']}{rng.choice(receivers.COMMUNITIES)}驿站" if rng.random() < 0.3 else "",
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


def due(ev: dict[str, Any]) -> float:
    """When an event happens on the sandbox clock: its stamp, unless the parcel is fast-forwarded
    (``character.stamp_due``)."""
    return float(ev.get("due", ev["at"]))


def _next_at(track_no: str, step: str, prev_step: str | None, prev_at: int, prev_city: str, city: str,
             pace: float = 1.0) -> int:
    """``pace`` stretches the transit legs (揽收, hubs, the way to the delivery round); 1 = as planned."""
    r = _rng(track_no, "delay", step)
    u = r.randint

    def leg(seconds: int) -> int:
        return seconds if pace == 1.0 else int(round(seconds * pace))

    if step == "collected":
        return prev_at + leg(u(2 * HOUR, 6 * HOUR))
    if step == "hub:0":
        return prev_at + leg(u(2 * HOUR, 5 * HOUR))
    if step.startswith("hub:") or step.startswith("return:hub:"):
        return prev_at + leg(u(4 * HOUR, 9 * HOUR) + int(km(prev_city, city) / 80.0 * HOUR))  # trucks ≈ 80 km/h
    if step.startswith("out:") or step == "return:out":
        return _next_morning(prev_at + leg(2 * HOUR), r)
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
        ev["at"] = at = _next_at(track_no, step, before[-1] if before else None, at, prev_city, ev["city"],
                                 float(plan.get("pace", 1.0)))
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
