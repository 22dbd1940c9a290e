"""交接单 through the real services on SQLite with a fake shop: what waits per courier, the
list made of it, handed over once, printed through the documents port, and the 揽收超时
finding a handed-over parcel without a pickup scan becomes."""

from __future__ import annotations

import time

import pytest

from fakes import FakeHandoverDocuments, FakeShop
from support import make_fahuo, order_payload

from fahuo.adapters.carriers.registry import CarrierRegistry
from fahuo.domain.clock import shop_time
from fahuo.domain.watch import HOUR
from fahuo.services.handover import Handover, HandoverError
from fahuo.services.orders import store_platform_orders
from fahuo.services.scan import scan
from fahuo.services.settings import refresh_from_platform, update_settings
from fahuo.services.shipping import Pipeline
from fahuo.services.shops import NewShop, add_shop
from fahuo.services.tracking import Tracking
from fahuo.services.watch import Watch


class Clock:
    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def world(tmp_path):
    app = make_fahuo(tmp_path)
    shop = FakeShop()
    platform_for = lambda _shop: shop  # noqa: E731
    with app.uow() as u:
        ref = add_shop(u, NewShop(shop_id="1001", app_key="3409409348479354011",
                                  app_secret="s", gateway_url="http://127.0.0.1:1"))
    refresh_from_platform(app.uow, platform_for, ref)
    update_settings(app.uow, ref, {
        "confirm_mode": "on_scan", "default_courier": "zhongtong", "sender_name": "王仓管",
        "sender_phone": "13800000000", "audit_rules": {
            "hold_on_buyer_remark": False, "hold_on_seller_remark": False,
            "hold_presale": False}}, actor="t")
    now = int(time.time())
    with app.uow() as u:
        store_platform_orders(u, ref, [order_payload(str(6900000000000000000 + i * 100),
                                                     now - 60 + i) for i in range(1, 6)])
    Pipeline(app.uow, platform_for).run()
    with app.uow(readonly=True) as u:
        packs = u.pipeline.packs_in_state(["waybill_taken"], limit=100)
    assert len(packs) == 5
    clock = Clock()
    docs = FakeHandoverDocuments()
    yield {"app": app, "ref": ref, "shop": shop, "platform_for": platform_for,
           "packs": sorted(packs, key=lambda p: p["id"]), "clock": clock, "docs": docs,
           "handover": Handover(app.uow, documents=docs, clock=clock)}
    app.close()


def _scan(w, packs) -> list[str]:
    for p in packs:
        assert scan(w["app"].uow, w["platform_for"], p["track_no"]).verdict == "shipped"
    return [p["track_no"] for p in packs]


def test_only_scanned_parcels_wait_and_a_list_takes_them_once(world):
    h, ref = world["handover"], world["ref"]
    assert h.waiting(ref) == []  # numbered but not scanned: nothing goes to the courier yet
    first = _scan(world, world["packs"][:3])
    [group] = h.waiting(ref)
    assert (group.courier_code, group.count) == ("zhongtong", 3)
    assert group.courier == "中通快递 (zhongtong)" and set(group.track_nos) == set(first)
    [made] = h.create(ref, "中通", actor="王仓管")  # the Chinese name is enough
    assert made["packs"] == 3 and made["state"] == "open" and made["state_name"] == "待交接"
    assert [it["track_no"] for it in made["items"]] == list(group.track_nos)
    assert [it["seq"] for it in made["items"]] == [1, 2, 3]
    assert made["created_by"] == "王仓管"
    assert h.waiting(ref) == []  # since the last list: nothing again
    later = _scan(world, world["packs"][3:])
    [group] = h.waiting(ref)
    assert set(group.track_nos) == set(later)
    [second] = h.create(ref, "zhongtong", actor="王仓管")
    assert {it["track_no"] for it in second["items"]} == set(later)
    total, lists = h.lists(ref)
    assert total == 2 and [x["id"] for x in lists] == [second["id"], made["id"]]


def test_refusals_name_the_field_and_write_nothing(world):
    h, ref = world["handover"], world["ref"]
    with pytest.raises(HandoverError, match="没有待交接的包裹") as e:
        h.create(ref, "zhongtong", actor="t")
    assert e.value.field == "courier"
    with pytest.raises(HandoverError, match="不认识") as e:
        h.create(ref, "火星快递", actor="t")
    assert e.value.field == "courier"
    with pytest.raises(HandoverError, match="不存在") as e:
        h.create(999, "zhongtong", actor="t")
    assert e.value.field == "shop_ref"
    _scan(world, world["packs"][:1])
    with pytest.raises(HandoverError, match="网点 X9") as e:
        h.create(ref, "zhongtong", netsite="X9", actor="t")
    assert e.value.field == "netsite"
    with pytest.raises(HandoverError) as e:
        h.export(12345, "pdf", actor="t")
    assert e.value.field == "id"
    with pytest.raises(HandoverError) as e:
        h.lists(ref, state="lost")
    assert e.value.field == "state"
    assert h.lists(ref) == (0, [])


