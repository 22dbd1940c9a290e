"""Shipping labels: the data on a label, the label sizes, and declarative templates.

A template is a size profile plus fields placed in millimetres from the top-left corner of
the label (merchant-expectations §10.3: "one declarative template → PDF and ZPL"). The PDF
renderer (``pdf.py``) and the ZPL renderer (``zpl.py``) both read the same ``Template``; the
text a field shows comes from ``field_text`` so both outputs say the same thing. This module
is the data model (label data, sizes, fields, validation); the built-in layouts are in
``templates.py``, text fitting in ``fitting.py``.

Sizes (§10.1): 76×130 one-part (通达 standard), 100×150 two-part (SF 丰密), 100×180 two-part
(YTO 二联单), 4×6 in one-part (international thermal). These are for labels fahuo renders
itself (non-platform carriers, fallbacks, the custom area): Douyin e-waybills go through the
Douyin print component (§10.2).

The receiver and sender on ``LabelData`` are printed as given: masking (or not) is the
caller's decision, made from the shop's policy and the user's permission.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from fahuo.domain.couriers import courier_name as _courier_name


class LabelError(ValueError):
    """A label cannot be rendered; the message names the label, the field and the problem."""


# --------------------------------------------------------------------------- label data


@dataclass(frozen=True, slots=True)
class Party:
    name: str
    phone: str = ""
    address: tuple[str, ...] = ()  # lines, e.g. ("浙江省 杭州市 西湖区", "文三路 100 号 5 楼")


@dataclass(frozen=True, slots=True)
class Custom:
    """The merchant's custom area: free text, a QR code, a logo (PNG/JPEG file)."""
    text: str = ""
    qr_text: str = ""
    logo_path: str | None = None


@dataclass(frozen=True, slots=True)
class LabelData:
    track_no: str
    courier_code: str
    sender: Party
    receiver: Party
    courier_name: str = ""  # default: the name from fahuo.domain.couriers
    sort_code: str = ""  # 三段码, e.g. "300-A12 05"
    short_address: str = ""  # 大头笔, e.g. "杭州转 西湖"
    package_center: str = ""  # 集包地, e.g. "杭州中转部"
    items_summary: str = ""
    order_ids: tuple[str, ...] = ()
    pack_no: int = 1
    pack_count: int = 1
    printed_at: datetime | None = None  # passed in (never "now" here: reprints must match)
    custom: Custom = field(default_factory=Custom)


# --------------------------------------------------------------------------- sizes, fields


@dataclass(frozen=True, slots=True)
class SizeProfile:
    name: str
    width_mm: float
    height_mm: float
    parts: int  # 1 = 一联单, 2 = 二联单


SIZES: dict[str, SizeProfile] = {
    "76x130": SizeProfile("76x130", 76.0, 130.0, 1),
    "100x150": SizeProfile("100x150", 100.0, 150.0, 2),
    "100x180": SizeProfile("100x180", 100.0, 180.0, 2),
    "4x6": SizeProfile("4x6", 101.6, 152.4, 1),
}

KINDS = ("text", "barcode", "qr", "box", "line", "image")
# Data a field can show (``Field.source``); see ``field_text``.
SOURCES = ("courier", "package_center", "sort_code", "short_address", "track_no",
           "receiver_name_phone", "receiver_address", "sender_name_phone", "sender_address",
           "sender_line", "items", "order_ids", "pack", "printed_at", "custom_text",
           "custom_qr", "custom_logo")


@dataclass(frozen=True, slots=True)
class Field:
    """One element of a template. Positions and sizes in mm from the label's top-left corner.

    text fields: ``source`` (data) or ``text`` (static), ``font_size`` in pt shrunk down to
    ``min_font_size`` then wrapped; if it still does not fit, ``overflow="error"`` raises
    LabelError (addresses, sort codes: a truncated address is a lost parcel) and
    ``"truncate"`` cuts the last line with "…" (items, order ids, custom text).
    box/line: ``line_width`` in mm; a line runs from (x, y) to (x + w, y + h).
    """
    kind: str
    x: float
    y: float
    w: float
    h: float
    source: str = ""
    text: str = ""
    font_size: float = 10.0
    min_font_size: float = 6.0
    align: str = "left"  # left | center | right
    valign: str = "top"  # top | middle
    overflow: str = "error"  # error | truncate
    line_width: float = 0.3
    dashed: bool = False
    required: bool = False  # a text/barcode field whose data must not be empty

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise LabelError(f"unknown field kind {self.kind!r}; known: {', '.join(KINDS)}")
        if self.source and self.source not in SOURCES:
            raise LabelError(f"unknown field source {self.source!r}; known: {', '.join(SOURCES)}")


