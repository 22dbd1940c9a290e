"""WeCom (企业微信) group robot.

Endpoint ``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=<key>``; no signing (the key
is the secret). Message ``{"msgtype": "markdown", "markdown": {"content": …}}`` whose content
must be at most 4096 bytes of UTF-8: longer alerts drop item lines from the end and the
"… and N more" line grows to say how many are not shown. Success is ``errcode == 0``.
"""

from __future__ import annotations

import httpx
import structlog

from fahuo.adapters.notify._http import DEFAULT_TIMEOUT, dumps, post_json
from fahuo.adapters.notify.base import MORE_LINE, Alert, NotifyError, fit_lines

log = structlog.get_logger(__name__)

DEFAULT_BASE_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
MAX_CONTENT_BYTES = 4096


def render_markdown(alert: Alert, max_bytes: int = MAX_CONTENT_BYTES) -> str:
    def build(lines: list[str], more: int) -> str:
        parts = [f"**{alert.title}**"]
        parts += [f"> {x}" for x in lines]
        if more:
            parts.append(f'> <font color="comment">{MORE_LINE.format(n=more)}</font>')
        if alert.link:
            parts.append(f"[查看 / Open]({alert.link})")
        return "\n".join(parts)
    return fit_lines(build, alert, max_bytes)


class WeComChannel:
    name = "wecom"

    def __init__(self, key: str, *, base_url: str = DEFAULT_BASE_URL,
                 client: httpx.Client | None = None, timeout: float = DEFAULT_TIMEOUT) -> None:
        if not key:
            raise ValueError("企业微信：缺少机器人 key（wecom key is required）")
        self._key = key
        self.base_url = base_url
        self._client = client or httpx.Client()
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"WeComChannel(base_url={self.base_url!r})"

    def payload(self, alert: Alert) -> dict:
        return {"msgtype": "markdown", "markdown": {"content": render_markdown(alert)}}

    def send(self, alert: Alert) -> None:
        _, data = post_json(self._client, self.base_url, dumps(self.payload(alert)),
                            channel=self.name, secrets=[self._key], timeout=self.timeout,
                            params={"key": self._key})
        code = data.get("errcode")
        if code != 0:
            log.warning("notify.failed", channel=self.name, kind=alert.kind, code=code)
            raise NotifyError(self.name, str(data.get("errmsg") or data), code=code,
                              retryable=code in (-1, 45009))  # busy / rate limited
        log.info("notify.sent", channel=self.name, kind=alert.kind, count=alert.count)
