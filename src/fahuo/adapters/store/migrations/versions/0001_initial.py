"""orders flow in: shops, orders, sub-orders, cursors, push inbox, audit log

Revision ID: 0001
Revises:
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.BigInteger(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('subject_type', sa.String(length=32), nullable=False),
    sa.Column('subject_id', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_subject', ['subject_type', 'subject_id'], unique=False)

    op.create_table('push_inbox',
    sa.Column('msg_id', sa.String(length=128), nullable=False),
    sa.Column('app_key', sa.String(length=32), nullable=False),
    sa.Column('tag', sa.String(length=8), nullable=False),
    sa.Column('shop_id', sa.String(length=32), nullable=False),
    sa.Column('order_id', sa.String(length=32), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('received_at', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('processed_at', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('msg_id', name=op.f('pk_push_inbox'))
    )
    with op.batch_alter_table('push_inbox', schema=None) as batch_op:
        batch_op.create_index('ix_push_inbox_status', ['status', 'received_at'], unique=False)

    op.create_table('shops',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('shop_id', sa.String(length=32), nullable=False),
    sa.Column('shop_name', sa.String(length=128), nullable=False),
    sa.Column('app_key', sa.String(length=32), nullable=False),
    sa.Column('app_secret_enc', sa.Text(), nullable=False),
    sa.Column('gateway_url', sa.String(length=255), nullable=False),
    sa.Column('sign_method', sa.String(length=16), nullable=False),
    sa.Column('auth_type', sa.String(length=16), nullable=False),
    sa.Column('access_token_enc', sa.Text(), nullable=True),
    sa.Column('refresh_token_enc', sa.Text(), nullable=True),
    sa.Column('token_expires_at', sa.BigInteger(), nullable=True),
    sa.Column('refresh_expires_at', sa.BigInteger(), nullable=True),
    sa.Column('token_scope', sa.String(length=255), nullable=False),
    sa.Column('rate_qps', sa.Float(), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shops')),
    sa.UniqueConstraint('app_key', 'shop_id', name=op.f('uq_shops_app_key_shop_id'))
    )
    op.create_table('orders',
    sa.Column('order_id', sa.String(length=32), nullable=False),
    sa.Column('shop_ref', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('order_status', sa.Integer(), nullable=False),
    sa.Column('main_status', sa.Integer(), nullable=True),
    sa.Column('create_time', sa.BigInteger(), nullable=False),
    sa.Column('pay_time', sa.BigInteger(), nullable=True),
    sa.Column('update_time', sa.BigInteger(), nullable=False),
    sa.Column('exp_ship_time', sa.BigInteger(), nullable=True),
    sa.Column('order_amount', sa.BigInteger(), nullable=False),
    sa.Column('pay_amount', sa.BigInteger(), nullable=False),
    sa.Column('post_amount', sa.BigInteger(), nullable=False),
    sa.Column('buyer_words', sa.Text(), nullable=False),
    sa.Column('seller_words', sa.Text(), nullable=False),
    sa.Column('seller_remark_stars', sa.Integer(), nullable=False),
    sa.Column('presale_type', sa.Integer(), nullable=False),
    sa.Column('buyer_id', sa.String(length=128), nullable=False),
    sa.Column('receiver_name_cipher', sa.Text(), nullable=False),
    sa.Column('receiver_phone_cipher', sa.Text(), nullable=False),
    sa.Column('receiver_detail_cipher', sa.Text(), nullable=False),
    sa.Column('receiver_name_mask', sa.String(length=64), nullable=False),
    sa.Column('receiver_phone_mask', sa.String(length=32), nullable=False),
    sa.Column('receiver_address_mask', sa.Text(), nullable=False),
    sa.Column('province', sa.String(length=32), nullable=False),
    sa.Column('city', sa.String(length=32), nullable=False),
    sa.Column('district', sa.String(length=32), nullable=False),
    sa.Column('street', sa.String(length=64), nullable=False),
    sa.Column('receiver_plain_enc', sa.Text(), nullable=True),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('synced_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['shop_ref'], ['shops.id'], name=op.f('fk_orders_shop_ref_shops')),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_orders'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_exp_ship_time', ['exp_ship_time'], unique=False)
        batch_op.create_index('ix_orders_shop_state', ['shop_ref', 'state'], unique=False)
        batch_op.create_index('ix_orders_update_time', ['update_time'], unique=False)

    op.create_table('sync_cursors',
    sa.Column('shop_ref', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('cursor_time', sa.BigInteger(), nullable=False),
    sa.Column('last_run_at', sa.BigInteger(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('orders_seen', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['shop_ref'], ['shops.id'], name=op.f('fk_sync_cursors_shop_ref_shops')),
    sa.PrimaryKeyConstraint('shop_ref', 'kind', name=op.f('pk_sync_cursors'))
    )
    op.create_table('sub_orders',
    sa.Column('sku_order_id', sa.String(length=32), nullable=False),
    sa.Column('order_id', sa.String(length=32), nullable=False),
    sa.Column('product_id', sa.String(length=32), nullable=False),
    sa.Column('sku_id', sa.String(length=32), nullable=False),
    sa.Column('merchant_code', sa.String(length=64), nullable=False),
    sa.Column('product_name', sa.Text(), nullable=False),
    sa.Column('spec', sa.Text(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('pay_amount', sa.BigInteger(), nullable=False),
    sa.Column('order_status', sa.Integer(), nullable=False),
    sa.Column('after_sale_status', sa.Integer(), nullable=False),
    sa.Column('after_sale_type', sa.Integer(), nullable=True),
    sa.Column('refund_status', sa.Integer(), nullable=True),
    sa.Column('presale_type', sa.Integer(), nullable=False),
    sa.Column('exp_ship_time', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.order_id'], name=op.f('fk_sub_orders_order_id_orders')),
    sa.PrimaryKeyConstraint('sku_order_id', name=op.f('pk_sub_orders'))
    )
    with op.batch_alter_table('sub_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sub_orders_order_id'), ['order_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sub_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sub_orders_order_id'))

    op.drop_table('sub_orders')
    op.drop_table('sync_cursors')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_update_time')
        batch_op.drop_index('ix_orders_shop_state')
        batch_op.drop_index('ix_orders_exp_ship_time')

    op.drop_table('orders')
    op.drop_table('shops')
    with op.batch_alter_table('push_inbox', schema=None) as batch_op:
        batch_op.drop_index('ix_push_inbox_status')

    op.drop_table('push_inbox')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_subject')

    op.drop_table('audit_log')
