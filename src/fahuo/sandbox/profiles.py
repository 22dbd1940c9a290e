"""Order profiles: a background thread creating orders in real time (steady, or a spike)."""
from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core import Sandbox


class ProfileRunner:
    """Creates orders in real time following a steady or spike (ramp up / plateau / ramp down) profile."""

    def __init__(self, sb: Sandbox, shop_id: int, profile: str, rate_per_s: float | None, duration_s: float | None):
        self.sb, self.shop_id, self.profile = sb, int(shop_id), profile
        self.rate = float(rate_per_s if rate_per_s is not None else (400 if profile == "spike" else 2))
        self.duration = float(duration_s if duration_s is not None else (180 if profile == "spike" else 3600))
        self.created = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sandbox-profile-{shop_id}", daemon=True)
        self.started_at = time.monotonic()

    def start(self) -> None:
        self._thread.start()

    def rate_at(self, t: float) -> float:
        if self.profile != "spike":
            return self.rate
        f = t / self.duration if self.duration else 1.0
        if f < 0.2:
            return self.rate * (0.05 + 0.95 * f / 0.2)
        if f < 0.6:
            return self.rate
        return self.rate * max(0.05, (1.0 - f) / 0.4)

    def _run(self) -> None:
        tick, acc, seq = 0.25, 0.0, 0
        while not self._stop.wait(tick):
            t = time.monotonic() - self.started_at
            if t > self.duration:
                break
            acc += self.rate_at(t) * tick
            n = int(acc)
            if n:
                acc -= n
                seq += 1
                try:
                    self.created += self.sb.orders.generate(self.shop_id, n, seed=f"profile:{seq}:{time.time_ns()}",
                                                     spread_seconds=0)["inserted"]
                except Exception:  # noqa: BLE001 - keep the runner alive; the DB may be closing
                    if self._stop.is_set():
                        break

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)

    def status(self) -> dict[str, Any]:
        return {"shop_id": self.shop_id, "profile": self.profile, "rate_per_s": self.rate,
                "duration_s": self.duration, "created": self.created, "running": self._thread.is_alive()}
