"""scans: what the packing desk scanned and what it was told (扫描发货 counter and list)

Revision ID: 0020
Revises: 0019
"""
from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'scans',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('at', sa.BigInteger(), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('code', sa.String(length=64), nullable=False),
        sa.Column('pack_id', sa.Integer(), nullable=True),
        sa.Column('courier_code', sa.String(length=32), nullable=False),
        sa.Column('order_ids', sa.Text(), nullable=False),
        sa.Column('verdict', sa.String(length=20), nullable=False),
        sa.Column('ok', sa.Boolean(), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['pack_id'], ['packs.id'], name=op.f('fk_scans_pack_id_packs')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_scans')),
    )
    op.create_index('ix_scans_at', 'scans', ['at'], unique=False)
    op.create_index('ix_scans_actor_at', 'scans', ['actor', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_scans_actor_at', table_name='scans')
    op.drop_index('ix_scans_at', table_name='scans')
    op.drop_table('scans')
