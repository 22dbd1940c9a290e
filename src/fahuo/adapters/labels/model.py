"""Shipping labels: the data on a label, the label sizes, and declarative templates.

A template is a size profile plus fields placed in millimetres from the top-left corner of
the label (merchant-expectations §10.3: "one declarative template → PDF and ZPL"). The PDF
renderer (``pdf.py``) and the ZPL renderer (``zpl.py``) both read the same ``Template``; the
text a field shows comes from ``field_text`` so both outputs say the same thing.

Sizes (§10.1): 76×130 one-part (通达 standard), 100×150 two-part (SF 丰密), 100×180 two-part
(YTO 二联单), 4×6 in one-part (international thermal). These are for labels fahuo renders
itself (non-platform carriers, fallbacks, the custom area): Douyin e-waybills go through the
Douyin print component (§10.2).

The receiver and sender on ``LabelData`` are printed as given: masking (or not) is the
caller's decision, made from the shop's policy and the user's permission.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

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


# --------------------------------------------------------------------------- text fitting

ELLIPSIS = "…"


def _is_space(ch: str) -> bool:
    return ch == " " or ch == "\u3000"


def wrap(text: str, max_w: float, width_of: Callable[[str], float]) -> list[str]:
    """Greedy line breaking of ``text`` (already split on newlines) to ``max_w``.

    CJK breaks between any two characters; a run of Latin letters/digits breaks at the
    last space if there is one on the line, else between characters (a long tracking or
    phone number still fits)."""
    lines: list[str] = []
    for para in text.split("\n"):
        line: list[str] = []
        w = 0.0
        last_space = -1  # index in line of the last space
        for ch in para:
            cw = width_of(ch)
            if line and w + cw > max_w and not _is_space(ch):
                if last_space > 0 and ord(ch) < 0x2E80 and all(
                        ord(c) < 0x2E80 for c in line[last_space + 1:]):
                    rest = line[last_space + 1:]
                    lines.append("".join(line[:last_space]).rstrip())
                    line = rest
                    w = sum(width_of(c) for c in line)
                else:
                    lines.append("".join(line).rstrip())
                    line, w = [], 0.0
                last_space = -1
            if not line and _is_space(ch):
                continue  # no leading spaces on a wrapped line
            if _is_space(ch):
                last_space = len(line)
            line.append(ch)
            w += cw
        lines.append("".join(line).rstrip())
    return lines


@dataclass(slots=True)
class Fitted:
    size: float  # font size (pt for PDF; the caller's unit)
    lines: tuple[str, ...]
    line_height: float  # same unit as size
    truncated: bool = False


def fit_text(text: str, box_w: float, box_h: float, max_size: float, min_size: float,
             em_width: Callable[[str], float], line_em: float, *, overflow: str,
             what: str | Callable[[], str], step: float = 0.5,
             text_em: Callable[[str], float] | None = None) -> Fitted:
    """Largest font size in [min_size, max_size] at which ``text`` fits the box.

    Box and sizes in points (ZPL converts to dots afterwards). First shrink keeping the text's own lines; if
    that fails at ``min_size``, wrap, growing back from ``min_size`` as large as the
    wrapped text still fits. If even wrapped at ``min_size`` it does not fit: raise
    LabelError (``overflow="error"``) or cut with "…" (``"truncate"``).
    ``em_width(ch)`` is a character's advance at size 1; ``line_em`` the line height at
    size 1; ``text_em(s)``, if given, a faster sum of ``em_width`` over a string."""
    if not text:
        return Fitted(max_size, (), max_size * line_em)
    if "\n" not in text and max_size * line_em <= box_h:  # the usual case: one line fits
        w = text_em(text) if text_em is not None else sum(em_width(c) for c in text)
        if w * max_size <= box_w:
            return Fitted(max_size, (text,), max_size * line_em)
    paras = text.split("\n")
    if text_em is not None:
        para_em = [text_em(p) for p in paras]
    else:
        para_em = [sum(em_width(c) for c in p) for p in paras]
    widest = max(para_em)
    n = len(paras)
    # 1. shrink only: the size at which the widest paragraph fits on one line.
    size = max_size
    if widest > 0:
        size = min(size, box_w / widest)
    size = min(size, box_h / (n * line_em))
    size = math.floor(size / step + 1e-9) * step if size < max_size else max_size
    if size >= min_size:
        return Fitted(size, tuple(paras), size * line_em)
    # 2. wrap: the largest size (from max_size down) at which the wrapped lines fit.
    size = max_size
    while size >= min_size - 1e-9:
        max_lines = int(box_h // (size * line_em) + 1e-9)
        if max_lines >= 1 and sum(max(1, math.ceil(p * size / box_w - 1e-9))
                                  for p in para_em) <= max_lines:
            def width_at(ch: str, s: float = size) -> float:
                return em_width(ch) * s
            lines = wrap(text, box_w, width_at)
            if len(lines) <= max_lines:
                return Fitted(size, tuple(lines), size * line_em)
        size -= step
    size = min_size
    max_lines = int(box_h // (size * line_em) + 1e-9)
    if overflow != "truncate" or max_lines < 1:
        if callable(what):
            what = what()
        raise LabelError(f"{what} is too long for its box ({box_w / 72 * 25.4:.1f} × "
                         f"{box_h / 72 * 25.4:.1f} mm) even at {min_size:g} pt, wrapped: "
                         f"{text[:40]!r}{'…' if len(text) > 40 else ''}")
    lines = wrap(text, box_w, lambda ch: em_width(ch) * size)[:max_lines]
    last = lines[-1]
    ell = em_width(ELLIPSIS) * size
    while last and sum(em_width(c) for c in last) * size + ell > box_w:
        last = last[:-1]
    lines[-1] = last + ELLIPSIS
    return Fitted(size, tuple(lines), size * line_em, truncated=True)


# --------------------------------------------------------------------------- templates

MARGIN = 2.0
_BASE_W = 76.0  # the 76×130 layout is the reference; other widths scale fonts mildly


class _Rows:
    """Stacks rows from ``top``; each row's height is its base height × ``scale``."""

    def __init__(self, top: float, scale: float, width: float) -> None:
        self.y = top
        self.scale = scale
        self.W = width
        self.fields: list[Field] = []

    def take(self, base_h: float) -> tuple[float, float]:
        y, h = self.y, base_h * self.scale
        self.y += h
        return y, h

    def rule(self, dashed: bool = False, gap: float = 0.8) -> None:
        y = self.y + gap / 2
        self.fields.append(Field("line", 0.0, y, self.W, 0.0, line_width=0.3, dashed=dashed))
        self.y += gap


