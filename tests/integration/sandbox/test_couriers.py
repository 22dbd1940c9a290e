"""Sandbox couriers over real HTTP: fahuo's own Kuaidi100 adapter against the sandbox's /poll and
/poll/query.do, pushes to a local receiver, anomalies, clock travel, and logistics.trackNoRouteDetail.

Assertions after a clock jump look at what the receiver got and at the admin views, never at the
counts a single tick returns: the sandbox's background thread may have done that work first.
"""
from __future__ import annotations

import hashlib
import http.server
import json
import random
import threading
import time
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from fahuo.adapters.carriers.base import InvalidPush, PhoneRequired, ProviderError
from fahuo.adapters.carriers.kuaidi100 import REPLY_OK, Kuaidi100Client, Kuaidi100Settings, parse_push
from fahuo.adapters.carriers.kuaidi100.push import parse_form
from fahuo.adapters.carriers.douyin.status import from_douyin
from fahuo.adapters.carriers.kuaidi100.status import from_kuaidi100
from fahuo.domain.tracking import TrackingEvent, TrackingState as T, Tracker, apply_events
from fahuo.sandbox.couriers.timeline import KINDS, pick_anomaly

DAY = 86400


class K100Receiver:
    """A merchant's push endpoint: records every form; answers Kuaidi100's success body unless the
    number (``?no=`` in the callback URL) is in ``failing`` - then the Douyin-style ``{"code":0}``,
    which is *not* a Kuaidi100 acknowledgement."""

    def __init__(self):
        self.posts: list[tuple[str, dict[str, str], bool]] = []
        self.failing: set[str] = set()
        self.lock = threading.Lock()
        rec = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                no = parse_qs(urlparse(self.path).query).get("no", [""])[0]
                ok = no not in rec.failing
                with rec.lock:
                    rec.posts.append((no, parse_form(body), ok))
                payload = (REPLY_OK if ok else '{"code":0,"msg":"success"}').encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/k100"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def url(self, no: str) -> str:
        return f"{self.base}?no={no}"

    def forms(self, no: str, *, ok_only: bool = True) -> list[dict[str, str]]:
        with self.lock:
            return [f for n, f, ok in self.posts if n == no and (ok or not ok_only)]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def k100_receiver():
    rec = K100Receiver()
    yield rec
    rec.close()


def numbers(prefix: str, digits: int, n: int) -> list[str]:
    rnd = random.Random(time.time_ns())
    return [f"{prefix}{rnd.randrange(10 ** digits):0{digits}d}" for _ in range(n)]


def ship(client, courier: str, nos: list[str]) -> dict[str, dict]:
    """One order per number, shipped whole with ``order.logisticsAdd``; returns number → order detail."""
    shop = client.app["shop_id"]
    client.admin("/sandbox/orders/generate", {"shop_id": shop, "count": len(nos), "seed": 5})
    ids = sorted(i["order_id"] for i in client.admin(f"/sandbox/orders/index?shop_id={shop}", method="GET"))
    out = {}
    for oid, no in zip(ids, nos):
        client.admin("/sandbox/orders/status", {"order_id": oid, "order_status": 2})
        client.call("order.logisticsAdd", {"order_id": oid, "company_code": courier, "logistics_code": no,
                                           "is_reject_refund": True})
        out[no] = client.call("order.orderDetail", {"shop_order_id": oid})["shop_order_detail"]
    return out


def k100(url: str, acc: dict, **kw) -> Kuaidi100Client:
    settings = Kuaidi100Settings(customer=acc["customer"], key=acc["key"], base_url=url)
    return Kuaidi100Client(settings, http=httpx.Client(trust_env=False, timeout=10), **kw)


def fahuo_state(result) -> T:
    """The state fahuo's domain concludes from a Kuaidi100 result."""
    evs = [TrackingEvent(at=e.at, state=from_kuaidi100(result.raw_state, e.raw_sub_state)[0],
                         description=e.description, raw_sub_state=e.raw_sub_state or "") for e in result.events]
    return apply_events(Tracker(track_no=result.track_no, courier="x"), evs).state


def view(client, no: str) -> dict:
    return client.admin(f"/sandbox/tracking/{no}", method="GET")


def at_sandbox_time(client, t: float) -> None:
    client.travel(t - time.time())


