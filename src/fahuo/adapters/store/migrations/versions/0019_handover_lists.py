"""handover_lists and handover_items (交接单)

Revision ID: 0019
Revises: 0018
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'handover_lists',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('shop_ref', sa.Integer(), nullable=False),
        sa.Column('courier_code', sa.String(length=32), nullable=False),
        sa.Column('netsite_code', sa.String(length=64), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('packs', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.BigInteger(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('handed_over_at', sa.BigInteger(), nullable=True),
        sa.Column('handed_over_by', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['shop_ref'], ['shops.id'],
                                name=op.f('fk_handover_lists_shop_ref_shops')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_handover_lists')),
    )
    op.create_index('ix_handover_lists_shop_ref_created_at', 'handover_lists',
                    ['shop_ref', 'created_at'], unique=False)
    op.create_table(
        'handover_items',
        sa.Column('pack_id', sa.Integer(), nullable=False),
        sa.Column('list_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('track_no', sa.String(length=64), nullable=False),
        sa.Column('order_id', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['list_id'], ['handover_lists.id'],
                                name=op.f('fk_handover_items_list_id_handover_lists')),
        sa.ForeignKeyConstraint(['pack_id'], ['packs.id'],
                                name=op.f('fk_handover_items_pack_id_packs')),
        sa.PrimaryKeyConstraint('pack_id', name=op.f('pk_handover_items')),
    )
    op.create_index('ix_handover_items_list_id', 'handover_items', ['list_id'], unique=False)
    op.create_index('ix_handover_items_track_no', 'handover_items', ['track_no'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_handover_items_track_no', table_name='handover_items')
    op.drop_index('ix_handover_items_list_id', table_name='handover_items')
    op.drop_table('handover_items')
    op.drop_index('ix_handover_lists_shop_ref_created_at', table_name='handover_lists')
    op.drop_table('handover_lists')
