"""hand_over: answers in progress on a phone handed over, kept on the server, not in the cookie

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 22:11:05

"""
from alembic import op
import sqlalchemy as sa


revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('hand_over',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('measure_version_id', sa.Integer(), nullable=False),
    sa.Column('leader_id', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['leader_id'], ['user_account.id'], name=op.f('fk_hand_over_leader_id_user_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['measure_version_id'], ['measure_version.id'], name=op.f('fk_hand_over_measure_version_id_measure_version'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_hand_over_participant_id_participant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['reading_session.id'], name=op.f('fk_hand_over_session_id_reading_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hand_over'))
    )
    with op.batch_alter_table('hand_over', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hand_over_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_hand_over_participant_id'), ['participant_id'], unique=False)



def downgrade():
    with op.batch_alter_table('hand_over', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hand_over_participant_id'))
        batch_op.drop_index(batch_op.f('ix_hand_over_expires_at'))

    op.drop_table('hand_over')
