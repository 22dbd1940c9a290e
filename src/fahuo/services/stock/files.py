"""Count and receipt files (盘点, 入库): their rows, every bad row's problem by the file's own
row number, and the file applied all or nothing."""

from __future__ import annotations

from typing import Any

from fahuo.services.ports import Table, TableReader, UowFactory
from fahuo.services.stock.lines import WAREHOUSE, StockInputError, StockLine, read_quantity
from fahuo.services.stock.moves import Moved, move_stock_in
from fahuo.services.uploads import UploadLimits, UploadRefused


HEADERS = {"sku_code": ("商家编码", "sku_code", "编码", "sku"),
           "quantity": ("数量", "quantity", "qty", "盘点数量", "入库数量"),
           "warehouse": ("仓库", "warehouse"), "name": ("名称", "商品名称", "name"),
           "new": ("新编码", "new")}
YES, NO = {"是", "y", "yes", "1", "true", "新"}, {"", "否", "n", "no", "0", "false"}


def _cell_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))  # a spreadsheet's number 7 (stored as 7.0)
    return "" if v is None else str(v).strip()


def read_stock_file(name: str, data: bytes, limits: UploadLimits | None = None, *,
                    files: TableReader) -> tuple[list[StockLine], list[tuple[int, str]]]:
    """The good rows of an .xlsx or .csv with a header row, and every bad row's problem by
    its row number in the file. A file that cannot be read at all raises."""
    try:
        table = files.read_table(name, data, limits or UploadLimits())
    except UploadRefused as exc:
        raise StockInputError([str(exc)]) from exc
    return stock_lines(table)


def stock_lines(table: Table) -> tuple[list[StockLine], list[tuple[int, str]]]:
    """``read_stock_file`` of a file already read."""
    header, rows = table.header, table.rows
    head = [str(h if h is not None else "").strip().lower() for h in header]
    col: dict[str, int] = {}
    for key, names in HEADERS.items():
        for i, h in enumerate(head):
            if h in {n.lower() for n in names}:
                col[key] = i
                break
    missing = [HEADERS[k][0] for k in ("sku_code", "quantity") if k not in col]
    if missing:
        raise StockInputError([f"缺少“{m}”列（表头：{'、'.join(h for h in head if h) or '空'}）"
                               for m in missing])
    out: list[StockLine] = []
    problems: list[tuple[int, str]] = []
    seen: dict[tuple[str, str], int] = {}
    for n, row in rows:
        def cell(k: str) -> str:
            i = col.get(k)
            return "" if i is None or i >= len(row) else _cell_text(row[i])
        code, qty_s = cell("sku_code"), cell("quantity")
        wh = cell("warehouse") or WAREHOUSE
        at = f"第{n}行 {code}" if code else f"第{n}行"
        if not code:
            problems.append((n, f"{at}：商家编码为空"))
        try:
            qty = read_quantity(qty_s)
        except ValueError as exc:
            problems.append((n, f"{at}：{exc}"))
            qty = None
        extra = [_cell_text(v) for v in row[len(head):] if _cell_text(v)]
        if extra:  # an unquoted 1,000 in a CSV is two cells: "1" must not pass for it
            problems.append((n, f"{at}：比表头多出 {len(extra)} 格（“{extra[0][:20]}”）：数字里的"
                                f"逗号会把一格拆成两格，请去掉千位分隔符"))
            qty = None
        new = cell("new").lower()
        if new not in YES | NO:
            problems.append((n, f"{at}：“新编码”列只能填“是”或留空，收到“{new[:20]}”"))
        if code and (code, wh) in seen:
            problems.append((n, f"{at}：与第{seen[(code, wh)]}行重复"))
            continue
        if code:
            seen[(code, wh)] = n
        if code and qty is not None and new in YES | NO:
            out.append(StockLine(code, qty, wh, cell("name"), row=n, new=new in YES))
    return out, problems


def parse_stock_file(name: str, data: bytes, limits: UploadLimits | None = None, *,
                     files: TableReader) -> list[StockLine]:
    """``read_stock_file`` that raises on any bad row (reading alone, no stock checks)."""
    lines, problems = read_stock_file(name, data, limits, files=files)
    if problems:
        raise StockInputError([p for _, p in problems])
    return lines


def import_stock_file(uow: UowFactory, name: str, data: bytes, move: str, *, actor: str,
                      files: TableReader, limits: UploadLimits | None = None,
                      reason: str = "") -> Moved:
    """A count (盘点) or receipt (入库) file, all rows or none: what is wrong with the
    file's values and what is wrong with its stock (unknown codes, counts below what orders
    hold) come back together, each by the file's own row number."""
    if move not in ("count", "receive"):
        raise StockInputError(["文件只能用于盘点（count）或入库（receive）"])
    lines, problems = read_stock_file(name, data, limits, files=files)
    with uow() as u:
        return move_stock_in(u, move, lines, actor=actor, reason=reason, ref_type="import",
                             ref_id=name, problems=problems)


__all__ = ["HEADERS", "import_stock_file", "parse_stock_file", "read_stock_file", "stock_lines"]
