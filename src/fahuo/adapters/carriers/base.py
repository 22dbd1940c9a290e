"""Shared shapes for tracking providers (docs/tracking-and-couriers.md §1, §2, §7, §8).

Layout (one fixed layout per provider, after karrio): ``<provider>/settings.py`` (credentials),
``client.py`` (signed HTTP calls), ``push.py`` (verify + parse a push, and the exact reply
body), ``codes.py`` (Douyin courier code -> provider code), ``status.py`` (the provider's
state codes in fahuo's tracking model) and ``provider.py`` (what it can do, registered in
``registry.py``).

Clients never interpret states: :class:`TrackingResult` and :class:`RawEvent` carry the
provider's raw state / sub-state strings; the provider's ``status.py`` maps them
(``from_kuaidi100(state, sub_state)``, ``from_kdniao(state, state_ex)``).

Events are always returned **oldest first** (Kuaidi100 lists newest first and is reversed;
Kdniao is asked for ascending order). Time strings are provider local time (GMT+8) and are
converted to epoch seconds; an unparseable time gives ``at=None`` (the raw item is kept in
``RawEvent.raw``) rather than dropping the event or failing the whole result.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol, runtime_checkable

from fahuo.domain.clock import SHOP_TZ

__all__ = [
    "CST",
    "ProviderError",
    "QueryTooSoon",
    "PhoneRequired",
    "UnknownCourier",
    "InvalidPush",
    "RawEvent",
    "TrackingResult",
    "SubscribeAck",
    "TrackingProvider",
    "parse_cst_time",
    "phone_tail",
]

#: China Standard Time; both providers send wall-clock GMT+8 strings.
CST = SHOP_TZ  # couriers speak Beijing time

_NUMERIC_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
)
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
# Java Date.toString(): "Thu Mar 30 05:37:57 CST 2023" (Kdniao AcceptTime, §2.3)
_JAVA_DATE = re.compile(
    r"^[A-Z][a-z]{2} ([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (?:CST|GMT\+08:00) (\d{4})$"
)


def parse_cst_time(value: Any) -> int | None:
    """Epoch seconds for a provider time string in GMT+8; ``None`` when unparseable."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    for fmt in _NUMERIC_FORMATS:
        try:
            naive = _dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return int(naive.replace(tzinfo=CST).timestamp())
    m = _JAVA_DATE.match(text)
    if m and m.group(1) in _MONTHS:
        mon, day, hh, mm, ss, year = m.groups()
        try:
            dt = _dt.datetime(int(year), _MONTHS[mon], int(day), int(hh), int(mm), int(ss), tzinfo=CST)
        except ValueError:
            return None
        return int(dt.timestamp())
    return None


def format_cst(epoch: float) -> str:
    """``yyyy-MM-dd HH:mm:ss`` in GMT+8 (Kdniao ``UpdateTime``)."""
    return _dt.datetime.fromtimestamp(epoch, CST).strftime("%Y-%m-%d %H:%M:%S")


def phone_tail(phone: str | None) -> str | None:
    """Last 4 digits of a phone; for platform virtual numbers (``138xxxx0000-1234``) the part
    after the last ``-`` (§1.2). ``None``/blank -> ``None``; fewer than 4 digits -> ValueError."""
    if phone is None:
        return None
    text = str(phone).strip()
    if not text:
        return None
    if "-" in text:
        text = text.rsplit("-", 1)[1]
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) < 4:
        raise ValueError(f"电话 {phone!r} 不足 4 位数字（phone has fewer than 4 digits）")
    return digits[-4:]


class ProviderError(Exception):
    """A provider refused or failed a call. ``code`` is the provider's own code (Kuaidi100
    ``returnCode``, Kdniao ``ResultCode``) or ``http-<status>`` / ``transport`` / ``bad-response``."""

    def __init__(self, provider: str, code: str, message: str, *, retryable: bool = False,
                 payload: Any = None) -> None:
        self.provider = provider
        self.code = str(code)
        self.message = message
        self.retryable = retryable
        self.payload = payload
        super().__init__(f"{provider} error {self.code}: {message}")


class QueryTooSoon(ProviderError):
    """The same number was queried less than the minimum interval ago (Kuaidi100 locks a
    waybill queried more than once per 30 minutes, §1.2). Raised before any HTTP call."""

    def __init__(self, provider: str, track_no: str, retry_after: float) -> None:
        self.track_no = track_no
        self.retry_after = retry_after
        super().__init__(provider, "too-soon",
                         f"{track_no} was queried recently; retry in {int(retry_after + 0.999)} s",
                         retryable=True)


