"""After shipping: pushes verified and stored once, events merged in any order, exceptions
found once and closed when resolved, deadlines moved, and one grouped alert per kind."""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fahuo.adapters.notify.webhook import verify_signature
from fahuo.entrypoints.web.app import create_app
from fahuo.services.settings import update_settings
from fahuo.adapters.carriers.registry import CarrierRegistry
from fahuo.bootstrap import add_account
from fahuo.services.tracking import Tracking
from fahuo.bootstrap import add_channel
from fahuo.services.watch import Watch
from support import orders_in_fahuo, ready_to_ship, serve_in_thread, sync_now

SALT = "fahuo-salt-1"
T0 = 1_790_000_000  # a fixed "now" for the tracking clock


def _cst(ts: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts + 8 * 3600))


def k100_param(track_no: str, com: str, events: list[tuple[int, str, str]], *,
               status: str = "polling", state: str = "0") -> str:
    """A Kuaidi100 push `param`: events (at, statusCode, text), newest first as sent."""
    data = [{"context": text, "time": _cst(at), "ftime": _cst(at), "statusCode": code,
             "areaName": "浙江,杭州市"} for at, code, text in sorted(events, reverse=True)]
    return json.dumps({"status": status, "message": "", "lastResult": {
        "message": "ok", "state": state, "status": "200", "condition": "F00", "ischeck": "0",
        "com": com, "nu": track_no, "data": data}}, ensure_ascii=False)


def push_form(param: str, salt: str = SALT) -> dict[str, str]:
    return {"param": param, "sign": hashlib.md5((param + salt).encode()).hexdigest().upper()}


@pytest.fixture
def shipped(fahuo, sandbox):
    """A sandbox shop with ~20 orders shipped and confirmed by the pipeline."""
    ref, _ = orders_in_fahuo(fahuo, sandbox, 24, seed=5)
    with fahuo.uow() as uow:
        packs = uow.pipeline.packs_in_state(["confirmed"], limit=100)
    assert len(packs) >= 10
    return ref, packs


def _tracking(fahuo, clock) -> Tracking:
    return Tracking(fahuo.uow, fahuo.platform_for, carriers=CarrierRegistry(), clock=clock)


def _account(fahuo) -> int:
    return add_account(fahuo.uow, "kuaidi100", "主账号", {"customer": "C1", "key": "K1",
                                                          "salt": SALT},
                       "http://127.0.0.1:9", "https://fahuo.example.com")


def test_pushes_are_verified_stored_once_and_merge_in_any_order(fahuo, shipped):
    _, packs = shipped
    acc = _account(fahuo)
    now = [T0]
    tr = _tracking(fahuo, lambda: now[0])
    assert tr.start().started == len(packs)
    assert tr.start().started == 0  # never a second tracker for a pack
    p = packs[0]
    timeline = [(T0 + 3600, "1", "【杭州】快递员已揽收"), (T0 + 7200, "1002", "已发往成都转运中心"),
                (T0 + 20000, "5", "派件员正在派件"), (T0 + 30000, "301", "已签收，本人签收")]
    forms = [push_form(k100_param(p["track_no"], "zhongtong", timeline[:k]))
             for k in range(1, 5)]
    forms += forms[:2]  # duplicates as Kuaidi100 retries them
    random.Random(3).shuffle(forms)
    client = TestClient(create_app(fahuo, embedded_worker=False))
    for f in forms:
        r = client.post(f"/webhooks/kuaidi100/{acc}", data=f)
        assert r.status_code == 200 and r.json() == {"result": True, "returnCode": "200",
                                                     "message": "成功"}
    # forged: right param, wrong salt → refused, nothing stored
    bad = client.post(f"/webhooks/kuaidi100/{acc}",
                      data=push_form(k100_param(p["track_no"], "zhongtong", timeline), "guess"))
    assert bad.status_code == 401 and bad.json()["result"] is False
    with fahuo.uow() as uow:
        assert uow.tracking.push_counts() == {"total": 4, "pending": 4}
    rep = tr.process_pushes()
    assert rep.pushes == 4
    with fahuo.uow() as uow:
        (t,) = uow.tracking.by_track_nos([p["track_no"]])[p["track_no"]]
    assert t["state"] == "delivered" and t["picked_up_at"] == T0 + 3600
    assert len(json.loads(t["events"])) == 4
    # a late, older push after delivery never reopens the parcel
    client.post(f"/webhooks/kuaidi100/{acc}",
                data=push_form(k100_param(p["track_no"], "zhongtong",
                                          timeline[:1] + [(T0 + 5000, "1002", "重复扫描")])))
    tr.process_pushes()
    with fahuo.uow() as uow:
        (t,) = uow.tracking.by_track_nos([p["track_no"]])[p["track_no"]]
    assert t["state"] == "delivered"


