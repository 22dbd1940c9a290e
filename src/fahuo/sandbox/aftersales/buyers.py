"""Buyers who ask for an after-sale once their parcel is signed: per product a share of its shipped
lines and a mix of the reasons they give, so some products come back clearly more than others.

Off until an admin sets a behaviour (``POST /sandbox/aftersales/buyers``): ``{"preset": "demo"}``
or ``{"default": {"rate": r, "reasons": {code: share}}, "products": {short: {...}}}`` with
``short`` a catalogue product's short code (``EJ`` 蓝牙耳机 …) and codes of
:data:`.rules.REASONS`; ``{}`` turns it off. Each signed parcel is looked at once, on the
couriers' tick after its 签收 is due (sandbox clock; a shipped parcel nobody asked about yet gets
its timeline then); every draw is seeded by the sub-order id,
so the same orders give the same after-sales. A buyer applies the way ``/sandbox/aftersales``
does (``cases.create``): the platform's own checks apply, and a line that already has an open
case is left alone.
"""
from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from ..catalogue import CATALOGUE
from ..orders import load_order
from . import cases
from .parcels import parcels_of
from .rules import REASONS

if TYPE_CHECKING:
    from ..core import Sandbox


SCHEMA = """
CREATE TABLE IF NOT EXISTS buyer_looks (
    track_no TEXT PRIMARY KEY,
    at REAL NOT NULL,
    aftersales TEXT NOT NULL
);
"""

SHORT_OF_PRODUCT = {p["product_id"]: p["short"] for p in CATALOGUE}
REFUND_ONLY_REASONS = frozenset({8})  # 收到商品破损: 已发货仅退款; every other reason returns the goods

# The demo shop's weak links: earphones that break (质量问题), jeans that do not fit (尺码不合适),
# a sun jacket unlike its pictures (与商品描述不符), pans that arrive dented (收到商品破损);
# everything else comes back now and then.
PRESETS: dict[str, dict[str, Any]] = {
    "demo": {
        "default": {"rate": 0.03, "reasons": {1: 0.6, 2: 0.2, 6: 0.2}},
        "products": {
            "EJ": {"rate": 0.30, "reasons": {2: 0.7, 6: 0.2, 1: 0.1}},
            "NZ": {"rate": 0.25, "reasons": {7: 0.7, 6: 0.2, 1: 0.1}},
            "FS": {"rate": 0.20, "reasons": {6: 0.7, 2: 0.2, 1: 0.1}},
            "CG": {"rate": 0.15, "reasons": {8: 0.6, 2: 0.3, 1: 0.1}},
        },
    },
}


def _mix(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict) or set(raw) - {"rate", "reasons"}:
        raise ValueError(f"{where}: an object with rate and reasons only")
    try:
        rate = float(raw.get("rate", 0.0))
    except (TypeError, ValueError):
        raise ValueError(f"{where}.rate must be a number") from None
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{where}.rate must be within 0..1")
    reasons = raw.get("reasons") or {1: 1.0}
    if not isinstance(reasons, dict):
        raise ValueError(f"{where}.reasons must map reason codes to shares")
    out: dict[int, float] = {}
    for k, v in reasons.items():
        try:
            code, share = int(k), float(v)
        except (TypeError, ValueError):
            raise ValueError(f"{where}.reasons: {k!r}: {v!r} is not reason code: share") from None
        if code not in REASONS:
            raise ValueError(f"{where}.reasons: reason code {code} not one of {sorted(REASONS)}")
        if share < 0:
            raise ValueError(f"{where}.reasons: shares must be ≥ 0")
        out[code] = share
    if sum(out.values()) <= 0:
        raise ValueError(f"{where}.reasons: shares must not all be 0")
    return {"rate": rate, "reasons": out}


def parse(conf: Any) -> dict[str, Any] | None:
    """A validated buyer behaviour; None (off) for ``{}``. Raises ValueError naming the problem."""
    if not isinstance(conf, dict):
        raise ValueError("the buyers' behaviour must be a JSON object")
    if not conf:
        return None
    if "preset" in conf:
        if set(conf) != {"preset"} or conf["preset"] not in PRESETS:
            raise ValueError(f"preset must be alone and one of {', '.join(PRESETS)}")
        conf = PRESETS[conf["preset"]]
    unknown = set(conf) - {"default", "products"}
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}; use default, products")
    products = conf.get("products") or {}
    shorts = {p["short"] for p in CATALOGUE}
    if not isinstance(products, dict) or set(products) - shorts:
        raise ValueError(f"products: unknown product short codes {sorted(set(products) - shorts)}")
    return {"default": _mix(conf.get("default") or {"rate": 0.0}, "default"),
            "products": {k: _mix(v, f"products.{k}") for k, v in products.items()}}


