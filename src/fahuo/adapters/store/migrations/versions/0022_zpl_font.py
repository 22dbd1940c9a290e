"""shop setting: the printer-resident ZPL font self-drawn ZPL labels name (^A@)

Revision ID: 0022
Revises: 0021
"""
from alembic import op
import sqlalchemy as sa

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('shop_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('zpl_font', sa.String(length=32), nullable=False,
                                      server_default='E:SIMSUN.TTF'))


def downgrade() -> None:
    with op.batch_alter_table('shop_settings', schema=None) as batch_op:
        batch_op.drop_column('zpl_font')
