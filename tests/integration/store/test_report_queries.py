"""The analytics reads (``uow.reports``) and the report use cases on SQLite and PostgreSQL, over
a small history built by hand; every expected figure is worked out here from that history.

Shop day 2026-03-01 00:00 (UTC+8) is T0; the range is [03-01, 03-03), two shop days.

    parcel order  SKU×units  courier    province paid    printed scanned confirmed  picked  promised
    P1     O1     A×4        zhongtong  浙江省   T0+1h   T0+2h   T0+2h30 T0+3h      T0+5h   T0+24h
    P2     O2     A×6        yuantong   广东省   T0+10h  T0+12h  —       T0+22h     —       T0+20h
    P3     O3     B×2        zhongtong  浙江省   T0+23h  —       —       T0+2d−1s   no tracker, —
    P4     O4     A×5        zhongtong  浙江省   T0+2d−1h                T0+2d      (03-03: out)
    P5     O5     A×7        zhongtong  浙江省   T0−2h                   T0−1s      (02-28: out)
    shop 2: P9 O9 A×100, confirmed T0+4h (only when every shop is asked)

After-sales: C1 on O2's line, 退货退款 3 units, 商品质量问题, ¥30; C2 价保 on O1's line, 4 units,
¥5 (not a return); C3 退货退款 over O1's line (1 unit) and O3's line (1 unit), 发错货/漏发,
¥10 shared by units (¥5 each); C4 on O4's line (shipped out of range: not counted).
"""

from __future__ import annotations

import time
from datetime import date

import pytest
from sqlalchemy import insert, update

from fahuo.adapters.store import models as m
from fahuo.services import report
from fahuo.services.shops import NewShop, add_shop

T0 = 1772294400  # 2026-03-01 00:00 in Beijing = 2026-02-28 16:00 UTC
H, D = 3600, 86400
NOW = T0 + 2 * D + H


def _shop(u, shop_id: str) -> int:
    return add_shop(u, NewShop(shop_id=shop_id, app_key=f"3409409348479354{shop_id[-3:]}",
                               app_secret="s", gateway_url="http://127.0.0.1:1"))


def _parcel(u, ref: int, n: int, code: str, units: int, courier: str, province: str, *,
            paid: int, confirmed: int, exp: int | None = None, printed: int | None = None,
            scanned: int | None = None, picked: int | None = None,
            tracker: bool = True) -> int:
    oid = f"69{n:017d}"
    u.conn.execute(insert(m.orders).values(
        order_id=oid, shop_ref=ref, state="shipped", order_status=3, create_time=paid - 60,
        pay_time=paid, update_time=confirmed, exp_ship_time=exp, province=province, raw="{}",
        synced_at=confirmed))
    u.conn.execute(insert(m.sub_orders).values(
        sku_order_id=f"{oid}1", order_id=oid, merchant_code=code, product_name=f"商品{code}",
        quantity=units, order_status=3))
    pid = u.conn.execute(insert(m.packs).values(
        shop_ref=ref, kind="whole", state="confirmed", main_order_id=oid, courier_code=courier,
        track_no=f"TN{n}", request_id=f"r{n}", created_at=paid, updated_at=confirmed)
    ).inserted_primary_key[0]
    u.conn.execute(insert(m.pack_lines).values(pack_id=pid, sku_order_id=f"{oid}1",
                                               order_id=oid, quantity=units))
    if tracker:
        u.conn.execute(insert(m.trackers).values(
            shop_ref=ref, pack_id=pid, order_id=oid, courier_code=courier, track_no=f"TN{n}",
            source="douyin", shipped_at=confirmed, picked_up_at=picked, created_at=confirmed,
            updated_at=confirmed))
        # the pack changed later (e.g. delivered): its tracker still says when it shipped
        u.conn.execute(update(m.packs).where(m.packs.c.id == pid).values(updated_at=NOW))
    if printed is not None:
        bid = u.conn.execute(insert(m.print_batches).values(
            kind="labels", format="pdf", pack_ids=f"[{pid}]", selection_key=f"s{n}",
            fingerprint="f", file_name="x.pdf", created_by="t", created_at=printed)
        ).inserted_primary_key[0]
        u.conn.execute(insert(m.print_records).values(
            batch_id=bid, pack_id=pid, kind="labels", printed_by="t", printed_at=printed))
        u.conn.execute(insert(m.print_records).values(  # a reprint later: the first counts
            batch_id=bid, pack_id=pid, kind="labels", reprint=True, printed_by="t",
            printed_at=printed + 5 * H))
    if scanned is not None:
        for at in (scanned, scanned + H):
            u.conn.execute(insert(m.audit_log).values(
                at=at, actor="t", action="pack.scan", subject_type="pack",
                subject_id=str(pid), detail="{}"))
    return pid


