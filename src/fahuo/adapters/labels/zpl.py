"""Labels as ZPL II for Zebra-compatible thermal printers, from the same templates as the PDF.

One ``^XA … ^XZ`` block per label, UTF-8 (``^CI28``), ``^PW``/``^LL`` from the label size
at 8 dots/mm (203 dpi) or 12 dots/mm (300 dpi), field positions converted from mm.

Assumptions, stated because no printer is at hand to confirm them:

- **CJK font.** Zebra's resident fonts (``^A0`` CG Triumvirate etc.) have no Chinese glyphs.
  Text fields use ``^A@N,h,w,<font>`` with ``font`` defaulting to ``E:SIMSUN.TTF``: a Chinese
  TrueType font the merchant has downloaded to the printer (Zebra Setup Utilities / ZebraNet
  Bridge; Zebra sells "Andale Mono Simplified Chinese" as ``E:ANMDS.TTF``). Pass ``font=`` to
  name another one: fahuo passes the shop's ``zpl_font`` setting (or a font named for one
  print); ``zpl_font_problem`` is the one rule for a usable name (drive:name.TTF/.TTE/.FNT).
  Clones that map ``^A@`` differently need that font name too.
- **Text metrics.** The printer wraps with its own font metrics, which fahuo cannot read, so
  the fit uses conservative advances (CJK 1 em, others 0.6 em) and passes the lines it
  computed as ``\\&``-separated lines of a ``^FB`` block (width, max lines, justification);
  ``^FB`` also keeps a printer that measures wider inside the block (it overprints the last
  line rather than spilling below it).
- **Barcode.** ``^BY`` sets the module width in whole dots; ``^BCN,h,N,N,N,A`` uses the
  printer's automatic subset selection (firmware V60.14 and later), which may differ from
  reportlab's choice by a symbol, so the fit keeps one symbol (11 modules) of slack beyond
  the two 10-module quiet zones.
- Field data goes through ``^FH_``: ``_``, ``^`` and ``~`` are written as ``_5F``, ``_5E``,
  ``_7E``, so data can never end a field or start a command. Inside ``^FB`` a backslash is
  doubled (``\\\\``), as ``^FB`` reads ``\\&`` as a line break.
- Logos become ``^GFA`` graphics (1 bit, threshold 50 %), converted once per batch.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .barcodes import MAX_MODULE_MM, QUIET_MODULES, code128_pattern, qr_matrix
from .fitting import fit_text
from .model import Field, LabelData, LabelError, Template, field_text, labels_list
from .templates import template_for

ZPL_CJK_FONT = "E:SIMSUN.TTF"
# ^A@'s font: drive, object name, extension (.TTF TrueType, .TTE its extension, .FNT bitmap).
# A name the printer does not have is silently replaced by its default font (no Chinese),
# so a typo is refused here rather than found on a roll of labels.
_FONT = re.compile(r"[A-Z]:[A-Z0-9_-]{1,16}\.(TTF|TTE|FNT)", re.IGNORECASE)


def zpl_font_problem(font: object) -> str:
    """Why ``font`` cannot name a printer-resident ZPL font ("" when it can), in Chinese."""
    if isinstance(font, str) and _FONT.fullmatch(font):
        return ""
    return (f"ZPL 字体 {font!r} 不可用：应写成 驱动器:字体名.TTF（或 .TTE/.FNT），"
            "如 E:SIMSUN.TTF、E:ANMDS.TTF (font name)")
DPMM = {203: 8, 300: 12}  # Zebra's actual resolutions: 8 and 12 dots per mm
LINE_EM = 1.15
_SLACK_MODULES = 11
PT_MM = 25.4 / 72


def _em(ch: str) -> float:
    """Advance at size 1: Latin-1 0.6 em, everything else (CJK, full-width) 1 em. Wider than
    most fonts draw, so text measured here fits on the printer too."""
    return 0.6 if ord(ch) < 0x100 else 1.0


def _text_em(s: str) -> float:
    n = len(s)
    return 0.6 * n + 0.4 * (n - len(s.encode("latin-1", "ignore")))


def escape_fd(text: str, *, in_fb: bool = False) -> str:
    """Field data for use after ``^FH_``."""
    out = text.replace("_", "_5F").replace("^", "_5E").replace("~", "_7E")
    if in_fb:
        out = out.replace("\\", "\\\\")
    return out


class _Zpl:
    def __init__(self, tpl: Template, dpi: int, font: str) -> None:
        self.t = tpl
        self.dpmm = DPMM[dpi]
        self.dpi = dpi
        self.font = font
        self.head = (f"^XA\n^CI28\n^PW{self.d(tpl.size.width_mm)}\n"
                     f"^LL{self.d(tpl.size.height_mm)}\n^LH0,0\n")
        self.static: list[str] = []
        self.dynamic: list[Field] = []
        for f in tpl.fields:
            if f.kind in ("line", "box"):
                self.static.append(self._graphic(f))
            elif f.kind == "text" and not f.source:
                self.static.append(self._text(f, f.text, "template"))
            else:
                self.dynamic.append(f)
        self.static_zpl = "".join(self.static)
        self._logos: dict[str, str] = {}
        self._qrs: dict[tuple, str] = {}

    def d(self, v_mm: float) -> int:
        return int(round(v_mm * self.dpmm))

    def label(self, lb: LabelData, idx: int) -> str:
        parts = [self.head, self.static_zpl]
        for f in self.dynamic:
            k = f.kind
            if k == "text":
                text = field_text(lb, f)
                if text:
                    parts.append(self._text(f, text, lambda f=f: f"label {idx + 1} "
                                                                 f"({lb.track_no}): {f.source}"))
                elif f.required:
                    raise LabelError(f"label {idx + 1} ({lb.track_no}): {f.source} is empty")
            elif k == "barcode":
                parts.append(self._barcode(f, field_text(lb, f), idx))
            elif k == "qr":
                text = field_text(lb, f)
                if text:
                    parts.append(self._qr(f, text))
            elif k == "image":
                path = field_text(lb, f)
                if path:
                    parts.append(self._logo(f, path))
        parts.append("^XZ\n")
        return "".join(parts)

    # -- elements

    def _text(self, f: Field, text: str, what) -> str:
        fit = fit_text(text, f.w / PT_MM, f.h / PT_MM, f.font_size, f.min_font_size, _em,
                       LINE_EM, overflow=f.overflow, what=what, text_em=_text_em)
        h = max(10, int(round(fit.size * PT_MM * self.dpmm)))  # char height in dots
        lines = fit.lines
        y = f.y
        if f.valign == "middle":
            y += max(0.0, (f.h - fit.line_height * PT_MM * len(lines)) / 2)
        spacing = max(0, int(round((LINE_EM - 1) * h)))
        just = {"left": "L", "center": "C", "right": "R"}[f.align]
        data = "\\&".join(escape_fd(line, in_fb=True) for line in lines)
        return (f"^FO{self.d(f.x)},{self.d(y)}^A@N,{h},{h},{self.font}"
                f"^FB{self.d(f.w)},{len(lines)},{spacing},{just},0^FH_^FD{data}^FS\n")

    def _barcode(self, f: Field, value: str, idx: int) -> str:
        bars = code128_pattern(value)
        modules = bars[-1][0] + _SLACK_MODULES
        dot_mm = 1 / self.dpmm
        k = int(f.w / ((modules + 2 * QUIET_MODULES) * dot_mm) + 1e-9)
        k = min(k, max(1, int(MAX_MODULE_MM * self.dpmm + 1e-9)), 10)
        if k < 1:
            raise LabelError(f"label {idx + 1} ({value}): the Code 128 symbol needs "
                             f"{modules + 2 * QUIET_MODULES} modules with quiet zones, more "
                             f"than {f.w:.1f} mm holds at one dot per module")
        sym = (bars[-1][0]) * k
        x = self.d(f.x) + max(0, (self.d(f.w) - sym) // 2)
        h = self.d(f.h)
        return (f"^FO{x},{self.d(f.y)}^BY{k},3,{h}^BCN,{h},N,N,N,A"
                f"^FH_^FD{escape_fd(value)}^FS\n")

    def _qr(self, f: Field, text: str) -> str:
        key = (f.x, f.y, f.w, f.h, text)
        out = self._qrs.get(key)
        if out is None:
            n = len(qr_matrix(text))
            side = self.d(min(f.w, f.h))
            mag = max(1, min(10, side // (n + 8)))
            off = (side - n * mag) // 2
            # ^BQ draws its symbol about 10 dots below ^FO on Zebra firmware; left as is.
            out = self._qrs[key] = (f"^FO{self.d(f.x) + off},{self.d(f.y) + off}^BQN,2,{mag}"
                                    f"^FH_^FDMA,{escape_fd(text)}^FS\n")
        return out

    def _logo(self, f: Field, path: str) -> str:
        out = self._logos.get(path)
        if out is None:
            out = self._logos[path] = self._gfa(f, path)
        return out

    def _gfa(self, f: Field, path: str) -> str:
        try:
            from PIL import Image
            with Image.open(path) as im:
                im.load()
                img = im.convert("RGBA")
        except FileNotFoundError:
            raise LabelError(f"logo file {path!r} does not exist") from None
        except Exception as e:  # Pillow raises several kinds for a bad file
            raise LabelError(f"logo file {path!r} cannot be read as an image: {e}") from e
        bg = Image.new("RGBA", img.size, (255, 255, 255, 255))
        bg.alpha_composite(img)
        w_max, h_max = self.d(f.w), self.d(f.h)
        scale = min(w_max / bg.width, h_max / bg.height)
        w, h = max(1, int(bg.width * scale)), max(1, int(bg.height * scale))
        mono = bg.convert("L").resize((w, h)).point(lambda v: 0 if v < 128 else 255, "1")
        row_bytes = (w + 7) // 8
        # PIL "1" mode: 1 = white; ZPL ^GF: 1 = black. Invert per byte.
        raw = mono.tobytes()
        inv = bytes(b ^ 0xFF for b in raw)
        if w % 8:  # clear the padding bits at each row's end
            mask = (0xFF << (8 - w % 8)) & 0xFF
            inv = b"".join(inv[r * row_bytes:(r + 1) * row_bytes - 1]
                           + bytes([inv[(r + 1) * row_bytes - 1] & mask]) for r in range(h))
        total = row_bytes * h
        x = self.d(f.x) + (w_max - w) // 2
        y = self.d(f.y) + (h_max - h) // 2
        return f"^FO{x},{y}^GFA,{total},{total},{row_bytes},{inv.hex().upper()}^FS\n"

    def _graphic(self, f: Field) -> str:
        t = max(1, self.d(f.line_width))
        x, y = self.d(f.x), self.d(f.y)
        if f.kind == "box":
            return f"^FO{x},{y}^GB{self.d(f.w)},{self.d(f.h)},{t}^FS\n"
        w, h = self.d(f.w), self.d(f.h)
        if not f.dashed:
            return f"^FO{x},{y}^GB{max(w, t)},{max(h, t)},{t}^FS\n"
        dash, gap = self.d(3), self.d(2)
        out = []
        if h == 0:
            pos = 0
            while pos < w:
                out.append(f"^FO{x + pos},{y}^GB{min(dash, w - pos)},{t},{t}^FS\n")
                pos += dash + gap
        else:
            pos = 0
            while pos < h:
                out.append(f"^FO{x},{y + pos}^GB{t},{min(dash, h - pos)},{t}^FS\n")
                pos += dash + gap
        return "".join(out)


def render_zpl(labels: Sequence[LabelData], size: str, dpi: int = 203, *,
               font: str = ZPL_CJK_FONT, template: Template | None = None) -> str:
    """ZPL for the batch: one ``^XA … ^XZ`` per label, in order. ``dpi``: 203 or 300."""
    if dpi not in DPMM:
        raise LabelError(f"ZPL dpi must be 203 or 300, not {dpi!r}")
    problem = zpl_font_problem(font)
    if problem:
        raise LabelError(problem)
    tpl = template or template_for(size)
    items = labels_list(labels)
    z = _Zpl(tpl, dpi, font)
    return "".join(z.label(lb, i) for i, lb in enumerate(items))


__all__ = ["DPMM", "ZPL_CJK_FONT", "escape_fd", "render_zpl", "zpl_font_problem"]
