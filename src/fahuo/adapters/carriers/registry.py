"""Every courier / tracking provider fahuo has, each declaring what it can do
(``ports.Carriers``; karrio-style: one folder per provider with the same parts).

| provider | subscribe | poll | push | intercept | account |
|---|---|---|---|---|---|
| ``kuaidi100`` | yes | yes | yes | yes (快递拦截) | customer, key, salt (+ secret, label_url) |
| ``kdniao`` | yes | yes | yes | no | ebusiness_id, api_key |
| ``douyin`` (fallback) | no | yes (``trackNoRouteDetail``) | no | no (the platform's own interception is an after-sale call) | none: the shop's platform |

Reachability: no provider offers it here (the pipeline asks the platform's ``getOutRange``).
Each provider's status map is in its own folder (``<provider>/status.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import httpx

from fahuo.services.ports import Capability

from .douyin.provider import DouyinRoute
from .kdniao.provider import Kdniao
from .kuaidi100.provider import Kuaidi100
from .provider import Provider

# In this order: listed in messages, the first account-bearing one tracks new parcels.
PROVIDERS: tuple[type[Provider], ...] = (Kuaidi100, Kdniao, DouyinRoute)
FALLBACK = DouyinRoute.name


class CarrierRegistry:
    """The providers, sharing one HTTP client (the one handed in, or one made when first
    needed and closed by ``close``)."""

    def __init__(self, http: httpx.Client | None = None,
                 providers: Iterable[type[Provider]] = PROVIDERS) -> None:
        self._given = http
        self._own: httpx.Client | None = None
        self._providers = {p.name: p(self._client) for p in providers}

    def _client(self) -> httpx.Client:
        if self._given is not None:
            return self._given
        if self._own is None:
            self._own = httpx.Client(timeout=15.0)
        return self._own

    def get(self, name: str) -> Provider:
        """KeyError for a provider fahuo does not have."""
        return self._providers[name]

    def all(self) -> tuple[Provider, ...]:
        return tuple(self._providers.values())

    def able(self, capability: Capability) -> tuple[Provider, ...]:
        return tuple(p for p in self._providers.values() if p.can(capability))

    @property
    def fallback(self) -> Provider:
        return self._providers[FALLBACK]

    def __iter__(self) -> Iterator[Provider]:
        return iter(self._providers.values())

    def close(self) -> None:
        if self._own is not None:
            self._own.close()
            self._own = None


__all__ = ["FALLBACK", "PROVIDERS", "CarrierRegistry"]