def test_subscribe_push_and_query_through_fahuos_adapter(fresh_client, fresh_url, k100_receiver):
    c = fresh_client()
    c.login()
    rec = k100_receiver
    no = numbers("YT", 13, 1)[0]
    order = ship(c, "yuantong", [no])[no]
    acc = c.admin("/sandbox/kuaidi100/accounts", {})
    salt = acc["salt_hint"]
    k = k100(fresh_url, acc)
    ack = k.subscribe(no, "yuantong", callback_url=rec.url(no), salt=salt)
    assert (ack.code, ack.duplicate) == ("200", False)
    again = k.subscribe(no, "yuantong", callback_url=rec.url(no), salt=salt)
    assert (again.code, again.duplicate) == ("501", True)  # already being polled

    v = view(c, no)
    assert v["source"] == "shipment" and v["anomaly"] == "none"
    assert v["dest"]["city"] == order["post_addr"]["city"]["name"]
    assert v["hubs"][-1] == v["dest"]["city"] and 2 <= len(v["hubs"]) <= 4
    assert not any(e["due"] for e in v["events"])  # nothing happens at the moment of shipping
    c.admin("/sandbox/tracking/tick")
    assert rec.forms(no) == []
    with pytest.raises(ProviderError) as ei:
        k.query(no, "yuantong")
    assert ei.value.code == "500"  # 查询无结果: not collected yet

    c.travel(10 * DAY)
    c.admin("/sandbox/tracking/tick")
    n = len(v["events"])
    forms = rec.forms(no)
    pushes = [parse_push(f, salt) for f in forms]
    assert [len(p.result.events) for p in pushes] == list(range(1, n + 1))  # one push per event
    assert [p.status for p in pushes] == ["polling"] * (n - 1) + ["shutdown"]
    assert [e.raw_sub_state for e in pushes[-1].result.events] == [e["status_code"] for e in v["events"]]
    states = [fahuo_state(p.result) for p in pushes]
    assert states[0] == T.PICKED_UP and states[1] == T.IN_TRANSIT and states[-1] == T.DELIVERED
    assert T.OUT_FOR_DELIVERY in states and pushes[-1].result.is_check is True
    data = json.loads(forms[-1]["param"])["lastResult"]["data"]
    assert [d["ftime"] for d in data] == sorted((d["ftime"] for d in data), reverse=True)  # newest first
    assert forms[0]["sign"] == hashlib.md5((forms[0]["param"] + salt).encode()).hexdigest().upper()
    with pytest.raises(InvalidPush):
        parse_push(forms[0], salt + "x")
    v = view(c, no)
    assert all(e["due"] and e["pushed"] and e["delivered"] for e in v["events"])
    assert v["subscriptions"][0]["status"] == "shutdown"

    # query: the same events (this fahuo client's guard already used its slot on the 500 above)
    k2 = k100(fresh_url, acc, clock=lambda: time.time() + c.offset)
    q = k2.query(no, "yuantong")
    assert [e.description for e in q.events] == [e.description for e in pushes[-1].result.events]
    assert fahuo_state(q) == T.DELIVERED
    with pytest.raises(ProviderError) as ei:  # another process, own guard: the sandbox locks the number
        k100(fresh_url, acc).query(no, "yuantong")
    assert ei.value.code == "502"
    c.travel(10 * DAY + 31 * 60)
    assert fahuo_state(k100(fresh_url, acc).query(no, "yuantong")) == T.DELIVERED
    # after shutdown the number may be subscribed again
    assert k.subscribe(no, "yuantong", callback_url=rec.url(no), salt=salt).code == "200"
    st = c.admin("/sandbox/tracking/stats", method="GET")
    assert st["subscriptions"]["accepted"] == 2 and st["subscriptions"]["duplicate"] == 1
    assert st["pushes"]["delivered"] == n and st["pushes"]["failed"] == 0
    assert st["queries"] == {"ok": 2, "no_result": 1, "rejected": 0, "too_soon": 1}


def _raw_sub(url: str, param: dict | None, *, schema: str = "json", as_json: bool = False) -> dict:
    body = {"schema": schema, "param": json.dumps(param, ensure_ascii=False)}
    with httpx.Client(trust_env=False) as h:
        r = h.post(url + "/poll", json=body) if as_json else h.post(url + "/poll", data=body)
    assert r.status_code == 200
    return r.json()


