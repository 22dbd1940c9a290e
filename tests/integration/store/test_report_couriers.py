"""Delivery per courier (× province), exceptions per kind/courier/province and the courier
flags with their one-click rule, on SQLite and PostgreSQL, over a small history built by hand;
every expected figure is worked out here from that history.

Shop day 2026-03-01 00:00 (UTC+8) is T0; the range is [03-01, 03-03).

    parcel courier    province confirmed what became of it (events, oldest first)
    Z1     zhongtong  浙江省   T0+1h     picked up, delivered after 30 h
    Z2     zhongtong  浙江省   T0+2h     failed once, then delivered after 40 h 30 min
    Z3     zhongtong  浙江省   T0+3h     refused (state 拒收), not delivered
    Z4     zhongtong  浙江省   T0+4h     delivered after 50 h
    Z5     zhongtong  广东省   T0+5h     returning, back with the sender (incident refused)
    Z6     zhongtong  广东省   T0+6h     delivered after 20 h
    Y1     yuantong   浙江省   T0+7h     delivered after 10 h
    Y2     yuantong   浙江省   T0+8h     in transit
    Z7     zhongtong  浙江省   T0+9h     no tracker: not counted
    Z8     zhongtong  浙江省   T0−1s     delivered after 5 h, but confirmed before the range

Findings (opened → closed): F1 派送失败 Z2 T0+10h → T0+13h (3 h); F2 拒收 Z3 T0+20h, open;
F3 拒收 Z5 T0+21h → T0+26h (5 h); F4 滞留 Y2 T0+22h → T0+23h30 (1 h, whole hours);
F5 滞留 Y2 opened T0−5h (out of range); F6 已超时 (no courier) Z7 T0+30h, open.
"""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import insert

from fahuo.adapters.store import models as m
from fahuo.services import report
from fahuo.services.shops import NewShop, add_shop

T0 = 1772294400  # 2026-03-01 00:00 in Beijing
H, D = 3600, 86400


def _shop(u, shop_id: str) -> int:
    return add_shop(u, NewShop(shop_id=shop_id, app_key=f"3409409348479354{shop_id[-3:]}",
                               app_secret="s", gateway_url="http://127.0.0.1:1"))


def _parcel(u, ref: int, name: str, courier: str, province: str, confirmed: int,
            events: list[tuple[int, str]] | None, incident: str | None = None) -> str:
    """A confirmed parcel; ``events`` (offset seconds after confirmation, state) or None for
    no tracker. The tracker's state is the last event's, since its time."""
    oid = "69" + "".join(str(ord(c)) for c in name).rjust(17, "0")
    u.conn.execute(insert(m.orders).values(
        order_id=oid, shop_ref=ref, state="shipped", order_status=3, create_time=confirmed - H,
        pay_time=confirmed - H, update_time=confirmed, province=province, raw="{}",
        synced_at=confirmed))
    pid = u.conn.execute(insert(m.packs).values(
        shop_ref=ref, kind="whole", state="confirmed", main_order_id=oid, courier_code=courier,
        track_no=f"TN{name}", request_id=f"r{name}", created_at=confirmed - H,
        updated_at=confirmed)).inserted_primary_key[0]
    if events is not None:
        evs = [{"at": confirmed + dt, "state": st, "description": "", "location": "",
                "raw_state": "", "raw_sub_state": "", "incident": None} for dt, st in events]
        last = evs[-1] if evs else None
        u.conn.execute(insert(m.trackers).values(
            shop_ref=ref, pack_id=pid, order_id=oid, courier_code=courier, track_no=f"TN{name}",
            source="douyin", shipped_at=confirmed,
            state=last["state"] if last else "info_received", incident=incident,
            state_since=last["at"] if last else None, last_event_at=last["at"] if last else None,
            events=orjson.dumps(evs).decode(), created_at=confirmed, updated_at=confirmed))
    return oid


def _finding(u, ref: int, key: str, kind: str, courier: str, order_id: str, opened: int,
             closed: int | None) -> None:
    u.conn.execute(insert(m.findings).values(
        key=key, kind=kind, shop_ref=ref, order_id=order_id, courier_code=courier,
        since=opened, opened_at=opened, closed_at=closed))