@dataclass(frozen=True, slots=True)
class Template:
    size: SizeProfile
    fields: tuple[Field, ...]


# --------------------------------------------------------------------------- validation

# Code 128 carries ASCII 0–127; a tracking number only ever needs the printable part.
CODE128_CHARS = frozenset(chr(c) for c in range(0x21, 0x7F))


def check_label(label: LabelData, index: int = 0) -> None:
    """Raise LabelError for data no template can print."""
    where = f"label {index + 1} ({label.track_no!r})"
    if not label.track_no:
        raise LabelError(f"label {index + 1}: tracking number is empty / 快递单号为空")
    bad = sorted({ch for ch in label.track_no if ch not in CODE128_CHARS})
    if bad:
        shown = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in bad[:5])
        raise LabelError(f"{where}: tracking number has characters Code 128 cannot carry: "
                         f"{shown}; only printable ASCII without spaces is allowed / "
                         "快递单号含条码无法编码的字符")
    if not 1 <= label.pack_no <= label.pack_count:
        raise LabelError(f"{where}: pack {label.pack_no}/{label.pack_count} is not a valid "
                         "'n of N' (1 ≤ n ≤ N)")
    if not label.receiver.name.strip() or not any(a.strip() for a in label.receiver.address):
        raise LabelError(f"{where}: receiver name and address are required / 缺少收件人或地址")


def get_size(size: str) -> SizeProfile:
    try:
        return SIZES[size]
    except (KeyError, TypeError):
        raise LabelError(f"unknown label size {size!r}; known sizes: "
                         f"{', '.join(SIZES)}") from None


# --------------------------------------------------------------------------- field text


def _clean(text: str) -> str:
    """Control characters (other than newlines) out, runs of spaces kept as they are."""
    if text.isprintable():
        return text
    return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch)[0] != "C")


def field_text(label: LabelData, f: Field) -> str:
    """What a text field shows for ``label`` (``\n`` separates lines)."""
    if not f.source:
        return f.text
    s = f.source
    if s == "courier":
        return label.courier_name or _courier_name(label.courier_code)
    if s == "package_center":
        return _clean(label.package_center)
    if s == "sort_code":
        return _clean(label.sort_code)
    if s == "short_address":
        return _clean(label.short_address)
    if s == "track_no":
        return label.track_no
    if s in ("receiver_name_phone", "sender_name_phone"):
        p = label.receiver if s.startswith("receiver") else label.sender
        return _clean(" ".join(x for x in (p.name.strip(), p.phone.strip()) if x))
    if s in ("receiver_address", "sender_address"):
        p = label.receiver if s.startswith("receiver") else label.sender
        return _clean("\n".join(a.strip() for a in p.address if a.strip()))
    if s == "sender_line":
        p = label.sender
        return _clean(" ".join(x for x in (p.name.strip(), p.phone.strip(),
                                           *(a.strip() for a in p.address)) if x))
    if s == "items":
        return _clean(label.items_summary)
    if s == "order_ids":
        return ("订单号 " + ", ".join(label.order_ids)) if label.order_ids else ""
    if s == "pack":
        return f"{label.pack_no}/{label.pack_count}"
    if s == "printed_at":
        return ("打印时间 " + label.printed_at.strftime("%Y-%m-%d %H:%M")
                if label.printed_at else "")
    if s == "custom_text":
        return _clean(label.custom.text)
    if s == "custom_qr":
        return label.custom.qr_text
    if s == "custom_logo":
        return label.custom.logo_path or ""
    raise LabelError(f"unknown field source {s!r}")  # pragma: no cover - checked in Field


def labels_list(labels: Sequence[LabelData]) -> list[LabelData]:
    items = list(labels)
    if not items:
        raise LabelError("no labels to render")
    for i, lb in enumerate(items):
        if not isinstance(lb, LabelData):
            raise LabelError(f"label {i + 1} is a {type(lb).__name__}, not LabelData")
        check_label(lb, i)
    return items
