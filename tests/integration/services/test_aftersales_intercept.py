"""After-shipment interception through Douyin or Kuaidi100 (快递拦截): the path chosen, the
fallback, what is recorded, what is refused before anything is sent, and the outcome read
from the parcel's own tracking."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace
from urllib.parse import parse_qs

import httpx
import pytest
from sqlalchemy import select, update

from fahuo.adapters.platforms.doudian.errors import BusinessError, TransportError
from fahuo.adapters.store import models as m
from fahuo.adapters.carriers.kuaidi100.provider import intercept_view
from fahuo.bootstrap import (
    add_account, follow_intercepts, intercept, remove_intercept_partner, set_intercept,
    set_intercept_partner, sync_after_sales,
)
from fahuo.services.aftersales import AfterSaleError, list_cases
from fahuo.services.tracking import TrackingError
from support import offered_refund_case

OID = "6900000000000000101"
CASE = "7200000000000000101"
NO = "78000000000101"
LABEL_URL = "https://api.k100.test/label/order"
PARTNER = {"partnerId": "ZT-0001", "partnerKey": "zt-key", "partnerSecret": "zt-secret",
           "net": "douyin"}


class Douyin:
    """The platform's applyLogisticsIntercept: a canned answer per tracking number, or an error."""

    def __init__(self, answer):
        self.answer, self.calls = answer, []

    def apply_intercept(self, aftersale_id, targets):
        self.calls.append((aftersale_id, targets))
        if isinstance(self.answer, Exception):
            raise self.answer
        return {"intercept_results": [dict(self.answer(no), company_code=c, tracking_no=no)
                                      for c, no in targets]}


def accepted(no):
    return {"can_intercept": True, "is_success": True, "intercept_cost": 300}


def unsupported(no):
    return {"can_intercept": False, "is_success": False, "unavailable_reason_code": 7,
            "unavailable_reason": "该物流公司暂不支持平台拦截"}


class K100:
    """Kuaidi100's /label/order over MockTransport: records each form, answers per number."""

    def __init__(self, answer=None):
        self.forms: list[dict] = []
        self.answer = answer or (lambda p: {"code": 200, "message": "提交成功",
                                            "data": {"taskId": "T1"}, "time": 1})
        self.http = httpx.Client(transport=httpx.MockTransport(self._serve))

    def _serve(self, request):
        assert str(request.url) == LABEL_URL
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        self.forms.append(form)
        return httpx.Response(200, json=self.answer(json.loads(form["param"])))

    @property
    def params(self):
        return [json.loads(f["param"]) for f in self.forms]


def shipped_case(fahuo, make_order, *, extra: tuple[str, str] | None = None) -> int:
    """An order shipped in one confirmed zhongtong parcel (and optionally a second one,
    ``extra`` = (courier, number)), with a refund case offered for interception."""
    ref = offered_refund_case(fahuo, make_order, OID, NO, CASE)
    if extra:
        with fahuo.uow() as u:
            order = u.pipeline.load_orders([OID])[OID][2]
            u.pipeline.add_pack({
                "shop_ref": ref, "kind": "split", "state": "confirmed", "main_order_id": OID,
                "platform_pack_id": "p2", "courier_code": extra[0], "track_no": extra[1],
                "request_id": f"r2-{OID}", "exp_ship_time": order.exp_ship_time},
                [{"order_id": OID, "sku_order_id": order.sub_orders[0].sku_order_id,
                  "quantity": 1}])
    return ref


def k100_account(fahuo, *, secret: bool = True, partners: dict | None = None) -> int:
    acc = add_account(fahuo.uow, "kuaidi100", "快递100", {
        "customer": "CUST", "key": "kEy", "salt": "s" * 16}, "https://poll.k100.test",
        "https://fahuo.test")
    if secret:
        set_intercept(fahuo.uow, acc, secret="sEcReT", label_url=LABEL_URL, actor="t")
    for courier, fields in (partners or {}).items():
        set_intercept_partner(fahuo.uow, acc, courier, fields, actor="t")
    return acc