def _history(app) -> int:
    with app.uow() as u:
        ref = _shop(u, "1301")
        z, y = "zhongtong", "yuantong"
        _parcel(u, ref, "Z1", z, "浙江省", T0 + H, [(2 * H, "picked_up"), (30 * H, "delivered")])
        z2 = _parcel(u, ref, "Z2", z, "浙江省", T0 + 2 * H,
                     [(H, "picked_up"), (20 * H, "failed_attempt"),
                      (40 * H + 1800, "delivered")])
        z3 = _parcel(u, ref, "Z3", z, "浙江省", T0 + 3 * H, [(H, "picked_up"), (9 * H, "rejected")])
        _parcel(u, ref, "Z4", z, "浙江省", T0 + 4 * H, [(50 * H, "delivered")])
        z5 = _parcel(u, ref, "Z5", z, "广东省", T0 + 5 * H,
                     [(H, "picked_up"), (30 * H, "returning"), (60 * H, "returned")],
                     incident="refused")
        _parcel(u, ref, "Z6", z, "广东省", T0 + 6 * H, [(20 * H, "delivered")])
        _parcel(u, ref, "Y1", y, "浙江省", T0 + 7 * H, [(10 * H, "delivered")])
        y2 = _parcel(u, ref, "Y2", y, "浙江省", T0 + 8 * H, [(H, "picked_up"), (2 * H, "in_transit")])
        z7 = _parcel(u, ref, "Z7", z, "浙江省", T0 + 9 * H, None)
        _parcel(u, ref, "Z8", z, "浙江省", T0 - 1, [(5 * H, "delivered")])
        _finding(u, ref, "F1", "failed_delivery", z, z2, T0 + 10 * H, T0 + 13 * H)
        _finding(u, ref, "F2", "refused", z, z3, T0 + 20 * H, None)
        _finding(u, ref, "F3", "refused", z, z5, T0 + 21 * H, T0 + 26 * H)
        _finding(u, ref, "F4", "stalled", y, y2, T0 + 22 * H, T0 + 23 * H + 1800)
        _finding(u, ref, "F5", "stalled", y, y2, T0 - 5 * H, T0 - 4 * H)
        _finding(u, ref, "F6", "overdue", "", z7, T0 + 30 * H, None)
    return ref


def _rng(ref):
    return report.report_range("2026-03-01", "2026-03-03", ref)


def test_delivery_per_courier_and_province(fahuo_any_db):
    app = fahuo_any_db
    ref = _history(app)
    d = report.delivery(app.uow, _rng(ref))
    # zhongtong tracked Z1–Z6 (Z7 has no tracker, Z8 is before the range): 6 parcels;
    # delivered Z1 30 h, Z2 40 h (40.5 floored), Z4 50 h, Z6 20 h → sorted 20 30 40 50:
    # median = 2nd of 4 (nearest rank) = 30, P90 = ceil(3.6) = 4th = 50.
    # failed: Z2 (its failed attempt counts though it was delivered later); refused: Z3
    # (state) and Z5 (incident); returned: Z5.
    zt, yt = d.couriers
    assert (zt.courier, zt.label) == ("zhongtong", "中通快递 (zhongtong)")
    assert (zt.parcels, zt.delivered, zt.median_h, zt.p90_h) == (6, 4, 30, 50)
    assert (zt.failed, zt.refused, zt.returned, zt.problems) == (1, 2, 1, 3)
    assert (zt.failed_rate, zt.refused_rate, zt.returned_rate) == (1 / 6, 2 / 6, 1 / 6)
    # yuantong: Y1 delivered in 10 h, Y2 still on its way
    assert (yt.courier, yt.parcels, yt.delivered, yt.median_h, yt.p90_h) == (
        "yuantong", 2, 1, 10, 10)
    assert (yt.failed, yt.refused, yt.returned) == (0, 0, 0)
    cells = {(c.courier, c.province): (c.parcels, c.delivered, c.median_h, c.p90_h, c.failed,
                                       c.refused, c.returned) for c in d.cells}
    # zhongtong 浙江省: Z1–Z4, delivered 30 40 50 → median 2nd = 40, P90 ceil(2.7) = 3rd = 50
    assert cells == {("zhongtong", "浙江省"): (4, 3, 40, 50, 1, 1, 0),
                     ("zhongtong", "广东省"): (2, 1, 20, 20, 0, 1, 1),
                     ("yuantong", "浙江省"): (2, 1, 10, 10, 0, 0, 0)}
    assert d.provinces == ["浙江省", "广东省"]  # 6 parcels, then 2
    # all: delivered 10 20 30 40 50 → median 3rd = 30, P90 ceil(4.5) = 5th = 50
    assert (d.total.parcels, d.total.delivered, d.total.median_h, d.total.p90_h) == (8, 5, 30, 50)
    assert report.courier_advice(app.uow, _rng(ref)) == []  # far too few parcels to judge
    behind = report.courier_orders(app.uow, _rng(ref), "zhongtong", "浙江省")
    # problems first (Z2 failed, Z3 refused; by order id), then the slowest delivered
    assert [(r["track_no"], r["problems"]) for r in behind] == [
        ("TNZ2", "派送失败"), ("TNZ3", "拒收"), ("TNZ4", ""), ("TNZ1", "")]
    assert behind[2]["hours"] == 50 and behind[1]["state_name"] == "拒收"


