"""Pure rules of the sandbox e-waybill: number formats (tracking-and-couriers.md §5) and remote areas."""
from __future__ import annotations

from fahuo.sandbox.logistics.reach import out_of_range
from fahuo.sandbox.logistics.waybills import COURIERS, TRACK_REGEX, track_no_for


def test_track_numbers_match_format_and_are_unique():
    for code in COURIERS:
        nos = [track_no_for(code, s) for s in range(1, 5001)]
        assert len(set(nos)) == len(nos)
        assert all(TRACK_REGEX[code].match(n) for n in nos), code
    assert track_no_for("zhongtong", 1).startswith("78") and len(track_no_for("zhongtong", 1)) == 14
    assert len(track_no_for("shentong", 1)) == 15 and len(track_no_for("yunda", 1)) == 13


def test_out_of_range_rules():
    assert out_of_range("yunda", "西藏自治区", "拉萨市", "城关区")
    assert out_of_range("yunda", "西藏", "拉萨", "城关区")  # short names match too
    assert not out_of_range("zhongtong", "西藏自治区", "拉萨市", "城关区")
    assert out_of_range("zhongtong", "西藏自治区", "阿里地区", "噶尔县")
    assert not out_of_range("shunfeng", "西藏自治区", "阿里地区", "噶尔县")
    assert all(out_of_range(c, "海南省", "三沙市", "西沙区") for c in COURIERS)
    assert not any(out_of_range(c, "浙江省", "杭州市", "西湖区") for c in COURIERS)
