"""The tracking service asks the carrier registry what a provider needs and does: a provider
fahuo has never heard of works end to end once it is registered, with no service change."""

from __future__ import annotations

import json

import pytest

from fahuo.adapters.carriers.provider import Provider
from fahuo.adapters.carriers.registry import PROVIDERS, CarrierRegistry
from fahuo.adapters.carriers.status import UNKNOWN_CONFIRMED, StatusMap
from fahuo.domain.tracking import TrackingEvent, TrackingState as S
from fahuo.services.ports import AccountField, Capability, PushAnswer
from fahuo.services.tracking import Tracking, TrackingError, add_account


class Acme(Provider):
    """A made-up provider: pushes JSON with its token in the form, codes OK / BAD."""

    name, title, label = "acme", "Acme", "阿克米"
    capabilities = frozenset({Capability.PUSH})
    account_fields = (AccountField("token", secret=True), AccountField("note", required=False))
    status_map = StatusMap({"OK": (S.DELIVERED, None)}, UNKNOWN_CONFIRMED)

    def refuse_push(self, reason: str) -> str:
        return f"acme-no:{reason}"

    def check_push(self, account, form) -> PushAnswer:
        if form.get("token") != account["credentials"]["token"]:
            return PushAnswer(403, "acme-no", rejected="token")
        return PushAnswer(202, "acme-ok", body=form["body"])

    def read_push(self, body: str):
        d = json.loads(body)
        return [(d["no"], [TrackingEvent(at=d["at"], state=self.status(d["code"])[0],
                                         raw_state=d["code"])], False)]


@pytest.fixture
def carriers():
    return CarrierRegistry(providers=(*PROVIDERS, Acme))


def test_an_unregistered_provider_is_refused_with_the_registrys_list(fahuo):
    with pytest.raises(TrackingError, match=r"物流查询服务商 \(provider\) 应为 kuaidi100、kdniao 之一，收到 'acme'"):
        add_account(fahuo.uow, "acme", "A", {"token": "t"}, "https://acme.test",
                    "https://fahuo.test", carriers=CarrierRegistry())


def test_a_registered_provider_is_checked_by_its_own_fields_and_push(fahuo, carriers):
    with pytest.raises(TrackingError, match="阿克米 账号必须填写 token"):
        add_account(fahuo.uow, "acme", "A", {"note": "x"}, "https://acme.test",
                    "https://fahuo.test", carriers=carriers)
    acc = add_account(fahuo.uow, "acme", "A", {"token": "t"}, "https://acme.test",
                      "https://fahuo.test", carriers=carriers)
    tracking = Tracking(fahuo.uow, fahuo.platform_for, carriers=carriers)
    body = json.dumps({"no": "AC1", "code": "OK", "at": 1_700_000_000})
    # another provider's webhook for this account: unknown there, in that provider's words
    assert tracking.accept_push("kuaidi100", acc, {"param": body})[0] == 404
    assert tracking.accept_push("acme", acc, {"token": "wrong", "body": body}) == (403, "acme-no")
    assert tracking.accept_push("acme", acc, {"token": "t", "body": body}) == (202, "acme-ok")
    with fahuo.uow(readonly=True) as u:
        assert [p["body"] for p in u.tracking.pending_pushes(10)] == [body]
    assert tracking.process_pushes().pushes == 1  # read by Acme (no tracker: nothing merged)
    with fahuo.uow(readonly=True) as u:
        assert u.tracking.pending_pushes(10) == []
