"""print_batches.format: 16 characters, so a batch the print component printed ("component")
fits on PostgreSQL (SQLite never checked the length)

Revision ID: 0023
Revises: 0022
"""
from alembic import op
import sqlalchemy as sa

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('print_batches', schema=None) as batch_op:
        batch_op.alter_column('format', existing_type=sa.String(length=8),
                              type_=sa.String(length=16), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('print_batches', schema=None) as batch_op:
        batch_op.alter_column('format', existing_type=sa.String(length=16),
                              type_=sa.String(length=8), existing_nullable=False)
