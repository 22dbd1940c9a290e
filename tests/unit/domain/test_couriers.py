import pytest
from hypothesis import given
from hypothesis import strategies as st

from fahuo.domain.couriers import (
    BY_CODE, COURIERS, check_tracking_no, courier_code, courier_name, normalize_tracking_no,
)


@pytest.mark.parametrize("typed, code", [
    ("中通", "zhongtong"), ("中通快递", "zhongtong"), ("ZTO", "zhongtong"), ("zto", "zhongtong"),
    ("zhongtong", "zhongtong"), (" 中通快递 ", "zhongtong"), ("中通快递有限公司", "zhongtong"),
    ("圆通", "yuantong"), ("圆通速递", "yuantong"), ("YTO", "yuantong"),
    ("韵达", "yunda"), ("韵达快递", "yunda"), ("申通", "shentong"), ("申通快递", "shentong"),
    ("极兔", "jtexpress"), ("极兔速递", "jtexpress"), ("J&T", "jtexpress"),
    ("顺丰", "shunfeng"), ("顺丰速运", "shunfeng"), ("SF", "shunfeng"),
    ("邮政", "youzhengguonei"), ("中国邮政", "youzhengguonei"), ("邮政快递包裹", "youzhengguonei"),
    ("EMS", "ems"), ("ems", "ems"), ("京东", "jd"), ("京东快递", "jd"), ("京东物流", "jd"),
    ("德邦", "debangwuliu"), ("德邦快递", "debangwuliu"), ("德邦物流", "debangwuliu"),
    ("ＺＴＯ", "zhongtong"),  # full-width letters from a Chinese IME
])
def test_names_merchants_type_map_to_codes(typed, code):
    assert courier_code(typed) == code


def test_freight_services_are_not_the_parcel_service():
    assert courier_code("中通快运") == "zhongtongkuaiyun"
    assert courier_code("京东快运") == "jingdongkuaiyun"


@pytest.mark.parametrize("typed", ["", "  ", "菜鸟驿站", "快递", "顺风"])
def test_unknown_names(typed):
    assert courier_code(typed) is None


def test_every_code_maps_to_itself_and_has_a_name():
    for c in COURIERS:
        assert courier_code(c.code) == c.code
        assert courier_code(c.name) == c.code
        assert courier_name(c.code) == c.name
    assert courier_name("somenewcourier") == "somenewcourier"


@pytest.mark.parametrize("code, number", [
    ("shunfeng", "SF1673179789153"), ("zhongtong", "78474409893076"),
    ("zhongtong", "538400125561"), ("yuantong", "YT9693083639795"), ("yunda", "3967950525457"),
    ("yunda", "312208599281014"), ("yunda", "390141793061"), ("shentong", "773012345678901"),
    ("jtexpress", "JT5123456789012"), ("jd", "JDVA00003618100"), ("ems", "1136281381675"),
    ("youzhengguonei", "9876543210123"), ("ems", "EA123456789CN"),
    ("debangwuliu", "DPK364112047425"), ("qita", "ABC123456"), ("somenewcourier", "X1234567"),
])
def test_real_numbers_pass(code, number):
    assert check_tracking_no(code, number) is None


@pytest.mark.parametrize("code, number, says", [
    ("zhongtong", "SF1673179789153", "中通快递"),  # an SF number under 中通
    ("yuantong", "78474409893076", "圆通速递"),
    ("shunfeng", "YT9693083639795", "顺丰速运"),
    ("jtexpress", "78474409893076", "极兔速递"),
    ("zhongtong", "7847440989307", None),  # 13 digits is a legacy ZTO length: passes
    ("zhongtong", "684744098930761", "中通快递"),  # 15 digits
    ("zhongtong", "", "为空"),
    ("zhongtong", "7847 4409893076", "ASCII"),
    ("zhongtong", "７８４７４４０９８９３０７６", "ASCII"),
    ("qita", "AB12", "长度"),
    ("qita", "AB12345678#", "字母、数字和横线"),
])
def test_wrong_numbers_are_refused_with_a_reason(code, number, says):
    reason = check_tracking_no(code, number)
    if says is None:
        assert reason is None
    else:
        assert reason is not None and says in reason
        assert " / " in reason  # Chinese and English


def test_normalize_what_a_merchant_pasted():
    assert normalize_tracking_no(" 'yt９６９３０８３６３９７９５\t") == "YT9693083639795"
    assert normalize_tracking_no("7847 4409 8930 76") == "78474409893076"


def test_douyin_confirmed_codes_match_the_doc():
    # tracking-and-couriers §4: only these Douyin codes are confirmed.
    confirmed = {c.code for c in COURIERS if c.douyin_confirmed}
    assert confirmed == {"shunfeng", "zhongtong", "yuantong", "yunda", "shentong", "jtexpress",
                         "jd", "qita"}
    assert set(BY_CODE) >= confirmed


@given(st.text(min_size=1, max_size=40))
def test_anything_that_passes_is_printable_code128_ascii(number):
    for c in COURIERS:
        if check_tracking_no(c.code, number) is None:
            assert all(0x21 <= ord(ch) <= 0x7E for ch in number)
            assert 6 <= len(number) <= 30
