"""Payload, signing and retry details over httpx.MockTransport (no sockets needed)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from fahuo.adapters.notify.base import Alert, Channel, NotifyError
from fahuo.adapters.notify.dingtalk import DingTalkChannel, dingtalk_sign
from fahuo.adapters.notify.email import EmailChannel
from fahuo.adapters.notify.feishu import FeishuChannel, feishu_sign
from fahuo.adapters.notify.webhook import (RetryPolicy, WebhookChannel, verify_signature,
                                           webhook_signature)
from fahuo.adapters.notify.wecom import WeComChannel, render_markdown

ALERT = Alert("stalled", "2 parcels stalled", ["SF1", "SF2"], 2, None)


def mock(responses, seen):
    it = iter(responses)

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        r = next(it)
        if isinstance(r, Exception):
            raise r
        return r
    return httpx.Client(transport=httpx.MockTransport(handler))


def test_dingtalk_url_sign_matches_official_recipe():
    ch = DingTalkChannel("tok", "SECabc", base_url="https://oapi.dingtalk.com/robot/send",
                         clock=lambda: 1577262236.757)
    url = ch.url()
    q = parse_qs(urlsplit(url).query)  # decodes the URL-encoding like DingTalk does
    want = base64.b64encode(hmac.new(b"SECabc", b"1577262236757\nSECabc", hashlib.sha256).digest()).decode()
    assert q == {"access_token": ["tok"], "timestamp": ["1577262236757"], "sign": [want]}
    assert dingtalk_sign("SECabc", 1577262236757) == want
    assert "%" in url.split("sign=")[1] or "+" not in want  # base64 +,/,= are escaped
    assert "SECabc" not in repr(ch) and "tok" not in repr(ch)


def test_feishu_sign_is_keyed_by_timestamp_and_secret():
    want = base64.b64encode(hmac.new(b"1599360473\nsec", b"", hashlib.sha256).digest()).decode()
    assert feishu_sign("sec", 1599360473) == want
    body = FeishuChannel("h", "sec", clock=lambda: 1599360473.9).payload(ALERT)
    assert body["timestamp"] == "1599360473" and body["sign"] == want
    assert body["msg_type"] == "post"
    assert "timestamp" not in FeishuChannel("h").payload(ALERT)


def test_wecom_render_limits_and_small_alerts_untouched():
    assert render_markdown(ALERT) == "**2 parcels stalled**\n> SF1\n> SF2"
    big = Alert("stalled", "t", ["包裹" * 100] * 100, 100, None)
    md = render_markdown(big)
    assert len(md.encode()) <= 4096 and md.count("\n> 包裹") < 100
    assert f"… and {100 - md.count(chr(10) + '> 包裹')} more" in md


def test_webhook_retries_two_500s_with_exponential_waits():
    seen, waits = [], []
    client = mock([httpx.Response(500), httpx.Response(502, text="bad gateway"),
                   httpx.Response(204)], seen)
    times = iter([1000, 1001, 1002])
    ch = WebhookChannel("http://hook.test/x", "s3", client=client,
                        retry=RetryPolicy(max_attempts=5, initial_wait=0.5, max_wait=0.75, jitter=0),
                        clock=lambda: next(times), sleep=waits.append)
    ch.send(ALERT)
    assert len(seen) == 3 and waits == [0.5, 0.75]
    for req, ts in zip(seen, ("1000", "1001", "1002")):
        assert req.headers["X-Fahuo-Timestamp"] == ts  # re-signed per attempt
        assert req.headers["X-Fahuo-Signature"] == "sha256=" + hmac.new(
            b"s3", ts.encode() + b"." + req.content, hashlib.sha256).hexdigest()
    assert json.loads(seen[0].content) == {**ALERT.to_dict()}


@pytest.mark.parametrize("status", [400, 401, 404, 429])
def test_webhook_does_not_retry_4xx(status):
    seen, waits = [], []
    ch = WebhookChannel("http://hook.test/x", "s3",
                        client=mock([httpx.Response(status, json={"error": "nope"})], seen),
                        sleep=waits.append)
    with pytest.raises(NotifyError) as ei:
        ch.send(ALERT)
    assert len(seen) == 1 and waits == [] and ei.value.code == status
    assert "nope" in str(ei.value) and not ei.value.retryable


def test_webhook_gives_up_after_max_attempts_on_transport_errors():
    seen = []
    ch = WebhookChannel("http://hook.test/x", "s3",
                        client=mock([httpx.ConnectError("refused")] * 3, seen),
                        retry=RetryPolicy(max_attempts=3, initial_wait=0, max_wait=0),
                        sleep=lambda s: None)
    with pytest.raises(NotifyError, match="ConnectError: refused") as ei:
        ch.send(ALERT)
    assert len(seen) == 3 and ei.value.retryable


def test_verify_signature_helper():
    body = b'{"a":1}'
    sig = webhook_signature("k", 100, body)
    assert verify_signature("k", "100", body, sig, now=150)
    assert not verify_signature("k", "100", body, sig, now=1000)
    assert not verify_signature("x", "100", body, sig, now=150)
    assert not verify_signature("k", "abc", body, sig, now=150)


def test_robot_http_500_and_garbage_answers():
    seen = []
    ch = WeComChannel("key-123456", base_url="http://wecom.test/send",
                      client=mock([httpx.Response(503, text="down key-123456"),
                                   httpx.Response(200, text="<html>")], seen))
    with pytest.raises(NotifyError) as ei:
        ch.send(ALERT)
    assert ei.value.retryable and ei.value.code == 503 and "key-123456" not in str(ei.value)
    with pytest.raises(NotifyError, match="not a JSON object"):
        ch.send(ALERT)
    assert seen[0].url.params["key"] == "key-123456"


def test_channels_satisfy_protocol_and_validate_config():
    for ch in (DingTalkChannel("t"), FeishuChannel("h"), WeComChannel("k"),
               WebhookChannel("http://x", "s"),
               EmailChannel("smtp.x", sender="a@b.c", to=["d@e.f"])):
        assert isinstance(ch, Channel)
    with pytest.raises(ValueError):
        WebhookChannel("http://x", "")
    with pytest.raises(ValueError):
        EmailChannel("smtp.x", sender="a@b.c", to=[])
    with pytest.raises(ValueError):
        EmailChannel("smtp.x", sender="a@b.c", to=["d@e.f"], starttls=True, use_ssl=True)
