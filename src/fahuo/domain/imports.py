"""Tracking numbers imported from a merchant's spreadsheet (导入发货): rows in, plan out.

The service reads the xlsx/csv into ``list[dict[str, str]]`` (header text → cell text) and
calls ``parse_import``. This module only judges the file itself; whether an order exists and
may ship is the service's job. Every problem is said in the merchant's words, with the line
number they see in Excel (header = line 1).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from fahuo.domain.couriers import check_tracking_no, courier_code, normalize_tracking_no

# Accepted header names per column; the first is the one shown to merchants.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "order_id": ("订单号", "订单编号", "主订单号", "主订单编号", "订单ID", "order_id"),
    "courier": ("快递公司", "物流公司", "快递", "快递名称", "物流公司名称", "company",
                "company_code"),
    "tracking_no": ("快递单号", "运单号", "物流单号", "运单编号", "tracking_no", "logistics_code"),
}
_COLUMN_ZH = {"order_id": "订单号", "courier": "快递公司", "tracking_no": "快递单号"}


class ImportHeaderError(ValueError):
    """The file's header row cannot be used; the message is for the merchant."""


@dataclass(frozen=True, slots=True)
class ImportRow:
    line_no: int
    order_id: str
    courier_code: str
    tracking_no: str


@dataclass(frozen=True, slots=True)
class RowProblem:
    line_no: int
    raw: Mapping[str, str | None]  # the row as read, original header keys
    reason_zh: str
    order_id: str = ""  # the order-id cell as cleaned as far as it went, for the result table


@dataclass(slots=True)
class ImportPlan:
    valid: list[ImportRow] = field(default_factory=list)
    invalid: list[RowProblem] = field(default_factory=list)
    # Lines repeating an earlier line exactly: dropped, listed so the count adds up.
    duplicate_lines: list[int] = field(default_factory=list)


def _header_key(text: str) -> str:
    # CSV from Excel starts with a BOM; people type "订单号 " or full-width letters.
    return "".join(unicodedata.normalize("NFKC", text or "").replace("\ufeff", "").split()).lower()


_ALIAS_TO_COLUMN = {_header_key(a): col for col, names in HEADER_ALIASES.items() for a in names}


def map_headers(headers: Sequence[str]) -> dict[str, str]:
    """column → the header text used for it in this file; raises ImportHeaderError."""
    found: dict[str, list[str]] = {}
    for h in headers:
        col = _ALIAS_TO_COLUMN.get(_header_key(h))
        if col:
            found.setdefault(col, []).append(h)
    problems = []
    for col, names in HEADER_ALIASES.items():
        if col not in found:
            problems.append(f"缺少“{_COLUMN_ZH[col]}”列（可用列名：{'、'.join(names)}）")
        elif len(found[col]) > 1:
            both = "”和“".join(h.strip() for h in found[col])
            problems.append(f"“{both}”都表示{_COLUMN_ZH[col]}，请只保留一列")
    if problems:
        raise ImportHeaderError("；".join(problems))
    return {col: hs[0] for col, hs in found.items()}


_SCIENTIFIC = re.compile(r"[+-]?\d+(?:\.\d+)?[eE][+-]?\d+")
_ORDER_ID = re.compile(r"\d{19}")


def _cell(raw: object) -> str:
    # The contract is text cells; a reader that hands over numbers or None is tolerated.
    text = unicodedata.normalize("NFKC", "" if raw is None else str(raw))
    text = "".join(text.split())  # spaces, tabs, non-breaking spaces (NFKC → space)
    if text.startswith('="') and text.endswith('"'):  # Excel's ="6925…" text trick
        text = text[2:-1]
    return text.lstrip("'")


