"""bundles pushed to the shops, oversell chosen per SKU, returns as named

Revision ID: 0017
Revises: 0016
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('stock_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('oversell', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.create_table(
        'bundle_settings',
        sa.Column('bundle_code', sa.String(length=64), nullable=False),
        sa.Column('sync_rule', sa.Text(), nullable=False, server_default='{}'),
        sa.Column('oversell', sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column('dirty_at', sa.BigInteger(), nullable=True),
        sa.Column('updated_at', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('bundle_code', name=op.f('pk_bundle_settings')),
    )
    with op.batch_alter_table('after_sales', schema=None) as batch_op:
        batch_op.add_column(sa.Column('received_lines', sa.Text(), nullable=False,
                                      server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('after_sales', schema=None) as batch_op:
        batch_op.drop_column('received_lines')
    op.drop_table('bundle_settings')
    with op.batch_alter_table('stock_items', schema=None) as batch_op:
        batch_op.drop_column('oversell')
