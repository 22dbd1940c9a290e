"""The orders workbench's query on SQLite and PostgreSQL: every search key, every filter,
keyset pages with neither gaps nor doubles."""

from __future__ import annotations

import time

import pytest

from fahuo.adapters.store import models as m
from fahuo.domain.order_filter import parse_filter
from fahuo.services.holds import hold_orders
from fahuo.services.orders import store_platform_orders
from fahuo.services.shops import NewShop, add_shop

NOW = int(time.time())
H = 3600


def _order(make_order, oid: str, *, deadline: int | None, paid: int, amount: int,
           province: str = "浙江省", phone: str = "138****5678", name: str = "张*",
           title: str = "纯棉T恤", code: str = "TEE-RED", buyer: str = "", seller: str = "",
           after_sale: int = 0, presale: int = 0, status: int = 2) -> dict:
    p = make_order(oid, NOW - 1000, status=status, buyer_words=buyer)
    p.update(exp_ship_time=deadline, pay_time=paid, pay_amount=amount, order_amount=amount,
             seller_words=seller, mask_post_tel=phone, mask_post_receiver=name)
    p["post_addr"]["province"]["name"] = province
    for s in p["sku_order_list"]:
        s.update(product_name=title, code=code, exp_ship_time=deadline, pre_sale_type=presale)
        s["after_sale_info"]["after_sale_status"] = after_sale
    return p


@pytest.fixture
def world(fahuo_any_db, make_order):
    """Twelve orders in two shops, each a case some filter or search key tells apart."""
    app = fahuo_any_db
    with app.uow() as u:
        a = add_shop(u, NewShop(shop_id="1001", app_key="3409409348479354011", app_secret="s",
                                gateway_url="http://127.0.0.1:1"))
        b = add_shop(u, NewShop(shop_id="1002", app_key="3409409348479354012", app_secret="s",
                                gateway_url="http://127.0.0.1:1"))
    spec = {  # order id → (shop, fields)
        "6900000000000000001": (a, dict(deadline=NOW - 2 * H, paid=NOW - 50 * H, amount=9900,
                                        phone="139****1234", title="碎花连衣裙夏季",
                                        code="DRESS-01")),
        "6900000000000000002": (a, dict(deadline=NOW + 3 * H, paid=NOW - 40 * H, amount=1990,
                                        name="李**", buyer="请发顺丰", province="广东省")),
        "6900000000000000003": (a, dict(deadline=NOW + 12 * H, paid=NOW - 30 * H, amount=5000,
                                        seller="加急客户", code="MUG-9")),
        "6900000000000000004": (a, dict(deadline=NOW + 48 * H, paid=NOW - 20 * H, amount=120000,
                                        presale=1)),
        "6900000000000000005": (b, dict(deadline=NOW + 5 * H, paid=NOW - 10 * H, amount=3000,
                                        after_sale=6)),
        "6900000000000000006": (b, dict(deadline=None, paid=NOW - 5 * H, amount=800)),
    }
    for i in range(7, 13):  # plain ones, to page through
        spec[f"69000000000000000{i:02d}"] = (b, dict(deadline=NOW + (60 + i) * H,
                                                      paid=NOW - i * 100, amount=100 * i))
    with app.uow() as u:
        for shop in (a, b):
            store_platform_orders(u, shop, [_order(make_order, oid, **kw)
                                            for oid, (s, kw) in spec.items() if s == shop])
    # parcels: 0001 zhongtong printed, 0003 yuantong not printed; 0007 shipped (confirmed)
    with app.uow() as u:
        loaded = u.pipeline.load_orders(["6900000000000000001", "6900000000000000003",
                                         "6900000000000000007"])
        ids = []
        for oid, courier, no in (("6900000000000000001", "zhongtong", "ZT7788990011"),
                                 ("6900000000000000003", "yuantong", "YT5500660077"),
                                 ("6900000000000000007", "yuantong", "YT5500660099")):
            order = loaded[oid][2]
            pid = u.pipeline.add_pack({
                "shop_ref": loaded[oid][0], "kind": "whole", "state": "waybill_taken",
                "main_order_id": oid, "platform_pack_id": "", "courier_code": courier,
                "track_no": no, "request_id": f"r-{oid}", "exp_ship_time": order.exp_ship_time},
                [{"order_id": oid, "sku_order_id": s.sku_order_id, "quantity": s.quantity}
                 for s in order.sub_orders])
            u.pipeline.add_waybills([{"courier_code": courier, "track_no": no,
                                      "shop_ref": loaded[oid][0], "pack_id": pid,
                                      "status": "live", "source": "ewaybill"}])
            ids.append(pid)
        batch = u.conn.execute(m.print_batches.insert().values(
            kind="labels", format="pdf", pack_ids=f"[{ids[0]}]", selection_key="t",
            fingerprint="f", file_name="x.pdf", created_by="t", created_at=NOW)
        ).inserted_primary_key[0]
        u.conn.execute(m.print_records.insert().values(
            batch_id=batch, pack_id=ids[0], kind="labels", printed_by="t", printed_at=NOW))
        u.conn.execute(m.orders.update().where(
            m.orders.c.order_id == "6900000000000000007").values(state="shipped"))
    hold_orders(app.uow, ["6900000000000000002"], "等买家确认颜色", actor="t")
    return app, a, b


def found(app, **params) -> list[str]:
    f = parse_filter({k: str(v) for k, v in params.items()})
    with app.uow() as u:
        total = u.workbench.count(f, NOW)
        rows = u.workbench.page(f, NOW, limit=100).rows
    ids = [r["order_id"][-2:] for r in rows]
    assert total == len(ids)
    return ids


