"""after_sale_lines (units per case and line), packs.unpacked_at / unpacked_by

Revision ID: 0018
Revises: 0017
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'after_sale_lines',
        sa.Column('aftersale_id', sa.String(length=32), nullable=False),
        sa.Column('sku_order_id', sa.String(length=32), nullable=False),
        sa.Column('units', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('aftersale_id', 'sku_order_id', name=op.f('pk_after_sale_lines')),
    )
    op.create_index('ix_after_sale_lines_sku_order_id', 'after_sale_lines', ['sku_order_id'],
                    unique=False)
    with op.batch_alter_table('packs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unpacked_at', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('unpacked_by', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('packs', schema=None) as batch_op:
        batch_op.drop_column('unpacked_by')
        batch_op.drop_column('unpacked_at')
    op.drop_index('ix_after_sale_lines_sku_order_id', table_name='after_sale_lines')
    op.drop_table('after_sale_lines')
