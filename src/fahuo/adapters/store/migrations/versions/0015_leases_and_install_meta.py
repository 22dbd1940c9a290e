"""leases (expiring named locks) and install_meta

Revision ID: 0015
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'leases',
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('holder', sa.String(length=128), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=False),
        sa.Column('acquired_at', sa.Float(), nullable=False),
        sa.Column('mark', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_leases')),
    )
    op.create_table(
        'install_meta',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_install_meta')),
    )


def downgrade() -> None:
    op.drop_table('install_meta')
    op.drop_table('leases')