def test_exceptions_per_kind_courier_and_province(fahuo_any_db):
    app = fahuo_any_db
    ref = _history(app)
    e = report.exceptions(app.uow, _rng(ref))
    # F1–F4 and F6 opened in the range (F5 before it)
    kinds = {k.key: (k.label, k.found, k.open, k.median_close_h) for k in e.kinds}
    assert kinds == {"refused": ("拒收", 2, 1, 5), "failed_delivery": ("派送失败/疑难", 1, 0, 3),
                     "stalled": ("物流停滞", 1, 0, 1), "overdue": ("已超时未发货", 1, 1, None)}
    assert e.kind_keys[0] == "refused"  # most first
    couriers = {c.key: (c.found, c.open, c.closed, c.median_close_h, c.by_kind)
                for c in e.couriers}
    # zhongtong F1 (3 h), F2 (open), F3 (5 h) → closed 3, 5: median = 1st of 2 = 3
    assert couriers == {"zhongtong": (3, 1, 2, 3, {"failed_delivery": 1, "refused": 2}),
                        "yuantong": (1, 0, 1, 1, {"stalled": 1}),
                        "": (1, 1, 0, None, {"overdue": 1})}
    assert [c.key for c in e.couriers] == ["zhongtong", "", "yuantong"]
    assert e.couriers[1].label == "未指定快递"
    provinces = {p.key: (p.found, p.open, p.median_close_h) for p in e.provinces}
    # 浙江省 F1 (3 h), F2, F4 (1 h), F6 → closed 1, 3: median 1st = 1; 广东省 F3 (5 h)
    assert provinces == {"浙江省": (4, 2, 1), "广东省": (1, 0, 5)}
    # all: closed 1, 3, 5 → median 2nd = 3
    assert (e.total.found, e.total.open, e.total.closed, e.total.median_close_h) == (5, 2, 3, 3)


def test_tables_hold_the_courier_and_exception_sheets(fahuo_any_db):
    app = fahuo_any_db
    ref = _history(app)
    sheets = {t: (h, rows) for t, h, rows in report.tables(app.uow, _rng(ref))}
    head, rows = sheets["快递时效"]
    assert head[:5] == ["快递公司", "包裹数", "已签收", "签收中位数(小时)", "签收P90(小时)"]
    assert rows[0] == ["中通快递 (zhongtong)", 6, 4, 30, 50, "16.7%", "33.3%", "16.7%"]
    assert rows[-1][:5] == ["合计", 8, 5, 30, 50]
    assert ["中通快递 (zhongtong)", "浙江省", 4, 3, 40, 50, "25.0%", "25.0%", "0.0%"] in \
        sheets["快递×省份"][1]
    head, rows = sheets["物流异常（按快递）"]
    assert head[-3:] == ["合计", "未关闭", "关闭用时中位数(小时)"]
    assert rows[0][0] == "中通快递 (zhongtong)" and rows[0][-3:] == [3, 1, 3]