def _u(*parts: Any) -> float:
    return int(hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:13], 16) / 16 ** 13


def decide(conf: dict[str, Any], sku_order_id: str, product_id: int) -> int | None:
    """The reason code this line's buyer gives, or None when the buyer keeps the goods."""
    mix = conf["products"].get(SHORT_OF_PRODUCT.get(int(product_id), ""), conf["default"])
    if _u("buyer", sku_order_id) >= mix["rate"]:
        return None
    total = sum(mix["reasons"].values())
    v, acc = _u("reason", sku_order_id) * total, 0.0
    for code, share in sorted(mix["reasons"].items()):
        acc += share
        if v < acc:
            return int(code)
    return int(max(mix["reasons"]))


class Buyers:
    def __init__(self, sb: Sandbox):
        self.sb = sb
        sb.store.conn.executescript(SCHEMA)
        self.conf: dict[str, Any] | None = None

    def configure(self, conf: Any) -> dict[str, Any]:
        self.conf = parse(conf)
        return {"enabled": self.conf is not None, **(self.conf or {})}

    def tick(self, now: float, limit: int = 500) -> int:
        """Look at the parcels signed by ``now`` not looked at yet; returns the cases opened."""
        conf = self.conf
        if conf is None:
            return 0
        st = self.sb.store
        # a parcel's timeline is built on first use: shipped parcels nobody asked about yet get theirs
        for (tn,) in st.all("SELECT DISTINCT s.tracking_no FROM shipments s WHERE NOT EXISTS (SELECT 1 FROM tracks t"
                            " WHERE t.track_no = s.tracking_no) AND NOT EXISTS (SELECT 1 FROM buyer_looks b WHERE"
                            " b.track_no = s.tracking_no) LIMIT ?", (limit,)):
            if self.sb.couriers.track(tn) is None:  # a courier the sandbox does not simulate
                st.write("INSERT OR IGNORE INTO buyer_looks (track_no, at, aftersales) VALUES (?,?,'[]')", (tn, now))
        todo = st.all("SELECT t.track_no FROM tracks t WHERE t.signed_due <= ? AND t.shop_id IS NOT NULL AND"
                      " NOT EXISTS (SELECT 1 FROM buyer_looks b WHERE b.track_no = t.track_no)"
                      " ORDER BY t.signed_due LIMIT ?", (now, limit))
        opened = 0
        for (tn,) in todo:
            ids: list[str] = []
            s = st.one("SELECT order_ids FROM shipments WHERE tracking_no=? ORDER BY id LIMIT 1", (tn,))
            for oid in json.loads(s[0]) if s else []:
                with st.transaction() as conn:
                    order = load_order(conn, None, int(oid))
                if order is None:
                    continue
                lines = {str(x["order_id"]): x for x in order["sku_order_list"]}
                for pk in parcels_of(order):
                    if pk["tracking_no"] != tn:
                        continue
                    for p in pk["product_info"]:
                        line = lines.get(str(p["sku_order_id"]))
                        if line is None or not line.get("pay_amount"):
                            continue  # a free gift is not sent back
                        reason = decide(conf, str(p["sku_order_id"]), int(p["product_id"]))
                        if reason is None:
                            continue
                        try:
                            got = cases.create(self.sb, int(oid), str(p["sku_order_id"]),
                                               "refund" if reason in REFUND_ONLY_REASONS else "return",
                                               reason_code=reason)
                        except ValueError:
                            continue  # the platform refuses (an open case, a cancelled order): no case
                        ids += [a["aftersale_id"] for a in got["aftersales"]]
            st.write("INSERT OR IGNORE INTO buyer_looks (track_no, at, aftersales) VALUES (?,?,?)",
                     (tn, now, json.dumps(ids)))
            opened += len(ids)
        return opened