def _font(base: float, rows: _Rows) -> float:
    return round(base * min(1.5, max(0.8, math.sqrt(rows.scale * rows.W / _BASE_W))) * 2) / 2


def _main_part(W: float, top: float, bottom: float, *, custom: bool) -> list[Field]:
    """Courier, sort code, short address, barcode, receiver, sender, items, ids, pack, time."""
    base = [8, 12, 10, 15, 5, 19, 12, 9, 9] + ([16] if custom else [])
    n_rules = 7 + (1 if custom else 0)
    scale = (bottom - top - n_rules * 0.8) / sum(base)
    r = _Rows(top, scale, W)
    F = r.fields
    m = MARGIN
    inner = W - 2 * m
    y, h = r.take(8)
    F.append(Field("text", m, y + 0.5, inner * 0.45, h - 1, source="courier",
                   font_size=_font(14, r), min_font_size=8, valign="middle", overflow="truncate"))
    F.append(Field("text", m + inner * 0.47, y + 0.5, inner * 0.53, h - 1,
                   source="package_center", font_size=_font(12, r), min_font_size=6,
                   align="right", valign="middle"))
    r.rule()
    y, h = r.take(12)
    F.append(Field("text", m, y, inner, h, source="sort_code", font_size=_font(30, r),
                   min_font_size=12, align="center", valign="middle"))
    r.rule()
    y, h = r.take(10)
    F.append(Field("text", m, y, inner, h, source="short_address", font_size=_font(22, r),
                   min_font_size=10, align="center", valign="middle"))
    r.rule()
    y, h = r.take(15)
    F.append(Field("barcode", m, y + 0.5, inner, h - 1, source="track_no", required=True))
    y, h = r.take(5)
    F.append(Field("text", m, y, inner, h, source="track_no", font_size=_font(11, r),
                   min_font_size=7, align="center", valign="middle"))
    r.rule()
    _party(r, "收", "receiver", 19, 12, 10, 6)
    r.rule()
    _party(r, "寄", "sender", 12, 8, 7, 5)
    r.rule()
    y, h = r.take(9)
    F.append(Field("text", m, y + 0.3, inner, h - 0.6, source="items", font_size=_font(9, r),
                   min_font_size=6, overflow="truncate"))
    r.rule()
    y, h = r.take(9)
    pack_w = 14.0
    F.append(Field("text", m, y + 0.3, inner - pack_w - 1, h * 0.55, source="order_ids",
                   font_size=_font(7, r), min_font_size=5, overflow="truncate"))
    F.append(Field("text", m, y + 0.3 + h * 0.55, inner - pack_w - 1, h * 0.45 - 0.6,
                   source="printed_at", font_size=_font(6, r), min_font_size=5,
                   overflow="truncate"))
    F.append(Field("box", W - m - pack_w, y + 0.5, pack_w, h - 1, line_width=0.3))
    F.append(Field("text", W - m - pack_w + 0.5, y + 0.7, pack_w - 1, h - 1.4, source="pack",
                   font_size=_font(14, r), min_font_size=6, align="center", valign="middle"))
    if custom:
        r.rule()
        _custom(r, 16)
    return F


