"""indexes for the console's paged lists (issue 14): each list's filter and order served by
an index, so a page and its total never sort the whole table

Revision ID: 0024
Revises: 0023
"""
from alembic import op


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

INDEXES = (
    ('ix_push_inbox_received_at', 'push_inbox', ['received_at', 'msg_id']),
    ('ix_trackers_state_id', 'trackers', ['state', 'id']),
    ('ix_trackers_courier_id', 'trackers', ['courier_code', 'id']),
    ('ix_findings_open_since', 'findings', ['closed_at', 'since', 'id']),
    ('ix_findings_open_kind_since', 'findings', ['closed_at', 'kind', 'since', 'id']),
    ('ix_after_sales_update_time', 'after_sales', ['update_time', 'aftersale_id']),
    ('ix_after_sales_open_update_time', 'after_sales', ['closed_at', 'update_time', 'aftersale_id']),
    ('ix_after_sales_type_update_time', 'after_sales', ['aftersale_type', 'update_time', 'aftersale_id']),
)


def upgrade() -> None:
    for name, table, cols in INDEXES:
        op.create_index(name, table, cols, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
