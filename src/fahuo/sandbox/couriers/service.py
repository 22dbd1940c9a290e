"""The couriers of one :class:`~fahuo.sandbox.core.Sandbox`: the shared store plus each protocol part."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .douyin import DouyinRoutes
from .k100_intercept import LabelIntercepts
from .k100_push import Pushes
from .kuaidi100 import Kuaidi100

if TYPE_CHECKING:
    from ..core import Sandbox


class Couriers(Pushes, LabelIntercepts, Kuaidi100, DouyinRoutes):
    """Kuaidi100 accounts, subscriptions, queries, pushes and 快递拦截; Douyin route details; and the
    buyers who, once a parcel is signed, may ask for an after-sale (``aftersales.buyers``)."""

    def __init__(self, sb: Sandbox):
        super().__init__(sb)
        from ..aftersales.buyers import Buyers  # late: after-sales import the order helpers
        self.buyers = Buyers(sb)

    def tick(self) -> dict[str, Any]:
        res = super().tick()
        if self.buyers.conf is not None:
            res["aftersales_opened"] = self.buyers.tick(self.sb.now())
        return res
