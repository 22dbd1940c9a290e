"""The demo's courier character and buyers: a seeded batch shows the differences they were designed
to have (pace per courier × province, failure / refusal rates per courier, returns per product),
fast-forwarded on the sandbox clock, and bad settings are refused whole."""
from __future__ import annotations

import statistics

import pytest

from fahuo.sandbox.aftersales.buyers import PRESETS as BUYER_PRESETS, decide, parse as parse_buyers
from fahuo.sandbox.catalogue import CATALOGUE
from fahuo.sandbox.core import Sandbox
from fahuo.sandbox.couriers import character
from fahuo.sandbox.couriers.timeline import due

HZ = {"province": "浙江省", "city": "杭州市", "district": "西湖区"}  # the demo warehouse's side
SZ = {"province": "广东省", "city": "深圳市", "district": "南山区"}
NJ = {"province": "江苏省", "city": "南京市", "district": "秦淮区"}
BASE = 1_700_000_000
N = 400  # parcels per courier × province
PREFIX = {"zhongtong": "78", "yunda": "3", "yuantong": "YT"}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """{(courier, dest): [track rows]}: N parcels per cell built under the demo character."""
    sb = Sandbox(str(tmp_path_factory.mktemp("character") / "sb.db"))
    sb.couriers.set_character({"preset": "demo"})
    out = {}
    for courier, prefix in PREFIX.items():
        for name, dest in (("广东省", SZ), ("江苏省", NJ)):
            out[courier, name] = [
                sb.couriers._insert(f"{prefix}{1 if name == '广东省' else 2}{i:010d}", courier, None, BASE,
                                    "subscription", HZ, dest, {"receiver": None, "sender": None})
                for i in range(N)]
    yield out
    sb.stop()


def signed_hours(rows) -> list[float]:
    return [(e["at"] - BASE) / 3600 for r in rows for e in r["events"] if e["step"] == "signed"]


def share(rows, test) -> float:
    return sum(1 for r in rows if any(test(e["step"]) for e in r["events"])) / len(rows)


def test_yunda_is_clearly_slower_into_guangdong_only(batch):
    # Design: yunda's transit legs take 2× as long into 广东 (pace 2.0), elsewhere the same as
    # 中通 (pace 1). 杭州 → 深圳 is ~1,100 km: ~40 h of legs at pace 1, so ~+40 h at pace 2;
    # the morning delivery round can shift it by up to a day either way, hence "≥ 18 h".
    zt_gd, yd_gd = signed_hours(batch["zhongtong", "广东省"]), signed_hours(batch["yunda", "广东省"])
    zt_js, yd_js = signed_hours(batch["zhongtong", "江苏省"]), signed_hours(batch["yunda", "江苏省"])
    assert statistics.median(yd_gd) - statistics.median(zt_gd) >= 18
    # Same pace into 江苏: the two means are of one distribution (sd ≈ 12 h, ~330 signed each),
    # so they differ by a standard error of about 1 h; 4 h is four of them.
    assert abs(statistics.mean(yd_js) - statistics.mean(zt_js)) < 4
    # and 广东 is farther than 江苏 for everyone
    assert statistics.median(zt_gd) > statistics.median(zt_js) + 12


def test_failure_and_refusal_rates_differ_by_courier_as_designed(batch):
    # Designed rates: failed at the door 中通 2 %, 韵达 12 %, 圆通 3 %; refused 1 %, 2 %, 8 %.
    # 800 parcels per courier, each drawn independently from its number: the standard deviation
    # of a share p is √(p(1-p)/800) — 1.1 points at 12 %, 0.5 at 2 % — so each check allows
    # about four of them.
    def both(courier):
        return batch[courier, "广东省"] + batch[courier, "江苏省"]

    failed = {c: share(both(c), lambda s: s.startswith("failed:")) for c in PREFIX}
    refused = {c: share(both(c), lambda s: s == "refused") for c in PREFIX}
    returned = {c: share(both(c), lambda s: s == "return:start") for c in PREFIX}
    assert failed["yunda"] == pytest.approx(0.12, abs=0.045)
    assert failed["zhongtong"] == pytest.approx(0.02, abs=0.02)
    assert failed["yuantong"] == pytest.approx(0.03, abs=0.025)
    assert refused["yuantong"] == pytest.approx(0.08, abs=0.04)
    assert refused["zhongtong"] == pytest.approx(0.01, abs=0.015)
    assert returned["yuantong"] == pytest.approx(0.03, abs=0.025) and returned["zhongtong"] == 0
    assert failed["yunda"] > 3 * max(failed["zhongtong"], failed["yuantong"])
    assert refused["yuantong"] > 2 * max(refused["zhongtong"], refused["yunda"])


def test_fast_forward_keeps_realistic_stamps_but_makes_them_due_within_minutes(batch):
    rows = batch["zhongtong", "江苏省"]
    for r in rows[:50]:
        assert r["plan"]["fast_forward"] == 1200.0
        for e in r["events"]:
            assert due(e) == pytest.approx(BASE + (e["at"] - BASE) / 1200.0)
    # a 2-day parcel: signed ~30-60 h after shipping, due 1.5-3 minutes after it
    hours = signed_hours(rows)
    assert 24 < statistics.median(hours) < 72
    assert max(due(e) - BASE for r in rows for e in r["events"] if e["step"] == "signed") < 10 * 60