def test_each_problem_is_found_once_with_its_kind_and_closes_when_resolved(fahuo, shipped):
    _, packs = shipped
    acc = _account(fahuo)
    shipped_at = max(p["updated_at"] for p in packs)
    now = [shipped_at + 3600]
    tr, watch = _tracking(fahuo, lambda: now[0]), Watch(fahuo.uow, notify=fahuo.notify, clock=lambda: now[0])
    tr.start()
    a, b, c, d = packs[:4]
    s = shipped_at
    stories = {
        a["track_no"]: [(s + 600, "1", "已揽收")],                          # will stall
        b["track_no"]: [(s + 600, "1", "已揽收"), (s + 9000, "5", "派件中"),
                        (s + 9500, "206", "联系不上收件人")],                # failed delivery
        c["track_no"]: [(s + 600, "1", "已揽收"), (s + 9000, "14", "收件人拒签")],  # refused
    }
    client = TestClient(create_app(fahuo, embedded_worker=False))
    for no, evs in stories.items():
        com = next(p["courier_code"] for p in packs if p["track_no"] == no)
        client.post(f"/webhooks/kuaidi100/{acc}", data=push_form(k100_param(no, com, evs)))
    tr.process_pushes()
    now[0] = s + 30 * 3600  # a day and more after shipping
    watch.detect()
    with fahuo.uow() as uow:
        _, rows = uow.tracking.list_findings(limit=1000)
    kinds = {}
    for r in rows:
        kinds.setdefault(r["track_no"], []).append(r["kind"])
    assert kinds[b["track_no"]] == ["failed_delivery"]
    assert kinds[c["track_no"]] == ["refused"]
    assert kinds[d["track_no"]] == ["pickup_timeout"]  # no scan at all: fake-shipment risk
    assert a["track_no"] not in kinds  # moving recently enough
    assert len([r for r in rows if r["kind"] == "pickup_timeout"]) == len(packs) - 3
    watch.detect()  # the same problems are not found twice
    with fahuo.uow() as uow:
        assert uow.tracking.list_findings(limit=1000)[0] == len(rows)
    # a's last event is 60 h old → stalled; d is finally collected → its finding closes
    now[0] = s + 62 * 3600
    client.post(f"/webhooks/kuaidi100/{acc}", data=push_form(k100_param(
        d["track_no"], d["courier_code"], [(now[0] - 60, "1", "已揽收")])))
    tr.process_pushes()
    watch.detect()
    with fahuo.uow() as uow:
        open_ = {(r["track_no"], r["kind"]) for r in uow.tracking.list_findings(limit=1000)[1]}
        closed = uow.tracking.list_findings(status="closed", limit=1000)[1]
    assert (a["track_no"], "stalled") in open_
    assert (d["track_no"], "pickup_timeout") not in open_
    assert any(r["track_no"] == d["track_no"] and r["kind"] == "pickup_timeout"
               and r["close_reason"] for r in closed)  # stays in history


def test_people_assign_and_close_and_a_closed_exception_stays_closed(fahuo, shipped):
    _, packs = shipped
    shipped_at = max(p["updated_at"] for p in packs)
    now = [shipped_at + 30 * 3600]
    tr, watch = _tracking(fahuo, lambda: now[0]), Watch(fahuo.uow, notify=fahuo.notify, clock=lambda: now[0])
    tr.start()
    fahuo.__dict__["watch"] = watch  # the API uses the container's Watch
    watch.detect()
    client = TestClient(create_app(fahuo, embedded_worker=False))
    items = client.get("/api/exceptions", params={"kind": "pickup_timeout"}).json()["items"]
    fid = items[0]["id"]
    assert client.post(f"/api/exceptions/{fid}/assign", json={"assignee": "小王"}).status_code == 200
    assert client.post(f"/api/exceptions/{fid}/close", json={"reason": ""}).status_code == 422
    r = client.post(f"/api/exceptions/{fid}/close", json={"reason": "已联系快递，明早揽收"})
    assert r.status_code == 200
    assert client.post("/api/exceptions/999999/close", json={"reason": "x"}).status_code == 404
    watch.detect()
    still = {i["id"] for i in client.get("/api/exceptions").json()["items"]}
    assert fid not in still
    closed = client.get("/api/exceptions", params={"status": "closed"}).json()["items"]
    assert [c["assignee"] for c in closed if c["id"] == fid] == ["小王"]
    page = client.get("/exceptions", params={"status": "closed"})
    assert page.status_code == 200 and "已联系快递，明早揽收" in page.text


