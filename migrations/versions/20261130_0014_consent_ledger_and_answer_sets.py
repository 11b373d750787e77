"""consent_record, answer_set: a participant's consent ledger, and answers to outcome measures

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 21:05:37

"""

from alembic import op
import sqlalchemy as sa


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "consent_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("given", sa.Boolean(), nullable=False),
        sa.Column("wording_version", sa.String(length=40), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "purpose IN ('evaluation', 'quotes', 'radio_voice')",
            name=op.f("ck_consent_record_purpose"),
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name=op.f("fk_consent_record_participant_id_participant"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_consent_record_recorded_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_record")),
    )
    with op.batch_alter_table("consent_record", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consent_record_participant_purpose", ["participant_id", "purpose"], unique=False
        )

    op.create_table(
        "answer_set",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("measure_version_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("answered_on", sa.Date(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "mode IN ('self_paper', 'self_phone', 'read_aloud')", name=op.f("ck_answer_set_mode")
        ),
        sa.CheckConstraint(
            "participant_id IS NOT NULL OR session_id IS NOT NULL",
            name=op.f("ck_answer_set_someone_or_a_session"),
        ),
        sa.ForeignKeyConstraint(
            ["entered_by_id"],
            ["user_account.id"],
            name=op.f("fk_answer_set_entered_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["reading_group.id"],
            name=op.f("fk_answer_set_group_id_reading_group"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["measure_version_id"],
            ["measure_version.id"],
            name=op.f("fk_answer_set_measure_version_id_measure_version"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name=op.f("fk_answer_set_participant_id_participant"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["reading_session.id"],
            name=op.f("fk_answer_set_session_id_reading_session"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_set")),
    )
    with op.batch_alter_table("answer_set", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_answer_set_group_id"), ["group_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_answer_set_measure_version_id"), ["measure_version_id"], unique=False
        )
        batch_op.create_index(
            "ix_answer_set_participant_measure",
            ["participant_id", "measure_version_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_answer_set_session_id"), ["session_id"], unique=False)


def downgrade():
    with op.batch_alter_table("answer_set", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_answer_set_session_id"))
        batch_op.drop_index("ix_answer_set_participant_measure")
        batch_op.drop_index(batch_op.f("ix_answer_set_measure_version_id"))
        batch_op.drop_index(batch_op.f("ix_answer_set_group_id"))

    op.drop_table("answer_set")
    with op.batch_alter_table("consent_record", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_record_participant_purpose")

    op.drop_table("consent_record")
