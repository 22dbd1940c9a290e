"""DingTalk (钉钉) custom group robot.

Endpoint ``https://oapi.dingtalk.com/robot/send?access_token=<token>``. With the robot's
"加签" security setting, every call also carries ``&timestamp=<ms>&sign=<s>`` where
``s = urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")))``; DingTalk
refuses a wrong sign or a timestamp more than an hour off with ``errcode 310000``.

Message: ``{"msgtype": "markdown", "markdown": {"title": …, "text": …}}``; the title is what
the phone notification shows. Success is ``errcode == 0``. Text is kept under
:data:`MAX_TEXT_BYTES` by dropping lines and growing the "… and N more" count.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from urllib.parse import parse_qs, quote, quote_plus, urlsplit, urlunsplit

import httpx
import structlog

from fahuo.adapters.notify._http import DEFAULT_TIMEOUT, dumps, post_json
from fahuo.adapters.notify.base import MORE_LINE, Alert, NotifyError, fit_lines

log = structlog.get_logger(__name__)

DEFAULT_BASE_URL = "https://oapi.dingtalk.com/robot/send"
MAX_TEXT_BYTES = 18000  # DingTalk documents 20000 bytes for the whole message


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")) — not yet URL-encoded."""
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def _md_escape(s: str) -> str:
    return s.replace("\n", " ")


def render_markdown(alert: Alert, max_bytes: int = MAX_TEXT_BYTES) -> str:
    def build(lines: list[str], more: int) -> str:
        parts = [f"### {_md_escape(alert.title)}", ""]
        parts += [f"- {_md_escape(x)}" for x in lines]
        if more:
            parts.append(f"- {MORE_LINE.format(n=more)}")
        if alert.link:
            parts += ["", f"[查看 / Open]({alert.link})"]
        return "\n".join(parts)
    return fit_lines(build, alert, max_bytes)


class DingTalkChannel:
    name = "dingtalk"

    def __init__(self, access_token: str, secret: str | None = None, *,
                 base_url: str = DEFAULT_BASE_URL, client: httpx.Client | None = None,
                 timeout: float = DEFAULT_TIMEOUT,
                 clock: Callable[[], float] = time.time) -> None:
        if not access_token:
            raise ValueError("钉钉：缺少 access_token（dingtalk access_token is required）")
        self._token = access_token
        self._secret = secret or None
        self.base_url = base_url
        self._client = client or httpx.Client()
        self.timeout = timeout
        self._clock = clock

    @classmethod
    def from_webhook_url(cls, url: str, secret: str | None = None, **kw) -> DingTalkChannel:
        """Build from the webhook URL DingTalk shows (``…/robot/send?access_token=…``)."""
        parts = urlsplit(url)
        token = (parse_qs(parts.query).get("access_token") or [""])[0]
        if not token:
            raise ValueError("钉钉：机器人地址里没有 access_token（dingtalk webhook URL has no access_token）")
        base = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        return cls(token, secret, base_url=base, **kw)

    def __repr__(self) -> str:
        return f"DingTalkChannel(base_url={self.base_url!r}, signed={self._secret is not None})"

    def url(self, timestamp_ms: int | None = None) -> str:
        q = f"access_token={quote(self._token, safe='')}"
        if self._secret:
            ts = int(self._clock() * 1000) if timestamp_ms is None else timestamp_ms
            q += f"&timestamp={ts}&sign={quote_plus(dingtalk_sign(self._secret, ts))}"
        return f"{self.base_url}?{q}"

    def payload(self, alert: Alert) -> dict:
        return {"msgtype": "markdown",
                "markdown": {"title": alert.title, "text": render_markdown(alert)}}

    def send(self, alert: Alert) -> None:
        secrets = [self._token, self._secret]
        _, data = post_json(self._client, self.url(), dumps(self.payload(alert)),
                            channel=self.name, secrets=secrets, timeout=self.timeout)
        code = data.get("errcode")
        if code != 0:
            log.warning("notify.failed", channel=self.name, kind=alert.kind, code=code)
            raise NotifyError(self.name, str(data.get("errmsg") or data), code=code,
                              retryable=code in (-1, 130101))  # system busy / sending too fast
        log.info("notify.sent", channel=self.name, kind=alert.kind, count=alert.count)
