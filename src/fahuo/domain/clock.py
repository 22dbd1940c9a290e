"""Times as people read them: in the shop's zone (China, UTC+8), whatever the server's TZ.

Douyin shops trade in Beijing time; its API stamps and couriers' times are Beijing time too,
so one zone serves the merchant, the platform and the couriers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

SHOP_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")  # no daylight saving since 1991


def shop_time(ts: float | None, fmt: str = "%Y-%m-%d %H:%M", *, empty: str = "—") -> str:
    """An epoch second as the merchant reads it; ``empty`` when there is no time."""
    if not ts:
        return empty
    return datetime.fromtimestamp(ts, SHOP_TZ).strftime(fmt)


def shop_now() -> datetime:
    return datetime.now(SHOP_TZ)