class PhoneRequired(ValueError):
    """The courier needs the sender's/receiver's phone (last 4 digits) for this call."""


class UnknownCourier(ValueError):
    """No provider code known for this courier code."""


class InvalidPush(Exception):
    """A push failed verification or could not be parsed; reply with the provider's failure
    body (see each ``push.py``) and log the raw form."""


@dataclass(frozen=True, slots=True)
class RawEvent:
    at: int | None  # epoch seconds (provider GMT+8 string); None if unparseable
    description: str
    location: str | None = None
    raw_state: str | None = None
    raw_sub_state: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class TrackingResult:
    provider: str  # "kuaidi100" / "kdniao"
    track_no: str
    courier: str | None  # the provider's own courier code as returned (com / ShipperCode)
    raw_state: str | None
    raw_sub_state: str | None
    events: tuple[RawEvent, ...]  # oldest first
    #: Kuaidi100 ``ischeck == "1"``; Kdniao has no such flag -> None.
    is_check: bool | None = None
    #: provider says it stops tracking (Kuaidi100 push ``status`` shutdown/abort); else None/False
    terminal: bool | None = None
    message: str = ""  # Kuaidi100 message / Kdniao Reason
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class SubscribeAck:
    provider: str
    track_no: str
    accepted: bool
    code: str
    message: str
    #: Kuaidi100 501 重复订阅: already being polled - do not resubscribe (§1.3)
    duplicate: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@runtime_checkable
class TrackingProvider(Protocol):
    """What a tracking provider adapter offers. ``courier`` arguments are fahuo/Douyin courier
    codes (``zhongtong``, ``shunfeng`` …); adapters translate them with their ``codes.py``.

    ``callback_in_request``: True when the push URL travels with each subscription
    (Kuaidi100); False when it is configured in the provider console (Kdniao, UNCONFIRMED).
    """

    name: str
    can_subscribe: bool
    can_query: bool
    can_push: bool
    callback_in_request: bool

    def query(self, track_no: str, courier: str | None, phone: str | None = None) -> TrackingResult: ...

    def subscribe(self, track_no: str, courier: str, callback_url: str | None = None,
                  salt: str | None = None, phone_tail: str | None = None) -> SubscribeAck: ...


def as_str(value: Any) -> str | None:
    """Providers send codes as numbers or strings; normalise to ``str`` (None stays None)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip()
    return text if text != "" else None


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().lower() in ("true", "1", "yes")


class CodeMap:
    """Douyin/fahuo courier code -> provider courier code, with configurable overrides
    (§4: "keep the mapping … as configurable data, not code").

    ``to_provider`` also accepts a code that already is one of the provider's codes (e.g.
    ``ZTO`` for Kdniao) and passes it through; anything else raises :class:`UnknownCourier`.
    ``qita`` (其他) maps to nothing and is rejected.
    """

    def __init__(self, provider: str, defaults: Mapping[str, str],
                 overrides: Mapping[str, str] | None = None) -> None:
        self.provider = provider
        merged = {k.strip().lower(): v for k, v in defaults.items()}
        for k, v in (overrides or {}).items():
            merged[k.strip().lower()] = v
        self._forward = merged
        self._provider_codes = frozenset(merged.values())

    def to_provider(self, courier: str) -> str:
        key = (courier or "").strip()
        if key.lower() in self._forward:
            return self._forward[key.lower()]
        if key in self._provider_codes:
            return key
        raise UnknownCourier(f"{self.provider} 不认识快递公司 {courier!r}（no {self.provider} code for courier）")

    def to_douyin(self, provider_code: str) -> str | None:
        """First fahuo/Douyin code mapped to ``provider_code`` (None if unmapped)."""
        for k, v in self._forward.items():
            if v == provider_code:
                return k
        return None

    def as_dict(self) -> dict[str, str]:
        return dict(self._forward)


def json_body(provider: str, resp: Any) -> dict[str, Any]:
    """A provider's JSON object reply, or a ProviderError saying what came back instead."""
    if resp.status_code != 200:
        raise ProviderError(provider, f"http-{resp.status_code}", resp.text[:300],
                            retryable=resp.status_code >= 500)
    try:
        body = resp.json()
    except ValueError as exc:
        raise ProviderError(provider, "bad-response", f"not JSON: {resp.text[:200]!r}") from exc
    if not isinstance(body, dict):
        raise ProviderError(provider, "bad-response", f"unexpected JSON: {resp.text[:200]!r}")
    return body
