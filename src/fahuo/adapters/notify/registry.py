"""Alert channels by kind (``ports.Notifier``): what each kind needs, how it is built from a
stored configuration, how a message goes out, and the one grouping (``grouping.group_alerts``
with ``grouping.Routing``) that production and its tests share."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .base import Alert, Channel, NotifyError
from .dingtalk import DingTalkChannel
from .email import EmailChannel
from .feishu import FeishuChannel
from .grouping import Routing, group_alerts
from .webhook import WebhookChannel
from .wecom import WeComChannel


def _base(c: dict[str, Any]) -> dict[str, Any]:
    return {"base_url": c["base_url"]} if c.get("base_url") else {}


# kind → (fields a configuration must have, how the channel is built from it)
CHANNELS: dict[str, tuple[tuple[str, ...], Callable[[dict[str, Any]], Channel]]] = {
    "dingtalk": (("url",), lambda c: DingTalkChannel.from_webhook_url(
        c["url"], c.get("secret"), **_base(c))),
    "feishu": (("hook_id",), lambda c: FeishuChannel(c["hook_id"], c.get("secret"), **_base(c))),
    "wecom": (("key",), lambda c: WeComChannel(c["key"], **_base(c))),
    "webhook": (("url", "secret"), lambda c: WebhookChannel(c["url"], c["secret"])),
    "email": (("host", "sender", "to"), lambda c: EmailChannel(
        c["host"], int(c.get("port", 587)), sender=c["sender"], to=c["to"],
        starttls=bool(c.get("starttls", True)), user=c.get("user"),
        password=c.get("password"))),
}


class NotifyRegistry:
    """Every alert channel kind fahuo can send through."""

    def __init__(self, build: Callable[[dict[str, Any]], Any] | None = None) -> None:
        self._build = build  # tests hand in their own channels

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(CHANNELS)

    def required(self, kind: str) -> tuple[str, ...]:
        """The configuration fields a channel of this kind needs (KeyError: unknown kind)."""
        return CHANNELS[kind][0]

    def build(self, channel: dict[str, Any]) -> Any:
        """A channel from a stored row ({kind, config}); ValueError for an unknown kind."""
        if self._build is not None:
            return self._build(channel)
        kind = channel["kind"]
        if kind not in CHANNELS:
            raise ValueError(f"未知的通知渠道类型 {kind!r}（unknown channel kind）")
        return CHANNELS[kind][1](channel["config"])

    def send(self, channel: dict[str, Any], alert: Alert) -> str | None:
        """Send; None when delivered, else what went wrong (secrets already redacted)."""
        try:
            self.build(channel).send(alert)
        except (NotifyError, ValueError) as exc:
            return str(exc)
        return None

    @staticmethod
    def group(findings: Iterable[tuple[str, str]], *, interval_s: int,
              last_sent: Mapping[str, int], now: int, titles: Mapping[str, str],
              links: Mapping[str, str] | None = None, max_lines: int = 30) -> list[Alert]:
        return group_alerts(findings, interval_s=interval_s, last_sent=last_sent, now=now,
                            titles=titles, links=links, max_lines=max_lines)

    @staticmethod
    def wanted_by(routes: Mapping[str, Iterable[str]], kind: str) -> list[str]:
        """The channels (by name) whose kinds include this one, or every kind (``*``)."""
        return Routing({ch: frozenset(ks) for ch, ks in routes.items()}).channels_for(kind)


__all__ = ["CHANNELS", "NotifyRegistry"]
