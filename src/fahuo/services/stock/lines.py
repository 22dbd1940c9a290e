"""What people and files hand in: a line of stock, its quantity as typed, and the error that
names every bad line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

WAREHOUSE = "main"


@dataclass(frozen=True)
class StockLine:
    sku_code: str
    quantity: int
    warehouse: str = WAREHOUSE
    name: str = ""
    row: int = 0  # the file's own row number (0: not from a file)
    new: bool = False  # the merchant says this code is new: a receipt or count may create it


class StockInputError(ValueError):
    """Names every bad line; nothing was applied."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("；".join(problems))
        self.problems = problems


MAX_QUANTITY = 10**7  # units of one SKU in one line: the API's bound too
_ASCII_INT = re.compile(r"[+-]?[0-9]{1,12}")
_ZEROS = re.compile(r"([+-]?[0-9]{1,12})\.0+")  # 7.0 as a spreadsheet writes 7: no loss
_SCIENTIFIC = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.[0-9]*|\.[0-9]+)")
_GROUPED = re.compile(r"[+-]?[0-9]{1,3}(?:[,，][0-9]{3})+")


def read_quantity(text: str) -> int:
    """A whole number of units within ±MAX_QUANTITY, as typed; anything else raises
    ``ValueError`` saying in Chinese what is wrong and how to write it. Nothing is
    converted behind the merchant's back: 1e3, １０, 1,000 and 1.5 are refused."""
    t = text.strip()
    shown = f"“{t[:24]}”"
    if not t:
        raise ValueError("数量为空")
    if _GROUPED.fullmatch(t):
        raise ValueError(f"数量{shown}含千位分隔符：请去掉逗号，写成 {re.sub('[,，]', '', t)}")
    if any(ch.isdigit() and ch not in "0123456789" for ch in t) or any(
            "\uff01" <= ch <= "\uff5e" for ch in t):
        plain = "".join(chr(ord(ch) - 0xFEE0) if "\uff01" <= ch <= "\uff5e" else ch for ch in t)
        raise ValueError(f"数量{shown}含全角字符：请用半角数字" + (
            f"，写成 {plain}" if _ASCII_INT.fullmatch(plain) else ""))
    if _SCIENTIFIC.fullmatch(t):
        d = Decimal(t)
        as_int = (f"，如 {int(d)}" if d == d.to_integral_value() and abs(d) <= MAX_QUANTITY
                  else "")
        raise ValueError(f"数量{shown}是科学计数法（Excel 常把数字显示成这样）：请写成整数"
                         f"{as_int}")
    if m := _ZEROS.fullmatch(t):
        t = m.group(1)
    elif _DECIMAL.fullmatch(t):
        raise ValueError(f"数量{shown}有小数：库存按件计，只能是整数")
    if not _ASCII_INT.fullmatch(t):
        if len(t.lstrip("+-")) > 12 and t.lstrip("+-").isdigit():
            raise ValueError(f"数量{shown}超出范围：一行最多 ±{MAX_QUANTITY} 件")
        raise ValueError(f"数量{shown}不是整数")
    q = int(t)
    if not -MAX_QUANTITY <= q <= MAX_QUANTITY:
        raise ValueError(f"数量{shown}超出范围：一行最多 ±{MAX_QUANTITY} 件")
    return q


__all__ = ["MAX_QUANTITY", "WAREHOUSE", "StockInputError", "StockLine", "read_quantity"]
