"""Fitting text into a label field: shrink, then wrap, then fail or cut with "…".

Units are the caller's (points for the PDF; ZPL converts to dots afterwards); widths come from
the caller's font metrics, so the PDF and ZPL renderers share the rules, not the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from .model import LabelError

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
