import pytest

from fahuo.adapters.platforms.doudian import (
    Address,
    Courier,
    DoudianShopApi,
    InMemoryTokenStore,
    ShopSession,
    TokenSet,
    UnexpectedResponse,
)

NOW = 1_700_000_000


@pytest.fixture
def api(client, clock):
    store = InMemoryTokenStore()
    store.save("s", TokenSet("AT", "RT", NOW + 604800, NOW + 14 * 86400, "77001", "店", "", ""))
    return DoudianShopApi(ShopSession(client, store, "s", clock=clock))


def test_search_orders_request_and_page(api, gateway, h):
    orders = [{"order_id": "6900000000000000001", "order_status": 2}]
    gateway.script("order.searchList", h.ok({"total": 101, "page": 1, "size": 50, "shop_order_list": orders}))
    page = api.search_orders(update_time_start=NOW - 3600, update_time_end=NOW, page=1, size=50, combine_status="2")
    (seen,) = gateway.seen
    assert seen.path == "/order/searchList" and seen.query["access_token"] == "AT"
    assert seen.params == {
        "update_time_start": NOW - 3600,
        "update_time_end": NOW,
        "page": 1,
        "size": 50,
        "order_by": "update_time",
        "order_asc": True,
        "combine_status": [{"order_status": "2"}],
    }
    assert page.total == 101 and page.page == 1 and page.size == 50 and page.orders == orders
    assert page.has_more


def test_search_orders_defaults_and_no_status(api, gateway, h):
    gateway.script("order.searchList", h.ok({"total": 0, "page": 0, "size": 100}))
    page = api.search_orders(update_time_start=1, update_time_end=2, page=0)
    params = gateway.seen[0].params
    assert params["size"] == 100 and "combine_status" not in params and params["order_asc"] is True
    assert page.orders == [] and not page.has_more


@pytest.mark.parametrize(
    "status,expected",
    [
        (["2", 101], [{"order_status": "2,101"}]),
        ({"order_status": "3"}, [{"order_status": "3"}]),
        ([{"order_status": "5"}], [{"order_status": "5"}]),
        (2, [{"order_status": "2"}]),
    ],
)
def test_combine_status_forms(api, gateway, status, expected):
    api.search_orders(update_time_start=1, update_time_end=2, page=0, combine_status=status)
    assert gateway.seen[0].params["combine_status"] == expected


@pytest.mark.parametrize(
    "kw,match",
    [
        ({"size": 0}, "size"),
        ({"size": 101}, "size"),
        ({"page": -1}, "page"),
        ({"page": 1.0}, "page"),
        ({"order_by": "pay_time"}, "order_by"),
        ({"update_time_start": 5, "update_time_end": 4}, "after"),
        ({"combine_status": [{"order_status": "2"}, {"order_status": "3"}]}, "exactly one"),
        ({"combine_status": 1.5}, "combine_status"),
    ],
)
def test_search_orders_validation(api, gateway, kw, match):
    args = {"update_time_start": 1, "update_time_end": 2, "page": 0, **kw}
    with pytest.raises(ValueError, match=match):
        api.search_orders(**args)
    assert gateway.seen == []


def test_order_detail(api, gateway, h):
    detail = {"order_id": "6900000000000000001", "order_status": 2}
    gateway.script("order.orderDetail", h.ok({"shop_order_detail": detail}))
    assert api.order_detail("6900000000000000001") == detail
    assert gateway.seen[0].path == "/order/orderDetail"
    assert gateway.seen[0].body == b'{"shop_order_id":"6900000000000000001"}'


def test_order_packages_reads_the_numbers_an_order_shipped_with(api, gateway, h):
    detail = {"order_id": "6900000000000000001", "order_status": 101, "logistics_info": [
        {"tracking_no": "78000000000001", "company": "zhongtong",
         "product_info": [{"sku_order_id": "6900000000000000002", "product_count": 1}]},
        {"tracking_no": "", "company": "zhongtong"}]}  # an entry without a number is no parcel
    gateway.script("order.orderDetail", h.ok({"shop_order_detail": detail}))
    got = api.order_packages("6900000000000000001")
    assert gateway.seen[0].body == b'{"shop_order_id":"6900000000000000001"}'
    assert [(p.track_no, p.courier_code, p.sku_order_ids) for p in got.packages] == [
        ("78000000000001", "zhongtong", ("6900000000000000002",))]
    assert got.carries("78000000000001") and not got.carries("78000000000009")
    assert not got.carries("") and got.partly


