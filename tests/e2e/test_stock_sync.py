"""What the shop is told it can sell: batched per product, by each SKU's rule, only when it
changed, and one bad SKU does not stop the rest."""

from __future__ import annotations

from collections import defaultdict

from fahuo.domain.stock import Level, SyncRule, pushed_quantity
from fahuo.services.stock.bundles import set_bundle
from fahuo.services.stock.lines import StockLine
from fahuo.services.stock.moves import move_stock
from fahuo.services.stock.rules import set_item
from fahuo.services.stock_sync import sync_stock
from support import orders_in_fahuo


def _platform(sandbox, shop_id) -> dict:
    r = sandbox.http.get("/sandbox/stock", params={"shop_id": shop_id})
    assert r.status_code == 200, r.text
    return r.json()


def test_stock_goes_to_the_shop_in_batches_by_rule_and_only_when_changed(fahuo, sandbox):
    ref, creds = orders_in_fahuo(fahuo, sandbox, 40, seed=17, run=False)
    sold, paid = _sold_and_paid(fahuo, ref)
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


def _sold_and_paid(fahuo, ref):
    """code → {(product, sku)} sold, and code → units paid and not shipped (already gone)."""
    with fahuo.uow() as uow:
        _, rows = uow.orders.search(shop_ref=ref, limit=100)
        loaded = uow.pipeline.load_orders([r["order_id"] for r in rows])
    sold: dict[str, set[tuple[str, str]]] = defaultdict(set)
    paid: dict[str, int] = defaultdict(int)
    for _, _, o in loaded.values():
        for s in o.sub_orders:
            sold[s.merchant_code].add((s.product_id, s.sku_id))
            if o.order_status in (2, 105) and not (s.after_sale_status == 12
                                                    and s.refund_status == 3):
                paid[s.merchant_code] += s.quantity
    return sold, paid


def test_a_bundle_is_pushed_as_what_its_parts_can_make_in_the_same_batches(fahuo, sandbox):
    ref, creds = orders_in_fahuo(fahuo, sandbox, 40, seed=17, run=False)
    sold, paid = _sold_and_paid(fahuo, ref)
    by_product: dict[str, set[str]] = defaultdict(set)
    for code, pairs in sold.items():
        for p, _ in pairs:
            by_product[p].add(code)
    # a code whose product sells other codes too: the bundle must share their batch
    bundle = next(c for c in sorted(sold) if len(sold[c]) == 1
                  and len(by_product[next(iter(sold[c]))[0]]) > 1)
    (_, bundle_sku), = sold[bundle]
    plain = sorted(set(sold) - {bundle})
    move_stock(fahuo.uow, "receive", [StockLine(c, 40) for c in plain], actor="t")
    assert not sync_stock(fahuo.uow, fahuo.platform_for, full=True).failed
    # the shop sells the bundle as one SKU; the warehouse keeps cups and lids
    set_bundle(fahuo.uow, bundle, {"CUP-A": 2, "LID": 1}, actor="t")
    # units paid for bundles already belong to those orders: 2 cups and 1 lid each
    move_stock(fahuo.uow, "receive",
               [StockLine("CUP-A", 2 * paid[bundle] + 7, new=True),
                StockLine("LID", paid[bundle] + 10, new=True)], actor="t")
    set_item(fahuo.uow, "CUP-A", safety=1, actor="t")
    assert {s["sku_id"]: s["stock_num"] for s in _platform(sandbox, creds["shop_id"])["skus"]
            }[bundle_sku] > 3  # before any push the platform sells what it likes
    # the next minute's pass: the new bundle is mapped to its SKU and pushed, alone
    first = sync_stock(fahuo.uow, fahuo.platform_for)
    assert (first.bundles, first.skus, first.calls, first.failed) == (1, 1, 1, {})

    rep = sync_stock(fahuo.uow, fahuo.platform_for, full=True)
    products = {p for pairs in sold.values() for p, _ in pairs}
    assert not rep.failed and rep.calls == len(products)  # one call per product, bundle inside
    plat = {s["sku_id"]: s["stock_num"] for s in _platform(sandbox, creds["shop_id"])["skus"]}
    # cups: 7 free − 1 safety = 6 → 3 bundles; lids: 10 free → 10 bundles; the fewest wins
    assert plat[bundle_sku] == 3
    for code in plain:  # the plain SKUs of the same batches got their own figures
        for _, sku in sold[code]:
            assert plat[sku] == max(0, 40 - paid[code]), code

    # a part moves: its bundle is pushed by the next incremental pass, alone
    move_stock(fahuo.uow, "adjust", [StockLine("LID", -8)], actor="t")  # 2 lids left free
    again = sync_stock(fahuo.uow, fahuo.platform_for)
    assert (again.calls, again.skus, again.failed) == (1, 1, {})
    plat = {s["sku_id"]: s["stock_num"] for s in _platform(sandbox, creds["shop_id"])["skus"]}
    assert plat[bundle_sku] == 2
    # the bundle's own rule, as a plain SKU's: a maximum of 1
    set_item(fahuo.uow, bundle, sync_rule={"maximum": 1}, actor="t")
    assert sync_stock(fahuo.uow, fahuo.platform_for).skus == 1
    plat = {s["sku_id"]: s["stock_num"] for s in _platform(sandbox, creds["shop_id"])["skus"]}
    assert plat[bundle_sku] == 1
    assert sync_stock(fahuo.uow, fahuo.platform_for).calls == 0  # nothing changed since


def test_nothing_sellable_is_never_advertised_unless_the_merchant_oversells(fahuo, sandbox):
    ref, creds = orders_in_fahuo(fahuo, sandbox, 40, seed=18, run=False)
    sold, paid = _sold_and_paid(fahuo, ref)
    code = sorted(sold)[0]
    (_, sku), *_ = sorted(sold[code])
    move_stock(fahuo.uow, "receive", [StockLine(code, paid[code] + 4)], actor="t")
    # 4 free, safety 4: nothing sellable; "add 5" and "at least 3" must not invent stock
    set_item(fahuo.uow, code, safety=4, sync_rule={"add": 5, "minimum": 3}, actor="t")
    sync_stock(fahuo.uow, fahuo.platform_for, full=True)
    assert {s["sku_id"]: s["stock_num"] for s in _platform(sandbox, creds["shop_id"])["skus"]
            }[sku] == 0
    set_item(fahuo.uow, code, safety=2, actor="t")  # 2 sellable: add 5 is capped at 2
    sync_stock(fahuo.uow, fahuo.platform_for)
    assert {s["sku_id"]: s["stock_num"] for s in _platform(sandbox, creds["shop_id"])["skus"]
            }[sku] == 2
    set_item(fahuo.uow, code, oversell=True, actor="t")  # the merchant chose it, per SKU
    sync_stock(fahuo.uow, fahuo.platform_for)
    assert {s["sku_id"]: s["stock_num"] for s in _platform(sandbox, creds["shop_id"])["skus"]
            }[sku] == 2 + 5
