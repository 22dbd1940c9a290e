"""Labels as one PDF per batch (reportlab), one label per page.

- Page size exactly the label stock (mm → pt), no margins, ``PrintScaling=None`` so print
  dialogs default to "actual size".
- Code 128 is drawn as vector bars at an integer module width: a whole number of printer
  dots (203 dpi by default, ``printer_dpi=300`` for 300 dpi printers), the symbol placed on
  the dot grid, with 10-module quiet zones on both sides, sized to the largest module that
  fits the field. reportlab's ``code128`` does the encoding (code-set switching, checksum);
  the bars go out as one path per symbol, which keeps 10,000-label files small.
- CJK text uses one TrueType font, embedded once per document (``fonts.py`` says which and
  how it is found); the bar geometry is in ``barcodes.py``, shared with the ZPL renderer.
- Deterministic: ``invariant=1`` (fixed dates and document id), so printing the same batch
  twice yields byte-identical files.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections.abc import Sequence

from reportlab import rl_config
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from .barcodes import MAX_MODULE_MM, QUIET_MODULES, code128_pattern, module_dots, qr_matrix
from .fitting import fit_text
from .fonts import FONT_ENV, LabelFont, find_font
from .model import Field, LabelData, LabelError, Template, field_text, labels_list
from .templates import template_for

# Kept importable from here, where callers found them before the split.
__all__ = [
    "DEFAULT_PRINTER_DPI", "FONT_ENV", "MAX_MODULE_MM", "QUIET_MODULES", "LabelFont",
    "code128_pattern", "find_font", "module_dots", "qr_matrix", "render_pdf", "save_canvas",
]

DEFAULT_PRINTER_DPI = 203


# --------------------------------------------------------------------------- rendering


class _Renderer:
    def __init__(self, template: Template, font: LabelFont, dpi: int) -> None:
        self.t = template
        self.font = font
        self.dpi = dpi
        self.dot = 72.0 / dpi  # pt
        self.W = template.size.width_mm * mm
        self.H = template.size.height_mm * mm
        self._logo_ok: dict[str, bool] = {}
        self._static = [f for f in template.fields
                        if f.kind in ("line", "box") or (f.kind == "text" and not f.source)]
        self._dynamic = [f for f in template.fields if f not in self._static]
        self._static_done = False
        self._forms: set[str] = set()

    def page(self, c: Canvas, label: LabelData, idx: int) -> None:
        if self._static:
            if not self._static_done:  # the template's fixed lines/boxes/tags: one XObject
                c.beginForm("fahuo_tpl")
                for f in self._static:
                    self._field(c, f, label, idx)
                c.endForm()
                self._static_done = True
            c.doForm("fahuo_tpl")
        for f in self._dynamic:
            self._field(c, f, label, idx)

    def _field(self, c: Canvas, f: Field, label: LabelData, idx: int) -> None:
        kind = f.kind
        if kind == "text":
            self._text(c, f, label, idx)
        elif kind == "barcode":
            self._barcode(c, f, label, idx)
        elif kind == "line":
            self._line(c, f)
        elif kind == "box":
            c.setLineWidth(f.line_width * mm)
            c.rect(f.x * mm, self.H - (f.y + f.h) * mm, f.w * mm, f.h * mm, stroke=1, fill=0)
        elif kind == "qr":
            self._qr(c, f, label)
        elif kind == "image":
            self._image(c, f, label)

    def _what(self, f: Field, idx: int, label: LabelData) -> str:
        return f"label {idx + 1} ({label.track_no}): {f.source or 'text'}"

    def _text(self, c: Canvas, f: Field, label: LabelData, idx: int) -> None:
        text = field_text(label, f)
        if not text:
            if f.required:
                raise LabelError(f"{self._what(f, idx, label)} is empty")
            return
        font = self.font
        bw, bh = f.w * mm, f.h * mm
        fit = fit_text(text, bw, bh, f.font_size, f.min_font_size, font.em, font.line_em,
                       overflow=f.overflow, what=lambda: self._what(f, idx, label),
                       text_em=font.text_em)
        size, lh = fit.size, fit.line_height
        total = lh * len(fit.lines)
        top = self.H - f.y * mm
        if f.valign == "middle":
            top -= (bh - total) / 2
        # baseline inside each line box: glyph box (ascent..descent) centred in the line
        base_off = (lh - (font.ascent - font.descent) * size) / 2 + font.ascent * size
        c.setFont(font.name, size)
        x0 = f.x * mm
        for i, line in enumerate(fit.lines):
            if not line:
                continue
            y = top - i * lh - base_off
            if f.align == "left":
                c.drawString(x0, y, line)
            else:
                w = font.width(line, size)
                c.drawString(x0 + (bw - w) / (2 if f.align == "center" else 1), y, line)

    def _barcode(self, c: Canvas, f: Field, label: LabelData, idx: int) -> None:
        value = field_text(label, f)
        bars = code128_pattern(value)
        modules = bars[-1][0]
        k = module_dots(modules, f.w, self.dpi, self._what(f, idx, label))
        mod = k * self.dot
        sym_w = (modules + 2 * QUIET_MODULES) * mod
        dot = self.dot
        x = f.x * mm + (f.w * mm - sym_w) / 2
        x = round(x / dot) * dot + QUIET_MODULES * mod  # first bar on the printer's dot grid
        y = self.H - (f.y + f.h) * mm
        # Bars in module units under one scaling transform: "12 0 2 1 re" instead of four
        # long decimals per bar (a third of the page stream); geometry is identical.
        c.saveState()
        c.transform(mod, 0, 0, f.h * mm, x, y)
        p = c.beginPath()
        for start, width in bars[:-1]:
            p.rect(start, 0, width, 1)
        c.drawPath(p, stroke=0, fill=1)
        c.restoreState()

    def _line(self, c: Canvas, f: Field) -> None:
        c.setLineWidth(f.line_width * mm)
        if f.dashed:
            c.setDash(3 * mm, 2 * mm)
        c.line(f.x * mm, self.H - f.y * mm, (f.x + f.w) * mm, self.H - (f.y + f.h) * mm)
        if f.dashed:
            c.setDash()

    def _qr(self, c: Canvas, f: Field, label: LabelData) -> None:
        text = field_text(label, f)
        if not text:
            return
        # The same QR (a shop link) on every label of a batch: drawn once as an XObject.
        name = "fahuo_qr_" + hashlib.sha1(f"{f.x},{f.y},{f.w},{f.h}|{text}".encode()).hexdigest()[:16]
        if name not in self._forms:
            c.beginForm(name)
            self._qr_draw(c, f, text)
            c.endForm()
            self._forms.add(name)
        c.doForm(name)

    def _qr_draw(self, c: Canvas, f: Field, text: str) -> None:
        rows = qr_matrix(text)
        n = len(rows)
        side = min(f.w, f.h) * mm
        border = 4
        mod = side / (n + 2 * border)
        if mod >= self.dot:
            mod = int(mod / self.dot) * self.dot
        x0 = f.x * mm + (f.w * mm - mod * n) / 2
        top = self.H - f.y * mm - (f.h * mm - mod * n) / 2
        p = c.beginPath()
        for r, row in enumerate(rows):
            cnum = 0
            while cnum < n:
                if row[cnum]:
                    start = cnum
                    while cnum < n and row[cnum]:
                        cnum += 1
                    p.rect(x0 + start * mod, top - (r + 1) * mod, (cnum - start) * mod, mod)
                else:
                    cnum += 1
        c.drawPath(p, stroke=0, fill=1)

    def _image(self, c: Canvas, f: Field, label: LabelData) -> None:
        path = field_text(label, f)
        if not path:
            return
        ok = self._logo_ok.get(path)
        if ok is None:
            ok = self._logo_ok[path] = os.path.isfile(path)
        if not ok:
            raise LabelError(f"logo file {path!r} does not exist")
        try:
            c.drawImage(path, f.x * mm, self.H - (f.y + f.h) * mm, f.w * mm, f.h * mm,
                        preserveAspectRatio=True, anchor="c", mask="auto")
        except Exception as e:  # reportlab/Pillow raise many kinds for a bad image
            self._logo_ok[path] = False
            raise LabelError(f"logo file {path!r} cannot be read as an image: {e}") from e


def render_pdf(labels: Sequence[LabelData], size: str, *, font_path: str | None = None,
               printer_dpi: int = DEFAULT_PRINTER_DPI, template: Template | None = None,
               title: str = "fahuo labels") -> bytes:
    """One PDF for the whole batch, one label per page in the given order.

    Raises LabelError for an unknown size, a tracking number Code 128 cannot carry, a
    receiver that does not fit its box even shrunk and wrapped, a missing logo, etc."""
    tpl = template or template_for(size)
    items = labels_list(labels)
    if printer_dpi not in (203, 300, 600):
        raise LabelError(f"printer_dpi must be 203, 300 or 600, not {printer_dpi!r}")
    font = find_font(font_path)
    r = _Renderer(tpl, font, printer_dpi)
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(r.W, r.H), invariant=1, pageCompression=1, initialFontName=None)
    c.setTitle(title)
    c.setCreator("fahuo")
    c.setProducer("fahuo")
    c.setViewerPreference("PrintScaling", "None")
    for i, label in enumerate(items):
        r.page(c, label, i)
        c.showPage()
    save_canvas(c)
    return buf.getvalue()


_save_lock = threading.Lock()


def save_canvas(c: Canvas) -> None:
    """``c.save()`` with plain Flate streams: reportlab's default ASCII85 layer on top of
    the compression costs 25 % in size and much time; it is read at save time from a
    process-wide setting, so it is switched off just for the save."""
    with _save_lock:
        old = rl_config.useA85
        rl_config.useA85 = 0
        try:
            c.save()
        finally:
            rl_config.useA85 = old
