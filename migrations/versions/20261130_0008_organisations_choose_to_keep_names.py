"""organisations choose whether their participants may have names (keep_names)

Participants are pseudonymous codes by default, so the setting starts off. Organisations whose
participants already hold a name or a note get it switched on, so nothing held is hidden.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 18:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN on both databases: SQLite's batch mode would copy the table, which
    # other tables' foreign keys refer to.
    op.add_column(
        "organisation",
        sa.Column("keep_names", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.execute(
        sa.text(
            "UPDATE organisation SET keep_names = :yes WHERE id IN ("
            "SELECT organisation_id FROM participant "
            "WHERE display_name IS NOT NULL OR notes IS NOT NULL)"
        ).bindparams(yes=True)
    )


def downgrade():
    # DROP COLUMN in place (SQLite 3.35 or later), for the same reason.
    op.execute(sa.text("ALTER TABLE organisation DROP COLUMN keep_names"))
