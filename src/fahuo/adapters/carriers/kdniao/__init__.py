"""Kdniao (快递鸟) tracking adapter — docs/tracking-and-couriers.md §2."""

from .client import RESULT_CODES, KdniaoClient, build_form, encode_form
from .codes import DOUYIN_TO_KDNIAO, PHONE_REQUIRED, kdniao_codes
from .push import KdniaoPush, data_sign, parse_form, parse_push, parse_trace, reply, verify_data_sign
from .settings import KdniaoSettings

__all__ = [
    "KdniaoClient",
    "KdniaoSettings",
    "KdniaoPush",
    "DOUYIN_TO_KDNIAO",
    "PHONE_REQUIRED",
    "RESULT_CODES",
    "build_form",
    "data_sign",
    "encode_form",
    "kdniao_codes",
    "parse_form",
    "parse_push",
    "parse_trace",
    "reply",
    "verify_data_sign",
]
