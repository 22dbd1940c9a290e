"""Tables. SQLAlchemy Core tables, mapped to domain objects in the repositories.

Core rather than ORM classes: sync upserts thousands of orders per second and the domain stays
free of SQLAlchemy (cosmicpython's point), without the ORM's per-object cost.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger, Boolean, Column, Float, ForeignKey, Index, Integer, MetaData, String, Table,
    Text, UniqueConstraint,
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
    Index("ix_orders_shop_state", "shop_ref", "state"),
    Index("ix_orders_exp_ship_time", "exp_ship_time"),
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
