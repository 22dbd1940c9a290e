"""The one retry policy of fahuo's outbound calls (the Douyin gateway, alert webhooks).

Attempts in all (the first included) and the wait before retry *n* (n = 1, 2, …):
``min(initial_wait * 2**(n-1) + U(0, jitter), max_wait)``, ``jitter = initial_wait`` unless
given (``jitter=0``: the exact doubling, as the alert webhook waits).
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    initial_wait: float = 0.2
    max_wait: float = 5.0
    jitter: float | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.initial_wait < 0 or self.max_wait < 0:
            raise ValueError("waits must be >= 0")

    def wait_before(self, retry_number: int) -> float:
        """Seconds to wait before retry ``retry_number`` (1-based)."""
        jitter = self.initial_wait if self.jitter is None else self.jitter
        base = self.initial_wait * (2 ** (retry_number - 1))
        return min(base + random.uniform(0, jitter), self.max_wait)


__all__ = ["RetryPolicy"]
