"""Local, strict simulation of the Douyin shop open platform (抖店开放平台).

Self-contained: nothing in here imports from ``fahuo`` outside ``fahuo.sandbox``.

Entry points
------------
* :func:`fahuo.sandbox.app.create_app` ``(db_path, *, clock_offset=0.0)`` → Starlette ASGI app
* :func:`fahuo.sandbox.testing.run_sandbox` ``(db_path, host="127.0.0.1", port=0)`` → context manager
  yielding the base URL
* :func:`fahuo.sandbox.__main__.serve` ``(db_path, host, port)``; ``python -m fahuo.sandbox --db PATH``

Modules: ``signing`` (sign / push sign / timestamps / canonical JSON), ``generator`` (orders),
``store`` (SQLite), ``core`` (state, tokens, orders, faults, profiles), ``push`` (webhook worker),
``gateway`` (common checks + method registry, ``@api_method``), ``methods`` (handlers), ``admin``.

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
"""
