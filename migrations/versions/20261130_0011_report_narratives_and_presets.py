"""report_narrative, report_quote, report_preset: what managers write for partnership reports

Narratives and quotes are written per report scope (a partner organisation and a period); each
save adds a version, kept with who saved it and when. Presets save a report's partner, kind of
period and sections, so each period's return is one click.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 21:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "report_narrative",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("date_from", sa.Date(), nullable=False),
        sa.Column("date_to", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("saved_by_id", sa.Integer(), nullable=True),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("date_to >= date_from", name=op.f("ck_report_narrative_period_in_order")),
        sa.CheckConstraint("version > 0", name=op.f("ck_report_narrative_version_positive")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_report_narrative_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["saved_by_id"],
            ["user_account.id"],
            name=op.f("fk_report_narrative_saved_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_narrative")),
        sa.UniqueConstraint(
            "organisation_id",
            "date_from",
            "date_to",
            "version",
            name=op.f("uq_report_narrative_organisation_id_date_from_date_to_version"),
        ),
    )
    with op.batch_alter_table("report_narrative", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_narrative_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_report_narrative_saved_by_id"), ["saved_by_id"], unique=False
        )

    op.create_table(
        "report_quote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("narrative_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("attribution", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(
            ["narrative_id"],
            ["report_narrative.id"],
            name=op.f("fk_report_quote_narrative_id_report_narrative"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_quote")),
        sa.UniqueConstraint(
            "narrative_id", "position", name=op.f("uq_report_quote_narrative_id_position")
        ),
    )
    with op.batch_alter_table("report_quote", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_quote_narrative_id"), ["narrative_id"], unique=False
        )

    op.create_table(
        "report_preset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("period_type", sa.String(length=20), nullable=False),
        sa.Column("date_from", sa.Date(), nullable=True),
        sa.Column("date_to", sa.Date(), nullable=True),
        sa.Column("sections", sa.String(length=200), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "period_type IN ('quarter', 'month', 'financial_year', 'custom')",
            name=op.f("ck_report_preset_period_type"),
        ),
        sa.CheckConstraint(
            "period_type <> 'custom' OR (date_from IS NOT NULL AND date_to IS NOT NULL "
            "AND date_to >= date_from)",
            name=op.f("ck_report_preset_custom_has_dates"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_report_preset_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_report_preset_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_preset")),
        sa.UniqueConstraint("name", name=op.f("uq_report_preset_name")),
    )
    with op.batch_alter_table("report_preset", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_preset_created_by_id"), ["created_by_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_report_preset_organisation_id"), ["organisation_id"], unique=False
        )


def downgrade():
    op.drop_table("report_preset")
    op.drop_table("report_quote")
    op.drop_table("report_narrative")