def another_case(fahuo, ref, **state) -> str:
    """A second after-sale case of the same shipped order, in the given interception state."""
    other = "7200000000000000102"
    with fahuo.uow() as u:
        u.conn.execute(m.after_sales.insert().values(
            aftersale_id=other, shop_ref=ref, order_id=OID, sku_order_ids="[]",
            aftersale_type=1, aftersale_status=6, refund_amount=100, stage="after_ship",
            update_time=int(time.time()), **state))
    return other


def listing_of(aftersale_id: str, sku_order_id: str, refund: int):
    """A platform (for sync_after_sales) whose afterSale.List holds one refund case of OID,
    on a shipped line."""
    item = {"aftersale_info": {"aftersale_id": aftersale_id, "aftersale_type": 1,
                               "aftersale_status": 6, "refund_amount": refund,
                               "update_time": int(time.time())},
            "order_info": {"shop_order_id": OID, "related_order_info": [
                {"sku_order_id": sku_order_id, "order_status": 3}]}}
    listing = SimpleNamespace(after_sales=lambda **kw: SimpleNamespace(items=[item],
                                                                       has_more=False))
    return lambda shop: listing


def case(fahuo) -> dict:
    (c,) = [c for c in list_cases(fahuo.uow, status="all") if c["aftersale_id"] == CASE]
    return c


def audits(fahuo, action="aftersale.intercept") -> list[dict]:
    with fahuo.uow(readonly=True) as u:
        return [json.loads(a["detail"]) for a in u.audit.for_subject("aftersale", CASE)
                if a["action"] == action]


def test_douyin_takes_it_and_kuaidi100_is_never_asked(fahuo, make_order):
    shipped_case(fahuo, make_order)
    k100_account(fahuo, partners={"zhongtong": PARTNER})
    dy, k = Douyin(accepted), K100()
    got = intercept(fahuo.uow, lambda s: dy, CASE, actor="t", http=k.http)
    assert (got["intercept_state"], got["via"]) == ("requested", "douyin")
    assert got["detail"] == "抖音：已提交拦截，费用 3.00 元"
    assert dy.calls == [(CASE, [("zhongtong", NO)])] and k.forms == []
    c = case(fahuo)
    assert (c["intercept_state"], c["intercept_via"]) == ("requested", "douyin")
    (a,) = audits(fahuo)
    assert (a["via"], a["used"], a["parcels"][0]["via"]) == ("auto", ["douyin"], "douyin")


def test_douyin_refuses_the_parcel_and_kuaidi100_intercepts_it(fahuo, make_order):
    shipped_case(fahuo, make_order)
    acc = k100_account(fahuo, partners={"zhongtong": PARTNER, "yuantong": {"partnerId": "YT"}})
    dy, k = Douyin(unsupported), K100()
    got = intercept(fahuo.uow, lambda s: dy, CASE, actor="小王", http=k.http)
    assert (got["intercept_state"], got["via"]) == ("requested", "kuaidi100")
    assert got["detail"] == ('快递100：已提交拦截（退回寄件地址），抖音不可拦截：该物流公司暂不支持平台拦截，'
                             '快递100返回：{"taskId":"T1"}')
    (form,) = k.forms
    assert (form["method"], form["key"]) == ("interceptOrder", "kEy")
    assert k.params == [{"orderId": f"{CASE}-{NO}", "kuaidicom": "zhongtong", "kuaidinum": NO,
                         "partnerId": "ZT-0001", "partnerKey": "zt-key",
                         "partnerSecret": "zt-secret", "net": "douyin",
                         "interceptType": "RETURN_SEND_ADDR", "orderRole": "1",
                         "reason": f"买家申请退款（售后单 {CASE}）"}]
    c = case(fahuo)
    assert (c["intercept_state"], c["intercept_via"]) == ("requested", "kuaidi100")
    (a,) = audits(fahuo)
    (p,) = a["parcels"]
    assert (a["used"], p["via"], p["kuaidi100_account"]) == (["kuaidi100"], "kuaidi100", acc)
    assert p["kuaidi100"] == {"code": 200, "message": "提交成功", "data": {"taskId": "T1"}}
    assert p["douyin"]["unavailable_reason_code"] == 7
    assert "zt-secret" not in json.dumps(a)  # the courier account's secret is not logged
    with pytest.raises(AfterSaleError, match="已申请过拦截"):  # no second (paid) request
        intercept(fahuo.uow, lambda s: dy, CASE, actor="t", http=k.http)
    assert len(k.forms) == 1


