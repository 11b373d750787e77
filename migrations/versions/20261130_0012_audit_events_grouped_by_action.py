"""audit_event: the action (request, job or command) each row was written by

The trail shows the rows one action wrote (a group and its generated sessions) as one entry.
Rows written before this revision are given an action per actor and second, the best that can
be told of them now: "r" and the id of the first row of that actor in that second.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 21:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _second(column: str) -> tuple[str, str]:
    """SQL for the start of ``column``'s second and of the next one, on this database."""
    if op.get_bind().dialect.name == "sqlite":
        # Stored as naive UTC text "YYYY-MM-DD HH:MM:SS[.ffffff]": whole-second text sorts first.
        return (
            f"strftime('%Y-%m-%d %H:%M:%S', {column})",
            f"strftime('%Y-%m-%d %H:%M:%S', {column}, '+1 second')",
        )
    return (
        f"date_trunc('second', {column})",
        f"date_trunc('second', {column}) + interval '1 second'",
    )


def upgrade():
    # Plain ALTER TABLE on both databases: a nullable column needs no table copy.
    op.add_column("audit_event", sa.Column("action_id", sa.String(length=40), nullable=True))
    start, end = _second("audit_event.at")
    # The index on "at" narrows each look-up to one second's rows.
    op.execute(
        "UPDATE audit_event SET action_id = 'r' || CAST(("
        "SELECT MIN(earlier.id) FROM audit_event earlier "
        "WHERE earlier.actor_label = audit_event.actor_label "
        f"AND earlier.at >= {start} AND earlier.at < {end}"
        ") AS VARCHAR(30))"
    )
    op.create_index(op.f("ix_audit_event_action_id"), "audit_event", ["action_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_audit_event_action_id"), table_name="audit_event")
    op.drop_column("audit_event", "action_id")
