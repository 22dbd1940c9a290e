"""The flag rule for products that come back too often, with figures worked out by hand.

Wilson score lower bound, z = 1.96 (z² = 3.8416):
    L = (p + z²/2n − z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n)

    30 of 300 (10 %): p = 0.1, z²/2n = 0.0064027, p(1−p)/n = 0.0003, z²/4n² = 0.0000107,
        √0.0003107 = 0.017626, ·1.96 = 0.034546 → (0.1 + 0.0064027 − 0.034546) / 1.0128053
        = 0.0710
    3 of 30 (10 %): z²/2n = 0.064027, p(1−p)/n = 0.003, z²/4n² = 0.001067, √0.004067 =
        0.063774, ·1.96 = 0.124997 → (0.1 + 0.064027 − 0.124997) / 1.128053 = 0.0346
    3 of 5 (60 %): z²/2n = 0.38416, p(1−p)/n = 0.048, z²/4n² = 0.038416, √0.086416 = 0.29397,
        ·1.96 = 0.57618 → (0.6 + 0.38416 − 0.57618) / 1.76832 = 0.2307

The shop: A 30/300, B 3/5, C 3/30, D 64/1665 → 100 returned of 2000 shipped, baseline 5 %.
"""

from __future__ import annotations

import pytest

from fahuo.domain.report import ReturnTally, baseline, flags, percentile, wilson_lower

SHOP = [
    ReturnTally("A", "连衣裙", 300, 30, {"商品质量问题": 9, "与描述不符": 12, "尺码不合适": 9}),
    ReturnTally("B", "帽子", 5, 3, {"商品质量问题": 3}),
    ReturnTally("C", "袜子", 30, 3, {"不想要了": 3}),
    ReturnTally("D", "T恤", 1665, 64, {"不想要了": 64}),
]


def test_wilson_lower_bounds_worked_by_hand():
    assert wilson_lower(30, 300) == pytest.approx(0.0710, abs=1e-4)
    assert wilson_lower(3, 30) == pytest.approx(0.0346, abs=1e-4)
    assert wilson_lower(3, 5) == pytest.approx(0.2307, abs=1e-4)
    assert wilson_lower(0, 0) == 0.0 and wilson_lower(0, 10) == 0.0


def test_a_real_problem_at_volume_is_flagged_with_its_main_reason():
    assert baseline(SHOP) == 0.05
    (f,) = flags(SHOP)
    assert (f.code, f.shipped, f.returned, f.rate) == ("A", 300, 30, 0.1)
    assert f.lower == pytest.approx(0.0710, abs=1e-4) and f.baseline == 0.05
    assert (f.reason, f.reason_share) == ("与描述不符", 0.4)  # 12 of 30
    assert f.reason_text == "与描述不符 40 %"
    assert "退货率 10%（30/300）" in f.text and "店铺基线 5.0%" in f.text


def test_few_orders_do_not_raise_a_flag():
    # B: 3 of 5 is 60 %; its bound 23 % is above 5 %, yet 5 units are not volume
    assert "B" not in {f.code for f in flags(SHOP)}
    assert "B" in {f.code for f in flags(SHOP, min_units=1)}  # it is the floor that holds it
    # C: twice the baseline, but 3 of 30 could be luck: bound 3.5 % < 5 %
    assert "C" not in {f.code for f in flags(SHOP, min_units=1)}


def test_returns_without_reasons_name_that():
    (f,) = flags([ReturnTally("X", "", 100, 40, {}), ReturnTally("Y", "", 900, 10, {})])
    assert (f.code, f.reason, f.reason_share) == ("X", "未说明原因", 0.0)


def test_percentile_nearest_rank():
    hist = [(120, 1), (720, 1), (1499, 1)]
    assert percentile(hist, 0.5) == 720 and percentile(hist, 0.9) == 1499
    assert percentile([(5, 9), (100, 1)], 0.9) == 5  # rank 9 of 10
    assert percentile([(5, 9), (100, 1)], 0.91) == 100  # rank ceil(9.1) = 10
    assert percentile([], 0.5) is None
