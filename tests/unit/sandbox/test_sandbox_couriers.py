"""Sandbox couriers: timeline construction, anomalies, determinism, wire shapes (no HTTP server)."""
from __future__ import annotations

import collections
import json

import httpx
import pytest

from fahuo.adapters.carriers.douyin.status import from_douyin
from fahuo.adapters.carriers.kuaidi100.status import from_kuaidi100
from fahuo.domain.tracking import TrackingEvent, TrackingState as T, Tracker, apply_events
from fahuo.sandbox.couriers.douyin import DOUYIN_DESC, douyin_node
from fahuo.sandbox.couriers.k100_wire import acknowledged, k100_item, last_result
from fahuo.sandbox.couriers.places import CITIES, fmt_time, km
from fahuo.sandbox.couriers.timeline import KINDS, TimelineClosed, make_plan, pick_anomaly, timeline
from fahuo.sandbox.core import Sandbox

HZ = {"province": "浙江省", "city": "杭州市", "district": "西湖区"}
URUMQI = {"province": "新疆维吾尔自治区", "city": "乌鲁木齐市", "district": "天山区"}
SUZHOU = {"province": "江苏省", "city": "苏州市", "district": "吴中区"}
BASE = 1_700_000_000


def plan(no: str = "78123456789012", origin=HZ, dest=URUMQI, courier: str = "zhongtong"):
    return make_plan(no, courier, origin, dest)


def k100_state(events) -> T:
    """What fahuo concludes from the Kuaidi100 codes of these events."""
    evs = [TrackingEvent(at=e["at"], state=from_kuaidi100(e["state"], e["code"])[0], raw_sub_state=e["code"],
                         description=e["context"]) for e in events]
    return apply_events(Tracker(track_no="x", courier="x"), evs).state


def douyin_state(events) -> T:
    evs = [TrackingEvent(at=e["at"], state=from_douyin(e["douyin"])[0], raw_state=e["douyin"],
                         description=e["context"]) for e in events]
    return apply_events(Tracker(track_no="x", courier="x"), evs).state


def test_route_goes_from_sender_city_to_receiver_city_through_hubs_in_between():
    p = plan()
    cities = [h["city"] for h in p["hubs"]]
    assert cities[0] == "杭州市" and cities[-1] == "乌鲁木齐市"
    assert 2 <= len(cities) <= 4 and len(set(cities)) == len(cities)
    # every intermediate hub brings the parcel closer to the receiver
    to_dest = [km(c, "乌鲁木齐市") for c in cities]
    assert to_dest == sorted(to_dest, reverse=True)
    near = make_plan("YT0000000000001", "yuantong", HZ, SUZHOU)  # ~130 km: straight there
    assert [h["city"] for h in near["hubs"]] == ["杭州市", "苏州市"]
    same = make_plan("YT0000000000002", "yuantong", HZ, HZ)
    assert [h["city"] for h in same["hubs"]] == ["杭州市", "杭州市"] and len({h["site"] for h in same["hubs"]}) == 2
    unknown = make_plan("YT0000000000003", "yuantong", "火星基地", URUMQI)  # unknown text: a seeded real city
    assert unknown["origin"]["city"] in CITIES


def test_normal_timeline_is_collected_hubs_out_signed_with_doc_codes():
    for i in range(60):
        no = f"YT{i:013d}"
        p = make_plan(no, "yuantong", HZ, URUMQI if i % 2 else SUZHOU)
        ev = timeline(no, p, BASE, "none")
        steps = [e["step"] for e in ev]
        n = len(p["hubs"])
        assert steps[:n + 2] == ["collected"] + [f"hub:{k}" for k in range(n)] + ["out:1"]
        assert steps[-1] == "signed" and steps[n + 2:-1] in ([], ["locker"])
        ats = [e["at"] for e in ev]
        assert ats == sorted(ats) and len(set(ats)) == len(ats)
        assert 2 * 3600 <= ats[0] - BASE <= 6 * 3600  # 揽收 a few hours after shipping
        out = ev[n + 1]
        assert 8 <= ((out["at"] + 8 * 3600) % 86400) / 3600 < 12  # delivery rounds are in the morning
        codes = [(e["state"], e["code"]) for e in ev]
        assert codes[0] == ("1", "103") and codes[1:n] == [("0", "1002")] * (n - 1) and codes[n] == ("0", "1001")
        assert codes[n + 1] == ("5", "5")
        assert codes[-1] == (("3", "304") if steps[-2] == "locker" else ("3", "301"))
        # the two views of one event never disagree, and both end delivered
        for e in ev:
            assert from_kuaidi100(e["state"], e["code"])[0] == from_douyin(e["douyin"])[0], e
            assert from_douyin(DOUYIN_DESC[e["douyin"]])[0] == from_douyin(e["douyin"])[0]
        assert k100_state(ev) == douyin_state(ev) == T.DELIVERED
        assert "【乌鲁木齐市】" in ev[-1]["context"] or "【苏州市】" in ev[-1]["context"]


