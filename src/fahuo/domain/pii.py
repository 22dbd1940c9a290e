"""Masking of buyer data for logs and screens."""

from __future__ import annotations

import re

_CIPHER = re.compile(r"^(##|\$\$|#).*")


def mask_name(name: str) -> str:
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def mask_phone(phone: str) -> str:
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_detail(detail: str) -> str:
    if not detail:
        return ""
    keep = min(4, len(detail) // 3)
    return detail[:keep] + "****"


def is_platform_cipher(value: str) -> bool:
    return bool(value) and bool(_CIPHER.match(value)) and len(value) > 8
