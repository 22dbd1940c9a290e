"""Kuaidi100 as fahuo uses it: subscribe, poll, push and 快递拦截 (``ports.Carrier``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fahuo.domain.tracking import TrackingEvent
from fahuo.domain.urls import url_problem
from fahuo.services.ports import AccountField, Capability, InterceptAnswer, PushAnswer

from ..base import UnknownCourier
from ..provider import Provider
from ..status import trace_events
from . import push as k100_push
from .client import Kuaidi100Client
from .codes import kuaidi100_codes
from .intercept import (
    INTERCEPT_TYPES, SECRET_FIELDS, InterceptRequest, Kuaidi100Interceptor, check_partner,
)
from .settings import DEFAULT_LABEL_URL, Kuaidi100Settings
from .status import STATUS

# Back to the sender, who is the merchant.
SEND_BACK = "RETURN_SEND_ADDR"
PARTNERS = "intercept_partners"  # where the couriers' accounts sit in the credentials


def label_url_problems(url: Any) -> list[str]:
    if url is None or (bad := url_problem(url)) is None:
        return []
    return [f"label_url must be an http(s) URL (Kuaidi100: {DEFAULT_LABEL_URL}): {bad} "
            f"({url!r})"]


def intercept_view(account: dict[str, Any]) -> dict[str, Any]:
    """What interception through this account can do, without a secret in it."""
    cred = account["credentials"]
    partners = cred.get(PARTNERS) or {}
    return {"account_id": account["id"], "name": account["name"],
            "secret": bool(cred.get("secret")),
            "label_url": cred.get("label_url") or DEFAULT_LABEL_URL,
            "couriers": {c: {k: ("***" if k in SECRET_FIELDS else v) for k, v in p.items()}
                         for c, p in sorted(partners.items())}}


class Kuaidi100(Provider):
    name = "kuaidi100"
    title = "Kuaidi100"
    label = "快递100"
    capabilities = frozenset({Capability.SUBSCRIBE, Capability.POLL, Capability.PUSH,
                              Capability.INTERCEPT})
    account_fields = (AccountField("customer"), AccountField("key", secret=True),
                      AccountField("salt", secret=True),
                      AccountField("secret", required=False, secret=True),  # 快递拦截 only
                      AccountField("label_url", required=False))
    status_map = STATUS

    # -- tracking -------------------------------------------------------------------------
    def client(self, account: dict[str, Any], *, clock: Callable[[], float]) -> Kuaidi100Client:
        cred = account["credentials"]
        return Kuaidi100Client(Kuaidi100Settings(customer=cred["customer"], key=cred["key"],
                                                 base_url=account["base_url"]),
                               http=self._http(), clock=clock)

    def subscribe(self, client: Any, account: dict[str, Any], tracker: dict[str, Any],
                  callback_url: str) -> None:
        client.subscribe(tracker["track_no"], tracker["courier_code"], callback_url,
                         account["credentials"]["salt"], tracker["phone_tail"] or None)

    def query(self, client: Any, tracker: dict[str, Any]) -> list[TrackingEvent]:
        res = client.query(tracker["track_no"], tracker["courier_code"],
                           tracker["phone_tail"] or None)
        return trace_events(STATUS, res)

    def check_credentials(self, credentials: dict[str, Any]
                          ) -> tuple[dict[str, Any], list[str]]:
        cred = dict(credentials)
        for k in ("secret", "label_url"):  # the optional interception keys
            if k in cred and not str(cred[k] or "").strip():
                cred.pop(k)  # an empty form field means "not given"
        problems = label_url_problems(cred.get("label_url"))
        if PARTNERS in cred:
            problems.append("set courier accounts for interception with the partner command "
                            "(fahuo track intercept-partner), not with the account")
        return cred, problems

    # -- pushes ---------------------------------------------------------------------------
    def refuse_push(self, reason: str) -> str:
        return k100_push.reply_failure(reason)

    def check_push(self, account: dict[str, Any], form: dict[str, Any]) -> PushAnswer:
        param, sign = form.get("param"), form.get("sign")
        if not param:
            return PushAnswer(400, k100_push.reply_failure("missing param"))
        if not k100_push.verify_push_sign(param, sign, account["credentials"]["salt"]):
            return PushAnswer(401, k100_push.reply_failure("sign mismatch"), rejected="bad sign")
        return PushAnswer(200, k100_push.REPLY_OK, body=param)

    def read_push(self, body: str) -> list[tuple[str, list[TrackingEvent], bool]]:
        push = k100_push.parse_push({"param": body}, None, allow_unsigned=True)
        if push.result is None:
            return []
        return [(push.result.track_no, trace_events(STATUS, push.result), push.stopped)]

    # -- interception ---------------------------------------------------------------------
    def intercept_route(self, accounts: list[dict[str, Any]], courier: str
                        ) -> tuple[dict[str, Any] | None, Any]:
        """Needs an account with a secret and that courier's e-waybill account on it."""
        if not accounts:
            return None, ("no enabled Kuaidi100 account (fahuo track account-add kuaidi100 …)")
        signed = [a for a in accounts if a["credentials"].get("secret")]
        if not signed:
            names = ", ".join(f"#{a['id']} {a['name']}" for a in accounts)
            return None, (f"Kuaidi100 account {names} has no secret "
                          "(fahuo track intercept-setup ACCOUNT --secret …)")
        for a in signed:
            partner = (a["credentials"].get(PARTNERS) or {}).get(courier.lower())
            if partner:
                return a, partner
        return None, (f"no {courier} e-waybill account for Kuaidi100 interception "
                      f"(fahuo track intercept-partner ACCOUNT {courier} --partner-id …)")

    def send_back(self, account: dict[str, Any], route: Any, *, order_id: str, courier: str,
                  track_no: str, reason: str) -> InterceptAnswer:
        req = InterceptRequest(order_id=order_id, courier=courier, track_no=track_no,
                               partner=route, reason=reason, intercept_type=SEND_BACK,
                               order_role="1")
        cred = account["credentials"]
        interceptor = Kuaidi100Interceptor(Kuaidi100Settings(
            customer=cred["customer"], key=cred["key"], secret=cred["secret"],
            base_url=account["base_url"],
            label_url=cred.get("label_url") or DEFAULT_LABEL_URL), http=self._http())
        ack = interceptor.intercept(req)
        return InterceptAnswer(code=ack.code, message=ack.message, data=ack.data,
                               asked_for=INTERCEPT_TYPES[SEND_BACK])

    def intercept_view(self, account: dict[str, Any]) -> dict[str, Any]:
        return intercept_view(account)

    def intercept_setup_problems(self, *, secret: str | None, label_url: str | None
                                 ) -> list[str]:
        problems = label_url_problems(label_url)
        if secret is not None and not secret.strip():
            problems.append("secret must not be empty")
        if secret is None and label_url is None:
            problems.append("give the secret, the label_url or both")
        return problems

    def intercept_setup(self, credentials: dict[str, Any], *, secret: str | None,
                        label_url: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
        """The secret signs labelV2 calls; ``label_url`` when not Kuaidi100's own (a
        sandbox's ``/label/order``)."""
        cred = dict(credentials)
        if secret is not None:
            cred["secret"] = secret.strip()
        if label_url is not None:
            cred["label_url"] = label_url.rstrip("/")
        return cred, {"secret": "set" if secret is not None else "kept",
                      "label_url": cred.get("label_url", DEFAULT_LABEL_URL)}

    def intercept_partner(self, courier: str, fields: dict[str, Any]
                          ) -> tuple[str, dict[str, str]]:
        code = (courier or "").strip().lower()
        try:
            kuaidi100_codes().to_provider(code)
        except UnknownCourier as exc:
            raise ValueError(f"{exc}；请用 fahuo 的快递公司编码（zhongtong、yuantong…）"
                             ) from exc
        return code, check_partner(code, fields)

    def partners(self, credentials: dict[str, Any]) -> dict[str, dict[str, str]]:
        return dict(credentials.get(PARTNERS) or {})

    def with_partners(self, credentials: dict[str, Any],
                      partners: dict[str, dict[str, str]]) -> dict[str, Any]:
        return {**credentials, PARTNERS: partners}


__all__ = ["Kuaidi100", "intercept_view", "label_url_problems"]
