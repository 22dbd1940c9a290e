"""End to end against the sandbox's couriers: parcels shipped by the pipeline are subscribed at
Kuaidi100, signed pushes reach fahuo's webhook, and every anomaly the couriers produce is found
once, with the right kind, and closes when the parcel recovers."""

from __future__ import annotations

from fahuo.entrypoints.web.app import create_app
from fahuo.adapters.carriers.registry import CarrierRegistry
from fahuo.bootstrap import add_account
from fahuo.services.tracking import Tracking
from fahuo.services.watch import Watch
from support import orders_in_fahuo, serve_in_thread

DAY = 86400
KINDS = ["none", "never_collected", "stalled", "failed_delivery", "refused", "returned", "lost"]
# What fahuo calls each one. Kuaidi100 has no "lost" code (tracking-and-couriers.md §1.5): a
# lost parcel arrives as 疑难 and is reported as a failed delivery / problem parcel.
EXPECTED = {"none": [], "never_collected": ["pickup_timeout"], "stalled": ["stalled"],
            "failed_delivery": ["failed_delivery"], "refused": ["refused"],
            "returned": ["returned"], "lost": ["failed_delivery"]}


def test_every_courier_anomaly_is_found_once_and_closes_when_resolved(fahuo, sandbox):
    orders_in_fahuo(fahuo, sandbox, 30, seed=8)
    with fahuo.uow() as uow:
        shipped = uow.pipeline.packs_in_state(["confirmed"], limit=100)
    packs = [p for p in shipped if p["courier_code"] != "shunfeng"]  # SF wants a phone tail
    assert len(packs) >= len(KINDS)
    story = {p["track_no"]: kind for p, kind in zip(packs, KINDS)}
    for no, kind in story.items():
        if kind != "none":
            r = sandbox.http.post("/sandbox/tracking/anomaly", json={"track_no": no, "kind": kind})
            assert r.status_code == 200, r.text

    def now() -> int:
        return int(sandbox.http.get("/sandbox/clock").json()["now"])

    def travel(days: float) -> None:
        off = sandbox.http.get("/sandbox/clock").json()["offset_seconds"]
        sandbox.http.post("/sandbox/clock", json={"offset_seconds": off + days * DAY})
        assert sandbox.http.post("/sandbox/tracking/tick").status_code == 200

    acc = sandbox.http.post("/sandbox/kuaidi100/accounts", json={}).json()
    with serve_in_thread(create_app(fahuo, embedded_worker=False)) as url:
        add_account(fahuo.uow, "kuaidi100", "沙箱快递100",
                    {"customer": acc["customer"], "key": acc["key"], "salt": acc["salt_hint"]},
                    sandbox.url, url)
        tracking = Tracking(fahuo.uow, fahuo.platform_for, carriers=CarrierRegistry(), clock=now)
        watch = Watch(fahuo.uow, notify=fahuo.notify, clock=now)
        assert tracking.start().started == len(shipped)
        sub = tracking.subscribe()
        assert sub.subscribed >= len(packs) and sub.subscribed + sub.subscribe_failed == len(
            shipped)
        travel(20)
        tracking.process_pushes()
        watch.detect()

        def found() -> dict[str, list[str]]:
            with fahuo.uow() as uow:
                _, rows = uow.tracking.list_findings(limit=1000)
            out: dict[str, list[str]] = {}
            for r in rows:
                if r["track_no"] in story:
                    out.setdefault(r["track_no"], []).append(r["kind"])
            return out

        got = found()
        assert {story[no]: sorted(k) for no, k in got.items()} == {
            kind: kinds for kind, kinds in EXPECTED.items() if kinds}
        watch.detect()
        assert found() == got  # found once, not again
        # The stalled parcel starts moving again; the uncollected one is finally picked up.
        stalled = next(no for no, k in story.items() if k == "stalled")
        never = next(no for no, k in story.items() if k == "never_collected")
        for no in (stalled, never):
            r = sandbox.http.post("/sandbox/tracking/anomaly", json={"track_no": no,
                                                                    "kind": "none"})
            assert r.status_code == 200, r.text
        travel(5)
        tracking.process_pushes()
        # Kuaidi100 gave up on the never-collected number (abort after 3 days without a
        # trace): fahuo falls back to asking.
        tracking.poll(track_nos=[never])
        watch.detect()
        after = found()
        assert stalled not in after and never not in after
    with fahuo.uow() as uow:
        closed = {r["track_no"]: r["kind"] for r in
                  uow.tracking.list_findings(status="closed", limit=1000)[1]}
        states = {t["track_no"]: t["state"] for t in uow.tracking.list_trackers(limit=100)[1]}
    assert closed[stalled] == "stalled" and closed[never] == "pickup_timeout"
    assert states[stalled] == "delivered" and states[never] != "info_received"
