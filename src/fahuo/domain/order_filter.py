"""The order workbench's filter: parsed and checked in one place for console, API and CLI.

``parse_filter`` takes the URL's (or the CLI's) strings and returns an ``OrderFilter`` or
raises ``FilterError`` naming the field in Chinese; nothing else reads those parameters.
``Cursor`` is the keyset position of a page (sort key + order id).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from decimal import Decimal, InvalidOperation

from fahuo.domain.clock import SHOP_TZ
from fahuo.domain.couriers import courier_code
from fahuo.domain.holds import HoldReason
from fahuo.domain.orders import OrderState

SORTS = {"deadline": "截止时间", "paid": "付款时间", "amount": "金额"}
DUE_WINDOWS = {"overdue": "已超时", "6h": "6 小时内", "24h": "24 小时内", "later": "24 小时以后"}
AFTERSALE = {"open": "售后中", "any": "有过售后", "none": "无售后"}
YES_NO = {"yes": "是", "no": "否"}
FIELD_NAMES = {
    "q": "搜索", "shop": "店铺", "state": "状态", "hold": "挂起原因", "courier": "快递公司",
    "printed": "已打印", "confirmed": "已回传", "due": "截止时间", "paid_from": "付款时间（起）",
    "paid_to": "付款时间（止）", "amount_min": "金额（最低）", "amount_max": "金额（最高）",
    "province": "省份", "aftersale": "售后", "presale": "预售", "sort": "排序",
    "after": "翻页位置", "before": "翻页位置", "limit": "每页条数",
}
MAX_QUERY = 200
MAX_AMOUNT_FEN = 10**11  # ¥1,000,000,000: anything above is a typo


class FilterError(ValueError):
    """A bad filter value; ``field`` is the parameter, the message names it in Chinese."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class TooMany(ValueError):
    """More orders match than one batch may take."""


@dataclass(frozen=True)
class OrderFilter:
    q: str = ""
    shop: int | None = None
    state: str | None = None
    hold: str | None = None
    courier: str | None = None
    printed: bool | None = None
    confirmed: bool | None = None
    due: str | None = None  # overdue | 6h | 24h | later; only orders not yet sent
    paid_from: int | None = None  # epoch seconds, inclusive
    paid_to: int | None = None  # exclusive
    amount_min: int | None = None  # fen, the buyer's payment
    amount_max: int | None = None
    province: str | None = None
    aftersale: str | None = None  # open | any | none
    presale: bool | None = None
    sort: str = "deadline"

    def params(self) -> dict[str, str]:
        """The URL parameters that give this filter back (defaults left out)."""
        out: dict[str, str] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if v is None or v == "" or (f.name == "sort" and v == "deadline"):
                continue
            if isinstance(v, bool):
                out[f.name] = "yes" if v else "no"
            elif f.name in ("paid_from", "paid_to"):
                out[f.name] = datetime.fromtimestamp(v, SHOP_TZ).strftime("%Y-%m-%dT%H:%M")
            elif f.name in ("amount_min", "amount_max"):
                yuan = f"{Decimal(v) / 100:f}"
                out[f.name] = yuan.rstrip("0").rstrip(".") if "." in yuan else yuan
            else:
                out[f.name] = str(v)
        return out

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @property
    def empty(self) -> bool:
        return self == OrderFilter(sort=self.sort)


@dataclass(frozen=True)
class Cursor:
    """A page boundary: the sort key's value and the order id of the row at the edge."""

    key: int
    order_id: str

    def __str__(self) -> str:
        return f"{self.key}~{self.order_id}"


_CURSOR = re.compile(r"^(-?\d{1,19})~(\d{1,32})$")


def parse_cursor(name: str, raw: str | None) -> Cursor | None:
    if not raw:
        return None
    found = _CURSOR.match(raw.strip())
    if not found:
        raise FilterError(name, f"{FIELD_NAMES[name]}不对：{raw[:40]}（请从列表的翻页链接进入）")
    return Cursor(int(found.group(1)), found.group(2))