def test_deadline_warnings_follow_a_moved_deadline(fahuo, sandbox):
    ref, creds = ready_to_ship(fahuo, sandbox, qps=1000)
    sandbox.generate(creds["shop_id"], 12, seed=9, spread_seconds=600)
    sync_now(fahuo, ref)
    with fahuo.uow() as uow:
        _, rows = uow.orders.search(shop_ref=ref, limit=100)
    target = next(r for r in rows if r["order_status"] == 2 and r["exp_ship_time"])
    exp = target["exp_ship_time"]
    now = [exp - 3 * 3600]  # 3 h left: the 6 h warning
    watch = Watch(fahuo.uow, notify=fahuo.notify, clock=lambda: now[0])
    watch.detect()

    def kinds_of(oid):
        with fahuo.uow() as uow:
            return sorted(r["kind"] for r in uow.tracking.list_findings(order_id=oid)[1])
    assert kinds_of(target["order_id"]) == ["deadline_soon_6h"]
    # the platform pushes 126: the deadline moved two days later → the warning closes now
    with fahuo.uow() as uow:
        uow.conn.exec_driver_sql("UPDATE orders SET exp_ship_time = ? WHERE order_id = ?",
                                 (exp + 2 * 86400, target["order_id"]))
    watch.detect_orders([target["order_id"]])
    assert kinds_of(target["order_id"]) == []
    now[0] = exp + 2 * 86400 + 60  # and when the new deadline passes: overdue
    watch.detect_orders([target["order_id"]])
    assert kinds_of(target["order_id"]) == ["overdue"]


class _Receiver:
    """A merchant's webhook endpoint: checks the signature, records what it got."""

    def __init__(self, secret: str) -> None:
        self.secret, self.got, self.lock = secret, [], threading.Lock()

        async def hook(request: Request) -> JSONResponse:
            body = await request.body()
            ok = verify_signature(self.secret, request.headers.get("x-fahuo-timestamp", ""),
                                  body, request.headers.get("x-fahuo-signature", ""))
            if not ok:
                return JSONResponse({"error": "bad signature"}, 401)
            with self.lock:
                self.got.append(json.loads(body))
            return JSONResponse({"ok": True})
        self.app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])


def test_one_grouped_alert_per_kind_and_not_again_within_the_interval(fahuo, shipped):
    _, packs = shipped
    shipped_at = max(p["updated_at"] for p in packs)
    now = [shipped_at + 30 * 3600]
    tr, watch = _tracking(fahuo, lambda: now[0]), Watch(fahuo.uow, notify=fahuo.notify, clock=lambda: now[0])
    tr.start()
    watch.detect()
    rec = _Receiver("s3cret-hook")
    with serve_in_thread(rec.app) as url:
        add_channel(fahuo.uow, "仓库群", "webhook", {"url": f"{url}/hook", "secret": "s3cret-hook"},
                    ["pickup_timeout"], interval_s=1800)
        add_channel(fahuo.uow, "老板", "webhook", {"url": f"{url}/hook", "secret": "wrong"},
                    ["*"], interval_s=1800)
        sent = watch.send_alerts("https://fahuo.example.com")
        assert {(s["channel"], s["ok"]) for s in sent} == {("仓库群", True), ("老板", False)}
        (msg,) = rec.got
        assert msg["kind"] == "pickup_timeout" and msg["count"] == len(packs)
        assert msg["link"] == "https://fahuo.example.com/exceptions?kind=pickup_timeout"
        assert "揽收超时" in msg["title"]
        assert watch.send_alerts() == []  # told (or tried) already; nothing new
        # after the interval each channel gets what it has not been told: the broken one
        # everything again, the working one only what is new to it
        now[0] += 60
        with fahuo.uow() as uow:
            uow.tracking.open_new([{"key": "stalled:x:1", "kind": "stalled", "shop_ref": 1,
                                    "order_id": packs[0]["main_order_id"], "track_no": "X1",
                                    "courier_code": "zhongtong", "since": now[0],
                                    "detail": "no event for 50 h", "last_event": None}], now[0])
        # a new kind is told at once (intervals are per kind); 仓库群 does not want it
        assert [(s["channel"], s["kind"]) for s in watch.send_alerts()] == [("老板", "stalled")]
        now[0] += 1801
        again = {(s["channel"], s["kind"]): s["count"] for s in watch.send_alerts()}
        assert again == {("老板", "pickup_timeout"): len(packs), ("老板", "stalled"): 1}
        assert len(rec.got) == 1  # 仓库群 wants pickup_timeout only and was told already
    with fahuo.uow() as uow:
        hist = uow.tracking.alert_history()
    assert any(not h["ok"] and "401" in (h["error"] or "") for h in hist)


