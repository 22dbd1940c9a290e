"""Whether a courier can take a parcel to a district: an e-waybill account for it, and the
platform's out-of-range answer (``logistics.getOutRange``), remembered per shop API session,
sender and district for hours (cheap, and ranges change rarely)."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import structlog

from fahuo.adapters.platforms.doudian.errors import DoudianError
from fahuo.adapters.platforms.doudian.shipping import PostalAddress
from fahuo.domain.orders import Receiver
from fahuo.services.shipping.report import StepReport

log = structlog.get_logger(__name__)

OUT_OF_RANGE_TTL_S = 6 * 3600
# Per shop API session (so two installs or databases in one process never share answers):
# (courier, sender, region) → (out, until).
_OUT_OF_RANGE: "weakref.WeakKeyDictionary[Any, dict[tuple, tuple[bool, float]]]" = (
    weakref.WeakKeyDictionary())


def reachability(clock: Callable[[], float], api: Any, sites: list[dict[str, Any]],
                 couriers: set[str], receiver: Receiver, r: StepReport
                 ) -> Callable[[str], bool]:
    """courier → whether it has an e-waybill account here and delivers to this district."""
    def reach(courier: str) -> bool:
        if courier not in couriers:
            return False
        site = next((s for s in sites if s["courier_code"] == courier
                     and s["sender_address"]), None)
        if site is None:
            return True
        a = site["sender_address"][0]
        sender = PostalAddress(a.get("province_name", ""), a.get("city_name", ""),
                               a.get("district_name", ""), a.get("street_name", ""),
                               a.get("detail_address", ""))
        # The check covers sender and receiver, so both belong in the key.
        key = (courier, sender.province, sender.city, sender.district,
               receiver.province, receiver.city, receiver.district)
        try:
            cache = _OUT_OF_RANGE.setdefault(api, {})
        except TypeError:  # an api object that cannot be weakly referenced: no caching
            cache = {}
        hit = cache.get(key)
        now = clock()
        if hit is None or hit[1] < now:
            try:
                r.calls += 1
                out = api.is_out_of_range(courier, sender, PostalAddress(
                    receiver.province, receiver.city, receiver.district, receiver.street,
                    receiver.detail_cipher or receiver.address_mask))
            except DoudianError as exc:
                log.warning("out_of_range_check_failed", courier=courier, error=str(exc))
                return True  # the waybill call will say so if it really is
            hit = cache[key] = (out, now + OUT_OF_RANGE_TTL_S)
        return not hit[0]
    return reach
