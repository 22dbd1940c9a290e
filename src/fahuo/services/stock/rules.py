"""What a code tells the shops: safety stock, sync rule, oversell and name, of a SKU code or a
bundle code."""

from __future__ import annotations

import time
from typing import Any, TYPE_CHECKING

from fahuo.domain.stock import StockError, SyncRule
from fahuo.services.ports import UowFactory
from fahuo.services.stock.bundles import parts_text
from fahuo.services.stock.lines import MAX_QUANTITY, WAREHOUSE, StockInputError
from fahuo.services.stock.moves import did_you_mean, suggestions

if TYPE_CHECKING:
    from fahuo.adapters.store.unit_of_work import UnitOfWork


def set_item(uow: UowFactory, sku_code: str, *, warehouse: str = WAREHOUSE, actor: str,
             safety: int | None = None, sync_rule: dict | None = None,
             name: str | None = None, oversell: bool | None = None) -> dict:
    """Safety stock, name, sync rule and oversell flag of a SKU code or a bundle code.
    ``sync_rule`` changes only the fields it names (``{"maximum": None}`` clears the
    maximum); the rest stay as they are."""
    import orjson
    problems = []
    if safety is not None and (isinstance(safety, bool) or not isinstance(safety, int)
                               or not 0 <= safety <= MAX_QUANTITY):
        problems.append(f"安全库存必须是 0 到 {MAX_QUANTITY} 的整数，收到 {safety!r}")
    if oversell is not None and not isinstance(oversell, bool):
        problems.append(f"允许超卖（oversell）只能是 true 或 false，收到 {oversell!r}")
    if sync_rule is not None and not isinstance(sync_rule, dict):
        problems.append("同步规则必须是 {percent, add, minimum, maximum} 这样的对象")
    if problems:
        raise StockInputError(problems)
    code = sku_code.strip()
    with uow() as u:
        bundles = u.stock.bundles()
        if code in bundles:
            return _set_bundle_rule(u, code, bundles[code], actor=actor, safety=safety,
                                    sync_rule=sync_rule, name=name, oversell=oversell)
        items = u.stock.items([code], warehouse)
        if (code, warehouse) not in items:
            near = suggestions(code, [k[0] for k in u.stock.items()] + list(bundles))
            raise StockInputError([f"未知编码 {code}" + (
                f"，{did_you_mean(near, u.stock.code_names(near))}" if near else
                "（先入库或盘点，或定义为组套）")])
        row = items[(code, warehouse)]
        values: dict[str, Any] = {}
        if safety is not None:
            values["safety"] = safety
        if sync_rule is not None:
            values["sync_rule"] = _merged_rule(row["sync_rule"], sync_rule)
        if name is not None:
            values["name"] = name
        if oversell is not None:
            values["oversell"] = oversell
        u.stock.set_item(row["id"], **values, dirty_at=int(time.time()))
        u.audit.add(actor=actor, action="stock.item", subject_type="stock", subject_id=code,
                    detail=values)
        out = u.stock.items([code], warehouse)[(code, warehouse)]
        return {**out, "sync_rule": orjson.loads(out["sync_rule"]), "bundle": False}


def _merged_rule(stored: str | None, change: dict) -> str:
    import orjson
    try:
        merged = SyncRule.from_dict({**orjson.loads(stored or "{}"), **change})
    except StockError as exc:
        raise StockInputError([f"同步规则：{exc}"]) from exc
    return orjson.dumps(merged.to_dict()).decode()


def _set_bundle_rule(u: UnitOfWork, code: str, parts: dict[str, int], *, actor: str,
                     safety: int | None, sync_rule: dict | None, name: str | None,
                     oversell: bool | None) -> dict:
    import orjson
    if safety is not None or name is not None:
        raise StockInputError([f"{code} 是组套（{parts_text(parts)}）：库存和安全库存都记在"
                               "部件上，组套只有同步规则和是否允许超卖"])
    row = u.stock.bundle_settings([code]).get(code) or {}
    values: dict[str, Any] = {}
    if sync_rule is not None:
        values["sync_rule"] = _merged_rule(row.get("sync_rule"), sync_rule)
    if oversell is not None:
        values["oversell"] = oversell
    u.stock.set_bundle_settings(code, **values, dirty_at=int(time.time()))
    u.audit.add(actor=actor, action="stock.bundle_rule", subject_type="stock",
                subject_id=code, detail=values)
    row = u.stock.bundle_settings([code])[code]
    return {"sku_code": code, "bundle": True, "parts": parts,
            "sync_rule": orjson.loads(row["sync_rule"]), "oversell": row["oversell"]}


__all__ = ["set_item"]