def _raw_query(url: str, customer: str, param: dict, sign: str | None) -> dict:
    text = json.dumps(param, separators=(",", ":"))
    with httpx.Client(trust_env=False) as h:
        form = {"customer": customer, "param": text}
        if sign is not None:
            form["sign"] = sign
        r = h.post(url + "/poll/query.do", data=form)
    assert r.status_code == 200
    return r.json()


def test_kuaidi100_refuses_what_the_real_one_refuses(client, sb_url):
    acc = client.admin("/sandbox/kuaidi100/accounts", {})
    no = numbers("YT", 13, 1)[0]
    cb = {"callbackurl": "http://127.0.0.1:9/cb", "salt": "s"}
    good = {"company": "yuantong", "number": no, "key": acc["key"], "parameters": cb}
    with pytest.raises(ProviderError) as ei:
        k100(sb_url, dict(acc, key="NotTheRightKey01")).subscribe(no, "yuantong", callback_url=cb["callbackurl"],
                                                                 salt="s")
    assert ei.value.code == "600"
    code = lambda **kw: _raw_sub(sb_url, kw.pop("param", None) or good, **kw)["returnCode"]  # noqa: E731
    assert code(param=dict(good, parameters={"salt": "s"})) == "700"  # no callbackurl
    assert code(param=dict(good, parameters=dict(cb, callbackurl="ftp://x/cb"))) == "700"
    assert code(param=dict(good, company="nosuchcourier")) == "700"
    assert code(param=dict(good, number="Y" * 33)) == "700"
    assert code(param=dict(good, company="shunfeng", number="SF" + no[2:])) == "700"  # SF needs a phone
    assert code(param=dict(good, company="", parameters=dict(cb, autoCom="1"))) == "702"  # never seen
    assert code(schema="xml") == "700"
    assert code(as_json=True) == "700"  # not a form
    assert code(param=dict(good, company="shunfeng", number="SF" + no[2:],
                           parameters=dict(cb, phone="13800001234"))) == "200"
    # query signatures: UPPERCASE(MD5(param + key + customer)) and nothing else
    q = {"com": "yuantong", "num": no}
    text = json.dumps(q, separators=(",", ":"))
    right = hashlib.md5((text + acc["key"] + acc["customer"]).encode()).hexdigest()
    forged = hashlib.md5((text + "guessed-key" + acc["customer"]).encode()).hexdigest().upper()
    assert _raw_query(sb_url, acc["customer"], q, forged)["returnCode"] == "503"
    assert _raw_query(sb_url, acc["customer"], q, right)["returnCode"] == "503"  # lower case
    assert _raw_query(sb_url, "0" * 32, q, right.upper())["returnCode"] == "400"  # unknown customer
    assert _raw_query(sb_url, acc["customer"], q, None)["returnCode"] == "400"
    assert _raw_query(sb_url, acc["customer"], {"com": "yuantong", "num": "12345"},
                      hashlib.md5(('{"com":"yuantong","num":"12345"}' + acc["key"] + acc["customer"]).encode())
                      .hexdigest().upper())["returnCode"] == "400"  # num shorter than 6
    with pytest.raises(ProviderError) as ei:
        k100(sb_url, dict(acc, key="guessed-key")).query(no, "yuantong")
    assert ei.value.code == "503"
    assert _raw_query(sb_url, acc["customer"], q, right.upper())["returnCode"] == "500"  # valid, nothing yet


def test_zto_and_sf_queries_need_the_receivers_or_senders_phone_tail(client, sb_url):
    a, b = numbers("78", 12, 2)
    orders = ship(client, "zhongtong", [a, b])
    acc = client.admin("/sandbox/kuaidi100/accounts", {})
    receiver_tail = orders[a]["mask_post_tel"][-4:]
    sender_tail = f"{client.app['shop_id'] % 10000:04d}"  # the shop's send address phone
    wrong = next(t for t in ("0000", "1111", "2222") if t not in (receiver_tail, sender_tail))
    q = {"com": "zhongtong", "num": a}
    text = json.dumps(q, separators=(",", ":"))
    sign = hashlib.md5((text + acc["key"] + acc["customer"]).encode()).hexdigest().upper()
    assert _raw_query(sb_url, acc["customer"], q, sign)["returnCode"] == "408"  # no phone at all
    with pytest.raises(PhoneRequired):  # fahuo refuses before sending
        k100(sb_url, acc).query(a, "zhongtong")
    with pytest.raises(ProviderError) as ei:
        k100(sb_url, acc).query(a, "zhongtong", phone="1380000" + wrong)
    assert ei.value.code == "408"
    for no, tail in ((a, receiver_tail), (b, sender_tail)):  # accepted (nothing collected yet: 500)
        with pytest.raises(ProviderError) as ei:
            k100(sb_url, acc).query(no, "zhongtong", phone="139-" + tail)
        assert ei.value.code == "500"


