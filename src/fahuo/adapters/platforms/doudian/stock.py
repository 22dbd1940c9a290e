"""Stock and after-sale calls (doudian-open-platform.md §11, §12)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import IDEMPOTENT_EXISTED, IdempotentIdExisted

__all__ = ["IDEMPOTENT_EXISTED", "AfterSalePage", "StockCalls"]


def _id(value: str | int) -> int | str:
    """Product and SKU ids go as numbers (int64 in the official SDK), never as text."""
    text = str(value).strip()
    return int(text) if text.isdigit() else text


@dataclass(frozen=True)
class AfterSalePage:
    items: list[dict[str, Any]] = field(default_factory=list)
    has_more: bool = False
    total: int = 0


class StockCalls:
    """Mixed into DoudianShopApi; needs ``self.session``."""

    session: Any

    def sync_stock(self, product_id: str, sku_id: str, stock_num: int, *,
                   incremental: bool = False, idempotent_id: str | None = None) -> bool:
        """sku.syncStock. Absolute by default. An incremental call needs an idempotent id; a
        repeat of one already applied (``isv.idempotent-id-existed``) counts as done:
        returns False then, True when this call applied it."""
        return self._sync("sku.syncStock", {"product_id": _id(product_id), "sku_id": _id(sku_id),
                                             "stock_num": stock_num}, incremental,
                          idempotent_id)

    def sync_stock_batch(self, product_id: str, skus: list[tuple[str, int]], *,
                         incremental: bool = False, idempotent_id: str | None = None) -> bool:
        """sku.syncStockBatch: several SKUs of one product in one call, all or nothing."""
        return self._sync("sku.syncStockBatch", {
            "product_id": _id(product_id),
            "sku_sync_list": [{"sku_id": _id(s), "sku_type": 0, "stock_num": n} for s, n in skus]},
            incremental, idempotent_id)

    def _sync(self, method: str, params: dict[str, Any], incremental: bool,
              idempotent_id: str | None) -> bool:
        if incremental and not idempotent_id:
            raise ValueError("an incremental stock sync needs an idempotent_id")
        params = {**params, "incremental": incremental}
        if idempotent_id:
            params["idempotent_id"] = idempotent_id
        try:
            self.session.call(method, params)
        except IdempotentIdExisted:
            return False  # applied by an earlier try: done
        return True

    def stock_num(self, sku_id: str) -> dict[str, Any]:
        """sku.stockNum: what the platform holds for one SKU."""
        return self.session.call("sku.stockNum", {"sku_id": _id(sku_id)}) or {}

    def after_sales(self, *, update_start: int, update_end: int, page: int = 0,
                    size: int = 100) -> AfterSalePage:
        """afterSale.List by update time, page from 0, size ≤ 100."""
        if not 1 <= size <= 100:
            raise ValueError(f"afterSale.List size must be 1..100, got {size}")
        data = self.session.call("afterSale.List", {
            "update_start_time": update_start, "update_end_time": update_end,
            "page": page, "size": size, "order_by": ["update_time asc"]}) or {}
        return AfterSalePage(items=list(data.get("items") or []),
                             has_more=bool(data.get("has_more")),
                             total=int(data.get("total") or 0))

    def apply_intercept(self, after_sale_id: str, targets: list[tuple[str, str]]
                        ) -> dict[str, Any]:
        """afterSale.applyLogisticsIntercept for (company_code, tracking_no) parcels."""
        return self.session.call("afterSale.applyLogisticsIntercept", {
            "after_sale_id": int(after_sale_id), "op_from": 1,
            "intercept_targets": [{"company_code": c, "tracking_no": t} for c, t in targets],
        }) or {}