def test_thresholds_are_the_shops_own(fahuo, shipped):
    from fahuo.services.settings import SettingsError
    ref, packs = shipped
    shipped_at = max(p["updated_at"] for p in packs)
    now = [shipped_at + 3 * 3600]  # 3 h after shipping: too early for the default 24 h
    tr, watch = _tracking(fahuo, lambda: now[0]), Watch(fahuo.uow, notify=fahuo.notify, clock=lambda: now[0])
    tr.start()
    watch.detect()
    with fahuo.uow() as uow:
        assert uow.tracking.count_open_by_kind().get("pickup_timeout", 0) == 0
    with pytest.raises(SettingsError, match="pickup_timeout_s"):
        update_settings(fahuo.uow, ref, {"watch_rules": {"pickup_timeout_s": -5}}, actor="t")
    update_settings(fahuo.uow, ref, {"watch_rules": {"pickup_timeout_s": 2 * 3600}}, actor="t")
    watch.detect()
    with fahuo.uow() as uow:
        assert uow.tracking.count_open_by_kind()["pickup_timeout"] == len(packs)


def test_a_deadline_push_from_the_platform_moves_the_warning_at_once(fahuo, sandbox):
    from fahuo.bootstrap import set_app
    from fahuo.entrypoints import worker
    ref, creds = orders_in_fahuo(fahuo, sandbox, 10, seed=11, run=False)
    with fahuo.uow() as uow:
        _, rows = uow.orders.search(shop_ref=ref, limit=100)
    target = next(r for r in rows if r["order_status"] == 2 and r["exp_ship_time"])
    oid, exp = target["order_id"], target["exp_ship_time"]
    now = [exp - 3 * 3600]
    fahuo.__dict__["watch"] = Watch(fahuo.uow, notify=fahuo.notify, clock=lambda: now[0])  # the worker's Watch
    fahuo.watch.detect()

    def kinds():
        with fahuo.uow() as uow:
            return sorted(r["kind"] for r in uow.tracking.list_findings(order_id=oid)[1])
    assert kinds() == ["deadline_soon_6h"]
    set_app(fahuo)
    try:
        with serve_in_thread(create_app(fahuo, embedded_worker=False)) as url:
            sandbox.push_config(creds["app_key"], f"{url}/webhooks/doudian", retry_base_s=0.05)
            r = sandbox.http.post("/sandbox/orders/change", json={"order_id": oid,
                                                                  "kind": "deadline"})
            assert r.status_code == 200 and r.json()["kind"] in ("deadline", "appointment")
            for _ in range(100):  # the push (126, or 112 for an appointment) arrives
                with fahuo.uow() as uow:
                    if uow.inbox.counts().get("pending"):
                        break
                time.sleep(0.05)
            worker.drain_inbox()  # what the worker does when a push is stored
    finally:
        set_app(None)
    with fahuo.uow() as uow:
        moved = uow.orders.get(oid)["exp_ship_time"]
    assert moved > exp
    assert kinds() == []  # the 6 h warning closed the moment the deadline moved
    with fahuo.uow() as uow:
        closed = uow.tracking.list_findings(status="closed", order_id=oid)[1]
    assert [c["kind"] for c in closed] == ["deadline_soon_6h"]