def test_each_anomaly_kind_yields_its_events(fresh_client, fresh_url, k100_receiver):
    c = fresh_client()
    c.login()
    rec = k100_receiver
    nos = dict(zip(KINDS, numbers("3", 12, len(KINDS))))
    ship(c, "yunda", list(nos.values()))
    acc = c.admin("/sandbox/kuaidi100/accounts", {})
    salt = acc["salt_hint"]
    k = k100(fresh_url, acc)
    for kind, no in nos.items():
        if kind != "none":
            assert c.admin("/sandbox/tracking/anomaly", {"track_no": no, "kind": kind})["anomaly"] == kind
        assert k.subscribe(no, "yunda", callback_url=rec.url(no), salt=salt).code == "200"
    c.travel(20 * DAY)
    c.admin("/sandbox/tracking/tick")
    last = {kind: parse_push(rec.forms(no)[-1], salt) for kind, no in nos.items()}
    state = {kind: fahuo_state(p.result) for kind, p in last.items()}
    codes = {kind: [e.raw_sub_state for e in p.result.events] for kind, p in last.items()}
    assert state["none"] == T.DELIVERED and last["none"].status == "shutdown"
    never = [parse_push(f, salt) for f in rec.forms(nos["never_collected"])]
    assert [(p.status, p.message, len(p.result.events)) for p in never] == [("abort", "3天查询无记录", 0)]
    assert state["stalled"] == T.IN_TRANSIT and last["stalled"].status == "polling"
    assert codes["stalled"][-1] in ("1002", "1001") and "5" not in codes["stalled"]
    assert state["failed_delivery"] == T.FAILED_ATTEMPT and codes["failed_delivery"][-4:] == ["5", "206", "5", "204"]
    assert state["refused"] == T.REJECTED and codes["refused"][-2:] == ["5", "14"]
    assert state["returned"] == T.RETURNED and last["returned"].status == "shutdown"
    assert codes["returned"][-1] == "4" and "6" in codes["returned"]
    assert state["lost"] == T.EXCEPTION and "遗失" in last["lost"].result.events[-1].description
    # Douyin's view of the same parcels: the lost one is LOST there
    c.login()  # the old token expired during the 20 days
    dy = {kind: c.call("logistics.trackNoRouteDetail", {"logistics_code": "yunda", "track_no": no})["route__node_list"]
          for kind, no in nos.items()}
    assert dy["never_collected"] == []
    assert from_douyin(dy["lost"][-1]["state"])[0] == T.LOST
    assert from_douyin(dy["refused"][-1]["state"])[0] == T.REJECTED
    assert from_douyin(dy["returned"][-1]["state"])[0] == T.RETURNED
    assert len(dy["none"]) == len(last["none"].result.events)
    # 60 days without news: Kuaidi100 gives up on the parcels that never finished
    c.travel(100 * DAY)
    c.admin("/sandbox/tracking/tick")
    for kind in ("stalled", "failed_delivery", "refused", "lost"):
        p = parse_push(rec.forms(nos[kind])[-1], salt)
        assert (p.status, p.message) == ("abort", "60天无变化"), kind
        assert fahuo_state(p.result) == state[kind]
    for kind in ("none", "returned", "never_collected"):  # finished ones get nothing more
        assert parse_push(rec.forms(nos[kind])[-1], salt).status in ("shutdown", "abort")
        assert len(rec.forms(nos[kind])) == len(never if kind == "never_collected" else
                                              last[kind].result.events)