@pytest.mark.parametrize("query,expect", [
    ("6900000000000000003", ["03"]),          # order id
    ("6900000000000000004", ["04"]),          # its only sub-order id is the order id
    ("6900000000000000006", ["06"]),
    ("ZT7788990011", ["01"]),                 # tracking number (waybills)
    ("zt77889", ["01"]),                      # its start, any case
    ("yt55006600", ["03", "07"]),
    ("1234", ["01"]),                         # the buyer's phone tail, from the mask
    ("李", ["02"]),                           # the masked receiver name
    ("DRESS-01", ["01"]),                     # merchant code
    ("mug", ["03"]),
    ("1700000000000", sorted(f"{i:02d}" for i in range(1, 13))),  # the SKU id (all share it)
    ("连衣裙", ["01"]),                        # title words (bigrams)
    ("夏季 碎花", ["01"]),                     # two words, both must match
    ("顺丰", ["02"]),                          # buyer remark
    ("加急", ["03"]),                          # seller remark
    ("连衣裙 顺丰", []),
    ("138****0000", []),
])
def test_search_finds_an_order_by_every_key(world, query, expect):
    app, _, _ = world
    assert sorted(found(app, q=query)) == expect


def test_search_never_indexes_plain_receiver_data(world):
    app, _, _ = world
    with app.engine.connect() as c:
        terms = {r[0] for r in c.execute(m.order_search.select())}
    assert "5678" in terms and "1234" in terms  # phone tails, as masked
    assert not any(t.startswith("138") or t.startswith("139") for t in terms)


def test_each_filter(world):
    app, a, b = world
    everything = [f"{i:02d}" for i in range(1, 13)]
    assert sorted(found(app)) == everything
    assert sorted(found(app, shop=a)) == ["01", "02", "03", "04"]
    assert sorted(found(app, state="held")) == ["02"]
    assert sorted(found(app, hold="manual")) == ["02"]
    assert sorted(found(app, courier="圆通")) == ["03", "07"]
    assert sorted(found(app, courier="zhongtong")) == ["01"]
    assert sorted(found(app, printed="yes")) == ["01"]
    assert sorted(found(app, printed="no")) == [x for x in everything if x != "01"]
    assert sorted(found(app, confirmed="yes")) == ["07"]
    assert "07" not in found(app, confirmed="no")
    assert sorted(found(app, due="overdue")) == ["01"]
    assert sorted(found(app, due="6h")) == ["02", "05"]
    assert sorted(found(app, due="24h")) == ["02", "03", "05"]
    # later: 48 h and beyond, and no deadline at all; 0007 is shipped, so not waiting
    assert sorted(found(app, due="later")) == ["04", "06"] + [f"{i:02d}" for i in range(8, 13)]
    assert sorted(found(app, amount_min="50", amount_max="99")) == ["01", "03"]
    assert sorted(found(app, amount_min="1000")) == ["04"]
    assert sorted(found(app, province="广东")) == ["02"]
    assert sorted(found(app, aftersale="open")) == ["05"]
    assert "05" not in found(app, aftersale="none")
    assert sorted(found(app, presale="yes")) == ["04"]
    # paid between 45 h and 15 h ago: 0002 (40 h), 0003 (30 h), 0004 (20 h)
    from fahuo.domain.clock import shop_time
    fmt = "%Y-%m-%dT%H:%M"
    assert sorted(found(app, paid_from=shop_time(NOW - 45 * H, fmt),
                        paid_to=shop_time(NOW - 15 * H, fmt))) == ["02", "03", "04"]
    # combined: shop b, not yet sent, due within 24 h
    assert found(app, shop=b, due="24h") == ["05"]


@pytest.mark.parametrize("sort", ["deadline", "paid", "amount"])
def test_keyset_pages_have_no_gap_nor_double(world, sort):
    app, _, _ = world
    f = parse_filter({"sort": sort})
    with app.uow() as u:
        whole = [r["order_id"] for r in u.workbench.page(f, NOW, limit=100).rows]
        seen, after, backs = [], None, []
        while True:
            page = u.workbench.page(f, NOW, after=after, limit=5)
            assert page.total == 12
            seen += [r["order_id"] for r in page.rows]
            backs.append((page.prev, [r["order_id"] for r in page.rows]))
            if page.next is None:
                break
            after = page.next
        # and back again from the last page: each previous page is the one we saw
        for (prev, _), (_, rows_before) in zip(backs[1:][::-1], backs[:-1][::-1]):
            assert [r["order_id"] for r in u.workbench.page(f, NOW, before=prev,
                                                             limit=5).rows] == rows_before
    assert seen == whole and len(set(seen)) == 12
    key = {"deadline": "exp_ship_time", "paid": "pay_time", "amount": "pay_amount"}[sort]
    with app.uow() as u:
        values = [u.orders.get(i)[key] for i in whole]
    if sort == "deadline":  # soonest first, no deadline last
        assert values[-1] is None and values[:-1] == sorted(values[:-1])
    else:
        assert values == sorted(values, reverse=True)


def test_a_new_version_rewrites_the_terms(world, make_order):
    app, a, _ = world
    with app.uow() as u:
        store_platform_orders(u, a, [_order(make_order, "6900000000000000003", deadline=NOW,
                                            paid=NOW, amount=1, seller="改成慢递")])
    assert found(app, q="加急") == []
    assert found(app, q="慢递") == ["03"]
    assert found(app, q="YT5500660077") == ["03"]  # its tracking number stays
