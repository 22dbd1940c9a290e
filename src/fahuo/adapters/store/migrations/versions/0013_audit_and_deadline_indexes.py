"""orders.audited_at; indexes for deadline-first picking and open after-sales

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audited_at', sa.BigInteger(), nullable=True))
        batch_op.create_index('ix_orders_state_deadline', ['state', 'exp_ship_time', 'order_id'],
                              unique=False)
    with op.batch_alter_table('sub_orders', schema=None) as batch_op:
        batch_op.create_index('ix_sub_orders_after_sale', ['after_sale_status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sub_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_sub_orders_after_sale')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_state_deadline')
        batch_op.drop_column('audited_at')
