"""the orders workbench: order_search (the search box's terms, filled from every stored order
and tracking number), sort-key indexes for keyset paging, courier and hold-reason indexes

Revision ID: 0025
Revises: 0024
"""
from alembic import op
import sqlalchemy as sa

from fahuo.adapters.store import search_index
from fahuo.adapters.store.migrate import create_index


revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

NO_DEADLINE = 9_999_999_999  # models.NO_DEADLINE, fixed here as the index was built


def upgrade() -> None:
    # big tables first (CONCURRENTLY on PostgreSQL, outside the migration's transaction)
    deadline = sa.text(f"coalesce(exp_ship_time, {NO_DEADLINE})")
    create_index('ix_orders_wb_deadline', 'orders', [deadline, 'order_id'])  # type: ignore[list-item]
    create_index('ix_orders_wb_shop_deadline', 'orders',
                 ['shop_ref', deadline, 'order_id'])  # type: ignore[list-item]
    create_index('ix_orders_wb_state_deadline', 'orders',
                 ['state', deadline, 'order_id'])  # type: ignore[list-item]
    create_index('ix_orders_wb_paid', 'orders',
                 [sa.text("coalesce(pay_time, 0)"), 'order_id'])  # type: ignore[list-item]
    create_index('ix_orders_wb_amount', 'orders', ['pay_amount', 'order_id'])
    create_index('ix_orders_wb_province', 'orders', ['province'])
    create_index('ix_packs_courier_code', 'packs', ['courier_code'])
    create_index('ix_order_holds_reason', 'order_holds', ['reason', 'released_at'])
    term = sa.String(64).with_variant(sa.String(64, collation="C"), "postgresql")
    op.create_table(
        'order_search',
        sa.Column('term', term, nullable=False),
        sa.Column('order_id', sa.String(length=32), nullable=False),
        sa.Column('src', sa.String(length=1), nullable=False),
        sa.PrimaryKeyConstraint('term', 'order_id', name='pk_order_search'),
        sqlite_with_rowid=False,
    )
    op.create_index('ix_order_search_order_id', 'order_search', ['order_id'])
    search_index.backfill(op.get_bind())


def downgrade() -> None:
    op.drop_index('ix_order_search_order_id', table_name='order_search')
    op.drop_table('order_search')
    for name, table in (('ix_order_holds_reason', 'order_holds'),
                        ('ix_packs_courier_code', 'packs'), ('ix_orders_wb_province', 'orders'),
                        ('ix_orders_wb_amount', 'orders'),
                        ('ix_orders_wb_paid', 'orders'), ('ix_orders_wb_state_deadline', 'orders'),
                        ('ix_orders_wb_shop_deadline', 'orders'),
                        ('ix_orders_wb_deadline', 'orders')):
        op.drop_index(name, table_name=table)
