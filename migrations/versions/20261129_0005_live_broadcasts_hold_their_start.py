"""live broadcasts hold their start; cancelled ones free it

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 11:55:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

LIVE = sa.text("status <> 'cancelled'")


def upgrade():
    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.drop_constraint("uq_broadcast_station_id_air_dt", type_="unique")
        batch_op.create_index(
            "uq_broadcast_live_station_id_air_dt",
            ["station_id", "air_dt"],
            unique=True,
            sqlite_where=LIVE,
            postgresql_where=LIVE,
        )


def downgrade():
    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.drop_index("uq_broadcast_live_station_id_air_dt")
        batch_op.create_unique_constraint(
            "uq_broadcast_station_id_air_dt", ["station_id", "air_dt"]
        )
