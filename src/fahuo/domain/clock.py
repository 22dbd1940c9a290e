"""Times as people read them: in the shop's zone (China, UTC+8), whatever the server's TZ.

Douyin shops trade in Beijing time; its API stamps and couriers' times are Beijing time too,
so one zone serves the merchant, the platform and the couriers."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

SHOP_TZ = ZoneInfo("Asia/Shanghai")
# China has kept UTC+8 without daylight saving since 1991, so SQL may bucket shop days and
# hours by this fixed offset on epoch seconds (reports), never by the server's TZ.
SHOP_OFFSET_S = int((datetime(2020, 1, 1, tzinfo=SHOP_TZ).utcoffset() or timedelta()).total_seconds())


def shop_time(ts: float | None, fmt: str = "%Y-%m-%d %H:%M", *, empty: str = "—") -> str:
    """An epoch second as the merchant reads it; ``empty`` when there is no time."""
    if not ts:
        return empty
    return datetime.fromtimestamp(ts, SHOP_TZ).strftime(fmt)


def shop_now() -> datetime:
    return datetime.now(SHOP_TZ)


def shop_day(ts: float) -> tuple[int, int]:
    """The shop's calendar day holding ``ts``: [midnight, next midnight) as epoch seconds.

    Midnight in the shop's zone, not the server's: a packer's "today" ends at 00:00 Beijing."""
    day = datetime.fromtimestamp(ts, SHOP_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    start = int(day.timestamp())
    return start, int((day + timedelta(days=1)).timestamp())