def test_handed_over_once_with_who_and_when_and_printed_as_listed(world):
    h, ref, clock = world["handover"], world["ref"], world["clock"]
    numbers = _scan(world, world["packs"][:2])
    [lst] = h.create(ref, "zhongtong", actor="王仓管")
    with pytest.raises(HandoverError, match="pdf 或 xlsx") as e:
        h.export(lst["id"], "docx", actor="t")
    assert e.value.field == "format"
    out = h.export(lst["id"], "pdf", actor="t")
    assert out.media_type == "application/pdf"
    assert out.file_name == f"handover-{lst['id']}-zhongtong.pdf"
    sheet, fmt = world["docs"].sheets[-1]
    assert fmt == "pdf" and [ln.track_no for ln in sheet.lines] == numbers
    assert sheet.courier == "中通快递 (zhongtong)" and sheet.state == "待交接"
    assert sheet.handed_over == ""
    clock.now += 1800
    done = h.done(lst["id"], actor="李店长")
    assert done["state"] == "handed_over" and done["handed_over_by"] == "李店长"
    assert done["handed_over_at"] == int(clock.now)
    with pytest.raises(HandoverError, match="已于") as e:
        h.done(lst["id"], actor="别人")
    assert e.value.field == "id"
    assert h.get(lst["id"])["handed_over_by"] == "李店长"  # the second try changed nothing
    h.export(lst["id"], "xlsx", actor="t")
    sheet, fmt = world["docs"].sheets[-1]
    assert fmt == "xlsx" and sheet.state == "已交接"
    assert sheet.handed_over == f"{shop_time(int(clock.now))} 李店长"
    with world["app"].uow(readonly=True) as u:
        audit = [(a["action"], a["actor"]) for a in u.audit.for_subject("handover",
                                                                         str(lst["id"]))]
    assert ("handover.create", "王仓管") in audit and ("handover.done", "李店长") in audit


def _tracked_and_handed_over(world):
    h, ref = world["handover"], world["ref"]
    numbers = _scan(world, world["packs"][:2])
    carriers = CarrierRegistry()
    tracking = Tracking(world["app"].uow, world["platform_for"], carriers=carriers)
    tracking.start()
    [lst] = h.create(ref, "zhongtong", actor="王仓管")
    h.done(lst["id"], actor="王仓管")
    return lst, numbers, tracking, carriers


def test_a_handed_over_parcel_without_pickup_scan_is_a_finding_naming_the_list(world):
    clock, app = world["clock"], world["app"]
    lst, (scanned, silent), tracking, carriers = _tracked_and_handed_over(world)
    handed_at = int(clock.now)
    # The courier scans one of the two; the other is never scanned.
    world["shop"].routes[scanned] = [{"at": handed_at + 600, "state": "揽收",
                                      "description": "快递员已揽收", "location": "杭州",
                                      "state_description": ""}]
    tracking.poll(track_nos=[scanned, silent])
    carriers.close()
    watch = Watch(app.uow, notify=app.notify, clock=clock)
    clock.now = handed_at + 6 * HOUR - 60  # not yet: the shop's threshold is 6 h by default
    watch.detect()
    with app.uow(readonly=True) as u:
        assert u.tracking.open_findings(kinds=["pickup_timeout"]) == {}
    clock.now = handed_at + 6 * HOUR + 60
    watch.detect()
    with app.uow(readonly=True) as u:
        found = list(u.tracking.open_findings(kinds=["pickup_timeout"]).values())
    assert [f["track_no"] for f in found] == [silent]  # the scanned parcel is not one
    expected = (f"交接单 #{lst['id']}（中通快递 {shop_time(handed_at)} 交接）后 6 小时"
                f"无揽收扫描")
    assert found[0]["detail"] == expected
    assert found[0]["since"] == handed_at + 6 * HOUR


def test_the_shops_own_threshold_and_one_pickup_finding_per_parcel(world):
    clock, app, ref = world["clock"], world["app"], world["ref"]
    update_settings(app.uow, ref, {"watch_rules": {"handover_pickup_s": 2 * HOUR}}, actor="t")
    lst, numbers, tracking, carriers = _tracked_and_handed_over(world)
    carriers.close()
    handed_at = int(clock.now)
    watch = Watch(app.uow, notify=app.notify, clock=clock)
    # A day and more later the shipping-time rule (24 h) would find them too: the list's
    # finding stands in for it, one per parcel.
    clock.now = handed_at + 25 * HOUR
    watch.detect()
    with app.uow(readonly=True) as u:
        found = list(u.tracking.open_findings(kinds=["pickup_timeout"]).values())
    assert sorted(f["track_no"] for f in found) == sorted(numbers)
    assert all(f"交接单 #{lst['id']}" in f["detail"] and "后 2 小时无揽收扫描" in f["detail"]
               for f in found)
    assert all(f["since"] == handed_at + 2 * HOUR for f in found)
