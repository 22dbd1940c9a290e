"""auto-ship pipeline: shop settings, addresses, netsites, holds, packs, waybills, ship jobs

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ship_jobs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('ok', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('finished_at', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ship_jobs'))
    )
    op.create_table('netsites',
    sa.Column('shop_ref', sa.Integer(), nullable=False),
    sa.Column('courier_code', sa.String(length=32), nullable=False),
    sa.Column('netsite_code', sa.String(length=64), nullable=False),
    sa.Column('netsite_name', sa.String(length=128), nullable=False),
    sa.Column('balance', sa.BigInteger(), nullable=True),
    sa.Column('low_balance_alert', sa.BigInteger(), nullable=False),
    sa.Column('company_type', sa.Integer(), nullable=True),
    sa.Column('sender_address', sa.Text(), nullable=False),
    sa.Column('checked_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['shop_ref'], ['shops.id'], name=op.f('fk_netsites_shop_ref_shops')),
    sa.PrimaryKeyConstraint('shop_ref', 'courier_code', 'netsite_code', name=op.f('pk_netsites'))
    )
    op.create_table('packs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('shop_ref', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('main_order_id', sa.String(length=32), nullable=False),
    sa.Column('platform_pack_id', sa.String(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('of', sa.Integer(), nullable=False),
    sa.Column('courier_code', sa.String(length=32), nullable=True),
    sa.Column('courier_rule', sa.String(length=64), nullable=False),
    sa.Column('courier_reason', sa.Text(), nullable=False),
    sa.Column('netsite_code', sa.String(length=64), nullable=True),
    sa.Column('track_no', sa.String(length=64), nullable=True),
    sa.Column('sort_code', sa.String(length=64), nullable=False),
    sa.Column('short_address', sa.String(length=64), nullable=False),
    sa.Column('package_center', sa.String(length=64), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=False),
    sa.Column('platform_pack', sa.String(length=64), nullable=True),
    sa.Column('exp_ship_time', sa.BigInteger(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['shop_ref'], ['shops.id'], name=op.f('fk_packs_shop_ref_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_packs')),
    sa.UniqueConstraint('main_order_id', 'platform_pack_id', name=op.f('uq_packs_main_order_id_platform_pack_id'))
    )
    with op.batch_alter_table('packs', schema=None) as batch_op:
        batch_op.create_index('ix_packs_state_deadline', ['state', 'exp_ship_time'], unique=False)

    op.create_table('ship_from_addresses',
    sa.Column('shop_ref', sa.Integer(), nullable=False),
    sa.Column('address_id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('phone_enc', sa.Text(), nullable=True),
    sa.Column('province', sa.String(length=32), nullable=False),
    sa.Column('city', sa.String(length=32), nullable=False),
    sa.Column('district', sa.String(length=32), nullable=False),
    sa.Column('street', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('is_default_send', sa.Boolean(), nullable=False),
    sa.Column('is_default_return', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['shop_ref'], ['shops.id'], name=op.f('fk_ship_from_addresses_shop_ref_shops')),
    sa.PrimaryKeyConstraint('shop_ref', 'address_id', name=op.f('pk_ship_from_addresses'))
    )
    op.create_table('ship_job_items',
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.String(length=32), nullable=False),
    sa.Column('courier_code', sa.String(length=32), nullable=False),
    sa.Column('track_no', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['ship_jobs.id'], name=op.f('fk_ship_job_items_job_id_ship_jobs')),
    sa.PrimaryKeyConstraint('job_id', 'line_no', name=op.f('pk_ship_job_items'))
    )
    op.create_table('shop_settings',
    sa.Column('shop_ref', sa.Integer(), nullable=False),
    sa.Column('default_courier', sa.String(length=32), nullable=True),
    sa.Column('confirm_mode', sa.String(length=16), nullable=False),
    sa.Column('refund_policy', sa.String(length=16), nullable=False),
    sa.Column('merge_window_s', sa.Integer(), nullable=False),
    sa.Column('ship_from_address_id', sa.String(length=32), nullable=True),
    sa.Column('sender_name_enc', sa.Text(), nullable=True),
    sa.Column('sender_phone_enc', sa.Text(), nullable=True),
    sa.Column('audit_rules', sa.Text(), nullable=False),
    sa.Column('courier_rules', sa.Text(), nullable=False),
    sa.Column('cost_table', sa.Text(), nullable=False),
    sa.Column('split_rules', sa.Text(), nullable=False),
    sa.Column('sku_facts', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['shop_ref'], ['shops.id'], name=op.f('fk_shop_settings_shop_ref_shops')),
    sa.PrimaryKeyConstraint('shop_ref', name=op.f('pk_shop_settings'))
    )
    op.create_table('order_holds',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('order_id', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('released_at', sa.BigInteger(), nullable=True),
    sa.Column('released_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.order_id'], name=op.f('fk_order_holds_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_holds'))
    )
    with op.batch_alter_table('order_holds', schema=None) as batch_op:
        batch_op.create_index('ix_order_holds_open', ['order_id', 'released_at'], unique=False)

    op.create_table('pack_lines',
    sa.Column('pack_id', sa.Integer(), nullable=False),
    sa.Column('sku_order_id', sa.String(length=32), nullable=False),
    sa.Column('order_id', sa.String(length=32), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.order_id'], name=op.f('fk_pack_lines_order_id_orders')),
    sa.ForeignKeyConstraint(['pack_id'], ['packs.id'], name=op.f('fk_pack_lines_pack_id_packs')),
    sa.PrimaryKeyConstraint('pack_id', 'sku_order_id', name=op.f('pk_pack_lines'))
    )
    with op.batch_alter_table('pack_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pack_lines_order_id'), ['order_id'], unique=False)

    op.create_table('waybills',
    sa.Column('courier_code', sa.String(length=32), nullable=False),
    sa.Column('track_no', sa.String(length=64), nullable=False),
    sa.Column('shop_ref', sa.Integer(), nullable=False),
    sa.Column('pack_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('taken_at', sa.BigInteger(), nullable=False),
    sa.Column('recycled_at', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['pack_id'], ['packs.id'], name=op.f('fk_waybills_pack_id_packs')),
    sa.ForeignKeyConstraint(['shop_ref'], ['shops.id'], name=op.f('fk_waybills_shop_ref_shops')),
    sa.PrimaryKeyConstraint('courier_code', 'track_no', name=op.f('pk_waybills'))
    )
    with op.batch_alter_table('waybills', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waybills_pack_id'), ['pack_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('waybills', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_waybills_pack_id'))

    op.drop_table('waybills')
    with op.batch_alter_table('pack_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pack_lines_order_id'))

    op.drop_table('pack_lines')
    with op.batch_alter_table('order_holds', schema=None) as batch_op:
        batch_op.drop_index('ix_order_holds_open')

    op.drop_table('order_holds')
    op.drop_table('shop_settings')
    op.drop_table('ship_job_items')
    op.drop_table('ship_from_addresses')
    with op.batch_alter_table('packs', schema=None) as batch_op:
        batch_op.drop_index('ix_packs_state_deadline')

    op.drop_table('packs')
    op.drop_table('netsites')
    op.drop_table('ship_jobs')
