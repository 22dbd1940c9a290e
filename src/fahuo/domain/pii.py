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


# -- plain receiver text in platform payloads ------------------------------------------------

REMOVED = "[removed]"
# Keys whose value is the receiver (or part of it) wherever they appear in a payload.
_RECEIVER_ANYWHERE = frozenset({
    "post_receiver", "post_tel", "post_mobile", "receiver_name", "receiver_tel",
    "receiver_phone", "receiver_mobile", "receiver_detail", "receiver_address", "detail_address",
    "detail", "addr", "tel", "mobile", "phone", "telephone",
})
# Objects that hold a receiver: inside them `name` is the buyer's name too.
_RECEIVER_HOLDERS = frozenset({
    "receiver_msg", "post_receiver_msg", "receiver_info", "receiver", "contact", "post_addr",
    "address", "mask_post_addr",
})


def _is_plain(value: object) -> bool:
    """Plain receiver text: not empty, not masked (``*``), not the platform's ciphertext."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, (int, float)):
        return True
    if not isinstance(value, str):
        return False
    return bool(value.strip()) and "*" not in value and not is_platform_cipher(value)


def strip_plain_receiver(payload: object) -> object:
    """The payload without plain receiver text at any depth (lists of dicts of dicts…).

    Masked values and ciphertexts stay (screens and e-waybill calls use them); plain values
    become ``[removed]`` (fahuo keeps the top-level plain receiver only encrypted). Returns
    the very same object when there was nothing to strip, so the sync's hot path copies
    nothing for the usual payload."""
    return _strip(payload, False)


def _strip(node: object, holder: bool) -> object:
    if isinstance(node, dict):
        out = None
        for k, v in node.items():
            key = k.lower() if isinstance(k, str) else k
            pii = key in _RECEIVER_ANYWHERE or (holder and key == "name")
            if isinstance(v, (dict, list)):
                # under a receiver key, a structure is a receiver holder itself
                new = _strip(v, pii or key in _RECEIVER_HOLDERS)
            elif pii and _is_plain(v):
                new = REMOVED
            else:
                continue
            if new is not v:
                if out is None:
                    out = dict(node)
                out[k] = new
        return node if out is None else out
    if isinstance(node, list):
        items = None
        for i, v in enumerate(node):
            new = _strip(v, holder) if isinstance(v, (dict, list)) else v
            if new is not v:
                if items is None:
                    items = list(node)
                items[i] = new
        return node if items is None else items
    return node