def _party(r: _Rows, tag: str, who: str, base_h: float, name_pt: float, addr_pt: float,
           addr_min: float) -> None:
    m = MARGIN
    y, h = r.take(base_h)
    tag_w = 6.0
    r.fields.append(Field("box", m, y + 0.6, tag_w, tag_w, line_width=0.4))
    r.fields.append(Field("text", m + 0.5, y + 1.1, tag_w - 1, tag_w - 1, text=tag,
                          font_size=12, min_font_size=6, align="center", valign="middle"))
    x = m + tag_w + 1.5
    w = r.W - x - m
    name_h = h * 0.36
    r.fields.append(Field("text", x, y + 0.4, w, name_h, source=f"{who}_name_phone",
                          font_size=_font(name_pt, r), min_font_size=6, required=who == "receiver"))
    r.fields.append(Field("text", x, y + 0.4 + name_h, w, h - name_h - 0.8,
                          source=f"{who}_address", font_size=_font(addr_pt, r),
                          min_font_size=addr_min, required=who == "receiver"))


def _custom(r: _Rows, base_h: float) -> None:
    m = MARGIN
    y, h = r.take(base_h)
    side = h - 1.0
    r.fields.append(Field("image", m, y + 0.5, side, side, source="custom_logo"))
    r.fields.append(Field("qr", r.W - m - side, y + 0.5, side, side, source="custom_qr"))
    x = m + side + 1.5
    r.fields.append(Field("text", x, y + 0.5, r.W - m - side - 1.5 - x, side,
                          source="custom_text", font_size=_font(9, r), min_font_size=5,
                          overflow="truncate"))


def _stub(W: float, top: float, bottom: float) -> list[Field]:
    """The lower (recipient's) part of a two-part label: barcode, receiver, sender, custom."""
    base = [10, 4.5, 15, 8, 16]
    scale = (bottom - top - 3 * 0.8) / sum(base)
    r = _Rows(top, scale, W)
    m = MARGIN
    inner = W - 2 * m
    y, h = r.take(10)
    r.fields.append(Field("barcode", m + inner * 0.3, y + 0.5, inner * 0.7, h - 0.5,
                          source="track_no", required=True))
    r.fields.append(Field("text", m, y + 0.5, inner * 0.3 - 1, h - 0.5, source="courier",
                          font_size=_font(11, r), min_font_size=6, valign="middle",
                          overflow="truncate"))
    y, h = r.take(4.5)
    r.fields.append(Field("text", m + inner * 0.3, y, inner * 0.7, h, source="track_no",
                          font_size=_font(9, r), min_font_size=6, align="center",
                          valign="middle"))
    r.rule()
    _party(r, "收", "receiver", 15, 9, 8, 5)
    r.rule()
    y, h = r.take(8)
    tag_w = 6.0
    r.fields.append(Field("text", m, y + 0.3, tag_w, h - 0.6, text="寄", font_size=9,
                          min_font_size=6, valign="middle"))
    r.fields.append(Field("text", m + tag_w, y + 0.3, inner - tag_w, h - 0.6, source="sender_line",
                          font_size=_font(7, r), min_font_size=5, valign="middle"))
    r.rule()
    _custom(r, 16)
    return r.fields


_SPLIT = {"100x150": 95.0, "100x180": 110.0}  # where the two-part label's perforation is


@lru_cache(maxsize=None)
def template_for(size: str) -> Template:
    """The built-in template for ``size`` (one of ``SIZES``)."""
    p = get_size(size)
    W, H = p.width_mm, p.height_mm
    if p.parts == 1:
        fields = _main_part(W, 0.6, H - 0.6, custom=True)
    else:
        split = _SPLIT[p.name]
        fields = _main_part(W, 0.6, split - 0.6, custom=False)
        fields.append(Field("line", 0.0, split, W, 0.0, line_width=0.3, dashed=True))
        fields += _stub(W, split + 0.6, H - 0.6)
    return Template(p, tuple(fields))


def check_template(t: Template) -> None:
    """Every field inside the page (used by the tests and for custom templates)."""
    W, H = t.size.width_mm, t.size.height_mm
    for f in t.fields:
        if f.x < -1e-6 or f.y < -1e-6 or f.x + f.w > W + 1e-6 or f.y + f.h > H + 1e-6:
            raise LabelError(f"{t.size.name}: field {f.kind}/{f.source or f.text!r} at "
                             f"({f.x:.1f}, {f.y:.1f}) {f.w:.1f}×{f.h:.1f} mm is outside the "
                             f"{W}×{H} mm page")


def labels_list(labels: Sequence[LabelData]) -> list[LabelData]:
    items = list(labels)
    if not items:
        raise LabelError("no labels to render")
    for i, lb in enumerate(items):
        if not isinstance(lb, LabelData):
            raise LabelError(f"label {i + 1} is a {type(lb).__name__}, not LabelData")
        check_label(lb, i)
    return items
