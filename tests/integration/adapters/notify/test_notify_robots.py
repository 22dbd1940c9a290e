"""DingTalk, Feishu, WeCom and the signed webhook against local fake receivers over real HTTP."""

from __future__ import annotations

import json

import httpx
import pytest

from fahuo.adapters.notify.base import Alert, NotifyError
from fahuo.adapters.notify.dingtalk import DingTalkChannel
from fahuo.adapters.notify.dispatch import dispatch
from fahuo.adapters.notify.feishu import FeishuChannel
from fahuo.adapters.notify.grouping import Routing, group_alerts
from fahuo.adapters.notify.webhook import RetryPolicy, WebhookChannel
from fahuo.adapters.notify.wecom import WeComChannel

FAST = RetryPolicy(max_attempts=4, initial_wait=0.001, max_wait=0.005)


def stalled(n: int) -> Alert:
    findings = [("stalled", f"SF{1000 + i} 上海→成都 3 天无轨迹") for i in range(n)]
    [alert] = group_alerts(findings, interval_s=3600, last_sent={}, now=10_000,
                           links={"stalled": "http://console.local/parcels?state=stalled"})
    return alert


def ding(receivers, secret="default") -> DingTalkChannel:
    secret = receivers.DING_SECRET if secret == "default" else secret
    return DingTalkChannel(receivers.DING_TOKEN, secret, base_url=receivers.base_url + "/robot/send")


def test_dingtalk_signed_markdown_accepted(receivers):
    ding(receivers).send(stalled(37))
    [got] = receivers.ding
    md = got["body"]["markdown"]
    assert md["title"].startswith("37 ")
    assert md["text"].count("\n- SF") == 30 and "… and 7 more" in md["text"]
    assert "http://console.local/parcels?state=stalled" in md["text"]
    assert got["query"]["timestamp"].isdigit() and len(got["query"]["timestamp"]) == 13


def test_dingtalk_from_pasted_webhook_url(receivers):
    ch = DingTalkChannel.from_webhook_url(
        f"{receivers.base_url}/robot/send?access_token={receivers.DING_TOKEN}", receivers.DING_SECRET)
    ch.send(stalled(2))
    assert len(receivers.ding) == 1


def test_dingtalk_wrong_secret_is_310000(receivers):
    with pytest.raises(NotifyError) as ei:
        ding(receivers, secret="SECwrong-secret").send(stalled(3))
    e = ei.value
    assert e.channel == "dingtalk" and e.code == 310000 and "sign not match" in str(e)
    assert "SECwrong-secret" not in str(e) and receivers.DING_TOKEN not in str(e)
    assert receivers.ding == []


def test_dingtalk_unsigned_refused_when_robot_requires_sign(receivers):
    with pytest.raises(NotifyError, match="310000"):
        ding(receivers, secret=None).send(stalled(1))


def test_dingtalk_unsigned_robot(receivers):
    receivers.ding_secret = None
    ding(receivers, secret=None).send(stalled(1))
    assert "sign" not in receivers.ding[0]["query"]


def test_dingtalk_wrong_token(receivers):
    ch = DingTalkChannel("nope-token", receivers.DING_SECRET, base_url=receivers.base_url + "/robot/send")
    with pytest.raises(NotifyError, match="token is not exist") as ei:
        ch.send(stalled(1))
    assert ei.value.code == 300001 and "nope-token" not in str(ei.value)


def test_feishu_signed_post_accepted(receivers):
    ch = FeishuChannel(receivers.FEISHU_HOOK, receivers.FEISHU_SECRET,
                       base_url=receivers.base_url + "/open-apis/bot/v2/hook")
    ch.send(stalled(37))
    [body] = receivers.feishu
    zh = body["content"]["post"]["zh_cn"]
    texts = [row[0]["text"] for row in zh["content"] if row[0]["tag"] == "text"]
    assert len(texts) == 31 and texts[-1] == "… and 7 more"
    assert zh["content"][-1][0] == {"tag": "a", "text": "查看 / Open",
                                    "href": "http://console.local/parcels?state=stalled"}
    assert body["timestamp"].isdigit() and len(body["timestamp"]) == 10


def test_feishu_wrong_secret_is_19021(receivers):
    ch = FeishuChannel.from_webhook_url(
        f"{receivers.base_url}/open-apis/bot/v2/hook/{receivers.FEISHU_HOOK}", "wrong-secret")
    with pytest.raises(NotifyError) as ei:
        ch.send(stalled(3))
    assert ei.value.code == 19021 and "sign match fail" in str(ei.value)
    assert "wrong-secret" not in str(ei.value) and receivers.FEISHU_HOOK not in str(ei.value)


