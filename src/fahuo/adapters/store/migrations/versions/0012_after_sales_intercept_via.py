"""after sales intercept via

Revision ID: 0012
Revises: 0011

The interception path ("douyin", "kuaidi100", "douyin+kuaidi100" or "") gets its own column.
Until now it was only the lead of ``intercept_detail`` ("抖音：…", "快递100：…",
"抖音+快递100：…"; before Kuaidi100 existed, "已提交拦截…" was Douyin's): existing rows are
filled from that text once, here.
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# Frozen copy of the rule the service used before this column existed: do not import it.
_LABELS = (("douyin", "抖音"), ("kuaidi100", "快递100"))


def via_from_detail(detail: str | None) -> str:
    detail = detail or ""
    head = detail.split("：", 1)[0].split("+")
    vias = [via for via, label in _LABELS if label in head]
    if vias:
        return "+".join(vias)
    return "douyin" if detail.startswith("已提交拦截") else ""


def upgrade() -> None:
    with op.batch_alter_table('after_sales', schema=None) as batch_op:
        batch_op.add_column(sa.Column('intercept_via', sa.String(length=24), nullable=False,
                                      server_default=''))

    a = sa.table('after_sales', sa.column('aftersale_id', sa.String),
                 sa.column('intercept_detail', sa.Text),
                 sa.column('intercept_via', sa.String))
    conn = op.get_bind()
    rows = conn.execute(sa.select(a.c.aftersale_id, a.c.intercept_detail)
                        .where(a.c.intercept_detail != '')).all()
    filled = [{"id": aid, "via": via} for aid, detail in rows
              if (via := via_from_detail(detail))]
    if filled:
        conn.execute(a.update().where(a.c.aftersale_id == sa.bindparam('id'))
                     .values(intercept_via=sa.bindparam('via')), filled)


def downgrade() -> None:
    with op.batch_alter_table('after_sales', schema=None) as batch_op:
        batch_op.drop_column('intercept_via')
