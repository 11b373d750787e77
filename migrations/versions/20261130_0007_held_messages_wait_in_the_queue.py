"""outbox: messages held only because no mail server was configured wait in the queue

Whether a message is sent is now decided when it is sent (MAIL_BACKEND), not when it is
queued; "held" keeps one meaning: no recipient. Messages held before that go out once mail is
configured, like those queued since.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 15:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        sa.text(
            "UPDATE outbox_message SET status = 'queued' WHERE status = 'held' AND recipient <> ''"
        )
    )


def downgrade():
    # Before this revision a queued message that nothing could send was held; put back those
    # never tried, so the old code shows them where it expects them.
    op.execute(
        sa.text(
            "UPDATE outbox_message SET status = 'held' "
            "WHERE status = 'queued' AND attempts = 0 AND recipient <> ''"
        )
    )
