"""outbox: a claim with a lease (status sending) and a fixed Message-ID

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 14:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('queued', 'sent', 'held', 'failed')"
NEW_STATUSES = "status IN ('queued', 'sending', 'sent', 'held', 'failed')"


def upgrade():
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("message_id", sa.String(length=300), nullable=True))
        batch_op.drop_constraint(op.f("ck_outbox_message_status"), type_="check")
        batch_op.create_check_constraint("status", sa.text(NEW_STATUSES))


def downgrade():
    # A message caught mid-send goes back to the queue (the old sender sends it again).
    op.execute("UPDATE outbox_message SET status = 'queued' WHERE status = 'sending'")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_message_status"), type_="check")
        batch_op.create_check_constraint("status", sa.text(OLD_STATUSES))
        batch_op.drop_column("message_id")
        batch_op.drop_column("lease_until")