def test_timelines_are_deterministic_per_number():
    p = plan()
    assert make_plan("78123456789012", "zhongtong", HZ, URUMQI) == p
    for kind in KINDS:
        assert timeline("78123456789012", p, BASE, kind) == timeline("78123456789012", p, BASE, kind)
    other = make_plan("78123456789013", "zhongtong", HZ, URUMQI)
    assert timeline("78123456789013", other, BASE, "none") != timeline("78123456789012", p, BASE, "none")


@pytest.mark.parametrize("no", [f"JT{i:013d}" for i in range(8)])
def test_each_anomaly_ends_where_the_merchant_must_act(no):
    p = make_plan(no, "jtexpress", HZ, URUMQI)
    t = {k: timeline(no, p, BASE, k) for k in KINDS}
    steps = {k: [e["step"] for e in v] for k, v in t.items()}
    assert t["never_collected"] == []
    # stalled: at least one hub scan, then nothing; a prefix of the normal trip
    assert steps["stalled"][-1].startswith("hub:") and len(steps["stalled"]) >= 2
    assert t["stalled"] == t["none"][:len(t["stalled"])] and k100_state(t["stalled"]) == T.IN_TRANSIT
    # failed delivery: 派件 → 206 → 派件 → 204 (both failed attempts)
    assert steps["failed_delivery"][-4:] == ["out:1", "failed:1", "out:2", "failed:2"]
    assert [e["code"] for e in t["failed_delivery"] if e["state"] == "2"] == ["206", "204"]
    assert k100_state(t["failed_delivery"]) == T.FAILED_ATTEMPT
    assert steps["refused"][-2:] == ["out:1", "refused"] and t["refused"][-1]["state"] == "14"
    assert k100_state(t["refused"]) == douyin_state(t["refused"]) == T.REJECTED
    # returned: back through the same hubs in reverse, signed by the sender
    hubs = [h["city"] for h in p["hubs"]]
    back = [e["city"] for e in t["returned"] if e["step"].startswith("return:hub:")]
    assert back == hubs[::-1]
    assert t["returned"][-1]["state"] == "4" and "寄件人" in t["returned"][-1]["context"]
    assert k100_state(t["returned"]) == douyin_state(t["returned"]) == T.RETURNED
    # lost: Kuaidi100 has no 丢件 code (plain 疑难), Douyin says 丢失
    lost = t["lost"][-1]
    assert (lost["state"], lost["code"], lost["douyin"]) == ("2", "2", "丢失") and "遗失" in lost["context"]
    assert steps["lost"][-2].startswith("hub:")
    assert k100_state(t["lost"]) == T.EXCEPTION and douyin_state(t["lost"]) == T.LOST


def test_rates_pick_the_same_kind_for_the_same_number():
    assert pick_anomaly("YT1", {}) == "none"
    assert all(pick_anomaly(f"YT{i}", {"stalled": 1.0}) == "stalled" for i in range(50))
    rates = {"never_collected": 0.1, "lost": 0.2}
    picks = [pick_anomaly(f"YT{i:013d}", rates) for i in range(5000)]
    assert picks == [pick_anomaly(f"YT{i:013d}", rates) for i in range(5000)]
    c = collections.Counter(picks)
    assert abs(c["never_collected"] / 5000 - 0.1) < 0.02 and abs(c["lost"] / 5000 - 0.2) < 0.025
    assert set(c) == {"none", "never_collected", "lost"}


def test_changing_the_anomaly_keeps_history_and_rebuilds_only_the_future():
    no, p = "78123456789012", plan()
    normal = timeline(no, p, BASE, "none")
    kept = normal[:3]
    now = kept[-1]["at"] + 60
    refused = timeline(no, p, BASE, "refused", kept, now)
    assert refused[:3] == kept and refused[-1]["step"] == "refused"
    assert all(e["at"] > now for e in refused[3:])
    assert [e["step"] for e in refused[3:]] == [f"hub:{k}" for k in range(2, len(p["hubs"]))] + ["out:1", "refused"]
    # stalling a parcel already at the door adds nothing: it simply stays where it is
    assert timeline(no, p, BASE, "stalled", refused, refused[-1]["at"] + 1) == refused
    # a refused parcel can still be sent back; the reason follows the history
    back = timeline(no, p, BASE, "returned", refused, refused[-1]["at"] + 1)
    assert back[:len(refused)] == refused and back[len(refused)]["step"] == "return:start"
    assert "收件人拒收" in back[len(refused)]["context"] and back[-1]["step"] == "returned"
    # after failed attempts the parcel can still be delivered: 302 派件异常后签收
    failed = timeline(no, p, BASE, "failed_delivery")
    ok = timeline(no, p, BASE, "none", failed, failed[-1]["at"] + 1)
    assert ok[-2]["step"] == "out:3" and (ok[-1]["state"], ok[-1]["code"]) == ("3", "302")
    # finished or impossible changes are refused
    with pytest.raises(TimelineClosed):
        timeline(no, p, BASE, "lost", normal, normal[-1]["at"] + 1)
    with pytest.raises(TimelineClosed):
        timeline(no, p, BASE, "never_collected", kept, now)
    with pytest.raises(ValueError):
        timeline(no, p, BASE, "eaten_by_dog")