def test_order_packages_without_a_detail_is_an_error(api, gateway, h):
    gateway.script("order.orderDetail", h.ok({}))
    with pytest.raises(UnexpectedResponse, match="shop_order_detail"):
        api.order_packages("1")


def test_order_detail_missing_in_response(api, gateway, h):
    gateway.script("order.orderDetail", h.ok({}))
    with pytest.raises(UnexpectedResponse, match="shop_order_detail"):
        api.order_detail("1")


def test_order_detail_empty_id(api):
    with pytest.raises(ValueError):
        api.order_detail("")


def test_logistics_companies(api, gateway, h):
    gateway.script(
        "order.logisticsCompanyList",
        h.ok([{"id": 7, "name": "圆通快递", "code": "yuantong"}, {"id": "12", "name": "顺丰速运", "code": "shunfeng"}]),
    )
    assert api.logistics_companies() == [Courier("7", "圆通快递", "yuantong"), Courier("12", "顺丰速运", "shunfeng")]
    assert gateway.seen[0].path == "/order/logisticsCompanyList" and gateway.seen[0].body == b"{}"


def test_logistics_companies_wrong_shape(api, gateway, h):
    gateway.script("order.logisticsCompanyList", h.ok({"list": []}))
    with pytest.raises(UnexpectedResponse):
        api.logistics_companies()


def _addr(i, **kw):
    base = {
        "address_id": 1000 + i,
        "reciever_name": f"仓库{i}",
        "receiver_provinc": "浙江省",
        "receiver_city": "杭州市",
        "receiver_district": "余杭区",
        "receiver_street": "五常街道",
        "receiver_detail": f"文一西路{i}号",
        "is_default": 1 if i == 0 else 0,
        "is_send_default": "1" if i == 1 else "0",
        "remark": "",
        "create_time": "1690000000",
        "update_time": "1690000001",
    }
    base.update(kw)
    return base


def test_addresses_maps_odd_spellings(api, gateway, h):
    gateway.script("address.list", h.ok({"total": 2, "page_no": 1, "page_size": 100, "address_list": [_addr(0), _addr(1)]}))
    page = api.addresses()
    assert gateway.seen[0].params == {"page_no": 1, "page_size": 100}
    assert page.total == 2
    assert page.addresses[0] == Address(
        address_id="1000",
        name="仓库0",
        province="浙江省",
        city="杭州市",
        district="余杭区",
        street="五常街道",
        detail="文一西路0号",
        is_default_return=True,
        is_default_send=False,
        remark="",
    )
    assert page.addresses[1].is_default_send and not page.addresses[1].is_default_return


def test_addresses_accepts_corrected_spellings(api, gateway, h):
    entry = _addr(3)
    entry["receiver_name"] = entry.pop("reciever_name")
    entry["receiver_province"] = entry.pop("receiver_provinc")
    gateway.script("address.list", h.ok({"total": 1, "address_list": [entry]}))
    a = api.addresses().addresses[0]
    assert a.name == "仓库3" and a.province == "浙江省"


def test_addresses_validation(api):
    with pytest.raises(ValueError, match="page_no"):
        api.addresses(page_no=0)
    with pytest.raises(ValueError, match="page_size"):
        api.addresses(page_size=0)


def test_all_addresses_pages_from_one(api, gateway, h):
    # server caps page_size at 2 even though 100 was asked for: must not stop on a short page
    gateway.script(
        "address.list",
        h.ok({"total": 5, "address_list": [_addr(0), _addr(1)]}),
        h.ok({"total": 5, "address_list": [_addr(2), _addr(3)]}),
        h.ok({"total": 5, "address_list": [_addr(4)]}),
        h.ok({"total": 5, "address_list": [_addr(99)]}),
    )
    out = api.all_addresses()
    assert [a.address_id for a in out] == ["1000", "1001", "1002", "1003", "1004"]
    assert [s.params["page_no"] for s in gateway.seen] == [1, 2, 3]


def test_all_addresses_stops_on_empty_page(api, gateway, h):
    gateway.script("address.list", h.ok({"total": 9, "address_list": [_addr(0)]}), h.ok({"total": 9, "address_list": []}))
    assert len(api.all_addresses()) == 1
    assert len(gateway.seen) == 2
