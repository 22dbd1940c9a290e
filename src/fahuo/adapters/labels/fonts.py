"""The CJK font labels, pick lists and packing slips are drawn with (reportlab).

One TrueType font registered once per process and embedded once per document (reportlab
embeds 256-glyph subsets of TTF/TTC fonts, each subset once, with a ToUnicode map, so text
stays extractable). Font search: ``font_path`` argument, then ``$FAHUO_LABEL_FONT``, then the
usual Noto CJK / WenQuanYi / Droid / AR PL paths, then fontconfig (``fc-list :lang=zh``).
Without any, the built-in CID font ``STSong-Light`` (not embedded: the viewer/printer supplies
it) with a logged warning.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont

from .model import LabelError

log = structlog.get_logger(__name__)

FONT_ENV = "FAHUO_LABEL_FONT"
CID_FALLBACK = "STSong-Light"
# TrueType-outline CJK fonts reportlab can embed (CFF-flavoured .otf/.ttc such as Debian's
# fonts-noto-cjk are tried too but reportlab rejects PostScript outlines; they are skipped).
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansSC-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "C:/Windows/Fonts/simhei.ttf",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simsun.ttc",
)


@dataclass(slots=True)
class LabelFont:
    name: str  # registered reportlab font name
    path: str | None  # None for the CID fallback
    embedded: bool
    ascent: float  # em units (size 1)
    descent: float  # negative, em units
    _widths: dict[str, float]
    _width_of: Callable[[str], float]
    _str_width: Callable[[str, float], float] | None = None  # reportlab's (C) string width

    def em(self, ch: str) -> float:
        w = self._widths.get(ch)
        if w is None:
            w = self._widths[ch] = self._width_of(ch)
        return w

    def width(self, text: str, size: float) -> float:
        return self.text_em(text) * size

    def text_em(self, text: str) -> float:
        if self._str_width is not None:
            return self._str_width(text, 1.0)
        em = self.em
        return sum(em(ch) for ch in text)

    @property
    def line_em(self) -> float:
        return max(1.15, (self.ascent - self.descent) * 1.05)


_fonts: dict[str, LabelFont] = {}
_fonts_lock = threading.Lock()


def _load_ttf(path: str) -> LabelFont:
    name = "FahuoCJK-" + hashlib.sha1(os.path.abspath(path).encode()).hexdigest()[:8]
    font = TTFont(name, path, subfontIndex=0)
    pdfmetrics.registerFont(font)
    face = font.face
    widths = face.charWidths
    default = face.defaultWidth

    def width_of(ch: str) -> float:
        return widths.get(ord(ch), default) / 1000.0

    return LabelFont(name, path, True, face.ascent / 1000.0, face.descent / 1000.0, {},
                     width_of, font.stringWidth)


def _load_cid() -> LabelFont:
    if CID_FALLBACK not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CID_FALLBACK))

    def width_of(ch: str) -> float:
        return pdfmetrics.stringWidth(ch, CID_FALLBACK, 1.0)

    return LabelFont(CID_FALLBACK, None, False, 0.88, -0.12, {}, width_of,
                     lambda text, size: pdfmetrics.stringWidth(text, CID_FALLBACK, size))


def _fontconfig_paths() -> list[str]:
    exe = shutil.which("fc-list")
    if not exe:
        return []
    try:
        out = subprocess.run([exe, ":lang=zh", "file"], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    paths = sorted({line.split(":")[0].strip() for line in out.splitlines() if line.strip()})
    return [p for p in paths if p.lower().endswith((".ttf", ".ttc", ".otf"))]


def find_font(font_path: str | None = None) -> LabelFont:
    """The CJK font for labels (cached per process; see the module docstring for the order).

    An explicit ``font_path`` or ``$FAHUO_LABEL_FONT`` that cannot be loaded is an error
    (LabelError), not a silent fallback."""
    explicit = font_path or os.environ.get(FONT_ENV) or None
    key = explicit or ""
    with _fonts_lock:
        if key in _fonts:
            return _fonts[key]
        font: LabelFont | None = None
        if explicit:
            if not os.path.isfile(explicit):
                raise LabelError(f"label font {explicit!r} (from "
                                 f"{'font_path' if font_path else FONT_ENV}) does not exist")
            try:
                font = _load_ttf(explicit)
            except (TTFError, OSError, ValueError) as e:
                raise LabelError(f"label font {explicit!r} cannot be embedded: {e} (a TrueType "
                                 "outline .ttf/.ttc is needed, e.g. WenQuanYi Zen Hei)") from e
        else:
            tried: list[str] = []
            for path in (*FONT_CANDIDATES, *_fontconfig_paths()):
                if path in tried or not os.path.isfile(path):
                    continue
                tried.append(path)
                try:
                    font = _load_ttf(path)
                    break
                except (TTFError, OSError, ValueError) as e:
                    log.debug("label font skipped", path=path, error=str(e))
            if font is None:
                log.warning("no embeddable CJK TrueType font found; labels use the built-in "
                            f"CID font {CID_FALLBACK}, which is NOT embedded and may print "
                            "differently (install fonts-wqy-zenhei or set "
                            f"{FONT_ENV}=/path/to/font.ttf)", tried=tried)
                font = _load_cid()
        _fonts[key] = font
        return font