# ---- flags: 25 parcels each in 广东省; zhongtong 10 refused, yuantong none ---------------

def _problem_history(app, *, shops: int = 1) -> int:
    """广东省: zhongtong 25 parcels, 10 of them refused, 15 delivered after 30 h; yuantong 25
    delivered after 20 h, none refused. 浙江省: 3 zhongtong parcels, too few to judge."""
    with app.uow() as u:
        ref = _shop(u, "1302")
        for i in range(25):
            at = T0 + i * 60
            ev = [(9 * H, "rejected")] if i < 10 else [(30 * H, "delivered")]
            _parcel(u, ref, f"ZG{i}", "zhongtong", "广东省", at, ev)
            _parcel(u, ref, f"YG{i}", "yuantong", "广东省", at + 30, [(20 * H, "delivered")])
        for i in range(3):
            _parcel(u, ref, f"ZJ{i}", "zhongtong", "浙江省", T0 + H, [(9 * H, "rejected")])
    return ref


def test_a_courier_clearly_worse_in_a_province_is_flagged_with_a_rule(fahuo_any_db):
    app = fahuo_any_db
    ref = _problem_history(app)
    (a,) = report.courier_advice(app.uow, _rng(ref))
    f = a.flag
    # 10/25 = 40 %: Wilson 95 % lower bound ≈ 0.234; yuantong 0/25: upper bound ≈ 0.133.
    # Slowness is not flagged: zhongtong's 15 delivered parcels are below the 20 needed.
    assert (f.kind, f.province, f.courier, f.parcels, f.value) == (
        "exceptions", "广东省", "zhongtong", 25, 0.4)
    assert (f.others_parcels, f.others_value, f.suggest, f.suggest_value) == (
        25, 0.0, "yuantong", 0.0)
    assert 0.23 < f.bound < 0.24 and 0.13 < f.others_bound < 0.14
    assert a.text == ("广东省：中通快递 (zhongtong)问题件率 40.0%（10/25 件，派送失败、拒收或退回），"
                      "其他快递 0.0%（25 件）；建议广东省走圆通速递（问题件率 0.0%）")
    assert a.rule == {"name": "数据分析：广东省走圆通速递", "courier_code": "yuantong",
                      "provinces": ["广东省"]}
    assert "courier=zhongtong" in a.orders_url and "province=%E5%B9%BF" in a.orders_url
    behind = report.courier_orders(app.uow, _rng(ref), "zhongtong", "广东省")
    assert len(behind) == 25 and [r["problems"] for r in behind[:10]] == ["拒收"] * 10
    assert behind[10]["problems"] == ""


def test_applying_the_rule_stores_it_once(fahuo_any_db):
    app = fahuo_any_db
    ref = _problem_history(app)
    rng = _rng(ref)
    with app.uow() as u:
        before = u.settings.get(ref)["courier_rules"]
    out = report.apply_courier_rule(app.uow, rng, "广东省", "zhongtong", "yuantong", "tester")
    assert out["text"] == "广东省走圆通速递"
    with app.uow() as u:
        rules = u.settings.get(ref)["courier_rules"]
    # the new rule goes first (the first rule that matches wins), the others follow
    assert rules[0]["name"] == "数据分析：广东省走圆通速递"
    assert (rules[0]["courier_code"], rules[0]["provinces"]) == ("yuantong", ["广东省"])
    assert rules[1:] == before
    with pytest.raises(report.CourierRuleRefused, match="已有这条规则（第1条"):
        report.apply_courier_rule(app.uow, rng, "广东省", "zhongtong", "yuantong", "tester")
    with pytest.raises(report.CourierRuleRefused, match="没有这条建议"):
        report.apply_courier_rule(app.uow, rng, "浙江省", "zhongtong", "yuantong", "tester")
    with pytest.raises(report.CourierRuleRefused, match="请先选择店铺"):
        report.apply_courier_rule(app.uow, _rng(None), "广东省", "zhongtong", "yuantong", "t")
    with app.uow() as u:
        assert u.settings.get(ref)["courier_rules"] == rules  # nothing more was saved
