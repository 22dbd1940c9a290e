"""The courier flag rule (``domain/report.courier_flags``) on hand-made tallies."""

from __future__ import annotations

from fahuo.domain.report import CourierTally, courier_flags, wilson_lower, wilson_upper


def t(courier, province, parcels, problems, hours=()):
    return CourierTally(courier, province, parcels, problems, tuple(hours))


def test_more_problems_needs_the_intervals_apart():
    # 10/25 = 40 %: lower bound 0.234 > 0/25's upper bound 0.133 → flagged
    (f,) = courier_flags([t("zto", "广东省", 25, 10), t("yto", "广东省", 25, 0)])
    assert (f.kind, f.courier, f.suggest, f.value, f.others_value) == (
        "exceptions", "zto", "yto", 0.4, 0.0)
    # 6/25 = 24 % against 2/25 = 8 %: lower 0.115 is below the others' upper 0.25 → nothing
    assert wilson_lower(6, 25) < wilson_upper(2, 25)
    assert courier_flags([t("zto", "广东省", 25, 6), t("yto", "广东省", 25, 2)]) == []


def test_too_few_parcels_on_either_side_raise_nothing():
    # 3 of 5 refused looks bad, but five parcels prove nothing
    assert courier_flags([t("zto", "广东省", 5, 3), t("yto", "广东省", 50, 0)]) == []
    # a courier alone in its province has nobody to be compared with
    assert courier_flags([t("zto", "广东省", 19, 19), t("yto", "浙江省", 100, 0)]) == []
    # a parcel with no province cannot be routed by province
    assert courier_flags([t("zto", "", 100, 60), t("yto", "", 100, 0)]) == []


def test_slower_needs_most_parcels_over_the_others_median_and_hours_that_matter():
    fast = t("yto", "四川省", 30, 0, [(20, 30)])  # all delivered in 20 h
    slow = t("zto", "四川省", 30, 0, [(40, 25), (10, 5)])  # 25 of 30 over 20 h; median 40
    (f,) = courier_flags([fast, slow])
    assert (f.kind, f.courier, f.value, f.others_value, f.parcels, f.suggest,
            f.suggest_value) == ("slow", "zto", 40.0, 20.0, 30, "yto", 20.0)
    assert f.bound == wilson_lower(25, 30) and f.bound > 0.5
    # 3 hours slower is within the noise of whole-hour figures: not a flag
    near = t("zto", "四川省", 30, 0, [(23, 30)])
    assert courier_flags([fast, near]) == []
    # half slower (25 h), half faster (15 h): 15 of 30 over yto's 20 h is no evidence; and
    # yto, all over zto's median of 15 h, is only 5 h slower
    mixed = t("zto", "四川省", 30, 0, [(25, 15), (15, 15)])
    assert courier_flags([fast, mixed]) == []


def test_the_suggestion_is_the_best_unflagged_courier_with_enough_parcels():
    rows = [t("zto", "广东省", 40, 20), t("yto", "广东省", 40, 1), t("sto", "广东省", 40, 0),
            t("jd", "广东省", 5, 0)]  # jd has no problems but too few parcels to vouch for
    (f,) = courier_flags(rows)
    assert (f.courier, f.suggest) == ("zto", "sto")
    # both clearly worse than a third: neither is suggested for the other
    rows = [t("zto", "广东省", 40, 20), t("yto", "广东省", 40, 20), t("sto", "广东省", 200, 0)]
    flagged = courier_flags(rows)
    assert sorted((f.courier, f.suggest) for f in flagged) == [("yto", "sto"), ("zto", "sto")]
