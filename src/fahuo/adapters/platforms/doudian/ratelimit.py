"""Client-side call budget per app (docs/doudian-open-platform.md §13.2).

The platform's QPS limits are per API and unpublished; exceeding them yields code 60000.
``RateBudget`` keeps one app's calls under a configurable rate. With a Redis URL (or
client) the budget lives in Redis, so several worker machines share one app budget
(pyrate-limiter's ``RedisBucket``: an atomic Lua sliding-window log; machines' clocks must
be NTP-synced because the bucket uses local time).
"""

from __future__ import annotations

import threading
from typing import Any

from pyrate_limiter import Duration, InMemoryBucket, Limiter, Rate, RedisBucket

from .errors import Throttled

__all__ = ["RateBudget", "RateBudgetExhausted"]


class RateBudgetExhausted(Throttled):
    """The call would wait for the budget past its deadline: fail now, retry later (the task
    queue or the next pass), instead of holding a worker thread for the wait."""

    retryable = False  # not within this call: waiting is exactly what it must not do


class RateBudget:
    """At most ``calls`` calls per ``per_seconds`` seconds for each app key, and at most a
    quarter of them (rounded up) per quarter of that period.

    The quarter cap is why: with only the whole-period window, a full burst may leave at
    the end of one window and the next at the start of the following one; a little network
    jitter then lands twice the budget inside one platform window (60000). Spread by
    quarters, any window a little longer than the period holds at most a quarter more.

    ``acquire(app_key)`` blocks until the call is allowed.
    """

    def __init__(
        self,
        calls: int = 5,
        per_seconds: float = 1.0,
        *,
        redis_url: str | None = None,
        redis_client: Any = None,
        key_prefix: str = "fahuo:doudian:budget",
        max_wait_s: float | None = None,
    ) -> None:
        if isinstance(calls, bool) or not isinstance(calls, int) or calls < 1:
            raise ValueError(f"calls must be a positive int, got {calls!r}")
        if per_seconds <= 0:
            raise ValueError(f"per_seconds must be > 0, got {per_seconds!r}")
        interval_ms = int(round(per_seconds * Duration.SECOND))
        if interval_ms < 1:
            raise ValueError("per_seconds must be at least 1 ms")
        if max_wait_s is not None and max_wait_s < 0:
            raise ValueError(f"max_wait_s must be >= 0, got {max_wait_s!r}")
        self.calls = calls
        self.per_seconds = per_seconds
        self.max_wait_s = max_wait_s  # None: wait as long as it takes
        quarter_ms = interval_ms // 4
        self._rates = [Rate(-(-calls // 4), quarter_ms)] if calls > 1 and quarter_ms else []
        self._rates.append(Rate(calls, interval_ms))
        self._key_prefix = key_prefix
        if redis_client is None and redis_url is not None:
            import redis  # local import: only needed for the shared budget

            redis_client = redis.Redis.from_url(redis_url)
        self._redis = redis_client
        self._limiters: dict[str, Limiter] = {}
        self._lock = threading.Lock()

    @property
    def shared(self) -> bool:
        """True when the budget lives in Redis."""
        return self._redis is not None

    def _limiter(self, app_key: str) -> Limiter:
        with self._lock:
            limiter = self._limiters.get(app_key)
            if limiter is None:
                if self._redis is not None:
                    bucket = RedisBucket.init(self._rates, self._redis, f"{self._key_prefix}:{app_key}")
                else:
                    bucket = InMemoryBucket(self._rates)
                limiter = Limiter(bucket)
                self._limiters[app_key] = limiter
            return limiter

    def acquire(self, app_key: str, max_wait_s: float | None = None) -> None:
        """Block until one more call for ``app_key`` fits the budget; raise
        :class:`RateBudgetExhausted` when that would take longer than ``max_wait_s``
        (default: the budget's own ``max_wait_s``; None on both: no limit)."""
        key = str(app_key)
        limit = self.max_wait_s if max_wait_s is None else max_wait_s
        limiter = self._limiter(key)
        if limit is None:
            ok = limiter.try_acquire(key, weight=1, blocking=True, timeout=-1)
        elif self.per_seconds / self.calls > limit:
            # The spacing of two calls alone is past the deadline: do not sleep to find out.
            ok = limiter.try_acquire(key, weight=1, blocking=False)
        else:
            ok = limiter.try_acquire(key, weight=1, blocking=True, timeout=limit)
        if not ok:
            raise RateBudgetExhausted(
                f"rate budget of {self.calls} calls per {self.per_seconds:g} s for app {key} "
                f"has no room within {limit:g} s; retry later")

    def close(self) -> None:
        with self._lock:
            limiters, self._limiters = list(self._limiters.values()), {}
        for limiter in limiters:
            limiter.close()
