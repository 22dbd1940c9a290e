"""Barcode geometry shared by the PDF and ZPL renderers: Code 128 bars, module width, QR."""

from __future__ import annotations

from functools import lru_cache

from reportlab.graphics.barcode.code128 import Code128

from .model import LabelError

QUIET_MODULES = 10
MAX_MODULE_MM = 0.5  # wider bars only waste label; scanners read 0.25–0.5 mm comfortably

@lru_cache(maxsize=4096)
def code128_pattern(value: str) -> tuple[tuple[int, int], ...]:
    """Bars of the Code 128 symbol for ``value`` as (start module, width in modules), and
    the symbol's total module count last as (modules, 0). No quiet zones included."""
    bc = Code128(value, barWidth=1, quiet=0, humanReadable=0)
    bc.validate()
    if bc.validated != value:
        raise LabelError(f"tracking number {value!r} has characters Code 128 cannot carry")
    bc.encode()
    pattern = bc.decompose()
    bars = []
    pos = 0
    for ch in pattern:
        if "A" <= ch <= "Z":
            w = ord(ch) - 64
            bars.append((pos, w))
            pos += w
        else:
            pos += ord(ch) - 96
    bars.append((pos, 0))
    return tuple(bars)


def module_dots(modules: int, field_w_mm: float, dpi: int, what: str) -> int:
    """Largest whole number of printer dots per module so that the symbol plus its two
    10-module quiet zones fits ``field_w_mm`` (capped at MAX_MODULE_MM)."""
    dot_mm = 25.4 / dpi
    k = int(field_w_mm / ((modules + 2 * QUIET_MODULES) * dot_mm) + 1e-9)
    k = min(k, max(1, int(MAX_MODULE_MM / dot_mm + 1e-9)))
    if k < 1:
        raise LabelError(f"{what}: the Code 128 symbol needs {modules + 2 * QUIET_MODULES} "
                         f"modules with quiet zones, more than {field_w_mm:.1f} mm holds at "
                         f"one {dot_mm:.3f} mm dot per module (tracking number too long)")
    return k


@lru_cache(maxsize=256)
def qr_matrix(text: str) -> tuple[tuple[bool, ...], ...]:
    from reportlab.graphics.barcode import qrencoder
    qr = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    qr.addData(text)
    qr.make()
    return tuple(tuple(bool(v) for v in row) for row in qr.modules)
