"""reading_group: the usual most participants, and whether the group keeps a register

A log above the usual most asks for confirmation; headcount-only groups see no register on the
log form. Groups that have logged sessions but never a register are headcount-only.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 18:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


CHECK = "expected_max IS NULL OR expected_max > 0"


def upgrade():
    # No batch (table copy) on SQLite: dropping the old reading_group with foreign keys on
    # would cascade to its sessions. SQLite adds a column, with its check, in place.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE reading_group ADD COLUMN expected_max INTEGER "
            f"CONSTRAINT ck_reading_group_expected_max_positive CHECK ({CHECK})"
        )
    else:
        op.add_column("reading_group", sa.Column("expected_max", sa.Integer(), nullable=True))
        op.create_check_constraint("expected_max_positive", "reading_group", CHECK)
    op.add_column(
        "reading_group",
        sa.Column("keeps_register", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    op.execute(
        sa.text(
            "UPDATE reading_group SET keeps_register = false "
            "WHERE EXISTS (SELECT 1 FROM reading_session s JOIN attendance a "
            "ON a.session_id = s.id WHERE s.group_id = reading_group.id) "
            "AND NOT EXISTS (SELECT 1 FROM reading_session s JOIN participant_attendance p "
            "ON p.session_id = s.id WHERE s.group_id = reading_group.id)"
        )
    )


def downgrade():
    op.drop_column("reading_group", "keeps_register")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(
            op.f("ck_reading_group_expected_max_positive"), "reading_group", type_="check"
        )
    op.drop_column("reading_group", "expected_max")