def test_rates_pick_anomalies_per_number_when_the_timeline_is_built(fresh_client, fresh_url):
    c = fresh_client()
    c.login()
    with httpx.Client(trust_env=False) as h:
        assert h.post(fresh_url + "/sandbox/tracking/rates", json={"lost": 0.8, "stalled": 0.5}).status_code == 400
        assert h.post(fresh_url + "/sandbox/tracking/rates", json={"eaten": 0.1}).status_code == 400
    rates = {"stalled": 0.4, "refused": 0.3}
    assert c.admin("/sandbox/tracking/rates", rates) == rates
    nos = numbers("JT", 13, 8)
    ship(c, "jtexpress", nos)
    got = {no: view(c, no)["anomaly"] for no in nos}
    assert got == {no: pick_anomaly(no, rates) for no in nos}
    assert c.admin("/sandbox/tracking/rates", {}) == {}
    assert view(c, nos[0])["anomaly"] == got[nos[0]]  # built once: later rates do not rewrite it


def test_clock_travel_makes_events_due_and_a_new_anomaly_keeps_history(fresh_client, fresh_url, k100_receiver):
    c = fresh_client()
    c.login()
    rec = k100_receiver
    no = numbers("YT", 13, 1)[0]
    ship(c, "yuantong", [no])
    acc = c.admin("/sandbox/kuaidi100/accounts", {})
    k100(fresh_url, acc).subscribe(no, "yuantong", callback_url=rec.url(no), salt="pepper")
    before = view(c, no)["events"]
    at_sandbox_time(c, before[1]["at"] + 60)  # collected and first hub scan have happened
    c.admin("/sandbox/tracking/tick")
    assert [len(parse_push(f, "pepper").result.events) for f in rec.forms(no)] == [1, 2]
    v = c.admin("/sandbox/tracking/anomaly", {"track_no": no, "kind": "refused"})
    assert [(e["at"], e["context"]) for e in v["events"][:2]] == [(e["at"], e["context"]) for e in before[:2]]
    assert [e["pushed"] for e in v["events"]] == [True, True] + [False] * (len(v["events"]) - 2)
    assert v["events"][-1]["step"] == "refused" and not any(e["due"] for e in v["events"][2:])
    c.travel(c.offset + 20 * DAY)
    c.admin("/sandbox/tracking/tick")
    results = [parse_push(f, "pepper").result for f in rec.forms(no)]
    assert fahuo_state(results[-1]) == T.REJECTED
    final = [e.description for e in results[-1].events]
    assert all([e.description for e in r.events] == final[:len(r.events)] for r in results)  # history kept
    # a refused parcel can be sent back; once signed back nothing changes any more
    c.admin("/sandbox/tracking/anomaly", {"track_no": no, "kind": "returned"})
    c.travel(c.offset + 20 * DAY)
    c.admin("/sandbox/tracking/tick")
    back = parse_push(rec.forms(no)[-1], "pepper")
    assert fahuo_state(back.result) == T.RETURNED and back.status == "shutdown"
    with httpx.Client(trust_env=False) as h:
        r = h.post(fresh_url + "/sandbox/tracking/anomaly", json={"track_no": no, "kind": "lost"})
        assert r.status_code == 400
        assert h.post(fresh_url + "/sandbox/tracking/anomaly",
                      json={"track_no": "YT0000000000000", "kind": "lost"}).status_code == 404


def test_failed_pushes_are_retried_then_dropped(fresh_client, fresh_url, k100_receiver):
    c = fresh_client()
    c.login()
    rec = k100_receiver
    a, b = numbers("YT", 13, 2)
    ship(c, "yuantong", [a, b])
    c.admin("/sandbox/tracking/faults", {"max_retries": 2})
    acc = c.admin("/sandbox/kuaidi100/accounts", {})
    k = k100(fresh_url, acc)
    for no in (a, b):
        k.subscribe(no, "yuantong", callback_url=rec.url(no), salt="s")
    rec.failing |= {a, b}  # answering {"code":0} is not what Kuaidi100 wants
    c.travel(10 * DAY)
    c.admin("/sandbox/tracking/tick")
    n_a = len(view(c, a)["events"])
    assert len(rec.forms(a, ok_only=False)) == n_a and rec.forms(a) == []
    c.admin("/sandbox/tracking/tick")  # retries wait 35 minutes (sandbox clock)
    assert len(rec.forms(a, ok_only=False)) == n_a
    rec.failing.discard(a)
    c.travel(10 * DAY + 36 * 60)
    c.admin("/sandbox/tracking/tick")
    delivered = rec.forms(a)
    assert len(delivered) == n_a
    firsts = [f for f in rec.forms(a, ok_only=False)][:n_a]
    assert sorted(f["param"] for f in firsts) == sorted(f["param"] for f in delivered)  # the same pushes again
    assert all(e["delivered"] for e in view(c, a)["events"])
    c.travel(10 * DAY + 72 * 60)
    c.admin("/sandbox/tracking/tick")
    c.travel(10 * DAY + 200 * 60)
    c.admin("/sandbox/tracking/tick")
    n_b = len(view(c, b)["events"])
    assert len(rec.forms(b, ok_only=False)) == 3 * n_b  # first try + max_retries, then dropped
    st = c.admin("/sandbox/tracking/stats", method="GET")["pushes"]
    assert st["dropped"] == n_b and st["delivered"] == n_a and st["pending"] == 0
    assert st["failed"] == n_a + 3 * n_b


