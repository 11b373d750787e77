"""report_quote.participant_id and episode_voice: quotes and radio voices tied to a participant
code, used only with current consent for that purpose

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 00:24:33

"""
from alembic import op
import sqlalchemy as sa


revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('episode_voice',
    sa.Column('episode_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('listed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('listed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['episode_id'], ['episode.id'], name=op.f('fk_episode_voice_episode_id_episode'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['listed_by_id'], ['user_account.id'], name=op.f('fk_episode_voice_listed_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_episode_voice_participant_id_participant'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('episode_id', 'participant_id', name=op.f('pk_episode_voice'))
    )
    with op.batch_alter_table('episode_voice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_episode_voice_participant_id'), ['participant_id'], unique=False)

    with op.batch_alter_table('report_quote', schema=None) as batch_op:
        batch_op.add_column(sa.Column('participant_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_report_quote_participant_id'), ['participant_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_report_quote_participant_id_participant'), 'participant', ['participant_id'], ['id'], ondelete='RESTRICT')



def downgrade():
    with op.batch_alter_table('report_quote', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_report_quote_participant_id_participant'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_report_quote_participant_id'))
        batch_op.drop_column('participant_id')

    with op.batch_alter_table('episode_voice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_episode_voice_participant_id'))

    op.drop_table('episode_voice')