def test_a_platform_error_falls_back_too(fahuo, make_order):
    shipped_case(fahuo, make_order)
    k100_account(fahuo, partners={"zhongtong": PARTNER})
    dy = Douyin(BusinessError("refused", method="afterSale.applyLogisticsIntercept",
                              code=50002, sub_code="isv.business-failed:13",
                              sub_msg="售后单当前状态不支持拦截"))
    got = intercept(fahuo.uow, lambda s: dy, CASE, actor="t", http=K100().http)
    assert got["intercept_state"] == "requested"
    assert got["detail"].startswith("快递100：已提交拦截（退回寄件地址），抖音不可拦截：售后单当前状态不支持拦截")


def test_no_answer_from_douyin_is_not_a_refusal_so_kuaidi100_is_not_asked_as_well(
        fahuo, make_order):
    shipped_case(fahuo, make_order)
    k100_account(fahuo, partners={"zhongtong": PARTNER})
    k = K100()
    lost = TransportError("read timed out", method="afterSale.applyLogisticsIntercept")
    got = intercept(fahuo.uow, lambda s: Douyin(lost), CASE, actor="t", http=k.http)
    assert got["intercept_state"] == "failed" and k.forms == []
    assert "抖音的结果未知" in got["detail"]
    # a person who checked may then choose Kuaidi100 explicitly
    again = intercept(fahuo.uow, lambda s: Douyin(lost), CASE, actor="t", via="kuaidi100",
                      http=k.http)
    assert again["intercept_state"] == "requested" and len(k.forms) == 1


def test_without_kuaidi100_set_up_a_refusal_stays_unavailable_and_says_why(fahuo, make_order):
    shipped_case(fahuo, make_order)
    got = intercept(fahuo.uow, lambda s: Douyin(unsupported), CASE, actor="t")
    assert got["intercept_state"] == "unavailable"
    assert got["detail"].startswith("拦截失败：抖音：该物流公司暂不支持平台拦截；快递100：未配置（"
                                    "no enabled Kuaidi100 account")
    assert case(fahuo)["intercept_via"] == ""


def test_kuaidi100_refusal_is_recorded_with_its_words(fahuo, make_order):
    shipped_case(fahuo, make_order)
    k100_account(fahuo, partners={"zhongtong": PARTNER})
    k = K100(lambda p: {"code": 30003, "message": "快件已签收，无法拦截", "data": None, "time": 1})
    got = intercept(fahuo.uow, lambda s: Douyin(unsupported), CASE, actor="t", http=k.http)
    assert got["intercept_state"] == "failed"
    assert got["detail"] == ("拦截失败：抖音：该物流公司暂不支持平台拦截；"
                             "快递100：快件已签收，无法拦截（30003）")
    # a refusal is not a request: it may be tried again
    k.answer = lambda p: {"code": 200, "message": "提交成功", "data": None, "time": 2}
    again = intercept(fahuo.uow, lambda s: Douyin(unsupported), CASE, actor="t",
                      via="kuaidi100", http=k.http)
    assert again["detail"] == "快递100：已提交拦截（退回寄件地址）"  # no Douyin call, no note


@pytest.mark.parametrize("setup, missing", [
    ({}, "no enabled Kuaidi100 account"),
    ({"secret": False}, "has no secret"),
    ({"partners": {"yuantong": {"partnerId": "YT"}}}, "no zhongtong e-waybill account"),
])
def test_kuaidi100_chosen_but_not_set_up_changes_nothing_and_names_what_is_missing(
        fahuo, make_order, setup, missing):
    shipped_case(fahuo, make_order)
    if setup:
        k100_account(fahuo, **setup)
    dy, k = Douyin(accepted), K100()
    with pytest.raises(AfterSaleError, match=missing):
        intercept(fahuo.uow, lambda s: dy, CASE, actor="t", via="kuaidi100", http=k.http)
    assert dy.calls == [] and k.forms == []
    c = case(fahuo)
    assert (c["intercept_state"], c["intercept_detail"]) == ("offered",
                                                             "买家已申请退款，包裹仍在途：可拦截")
    assert audits(fahuo) == []
    with pytest.raises(AfterSaleError, match=r"拦截途径 \(via\) 应为 auto、douyin、kuaidi100 之一"):
        intercept(fahuo.uow, lambda s: dy, CASE, actor="t", via="sf")


