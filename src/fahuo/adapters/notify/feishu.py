"""Feishu / Lark (飞书) custom bot.

Endpoint ``https://open.feishu.cn/open-apis/bot/v2/hook/<hook id>`` (Lark:
``https://open.larksuite.com/…``; pass ``base_url``). With "签名校验" on, the JSON body also
carries ``"timestamp"`` (seconds, as a string) and ``"sign"`` =
``base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b""))`` — note the secret is in the
*key* and the message is empty, unlike DingTalk. Feishu refuses a bad sign (or a timestamp
more than an hour off) with ``code 19021``.

Message type: **post** (rich text) — it has a real title line and clickable link, which plain
``text`` lacks::

    {"msg_type": "post", "content": {"post": {"zh_cn": {"title": …,
        "content": [[{"tag": "text", "text": line}], …, [{"tag": "a", "text": …, "href": …}]]}}}}

Success is ``code == 0`` (older deployments answer ``StatusCode == 0``). The request body is
kept under :data:`MAX_BODY_BYTES` (Feishu's limit is 20 KB) by dropping lines.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable

import httpx
import structlog

from fahuo.adapters.notify._http import DEFAULT_TIMEOUT, dumps, post_json
from fahuo.adapters.notify.base import MORE_LINE, Alert, NotifyError, fit_lines

log = structlog.get_logger(__name__)

DEFAULT_BASE_URL = "https://open.feishu.cn/open-apis/bot/v2/hook"
MAX_BODY_BYTES = 18000


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b""))."""
    mac = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def post_content(alert: Alert, max_bytes: int = MAX_BODY_BYTES) -> dict:
    def rows(lines: list[str], more: int) -> list[list[dict]]:
        out = [[{"tag": "text", "text": x}] for x in lines]
        if more:
            out.append([{"tag": "text", "text": MORE_LINE.format(n=more)}])
        if alert.link:
            out.append([{"tag": "a", "text": "查看 / Open", "href": alert.link}])
        return out

    def build(lines: list[str], more: int) -> str:
        return json.dumps({"post": {"zh_cn": {"title": alert.title, "content": rows(lines, more)}}},
                          ensure_ascii=False, separators=(",", ":"))
    return json.loads(fit_lines(build, alert, max_bytes))


class FeishuChannel:
    name = "feishu"

    def __init__(self, hook_id: str, secret: str | None = None, *,
                 base_url: str = DEFAULT_BASE_URL, client: httpx.Client | None = None,
                 timeout: float = DEFAULT_TIMEOUT,
                 clock: Callable[[], float] = time.time) -> None:
        if not hook_id:
            raise ValueError("飞书：缺少 hook_id（feishu hook_id is required）")
        self._hook = hook_id
        self._secret = secret or None
        self.base_url = base_url.rstrip("/")
        self._client = client or httpx.Client()
        self.timeout = timeout
        self._clock = clock

    @classmethod
    def from_webhook_url(cls, url: str, secret: str | None = None, **kw) -> FeishuChannel:
        """Build from the full webhook URL Feishu shows (``…/bot/v2/hook/<id>``)."""
        base, _, hook = url.rstrip("/").rpartition("/")
        if not hook or not base:
            raise ValueError("飞书：机器人地址里没有 hook id（feishu webhook URL has no hook id）")
        return cls(hook, secret, base_url=base, **kw)

    def __repr__(self) -> str:
        return f"FeishuChannel(base_url={self.base_url!r}, signed={self._secret is not None})"

    def payload(self, alert: Alert, timestamp_s: int | None = None) -> dict:
        body: dict = {}
        if self._secret:
            ts = int(self._clock()) if timestamp_s is None else timestamp_s
            body["timestamp"] = str(ts)
            body["sign"] = feishu_sign(self._secret, ts)
        body["msg_type"] = "post"
        body["content"] = post_content(alert)
        return body

    def send(self, alert: Alert) -> None:
        secrets = [self._hook, self._secret]
        _, data = post_json(self._client, f"{self.base_url}/{self._hook}",
                            dumps(self.payload(alert)), channel=self.name, secrets=secrets,
                            timeout=self.timeout)
        code = data.get("code", data.get("StatusCode"))
        if code != 0:
            log.warning("notify.failed", channel=self.name, kind=alert.kind, code=code)
            words = data.get("msg") or data.get("StatusMessage") or json.dumps(data)[:300]
            raise NotifyError(self.name, str(words), code=code,
                              retryable=code in (11232,))  # frequency limited
        log.info("notify.sent", channel=self.name, kind=alert.kind, count=alert.count)