def _case(u, ref: int, cid: str, lines: list[tuple[int, int]], type_: int, reason: str,
          refund: int) -> None:
    u.conn.execute(insert(m.after_sales).values(
        aftersale_id=cid, shop_ref=ref, order_id=f"69{lines[0][0]:017d}", aftersale_type=type_,
        aftersale_status=12, refund_amount=refund, reason=reason, stage="after_ship",
        update_time=NOW))
    for n, units in lines:
        u.conn.execute(insert(m.after_sale_lines).values(
            aftersale_id=cid, sku_order_id=f"69{n:017d}1", units=units))


def _history(app) -> tuple[int, int]:
    with app.uow() as u:
        ref, other = _shop(u, "1201"), _shop(u, "1202")
        _parcel(u, ref, 1, "A", 4, "zhongtong", "浙江省", paid=T0 + H, printed=T0 + 2 * H,
                scanned=T0 + 2 * H + 1800, confirmed=T0 + 3 * H, picked=T0 + 5 * H,
                exp=T0 + 24 * H)
        _parcel(u, ref, 2, "A", 6, "yuantong", "广东省", paid=T0 + 10 * H, printed=T0 + 12 * H,
                confirmed=T0 + 22 * H, exp=T0 + 20 * H)
        _parcel(u, ref, 3, "B", 2, "zhongtong", "浙江省", paid=T0 + 23 * H,
                confirmed=T0 + 2 * D - 1, tracker=False)
        _parcel(u, ref, 4, "A", 5, "zhongtong", "浙江省", paid=T0 + 2 * D - H,
                confirmed=T0 + 2 * D)
        _parcel(u, ref, 5, "A", 7, "zhongtong", "浙江省", paid=T0 - 2 * H, confirmed=T0 - 1)
        _parcel(u, other, 9, "A", 100, "zhongtong", "江苏省", paid=T0, confirmed=T0 + 4 * H)
        _case(u, ref, "C1", [(2, 3)], 0, "商品质量问题", 3000)
        _case(u, ref, "C2", [(1, 4)], 6, "", 500)
        _case(u, ref, "C3", [(1, 1), (3, 1)], 0, "发错货/漏发", 1000)
        _case(u, ref, "C4", [(4, 5)], 0, "商品质量问题", 2500)
    return ref, other


