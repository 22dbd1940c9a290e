"""order.batchDecrypt through the real client against the sandbox: a shop's own ciphertexts
decrypt with their order, anything else is refused item by item, 50 a call at most."""
from __future__ import annotations

import time

import httpx
import pytest

from fahuo.adapters.platforms.doudian import (
    AppCredentials,
    DoudianClient,
    DoudianShopApi,
    InMemoryTokenStore,
    RetryPolicy,
    ShopSession,
)
from fahuo.adapters.platforms.doudian.errors import DoudianError


@pytest.fixture
def two_shops(sandbox_url):
    admin = httpx.Client(base_url=sandbox_url, trust_env=False, timeout=60)
    http = httpx.Client(trust_env=False, timeout=60)

    def post(path: str, body=None, method: str = "POST"):
        r = admin.request(method, path, json=body)
        assert r.status_code == 200, r.text
        return r.json()

    shops = []
    for _ in range(2):
        app = post("/sandbox/apps", {})
        client = DoudianClient(AppCredentials(app["app_key"], app["app_secret"],
                                              gateway_url=sandbox_url),
                               http=http, retry=RetryPolicy(max_attempts=1))
        api = DoudianShopApi(ShopSession(client, InMemoryTokenStore(), "t",
                                         self_built_shop_id=str(app["shop_id"]), clock=time.time))
        post("/sandbox/orders/generate", {"shop_id": app["shop_id"], "count": 30, "seed": 5})
        ids = [i["order_id"] for i in post(f"/sandbox/orders/index?shop_id={app['shop_id']}",
                                           method="GET")]
        shops.append((api, [api.order_detail(str(i)) for i in ids]))
    yield shops
    http.close()
    admin.close()


def _ciphers(order):
    return [(order["order_id"], order["encrypt_post_receiver"]),
            (order["order_id"], order["encrypt_post_tel"]),
            (order["order_id"], order["post_addr"]["encrypt_detail"])]


def test_a_shop_decrypts_its_own_receivers_in_calls_of_fifty(two_shops):
    (api, orders), _ = two_shops
    asked = [c for o in orders for c in _ciphers(o)]  # 90 ciphertexts: two calls
    got = api.decrypt(asked)
    assert set(got) == set(asked) and all(d.ok for d in got.values())
    for o in orders:
        name, tel, detail = (got[c].text for c in _ciphers(o))
        # the masks the platform shows are the plain texts' own beginnings and ends
        assert name[0] == o["mask_post_receiver"][0] and len(name) >= 2
        assert tel[:3] == o["mask_post_tel"][:3] and tel[-4:] == o["mask_post_tel"][-4:]
        assert detail.startswith(o["post_addr"]["detail"].rstrip("*")) and "号" in detail


def test_another_shops_or_another_orders_cipher_is_refused_item_by_item(two_shops):
    (api, mine), (_, theirs) = two_shops
    own = _ciphers(mine[0])[2]
    foreign = _ciphers(theirs[0])[2]
    swapped = (mine[1]["order_id"], mine[0]["post_addr"]["encrypt_detail"])
    got = api.decrypt([own, foreign, swapped])
    assert got[own].ok
    assert not got[foreign].ok and got[foreign].err_msg and got[foreign].text == ""
    assert not got[swapped].ok and got[swapped].text == ""


def test_more_than_fifty_in_one_call_is_refused_by_the_platform(two_shops):
    (api, orders), _ = two_shops
    infos = [{"auth_id": a, "cipher_text": c} for o in orders for a, c in _ciphers(o)][:51]
    with pytest.raises(DoudianError, match="50"):
        api.session.call("order.batchDecrypt", {"cipher_infos": infos})
