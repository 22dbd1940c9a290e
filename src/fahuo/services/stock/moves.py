"""People move stock: receive, count, adjust, damage and returns, many codes at once, all
or nothing; the rule for new codes and the closest known code for a typo."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TYPE_CHECKING

from fahuo.domain.stock import Level, Move, StockError, apply, entry_for
from fahuo.services.ports import UowFactory
from fahuo.services.stock.bundles import parts_text
from fahuo.services.stock.lines import MAX_QUANTITY, StockInputError, StockLine
from fahuo.services.stock.orders import retry_short_in
from fahuo.services.uploads import chunks

if TYPE_CHECKING:
    from fahuo.adapters.store.unit_of_work import UnitOfWork


MOVES_BY_HAND = {m.value for m in (Move.RECEIVE, Move.COUNT, Move.ADJUST, Move.DAMAGE,
                                   Move.RETURN_GOOD, Move.RETURN_DAMAGED)}
CREATES = (Move.RECEIVE, Move.COUNT)  # may start a new code, when it is marked new
RETURNS = (Move.RETURN_GOOD, Move.RETURN_DAMAGED)  # codes the order's lines vouch for
NEW_CODE_HINT = ("若是新商品，请标明新编码（控制台勾选“新编码”，命令行加 --new-code，"
                 "接口在该行写 \"new\": true）")
SUGGEST_MAX = 50
SUGGEST_CODES = 3  # closest known codes offered for an unknown one
NEW_CODE_HINT_FILE = "若是新商品，在该行“新编码”列填“是”"


@dataclass
class Moved:
    levels: list[dict[str, Any]]  # each line's SKU after the move (and after held orders
    # took what arrived)
    released: list[str] = field(default_factory=list)  # held orders the stock went to


def move_stock(uow: UowFactory, move: str, lines: list[StockLine], *, actor: str,
               reason: str = "", ref_type: str = "adjust", ref_id: str = "") -> Moved:
    """Apply one kind of move to many SKUs, all or nothing, in its own transaction."""
    with uow() as u:
        return move_stock_in(u, move, lines, actor=actor, reason=reason, ref_type=ref_type,
                             ref_id=ref_id)


def _label(ln: StockLine, n: int, many: bool) -> str:
    """How a line is named to the merchant: the file's row, else its place in the list."""
    code = ln.sku_code.strip() or "（空编码）"
    return f"第{ln.row}行 {code}" if ln.row else f"第{n}行 {code}" if many else code


def suggest(code: str, known: Iterable[str]) -> str | None:
    match = suggestions(code, known, 1)
    return match[0] if match else None


def suggestions(code: str, known: Iterable[str], n: int = SUGGEST_CODES) -> list[str]:
    """The known codes closest to a typed one, closest first (difflib)."""
    return difflib.get_close_matches(code, sorted(set(known)), n=n, cutoff=0.6)


def did_you_mean(codes: list[str], names: dict[str, str]) -> str:
    """"是不是 CUP-A（白瓷杯）、CUP-B？": each suggestion with its product name when known."""
    return "是不是 " + "、".join(f"{c}（{names[c]}）" if names.get(c) else c
                                 for c in codes) + "？"


