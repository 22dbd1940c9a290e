"""Simulated couriers: tracking timelines, Kuaidi100 (快递100) and Douyin ``trackNoRouteDetail``.

Facts: tracking-and-couriers.md §1 (Kuaidi100) and doudian-open-platform.md §9.8. Choices where
those are silent are listed in the :mod:`fahuo.sandbox` docstring ("Couriers and tracking").

Pure modules (no I/O): ``places`` (cities, distances, GMT+8 times), ``timeline`` (the plan of one
parcel, its anomaly, its events), ``character`` (pace and rates per courier, fast-forward), ``k100_wire`` (Kuaidi100 codes and shapes) and the node shape in
``douyin``.

Stateful: :class:`.service.Couriers` (one per :class:`~fahuo.sandbox.core.Sandbox`) is the shared
``store`` (accounts, timelines, subscriptions, counters) plus one part per protocol: ``kuaidi100``
(subscribe, query, the HTTP endpoints), ``k100_push`` (pushes: background thread and ``tick``),
``k100_intercept`` (快递拦截, ``/label/order`` ``interceptOrder``) and ``douyin``
(``logistics.trackNoRouteDetail``).
"""