def test_duplicated_and_reordered_pushes_still_merge_to_the_truth(fresh_client, fresh_url, k100_receiver):
    c = fresh_client()
    c.login()
    rec = k100_receiver
    no = numbers("YT", 13, 1)[0]
    ship(c, "yuantong", [no])
    c.admin("/sandbox/tracking/faults", {"duplicate_rate": 1.0, "reorder": True})
    acc = c.admin("/sandbox/kuaidi100/accounts", {})
    k100(fresh_url, acc).subscribe(no, "yuantong", callback_url=rec.url(no), salt="s")
    c.travel(10 * DAY)
    c.admin("/sandbox/tracking/tick")
    n = len(view(c, no)["events"])
    forms = rec.forms(no)
    assert len(forms) == 2 * n and all(sum(g["param"] == f["param"] for g in forms) == 2 for f in forms)
    sizes = [len(parse_push(f, "s").result.events) for f in forms]
    assert sizes != sorted(sizes)  # arrived out of order
    tracker = Tracker(track_no=no, courier="yuantong")
    for f in forms:  # merge in arrival order, as fahuo would
        r = parse_push(f, "s").result
        tracker = apply_events(tracker, [TrackingEvent(at=e.at, state=from_kuaidi100(r.raw_state, e.raw_sub_state)[0],
                                                       description=e.description, raw_sub_state=e.raw_sub_state or "")
                                         for e in r.events])
    assert tracker.state == T.DELIVERED and len(tracker.events) == n
    assert c.admin("/sandbox/tracking/stats", method="GET")["pushes"]["duplicates_sent"] == n


def test_track_no_route_detail_is_the_same_timeline_for_the_shop_only(fresh_client, fresh_url):
    c = fresh_client()
    c.login()
    other = fresh_client()
    other.login()
    no = numbers("78", 12, 1)[0]
    ship(c, "zhongtong", [no])
    params = {"logistics_code": "zhongtong", "track_no": no}
    data = c.call("logistics.trackNoRouteDetail", params)
    assert data == {"track_info": {"track_no": no, "express": "zhongtong"}, "route__node_list": []}
    c.travel(10 * DAY)
    other.offset = c.offset  # one sandbox clock, two clients signing with it
    c.login()
    other.login()
    nodes = c.call("logistics.trackNoRouteDetail", dict(params, receiver_phone="13800001234"))["route__node_list"]
    events = view(c, no)["events"]
    assert len(nodes) == len(events) and all(e["due"] for e in events)
    assert [int(n["timestamp"]) for n in nodes] == [e["at"] for e in events]  # oldest first
    for n, e in zip(nodes, events):
        assert isinstance(n["timestamp"], str) and n["content"] == e["context"] and n["site_name"] == e["site"]
        assert from_douyin(n["state"]) == from_douyin(n["state_description"])
        assert from_douyin(n["state"])[0] == from_kuaidi100(e["state"], e["status_code"])[0]
    assert from_douyin(nodes[-1]["state"])[0] == T.DELIVERED
    for who, p in ((c, dict(params, track_no="78000000000000")), (other, params),
                   (c, dict(params, logistics_code="yunda"))):
        res = who.raw("logistics.trackNoRouteDetail", p)
        assert (res["code"], res["sub_code"]) == (50002, "isv.business-failed:10"), res
    assert c.raw("logistics.trackNoRouteDetail", {"logistics_code": "zhongtong"})["code"] == 40002
    assert c.raw("logistics.trackNoRouteDetail", dict(params, logistics_code="nosuch"))["code"] == 40003