def test_via_douyin_never_falls_back(fahuo, make_order):
    shipped_case(fahuo, make_order)
    k100_account(fahuo, partners={"zhongtong": PARTNER})
    k = K100()
    got = intercept(fahuo.uow, lambda s: Douyin(unsupported), CASE, actor="t", via="douyin",
                    http=k.http)
    assert got["intercept_state"] == "unavailable" and k.forms == []
    assert got["detail"] == "拦截失败：抖音：该物流公司暂不支持平台拦截"


def test_two_parcels_one_each_way(fahuo, make_order):
    shipped_case(fahuo, make_order, extra=("yuantong", "YT0000000000102"))
    k100_account(fahuo, partners={"yuantong": {"partnerId": "YT-1", "net": "douyin"}})
    dy = Douyin(lambda no: accepted(no) if no == NO else unsupported(no))
    got = intercept(fahuo.uow, lambda s: dy, CASE, actor="t", http=K100().http)
    assert (got["intercept_state"], got["via"]) == ("requested", "douyin+kuaidi100")
    assert got["detail"].startswith(f"抖音+快递100：{NO} 抖音已提交拦截，费用 3.00 元 | "
                                    "YT0000000000102 快递100已提交拦截（退回寄件地址）")
    c = case(fahuo)
    assert (c["intercept_state"], c["intercept_via"]) == ("requested", "douyin+kuaidi100")


def test_the_next_case_sync_keeps_the_path(fahuo, make_order):
    ref = shipped_case(fahuo, make_order)
    k100_account(fahuo, partners={"zhongtong": PARTNER})
    intercept(fahuo.uow, lambda s: Douyin(unsupported), CASE, actor="t", http=K100().http)
    assert sync_after_sales(fahuo.uow, listing_of(CASE, "1", 4900), ref).cases == 1
    c = case(fahuo)
    assert (c["intercept_state"], c["intercept_via"]) == ("requested", "kuaidi100")


def _track(fahuo, states: dict[str, str]) -> None:
    """Trackers for the case's parcels, in these states."""
    with fahuo.uow() as u:
        packs = {p["track_no"]: p for p in u.pipeline.packs_of_orders([OID])}
        have = u.tracking.by_track_nos(states)
        u.tracking.add_trackers([{
            "shop_ref": p["shop_ref"], "pack_id": p["id"], "order_id": OID,
            "courier_code": p["courier_code"], "track_no": no, "source": "douyin",
            "phone_tail": "", "state": "in_transit", "shipped_at": 1, "subscribed": False,
            "poll_attempts": 0, "next_poll_at": 2} for no, p in packs.items() if no not in have])
        for no, st in states.items():
            u.conn.execute(update(m.trackers).where(m.trackers.c.track_no == no).values(state=st))


def test_the_outcome_is_read_from_the_parcels_tracking(fahuo, make_order):
    shipped_case(fahuo, make_order)
    k100_account(fahuo, partners={"zhongtong": PARTNER})
    intercept(fahuo.uow, lambda s: Douyin(unsupported), CASE, actor="t", http=K100().http)
    assert follow_intercepts(fahuo.uow) == 0  # no tracker yet: nothing known
    _track(fahuo, {NO: "in_transit"})
    assert follow_intercepts(fahuo.uow) == 0
    assert case(fahuo)["intercept_state"] == "requested"
    _track(fahuo, {NO: "returning"})
    assert follow_intercepts(fahuo.uow) == 1
    c = case(fahuo)
    assert (c["intercept_state"], c["intercept_detail"], c["intercept_via"]) == (
        "returning", "快递100：拦截成功，包裹正在退回寄件人", "kuaidi100")
    assert follow_intercepts(fahuo.uow) == 0  # nothing new: nothing written
    _track(fahuo, {NO: "returned"})
    assert follow_intercepts(fahuo.uow) == 1
    assert (case(fahuo)["intercept_state"], case(fahuo)["intercept_detail"]) == (
        "returned", "快递100：拦截成功，包裹已退回寄件人")
    outcomes = audits(fahuo, "aftersale.intercept_outcome")
    assert [(o["state"], o["parcels"]) for o in outcomes] == [
        ("returning", {NO: "returning"}), ("returned", {NO: "returned"})]


