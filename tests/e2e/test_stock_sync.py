"""What the shop is told it can sell: batched per product, by each SKU's rule, only when it
changed, and one bad SKU does not stop the rest."""

from __future__ import annotations

from collections import defaultdict

from fahuo.domain.stock import Level, SyncRule, pushed_quantity
from fahuo.services.stock import StockLine, move_stock, set_item
from fahuo.services.stock_sync import sync_stock
from support import orders_in_fahuo


def _platform(sandbox, shop_id) -> dict:
    r = sandbox.http.get("/sandbox/stock", params={"shop_id": shop_id})
    assert r.status_code == 200, r.text
    return r.json()


def test_stock_goes_to_the_shop_in_batches_by_rule_and_only_when_changed(fahuo, sandbox):
    ref, creds = orders_in_fahuo(fahuo, sandbox, 40, seed=17, run=False)
    with fahuo.uow() as uow:
        _, rows = uow.orders.search(shop_ref=ref, limit=100)
        loaded = uow.pipeline.load_orders([r["order_id"] for r in rows])
    sold: dict[str, set[tuple[str, str]]] = defaultdict(set)  # code → (product, sku)
    paid: dict[str, int] = defaultdict(int)  # units bought and not shipped: already gone
    for _, _, o in loaded.values():
        for s in o.sub_orders:
            sold[s.merchant_code].add((s.product_id, s.sku_id))
            if o.order_status in (2, 105) and not (s.after_sale_status == 12
                                                    and s.refund_status == 3):
                paid[s.merchant_code] += s.quantity
    codes = sorted(sold)
    move_stock(fahuo.uow, "receive", [StockLine(c, 40) for c in codes], actor="t")
    set_item(fahuo.uow, codes[0], safety=10, sync_rule={"percent": 50}, actor="t")
    products = {p for pairs in sold.values() for p, _ in pairs}
    skus = {k for pairs in sold.values() for k in pairs}
    assert len(skus) > len(products)  # some product sells several SKUs: a batch must fit
    assert sum(paid.values()) > 0  # orders waiting for audit hold units the shop must not resell

    rep = sync_stock(fahuo.uow, fahuo.platform_for, full=True)
    assert not rep.failed and rep.skus == len(skus)
    assert rep.calls == len(products)  # one call per product, never one per SKU
    plat = {s["sku_id"]: s for s in _platform(sandbox, creds["shop_id"])["skus"]}
    for code, pairs in sold.items():
        rule = SyncRule(percent=50) if code == codes[0] else SyncRule()
        want = pushed_quantity(Level(40, min(40, paid[code]), 0, 10 if code == codes[0]
                                     else 0), rule)
        for _, sku in pairs:
            assert plat[sku]["stock_num"] == want, code
    # (40 − sold − 10 safety) × 50 %
    assert plat[next(iter(sold[codes[0]]))[1]]["stock_num"] == max(0, 30 - paid[codes[0]]) // 2

    assert sync_stock(fahuo.uow, fahuo.platform_for).calls == 0  # nothing changed
    move_stock(fahuo.uow, "adjust", [StockLine(codes[1], -7)], actor="t")
    again = sync_stock(fahuo.uow, fahuo.platform_for)
    assert again.calls == 1 and again.skus == len(sold[codes[1]])
    assert {s["sku_id"]: s["stock_num"] for s in _platform(sandbox, creds["shop_id"])["skus"]}[
        next(iter(sold[codes[1]]))[1]] == max(0, 33 - paid[codes[1]])


def test_one_bad_sku_does_not_stop_the_rest_of_its_product(fahuo, sandbox):
    ref, creds = orders_in_fahuo(fahuo, sandbox, 40, seed=18, run=False)
    with fahuo.uow() as uow:
        _, rows = uow.orders.search(shop_ref=ref, limit=100)
        loaded = uow.pipeline.load_orders([r["order_id"] for r in rows])
    lines = [s for _, _, o in loaded.values() for s in o.sub_orders]
    code = lines[0].merchant_code
    paid = sum(s.quantity for _, _, o in loaded.values() for s in o.sub_orders
               if s.merchant_code == code and o.order_status in (2, 105)
               and not (s.after_sale_status == 12 and s.refund_status == 3))
    move_stock(fahuo.uow, "receive", [StockLine(c, 20) for c in {s.merchant_code for s in lines}],
               actor="t")
    sync_stock(fahuo.uow, fahuo.platform_for, full=True)
    # a SKU the platform no longer knows, mapped under the same product as a real one
    with fahuo.uow() as uow:
        uow.stock.upsert_shop_skus([{"shop_ref": ref, "sku_id": "1799999999999999999",
                                     "product_id": lines[0].product_id, "sku_code": code}])
    move_stock(fahuo.uow, "adjust", [StockLine(code, 5)], actor="t")
    rep = sync_stock(fahuo.uow, fahuo.platform_for)
    assert list(rep.failed) == [f"{ref}/1799999999999999999"]
    plat = {s["sku_id"]: s["stock_num"] for s in _platform(sandbox, creds["shop_id"])["skus"]}
    assert plat[lines[0].sku_id] == max(0, 25 - paid)  # the real SKU got its new figure
