from sqlalchemy import text

from fahuo.services.orders import store_platform_orders
from fahuo.services.shops import NewShop, add_shop


def _shop(app) -> int:
    with app.uow() as uow:
        return add_shop(uow, NewShop(shop_id="1001", app_key="3409409348479354011",
                                     app_secret="s3cret-value", gateway_url="http://127.0.0.1:1"))


def test_newer_update_wins_and_older_is_ignored(fahuo_any_db, make_order):
    app = fahuo_any_db
    ref = _shop(app)
    oid = "6919999999999999999"
    with app.uow() as uow:
        r = store_platform_orders(uow, ref, [make_order(oid, 1_700_000_100, buyer_words="新")])
    assert (r.inserted, r.updated, r.stale) == (1, 0, 0)
    with app.uow() as uow:
        r = store_platform_orders(uow, ref, [make_order(oid, 1_700_000_050, status=4,
                                                        buyer_words="旧")])
    assert r.stale == 1
    with app.uow() as uow:
        o = uow.orders.get(oid)
    assert o["order_id"] == oid and isinstance(o["order_id"], str)
    assert o["update_time"] == 1_700_000_100 and o["buyer_words"] == "新"
    assert o["state"] == "synced" and o["order_status"] == 2
    # A newer shipped status moves the state forward.
    with app.uow() as uow:
        store_platform_orders(uow, ref, [make_order(oid, 1_700_000_200, status=3)])
        o = uow.orders.get(oid)
    assert o["state"] == "shipped"
    # And a stale "waiting" page can never take it back.
    with app.uow() as uow:
        store_platform_orders(uow, ref, [make_order(oid, 1_700_000_200, status=2)])
        assert uow.orders.get(oid)["state"] == "shipped"


def test_sub_orders_kept_with_merchant_codes_and_quantities(fahuo_any_db, make_order):
    app = fahuo_any_db
    ref = _shop(app)
    oid = "6919999999999999000"
    with app.uow() as uow:
        store_platform_orders(uow, ref, [make_order(oid, 1_700_000_000, lines=3)])
        o = uow.orders.get(oid)
    assert [s["merchant_code"] for s in o["sub_orders"]] == ["TEE-RED-0", "TEE-RED-1", "TEE-RED-2"]
    assert o["sub_orders"][0]["sku_order_id"] == oid
    assert all(s["quantity"] == 2 for s in o["sub_orders"])


def test_plain_receiver_and_secrets_are_encrypted_at_rest(fahuo_any_db, make_order):
    app = fahuo_any_db
    ref = _shop(app)
    oid = "6919999999999999111"
    with app.uow() as uow:
        store_platform_orders(uow, ref, [make_order(oid, 1_700_000_000,
                                                    post_receiver="王小明")])
    with app.engine.connect() as c:
        dump = " ".join(str(v) for row in c.execute(text("select * from orders")) for v in row)
        shops = " ".join(str(v) for row in c.execute(text("select * from shops")) for v in row)
    assert "王小明" not in dump
    assert "s3cret-value" not in shops
    with app.uow() as uow:
        row = uow.conn.execute(text("select receiver_plain_enc from orders")).scalar()
        assert "王小明" in app.box.decrypt(row)
        assert uow.shops.get(ref).app_secret == "s3cret-value"


def test_cursor_only_moves_forward(fahuo_any_db):
    app = fahuo_any_db
    ref = _shop(app)
    with app.uow() as uow:
        uow.cursors.advance(ref, 2000, 5)
        uow.cursors.advance(ref, 1000, 5)
    with app.uow() as uow:
        assert uow.cursors.get(ref) == 2000


def test_push_inbox_stores_each_msg_id_once(fahuo_any_db):
    app = fahuo_any_db
    row = {"msg_id": "m1", "app_key": "k", "tag": "101", "shop_id": "1", "order_id": "2",
           "data": "{}", "received_at": 1, "status": "pending", "attempts": 0, "error": None}
    with app.uow() as uow:
        assert uow.inbox.add_many([row, dict(row)]) == ["m1"]
    with app.uow() as uow:
        assert uow.inbox.add_many([row, {**row, "msg_id": "m2"}]) == ["m2"]
        assert uow.inbox.counts() == {"pending": 2}


def test_failed_use_case_leaves_nothing_behind(fahuo_any_db, make_order):
    app = fahuo_any_db
    ref = _shop(app)
    try:
        with app.uow() as uow:
            store_platform_orders(uow, ref, [make_order("6919999999999999222", 1_700_000_000)])
            raise RuntimeError("crash mid use case")
    except RuntimeError:
        pass
    with app.uow() as uow:
        assert uow.orders.get("6919999999999999222") is None