def test_a_stalled_parcel_that_resumes_moves_from_now_not_from_the_past():
    no, p = "78123456789012", plan()
    stalled = timeline(no, p, BASE, "stalled")
    later = stalled[-1]["at"] + 5 * 86400
    resumed = timeline(no, p, BASE, "none", stalled, later)
    assert resumed[:len(stalled)] == stalled
    tail = resumed[len(stalled):]
    assert tail and tail[0]["at"] > later and tail[-1]["step"] == "signed"
    last_hub = int(stalled[-1]["step"].split(":")[1])
    assert tail[0]["step"] == (f"hub:{last_hub + 1}" if last_hub + 1 < len(p["hubs"]) else "out:1")
    # a trigger point already behind the parcel applies where it is
    lost_now = timeline(no, p, BASE, "lost", resumed[:-1] if resumed[-2]["step"] != "locker" else resumed[:-2],
                           later + 10 * 86400)
    assert lost_now[-1]["step"] == "lost"


def test_kuaidi100_shapes_follow_resultv2():
    p = plan()
    ev = timeline("78123456789012", p, BASE, "none")
    assert set(k100_item(ev[0], "")) == {"time", "ftime", "context", "location"}
    one = k100_item(ev[0], "1")
    assert one["status"] == "揽收" and one["areaCode"] == "CN330100000000" and one["areaName"] == "浙江,杭州市"
    four = k100_item(ev[0], "4")
    assert four["statusCode"] == "103" and four["status"] == "已揽收"
    assert four["time"] == fmt_time(ev[0]["at"]) and len(four["time"]) == 19
    lr = last_result("78123456789012", "zhongtong", ev, "4")
    assert lr["data"][0]["statusCode"] == ev[-1]["code"] and lr["state"] == "3" and lr["ischeck"] == "1"
    assert [d["statusCode"] for d in last_result("x", "zhongtong", ev, "4", "asc")["data"]] == \
        [e["code"] for e in ev]
    mid = last_result("x", "zhongtong", ev[:3], "4")
    assert mid["ischeck"] == "0" and mid["state"] == "0"
    node = douyin_node(ev[0])
    assert node == {"content": ev[0]["context"], "timestamp": str(ev[0]["at"]), "state": "揽收",
                    "state_description": "已揽收", "site_name": p["origin_site"]}


def test_only_the_documented_reply_acknowledges_a_push():
    ok = '{"result":true,"returnCode":"200","message":"成功"}'
    assert acknowledged(httpx.Response(200, text=ok))
    assert acknowledged(httpx.Response(200, text=ok.replace("成功", "提交成功")))
    for bad in ('{"code":0,"msg":"success"}', '{"result":true,"returnCode":200,"message":"成功"}',
                '{"result":"true","returnCode":"200","message":"成功"}', "success", ""):
        assert not acknowledged(httpx.Response(200, text=bad)), bad
    assert not acknowledged(httpx.Response(500, text=ok))


def _sub_form(key: str, number: str, **params) -> dict[str, str]:
    param = {"company": "yuantong", "number": number, "key": key,
             "parameters": {"callbackurl": "http://127.0.0.1:9/nowhere", "salt": "s", "resultv2": "4", **params}}
    return {"schema": "json", "param": json.dumps(param, ensure_ascii=False)}


def test_pushed_events_stay_even_when_the_clock_goes_back(tmp_path):
    sb = Sandbox(str(tmp_path / "sb.db"))
    try:
        c = sb.couriers
        c.set_faults({"timeout_s": 0.5})
        acc = c.create_account()
        assert c.subscribe(_sub_form(acc["key"], "YT9000000000001"))["returnCode"] == "200"
        assert c.subscribe(_sub_form(acc["key"], "YT9000000000001"))["returnCode"] == "501"
        ev = c.view("YT9000000000001")["events"]
        sb.clock_offset = ev[2]["at"] - sb.now() + 1 + sb.clock_offset  # three events have happened
        res = c.tick()  # the callback is unreachable: created and attempted, not delivered
        assert res["created"] == 3 and res["delivered"] == 0 and res["failed"] == 3
        sb.clock_offset = 0.0  # back before any of them happened
        v = c.set_anomaly("YT9000000000001", "lost")
        assert [e["context"] for e in v["events"][:3]] == [e["context"] for e in ev[:3]]
        assert [e["pushed"] for e in v["events"][:3]] == [True] * 3 and not any(e["due"] for e in v["events"])
        assert v["events"][-1]["step"] == "lost" and v["anomaly"] == "lost"
        assert c.stats_view()["pushes"]["pending"] == 3
    finally:
        sb.stop()
