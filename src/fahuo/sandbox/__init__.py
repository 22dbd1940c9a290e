r"""Local, strict simulation of the Douyin shop open platform (抖店开放平台).

Self-contained: nothing in here imports from ``fahuo`` outside ``fahuo.sandbox``.

Entry points
------------
* :func:`fahuo.sandbox.app.create_app` ``(db_path, *, clock_offset=0.0)`` → Starlette ASGI app
* :func:`fahuo.sandbox.testing.run_sandbox` ``(db_path, host="127.0.0.1", port=0)`` → context manager
  yielding the base URL
* :func:`fahuo.sandbox.__main__.serve` ``(db_path, host, port)``; ``python -m fahuo.sandbox --db PATH``

Modules: ``signing`` (sign / push sign / timestamps / canonical JSON), ``generator`` (orders),
``store`` (SQLite), ``core`` (state, tokens, orders, faults, profiles), ``push`` (webhook worker),
``gateway`` (common checks + method registry, ``@api_method``), ``methods`` (handlers), ``logistics``
(e-waybill §9 + shipping §8 handlers and their admin helpers), ``admin``.

Choices where the platform doc is UNCONFIRMED or silent
-------------------------------------------------------
* Unknown method → 40003 ``isv.parameter-invalid:method`` (sub_msg names the method); ``method``
  query ≠ path → same code. ``app_key`` not 19 digits or unknown → 40003 ``isv.app-id-invalid``.
* Missing platform param (``method``, ``v``, ``timestamp``) → 40001 ``isv.parameter-missing:<name>``;
  missing business param → 40002 ``isv.parameter-missing:<name>``; bad business param → 40003
  ``isv.parameter-invalid:<name>``.
* Check order: app_key → method → v → timestamp format → sign_method → sign present → QPS (60000)
  → signature → timestamp window (±600 s) → access_token → injected faults → param_json JSON → handler.
* Timestamps: digits of length 9–11 = seconds, 13 = milliseconds, else ``yyyy-MM-dd HH:mm:ss`` GMT+8.
* Signature tolerance: raw param_json first, then recursively key-sorted re-serialisations
  (raw UTF-8 / ``\\uXXXX``; plain / ``& < >`` escaped / Gson ``& < > = '`` escaped).
* ``err_no``/``message`` are always present (the ``x-open-no-old-err-code`` header is ignored).
* Tokens: uuid strings; every ``token.create`` issues a new pair (older pairs stay valid).
  ``token.refresh`` in the last hour: new pair, old pair valid until now+1 h; after expiry: old pair
  deleted (→ ``isv.access-token-no-existed``). Dead/foreign refresh token → 50002
  ``isv.business-failed:31009``. ``auth_subject_type`` = ``MiniShop``, ``authority_id`` = shop id string.
* ``order.searchList``: page default 0, size default 10 (1..100); time bounds inclusive; any bound
  older than now−90 d rejected; extra filters (product, b_type, presell_type, …) are accepted and
  ignored. Ties are ordered by (time, order_status, other time, insertion id) — a stable total order.
* ``order.orderDetail`` unknown / other shop's order → 50002 ``isv.business-failed``, sub_msg
  ``订单不存在: <id>``.
* Push: new paid orders → 100 then 101; risk-control (105) orders → 100 then 110 and 101 when released
  to 2; cancelled → 106; memo → 113; address → 105; deadline → 126 (or 112 for 预约发货).
  Delivery succeeds only on HTTP 200 with JSON ``code == 0``; retries with exponential back-off
  (``retry_base_s``·2^n, capped ``retry_max_s``) up to ``max_retries``, then the batch is dropped
  (counted in ``/sandbox/stats``). ``msg_id`` = ``<19 digits>:<tag>:<unix seconds>``.
* Default per-app QPS 100 (sliding 1 s window; rejected calls are not counted).

E-waybill and shipping (``logistics.py``; UNCONFIRMED choices)
----------------------------------------------------------
* ``logistics.listShopNetsite``: ``data = {logistics_code (as asked, "" = all), company_type (0 for all),
  netsites[]}``; every netsite carries ``company`` (courier code) and ``company_type``. Seeded lazily per
  shop: zhongtong / yunda / jtexpress (2 netsites), yuantong / shentong / shunfeng (1); type 2 加盟, SF 1
  直营. Netsite *i* sends from the shop's ``address.list`` entry *i*. Balances: first netsite 1 000 000,
  second 3 000 (``POST /sandbox/netsites/balance``). ``amount`` is a string; counters are ints.
* Track numbers (tracking-and-couriers.md §5 "typical" formats; the brief's "ZTO 12 / STO 12–13 digits"
  lost to the doc): zhongtong ``78`` + 12 digits (``^7[3-68]\d{12}$``), yuantong ``YT`` + 13, yunda
  ``3`` + 12 (13 digits), shentong ``77`` + 13 (15 digits), jtexpress ``JT`` + 13, shunfeng ``SF`` + 13.
  Digits = (seq · 7919393 + k) mod 10^n (a bijection: never repeats).
* ``newCreateOrder``: sender address must equal (province/city/district/detail; street if given) a
  ``sender_address`` of that courier's netsites, else 50002 ``isv.business-failed:8``; that netsite's
  balance is spent. Bad/missing item fields fail the whole call (40002/40003 naming
  ``order_infos[i]…``); > 100 items → 40003 ``isv.parameter-invalid:order_infos``. Per-item ``err_infos``
  (code stays 10000): ``10702`` unknown / other shop's order, ``10703`` status not 2/101/3, ``10704`` out of
  range, ``10701`` 电子面单库存不足 (only 10701 is documented). Status is checked before idempotency;
  ``(order_id, pack_id, courier)`` of a live/used number → same ebill (no balance); after
  ``cancelOrder`` the same key gets a new number. ``pack_id`` absent → ``""`` echoed.
* Out of range (also ``getOutRange``, reason 4 网点经营问题; ``type`` 0 checks sender and receiver,
  1 sender, 2 receiver): three-level prefix rules per courier — all: 海南三沙; zhongtong 西藏阿里/那曲;
  yuantong 西藏阿里, 新疆和田; yunda all 西藏, 青海玉树; shentong all 西藏, 新疆和田/阿勒泰;
  jtexpress 西藏阿里.
* ``waybillApply``: ``order_id`` is ``"<order_id>|<shop_id>"`` (the doc saw ``"…|1055635778"``: key on
  ``track_no``); ``err_code`` 10801 unknown / other courier, 10802 cancelled. ``print_data`` is an opaque
  base64 blob; ``sign`` is 64 hex.
* ``cancelOrder``: recycles balance (amount+1, cancelled+1, recycled+1); twice → 50002
  ``isv.business-failed:9`` ``运单号已取消，请勿重复取消: <no>``; picked up (admin) → 50002 ``…:9``
  ``运单已揽收，无法取消``; a used-but-not-picked-up number can be cancelled.
* Shipping refusals are 50002 ``isv.business-failed:<n>``: 1 order missing, 2 already shipped (status 3/5):
  ``订单已发货，请勿重复发货，已发货运单: <company_code>:<tracking_no>[,<code>:<no>…]`` (same shape for the
  same or another number), 3 部分发货 (doc text), 4 cancelled / unpaid / edit before shipping, 5 open
  after-sale (6/7/11) without ``is_reject_refund``/``is_refund_reject`` (with it the after-sale becomes
  27 拒绝, ``refund_status`` 4, no push), 6 risk control (105), 7 item/quantity/number checks (cancelled
  sandbox number, number of another courier), 8/9 see above. Unknown ``company_code`` → 40003.
  Tracking numbers: 6–32 of ``[A-Za-z0-9-]`` (foreign numbers accepted).
* ``logisticsAdd`` ships every line except refunded ones (after_sale 12); repeated ``logisticsAdd`` with
  the same number on other orders is allowed (merged parcels). Pack APIs accept status 2/101; sub-orders
  must belong to the listed orders; ``shipped_num`` ≤ remaining; every listed order needs ≥1 line.
  ``request_id`` (optional, ≤ 64) replays the first *successful* result per (shop, method); failures are
  not remembered. ``pack_id``/``delivery_id`` are 13-digit strings. Partial → 101 (shipped lines 3) and
  one push 108 per package; complete → 3 and one push 102 (per order for merged packs).
* ``logisticsEdit``: only on 3/101 with exactly one package (else ``…:7`` naming logisticsEditByPack);
  no edit limit; push 104.
* Admin: ``POST /sandbox/orders/refund {order_id, sku_order_id?}`` (after_sale 6, type 2 before ship / 1
  after, push 200 per line), ``POST /sandbox/orders/status {order_id, order_status}`` (no push),
  ``POST /sandbox/shipments/pickup {tracking_no}``, ``GET /sandbox/shipments?shop_id=``,
  ``GET /sandbox/waybills?shop_id=`` (status live / used / cancelled, picked_up).
"""
