"""Bundles (组套): a code sold as one that ships as its parts."""

from __future__ import annotations

import re
from collections.abc import Iterable

from fahuo.services.ports import UowFactory
from fahuo.services.stock.lines import StockInputError, read_quantity


def parts_text(parts: dict[str, int]) -> str:
    """2×CUP-A + 1×LID"""
    return " + ".join(f"{q}×{c}" for c, q in parts.items())


def parse_parts(items: Iterable[str]) -> dict[str, int]:
    """Parts typed by a person: ``CODE=QTY`` each, or several in one text separated by
    commas, spaces or 、 (``CUP-A=2, LID=1``)."""
    parts: dict[str, int] = {}
    problems = []
    for text in items:
        for it in re.split(r"[,，、;；\s]+", text.strip()):
            if not it:
                continue
            code, sep, qty = it.replace("＝", "=").partition("=")
            try:
                q = read_quantity(qty) if sep and code else None
            except ValueError as exc:
                problems.append(f"部件 {code}：{exc}")
                continue
            if q is None:
                problems.append(f"“{it[:40]}”：请写成 编码=每套数量，如 CUP-A=2")
            elif code in parts:
                problems.append(f"部件 {code} 写了两次")
            else:
                parts[code] = q
    if problems:
        raise StockInputError(problems)
    return parts


def set_bundle(uow: UowFactory, bundle_code: str, parts: dict[str, int], *, actor: str) -> dict:
    """A bundle (组套) sold under one code ships as its parts: stock is kept for the parts,
    and the shop is told how many bundles they can make."""
    problems = []
    code = bundle_code.strip()
    if not code:
        problems.append("组套编码为空")
    if not parts:
        problems.append("组套至少要有一个部件（写成 编码=数量，如 CUP-A=2）")
    for part, q in parts.items():
        if not part.strip() or part.strip() == code:
            problems.append(f"部件 {part!r}：部件要有自己的编码（不能是组套本身）")
        if isinstance(q, bool) or not isinstance(q, int) or not 0 < q <= 10_000:
            problems.append(f"部件 {part}：每套数量必须是 1 到 10000 的整数，收到 {q!r}")
    if problems:
        raise StockInputError(problems)
    parts = {p.strip(): q for p, q in parts.items()}
    with uow() as u:
        nested = sorted(set(parts) & set(u.stock.bundles()))
        if nested:
            raise StockInputError([f"部件 {c} 本身是组套：请直接写它的部件" for c in nested])
        kept = [r for r in u.stock.items([code]).values() if r["on_hand"] or r["reserved"]]
        if kept:
            raise StockInputError([f"{code} 已有库存（{r['warehouse']} 仓实物 {r['on_hand']}，"
                                   f"占用 {r['reserved']}）：组套的库存记在部件上，先把它盘点"
                                   "为 0 再定义为组套" for r in kept])
        u.stock.set_bundle(code, parts)
        u.audit.add(actor=actor, action="stock.bundle", subject_type="stock",
                    subject_id=code, detail={"parts": parts})
    return {"bundle_code": code, "parts": parts}


__all__ = ["parse_parts", "parts_text", "set_bundle"]