def test_kdniao_pushes_are_verified_and_merged(fahuo, shipped):
    from fahuo.adapters.carriers.kdniao.push import data_sign
    _, packs = shipped
    acc = add_account(fahuo.uow, "kdniao", "快递鸟", {"ebusiness_id": "1237100", "api_key": "k-56"},
                      "http://127.0.0.1:9/api", "https://fahuo.example.com")
    now = [T0]
    tr = _tracking(fahuo, lambda: now[0])
    tr.start()
    p = packs[0]
    body = json.dumps({"EBusinessID": "1237100", "PushTime": _cst(T0), "Count": "1", "Data": [{
        "EBusinessID": "1237100", "ShipperCode": "ZTO", "LogisticCode": p["track_no"],
        "Success": True, "State": "2", "StateEx": "201", "Traces": [
            {"AcceptTime": _cst(T0 + 600), "AcceptStation": "【杭州】已揽收", "Action": "1"},
            {"AcceptTime": _cst(T0 + 9000), "AcceptStation": "到达【成都转运中心】",
             "Action": "201"}]}]}, ensure_ascii=False)
    client = TestClient(create_app(fahuo, embedded_worker=False))
    ok = client.post(f"/webhooks/kdniao/{acc}", data={
        "RequestType": "101", "RequestData": body, "DataSign": data_sign(body, "k-56")})
    assert ok.status_code == 200 and ok.json()["Success"] is True
    bad = client.post(f"/webhooks/kdniao/{acc}", data={
        "RequestType": "101", "RequestData": body, "DataSign": data_sign(body, "guess")})
    assert bad.status_code == 401 and bad.json()["Success"] is False
    assert tr.process_pushes().pushes == 1
    with fahuo.uow() as uow:
        (t,) = uow.tracking.by_track_nos([p["track_no"]])[p["track_no"]]
    assert t["state"] == "in_transit" and t["picked_up_at"] == T0 + 600


class _DouyinOnly:
    """The shop's platform answering trackNoRouteDetail (no provider account configured)."""

    def __init__(self, nodes):
        self.nodes, self.asked = nodes, []

    def track_route(self, courier, track_no):
        self.asked.append(track_no)
        return self.nodes


def test_without_a_provider_parcels_are_polled_from_the_platform(fahuo, shipped):
    from fahuo.services.tracking import Tracking as T
    _, packs = shipped
    shipped_at = max(p["updated_at"] for p in packs)
    api = _DouyinOnly([{"at": shipped_at + 600, "state": "揽收", "state_description": "",
                        "description": "已揽收", "location": "杭州"},
                       {"at": shipped_at + 7200, "state": "9999", "state_description": "运输中",
                        "description": "运输中", "location": "嘉兴"}])
    now = [shipped_at + 30 * 60 + 5]  # the first poll is due 30 min after shipping
    tr = T(fahuo.uow, lambda shop: api, carriers=CarrierRegistry(), clock=lambda: now[0])
    tr.start()
    rep = tr.poll()
    assert rep.polled == len(packs) and len(api.asked) == len(packs)
    with fahuo.uow() as uow:
        t = uow.tracking.by_track_nos([packs[0]["track_no"]])[packs[0]["track_no"]][0]
    # an unknown code is read through its description
    assert t["source"] == "douyin" and t["state"] == "in_transit" and t["picked_up_at"]
    assert t["next_poll_at"] == now[0] + 30 * 60  # news: ask again in the base interval
    assert tr.poll().polled == 0  # nothing is due again yet
    now[0] += 30 * 60
    tr.poll()  # the same answer: no news, so the next ask waits twice as long
    with fahuo.uow() as uow:
        t = uow.tracking.by_track_nos([packs[0]["track_no"]])[packs[0]["track_no"]][0]
    assert t["next_poll_at"] == now[0] + 60 * 60 and t["poll_attempts"] == 1


def test_oversized_courier_pushes_are_refused_unread(fahuo):
    acc = _account(fahuo)
    client = TestClient(create_app(fahuo, embedded_worker=False))
    big = {"param": "x" * (fahuo.settings.webhook_max_body + 10), "sign": "0"}
    assert client.post(f"/webhooks/kuaidi100/{acc}", data=big).status_code == 413
    with fahuo.uow() as uow:
        assert uow.tracking.push_counts()["total"] == 0
