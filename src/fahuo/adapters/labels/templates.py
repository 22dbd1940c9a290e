"""The built-in label templates: one layout per size profile, fields in mm.

A one-part label stacks courier, sort code, short address, barcode, receiver, sender, items,
order ids / pack / time and the merchant's custom area; a two-part label puts the same main part
above the perforation and a recipient's stub (barcode, receiver, sender, custom area) below it.
Row heights are base heights scaled to the page, so every size shares one layout.
"""

from __future__ import annotations

import math
from functools import lru_cache

from .model import Field, LabelError, Template, get_size

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