def test_same_numbers_same_story_whatever_the_order(tmp_path):
    sb = Sandbox(str(tmp_path / "a.db"))
    sb.couriers.set_character({"preset": "demo"})
    first = [sb.couriers._insert(f"3{i:012d}", "yunda", None, BASE, "subscription", HZ, SZ, {})["events"]
             for i in range(20)]
    sb.stop()
    sb = Sandbox(str(tmp_path / "b.db"))
    sb.couriers.set_character({"preset": "demo"})
    again = [sb.couriers._insert(f"3{i:012d}", "yunda", None, BASE, "subscription", HZ, SZ, {})["events"]
             for i in reversed(range(20))]
    sb.stop()
    assert first == list(reversed(again))


def test_a_preset_may_run_faster():
    got = character.parse({"preset": "demo", "fast_forward": 20000})
    assert got["fast_forward"] == 20000.0
    assert got["couriers"] == character.parse({"preset": "demo"})["couriers"]


def test_without_a_character_nothing_changes(tmp_path):
    sb = Sandbox(str(tmp_path / "plain.db"))
    row = sb.couriers._insert("31234567890123", "yunda", None, BASE, "subscription", HZ, SZ, {})
    sb.stop()
    assert "pace" not in row["plan"] and "fast_forward" not in row["plan"]
    assert all(due(e) == e["at"] for e in row["events"])


@pytest.mark.parametrize("conf, words", [
    ({"couriers": {"nosuch": {}}}, "unknown courier"),
    ({"couriers": {"yunda": {"pace": 0}}}, "pace must be within"),
    ({"couriers": {"yunda": {"rates": {"refused": 0.7, "failed_delivery": 0.6}}}}, "sum to at most 1"),
    ({"couriers": {"yunda": {"speed": 2}}}, "pace, provinces, rates only"),
    ({"fast_forward": 0.5}, "fast_forward must be within"),
    ({"preset": "demo", "couriers": {}}, "preset takes fast_forward only"),
    ({"preset": "nosuch"}, "preset takes fast_forward only"),
])
def test_bad_character_is_refused_and_the_old_one_stays(tmp_path, conf, words):
    sb = Sandbox(str(tmp_path / "bad.db"))
    sb.couriers.set_character({"preset": "demo"})
    with pytest.raises(ValueError, match=words):
        sb.couriers.set_character(conf)
    assert sb.couriers.character == character.parse({"preset": "demo"})
    sb.stop()


def test_buyers_return_the_weak_products_far_more_and_say_why():
    # Design (preset demo): 耳机 EJ 30 % (质量问题 70 %), 牛仔裤 NZ 25 % (尺码不合适 70 %), 其余 3 %.
    # 2,000 seeded lines per product: sd of the share √(p(1-p)/2000) ≈ 1 point at 30 %, 0.4 at
    # 3 %; of the reason share among ~600 cases ≈ 1.9 points. Four of each.
    conf = parse_buyers({"preset": "demo"})
    pid = {p["short"]: p["product_id"] for p in CATALOGUE}

    def draws(short):
        return [decide(conf, f"{pid[short]}{i:06d}", pid[short]) for i in range(2000)]

    ej, nz, bw = draws("EJ"), draws("NZ"), draws("BW")
    rate = {k: sum(r is not None for r in v) / len(v) for k, v in (("EJ", ej), ("NZ", nz), ("BW", bw))}
    assert rate["EJ"] == pytest.approx(0.30, abs=0.04)
    assert rate["NZ"] == pytest.approx(0.25, abs=0.04)
    assert rate["BW"] == pytest.approx(0.03, abs=0.016)
    ej_cases = [r for r in ej if r is not None]
    nz_cases = [r for r in nz if r is not None]
    assert ej_cases.count(2) / len(ej_cases) == pytest.approx(0.7, abs=0.08)  # 商品质量问题
    assert nz_cases.count(7) / len(nz_cases) == pytest.approx(0.7, abs=0.08)  # 尺码不合适
    assert decide(conf, "123", pid["EJ"]) == decide(conf, "123", pid["EJ"])  # seeded by the line
    assert set(BUYER_PRESETS["demo"]["products"]) <= {p["short"] for p in CATALOGUE}


@pytest.mark.parametrize("conf, words", [
    ({"products": {"NOPE": {"rate": 0.1}}}, "unknown product short codes"),
    ({"default": {"rate": 1.5}}, "rate must be within"),
    ({"default": {"rate": 0.1, "reasons": {"99": 1}}}, "reason code 99"),
    ({"default": {"rate": 0.1, "why": {}}}, "rate and reasons only"),
])
def test_bad_buyer_behaviour_is_refused(conf, words):
    with pytest.raises(ValueError, match=words):
        parse_buyers(conf)


def test_a_change_to_a_fast_forwarded_parcel_continues_from_its_own_now(tmp_path):
    sb = Sandbox(str(tmp_path / "ff.db"))
    sb.couriers.set_character({"preset": "demo"})
    start = int(sb.now())
    tn = "78000000000042"
    sb.couriers._insert(tn, "zhongtong", None, start, "subscription", HZ, SZ, {})
    sb.clock_offset = 30.0  # 30 s of sandbox clock = 10 h of the parcel's life at 1200×
    view = sb.couriers.set_anomaly(tn, "refused")
    sb.stop()
    happened = [e for e in view["events"] if e["due"]]
    coming = [e for e in view["events"] if not e["due"]]
    assert [e["step"] for e in happened][:1] == ["collected"] and coming
    assert coming[-1]["step"] == "refused"
    # what comes next is stamped after what happened and after the parcel's own "now" (~10 h in)
    assert min(e["at"] for e in coming) > max(e["at"] for e in happened)
    assert min(e["at"] for e in coming) >= start + 10 * 3600 - 60
