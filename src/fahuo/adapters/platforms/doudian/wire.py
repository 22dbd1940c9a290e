"""The HTTP underneath the Doudian client: POST bytes, get status, headers and bytes back.

Shipping confirms one order per call, so the HTTP client's own cost per call bounds how fast a
shop ships. Measured against the sandbox on a 2-core machine: httpx spends about 0.9 ms of CPU
per small call (URL re-parsing, header models, h11), urllib3 about 0.4 ms. The client therefore
talks through this small port: :class:`Urllib3Wire` by default, :class:`HttpxWire` around any
``httpx.Client`` (tests hand in ``httpx.MockTransport``; nothing else changes for them).
"""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote, urlsplit

import httpx
import urllib3

__all__ = ["HttpxWire", "Urllib3Wire", "Wire", "WireError", "WireResponse", "wire_for"]


@dataclass(frozen=True, slots=True)
class WireResponse:
    status: int
    body: bytes
    log_id: str  # the gateway's x-tt-logid header, "" when absent


class WireError(Exception):
    """The request did not complete (connect, TLS, timeout, connection dropped)."""


class Wire(Protocol):
    def post(self, url: str, body: bytes, headers: Mapping[str, str],
             timeout: float) -> WireResponse: ...

    def close(self) -> None: ...


class Urllib3Wire:
    """A keep-alive pool per host (thread-safe); proxies from the usual environment variables
    (``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``NO_PROXY``), as httpx would honour them."""

    def __init__(self, *, max_connections: int = 20) -> None:
        self._size = max_connections
        self._direct = urllib3.PoolManager(num_pools=8, maxsize=max_connections, block=False)
        self._proxies: dict[str, urllib3.ProxyManager] = {}
        self._lock = threading.Lock()
        self._env = urllib.request.getproxies()
        self._pools: dict[str, urllib3.HTTPConnectionPool] = {}
        # gzip keeps the platform's ~0.5 MB order pages small on the wire.
        self._accept = urllib3.util.make_headers(accept_encoding=True)["accept-encoding"]

    def _manager(self, url: str) -> urllib3.PoolManager:
        parts = urlsplit(url)
        proxy = self._env.get(parts.scheme) or self._env.get("all")
        if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
            return self._direct
        with self._lock:
            pm = self._proxies.get(proxy)
            if pm is None:
                pm = self._proxies[proxy] = _proxy_manager(proxy, self._size)
            return pm

    def _pool(self, url: str) -> tuple[urllib3.HTTPConnectionPool | urllib3.PoolManager, str]:
        """The host's own pool and the path to ask it for; the manager and the whole URL when
        a proxy is in the way. Pools are remembered by origin: parsing the URL and finding
        its pool again on every call costs more than the call's own bookkeeping."""
        scheme, _, rest = url.partition("://")
        host, slash, path = rest.partition("/")
        origin = f"{scheme}://{host}"
        pool = self._pools.get(origin)
        if pool is None:
            manager = self._manager(url)
            if manager is not self._direct:
                return manager, url
            pool = self._pools[origin] = manager.connection_from_url(origin)
        return pool, slash + path

    def post(self, url: str, body: bytes, headers: Mapping[str, str],
             timeout: float) -> WireResponse:
        try:
            pool, target = self._pool(url)
            r = pool.urlopen(
                "POST", target, body=body, headers={"Accept-Encoding": self._accept, **headers},
                timeout=urllib3.Timeout(connect=timeout, read=timeout),
                retries=False, redirect=False, preload_content=True)
        except urllib3.exceptions.HTTPError as exc:  # retried (or not) by the caller
            raise WireError(f"{type(exc).__name__}: {exc}") from exc
        return WireResponse(r.status, r.data, r.headers.get("x-tt-logid", ""))

    def close(self) -> None:
        self._pools.clear()
        self._direct.clear()
        with self._lock:
            for pm in self._proxies.values():
                pm.clear()


def _proxy_manager(proxy: str, size: int) -> urllib3.ProxyManager:
    """A proxy pool; ``user:password@`` in the proxy URL becomes Proxy-Authorization (urllib3
    does not read credentials out of the URL itself)."""
    if "://" not in proxy:
        proxy = "http://" + proxy
    p = urlsplit(proxy)
    headers = None
    if p.username is not None:
        headers = urllib3.make_headers(proxy_basic_auth=f"{unquote(p.username)}:"
                                                        f"{unquote(p.password or '')}")
        host = p.hostname or ""
        if ":" in host:
            host = f"[{host}]"  # an IPv6 literal
        proxy = f"{p.scheme}://{host}" + (f":{p.port}" if p.port else "")
    return urllib3.ProxyManager(proxy, proxy_headers=headers, num_pools=8, maxsize=size,
                                block=False)


class HttpxWire:
    def __init__(self, http: httpx.Client, *, owned: bool = False) -> None:
        self.http = http
        self._owned = owned

    def post(self, url: str, body: bytes, headers: Mapping[str, str],
             timeout: float) -> WireResponse:
        try:
            r = self.http.post(url, content=body, headers=dict(headers), timeout=timeout)
        except httpx.TransportError as exc:
            raise WireError(f"{type(exc).__name__}: {exc}") from exc
        return WireResponse(r.status_code, r.content, r.headers.get("x-tt-logid", ""))

    def close(self) -> None:
        if self._owned:
            self.http.close()


def wire_for(http: httpx.Client | Wire | None) -> tuple[Wire, bool]:
    """(the wire to use, whether the client owns it)."""
    if http is None:
        return Urllib3Wire(), True
    if isinstance(http, httpx.Client):
        return HttpxWire(http), False
    return http, False
