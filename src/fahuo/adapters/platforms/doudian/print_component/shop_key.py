"""The pre-signed ``logistics.getShopKey`` query string the component fetches its key with (§15.2)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ..client import AppCredentials
from ..signing import sign_request

SHOP_KEY_METHOD = "logistics.getShopKey"


def _q(value: str) -> str:
    # Percent-encode anything that is not URL-safe; a no-op for digits, hex signs, app keys
    # and the usual token alphabet, so the result matches §15.2 byte for byte.
    return quote(str(value), safe="")


def shop_key_params(creds: AppCredentials, access_token: str, *, timestamp: str) -> str:
    """Fully signed query string for ``logistics.getShopKey`` with ``param_json={}`` (§15.2).

    Shape (order as in the doc)::

        access_token=…&app_key=…&method=logistics.getShopKey&param_json={}&timestamp=…&v=2&sign=…&sign_method=hmac-sha256

    Signed like any gateway call (§2) with ``creds.sign_method``; ``timestamp`` is used verbatim
    in both the signature and the string (Unix seconds recommended; milliseconds also seen).
    ``param_json`` stays the literal ``{}``; other values are percent-encoded only if they hold
    URL-unsafe characters.
    """
    if not access_token:
        raise ValueError("shop_key_params needs an access_token")
    ts = str(timestamp).strip()
    if not ts:
        raise ValueError("shop_key_params needs a timestamp")
    param_json = "{}"
    sign = sign_request(creds.app_key, creds.app_secret, SHOP_KEY_METHOD, param_json, ts, creds.sign_method)
    return (
        f"access_token={_q(access_token)}"
        f"&app_key={_q(creds.app_key)}"
        f"&method={SHOP_KEY_METHOD}"
        f"&param_json={param_json}"
        f"&timestamp={_q(ts)}"
        f"&v=2"
        f"&sign={sign}"
        f"&sign_method={creds.sign_method}"
    )


def shop_key_params_for(session: Any) -> str:
    """:func:`shop_key_params` for a ``ShopSession``: a fresh token (``session.tokens()``) and
    the client's clock. ``timestamp_format="datetime"`` falls back to Unix seconds (the
    component is only known to be fed seconds or milliseconds, §15.2)."""
    client = session.client
    creds: AppCredentials = client.creds
    if creds.timestamp_format == "datetime":
        ts = str(int(client.clock()))
    else:
        ts = client.timestamp()
    return shop_key_params(creds, session.tokens().access_token, timestamp=ts)
