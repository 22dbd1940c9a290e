"""What every alert channel shares: the alert, the channel protocol, the error, rendering.

An :class:`Alert` is one grouped message ("37 parcels stalled"): ``lines`` holds at most a
screenful of item lines, ``count`` counts every item. Channels never invent the "… and N more"
line themselves; they call :func:`render_lines` / :func:`fit_lines`, which add it from
``count - len(lines)`` (and grow N when a size limit forces lines to be dropped), so the number
a merchant reads is always the true total.

Secrets (robot tokens, signing secrets, SMTP passwords) never appear in logs, reprs or
:class:`NotifyError` messages: channels pass every text they surface through :func:`redact`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

MORE_LINE = "… and {n} more"


@dataclass(frozen=True)
class Alert:
    """One grouped alert.

    kind:  machine name of the alert type (``"stalled"``, ``"auth_expired"``, …); routing keys on it.
    title: one-line summary; e-mail subject, DingTalk/Feishu title, WeCom heading.
    lines: item lines shown (at most ``max_lines`` when built by ``group_alerts``).
    count: how many items there are in total (``>= len(lines)``).
    link:  optional console URL where the merchant can act on it.
    """

    kind: str
    title: str
    lines: list[str] = field(default_factory=list)
    count: int = 0
    link: str | None = None

    def __post_init__(self) -> None:
        if not self.kind:
            raise ValueError("Alert.kind must not be empty")
        if self.count < len(self.lines):
            object.__setattr__(self, "count", len(self.lines))

    @property
    def more(self) -> int:
        """Items counted but not listed."""
        return max(0, self.count - len(self.lines))

    def to_dict(self) -> dict:
        return {"kind": self.kind, "title": self.title, "lines": list(self.lines),
                "count": self.count, "more": self.more, "link": self.link}


class NotifyError(Exception):
    """A channel could not deliver an alert.

    ``channel`` names the channel type ("dingtalk", "feishu", "wecom", "webhook", "email");
    ``code`` is the receiver's own error code or HTTP status when it gave one; ``detail`` its
    words (already redacted); ``retryable`` says whether trying again later may help.
    """

    def __init__(self, channel: str, detail: str, *, code: int | str | None = None,
                 retryable: bool = False) -> None:
        self.channel = channel
        self.detail = detail
        self.code = code
        self.retryable = retryable
        where = f"{channel} [{code}]" if code is not None else channel
        super().__init__(f"{where}: {detail}")


@runtime_checkable
class Channel(Protocol):
    """Delivers one alert or raises :class:`NotifyError` carrying the receiver's words."""

    name: str

    def send(self, alert: Alert) -> None: ...


# ---------------------------------------------------------------- helpers for channel modules


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every non-trivial secret occurring in ``text`` by ``***``."""
    for s in secrets:
        if s and len(s) >= 4:
            text = text.replace(s, "***")
    return text


def render_lines(alert: Alert, item: Callable[[str], str] = lambda s: s) -> list[str]:
    """The alert's item lines (formatted by ``item``) plus the "… and N more" line if needed."""
    out = [item(line) for line in alert.lines]
    if alert.more:
        out.append(MORE_LINE.format(n=alert.more))
    return out


def fit_lines(build: Callable[[list[str], int], str], alert: Alert, max_bytes: int) -> str:
    """Largest ``build(shown_lines, more)`` whose UTF-8 size is within ``max_bytes``.

    ``build`` renders the whole message from the item lines kept and the number of items not
    listed (it must render the "… and N more" line itself when ``more > 0``). Lines are dropped
    from the end until the message fits; if even the bare message does not fit, it is cut at a
    character boundary.
    """
    lines = list(alert.lines)
    base_more = alert.more
    lo, hi = 0, len(lines)
    text = build(lines, base_more)
    if len(text.encode()) <= max_bytes:
        return text
    # binary search the number of lines kept (size grows with the number kept)
    best = None
    while lo <= hi:
        mid = (lo + hi) // 2
        cand = build(lines[:mid], base_more + len(lines) - mid)
        if len(cand.encode()) <= max_bytes:
            best, lo = cand, mid + 1
        else:
            hi = mid - 1
    if best is not None:
        return best
    bare = build([], base_more + len(lines)).encode()[:max_bytes]
    return bare.decode(errors="ignore")
