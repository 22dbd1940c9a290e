"""orders.audited_at; indexes for deadline-first picking and open after-sales

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa

from fahuo.adapters.store.migrate import create_index


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Big tables: on PostgreSQL built CONCURRENTLY (writes go on), first, since entering the
    # autocommit block commits what came before it.
    create_index('ix_orders_state_deadline', 'orders', ['state', 'exp_ship_time', 'order_id'])
    create_index('ix_sub_orders_after_sale', 'sub_orders', ['after_sale_status'])
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audited_at', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sub_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_sub_orders_after_sale')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_state_deadline')
        batch_op.drop_column('audited_at')
