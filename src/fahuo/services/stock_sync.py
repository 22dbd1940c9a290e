"""Tell the shops what they can sell: available − safety stock, per each SKU's rule.

A bundle (组套) is sold under its own SKU: the shop is told what its parts can make
(``domain.stock.bundle_sellable``), by the bundle's own rule, in the same batches as plain
SKUs. Its stock is its parts': a part's move marks the part, and every bundle using a marked
part is pushed with it (the bundle's own mark covers a new rule or new parts).

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
from typing import Any, TYPE_CHECKING

import orjson
import structlog

from fahuo.adapters.platforms.doudian.errors import DoudianError
from fahuo.domain.stock import Level, SyncRule, advertised, bundle_sellable, expand, sellable
from fahuo.services.ports import PlatformFactory, UowFactory
from fahuo.services.stock.lines import WAREHOUSE

if TYPE_CHECKING:
    from fahuo.adapters.store.unit_of_work import UnitOfWork

log = structlog.get_logger(__name__)


@dataclass
class SyncReport:
    items: int = 0
    bundles: int = 0
    skus: int = 0
    calls: int = 0
    unchanged: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # "shop/sku" → platform's words

    def as_dict(self) -> dict[str, Any]:
        return {"items": self.items, "bundles": self.bundles, "skus": self.skus,
                "calls": self.calls,
                "unchanged": self.unchanged, "failed": self.failed}


def learn_shop_skus(u: UnitOfWork, codes: set[str] | None = None) -> int:
    """Map platform SKUs to managed stock codes and bundle codes (or just these) from the
    order lines seen so far."""
    if codes is None:
        codes = {k[0] for k in u.stock.items(warehouse=WAREHOUSE)} | set(u.stock.bundles())
    if not codes:
        return 0
    rows = {(r["shop_ref"], r["sku_id"]): r for r in u.stock.skus_sold_as(codes)}
    u.stock.upsert_shop_skus(list(rows.values()))
    return len(rows)


def _promised(it: dict[str, Any], sold: dict[str, int]) -> Level:
    """An item's level with units sold but not reserved yet counted as taken."""
    return Level(it["on_hand"], min(it["on_hand"], it["reserved"] + sold.get(it["sku_code"], 0)),
                 it["damaged"], it["safety"])


def _rule(row: dict[str, Any] | None) -> tuple[SyncRule, bool]:
    row = row or {}
    return SyncRule.from_dict(orjson.loads(row.get("sync_rule") or "{}")), bool(
        row.get("oversell"))


@dataclass
class Quantities:
    """What each code is worth to the shop now: plain items and bundles, by their rules."""

    items: dict[str, dict[str, Any]]  # code → stock item row (plain SKUs and bundle parts)
    bundles: dict[str, dict[str, int]]  # every bundle → its parts
    settings: dict[str, dict[str, Any]]  # bundle → its own rule row
    sold: dict[str, int]  # units sold, not reserved yet, per part

    @classmethod
    def read(cls, u: UnitOfWork, codes: set[str] | None = None) -> Quantities:
        """For these codes (plain or bundle; None: all)."""
        bundles = u.stock.bundles()
        want = None if codes is None else codes | {
            p for b in codes & set(bundles) for p in bundles[b]}
        items = {k[0]: v for k, v in u.stock.items(want, WAREHOUSE).items()}
        return cls(items, bundles, u.stock.bundle_settings(
            None if codes is None else codes & set(bundles)),
            expand(u.stock.unreserved_demand().items(), bundles))

    def sellable(self, code: str) -> int | None:
        """Units (bundles) that can be sold without touching safety stock; None: not kept."""
        if code in self.bundles:
            return bundle_sellable(self.bundles[code], {
                p: _promised(self.items[p], self.sold) for p in self.bundles[code]
                if p in self.items})
        it = self.items.get(code)
        return None if it is None else sellable(_promised(it, self.sold))

    def pushed(self, code: str) -> int | None:
        can = self.sellable(code)
        if can is None:
            return None
        rule, oversell = _rule(self.settings.get(code) if code in self.bundles
                               else self.items[code])
        return advertised(can, rule, oversell)


def bundle_levels(u: UnitOfWork) -> list[dict[str, Any]]:
    """Every bundle with its parts, what they can make, what the shop is told and its rule;
    ``dirty``: waiting to be pushed (its own change or a part's move)."""
    q = Quantities.read(u)
    out = []
    for code in sorted(q.bundles):
        rule, oversell = _rule(q.settings.get(code))
        parts = q.bundles[code]
        out.append({"bundle_code": code, "parts": parts,
                    "missing_parts": sorted(p for p in parts if p not in q.items),
                    "sellable": q.sellable(code), "pushed": q.pushed(code),
                    "sync_rule": rule.to_dict(), "oversell": oversell,
                    "dirty": bool((q.settings.get(code) or {}).get("dirty_at")) or any(
                        q.items[p]["dirty_at"] for p in parts if p in q.items)})
    return out


def sync_stock(uow: UowFactory, platform_for: PlatformFactory, *, full: bool = False
               ) -> SyncReport:
    r = SyncReport()
    started = int(time.time())
    with uow() as u:
        # Which platform SKU sells which code: learnt on full passes (the query reads every
        # order line), and on a first pass before anything is known.
        if full or not u.stock.shop_skus():
            learn_shop_skus(u)
        bundles = u.stock.bundles()
        if full:
            items = list(u.stock.items(warehouse=WAREHOUSE).values())
            todo = {i["sku_code"] for i in items} | set(bundles)
        else:
            items = [i for i in u.stock.dirty() if i["warehouse"] == WAREHOUSE]
            moved = {i["sku_code"] for i in items}
            changed = {b for b, row in u.stock.bundle_settings(bundles).items()
                       if row["dirty_at"]}
            todo = moved | {b for b, parts in bundles.items() if moved & set(parts)} | changed
            if changed:  # a bundle just defined sells under SKUs not mapped yet
                learn_shop_skus(u, changed)
        q = Quantities.read(u, todo)
        targets = u.stock.shop_skus(todo)
        shops = {s.id: s for s in u.shops.list(enabled_only=True)}
    marked = sorted(b for b in todo if b in bundles)
    r.items, r.bundles = len(items), len(marked)
    want: dict[tuple[int, str], list[tuple[str, int, int | None]]] = defaultdict(list)
    for t in targets:
        if t["shop_ref"] not in shops:
            continue
        qty = q.pushed(t["sku_code"])
        if qty is None:  # a bundle none of whose parts fahuo keeps
            continue
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
            u.stock.clear_bundles_dirty(marked, started)
    return r


__all__ = ["Quantities", "SyncReport", "bundle_levels", "learn_shop_skus", "sync_stock"]
