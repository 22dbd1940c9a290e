"""Each provider's status map (adapters/carriers/<provider>/status.py), entry by entry."""

import pytest

from fahuo.adapters.carriers.douyin.status import DOUYIN, UNKNOWN_DOUYIN, from_douyin
from fahuo.adapters.carriers.kdniao.status import KDNIAO, from_kdniao
from fahuo.adapters.carriers.kuaidi100.status import KUAIDI100, from_kuaidi100
from fahuo.adapters.carriers.status import UNKNOWN_CONFIRMED
from fahuo.domain.tracking import Incident, TrackingState

S, I = TrackingState, Incident  # noqa: E741 - short names keep the table below readable

# Every entry written out again, so a changed mapping is a deliberate, visible change.
KUAIDI100_EXPECTED = {
    "1": (S.PICKED_UP, None), "101": (S.INFO_RECEIVED, None), "102": (S.INFO_RECEIVED, None),
    "103": (S.PICKED_UP, None), "0": (S.IN_TRANSIT, None), "1001": (S.IN_TRANSIT, None),
    "1002": (S.IN_TRANSIT, None), "1003": (S.IN_TRANSIT, None),
    "5": (S.OUT_FOR_DELIVERY, None), "501": (S.OUT_FOR_DELIVERY, None),
    "3": (S.DELIVERED, None), "301": (S.DELIVERED, None), "302": (S.DELIVERED, None),
    "303": (S.DELIVERED, None), "304": (S.DELIVERED, None),
    "6": (S.RETURNING, None), "4": (S.RETURNED, None), "401": (S.RETURNED, I.CANCELLED),
    "14": (S.REJECTED, I.REFUSED), "7": (S.IN_TRANSIT, None),
    "2": (S.EXCEPTION, I.OTHER), "201": (S.FAILED_ATTEMPT, I.NOT_SIGNED_IN_TIME),
    "202": (S.EXCEPTION, I.NO_UPDATES), "203": (S.REJECTED, I.REFUSED),
    "204": (S.FAILED_ATTEMPT, I.OTHER), "205": (S.FAILED_ATTEMPT, I.UNCOLLECTED),
    "206": (S.FAILED_ATTEMPT, I.RECIPIENT_UNAVAILABLE), "207": (S.EXCEPTION, I.OUT_OF_AREA),
    "208": (S.EXCEPTION, I.HELD_UP), "209": (S.EXCEPTION, I.DAMAGED),
    "210": (S.EXCEPTION, I.CANCELLED),
    "8": (S.IN_TRANSIT, None), "10": (S.IN_TRANSIT, None), "11": (S.IN_TRANSIT, None),
    "12": (S.IN_TRANSIT, None), "13": (S.EXCEPTION, I.CUSTOMS),
}

KDNIAO_EXPECTED = {
    "0": (S.INFO_RECEIVED, None), "1": (S.PICKED_UP, None), "10": (S.INFO_RECEIVED, None),
    "2": (S.IN_TRANSIT, None), "201": (S.IN_TRANSIT, None), "204": (S.IN_TRANSIT, None),
    "205": (S.IN_TRANSIT, None), "206": (S.IN_TRANSIT, None),
    "202": (S.OUT_FOR_DELIVERY, None), "211": (S.OUT_FOR_DELIVERY, None),
    "3": (S.DELIVERED, None), "301": (S.DELIVERED, None), "302": (S.DELIVERED, None),
    "304": (S.DELIVERED, None), "311": (S.DELIVERED, None), "5": (S.IN_TRANSIT, None),
    "4": (S.EXCEPTION, I.OTHER), "401": (S.EXCEPTION, I.NO_TRACE),
    "402": (S.FAILED_ATTEMPT, I.NOT_SIGNED_IN_TIME), "403": (S.EXCEPTION, I.NO_UPDATES),
    "404": (S.REJECTED, I.REFUSED), "405": (S.FAILED_ATTEMPT, I.OTHER),
    "406": (S.RETURNED, None), "407": (S.RETURNING, None),
    "412": (S.FAILED_ATTEMPT, I.UNCOLLECTED), "413": (S.EXCEPTION, I.INTERCEPTED),
    "414": (S.EXCEPTION, I.DAMAGED), "415": (S.EXCEPTION, I.CANCELLED),
    "416": (S.FAILED_ATTEMPT, I.RECIPIENT_UNAVAILABLE), "417": (S.EXCEPTION, I.DELAYED),
    "418": (S.EXCEPTION, I.OTHER), "419": (S.OUT_FOR_DELIVERY, None),
    "420": (S.EXCEPTION, I.ADDRESS_PROBLEM), "421": (S.EXCEPTION, I.RECIPIENT_UNAVAILABLE),
    "422": (S.EXCEPTION, I.MISSORTED), "423": (S.EXCEPTION, I.OUT_OF_AREA),
    "6": (S.IN_TRANSIT, None), "601": (S.IN_TRANSIT, None), "602": (S.IN_TRANSIT, None),
    "603": (S.IN_TRANSIT, None), "604": (S.EXCEPTION, I.CUSTOMS),
}