@pytest.fixture
def new_york(monkeypatch):
    """The server in New York: nothing of the shop's days may move."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_volume_by_shop_day_courier_province_and_hour(fahuo_any_db, new_york):
    app = fahuo_any_db
    ref, _ = _history(app)
    rng = report.report_range("2026-03-01", "2026-03-03", ref)
    assert (rng.start, rng.stop) == (T0, T0 + 2 * D)
    v = report.volume(app.uow, rng)
    # 03-01: P1 (4) and P2 (6); 03-02: P3 (2) confirmed at its last second; P4 at 03-03
    # 00:00 and P5 at 02-28 23:59:59 fall outside
    assert [(c.key, c.orders, c.parcels, c.units) for c in v.days] == [
        ("2026-03-01", 2, 2, 10), ("2026-03-02", 1, 1, 2)]
    assert (v.total.orders, v.total.parcels, v.total.units) == (3, 3, 12)
    assert [(c.key, c.orders, c.units) for c in v.skus] == [("A", 2, 10), ("B", 1, 2)]
    assert [(c.key, c.parcels, c.units) for c in v.couriers] == [
        ("zhongtong", 2, 6), ("yuantong", 1, 6)]
    assert v.couriers[0].label == "中通快递 (zhongtong)"
    assert sorted((c.key, c.parcels) for c in v.provinces) == [("广东省", 1), ("浙江省", 2)]
    shipped = {c.key: c.parcels for c in v.shipped_hours if c.parcels}
    assert shipped == {"3": 1, "22": 1, "23": 1}  # P1 03:00, P2 22:00, P3 23:59:59
    paid = {c.key: c.orders for c in v.paid_hours if c.orders}
    assert paid == {"1": 1, "10": 1, "23": 2}  # O1, O2, O3 and O4 (paid 03-02 23:00)
    # every shop: shop 2's 100 units of A join
    all_shops = report.volume(app.uow, report.report_range("2026-03-01", "2026-03-03"))
    assert [(c.key, c.units) for c in all_shops.skus] == [("A", 110), ("B", 2)]


def test_a_range_starts_and_ends_at_shop_midnight(fahuo_any_db, new_york):
    app = fahuo_any_db
    ref, _ = _history(app)
    one = report.volume(app.uow, report.report_range("2026-03-02", "2026-03-03", ref))
    assert [(c.key, c.parcels) for c in one.days] == [("2026-03-02", 1)]  # P3 only
    three = report.volume(app.uow, report.report_range("2026-02-28", "2026-03-04", ref))
    assert [c.parcels for c in three.days] == [1, 2, 1, 1]  # P5, P1+P2, P3, P4


def test_shipping_times_and_punctuality(fahuo_any_db):
    app = fahuo_any_db
    ref, _ = _history(app)
    t = report.timing(app.uow, report.report_range("2026-03-01", "2026-03-03", ref), now=NOW)
    spans = {s.key: (s.parcels, s.median_min, s.p90_min) for s in t.spans}
    # paid→confirmed: P1 120 min, P2 720, P3 (172799−82800) s = 1499.98 → 1499 whole minutes;
    # nearest rank: median = 2nd of 3, p90 = ceil(2.7) = 3rd
    assert spans["paid_confirmed"] == (3, 720, 1499)
    assert spans["paid_printed"] == (2, 60, 120)  # P1 60, P2 120 (first print, not reprint)
    assert spans["printed_scanned"] == (1, 30, 30)  # P1's first scan
    assert spans["confirmed_picked"] == (1, 120, 120)
    # promised: P1 on time, P2 2 h late, P3 has no promise
    assert (t.parcels, t.with_deadline, t.on_time, t.late) == (3, 2, 1, 1)
    # 24 h over for P1 (picked after 2 h) and P2 (never picked); P3's 24 h still running
    assert (t.pickup_due, t.picked_in_time) == (2, 1)
    assert t.on_time_rate == 0.5 and t.pickup_rate == 0.5


def test_returns_per_sku_by_type_and_reason_with_refunds(fahuo_any_db):
    app = fahuo_any_db
    ref, _ = _history(app)
    r = report.returns(app.uow, report.report_range("2026-03-01", "2026-03-03", ref))
    rows = {x.code: x for x in r.rows}
    a, b = rows["A"], rows["B"]
    # A: 10 units shipped; C1 3 + C3 1 returned (价保 C2 is no return; C4's parcel shipped
    # on 03-03) → 4/10 = 40 %
    assert (a.shipped, a.returned, a.rate) == (10, 4, 0.4)
    assert a.by_type == {"退货退款": 4, "价保": 4}
    assert a.by_reason == {"商品质量问题": 3, "发错货/漏发": 1}
    assert a.refund == 3000 + 500 + 500  # C1, C2, half of C3
    # B: 2 shipped, C3's other unit → 50 %, ¥5
    assert (b.shipped, b.returned, b.rate, b.refund) == (2, 1, 0.5, 500)
    assert [x.code for x in r.rows] == ["B", "A"]  # worst first
    assert (r.shipped, r.returned) == (12, 5) and r.baseline == 5 / 12
    behind = report.flag_orders(app.uow, report.report_range("2026-03-01", "2026-03-03", ref),
                                "A")
    assert [(x["order_id"][-1], x["aftersale_id"]) for x in behind] == [("1", "C3"), ("2", "C1")]


def test_a_bad_date_names_the_field():
    with pytest.raises(report.ReportRangeError) as e:
        report.report_range("2026-13-01", "2026-03-03")
    assert e.value.field == "from" and "日期格式" in str(e.value)
    with pytest.raises(report.ReportRangeError) as e:
        report.report_range("2026-03-03", "2026-03-01")
    assert e.value.field == "to"
    assert report.report_range("2026-03-01", "2026-03-03").days == [
        date(2026, 3, 1), date(2026, 3, 2)]