def test_a_parcel_signed_by_the_buyer_means_the_interception_failed(fahuo, make_order):
    shipped_case(fahuo, make_order, extra=("zhongtong", "78000000000102"))
    intercept(fahuo.uow, lambda s: Douyin(accepted), CASE, actor="t")
    _track(fahuo, {NO: "returning", "78000000000102": "in_transit"})
    assert follow_intercepts(fahuo.uow) == 0  # one still travelling: not decided
    _track(fahuo, {"78000000000102": "delivered"})
    assert follow_intercepts(fahuo.uow) == 1
    c = case(fahuo)
    assert (c["intercept_state"], c["intercept_detail"]) == (
        "failed", "抖音：拦截未成功，已签收（78000000000102）")
    assert follow_intercepts(fahuo.uow) == 0  # decided: not looked at again


def test_courier_accounts_are_checked_and_kept_encrypted(fahuo):
    acc = k100_account(fahuo, secret=False)
    with pytest.raises(TrackingError, match="kuaidi100 不认识快递公司 'nosuch'"):
        set_intercept_partner(fahuo.uow, acc, "nosuch", {"partnerId": "1"}, actor="t")
    with pytest.raises(TrackingError, match="partnerId"):
        set_intercept_partner(fahuo.uow, acc, "zhongtong", {"partnerKey": "k"}, actor="t")
    with pytest.raises(TrackingError, match="没有物流查询账号 #999"):
        set_intercept(fahuo.uow, 999, secret="x", actor="t")
    with pytest.raises(TrackingError, match="label_url must be an http"):
        set_intercept(fahuo.uow, acc, label_url="api.kuaidi100.com", actor="t")
    with pytest.raises(TrackingError, match="give the secret"):
        set_intercept(fahuo.uow, acc, actor="t")
    view = set_intercept(fahuo.uow, acc, secret="very-secret-1", actor="t")
    assert (view["secret"], view["label_url"]) == (True, "https://api.kuaidi100.com/label/order")
    view = set_intercept_partner(fahuo.uow, acc, "ZhongTong", PARTNER, actor="t")
    assert view["couriers"] == {"zhongtong": {"partnerId": "ZT-0001", "partnerKey": "***",
                                              "partnerSecret": "***", "net": "douyin"}}
    with fahuo.uow(readonly=True) as u:
        raw = u.conn.execute(select(m.tracking_accounts.c.credentials_enc)).scalar_one()
        stored = u.tracking.account(acc)
    assert "zt-secret" not in raw and "very-secret-1" not in raw and "ZT-0001" not in raw
    assert stored["credentials"]["intercept_partners"]["zhongtong"]["partnerSecret"] == "zt-secret"
    assert stored["credentials"]["secret"] == "very-secret-1"
    assert intercept_view(stored)["couriers"]["zhongtong"]["partnerSecret"] == "***"
    assert remove_intercept_partner(fahuo.uow, acc, "zhongtong", actor="t")["couriers"] == {}
    with pytest.raises(TrackingError, match=r"没有 中通快递 \(zhongtong\) 的拦截用快递账号"):
        remove_intercept_partner(fahuo.uow, acc, "zhongtong", actor="t")
    kd = add_account(fahuo.uow, "kdniao", "快递鸟", {"ebusiness_id": "1", "api_key": "k"},
                     "https://api.kdniao.test", "https://fahuo.test")
    with pytest.raises(TrackingError, match="拦截须使用 快递100 账号"):
        set_intercept(fahuo.uow, kd, secret="x", actor="t")
    with pytest.raises(TrackingError, match="intercept-partner"):
        add_account(fahuo.uow, "kuaidi100", "x", {"customer": "c", "key": "k", "salt": "s",
                                                  "intercept_partners": "{}"},
                    "https://poll.k100.test", "https://fahuo.test")
    with fahuo.uow(readonly=True) as u:
        actions = [a["action"] for a in u.audit.for_subject("tracking_account", str(acc))]
        details = json.dumps([a["detail"] for a in u.audit.for_subject("tracking_account",
                                                                          str(acc))])
    assert actions.count("tracking.account.intercept_partner") == 1
    assert "zt-secret" not in details and "very-secret-1" not in details


