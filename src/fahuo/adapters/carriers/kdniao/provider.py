"""Kdniao as fahuo uses it: subscribe, poll and push (``ports.Carrier``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import orjson

from fahuo.domain.tracking import TrackingEvent
from fahuo.services.ports import AccountField, Capability, PushAnswer

from ..base import InvalidPush
from ..provider import Provider
from ..status import trace_events
from . import push as kdniao_push
from .client import KdniaoClient
from .settings import KdniaoSettings
from .status import STATUS


def request_data(body: str) -> dict[str, Any]:
    """RequestData as stored: JSON, sometimes still percent-encoded (the webhook accepts both)."""
    for text in (body, unquote(body)):
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            return obj
    raise InvalidPush("kdniao RequestData is not a JSON object")


class Kdniao(Provider):
    name = "kdniao"
    title = "Kdniao"
    label = "快递鸟"
    capabilities = frozenset({Capability.SUBSCRIBE, Capability.POLL, Capability.PUSH})
    account_fields = (AccountField("ebusiness_id"), AccountField("api_key", secret=True))
    status_map = STATUS

    def client(self, account: dict[str, Any], *, clock: Callable[[], float]) -> KdniaoClient:
        cred = account["credentials"]
        return KdniaoClient(KdniaoSettings(ebusiness_id=cred["ebusiness_id"],
                                           api_key=cred["api_key"],
                                           endpoint=account["base_url"]), http=self._http())

    def subscribe(self, client: Any, account: dict[str, Any], tracker: dict[str, Any],
                  callback_url: str) -> None:
        # Kdniao pushes to the address set in its own console (the merchant enters
        # ``callback_url`` there), never to one sent per subscription; the tracker's id rides
        # along as the echo value instead.
        client.subscribe(tracker["track_no"], tracker["courier_code"],
                         phone_tail=tracker["phone_tail"] or None, callback=str(tracker["id"]))

    def query(self, client: Any, tracker: dict[str, Any]) -> list[TrackingEvent]:
        res = client.query(tracker["track_no"], tracker["courier_code"],
                           tracker["phone_tail"] or None)
        return trace_events(STATUS, res)

    def refuse_push(self, reason: str) -> str:
        return kdniao_push.reply("", success=False, reason=reason)

    def check_push(self, account: dict[str, Any], form: dict[str, Any]) -> PushAnswer:
        cred = account["credentials"]
        try:
            kdniao_push.parse_push(form, cred["api_key"], ebusiness_id=cred["ebusiness_id"])
        except InvalidPush as exc:
            return PushAnswer(401, kdniao_push.reply(cred["ebusiness_id"], success=False,
                                                     reason=str(exc)), rejected=str(exc))
        return PushAnswer(200, kdniao_push.reply(cred["ebusiness_id"]),
                          body=form["RequestData"])

    def read_push(self, body: str) -> list[tuple[str, list[TrackingEvent], bool]]:
        out = []
        for d in request_data(body).get("Data") or []:
            if isinstance(d, dict):  # what the push parser skips, skip here too
                res = kdniao_push.parse_trace(d)
                out.append((res.track_no, trace_events(STATUS, res), False))
        return out


__all__ = ["Kdniao", "request_data"]
