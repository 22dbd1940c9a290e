"""Plain receiver text the platform sends never reaches the stored raw payload, at any depth."""

import copy

from sqlalchemy import text

from fahuo.services.orders import store_platform_orders
from fahuo.services.push import accept_push
from fahuo.adapters.platforms.doudian.signing import push_signature
from fahuo.services.shops import NewShop, add_shop

NAME, PHONE, STREET = "欧阳娜娜", "13912345678", "文一西路969号淘宝城3号楼"
ALT_NAME, ALT_PHONE = "司马光明", "18698765432"


def _shop(app) -> int:
    with app.uow() as uow:
        return add_shop(uow, NewShop(shop_id="1001", app_key="3409409348479354011",
                                     app_secret="s3cret-value", gateway_url="http://127.0.0.1:1"))


def _plain_everywhere(payload: dict) -> dict:
    """The top level and every sub-order carry the receiver in plain text, and some copies
    sit deeper still (lists of dicts of dicts), as a future payload might have them."""
    p = copy.deepcopy(payload)
    plain = {"post_receiver": NAME, "post_tel": PHONE,
             "post_addr": {**p["post_addr"], "detail": STREET}}
    p.update(plain)
    for s in p["sku_order_list"]:
        s.update(copy.deepcopy(plain))
        s["bundle_sku_info"] = [{"code": "B1", "item_num": 1, "receiver_info": {
            "contact": {"name": ALT_NAME, "mobile": ALT_PHONE},
            "address": {"detail_address": STREET, "province_name": "浙江省"}}}]
    p["logistics_info"] = [{"tracking_no": "78" + "1" * 12, "receiver_msg": {
        "name": ALT_NAME, "tel": ALT_PHONE, "addr": '{"detail":"' + STREET + '"}'}}]
    return p


def _stored_text(app) -> str:
    with app.engine.connect() as c:
        rows = c.execute(text("select * from orders")).all()
        rows += c.execute(text("select * from push_inbox")).all()
    return " ".join(str(v) for row in rows for v in row)


def _file_bytes(app) -> bytes:
    """What SQLite holds on disk (the database file and its write-ahead log)."""
    path = app.settings.sqlite_path
    return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal"))
                    if p.exists())


SECRETS = (NAME, PHONE, STREET, ALT_NAME, ALT_PHONE)


def test_plain_receiver_nested_anywhere_is_not_stored_in_raw(fahuo_any_db, make_order):
    app = fahuo_any_db
    ref = _shop(app)
    oid = "6919999999999999222"
    payload = _plain_everywhere(make_order(oid, 1_700_000_000, lines=2))
    with app.uow() as uow:
        store_platform_orders(uow, ref, [payload])
    dump = _stored_text(app)
    for s in SECRETS:
        assert s not in dump, s
    if app.engine.dialect.name == "sqlite":
        on_disk = _file_bytes(app)
        for s in SECRETS:
            assert s.encode() not in on_disk, s
    with app.uow() as uow:
        raw = uow.orders.get(oid)["raw"]
    # What is not the receiver is kept: masks and ciphertexts for the console and waybills,
    # region names, product data.
    for kept in ("张*", "138****5678", "##E3ZGV0YWls#1##", "浙江省", "TEE-RED-1", "B1",
                 "78" + "1" * 12):
        assert kept in raw, kept
    # The top-level plain receiver is still there for a plain label, encrypted.
    with app.uow() as uow:
        enc = uow.conn.execute(text("select receiver_plain_enc from orders")).scalar()
    assert NAME in app.box.decrypt(enc) and PHONE in app.box.decrypt(enc)


def test_receiver_in_a_push_is_not_stored_at_any_depth(fahuo):
    import json
    app = fahuo
    _shop(app)
    data = {"p_id": "6919999999999999333", "shop_id": 1001, "update_time": 1_700_000_000,
            "receiver_msg": {"name": NAME, "tel": PHONE, "addr": STREET},
            "extra": [{"post_receiver_msg": {"name": ALT_NAME, "tel": ALT_PHONE}},
                      {"buyer": {"post_tel": ALT_PHONE, "detail": STREET}}]}
    body = json.dumps([{"tag": "105", "msg_id": "m-1",
                        "data": json.dumps(data, ensure_ascii=False)}],
                      ensure_ascii=False).encode()
    secret = "push-secret"
    sign = push_signature("3409409348479354011", secret, body)
    with app.uow() as uow:
        accept_push(uow, body, "3409409348479354011", sign, {"3409409348479354011": secret})
    dump = _stored_text(app)
    assert "6919999999999999333" in dump
    for s in SECRETS:
        assert s not in dump, s