def test_the_orders_other_open_cases_are_covered_by_the_same_request(fahuo, make_order):
    ref = shipped_case(fahuo, make_order)
    other = another_case(fahuo, ref, intercept_state="offered", intercept_detail="")
    dy = Douyin(accepted)
    intercept(fahuo.uow, lambda s: dy, CASE, actor="t")
    (sib,) = [c for c in list_cases(fahuo.uow, status="all") if c["aftersale_id"] == other]
    assert (sib["intercept_state"], sib["intercept_via"]) == ("requested", "douyin")
    with pytest.raises(AfterSaleError, match="已申请过拦截"):
        intercept(fahuo.uow, lambda s: dy, other, actor="t")
    assert len(dy.calls) == 1
    assert audits(fahuo)[0]["same_order_cases"] == [other]


# -- one request per parcel: claimed before sending, never sent (or paid) twice -----------------

def already_requested(no):
    return {"can_intercept": False, "is_success": False, "unavailable_reason_code": 3,
            "unavailable_reason": f"该包裹已申请拦截，请勿重复申请: {no}"}


def test_a_second_click_while_the_first_is_under_way_sends_nothing(fahuo, make_order):
    shipped_case(fahuo, make_order)
    seen = {}

    class Clicked(Douyin):
        def apply_intercept(self, aftersale_id, targets):
            if not self.calls:  # the second click lands while Douyin is being asked
                assert case(fahuo)["intercept_state"] == "requesting"
                with pytest.raises(AfterSaleError, match="正在申请拦截，请等待结果") as e:
                    intercept(fahuo.uow, lambda s: self, CASE, actor="t", via="douyin")
                seen["refused"] = str(e.value)
            return super().apply_intercept(aftersale_id, targets)

    dy = Clicked(accepted)
    got = intercept(fahuo.uow, lambda s: dy, CASE, actor="t")
    assert "refused" in seen and len(dy.calls) == 1
    assert got["intercept_state"] == "requested"
    assert case(fahuo)["intercept_state"] == "requested"  # not overwritten by the second one


def test_an_error_before_anything_is_sent_puts_the_case_back(fahuo, make_order):
    shipped_case(fahuo, make_order)

    def no_platform(shop):
        raise RuntimeError("no token for the shop")

    with pytest.raises(RuntimeError, match="no token"):
        intercept(fahuo.uow, no_platform, CASE, actor="t")
    c = case(fahuo)
    assert (c["intercept_state"], c["intercept_detail"]) == ("offered",
                                                             "买家已申请退款，包裹仍在途：可拦截")
    got = intercept(fahuo.uow, lambda s: Douyin(accepted), CASE, actor="t")  # not stuck
    assert got["intercept_state"] == "requested"


def test_an_error_after_sending_leaves_the_case_unsure_not_claimed(fahuo, make_order):
    shipped_case(fahuo, make_order)
    k100_account(fahuo, partners={"zhongtong": PARTNER})
    k = K100()
    dy = Douyin(lambda no: {"is_success": True, "intercept_cost": "三元"})  # unreadable cost
    with pytest.raises(ValueError):
        intercept(fahuo.uow, lambda s: dy, CASE, actor="t", http=k.http)
    c = case(fahuo)
    assert c["intercept_state"] == "unsure" and "ValueError" in c["intercept_detail"]
    assert c["intercept_detail"].startswith("拦截结果未知：处理中出错")
    with pytest.raises(AfterSaleError, match="请先向快递核实，再明确选择拦截途径"):
        intercept(fahuo.uow, lambda s: Douyin(accepted), CASE, actor="t", http=k.http)
    assert len(dy.calls) == 1 and k.forms == []
    (a,) = audits(fahuo)
    assert a["state"] == "unsure" and a["parcels"][0]["asked"] is True


