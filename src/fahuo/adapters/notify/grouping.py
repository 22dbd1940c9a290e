"""Pure alert grouping and routing: no I/O, no clock (``now`` is passed in).

Grouping: every scan yields findings ``(kind, line)`` — e.g. ``("stalled", "SF123 上海 3 天无轨迹")``
for each of 37 stalled parcels. :func:`group_alerts` turns them into **one** :class:`Alert` per
kind (listing up to ``max_lines`` lines; ``count`` is all of them), but only for kinds whose
interval has elapsed since ``last_sent[kind]``. Kinds still inside their interval are **omitted**
from the result (not queued): findings describe current state, so the next scan after the
interval finds whatever is still wrong and reports it then. After a successful send, record it
with :func:`mark_sent`. Identical lines of one kind are counted once.

Routing: which channel (by configured name) gets which kinds; see :class:`Routing`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from fahuo.adapters.notify.base import Alert

DEFAULT_TITLES: dict[str, str] = {
    "stalled": "{count} 个包裹停滞 / {count} parcels stalled",
    "deadline": "{count} 个订单即将超时发货 / {count} orders near the shipping deadline",
    "auth_expired": "{count} 个店铺授权失效 / {count} shop authorisations expired",
    "print_failed": "{count} 张面单打印失败 / {count} labels failed to print",
    "sync_failed": "{count} 次同步失败 / {count} sync failures",
}
WILDCARD = "*"


def _title(kind: str, count: int, titles: Mapping[str, str] | None) -> str:
    tpl = (titles or {}).get(kind) or DEFAULT_TITLES.get(kind) or "[fahuo] {kind}: {count}"
    return tpl.format(kind=kind, count=count)


def is_due(kind: str, *, interval_s: int, last_sent: Mapping[str, int], now: int,
           intervals: Mapping[str, int] | None = None) -> bool:
    last = last_sent.get(kind)
    every = (intervals or {}).get(kind, interval_s)
    return last is None or now - last >= every


def group_alerts(findings: Iterable[tuple[str, str]], *, interval_s: int,
                 last_sent: Mapping[str, int], now: int, max_lines: int = 30,
                 intervals: Mapping[str, int] | None = None,
                 titles: Mapping[str, str] | None = None,
                 links: Mapping[str, str] | None = None) -> list[Alert]:
    """One alert per due kind, in order of each kind's first finding.

    ``interval_s`` is the minimum seconds between two alerts of one kind; ``intervals``
    overrides it per kind. ``titles`` maps kind → template with ``{count}`` / ``{kind}``;
    ``links`` maps kind → console URL.
    """
    if max_lines < 0:
        raise ValueError("max_lines must be >= 0")
    by_kind: dict[str, dict[str, None]] = {}
    for kind, line in findings:
        by_kind.setdefault(kind, {})[line] = None  # ordered, de-duplicated
    out = []
    for kind, lines in by_kind.items():
        if not is_due(kind, interval_s=interval_s, last_sent=last_sent, now=now,
                      intervals=intervals):
            continue
        all_lines = list(lines)
        out.append(Alert(kind=kind, title=_title(kind, len(all_lines), titles),
                         lines=all_lines[:max_lines], count=len(all_lines),
                         link=(links or {}).get(kind)))
    return out


def mark_sent(last_sent: Mapping[str, int], alerts: Iterable[Alert], now: int) -> dict[str, int]:
    """A new ``last_sent`` with every alert's kind stamped ``now``."""
    new = dict(last_sent)
    for a in alerts:
        new[a.kind] = now
    return new


class RoutingError(ValueError):
    """Invalid routing config; ``problems`` lists ``"field: what is wrong"`` strings."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid notify routing: " + "; ".join(problems))


@dataclass(frozen=True)
class Routing:
    """Which channels get which alert kinds.

    Config shape (``to_dict`` / ``from_dict``)::

        {"routes": {"ops-dingtalk": ["stalled", "deadline"],   # channel name -> kinds
                    "boss-mail":    ["*"]}}                     # "*" = every kind

    A kind routed to no channel is not sent anywhere (``channels_for`` returns ``[]``).
    """

    routes: dict[str, frozenset[str]] = field(default_factory=dict)

    def channels_for(self, kind: str) -> list[str]:
        return [ch for ch, kinds in self.routes.items() if kind in kinds or WILDCARD in kinds]

    def to_dict(self) -> dict:
        return {"routes": {ch: sorted(kinds) for ch, kinds in self.routes.items()}}

    @classmethod
    def from_dict(cls, data: object, *, channels: Collection[str] | None = None,
                  kinds: Collection[str] | None = None) -> Routing:
        """Validate and build. ``channels`` / ``kinds``, when given, are the known names;
        anything else is reported. Every problem is collected, naming its field."""
        problems: list[str] = []
        if not isinstance(data, Mapping):
            raise RoutingError([f"routing: expected an object, got {type(data).__name__}"])
        extra = sorted(set(data) - {"routes"})
        if extra:
            problems.append(f"routing: unknown field(s) {', '.join(map(repr, extra))}")
        raw = data.get("routes", {})
        routes: dict[str, frozenset[str]] = {}
        if not isinstance(raw, Mapping):
            problems.append(f"routes: expected an object of channel -> kinds, "
                            f"got {type(raw).__name__}")
            raw = {}
        for ch, ks in raw.items():
            where = f"routes.{ch}"
            if not isinstance(ch, str) or not ch.strip():
                problems.append(f"routes: channel name {ch!r} must be a non-empty string")
                continue
            if channels is not None and ch not in channels:
                problems.append(f"{where}: unknown channel {ch!r} "
                                f"(configured: {', '.join(sorted(channels)) or 'none'})")
            if isinstance(ks, str) or not isinstance(ks, list | tuple):
                problems.append(f"{where}: expected a list of kinds, got {type(ks).__name__}")
                continue
            good = set()
            for i, k in enumerate(ks):
                if not isinstance(k, str) or not k.strip():
                    problems.append(f"{where}[{i}]: kind {k!r} must be a non-empty string")
                elif kinds is not None and k != WILDCARD and k not in kinds:
                    problems.append(f"{where}[{i}]: unknown kind {k!r} "
                                    f"(known: {', '.join(sorted(kinds))})")
                else:
                    good.add(k)
            routes[ch] = frozenset(good)
        if problems:
            raise RoutingError(problems)
        return cls(routes=routes)
