import pytest

from fahuo.domain.regions import PROVINCES, city_key, province_of


def test_all_34_province_level_divisions_are_listed_once():
    assert len(PROVINCES) == 34
    assert len({full for full, _ in PROVINCES}) == 34
    assert len({short for _, short in PROVINCES}) == 34


@pytest.mark.parametrize("text, full", [
    ("北京", "北京市"), ("北京市", "北京市"), ("广西", "广西壮族自治区"),
    ("广西壮族自治区", "广西壮族自治区"), ("内蒙古", "内蒙古自治区"), ("内蒙", "内蒙古自治区"),
    ("新疆", "新疆维吾尔自治区"), ("广西省", "广西壮族自治区"), (" 广东省 ", "广东省"),
    ("香港", "香港特别行政区"), ("黑龙江", "黑龙江省"), ("陕西", "陕西省"), ("山西", "山西省"),
])
def test_full_short_and_hand_typed_forms(text, full):
    assert province_of(text) == full


@pytest.mark.parametrize("text", ["", "广", "火星", "深圳市", "山", "California"])
def test_unknown_provinces(text):
    assert province_of(text) is None


def test_city_key_ignores_the_shi_suffix():
    assert city_key("深圳市") == city_key("深圳") == "深圳"
    assert city_key("恩施土家族苗族自治州") == "恩施土家族苗族自治州"