def test_a_case_of_the_same_order_already_requested_blocks_the_others(fahuo, make_order):
    ref = shipped_case(fahuo, make_order)
    other = another_case(fahuo, ref, intercept_state="requested",
                         intercept_detail="抖音：已提交拦截，费用 3.00 元", intercept_via="douyin",
                         closed_at=int(time.time()))
    dy = Douyin(accepted)
    with pytest.raises(AfterSaleError, match=f"所在订单已通过售后 {other} 申请过拦截"):
        intercept(fahuo.uow, lambda s: dy, CASE, actor="t")
    assert dy.calls == [] and case(fahuo)["intercept_state"] == "offered"


def test_a_new_case_of_an_order_already_intercepted_is_not_offered(fahuo, make_order):
    ref = shipped_case(fahuo, make_order)
    intercept(fahuo.uow, lambda s: Douyin(accepted), CASE, actor="t")
    new = "7200000000000000103"
    assert sync_after_sales(fahuo.uow, listing_of(new, "2", 100), ref).offered == 0
    (c,) = [c for c in list_cases(fahuo.uow, status="all") if c["aftersale_id"] == new]
    assert c["intercept_state"] == ""


def test_douyin_already_requested_counts_as_requested_and_kuaidi100_is_not_asked(
        fahuo, make_order):
    shipped_case(fahuo, make_order)
    k100_account(fahuo, partners={"zhongtong": PARTNER})
    k = K100()
    got = intercept(fahuo.uow, lambda s: Douyin(already_requested), CASE, actor="t",
                    http=k.http)
    assert (got["intercept_state"], got["via"]) == ("requested", "douyin") and k.forms == []
    assert got["detail"] == (f"抖音：此前已申请拦截，未重复申请（平台返回：该包裹已申请拦截，请勿重复申请: "
                             f"{NO}）")
    # the words alone are enough (a code Douyin may renumber)
    shipped = lambda no: dict(already_requested(no), unavailable_reason_code=99)  # noqa: E731
    with fahuo.uow() as u:
        u.conn.execute(update(m.after_sales).values(intercept_state="failed"))
    again = intercept(fahuo.uow, lambda s: Douyin(shipped), CASE, actor="t", http=k.http)
    assert again["intercept_state"] == "requested" and k.forms == []


def _raising(exc):
    def serve(request):
        raise exc
    return serve


@pytest.mark.parametrize("answer", [
    _raising(httpx.ReadTimeout("read timed out")),
    lambda request: httpx.Response(502, text="Bad Gateway"),
    lambda request: httpx.Response(200, text="<html>oops</html>"),
    lambda request: httpx.Response(200, json={"message": "no code"}),
], ids=["timeout", "http-502", "not-json", "no-code"])
def test_a_lost_kuaidi100_answer_is_unsure_and_not_retried_automatically(
        fahuo, make_order, answer):
    shipped_case(fahuo, make_order)
    k100_account(fahuo, partners={"zhongtong": PARTNER})
    sent = []

    def serve(request):
        sent.append(request)
        return answer(request)

    http = httpx.Client(transport=httpx.MockTransport(serve))
    got = intercept(fahuo.uow, lambda s: Douyin(unsupported), CASE, actor="t", http=http)
    assert got["intercept_state"] == "unsure" and len(sent) == 1
    assert "结果未知：请先向快递核实包裹是否已被拦截，确认未拦截后再选快递100重新拦截" in got["detail"]
    with pytest.raises(AfterSaleError, match="请先向快递核实，再明确选择拦截途径"):
        intercept(fahuo.uow, lambda s: Douyin(unsupported), CASE, actor="t", http=http)
    assert len(sent) == 1 and case(fahuo)["intercept_state"] == "unsure"
    # a person who checked with the courier chooses Kuaidi100 explicitly
    k = K100()
    again = intercept(fahuo.uow, lambda s: Douyin(unsupported), CASE, actor="t",
                      via="kuaidi100", http=k.http)
    assert again["intercept_state"] == "requested" and len(k.forms) == 1


