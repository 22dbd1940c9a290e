"""Money as the merchant reads it. fahuo keeps amounts as integer fen (the platform's unit);
every amount a person sees is written here: ``yuan(1250)`` → ``"12.50"``, ``yuan_text`` →
``"12.50元"``, ``price`` → ``"¥12.50"``. Integer arithmetic, so no float ever rounds a fen."""

from __future__ import annotations


def yuan(fen: int | None, *, trim: bool = False) -> str:
    """Fen as yuan with two decimals (None counts as 0). ``trim``: a whole amount without
    ``.00`` (what a settings form shows in its field: ``12``, ``12.50``); None is then ""."""
    if fen is None and trim:
        return ""
    fen = int(fen or 0)
    whole, part = divmod(abs(fen), 100)
    sign = "-" if fen < 0 else ""
    if trim and part == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{part:02d}"


def yuan_text(fen: int | None) -> str:
    """``12.50元``: an amount inside a sentence."""
    return f"{yuan(fen)}元"


def price(fen: int | None) -> str:
    """``¥12.50``: an amount in a table or a card."""
    return f"¥{yuan(fen)}"


__all__ = ["price", "yuan", "yuan_text"]
