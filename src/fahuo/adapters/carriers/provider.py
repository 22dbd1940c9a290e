"""What every provider object shares (``ports.Carrier``); each provider's folder subclasses it.

A capability a provider does not declare is refused loudly (``Unsupported``), never faked:
the registry and the services ask ``can(…)`` / ``able(…)`` first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import httpx

from fahuo.domain.tracking import Mapped, TrackingEvent
from fahuo.services.ports import AccountField, Capability, InterceptAnswer, PushAnswer

from .status import StatusMap


class Unsupported(NotImplementedError):
    """Asked for a capability the provider does not declare."""


class Provider:
    name: ClassVar[str]
    title: ClassVar[str]
    label: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]
    account_fields: ClassVar[tuple[AccountField, ...]] = ()
    status_map: ClassVar[StatusMap]

    def __init__(self, http: Callable[[], httpx.Client]) -> None:
        self._http = http  # the registry's client, made when first needed

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def status(self, state: str | int | None, sub_state: str | int | None = None) -> Mapped:
        return self.status_map(state, sub_state)

    def _no(self, capability: Capability) -> Unsupported:
        return Unsupported(f"{self.title} does not offer {capability.value}")

    # -- tracking: see ports.Carrier --------------------------------------------------------
    def client(self, account: dict[str, Any], *, clock: Callable[[], float]) -> Any:
        raise self._no(Capability.POLL)

    def subscribe(self, client: Any, account: dict[str, Any], tracker: dict[str, Any],
                  callback_url: str) -> None:
        raise self._no(Capability.SUBSCRIBE)

    def query(self, client: Any, tracker: dict[str, Any]) -> list[TrackingEvent]:
        raise self._no(Capability.POLL)

    def check_credentials(self, credentials: dict[str, Any]
                          ) -> tuple[dict[str, Any], list[str]]:
        return credentials, []

    # -- pushes -------------------------------------------------------------------------------
    def refuse_push(self, reason: str) -> str:
        raise self._no(Capability.PUSH)

    def check_push(self, account: dict[str, Any], form: dict[str, Any]) -> PushAnswer:
        raise self._no(Capability.PUSH)

    def read_push(self, body: str) -> list[tuple[str, list[TrackingEvent], bool]]:
        raise self._no(Capability.PUSH)

    # -- interception -------------------------------------------------------------------------
    def intercept_route(self, accounts: list[dict[str, Any]], courier: str
                        ) -> tuple[dict[str, Any] | None, Any]:
        raise self._no(Capability.INTERCEPT)

    def send_back(self, account: dict[str, Any], route: Any, *, order_id: str, courier: str,
                  track_no: str, reason: str) -> InterceptAnswer:
        raise self._no(Capability.INTERCEPT)

    def intercept_view(self, account: dict[str, Any]) -> dict[str, Any]:
        raise self._no(Capability.INTERCEPT)

    def intercept_setup_problems(self, *, secret: str | None, label_url: str | None
                                 ) -> list[str]:
        raise self._no(Capability.INTERCEPT)

    def intercept_setup(self, credentials: dict[str, Any], *, secret: str | None,
                        label_url: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
        raise self._no(Capability.INTERCEPT)

    def intercept_partner(self, courier: str, fields: dict[str, Any]
                          ) -> tuple[str, dict[str, str]]:
        raise self._no(Capability.INTERCEPT)

    def partners(self, credentials: dict[str, Any]) -> dict[str, dict[str, str]]:
        raise self._no(Capability.INTERCEPT)

    def with_partners(self, credentials: dict[str, Any],
                      partners: dict[str, dict[str, str]]) -> dict[str, Any]:
        raise self._no(Capability.INTERCEPT)


__all__ = ["Provider", "Unsupported"]