def test_a_connection_never_made_is_a_plain_failure(fahuo, make_order):
    shipped_case(fahuo, make_order)
    k100_account(fahuo, partners={"zhongtong": PARTNER})
    http = httpx.Client(transport=httpx.MockTransport(_raising(httpx.ConnectError("refused"))))
    got = intercept(fahuo.uow, lambda s: Douyin(unsupported), CASE, actor="t", http=http)
    assert got["intercept_state"] == "failed" and "结果未知" not in got["detail"]


def test_an_unexpected_kuaidi100_error_keeps_what_douyin_accepted(fahuo, make_order):
    shipped_case(fahuo, make_order, extra=("yuantong", "YT0000000000102"))
    k100_account(fahuo, partners={"yuantong": {"partnerId": "YT-1", "net": "douyin"}})
    dy = Douyin(lambda no: accepted(no) if no == NO else unsupported(no))
    http = httpx.Client(transport=httpx.MockTransport(_raising(RuntimeError("boom"))))
    got = intercept(fahuo.uow, lambda s: dy, CASE, actor="t", http=http)
    assert (got["intercept_state"], got["via"]) == ("requested", "douyin")
    assert f"{NO} 抖音已提交拦截，费用 3.00 元" in got["detail"]
    assert "YT0000000000102 拦截失败：抖音：该物流公司暂不支持平台拦截；快递100：处理出错：RuntimeError: boom" \
        in got["detail"]
    c = case(fahuo)
    assert (c["intercept_state"], c["intercept_via"]) == ("requested", "douyin")
    (a,) = audits(fahuo)
    assert [p["outcome"] for p in a["parcels"]] == ["ok", "failed"]


def test_an_unsure_case_of_the_same_order_blocks_an_automatic_request(fahuo, make_order):
    ref = shipped_case(fahuo, make_order)
    other = another_case(fahuo, ref, intercept_state="unsure", intercept_detail="快递100：结果未知")
    dy = Douyin(unsupported)
    with pytest.raises(AfterSaleError, match=f"经同一订单的售后 {other}"):
        intercept(fahuo.uow, lambda s: dy, CASE, actor="t")
    assert dy.calls == [] and case(fahuo)["intercept_state"] == "offered"


def test_a_claim_left_by_a_crash_turns_unsure_and_takes_only_an_explicit_retry(
        fahuo, make_order):
    # The process died between claiming the case and writing the answer: the request may
    # have gone out. After ten minutes the case says so; only a chosen path may retry.
    shipped_case(fahuo, make_order)
    dy = Douyin(accepted)
    with fahuo.uow() as u:
        u.conn.execute(update(m.after_sales).where(m.after_sales.c.aftersale_id == CASE)
                       .values(intercept_state="requesting", intercept_detail="正在申请拦截…",
                               intercept_claimed_at=int(time.time()) - 60))
    with pytest.raises(AfterSaleError, match="正在申请拦截，请等待结果"):
        intercept(fahuo.uow, lambda s: dy, CASE, actor="t")  # a minute: still under way
    with fahuo.uow() as u:
        u.conn.execute(update(m.after_sales).where(m.after_sales.c.aftersale_id == CASE)
                       .values(intercept_claimed_at=int(time.time()) - 3600))
    follow_intercepts(fahuo.uow)  # the periodic sweep shows it to the merchant
    c = case(fahuo)
    assert c["intercept_state"] == "unsure" and "申请中断" in c["intercept_detail"]
    with pytest.raises(AfterSaleError, match="请先向快递核实，再明确选择拦截途径"):
        intercept(fahuo.uow, lambda s: dy, CASE, actor="t")
    assert dy.calls == []
    got = intercept(fahuo.uow, lambda s: dy, CASE, actor="t", via="douyin")
    assert got["intercept_state"] == "requested" and len(dy.calls) == 1
