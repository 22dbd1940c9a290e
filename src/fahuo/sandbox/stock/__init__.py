"""Inventory (§11): platform stock per shop SKU and ``sku.syncStock`` / ``sku.syncStockBatch`` / ``sku.stockNum``.

Every shop sells the whole generator CATALOGUE, so every shop has every catalogue SKU. A shop's rows are
created (``INITIAL_STOCK`` each) the first time anything touches its stock: a stock call, the admin view
or a paid order. The model (choices listed in the :mod:`fahuo.sandbox` docstring, "Stock"):

* ``stock_num`` = the merchant's last absolute sync (plus later increments) − units of orders that were
  paid after it, floored at 0. The generator never checks stock: an order paid with the stock at 0
  still exists (the platform would have stopped selling; the sandbox keeps the order).
* ``prehold_stock_num`` = units of paid-but-unshipped lines (orders 2 / 105 / 101, refunded lines and
  shipped units excluded), computed from the orders when asked. It is informational: ``stock_num`` is
  already net of those units.

Error shapes: 40002 / 40003 naming the parameter; ``isv.idempotent-id-existed`` (40003, §4.2) for a
repeated incremental ``idempotent_id``; every business refusal is 50002 ``isv.business-failed:11``
naming the SKU / product. A refused call changes nothing and does not consume its idempotent id.

Modules: ``ledger`` (stock rows, seeding, paid orders taking units, pre-held units) and ``sync``
(the ``sku.*`` methods, their parameters, the sync log and the admin view).
"""
