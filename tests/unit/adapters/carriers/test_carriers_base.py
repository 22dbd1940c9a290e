import datetime as dt

import pytest

from fahuo.adapters.carriers.base import CodeMap, ProviderError, UnknownCourier, parse_cst_time, phone_tail


def _epoch(y, mo, d, h, mi, s):
    return int(dt.datetime(y, mo, d, h, mi, s, tzinfo=dt.timezone.utc).timestamp())


def test_gmt8_numeric_time():
    # 2025-01-09 19:22:16 in Beijing = 11:22:16 UTC
    assert parse_cst_time("2025-01-09 19:22:16") == _epoch(2025, 1, 9, 11, 22, 16)
    assert parse_cst_time("2025-01-09 19:22") == _epoch(2025, 1, 9, 11, 22, 0)
    assert parse_cst_time("2025/01/09 19:22:16") == _epoch(2025, 1, 9, 11, 22, 16)
    # crosses midnight backwards in UTC
    assert parse_cst_time("2025-01-01 03:00:00") == _epoch(2024, 12, 31, 19, 0, 0)


def test_java_date_string_is_cst():
    assert parse_cst_time("Thu Mar 30 05:37:57 CST 2023") == _epoch(2023, 3, 29, 21, 37, 57)


@pytest.mark.parametrize("bad", [None, "", "yesterday", "2025-13-40 99:00:00"])
def test_unparseable_time_is_none(bad):
    assert parse_cst_time(bad) is None


def test_phone_tail():
    assert phone_tail("13800001234") == "1234"
    assert phone_tail("138****5678") == "5678"
    assert phone_tail("13800000000-4321") == "4321"  # platform virtual number: part after "-"
    assert phone_tail("010-8888 7777") == "7777"
    assert phone_tail(None) is None and phone_tail("  ") is None
    with pytest.raises(ValueError):
        phone_tail("12a")


def test_code_map_overrides_and_passthrough():
    m = CodeMap("x", {"zhongtong": "ZTO"}, {"danniao": "CNSD"})
    assert m.to_provider("zhongtong") == "ZTO"
    assert m.to_provider("ZhongTong") == "ZTO"
    assert m.to_provider("ZTO") == "ZTO"
    assert m.to_provider("danniao") == "CNSD"
    assert m.to_douyin("ZTO") == "zhongtong"
    with pytest.raises(UnknownCourier):
        m.to_provider("qita")


def test_provider_error_names_code_and_message():
    e = ProviderError("kdniao", "405", "超出查询次数限制")
    assert str(e) == "kdniao error 405: 超出查询次数限制"
    assert (e.provider, e.code, e.message, e.retryable) == ("kdniao", "405", "超出查询次数限制", False)
