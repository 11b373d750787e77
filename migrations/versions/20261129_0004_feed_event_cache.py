"""feed event cache and the feed token's served state

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-29 10:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "feed_event_cache",
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("row_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('session', 'broadcast')", name=op.f("ck_feed_event_cache_kind")
        ),
        sa.PrimaryKeyConstraint("kind", "row_id", name=op.f("pk_feed_event_cache")),
    )
    with op.batch_alter_table("feed_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("served_state", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("feed_token", schema=None) as batch_op:
        batch_op.drop_column("served_state")
    op.drop_table("feed_event_cache")
