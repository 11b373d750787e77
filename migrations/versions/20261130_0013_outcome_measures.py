"""measure, measure_version: outcome questionnaires loaded as data, versioned

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 21:30:00

"""

import sqlalchemy as sa
from alembic import op


revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "measure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("builtin", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measure")),
        sa.UniqueConstraint("key", name=op.f("uq_measure_key")),
    )
    op.create_table(
        "measure_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("measure_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["measure_id"],
            ["measure.id"],
            name=op.f("fk_measure_version_measure_id_measure"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measure_version")),
        sa.UniqueConstraint(
            "measure_id", "version", name=op.f("uq_measure_version_measure_id_version")
        ),
    )
    op.create_index(
        op.f("ix_measure_version_measure_id"), "measure_version", ["measure_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_measure_version_measure_id"), table_name="measure_version")
    op.drop_table("measure_version")
    op.drop_table("measure")
