"""Tables. SQLAlchemy Core tables, mapped to domain objects in the repositories.

Core rather than ORM classes: sync upserts thousands of orders per second and the domain stays
free of SQLAlchemy (cosmicpython's point), without the ORM's per-object cost.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger, Boolean, Column, Float, ForeignKey, Index, Integer, MetaData, String, Table,
    Text, UniqueConstraint, false, func, literal_column,
)

metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

shops = Table(
    "shops", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform", String(16), nullable=False, default="doudian"),
    Column("shop_id", String(32), nullable=False),
    Column("shop_name", String(128), nullable=False, default=""),
    Column("app_key", String(32), nullable=False),
    Column("app_secret_enc", Text, nullable=False),
    Column("gateway_url", String(255), nullable=False),
    Column("sign_method", String(16), nullable=False, default="hmac-sha256"),
    Column("auth_type", String(16), nullable=False, default="self"),  # self | oauth
    Column("access_token_enc", Text),
    Column("refresh_token_enc", Text),
    Column("token_expires_at", BigInteger),
    Column("refresh_expires_at", BigInteger),
    Column("token_scope", String(255), nullable=False, default=""),
    Column("rate_qps", Float),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("app_key", "shop_id"),
)

orders = Table(
    "orders", metadata,
    Column("order_id", String(32), primary_key=True),  # 19-digit ids stay strings
    Column("shop_ref", Integer, ForeignKey("shops.id"), nullable=False),
    Column("state", String(20), nullable=False),
    Column("order_status", Integer, nullable=False),
    Column("main_status", Integer),
    Column("create_time", BigInteger, nullable=False),
    Column("pay_time", BigInteger),
    Column("update_time", BigInteger, nullable=False),
    Column("exp_ship_time", BigInteger),
    Column("order_amount", BigInteger, nullable=False, default=0),  # fen
    Column("pay_amount", BigInteger, nullable=False, default=0),
    Column("post_amount", BigInteger, nullable=False, default=0),
    Column("buyer_words", Text, nullable=False, default=""),
    Column("seller_words", Text, nullable=False, default=""),
    Column("seller_remark_stars", Integer, nullable=False, default=0),
    Column("presale_type", Integer, nullable=False, default=0),
    Column("buyer_id", String(128), nullable=False, default=""),
    Column("receiver_name_cipher", Text, nullable=False, default=""),
    Column("receiver_phone_cipher", Text, nullable=False, default=""),
    Column("receiver_detail_cipher", Text, nullable=False, default=""),
    Column("receiver_name_mask", String(64), nullable=False, default=""),
    Column("receiver_phone_mask", String(32), nullable=False, default=""),
    Column("receiver_address_mask", Text, nullable=False, default=""),
    Column("province", String(32), nullable=False, default=""),
    Column("city", String(32), nullable=False, default=""),
    Column("district", String(32), nullable=False, default=""),
    Column("street", String(64), nullable=False, default=""),
    Column("receiver_plain_enc", Text),  # encrypted JSON, only when the platform sent plain text
    Column("raw", Text, nullable=False),  # platform payload with plain PII stripped
    Column("synced_at", BigInteger, nullable=False),
    # When the audit last judged this version; audited again only once something changed.
    Column("audited_at", BigInteger),
    Index("ix_orders_shop_state", "shop_ref", "state"),
    Index("ix_orders_exp_ship_time", "exp_ship_time"),
    Index("ix_orders_state_deadline", "state", "exp_ship_time", "order_id"),
    Index("ix_orders_update_time", "update_time"),
)

sub_orders = Table(
    "sub_orders", metadata,
    Column("sku_order_id", String(32), primary_key=True),
    Column("order_id", String(32), ForeignKey("orders.order_id"), nullable=False, index=True),
    Column("product_id", String(32), nullable=False, default=""),
    Column("sku_id", String(32), nullable=False, default=""),
    Column("merchant_code", String(64), nullable=False, default=""),
    Column("product_name", Text, nullable=False, default=""),
    Column("spec", Text, nullable=False, default=""),
    Column("quantity", Integer, nullable=False),
    Column("pay_amount", BigInteger, nullable=False, default=0),
    Column("order_status", Integer, nullable=False),
    Column("after_sale_status", Integer, nullable=False, default=0),
    Column("after_sale_type", Integer),
    Column("refund_status", Integer),
    Column("presale_type", Integer, nullable=False, default=0),
    Column("exp_ship_time", BigInteger),
    # Open after-sales are few: the refund stop finds them without reading every line.
    Index("ix_sub_orders_after_sale", "after_sale_status"),
)

sync_cursors = Table(
    "sync_cursors", metadata,
    Column("shop_ref", Integer, ForeignKey("shops.id"), primary_key=True),
    Column("kind", String(16), primary_key=True),  # "orders"; later "aftersales"
    Column("cursor_time", BigInteger, nullable=False),  # everything updated before is stored
    Column("last_run_at", BigInteger),
    Column("last_error", Text),
    Column("orders_seen", BigInteger, nullable=False, default=0),
)

push_inbox = Table(
    "push_inbox", metadata,
    Column("msg_id", String(128), primary_key=True),
    Column("app_key", String(32), nullable=False),
    Column("tag", String(8), nullable=False),
    Column("shop_id", String(32), nullable=False, default=""),
    Column("order_id", String(32), nullable=False, default=""),
    Column("data", Text, nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Column("status", String(12), nullable=False),  # pending | done | skipped | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("processed_at", BigInteger),
    Index("ix_push_inbox_status", "status", "received_at"),
    # the inbox list, newest first
    Index("ix_push_inbox_received_at", "received_at", "msg_id"),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", BigInteger, nullable=False),
    Column("actor", String(64), nullable=False),  # "system", "cli", a user name
    Column("action", String(64), nullable=False),
    Column("subject_type", String(32), nullable=False),
    Column("subject_id", String(64), nullable=False),
    Column("detail", Text, nullable=False, default="{}"),
    Index("ix_audit_log_subject", "subject_type", "subject_id"),
)


# ---- issue 3: the auto-ship pipeline -----------------------------------------------------

shop_settings = Table(
    "shop_settings", metadata,
    Column("shop_ref", Integer, ForeignKey("shops.id"), primary_key=True),
    Column("default_courier", String(32)),
    Column("confirm_mode", String(16), nullable=False, default="on_print"),  # on_print |
    # on_scan | on_waybill (an explicit choice only: it risks 虚假发货)
    Column("refund_policy", String(16), nullable=False, default="block"),  # block | reject
    Column("merge_window_s", Integer, nullable=False, default=0),  # 0 = never merge
    Column("ship_from_address_id", String(32)),
    Column("sender_name_enc", Text),
    Column("sender_phone_enc", Text),
    Column("audit_rules", Text, nullable=False, default="{}"),
    Column("courier_rules", Text, nullable=False, default="[]"),
    Column("cost_table", Text, nullable=False, default="{}"),
    Column("split_rules", Text, nullable=False, default="{}"),
    Column("sku_facts", Text, nullable=False, default="{}"),  # merchant code → weight, bin…
    Column("label_receiver", String(8), nullable=False, default="masked"),  # masked | plain
    Column("zpl_font", String(32), nullable=False, default="E:SIMSUN.TTF"),  # ZPL ^A@ font
    Column("watch_rules", Text, nullable=False, default="{}"),  # domain.watch.WatchRules
    Column("updated_at", BigInteger, nullable=False),
)

ship_from_addresses = Table(
    "ship_from_addresses", metadata,
    Column("shop_ref", Integer, ForeignKey("shops.id"), primary_key=True),
    Column("address_id", String(32), primary_key=True),
    Column("name", String(64), nullable=False, default=""),
    Column("phone_enc", Text),
    Column("province", String(32), nullable=False, default=""),
    Column("city", String(32), nullable=False, default=""),
    Column("district", String(32), nullable=False, default=""),
    Column("street", String(64), nullable=False, default=""),
    Column("detail", Text, nullable=False, default=""),
    Column("is_default_send", Boolean, nullable=False, default=False),
    Column("is_default_return", Boolean, nullable=False, default=False),
    Column("source", String(16), nullable=False, default="platform"),  # platform | manual
    Column("updated_at", BigInteger, nullable=False),
)

netsites = Table(
    "netsites", metadata,
    Column("shop_ref", Integer, ForeignKey("shops.id"), primary_key=True),
    Column("courier_code", String(32), primary_key=True),
    Column("netsite_code", String(64), primary_key=True),
    Column("netsite_name", String(128), nullable=False, default=""),
    Column("balance", BigInteger),  # None: the platform did not say
    Column("low_balance_alert", BigInteger, nullable=False, default=200),
    Column("company_type", Integer),
    Column("sender_address", Text, nullable=False, default="[]"),
    Column("checked_at", BigInteger, nullable=False),
)

order_holds = Table(
    "order_holds", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", String(32), ForeignKey("orders.order_id"), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Column("source", String(16), nullable=False),  # rule | human | pipeline
    Column("created_at", BigInteger, nullable=False),
    Column("released_at", BigInteger),
    Column("released_by", String(64)),
    Index("ix_order_holds_open", "order_id", "released_at"),
)

packs = Table(
    "packs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("shop_ref", Integer, ForeignKey("shops.id"), nullable=False),
    Column("kind", String(8), nullable=False),  # whole | merged | split
    Column("state", String(20), nullable=False),  # planned | waybill_pending | waybill_taken
    # | printed | confirmed | cancelled | failed
    Column("main_order_id", String(32), nullable=False),  # the order_id given to the platform
    Column("platform_pack_id", String(32), nullable=False, default=""),  # newCreateOrder pack_id
    Column("seq", Integer, nullable=False, default=1),  # 1..n within a split order
    Column("of", Integer, nullable=False, default=1),
    Column("courier_code", String(32)),
    Column("courier_rule", String(64), nullable=False, default=""),
    Column("courier_reason", Text, nullable=False, default=""),
    Column("netsite_code", String(64)),
    Column("track_no", String(64)),
    Column("sort_code", String(64), nullable=False, default=""),
    Column("short_address", String(64), nullable=False, default=""),
    Column("package_center", String(64), nullable=False, default=""),
    Column("request_id", String(64), nullable=False),  # idempotency key for pack APIs
    Column("platform_pack", String(64)),  # pack_id the shipping API returned
    Column("exp_ship_time", BigInteger),
    Column("last_error", Text),
    # A printed parcel that will not ship was opened and its goods put back (拆包放回): until
    # then its units stay reserved (they are in the box, not on the shelf).
    Column("unpacked_at", BigInteger),
    Column("unpacked_by", String(64)),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("main_order_id", "platform_pack_id"),
    Index("ix_packs_state_deadline", "state", "exp_ship_time"),
)

pack_lines = Table(
    "pack_lines", metadata,
    Column("pack_id", Integer, ForeignKey("packs.id"), primary_key=True),
    Column("sku_order_id", String(32), primary_key=True),
    Column("order_id", String(32), ForeignKey("orders.order_id"), nullable=False, index=True),
    Column("quantity", Integer, nullable=False),
)

waybills = Table(
    "waybills", metadata,
    Column("courier_code", String(32), primary_key=True),
    Column("track_no", String(64), primary_key=True),
    Column("shop_ref", Integer, ForeignKey("shops.id"), nullable=False),
    Column("pack_id", Integer, ForeignKey("packs.id"), nullable=False, index=True),
    Column("status", String(12), nullable=False),  # live | used | recycled
    Column("source", String(12), nullable=False, default="ewaybill"),  # ewaybill | manual
    Column("taken_at", BigInteger, nullable=False),
    Column("recycled_at", BigInteger),
)

ship_jobs = Table(
    "ship_jobs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(12), nullable=False),  # batch | import
    Column("status", String(12), nullable=False),  # preview | running | done | failed
    Column("source", Text, nullable=False, default=""),  # file name, or "api"
    Column("fingerprint", String(64)),  # sha256 of an imported file
    Column("total", Integer, nullable=False, default=0),
    Column("ok", Integer, nullable=False, default=0),
    Column("failed", Integer, nullable=False, default=0),
    Column("created_by", String(64), nullable=False, default="system"),
    Column("created_at", BigInteger, nullable=False),
    Column("finished_at", BigInteger),
)

ship_job_items = Table(
    "ship_job_items", metadata,
    Column("job_id", Integer, ForeignKey("ship_jobs.id"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("order_id", String(32), nullable=False, default=""),
    Column("courier_code", String(32), nullable=False, default=""),
    Column("track_no", String(64), nullable=False, default=""),
    Column("status", String(12), nullable=False),  # invalid | pending | shipped | skipped | failed
    Column("message", Text, nullable=False, default=""),
)


# ---- issue 4: printing ---------------------------------------------------------------------

print_batches = Table(
    "print_batches", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(12), nullable=False),  # labels | picklist | slips
    Column("format", String(16), nullable=False),  # pdf | zpl | xlsx | component
    Column("size", String(12), nullable=False, default=""),
    Column("order_by", String(12), nullable=False, default="deadline"),  # deadline | route
    Column("pack_ids", Text, nullable=False),  # JSON list, in print order
    Column("selection_key", String(64), nullable=False, index=True),  # what was asked for
    Column("fingerprint", String(64), nullable=False),  # sha256 of the file
    Column("file_name", String(255), nullable=False),
    Column("printer", String(128), nullable=False, default=""),
    Column("reprint_of", Integer, ForeignKey("print_batches.id")),
    Column("reason", Text, nullable=False, default=""),
    Column("created_by", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

print_records = Table(
    "print_records", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("batch_id", Integer, ForeignKey("print_batches.id"), nullable=False, index=True),
    Column("pack_id", Integer, ForeignKey("packs.id"), nullable=False, index=True),
    Column("kind", String(12), nullable=False),
    Column("reprint", Boolean, nullable=False, default=False),
    Column("printed_by", String(64), nullable=False),
    Column("printed_at", BigInteger, nullable=False),
)


# ---- issue 5: tracking, exceptions, alerts ---------------------------------------------------

tracking_accounts = Table(
    "tracking_accounts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("provider", String(16), nullable=False),  # kuaidi100 | kdniao
    Column("name", String(64), nullable=False, unique=True),
    Column("credentials_enc", Text, nullable=False),  # JSON: customer/key/salt or ids/api key
    Column("base_url", String(255), nullable=False),
    Column("callback_url", String(255), nullable=False, default=""),  # fahuo's public receiver
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", BigInteger, nullable=False),
)

trackers = Table(
    "trackers", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("shop_ref", Integer, ForeignKey("shops.id"), nullable=False),
    Column("pack_id", Integer, ForeignKey("packs.id"), unique=True),
    Column("order_id", String(32), nullable=False, index=True),  # the pack's main order
    Column("courier_code", String(32), nullable=False),
    Column("track_no", String(64), nullable=False),
    Column("source", String(16), nullable=False),  # kuaidi100 | kdniao | douyin (who we ask)
    Column("account_id", Integer, ForeignKey("tracking_accounts.id")),
    Column("phone_tail", String(8), nullable=False, default=""),  # SF/ZTO want it
    Column("state", String(20), nullable=False, default="info_received"),
    Column("incident", String(32)),
    Column("state_since", BigInteger),
    Column("last_event_at", BigInteger),
    Column("picked_up_at", BigInteger),
    Column("last_event", Text),  # JSON of the newest event (for screens and findings)
    Column("events", Text, nullable=False, default="[]"),  # JSON, oldest first
    Column("shipped_at", BigInteger, nullable=False),
    Column("subscribed", Boolean, nullable=False, default=False),
    Column("subscribe_error", Text),
    Column("poll_attempts", Integer, nullable=False, default=0),
    Column("next_poll_at", BigInteger),  # NULL = retired: never polled again
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("courier_code", "track_no"),
    Index("ix_trackers_track_no", "track_no"),
    Index("ix_trackers_next_poll_at", "next_poll_at"),
    # the tracking list (newest first) by state or by courier
    Index("ix_trackers_state_id", "state", "id"),
    Index("ix_trackers_courier_id", "courier_code", "id"),
)

tracking_pushes = Table(
    "tracking_pushes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", Integer, ForeignKey("tracking_accounts.id"), nullable=False),
    Column("digest", String(64), nullable=False, unique=True),  # sha256 of the payload
    Column("body", Text, nullable=False),  # the verified payload text
    Column("received_at", BigInteger, nullable=False),
    Column("processed_at", BigInteger),
    Column("error", Text),
    Index("ix_tracking_pushes_pending", "processed_at", "id"),
)

findings = Table(
    "findings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("kind", String(24), nullable=False),
    Column("shop_ref", Integer, ForeignKey("shops.id"), nullable=False),
    Column("order_id", String(32), nullable=False, index=True),
    Column("track_no", String(64), nullable=False, default=""),
    Column("courier_code", String(32), nullable=False, default=""),
    Column("since", BigInteger, nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Column("last_event", Text),  # JSON
    Column("opened_at", BigInteger, nullable=False),
    Column("closed_at", BigInteger),
    Column("close_reason", Text, nullable=False, default=""),
    Column("dismissed", Boolean, nullable=False, default=False),  # closed by a person
    Column("assignee", String(64), nullable=False, default=""),
    Column("notes", Text, nullable=False, default="[]"),  # JSON [{at, by, text}]
    Column("alerted_at", BigInteger),
    Column("told", Text, nullable=False, default="[]"),  # JSON: channels told this episode
    Index("ix_findings_open", "closed_at", "kind"),
    # the exceptions list: open ones oldest first, all kinds or one
    Index("ix_findings_open_since", "closed_at", "since", "id"),
    Index("ix_findings_open_kind_since", "closed_at", "kind", "since", "id"),
)

alert_channels = Table(
    "alert_channels", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # dingtalk | feishu | wecom | webhook | email
    Column("config_enc", Text, nullable=False),  # JSON: URL, secret, SMTP… (encrypted)
    Column("kinds", Text, nullable=False, default='["*"]'),  # finding kinds it receives
    Column("interval_s", Integer, nullable=False, default=1800),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", BigInteger, nullable=False),
)

alert_log = Table(
    "alert_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(64), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("title", Text, nullable=False),
    Column("count", Integer, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("error", Text),
    Column("sent_at", BigInteger, nullable=False),
    Index("ix_alert_log_channel_kind", "channel", "kind", "sent_at"),
)


# ---- console users ---------------------------------------------------------------------------

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),  # argon2id
    Column("role", String(16), nullable=False, default="operator"),  # admin | operator
    Column("may_see_receiver", Boolean, nullable=False, default=False),  # plain PII on labels
    Column("api_token_hash", String(64), unique=True),  # sha256 of the bearer token
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_login_at", BigInteger),
)

sessions = Table(  # console sign-ins; the cookie holds a random id, this only its SHA-256
    "sessions", metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)

login_attempts = Table(  # every sign-in try, for throttling across processes
    "login_attempts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("username", String(64), nullable=False),
    Column("ip", String(64), nullable=False),
    Column("ok", Boolean, nullable=False),
    Index("ix_login_attempts_username_at", "username", "at"),
    Index("ix_login_attempts_ip_at", "ip", "at"),
)

oauth_states = Table(  # OAuth `state` nonces handed to an admin: single use, short-lived
    "oauth_states", metadata,
    Column("nonce_hash", String(64), primary_key=True),
    Column("shop_ref", Integer, ForeignKey("shops.id"), nullable=False),
    Column("user_id", Integer),  # who asked (None on an install without users)
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger),
)


# ---- issue 6: stock -------------------------------------------------------------------------

stock_items = Table(
    "stock_items", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),  # lock order: by id
    Column("sku_code", String(64), nullable=False),  # the merchant's SKU code (商家编码)
    Column("warehouse", String(32), nullable=False, default="main"),
    Column("name", String(128), nullable=False, default=""),
    Column("on_hand", Integer, nullable=False, default=0),
    Column("reserved", Integer, nullable=False, default=0),
    Column("damaged", Integer, nullable=False, default=0),
    Column("safety", Integer, nullable=False, default=0),
    Column("sync_rule", Text, nullable=False, default="{}"),  # domain.stock.SyncRule
    # the merchant chose to let the rule's add-on / minimum promise stock that is not there
    Column("oversell", Boolean, nullable=False, server_default=false()),
    Column("dirty_at", BigInteger),  # changed since the last push to the shops
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("sku_code", "warehouse"),
)

stock_journal = Table(
    "stock_journal", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", Integer, ForeignKey("stock_items.id"), nullable=False, index=True),
    Column("move", String(16), nullable=False),
    Column("on_hand", Integer, nullable=False, default=0),  # deltas
    Column("reserved", Integer, nullable=False, default=0),
    Column("damaged", Integer, nullable=False, default=0),
    Column("ref_type", String(16), nullable=False, default=""),  # order | import | adjust | return
    Column("ref_id", String(64), nullable=False, default=""),
    Column("reason", Text, nullable=False, default=""),
    Column("actor", String(64), nullable=False, default=""),
    Column("at", BigInteger, nullable=False),
)

stock_reservations = Table(
    "stock_reservations", metadata,
    Column("order_id", String(32), primary_key=True),
    Column("item_id", Integer, ForeignKey("stock_items.id"), primary_key=True),
    Column("quantity", Integer, nullable=False),
    Column("state", String(12), nullable=False),  # reserved | released | shipped
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_stock_reservations_item_state", "item_id", "state"),
)

bundles = Table(
    "bundles", metadata,
    Column("bundle_code", String(64), primary_key=True),
    Column("component_code", String(64), primary_key=True),
    Column("quantity", Integer, nullable=False),
)

bundle_settings = Table(  # a bundle's own sync rule; its stock is its parts'
    "bundle_settings", metadata,
    Column("bundle_code", String(64), primary_key=True),
    Column("sync_rule", Text, nullable=False, server_default="{}"),  # domain.stock.SyncRule
    Column("oversell", Boolean, nullable=False, server_default=false()),
    # its rule or parts changed since the last push (a part's move marks the part; its
    # bundles are pushed with it)
    Column("dirty_at", BigInteger),
    Column("updated_at", BigInteger, nullable=False),
)

shop_skus = Table(  # which platform SKU sells which stock item, per shop
    "shop_skus", metadata,
    Column("shop_ref", Integer, ForeignKey("shops.id"), primary_key=True),
    Column("sku_id", String(32), primary_key=True),
    Column("product_id", String(32), nullable=False),
    Column("sku_code", String(64), nullable=False, index=True),
    Column("last_pushed", Integer),
    Column("pushed_at", BigInteger),
)

after_sales = Table(
    "after_sales", metadata,
    Column("aftersale_id", String(32), primary_key=True),
    Column("shop_ref", Integer, ForeignKey("shops.id"), nullable=False),
    Column("order_id", String(32), nullable=False, index=True),
    Column("sku_order_ids", Text, nullable=False, default="[]"),  # JSON
    Column("aftersale_type", Integer, nullable=False),  # 0 退货退款, 1 已发货仅退款, 2 未发货仅退款…
    Column("aftersale_status", Integer, nullable=False),
    Column("refund_status", Integer),
    Column("refund_amount", BigInteger, nullable=False, default=0),
    # the buyer's stated reason as the platform words it (商品质量问题…); "" if not given
    Column("reason", String(64), nullable=False, server_default=""),
    Column("stage", String(12), nullable=False),  # before_ship | after_ship
    Column("return_company", String(32), nullable=False, default=""),
    Column("return_tracking_no", String(64), nullable=False, default=""),
    Column("intercept_state", String(12), nullable=False, default=""),  # offered |
    # requesting (claimed, being sent) | requested | returning | returned | failed |
    # unavailable | unsure (Kuaidi100 may have taken it: check with the courier first)
    Column("intercept_detail", Text, nullable=False, default=""),  # for people
    # the path that took the interception: douyin | kuaidi100 | douyin+kuaidi100 | "" (none)
    Column("intercept_via", String(24), nullable=False, server_default=""),
    Column("intercept_claimed_at", BigInteger),  # when "requesting" began (a crash leaves it)
    Column("received_at", BigInteger),
    Column("good_qty", Integer, nullable=False, default=0),
    Column("damaged_qty", Integer, nullable=False, default=0),
    # what came back as the merchant named it ({"good": {code: n}, "damaged": {…}}): a
    # bundle stays a bundle here, while stock took its parts
    Column("received_lines", Text, nullable=False, server_default="{}"),
    Column("apply_time", BigInteger),
    Column("update_time", BigInteger, nullable=False),
    Column("closed_at", BigInteger),
    Index("ix_after_sales_open", "closed_at", "stage"),
    # the after-sale list, newest first: all, open / closed, or one type
    Index("ix_after_sales_update_time", "update_time", "aftersale_id"),
    Index("ix_after_sales_open_update_time", "closed_at", "update_time", "aftersale_id"),
    Index("ix_after_sales_type_update_time", "aftersale_type", "update_time", "aftersale_id"),
)

after_sale_lines = Table(  # the units a case is about, per order line (aftersale_item_num)
    "after_sale_lines", metadata,
    Column("aftersale_id", String(32), primary_key=True),
    Column("sku_order_id", String(32), primary_key=True),
    Column("units", Integer, nullable=False),
    Index("ix_after_sale_lines_sku_order_id", "sku_order_id"),
)

wms_exports = Table(  # packs handed to a third-party warehouse, so each goes out once
    "wms_exports", metadata,
    Column("pack_id", Integer, ForeignKey("packs.id"), primary_key=True),
    Column("file_name", String(255), nullable=False),
    Column("exported_at", BigInteger, nullable=False),
    Column("confirmed_at", BigInteger),
    Column("cancel_sent_at", BigInteger),  # told the warehouse not to ship it after all
)

leases = Table(  # named locks that expire unless their holder renews them (crash safety)
    "leases", metadata,
    Column("name", String(128), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("expires_at", Float, nullable=False),  # unix seconds, the database's clock
    Column("acquired_at", Float, nullable=False),
    # progress a holder leaves for the next one (the scheduler: start of the last period it
    # enqueued, unix seconds), so a new leader never repeats a period
    Column("mark", BigInteger),
)

install_meta = Table(  # facts about the install every process must agree on
    "install_meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)


# ---- 交接单: hand-over lists to a courier's pickup -----------------------------------------

handover_lists = Table(
    "handover_lists", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("shop_ref", Integer, ForeignKey("shops.id"), nullable=False),
    Column("courier_code", String(32), nullable=False),
    Column("netsite_code", String(64), nullable=False, default=""),  # "" = no branch code
    Column("state", String(16), nullable=False),  # domain.handover.HANDOVER: open | handed_over
    Column("packs", Integer, nullable=False),  # how many parcels it lists
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("handed_over_at", BigInteger),
    Column("handed_over_by", String(64)),
    Index("ix_handover_lists_shop_ref_created_at", "shop_ref", "created_at"),
)

handover_items = Table(  # the parcels of each list; the key makes a pack go on one list only
    "handover_items", metadata,
    Column("pack_id", Integer, ForeignKey("packs.id"), primary_key=True),
    Column("list_id", Integer, ForeignKey("handover_lists.id"), nullable=False, index=True),
    Column("seq", Integer, nullable=False),  # its line on the printed list, from 1
    Column("track_no", String(64), nullable=False),  # as handed over (the watch looks it up)
    Column("order_id", String(32), nullable=False),
    Index("ix_handover_items_track_no", "track_no"),
)

# ---- issue 14: the scan station ------------------------------------------------------------

scans = Table(  # every scan at the packing desk with the answer the packer got
    "scans", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", BigInteger, nullable=False),
    Column("actor", String(64), nullable=False),  # who scanned (signed-in person, CLI user)
    Column("code", String(64), nullable=False),  # the number as normalised
    Column("pack_id", Integer, ForeignKey("packs.id")),  # None: nobody has this number
    Column("courier_code", String(32), nullable=False, default=""),
    Column("order_ids", Text, nullable=False, default=""),  # comma-separated
    Column("verdict", String(20), nullable=False),  # services.scan.ScanResult.verdict
    Column("ok", Boolean, nullable=False),
    Column("message", Text, nullable=False, default=""),
    Index("ix_scans_at", "at"),
    Index("ix_scans_actor_at", "actor", "at"),
)

# ---- issue 14: the orders workbench --------------------------------------------------------

# The sort keys of the order list, NULLs folded so both databases page them alike (an order
# without a deadline sorts after every deadline; an unpaid one before every payment).
# The constants are written into the SQL, not bound: a planner matches an expression index
# only against the same expression, and ``coalesce(exp_ship_time, ?)`` is not that one (on
# SQLite every deadline- or paid-sorted page sorted the whole table).
NO_DEADLINE = 9_999_999_999
DEADLINE_KEY = func.coalesce(orders.c.exp_ship_time, literal_column(str(NO_DEADLINE), BigInteger))
PAID_KEY = func.coalesce(orders.c.pay_time, literal_column("0", BigInteger))
Index("ix_orders_wb_deadline", DEADLINE_KEY, orders.c.order_id)
Index("ix_orders_wb_shop_deadline", orders.c.shop_ref, DEADLINE_KEY, orders.c.order_id)
Index("ix_orders_wb_state_deadline", orders.c.state, DEADLINE_KEY, orders.c.order_id)
Index("ix_orders_wb_paid", PAID_KEY, orders.c.order_id)
Index("ix_orders_wb_amount", orders.c.pay_amount, orders.c.order_id)
Index("ix_orders_wb_province", orders.c.province)  # the province filter's count
Index("ix_packs_courier_code", packs.c.courier_code)
Index("ix_order_holds_reason", order_holds.c.reason, order_holds.c.released_at)

# What the search box finds an order by (domain/search.py): only what the merchant may see
# (ids, codes, titles, remarks, masked name and phone tail, tracking numbers), never plain
# receiver data. ``src`` says who wrote the term: "o" the order (rewritten with each new
# version), "w" a tracking number (kept). "C" collation on PostgreSQL: prefix ranges in
# byte order.
order_search = Table(
    "order_search", metadata,
    Column("term", String(64).with_variant(String(64, collation="C"), "postgresql"),
           primary_key=True),
    Column("order_id", String(32), primary_key=True),
    Column("src", String(1), nullable=False),
    Index("ix_order_search_order_id", "order_id"),
    sqlite_with_rowid=False,
)
