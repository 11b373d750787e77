"""reading groups have their own room or ward

A venue's unit describes the venue; a hospital holds many wards, so each group now names its
own. Existing groups have none (null) and show their venue as before.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 18:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both databases (SQLite 3.35 and later drops columns in place): batch mode
# would copy reading_group on SQLite, and dropping the old copy cascades to its sessions.


def upgrade():
    op.add_column("reading_group", sa.Column("room", sa.String(length=200), nullable=True))


def downgrade():
    op.drop_column("reading_group", "room")
