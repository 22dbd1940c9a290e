"""The couriers of one :class:`~fahuo.sandbox.core.Sandbox`: the shared store plus each protocol part."""
from __future__ import annotations

from .douyin import DouyinRoutes
from .k100_intercept import LabelIntercepts
from .k100_push import Pushes
from .kuaidi100 import Kuaidi100


class Couriers(Pushes, LabelIntercepts, Kuaidi100, DouyinRoutes):
    """Kuaidi100 accounts, subscriptions, queries, pushes and 快递拦截; Douyin route details."""
