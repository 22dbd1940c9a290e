"""The alert channel registry: what each kind needs, what it builds, how a failure reads."""

import pytest

from fahuo.adapters.notify.base import Alert, NotifyError
from fahuo.adapters.notify.registry import NotifyRegistry
from fahuo.adapters.notify.webhook import WebhookChannel
from fahuo.adapters.notify.wecom import WeComChannel


def test_each_kind_names_its_required_fields_and_builds_its_channel():
    reg = NotifyRegistry()
    assert reg.kinds == ("dingtalk", "feishu", "wecom", "webhook", "email")
    assert reg.required("webhook") == ("url", "secret")
    assert isinstance(reg.build({"kind": "webhook", "config": {
        "url": "https://hooks.example.com/x", "secret": "s"}}), WebhookChannel)
    assert isinstance(reg.build({"kind": "wecom", "config": {"key": "k"}}), WeComChannel)
    with pytest.raises(ValueError, match="未知的通知渠道类型 'sms'"):
        reg.build({"kind": "sms", "config": {}})


def test_a_failed_send_comes_back_as_its_words():
    class Broken:
        def send(self, alert):
            raise NotifyError("dingtalk", "robot said no", code=310000)

    reg = NotifyRegistry(build=lambda ch: Broken())
    assert reg.send({"kind": "x"}, Alert(kind="stalled", title="t", count=1)) == "dingtalk [310000]: robot said no"


def test_channels_want_their_kinds_or_everything():
    routes = {"仓库群": ["pickup_timeout"], "老板": ["*"], "客服": ["refused"]}
    assert NotifyRegistry.wanted_by(routes, "pickup_timeout") == ["仓库群", "老板"]
    assert NotifyRegistry.wanted_by(routes, "stalled") == ["老板"]