# ---------------------------------------------------------------------------- 快递拦截 (labelV2 interceptOrder)

def _label_form(acc: dict, param: dict | str, *, t: str | None = None, secret: str | None = None,
                method: str = "interceptOrder") -> dict[str, str]:
    """A form signed independently of fahuo: UPPERCASE(MD5(param + t + key + secret))."""
    text = param if isinstance(param, str) else json.dumps(param, ensure_ascii=False, separators=(",", ":"))
    t = t or str(int(time.time() * 1000))
    sign = hashlib.md5((text + t + acc["key"] + (secret or acc["secret"])).encode()).hexdigest().upper()
    return {"method": method, "key": acc["key"], "t": t, "param": text, "sign": sign}


def _raw_label(url: str, form: dict, *, as_json: bool = False) -> dict:
    with httpx.Client(trust_env=False) as h:
        r = h.post(url + "/label/order", json=form) if as_json else h.post(url + "/label/order", data=form)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"code", "message", "data", "time"} and isinstance(body["code"], int)
    return body


def interceptor(url: str, acc: dict, offset: float = 0.0):
    from fahuo.adapters.carriers.kuaidi100 import Kuaidi100Interceptor
    settings = Kuaidi100Settings(customer=acc["customer"], key=acc["key"], secret=acc["secret"], base_url=url,
                                 label_url=url + "/label/order")
    return Kuaidi100Interceptor(settings, http=httpx.Client(trust_env=False, timeout=10),
                                clock=lambda: time.time() + offset)


def stop(no: str, courier: str = "yuantong", **kw):
    from fahuo.adapters.carriers.kuaidi100 import InterceptRequest
    return InterceptRequest(**({"order_id": f"as-{no}", "courier": courier, "track_no": no,
                                "partner": {"partnerId": "YT-0001", "net": "douyin"},
                                "reason": "买家申请退款"} | kw))


def test_intercept_order_turns_a_travelling_parcel_back_through_fahuos_adapter(fresh_client, fresh_url):
    c = fresh_client()
    c.login()
    a, b = numbers("YT", 13, 2)
    orders = ship(c, "yuantong", [a, b])
    acc = c.admin("/sandbox/kuaidi100/accounts", {})
    assert len(acc["secret"]) == 32
    before = view(c, a)["events"]
    at_sandbox_time(c, before[1]["at"] + 60)  # collected, first hub scan done: on its way
    ack = interceptor(fresh_url, acc, c.offset).intercept(stop(a))
    assert (ack.code, ack.message) == (200, "提交成功")
    v = view(c, a)
    assert v["anomaly"] == "intercepted"
    assert [e["step"] for e in v["events"][:2]] == [e["step"] for e in before[:2]]  # history kept
    assert v["events"][2]["step"] == "return:intercept" and "拦截" in v["events"][2]["context"]
    assert v["events"][-1]["step"] == "returned" and not v["events"][2]["due"]
    assert [(i["order_id"], i["company"], i["intercept_type"], i["partner_id"]) for i in v["intercepts"]] == [
        (f"as-{a}", "yuantong", "RETURN_SEND_ADDR", "YT-0001")]
    with pytest.raises(ProviderError) as ei:  # once is enough
        interceptor(fresh_url, acc, c.offset).intercept(stop(a, order_id="as-again"))
    assert (ei.value.code, ei.value.message) == ("409", "该单号已拦截，请勿重复提交")
    # the platform knows the courier already turned it round
    line = orders[a]["sku_order_list"][0]["order_id"]
    aid = c.admin("/sandbox/aftersales", {"order_id": orders[a]["order_id"], "sku_order_id": line})[
        "aftersales"][0]["aftersale_id"]
    (res,) = c.call("afterSale.applyLogisticsIntercept", {"after_sale_id": int(aid), "op_from": 1,
                                                          "intercept_targets": [{"company_code": "yuantong",
                                                                                 "tracking_no": a}]})[
        "intercept_results"]
    assert (res["is_success"], res["unavailable_reason_code"]) == (False, 3)
    c.travel(c.offset + 20 * DAY)
    c.login()
    assert fahuo_state(k100(fresh_url, acc).query(a, "yuantong")) == T.RETURNED  # tracking shows it back
    assert fahuo_state(k100(fresh_url, acc).query(b, "yuantong")) == T.DELIVERED
    with pytest.raises(ProviderError) as ei:  # signed by the buyer: too late
        interceptor(fresh_url, acc, c.offset).intercept(stop(b))
    assert (ei.value.code, ei.value.message) == ("409", "快件已签收，无法拦截")
    st = c.admin("/sandbox/tracking/stats", method="GET")["intercepts"]
    assert st == {"accepted": 1, "rejected": 2, "total": 1}


