"""Send grouped alerts to the channels routing names; one failing channel never stops the rest."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import structlog

from fahuo.adapters.notify.base import Alert, Channel, NotifyError
from fahuo.adapters.notify.grouping import Routing

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Delivery:
    channel: str          # configured channel name (the routing key)
    kind: str
    error: NotifyError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def dispatch(alerts: Iterable[Alert], routing: Routing,
             channels: Mapping[str, Channel]) -> list[Delivery]:
    """Deliver each alert to every channel routed for its kind; return one Delivery each.

    A channel named in routing but missing from ``channels`` yields a failed Delivery.
    Callers stamp ``last_sent`` for a kind when at least one of its deliveries succeeded
    (see ``grouping.mark_sent``).
    """
    out: list[Delivery] = []
    for alert in alerts:
        for name in routing.channels_for(alert.kind):
            ch = channels.get(name)
            if ch is None:
                out.append(Delivery(name, alert.kind, NotifyError(name, "channel not configured")))
                continue
            try:
                ch.send(alert)
            except NotifyError as exc:
                log.warning("notify.dispatch_failed", channel=name, kind=alert.kind,
                            error=str(exc))
                out.append(Delivery(name, alert.kind, exc))
            else:
                out.append(Delivery(name, alert.kind))
    return out