DOUYIN_EXPECTED = {
    "已下单": (S.INFO_RECEIVED, None), "待揽收": (S.INFO_RECEIVED, None),
    "揽收": (S.PICKED_UP, None), "已揽收": (S.PICKED_UP, None),
    "运输": (S.IN_TRANSIT, None), "在途": (S.IN_TRANSIT, None), "运输中": (S.IN_TRANSIT, None),
    "派件": (S.OUT_FOR_DELIVERY, None), "派送中": (S.OUT_FOR_DELIVERY, None),
    "待取件": (S.OUT_FOR_DELIVERY, None),
    "签收": (S.DELIVERED, None), "已签收": (S.DELIVERED, None),
    "拒签": (S.REJECTED, I.REFUSED), "拒收": (S.REJECTED, I.REFUSED),
    "退回": (S.RETURNING, None), "退回中": (S.RETURNING, None), "退签": (S.RETURNED, None),
    "疑难": (S.EXCEPTION, I.OTHER), "异常": (S.EXCEPTION, I.OTHER), "丢失": (S.LOST, I.LOST),
}


def test_tables_are_exactly_as_reviewed():
    assert KUAIDI100 == KUAIDI100_EXPECTED
    assert KDNIAO == KDNIAO_EXPECTED
    assert DOUYIN == DOUYIN_EXPECTED


@pytest.mark.parametrize("code,expected", sorted(KUAIDI100_EXPECTED.items()))
def test_kuaidi100_each_code_as_state_and_as_sub_code(code, expected):
    assert from_kuaidi100(code) == expected
    assert from_kuaidi100(None, code) == expected
    assert from_kuaidi100("0", code) == expected  # the sub-code wins over the base


@pytest.mark.parametrize("code,expected", sorted(KDNIAO_EXPECTED.items()))
def test_kdniao_each_code_as_state_ex(code, expected):
    assert from_kdniao("4", code) == expected  # State 4 is sticky: StateEx decides
    assert from_kdniao(None, int(code)) == expected


@pytest.mark.parametrize("code,expected", sorted(DOUYIN_EXPECTED.items()))
def test_douyin_each_code(code, expected):
    assert from_douyin(code) == expected
    assert from_douyin(f" {code} ") == expected


def test_kuaidi100_unknown_sub_code_falls_back_to_base_then_to_exception():
    assert from_kuaidi100("3", "399") == (S.DELIVERED, None)
    assert from_kuaidi100(5, None) == (S.OUT_FOR_DELIVERY, None)
    assert from_kuaidi100("99", "9999") == UNKNOWN_CONFIRMED == (S.EXCEPTION, I.OTHER)
    assert from_kuaidi100(None, None) == UNKNOWN_CONFIRMED


def test_kdniao_state_alone_and_unknown():
    assert from_kdniao(3, None) == (S.DELIVERED, None)
    assert from_kdniao("2", "") == (S.IN_TRANSIT, None)
    assert from_kdniao("4", "499") == (S.EXCEPTION, I.OTHER)
    assert from_kdniao("77") == UNKNOWN_CONFIRMED


def test_douyin_unknown_code_is_quietly_in_transit():
    # The Douyin table is UNCONFIRMED; an unknown code must not raise alarms on every parcel.
    assert from_douyin("12") == UNKNOWN_DOUYIN == (S.IN_TRANSIT, None)
    assert from_douyin(None) == UNKNOWN_DOUYIN