def test_intercept_order_refuses_what_the_real_one_refuses(client, sb_url):
    acc = client.admin("/sandbox/kuaidi100/accounts", {})
    no = numbers("YT", 13, 1)[0]
    ship(client, "yuantong", [no])
    good = {"orderId": "r1", "kuaidicom": "yuantong", "kuaidinum": no, "partnerId": "YT-0001",
            "interceptType": "RETURN_SEND_STATION", "orderRole": "1"}

    def code(param=None, **kw) -> tuple[int, str]:
        body = _raw_label(sb_url, kw.pop("form", None) or _label_form(acc, good if param is None else param, **kw))
        return body["code"], body["message"]

    assert _raw_label(sb_url, _label_form(acc, good), as_json=True)["code"] == 400  # not a form
    assert code(method="order")[0] == 501  # only interceptOrder is simulated
    assert code(form={k: v for k, v in _label_form(acc, good).items() if k != "method"}) == (400, "缺少参数：method")
    assert code(form={k: v for k, v in _label_form(acc, good).items() if k != "sign"}) == (400, "缺少参数：sign")
    assert code(form={k: v for k, v in _label_form(acc, good).items() if k != "t"})[1] == "缺少参数：t"
    assert code(t="1700000000")[0] == 400  # seconds, not milliseconds
    assert code(form=dict(_label_form(acc, good), key="NoSuchKey0000001")) == (401, "key无效")
    assert code(secret="guessed-secret") == (401, "签名验证失败")
    lower = _label_form(acc, good)
    assert code(form=dict(lower, sign=lower["sign"].lower())) == (401, "签名验证失败")  # upper-case only
    assert code(form=dict(lower, param=lower["param"].replace("r1", "r2"))) == (401, "签名验证失败")  # signed text
    assert code("not json")[0] == 400
    assert code(dict(good, interceptype="RETURN_SEND_ADDR"))[1] == "param含有不支持的字段：interceptype"
    assert code(dict(good, orderRole=1))[0] == 400  # strings only
    assert code({k: v for k, v in good.items() if k != "kuaidicom"}) == (400, "kuaidicom必填")
    assert code(dict(good, kuaidicom="nosuchcourier"))[0] == 400
    assert code(dict(good, kuaidinum="Y" * 33))[0] == 400
    assert code(dict(good, interceptType="RETURN_HOME"))[0] == 400
    assert code({k: v for k, v in good.items() if k != "interceptType"})[0] == 400
    missing = code(dict(good, interceptType="MODIFY_ADDR", recManInfo={"name": "王小明"}))
    assert missing[0] == 400 and "mobile" in missing[1] and "printAddr" in missing[1]
    assert code(dict(good, interceptType="MODIFY_ADDR", recManInfo={
        "name": "王小明", "mobile": "13800000000", "printAddr": "浙江省杭州市西湖区文三路1号"}))[0] == 501
    assert code({k: v for k, v in good.items() if k != "partnerId"}) == (400, "partnerId必填（快递公司电子面单账号）")
    assert code(dict(good, orderRole="4"))[0] == 400
    assert code(dict(good, interceptPayType="CASH"))[0] == 400
    assert code(dict(good, callbackUrl="ftp://x/cb"))[0] == 400
    assert code(dict(good, kuaidinum="YT0000000000001")) == (404, "单号不存在：YT0000000000001")
    assert code(dict(good, kuaidicom="zhongtong"))[0] == 404  # a yuantong number
    assert client.admin(f"/sandbox/tracking/{no}", method="GET")["intercepts"] == []  # none of it counted
    ok = _raw_label(sb_url, _label_form(acc, good))
    assert (ok["code"], ok["message"], ok["data"]) == (200, "提交成功", None)
    assert abs(ok["time"] - time.time() * 1000) < 60_000