def _time(name: str, raw: str) -> int:
    raw = raw.strip().replace(" ", "T")
    for fmt in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            return int(datetime.strptime(raw, fmt).replace(tzinfo=SHOP_TZ).timestamp())
        except ValueError:
            continue
    raise FilterError(name, f"{FIELD_NAMES[name]}不是日期时间：{raw[:40]}（例：2024-06-18 或 "
                            "2024-06-18T09:30）")


def _amount(name: str, raw: str) -> int:
    try:
        yuan = Decimal(raw.strip().lstrip("¥￥"))
    except InvalidOperation:
        raise FilterError(name, f"{FIELD_NAMES[name]}不是金额：{raw[:40]}（以元计，例：99.9）") from None
    if not yuan.is_finite() or yuan < 0 or yuan.as_tuple().exponent < -2:  # type: ignore[operator]
        raise FilterError(name, f"{FIELD_NAMES[name]}应为不小于 0、最多两位小数的金额：{raw[:40]}")
    fen = int(yuan * 100)
    if fen > MAX_AMOUNT_FEN:
        raise FilterError(name, f"{FIELD_NAMES[name]}太大：{raw[:40]}")
    return fen


def _choice(name: str, raw: str, allowed: Mapping[str, str]) -> str:
    if raw not in allowed:
        names = "、".join(f"{k}（{v}）" for k, v in allowed.items())
        raise FilterError(name, f"{FIELD_NAMES[name]}不认识：{raw[:40]}，可选 {names}")
    return raw


def _yes_no(name: str, raw: str) -> bool:
    return _choice(name, raw, YES_NO) == "yes"


def parse_filter(params: Mapping[str, str | None]) -> OrderFilter:
    """Strings (URL, form, CLI) → the filter. Empty means "any". Raises FilterError."""
    def get(k: str) -> str:
        return (params.get(k) or "").strip()

    values: dict[str, object] = {}
    q = get("q")
    if len(q) > MAX_QUERY:
        raise FilterError("q", f"搜索内容太长（最多 {MAX_QUERY} 个字）")
    values["q"] = q
    if shop := get("shop"):
        if not shop.isdigit() or len(shop) > 9:
            raise FilterError("shop", f"店铺应为店铺编号：{shop[:40]}")
        values["shop"] = int(shop)
    if state := get("state"):
        values["state"] = _choice("state", state, {s.value: s.value for s in OrderState})
    if hold := get("hold"):
        values["hold"] = _choice("hold", hold, {r.value: r.label for r in HoldReason})
    if courier := get("courier"):
        code = courier_code(courier)
        if code is None:
            raise FilterError("courier", f"快递公司不认识：{courier[:40]}")
        values["courier"] = code
    for name in ("printed", "confirmed", "presale"):
        if raw := get(name):
            values[name] = _yes_no(name, raw)
    if due := get("due"):
        values["due"] = _choice("due", due, DUE_WINDOWS)
    for name in ("paid_from", "paid_to"):
        if raw := get(name):
            # a day alone: 起 from its midnight, 止 through its end
            values[name] = _time(name, raw) + (86400 if name == "paid_to" and len(raw) == 10
                                               else 0)
    for name in ("amount_min", "amount_max"):
        if raw := get(name):
            values[name] = _amount(name, raw)
    if province := get("province"):
        if len(province) > 32:
            raise FilterError("province", "省份太长")
        values["province"] = province
    if aftersale := get("aftersale"):
        values["aftersale"] = _choice("aftersale", aftersale, AFTERSALE)
    if sort := get("sort"):
        values["sort"] = _choice("sort", sort, SORTS)
    pf, pt = values.get("paid_from"), values.get("paid_to")
    if isinstance(pf, int) and isinstance(pt, int) and pf >= pt:
        raise FilterError("paid_to", "付款时间（止）应晚于付款时间（起）")
    lo, hi = values.get("amount_min"), values.get("amount_max")
    if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
        raise FilterError("amount_max", "金额（最高）应不小于金额（最低）")
    return OrderFilter(**values)  # type: ignore[arg-type]


def parse_limit(raw: str | int | None, default: int = 50, most: int = 500) -> int:
    if raw in (None, ""):
        return default
    text = str(raw).strip()
    if not text.isdigit() or not 1 <= int(text) <= most:
        raise FilterError("limit", f"每页条数应为 1 到 {most} 之间的整数：{text[:20]}")
    return int(text)