def move_stock_in(u: UnitOfWork, move: str, lines: list[StockLine], *, actor: str,
                  reason: str = "", ref_type: str = "adjust", ref_id: str = "",
                  problems: Iterable[tuple[int, str]] = ()) -> Moved:
    """``move_stock`` inside the caller's unit of work. Every problem of every line is found
    in one round (with ``problems`` a file's reading already found, by row) and raised
    before anything is written. A receipt or count creates a code only when it is marked
    new or the shops sell it (it is on order lines); anything else unknown is refused, with
    the closest known code. Stock that arrives goes to orders held for it, deadline first,
    in the same transaction; the levels returned are after that."""
    if move not in MOVES_BY_HAND:
        raise StockInputError([f"操作必须是 {', '.join(sorted(MOVES_BY_HAND))} 之一，收到 "
                               f"{move!r}"])
    mv = Move(move)
    many = len(lines) > 1
    found: list[tuple[int, str]] = list(problems)
    order = {id(ln): (ln.row or n) for n, ln in enumerate(lines, 1)}
    if not lines and not found:
        found.append((0, "没有要处理的行"))
    bundles = u.stock.bundles()
    ok: list[tuple[int, StockLine]] = []
    for n, ln in enumerate(lines, 1):
        at, code = _label(ln, n, many), ln.sku_code.strip()
        if not code:
            found.append((order[id(ln)], f"{at}：商家编码为空"))
        elif isinstance(ln.quantity, bool) or not isinstance(ln.quantity, int):
            found.append((order[id(ln)], f"{at}：数量必须是整数，收到 {ln.quantity!r}"))
        elif not -MAX_QUANTITY <= ln.quantity <= MAX_QUANTITY:
            found.append((order[id(ln)], f"{at}：数量 {ln.quantity} 超出范围（一行最多 "
                                         f"±{MAX_QUANTITY} 件）"))
        elif code in bundles:
            found.append((order[id(ln)], f"{at}：这是组套，库存记在部件上（{parts_text(bundles[code])}），"
                                         "请对部件入库或盘点"))
        else:
            ok.append((n, ln))
    codes = sorted({ln.sku_code.strip() for _, ln in ok})
    items = _items(u, codes)
    unknown = [(n, ln) for n, ln in ok if (ln.sku_code.strip(), ln.warehouse) not in items]
    if unknown:
        sold = u.stock.sold_codes({ln.sku_code.strip() for _, ln in unknown})
        known: set[str] | None = None
        hint = NEW_CODE_HINT_FILE if ref_type == "import" else NEW_CODE_HINT
        creatable = []
        refused: list[tuple[int, StockLine, list[str]]] = []
        for n, ln in unknown:
            code = ln.sku_code.strip()
            if mv in RETURNS or (mv in CREATES and (ln.new or code in sold)):
                creatable.append((n, ln))
                continue
            if known is None:  # every code fahuo knows, once: an error path only
                known = ({k[0] for k in u.stock.items()} | u.stock.sold_codes()
                         | {p for parts in bundles.values() for p in parts}
                         | {x.sku_code.strip() for x in lines if x.new})  # new alongside
            # difflib costs a pass over every known code: the first few dozen get a
            # suggestion (a file of thousands of new codes is a first import, not typos)
            near = (suggestions(code, known - {code}) if len(refused) < SUGGEST_MAX else [])
            refused.append((n, ln, near))
        names = u.stock.code_names({c for _, _, near in refused for c in near}) if refused else {}
        for n, ln, near in refused:
            code = ln.sku_code.strip()
            if mv in CREATES:
                why = (f"未知编码 {code}，{did_you_mean(near, names)}{hint}" if near else
                       f"未知编码 {code}（库存、组套和订单里都没有）；{hint}")
            else:
                why = f"未知编码 {code}（还没有库存记录：先入库或盘点）" + (
                    f"，{did_you_mean(near, names)}" if near else "")
            at = f"{_label(ln, n, many)}：" if ln.row or many else ""  # why names the code
            found.append((order[id(ln)], at + why))
        unknown = creatable
    new_rows = {n for n, _ in unknown}
    levels: dict[Any, Level] = {}
    pending: list[StockLine] = []
    for n, ln in ok:
        key = (ln.sku_code.strip(), ln.warehouse)
        if key not in items and n not in new_rows:
            continue  # refused above
        lv = levels.get(key) or (_level(items[key]) if key in items else Level())
        try:
            e = entry_for(mv, ln.quantity, lv)
            levels[key] = apply(lv, e)
        except StockError as exc:
            found.append((order[id(ln)], f"{_label(ln, n, many)}：{exc}"))
            continue
        pending.append(ln)
    if found:
        raise StockInputError([p for _, p in sorted(found, key=lambda f: f[0])])
    if unknown:  # a code the shops sell starts with the title they sell it under
        titles = u.stock.code_names({ln.sku_code.strip() for _, ln in unknown if not ln.name})
        new_items = [{"sku_code": ln.sku_code.strip(), "warehouse": ln.warehouse,
                      "name": ln.name or titles.get(ln.sku_code.strip(), "")}
                     for _, ln in unknown]
        for part in chunks(new_items):
            u.stock.ensure_items(list(part))
        items = _items(u, codes)
    locked: dict[int, dict[str, Any]] = {}
    for ids in chunks(sorted(r["id"] for r in items.values())):  # id order across chunks too
        locked.update(u.stock.lock_ids(ids))
    final: dict[int, Level] = {i: _level(r) for i, r in locked.items()}
    moves = []
    for n, ln in enumerate(pending, 1):
        iid = items[(ln.sku_code.strip(), ln.warehouse)]["id"]
        try:  # again on the locked rows: another worker may have moved them meanwhile
            e = entry_for(mv, ln.quantity, final[iid])
            final[iid] = apply(final[iid], e)
        except StockError as exc:
            raise StockInputError([f"{_label(ln, n, many)}：{exc}（刚被其他操作改动）"]
                                  ) from exc
        moves.append({"item_id": iid, "move": mv.value, "on_hand": e.on_hand,
                      "reserved": e.reserved, "damaged": e.damaged, "ref_type": ref_type,
                      "ref_id": ref_id, "reason": reason, "actor": actor})
    u.stock.apply(moves)
    u.audit.add(actor=actor, action=f"stock.{mv.value}", subject_type="stock",
                subject_id=ref_id or "-", detail={"lines": len(lines), "reason": reason})
    arrived = any(mv_["on_hand"] > 0 for mv_ in moves)
    released = retry_short_in(u).reserved if arrived else []
    if released:  # held orders took their units: show the levels as they are now
        after = u.stock.lock_ids(final)
        final = {i: _level(r) for i, r in after.items()}
    out = [{"sku_code": ln.sku_code.strip(), "warehouse": ln.warehouse,
            **_level_dict(final[items[(ln.sku_code.strip(), ln.warehouse)]["id"]])}
           for ln in pending]
    return Moved(out, released)


def _items(u: UnitOfWork, codes: list[str]) -> dict[tuple[str, str], dict[str, Any]]:
    """``u.stock.items`` for any number of codes, a bounded IN (...) list at a time."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for part in chunks(codes):
        out.update(u.stock.items(part))
    return out


def _level_dict(lv: Level) -> dict[str, int]:
    return {"on_hand": lv.on_hand, "reserved": lv.reserved, "available": lv.available,
            "damaged": lv.damaged}


def _level(row: dict[str, Any]) -> Level:
    return Level(row["on_hand"], row["reserved"], row["damaged"], row["safety"])


__all__ = ["MOVES_BY_HAND", "Moved", "did_you_mean", "move_stock", "move_stock_in", "suggest",
           "suggestions"]
