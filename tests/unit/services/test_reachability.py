"""Whether a courier delivers somewhere is remembered per shop session, sender and district."""

from fahuo.domain.orders import Receiver
from fahuo.services.shipping import StepReport
from fahuo.services.shipping.reachability import reachability


class _Api:
    def __init__(self, out: bool) -> None:
        self.out, self.calls = out, 0

    def is_out_of_range(self, courier, sender, receiver):
        self.calls += 1
        return self.out


def _site(province: str) -> dict:
    return {"courier_code": "yunda", "sender_address": [
        {"province_name": province, "city_name": "杭州市", "district_name": "余杭区"}]}


RECEIVER = Receiver(province="新疆维吾尔自治区", city="乌鲁木齐市", district="天山区")


def _reach(api, site, clock=lambda: 1000.0):
    return reachability(clock, api, [site], {"yunda"}, RECEIVER, StepReport())


def test_two_shops_with_the_same_local_number_never_share_an_answer():
    # Two installs (or two test databases) in one process both call their first shop 1.
    blocked, open_ = _Api(out=True), _Api(out=False)
    assert _reach(blocked, _site("浙江省"))("yunda") is False
    assert _reach(open_, _site("浙江省"))("yunda") is True


def test_the_answer_is_remembered_for_the_same_sender_but_not_for_another():
    api = _Api(out=False)
    assert _reach(api, _site("浙江省"))("yunda") and _reach(api, _site("浙江省"))("yunda")
    assert api.calls == 1
    _reach(api, _site("广东省"))("yunda")
    assert api.calls == 2


def test_the_answer_is_asked_again_after_it_grows_old():
    api = _Api(out=False)
    _reach(api, _site("浙江省"))("yunda")
    _reach(api, _site("浙江省"), clock=lambda: 1000.0 + 7 * 3600)("yunda")
    assert api.calls == 2
