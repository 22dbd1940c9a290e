"""printing: batches and records

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('print_batches',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('size', sa.String(length=12), nullable=False),
    sa.Column('order_by', sa.String(length=12), nullable=False),
    sa.Column('pack_ids', sa.Text(), nullable=False),
    sa.Column('selection_key', sa.String(length=64), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('printer', sa.String(length=128), nullable=False),
    sa.Column('reprint_of', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['reprint_of'], ['print_batches.id'], name=op.f('fk_print_batches_reprint_of_print_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_print_batches'))
    )
    with op.batch_alter_table('print_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_print_batches_selection_key'), ['selection_key'], unique=False)

    op.create_table('print_records',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('pack_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('reprint', sa.Boolean(), nullable=False),
    sa.Column('printed_by', sa.String(length=64), nullable=False),
    sa.Column('printed_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['print_batches.id'], name=op.f('fk_print_records_batch_id_print_batches')),
    sa.ForeignKeyConstraint(['pack_id'], ['packs.id'], name=op.f('fk_print_records_pack_id_packs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_print_records'))
    )
    with op.batch_alter_table('print_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_print_records_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_print_records_pack_id'), ['pack_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('print_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_print_records_pack_id'))
        batch_op.drop_index(batch_op.f('ix_print_records_batch_id'))

    op.drop_table('print_records')
    with op.batch_alter_table('print_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_print_batches_selection_key'))

    op.drop_table('print_batches')