def test_feishu_old_style_statuscode_success():
    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"Extra": None, "StatusCode": 0, "StatusMessage": "success"})
    ch = FeishuChannel("h", client=httpx.Client(transport=httpx.MockTransport(handler)),
                       base_url="http://feishu.test/hook")
    ch.send(stalled(1))


def test_wecom_markdown_and_truncation(receivers):
    long_lines = [("stalled", f"SF{i:06d} " + "广东省深圳市南山区科技园某某路 88 号 3 天无轨迹" * 2)
                  for i in range(200)]
    [alert] = group_alerts(long_lines, interval_s=60, last_sent={}, now=0, max_lines=200)
    WeComChannel(receivers.WECOM_KEY, base_url=receivers.base_url + "/cgi-bin/webhook/send").send(alert)
    [body] = receivers.wecom
    content = body["markdown"]["content"]
    assert len(content.encode()) <= 4096
    shown = content.count("\n> SF")
    assert 0 < shown < 200
    assert f"… and {200 - shown} more" in content
    assert content.startswith("**200 ")


def test_wecom_wrong_key(receivers):
    ch = WeComChannel("bad-key-123", base_url=receivers.base_url + "/cgi-bin/webhook/send")
    with pytest.raises(NotifyError) as ei:
        ch.send(stalled(1))
    assert ei.value.code == 93000 and "invalid webhook url" in str(ei.value)
    assert "bad-key-123" not in str(ei.value)


def test_webhook_signed_and_retried_after_two_500s(receivers):
    receivers.hook_script.extend([500, 500])
    ch = WebhookChannel(receivers.base_url + "/hook", receivers.HOOK_SECRET, retry=FAST)
    ch.send(stalled(37))
    assert len(receivers.hook) == 3 and all(h["sig_ok"] for h in receivers.hook)
    assert len({h["delivery"] for h in receivers.hook}) == 1
    body = json.loads(receivers.hook[-1]["raw"])
    assert body["kind"] == "stalled" and body["count"] == 37 and len(body["lines"]) == 30
    assert body["more"] == 7
    assert receivers.hook[-1]["ctype"].startswith("application/json")


def test_webhook_stops_at_once_on_400(receivers):
    receivers.hook_script.extend([400])
    ch = WebhookChannel(receivers.base_url + "/hook", receivers.HOOK_SECRET, retry=FAST)
    with pytest.raises(NotifyError) as ei:
        ch.send(stalled(1))
    assert ei.value.code == 400 and "scripted 400" in str(ei.value)
    assert len(receivers.hook) == 1


def test_webhook_wrong_secret_is_rejected_not_retried(receivers):
    ch = WebhookChannel(receivers.base_url + "/hook", "whsec_wrong", retry=FAST)
    with pytest.raises(NotifyError, match="bad signature") as ei:
        ch.send(stalled(1))
    assert ei.value.code == 401 and len(receivers.hook) == 1
    assert receivers.hook[0]["sig_ok"] is False


def test_webhook_connection_refused_is_retried_then_raised():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens here now
    ch = WebhookChannel(f"http://127.0.0.1:{port}/hook", "whsec_x", retry=FAST)
    with pytest.raises(NotifyError) as ei:
        ch.send(stalled(1))
    assert ei.value.retryable and "ConnectError" in str(ei.value)


def test_dispatch_routes_37_stalled_as_one_message_per_channel(receivers):
    findings = [("stalled", f"SF{i}") for i in range(37)] + [("auth_expired", "店铺 A")]
    alerts = group_alerts(findings, interval_s=3600, last_sent={"auth_expired": 9_000},
                          now=10_000)
    routing = Routing.from_dict({"routes": {"ops-ding": ["stalled"], "boss-wecom": ["*"],
                                            "broken": ["stalled"]}})
    channels = {"ops-ding": ding(receivers),
                "boss-wecom": WeComChannel(receivers.WECOM_KEY,
                                           base_url=receivers.base_url + "/cgi-bin/webhook/send"),
                "broken": WeComChannel("bad-key", base_url=receivers.base_url + "/cgi-bin/webhook/send")}
    result = dispatch(alerts, routing, channels)
    assert [(d.channel, d.kind, d.ok) for d in result] == [
        ("ops-ding", "stalled", True), ("boss-wecom", "stalled", True),
        ("broken", "stalled", False)]
    assert len(receivers.ding) == 1 and len(receivers.wecom) == 1  # auth_expired held back
    assert result[2].error.code == 93000
