"""Tell the shops what they can sell: available − safety stock, per each SKU's rule.

Which platform SKU sells which stock item is learnt from orders (product id, SKU id and the
merchant code on every order line). Changed items are pushed on the next pass (a change marks
the item; passes run every minute, so bursts of changes become one push) and a full pass
re-sends everything now and then (and learns new SKUs). Several SKUs of one product go in one
``sku.syncStockBatch``; a lone SKU uses ``sku.syncStock``. Quantities are absolute, so a
repeated push is harmless. A batch the platform refuses as a whole is retried SKU by SKU so
one bad SKU does not stop the rest, and is named.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog
from sqlalchemy import select

from fahuo.adapters.platforms.doudian.errors import DoudianError
from fahuo.adapters.store import models as m
from fahuo.adapters.store.unit_of_work import UnitOfWork
from fahuo.domain.stock import Level, SyncRule, expand, pushed_quantity
from fahuo.services.ports import PlatformFactory, UowFactory
from fahuo.services.stock import WAREHOUSE

log = structlog.get_logger(__name__)


@dataclass
class SyncReport:
    items: int = 0
    skus: int = 0
    calls: int = 0
    unchanged: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # "shop/sku" → platform's words

    def as_dict(self) -> dict[str, Any]:
        return {"items": self.items, "skus": self.skus, "calls": self.calls,
                "unchanged": self.unchanged, "failed": self.failed}


def learn_shop_skus(u: UnitOfWork) -> int:
    """Map platform SKUs to managed stock codes from the order lines seen so far."""
    codes = {k[0] for k in u.stock.items(warehouse=WAREHOUSE)}
    if not codes:
        return 0
    s, o = m.sub_orders, m.orders
    rows = {(r.shop_ref, str(r.sku_id)): {"shop_ref": r.shop_ref, "sku_id": str(r.sku_id),
                                         "product_id": str(r.product_id),
                                         "sku_code": r.merchant_code}
            for r in u.conn.execute(
                select(o.c.shop_ref, s.c.sku_id, s.c.product_id, s.c.merchant_code).distinct()
                .select_from(s.join(o, o.c.order_id == s.c.order_id))
                .where(s.c.merchant_code.in_(sorted(codes)), s.c.sku_id != ""))}
    u.stock.upsert_shop_skus(list(rows.values()))
    return len(rows)


def sync_stock(uow: UowFactory, platform_for: PlatformFactory, *, full: bool = False
               ) -> SyncReport:
    r = SyncReport()
    started = int(time.time())
    with uow() as u:
        # Which platform SKU sells which code: learnt on full passes (the query reads every
        # order line), and on a first pass before anything is known.
        if full or not u.stock.shop_skus():
            learn_shop_skus(u)
        items = (list(u.stock.items(warehouse=WAREHOUSE).values()) if full
                 else [i for i in u.stock.dirty() if i["warehouse"] == WAREHOUSE])
        by_code = {i["sku_code"]: i for i in items}
        targets = u.stock.shop_skus(by_code)
        shops = {s.id: s for s in u.shops.list(enabled_only=True)}
        # Sold but not reserved yet (orders waiting for audit or held): already gone.
        sold = expand(u.stock.unreserved_demand().items(), u.stock.bundles())
    r.items = len(items)
    want: dict[tuple[int, str], list[tuple[str, int, int | None]]] = defaultdict(list)
    for t in targets:
        if t["shop_ref"] not in shops:
            continue
        it = by_code[t["sku_code"]]
        promised = min(it["on_hand"], it["reserved"] + sold.get(t["sku_code"], 0))
        qty = pushed_quantity(Level(it["on_hand"], promised, it["damaged"], it["safety"]),
                              SyncRule.from_dict(orjson.loads(it["sync_rule"] or "{}")))
        if not full and t["last_pushed"] == qty:
            r.unchanged += 1
            continue
        want[(t["shop_ref"], t["product_id"])].append((t["sku_id"], qty, t["last_pushed"]))
    pushed: list[tuple[int, str, int]] = []
    for (shop_ref, product_id), skus in want.items():
        api = platform_for(shops[shop_ref])
        r.skus += len(skus)
        if len(skus) > 1:
            r.calls += 1
            try:
                api.sync_stock_batch(product_id, [(s, q) for s, q, _ in skus])
                pushed += [(shop_ref, s, q) for s, q, _ in skus]
                continue
            except DoudianError as exc:
                log.warning("stock.batch_refused", product_id=product_id, error=str(exc))
        for sku_id, qty, _ in skus:  # one at a time: find the bad one, push the rest
            r.calls += 1
            try:
                api.sync_stock(product_id, sku_id, qty)
                pushed.append((shop_ref, sku_id, qty))
            except DoudianError as exc:
                r.failed[f"{shop_ref}/{sku_id}"] = str(exc)
    with uow() as u:
        u.stock.mark_pushed(pushed, started)
        if not r.failed:
            u.stock.clear_dirty([i["id"] for i in items], started)
    return r


__all__ = ["SyncReport", "learn_shop_skus", "sync_stock"]
