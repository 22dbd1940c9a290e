r"""Local, strict simulation of the Douyin shop open platform (抖店开放平台).

Self-contained: nothing in here imports from ``fahuo`` outside ``fahuo.sandbox``.

Entry points
------------
* :func:`fahuo.sandbox.app.create_app` ``(db_path, *, clock_offset=0.0)`` → Starlette ASGI app
* :func:`fahuo.sandbox.testing.run_sandbox` ``(db_path, host="127.0.0.1", port=0)`` → context manager
  yielding the base URL
* :func:`fahuo.sandbox.__main__.serve` ``(db_path, host, port)``; ``python -m fahuo.sandbox --db PATH``

Modules: ``signing`` (sign / push sign / timestamps / canonical JSON), ``store`` (SQLite, one
transaction helper), ``core`` (state, tokens, faults, stats), ``orders`` (order reads, generation,
changes; the order helpers of every writer), ``profiles`` (real-time order profiles), ``generator``,
``catalogue`` and ``receivers`` (what orders are made of), ``push`` (webhook worker), ``gateway``
(common checks + method registry, ``@api_method``), ``params`` (parameter checks), ``methods``
(token / order / address handlers). Packages, each with its own docstring: ``logistics``
(e-waybill §9, shipping §8, reachability, print data), ``couriers`` (places, timelines, Kuaidi100
and Douyin wire, the shared store), ``stock`` (inventory §11), ``aftersales`` (after-sale §12 and
refund pushes 200–208), ``admin`` (the unsigned ``/sandbox/…`` API).

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

E-waybill and shipping (``logistics``; UNCONFIRMED choices)
-------------------------------------------------------
* ``logistics.listShopNetsite``: ``data = {logistics_code (as asked, "" = all), company_type (0 for all),
  netsites[]}``; every netsite carries ``company`` (courier code) and ``company_type``. Seeded lazily per
  shop: zhongtong / yunda / jtexpress (2 netsites), yuantong / shentong / shunfeng (1); type 2 加盟, SF 1
  直营. Netsite *i* sends from the shop's ``address.list`` entry *i* (shop addresses are never in
  the remote areas below, so a whole shop is never out of a courier's range). Balances: first netsite 1 000 000,
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
  after-sale (6/7/11) without ``is_reject_refund``/``is_refund_reject`` (with it the stored after-sale is
  refused: 6 → 27, 7/11 → 29, ``refund_status`` 4, push 204 / 205, see "After-sale"), 6 risk control
  (105), 7 item/quantity/number checks (cancelled sandbox number, number of another courier), 8/9 see
  above. Unknown ``company_code`` → 40003.
  Tracking numbers: 6–32 of ``[A-Za-z0-9-]`` (foreign numbers accepted).
* ``logisticsAdd`` ships every line except refunded ones (after_sale 12), less the units of agreed partial
  未发货仅退款 cases (12 / refund 3, by ``aftersale_num``: a line of 3 with 1 refunded sends 2, and the pack
  APIs take at most that); repeated ``logisticsAdd`` with
  the same number on other orders is allowed (merged parcels). Pack APIs accept status 2/101; sub-orders
  must belong to the listed orders; ``shipped_num`` ≤ remaining; every listed order needs ≥1 line.
  ``request_id`` (optional, ≤ 64) replays the first *successful* result per (shop, method); failures are
  not remembered. ``pack_id``/``delivery_id`` are 13-digit strings. Partial → 101 (shipped lines 3) and
  one push 108 per package; complete → 3 and one push 102 (per order for merged packs).
* ``logisticsEdit``: only on 3/101 with exactly one package (else ``…:7`` naming logisticsEditByPack);
  no edit limit; push 104.
* Admin: ``POST /sandbox/orders/refund {order_id, sku_order_id?}`` (a refund-only after-sale per line:
  status 6, type 2 before ship / 1 after, push 200 per line; see "After-sale"),
  ``POST /sandbox/orders/status {order_id, order_status}`` (no push), ``POST /sandbox/shipments/pickup
  {tracking_no}``, ``GET /sandbox/shipments?shop_id=``, ``GET /sandbox/waybills?shop_id=`` (status live /
  used / cancelled, picked_up).

Stock (``stock``; facts: doudian-open-platform.md §11; UNCONFIRMED choices)
---------------------------------------------------------------------------
* Every shop sells the whole generator CATALOGUE. A shop's rows are created (1000 units per SKU) the first
  time anything touches its stock: a stock call, ``GET /sandbox/stock`` or a paid order.
* ``stock_num`` = the last absolute sync (+ later increments) − units of orders paid after it (orders
  generated in 2 / 105, ``mutate`` 1 → 2), floored at 0. The generator never checks stock, so a shop oversells
  only if the merchant synced too high. Cancellations, refunds and ``/sandbox/orders/status`` give nothing
  back (the merchant's next sync does).
* ``sku.stockNum``: ``sku_id`` (int or digit string) or ``code`` (neither → 40002 ``isv.parameter-missing:sku_id``).
  ``prehold_stock_num`` = units of paid-but-unshipped lines (orders 2 / 105, what is left of 101; refunded
  lines (after_sale 12) excluded); informational, ``stock_num`` is already net of them.
  ``normal_stock_num`` = ``stock_num``; ``out_sku_id`` 0 (GO: int64), ``sku_type`` 0, other figures 0, maps ``{}``.
* ``sku.syncStock``: ``product_id`` required (40002; ``out_product_id`` alone → …:11); one of ``sku_id`` /
  ``code`` / ``out_sku_id`` (none → 40002 ``isv.parameter-missing:sku_id``; sandbox SKUs have no numeric
  ``out_sku_id`` → …:11); ``stock_num`` required (40002); absolute < 0 → 40003 ``isv.parameter-invalid:stock_num``;
  an increment may be negative, its result may not (…:11). ``incremental`` default false; true needs
  ``idempotent_id`` (40002 ``isv.parameter-missing:idempotent_id``; ≤ 64 chars else 40003), which is ignored on
  absolute syncs (GO: 仅incremental=true时有用). Ids are per shop, shared by both sync methods; a repeat →
  40003 ``isv.idempotent-id-existed`` (§4.2 lists it under 40003) ``幂等ID已存在，请勿重复提交: <id>``; a refused
  call does not use up its id. ``out_warehouse_id`` (no region stock) or a non-zero ``step_stock_num`` → …:11.
* ``sku.syncStockBatch``: ``product_id`` and ``sku_sync_list`` (1–100, else 40003) required; per item ``sku_id``
  (40002 ``isv.parameter-missing:sku_sync_list[i].sku_id``), ``sku_type`` 0 / 1 / 10 (others 40003; 1 and 10
  → …:11), ``stock_num`` absent = 0 (the GO SDK omits 0), absolute < 0 → 40003
  ``isv.parameter-invalid:sku_sync_list[i].stock_num``; a repeated ``sku_id`` → 40003 ``…:sku_sync_list``.
  All or nothing: every bad SKU (unknown, another product's, region / step, increment below 0) is named in
  ONE 50002 ``isv.business-failed:11`` and nothing changes.
* Business refusals are 50002 ``isv.business-failed:11``: ``sku不存在: <id>``, ``sku商家编码不存在: <code>``,
  ``sku <id> 不属于商品 <pid>（属于商品 <real>）``, ``商品不存在: <pid>``, ``库存不足，增量更新后库存不能小于0: …``,
  ``以下sku信息不正确，整批未更新（商品 <pid>）: <id>（…）…``. Response ``data`` of the syncs is ``{}``.
* Admin: ``GET /sandbox/stock?shop_id=`` → ``{shop_id, initial_stock, skus[{product_id, sku_id, code, stock_num,
  prehold_stock_num, sold_since_sync, synced_at, update_time}], syncs[{id, method, at, product_id, incremental,
  idempotent_id, skus[{sku_id, code, stock_num, before, after}], code, sub_code, sub_msg}]}``: every sync call
  that reached its handler, refused ones too (``before`` / ``after`` only when applied); ids are strings.

After-sale (``aftersales``; facts: doudian-open-platform.md §12, §10.5; UNCONFIRMED choices)
-------------------------------------------------------------------------------------------
* One case per sub-order (``related_id`` = ``sku_order_id``); types 0 退货退款, 1 已发货仅退款, 2 未发货仅退款
  (3/6/7/8 are not simulated). Ids are 19-digit strings ``7200000000000000000 + 7919·n``. Times are the sandbox
  clock; every change sets ``update_time`` = max(now, previous + 1), mirrors ``{after_sale_status,
  after_sale_type, refund_status}`` on the order line and bumps the order's ``update_time`` (no order push).
  The order's status never changes: a refunded line (12) is simply not shipped.
* Decisions (admin): create → 6 (refund 1); 6 → 7 (type 0) / 12 (types 1, 2) / 27 / 28; 7 → 11 only by
  ``return_shipped``, 7 → 28; 11 → 12 / 29 / 28; 27 → 6 (the buyer applies again) / 12 (the platform rules
  for the buyer) / 28; 29 → 12 / 28; 12 → 12 (refund_status change); 28 is final; 8/13/14 → 400. Default
  refund_status: 12 → 3, 27/28/29 → 4, else 1; outside 12 only 1 or 4. A new case on a line needs its
  previous one closed (28). ``status_deadline``: 6 and 11 +48 h, 7 +7 d, 27/29 +3 d, else 0.
* Pushes (data = the tag-200 fields of §10.5: aftersale_id, aftersale_status, aftersale_type, p_id, s_id, shop_id,
  reason_code, refund_amount, refund_post_amount, refund_voucher_num, apply_time, update_time; + agree_time
  (201), success_time (206), close_time (207), modify_time (208) = update_time): create 200; → 7 202; → 11 203;
  → 12 201, + 206 when refund_status is 3 (at 12: refund → 3 206, → other 208); → 27 204 (types 1, 2) or 205
  (type 0); → 29 204; → 28 207; 27 → 6 and refund-only changes 208. Interception changes no status: no
  push, no ``update_time`` bump. 209–227 are never sent.
* ``afterSale.List``: page default 0 (< 0 → 40003 ``isv.parameter-invalid:page``), size default 10 (1–100, else
  40003 ``…:size``). Filters: order_id, aftersale_id, aftersale_type, standard_aftersale_status[] (values of
  §12.1, else 40003), deprecated aftersale_status, start_time/end_time (apply time) and
  update_start_time/update_end_time (inclusive), order_logistics_tracking_no[]; the doc's other filters are
  accepted and ignored; no 90-day limit. order_by[] ``"<status_deadline|apply_time|update_time> <asc|desc>"``
  (else 40003), default ``apply_time desc``; ties by application order (first key's direction). Response
  ``size`` = items on this page (GO: 当前返回售后数量); ``has_more`` = (page + 1)·size < total.
  Item (GO field set, doc's names): ``aftersale_info{aftersale_id (string), aftersale_order_type 1, aftersale_type,
  aftersale_status, related_id, apply_time, create_time, update_time, status_deadline, refund_amount (line
  pay_amount × aftersale_num / item_num), refund_post_amount 0, aftersale_num, part_type, refund_status,
  arbitrate_status 0, return_logistics_code, return_logistics_company_name, order_logistics[{tracking_no,
  company_name, company_code, logistics_time, logistics_state}], got_pkg, …}``: ``order_logistics`` = the
  parcels carrying the line, ``logistics_state`` 2 signed / 1 refused / 3 on the way back (incl. intercepted) /
  4 back at the merchant / 0 otherwise (GO's order_logistics_state values); ``got_pkg`` 1 for type 0 or a
  signed parcel. There is no return-company CODE in the List (doc: "…"; GO: only
  ``return_logistics_company_name``); the code is in ``afterSale.Detail``. ``order_info{shop_order_id (string),
  related_order_info[{sku_order_id, order_status (2 not shipped, 3 shipped, 5 order completed), item_num,
  shop_sku_code, aftersale_item_num, logistics_code (forward tracking no), pay_amount, product_id, …}]}``,
  ``text_part``, ``seller_logs`` [].
* ``afterSale.Detail`` (GO layout; the doc only says process_info / order_info): ``after_sale_id`` (40002 /
  40003); unknown or another shop's → 50002 ``isv.business-failed:12`` ``售后单不存在: <id>``;
  ``need_operation_record``. ``data.process_info{after_sale_info{after_sale_id (int), after_sale_status,
  refund_status, after_sale_type, status_deadline, apply_time, update_time, refund_total_amount, …},
  logistics_info{return{tracking_no, company_name, company_code, logistics_time} | null, order[]},
  record_logs_list (only when asked; role 1 buyer, 2 merchant, 3 platform)}``, ``data.order_info{shop_order_id
  (int), sku_order_infos[]}``.
* ``afterSale.applyLogisticsIntercept``: ``after_sale_id`` (int or digits), ``op_from`` required, 1 or 3 (40002 /
  40003), ``intercept_targets`` 1–20 of ``{company_code (an order.logisticsCompanyList code, else 40003),
  tracking_no}``. Whole-call refusals: 50002 ``…:12`` unknown case; ``…:13`` case not in 6/7 or order without
  a parcel. Per target (code stays 10000; ``success_count`` / ``failed_count``): ``unavailable_reason_code`` 1 not a
  parcel of the case's order, 2 company differs, 3 already intercepted, 4 signed (包裹已签收，无法拦截), 5 on its
  way back / back, 6 lost. Success: ``can_intercept`` and ``is_success`` true, ``intercept_cost`` 300 fen
  (shunfeng 500), ``value_amount`` = paid value of the parcel's units, ``cur_product``, ``other_products``,
  ``settlement_mode`` 0; the courier timeline is rebuilt to turn back where the parcel is (退回 "快件已被拦截"
  2–8 h after its last event or now, then the hubs in reverse → 退签; not collected yet: it never moves;
  tracking anomaly ``intercepted``). ``refund_amount`` = the case's.
* Admin: ``POST /sandbox/aftersales {order_id, sku_order_id?, kind? (refund | return), aftersale_type? (0 | 1 |
  2), item_num?, reason_code? (1–5)}`` → ``{order_id, update_time (the order's), aftersales[case]}`` (400:
  unpaid / cancelled order, type 0/1 before shipment, type 2 after, a live case on the line);
  ``POST /sandbox/orders/refund`` = kind refund. ``POST /sandbox/aftersales/{id}/status {aftersale_status,
  refund_status?}`` and ``POST /sandbox/aftersales/{id}/return_shipped {company_code, tracking_no}`` (type 0 at
  7 → 11) → ``case + tags[]`` (a bad move 400, unknown id 404). ``GET /sandbox/aftersales?shop_id=`` →
  ``[case]``. case = ``{aftersale_id, shop_id, order_id, sku_order_id, aftersale_type, aftersale_status,
  refund_status, apply_time, update_time, status_deadline, refund_amount, aftersale_num, reason_code, return,
  intercepts, logs}``.

Couriers and tracking (``couriers``; facts: tracking-and-couriers.md §1, doudian-open-platform.md §9.8)
---------------------------------------------------------------------------------------------------------
* Kuaidi100 is served by the same app: ``POST /poll`` (subscribe) and ``POST /poll/query.do`` (query), so
  ``Kuaidi100Settings(base_url=<sandbox>)`` works. Accounts: ``POST /sandbox/kuaidi100/accounts
  {customer?, key?, secret?}`` → ``{customer (32 upper hex), key (16 chars), secret (32 hex; signs
  /label/order), salt_hint (a random 32-char salt to use)}``.
  Bodies must be ``application/x-www-form-urlencoded`` UTF-8. Replies are HTTP 200 JSON. ``POST /label/order``
  (快递拦截) is served too: ``Kuaidi100Settings(label_url=<sandbox>/label/order)``; see below.
* Timelines: a number is known once shipped (``shipments``, earliest row; base time = its ``ship_time`` on
  the sandbox clock) or when subscribed with a supported ``company`` the sandbox never shipped (base =
  subscription time; places from ``from``/``to`` text, else seeded). Built lazily on first use (subscribe,
  query, route detail, admin), with the anomaly rates in force then. Sender = the e-waybill's netsite
  address, else the shop's default send address; receiver = the first order's ``post_addr``. Steps:
  揽收 (2–6 h after shipping) → 2–4 hub scans (sender city, up to two hubs with the least detour, receiver
  city; 4–9 h + distance at 80 km/h apart) → 派件 (next 08:00–11:00 GMT+8 round) → [驿站, 30 % of
  parcels] → 签收. Everything is seeded by the number: same number + places + anomaly → same events.
* Codes per event (Kuaidi100 ``state`` / ``statusCode`` (resultv2=4) / Douyin node ``state``): 揽收 1/103/揽收;
  hub scans 0/1002/在途, last hub (receiver city) 0/1001/在途; 派件 5/5/派件; 驿站 5/501/待取件; 签收 3/301
  (3/304 after 驿站, 3/302 after any failure, refusal or loss)/签收; failed attempt 2/206 then 2/204
  (驿站超时未取 2/205)/疑难; 拒签 14/14/拒签; 退回 and every return-trip scan 6/6/退回; returned to sender
  4/4/退签; lost 2/2/丢失 — §1.5 has no 丢件 code, so Kuaidi100 shows a plain 疑难 (base code as
  statusCode) with a 遗失 trace text, while Douyin says 丢失. Douyin ``state`` values are the keys of
  fahuo's (UNCONFIRMED) ``DOUYIN`` table; ``state_description`` is a synonym from the same table
  (已揽收, 运输中, 派送中, 待取件, 已签收, 异常, 拒收, 退回中, 退签, 丢失), so either field maps the same way.
* Anomalies (``POST /sandbox/tracking/anomaly {track_no, kind}``, kind ``none`` resets; ``POST
  /sandbox/tracking/rates {kind: rate}`` replaces the rates, sum ≤ 1, one seeded draw per number):
  ``never_collected`` no event; ``stalled`` stops after a seeded hub scan; ``failed_delivery`` 派件 → 206 →
  next-day 派件 → 204, then nothing; ``refused`` 派件 → 拒签, then nothing (the trip back is ``returned``);
  ``returned`` 派件 → 退回 → the hubs in reverse → 派送给寄件人 → 退签; ``lost`` 遗失 one-two days after a
  seeded hub scan, then nothing. A change keeps every event already due or pushed and rebuilds the
  rest from where the parcel is (a trigger point already passed applies at once; e.g. ``none`` after a
  stall resumes, ``returned`` after 拒签 sends it back); if that continuation would start in the past
  it starts from now. A finished timeline (签收 / 退签), ``never_collected`` after 揽收, or anything but
  ``returned`` on the way back → 400. A seventh kind, ``intercepted``, is set only by
  ``afterSale.applyLogisticsIntercept`` or Kuaidi100 ``interceptOrder`` (turns back where it is: 退回 "快件已被拦截" → hubs in reverse → 退签).
* Courier character (``POST /sandbox/tracking/character``, ``couriers.character``; off by default,
  ``{}`` resets; ``{"preset": "demo"[, "fast_forward": f]}``): per courier a ``pace`` stretching its
  transit legs, per receiving province a pace replacing it, and its own anomaly rates (else the
  sandbox-wide ones); ``fast_forward`` f: events keep their realistic stamps (what pushes and
  queries print) but are due on the sandbox clock at ship + (stamp − ship) / f. Fixed per number
  when its timeline is built (kept in the plan), seeded by the number. The demo preset: 中通 steady
  (failed 2 %, refused 1 %); 韵达 2× slower into 广东省, failed 12 %; 圆通 refused 8 %,
  returned 3 %; fast-forward 1200.
* Buyers (``POST /sandbox/aftersales/buyers``, ``aftersales.buyers``; off by default, ``{}`` turns
  off): once a parcel's 签收 is due, each paid line in it draws (seeded by the sub-order id) whether
  its buyer applies, at its product's rate, and with which reason; the case is made as
  ``POST /sandbox/aftersales`` makes one (退货退款, 已发货仅退款 for 收到商品破损; refused like it when a
  case is open). Reasons 6 与商品描述不符, 7 尺码不合适, 8 收到商品破损 join 1–5 (sandbox codes,
  UNCONFIRMED against the platform's list).
* Subscribe (§1.3) checks, in order: form, ``schema=json`` and ``param`` JSON object (else 700), ``key``
  known (else 600), ``parameters`` object, ``number`` 1–32 of ``[A-Za-z0-9-]``, ``company`` (empty with
  ``autoCom=1`` → the known courier of the number, else 702; unsupported → 700), ``callbackurl`` http(s)
  (else 700), ``salt`` string, ``resultv2`` in ''/0/1/2/4/6/8 (2 → 1, 6 → 4), ``phone`` required only for
  shunfeng / shunfengkuaiyun (700; not compared at subscribe). 501 ``重复订阅`` while the same
  (customer, company, number) is still polling; after ``shutdown`` / ``abort`` it may be subscribed again
  (no 30-minute wait is enforced). A wrong company for a known number finds nothing: after 3 days an
  ``abort`` push "3天查询无记录" with ``comOld`` = subscribed, ``comNew`` = the real courier.
* Pushes (§1.4): form ``param`` + ``sign`` = upper MD5(param + salt) (no ``sign`` when the subscription had
  no salt). One push per event that happens after subscribing; events that happened before come in one
  first push. ``lastResult`` holds every event so far, newest first, ``state`` = the newest event's base
  state, ``ischeck`` "1" only for 3 (签收); ``status`` ``polling``, ``shutdown`` with the 签收 / 退签 push
  (then polling ends), ``abort`` with message "3天查询无记录" (nothing for 3 days after subscribing;
  ``lastResult.data`` empty, its ``state``/``status`` "") or "60天无变化" (no new event for 60 days). Pushes
  are made and sent by a background thread every 0.5 s and by ``POST /sandbox/tracking/tick``. Delivered
  only on HTTP 200 with JSON ``result`` true, ``returnCode`` "200" (string) and ``message`` 成功 or 提交成功;
  otherwise retried ``max_retries`` (3) times ``retry_interval_s`` (2100 = 35 min, sandbox clock) apart,
  then dropped. ``POST /sandbox/tracking/faults {duplicate_rate, reorder, retry_interval_s, max_retries,
  timeout_s}`` (replaces; ``DELETE`` resets): duplicates and shuffling apply to first attempts of one tick.
* Query (§1.2; error codes other than 400 UNCONFIRMED): not a form / missing field / unknown customer /
  bad ``com`` or ``num`` (6–32) → 400; ``signType`` MD5 (default) or SHA256 only (SM3 → 400); ``sign`` must be
  the upper-case hex exactly, else 503 验证签名失败; shunfeng / shunfengkuaiyun / zhongtong without a phone,
  or with a last-4 matching neither the receiver's (``mask_post_tel``) nor the sender's phone (when the
  sandbox knows them; a subscription's ``phone`` counts as the receiver's) → 408; the same
  number (any account) accepted less than 30 min ago (sandbox clock) → 502 锁单 (refusals do not count);
  unknown number, wrong company or nothing happened yet → 500 查询无结果 (counts as a query). Success =
  the ``lastResult`` shape (+ ``routeInfo{from,cur,to}``, ``isLoop`` for resultv2 4/8; 8 is served as 4),
  ``order`` asc/desc honoured, ``show`` ignored (always JSON).
* ``logistics.trackNoRouteDetail`` (§9.8): params ``logistics_code`` (40002/40003), ``track_no`` (40002),
  optional ``receiver_phone`` (accepted, not checked). ``data = {track_info{track_no, express =
  logistics_code}, route__node_list[]}`` — the Go SDK spelling (generated from the official fields), so
  clients must read both; nodes are the due events, oldest first: ``{content, timestamp (string
  seconds), state, state_description, site_name}``; none yet → ``[]``. Unknown or another shop's number →
  50002 ``isv.business-failed:10`` ``运单号不存在或不属于当前店铺``; courier differs from the shipment's → same
  code ``运单号与物流公司不匹配``.
* Admin: ``GET /sandbox/tracking/{track_no}`` (404 unknown) → ``{track_no, courier, shop_id, source,
  base_time, anomaly, now, origin, dest, hubs[], events[{index, step, at, time, due, pushed, delivered,
  state, status_code, douyin_state, context, location, site}], subscriptions[], pushes[], intercepts[{customer,
  order_id, company, intercept_type, partner_id, at}]}``;
  ``POST /sandbox/tracking/tick`` → ``{now, created, aborts, sent, delivered, failed, dropped}``;
  ``GET /sandbox/tracking/stats`` → ``{subscriptions{total, polling, accepted, duplicate, rejected},
  pushes{created, sent, delivered, failed, dropped, duplicates_sent, aborts, pending}, queries{ok,
  no_result, rejected, too_soon}, route_detail_calls, intercepts{accepted, rejected, total}, rates, faults}``.
* Kuaidi100 快递拦截 (labelV2 ``interceptOrder``; facts: the official SDK's InterceptOrderReq / Result, codes
  and messages below are the sandbox's own, UNCONFIRMED): ``POST /label/order`` form ``method``, ``key``, ``t``,
  ``param``, ``sign``; reply ``{code (int), message, data, time (ms, sandbox clock)}``, 200 = accepted, ``data``
  always null. Checks in order: a UTF-8 form (400); ``method`` present (400) and ``interceptOrder`` (anything else
  501, not simulated); ``key``/``t``/``param``/``sign`` present (400 naming them); ``t`` 13 digits (400; its age is
  not checked); ``key`` known (401 key无效) with a secret (401); ``sign`` = the upper-case MD5 of param + t + key +
  secret exactly (401 签名验证失败); ``param`` a JSON object (400) with only the SDK's fields (orderId, kuaidicom,
  kuaidinum, partnerId, partnerKey, partnerSecret, partnerName, code, net, reason, interceptType, recManInfo,
  orderRole, interceptPayType, salt, callbackUrl, appKey, appSecret; else 400), strings except recManInfo (400);
  ``kuaidicom`` a supported code (400); ``kuaidinum`` 1–32 (400); ``interceptType`` RETURN_SEND_STATION /
  RETURN_SEND_ADDR / MODIFY_ADDR (400); MODIFY_ADDR needs ``recManInfo{name, mobile, printAddr}`` (400);
  ``partnerId`` (400); ``orderRole`` 1/2/3, ``interceptPayType`` SHIPPER/CONSIGNEE/THIRDPARTY/MONTHLY,
  ``callbackUrl`` http(s) when given (400); MODIFY_ADDR itself → 501 (re-routing is not simulated); number
  unknown or of another courier (404); already intercepted by either path (409 该单号已拦截), signed (409
  快件已签收), on its way back or back (409), lost (409). Accepted: the timeline turns back exactly like a Douyin
  interception (anomaly ``intercepted``; both return station and return address end in 退签) and the request
  is kept (admin view ``intercepts``). No result callback is sent (its shape is undocumented).
  Accounts from ``POST /sandbox/kuaidi100/accounts {customer?, key?, secret?}`` carry a ``secret`` (32 hex).
* ``POST /sandbox/aftersales/intercept_unsupported {company_codes: [...]}`` (replaces; ``[]`` resets; unknown
  code 400): ``afterSale.applyLogisticsIntercept`` answers those couriers' parcels ``can_intercept`` false,
  ``unavailable_reason_code`` 7 ``该物流公司暂不支持平台拦截，请联系快递公司`` (a sandbox choice), checked after
  every other per-parcel reason; a parcel intercepted through Kuaidi100 is reason 3 there.
"""