def clean_order_id(raw: object) -> tuple[str | None, str | None]:
    """(order id, None) or (None, reason)."""
    text = _cell(raw)
    if not text:
        return None, "订单号为空"
    if _SCIENTIFIC.fullmatch(text):
        return None, (f"订单号被Excel改成科学计数法（{text}），请把该列设为“文本”格式后"
                      "重新粘贴订单号")
    if re.fullmatch(r"\d{19}\.0+", text):  # a reader that printed the number as a decimal
        text = text.split(".")[0]
    if re.fullmatch(r"\d{19}A", text):  # historic ids with a trailing A (§9.2)
        text = text[:-1]
    if not _ORDER_ID.fullmatch(text):
        return None, f"订单号应为19位数字，实际为“{text}”"
    return text, None


def parse_import(rows: Sequence[Mapping[str, str | None]], *,
                 headers: Sequence[str] | None = None, first_line_no: int = 2,
                 line_nos: Sequence[int] | None = None) -> ImportPlan:
    """Check every row; valid rows come back cleaned, the rest with the reason.

    ``headers``: the file's header row (default: the keys of the first row). ``line_nos``:
    each row's line in the file (default: consecutive from ``first_line_no``). Blank rows are
    skipped. One order with different numbers in the file → all its rows invalid (a split
    order ships per pack from fahuo, not from a sheet); identical repeats → the first kept.
    An order whose id is readable but has one bad row is not shipped from its other rows
    either: the file says two different things about it.
    """
    if headers is None:
        headers = list(rows[0].keys()) if rows else []
    if not headers and not rows:
        return ImportPlan()
    cols = map_headers(headers)
    plan = ImportPlan()
    candidates: list[ImportRow] = []
    raws: dict[int, Mapping[str, str | None]] = {}
    bad_order_ids: dict[str, list[int]] = {}
    for offset, row in enumerate(rows):
        line_no = line_nos[offset] if line_nos is not None else first_line_no + offset
        if all(not _cell(v) for v in row.values()):
            continue
        raws[line_no] = row
        reasons = []
        order_id, why = clean_order_id(row.get(cols["order_id"]))
        if why:
            reasons.append(why)
        raw_courier = _cell(row.get(cols["courier"]))
        code = courier_code(raw_courier)
        if not raw_courier:
            reasons.append("快递公司为空")
        elif code is None:
            reasons.append(f"无法识别快递公司“{raw_courier}”")
        number = normalize_tracking_no(_cell(row.get(cols["tracking_no"])))
        if _SCIENTIFIC.fullmatch(number):
            reasons.append(f"快递单号被Excel改成科学计数法（{number}），请把该列设为“文本”格式后"
                           "重新粘贴")
        elif not number:
            reasons.append("快递单号为空")
        elif code is not None and (bad := check_tracking_no(code, number)):
            reasons.append(bad.split(" / ")[0])
        if reasons:
            shown = order_id or _cell(row.get(cols["order_id"]))
            plan.invalid.append(RowProblem(line_no, row, "；".join(reasons), shown))
            if order_id:
                bad_order_ids.setdefault(order_id, []).append(line_no)
        else:
            assert order_id is not None and code is not None
            candidates.append(ImportRow(line_no, order_id, code, number))

    by_order: dict[str, list[ImportRow]] = {}
    for r in candidates:
        by_order.setdefault(r.order_id, []).append(r)
    for order_id, group in by_order.items():
        if order_id in bad_order_ids:
            lines = "、".join(str(n) for n in bad_order_ids[order_id])
            for r in group:
                plan.invalid.append(RowProblem(r.line_no, raws[r.line_no],
                                               f"同一订单第{lines}行有误，请一并修正后再导入",
                                               order_id))
            continue
        distinct = {(r.courier_code, r.tracking_no) for r in group}
        if len(distinct) > 1:
            lines = "、".join(str(r.line_no) for r in group)
            for r in group:
                plan.invalid.append(RowProblem(
                    r.line_no, raws[r.line_no],
                    f"同一订单在第{lines}行有不同的快递单号，请只保留一行"
                    "（一单多包裹请在系统中拆包发货）", order_id))
            continue
        plan.valid.append(group[0])
        plan.duplicate_lines.extend(r.line_no for r in group[1:])
    plan.valid.sort(key=lambda r: r.line_no)
    plan.invalid.sort(key=lambda p: p.line_no)
    return plan
