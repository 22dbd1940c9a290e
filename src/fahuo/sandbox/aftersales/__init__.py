"""After-sale (§12): stored cases, ``afterSale.List`` / ``afterSale.Detail`` /
``afterSale.applyLogisticsIntercept``, the admin story (create, buyer returns goods, merchant /
platform decisions) and the refund pushes 200–208 (§10.5).

One case covers one sub-order (``related_id`` = its ``sku_order_id``). Every change writes the case
(``update_time`` = max(now, previous + 1)), mirrors ``{after_sale_status, after_sale_type,
refund_status}`` onto the order line, bumps the order's ``update_time`` and pushes the tags of
:func:`.rules.tags_for` to the apps subscribed to the shop. Choices where the doc is silent are listed in
the :mod:`fahuo.sandbox` docstring ("After-sale").

Error shapes: 40002 / 40003 naming the parameter; 50002 ``isv.business-failed:12`` unknown /
another shop's after-sale; 50002 ``isv.business-failed:13`` interception refused as a whole (case
closed, order not shipped). Per-parcel interception refusals are results, not errors (code 10000).

Modules: ``rules`` (the decision table and push tags, pure), ``cases`` (stored cases, the admin
story, refusal on shipping), ``parcels`` (the parcels of a case and where they are), ``wire``
(``afterSale.List`` / ``afterSale.Detail``) and ``intercept`` (``afterSale.applyLogisticsIntercept``).
"""
