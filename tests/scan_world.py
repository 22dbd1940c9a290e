"""A shop with five numbered parcels waiting at the scan desk (confirm at scan), on a fake
platform: what the scan station's tests start from."""

from __future__ import annotations

import time
from typing import Any

from fakes import FakeShop
from support import order_payload

from fahuo.services.orders import store_platform_orders
from fahuo.services.settings import refresh_from_platform, update_settings
from fahuo.services.shipping import Pipeline
from fahuo.services.shops import NewShop, add_shop


def parcels_at_the_desk(app: Any, n: int = 5) -> tuple[Any, list[dict[str, Any]]]:
    """(platform_for, the packs by id), each pack numbered (zhongtong) and not yet scanned."""
    shop = FakeShop()
    platform_for = lambda _shop: shop  # noqa: E731
    with app.uow() as u:
        ref = add_shop(u, NewShop(shop_id="1001", app_key="3409409348479354011",
                                  app_secret="s", gateway_url="http://127.0.0.1:1"))
    refresh_from_platform(app.uow, platform_for, ref)
    update_settings(app.uow, ref, {
        "confirm_mode": "on_scan", "default_courier": "zhongtong", "sender_name": "王仓管",
        "sender_phone": "13800000000", "audit_rules": {
            "hold_on_buyer_remark": False, "hold_on_seller_remark": False,
            "hold_presale": False}}, actor="t")
    now = int(time.time())
    with app.uow() as u:
        store_platform_orders(u, ref, [order_payload(str(6900000000000000000 + i * 100),
                                                     now - 60 + i) for i in range(1, n + 1)])
    Pipeline(app.uow, platform_for).run()
    with app.uow(readonly=True) as u:
        packs = sorted(u.pipeline.packs_in_state(["waybill_taken"], limit=100),
                       key=lambda p: p["id"])
    assert len(packs) == n
    return platform_for, packs
