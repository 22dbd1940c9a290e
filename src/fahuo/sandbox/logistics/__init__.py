"""E-waybill (§9) and shipping (§8) methods, plus the admin helpers that drive them.

Every handler that writes runs in ONE SQLite transaction (``Store.transaction``) and only touches indexed rows
(orders by ``order_id``, waybills by ``track_no`` / ``(shop_id, order_id, pack_id, logistics_code)``,
netsites by primary key), so the 100 000-order benchmark stays linear.

Error shapes (all HTTP 200 envelopes; the numbering is the sandbox's own, UNCONFIRMED):

* parameter missing → 40002 ``isv.parameter-missing:<name>``; bad → 40003 ``isv.parameter-invalid:<name>``;
* business refusals → 50002 with ``sub_code`` = ``isv.business-failed:<n>``:

  ====  ==========================================================================================
  n     meaning (``sub_msg`` starts with)
  ====  ==========================================================================================
  1     ``订单不存在: <order_id>``
  2     ``订单已发货，请勿重复发货，已发货运单: <company_code>:<tracking_no>[,<code>:<no>…]``
  3     ``该订单当前为“部分发货”状态，无法调用此接口`` (doc §8.1 wording)
  4     order not shippable: ``订单已取消，无法发货`` / ``订单未支付，无法发货`` / ``订单未发货…``
  5     ``订单存在售后申请，无法发货: <sku_order_id,…>`` (open after-sale, no ``is_reject_refund``;
        with it the after-sale is refused, see :func:`fahuo.sandbox.aftersales.cases.refuse_on_ship`)
  6     ``风控审核中的订单暂不能发货: <order_id>`` (status 105)
  7     item / quantity / tracking-number checks (sub-order not in order, over-ship, cancelled number…)
  8     e-waybill account checks (courier not opened, sender address not a netsite address, unknown number)
  9     ``运单已揽收，无法取消`` / ``运单号已取消，请勿重复取消``
  10    ``trackNoRouteDetail``: ``运单号不存在或不属于当前店铺`` / ``运单号与物流公司不匹配`` /
        ``暂不支持该物流公司的轨迹查询``
  ====  ==========================================================================================

Modules: ``fields`` (parameter shapes: couriers, numbers, addresses), ``waybills`` (netsites and
their balance, ``newCreateOrder``, ``cancelOrder``), ``printing`` (``waybillApply``,
``templateList``), ``reach`` (out-of-range areas, ``getOutRange``), ``ship_checks`` (what a shipping
call checks first) and ``shipping`` (the shipping calls and status settling).
"""
