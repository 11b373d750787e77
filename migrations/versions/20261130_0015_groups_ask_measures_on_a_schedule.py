"""group_measure: when each group asks a measure (first session, every N sessions or weeks, leaving)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 21:14:25

"""
from alembic import op
import sqlalchemy as sa


revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('group_measure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.Column('at_first', sa.Boolean(), nullable=False),
    sa.Column('every_sessions', sa.Integer(), nullable=True),
    sa.Column('every_weeks', sa.Integer(), nullable=True),
    sa.Column('at_leaving', sa.Boolean(), nullable=False),
    sa.CheckConstraint('every_sessions IS NULL OR every_sessions > 0', name=op.f('ck_group_measure_every_sessions_positive')),
    sa.CheckConstraint('every_weeks IS NULL OR every_weeks > 0', name=op.f('ck_group_measure_every_weeks_positive')),
    sa.ForeignKeyConstraint(['group_id'], ['reading_group.id'], name=op.f('fk_group_measure_group_id_reading_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['measure_id'], ['measure.id'], name=op.f('fk_group_measure_measure_id_measure'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_measure')),
    sa.UniqueConstraint('group_id', 'measure_id', name=op.f('uq_group_measure_group_id_measure_id'))
    )
    with op.batch_alter_table('group_measure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_measure_group_id'), ['group_id'], unique=False)



def downgrade():
    with op.batch_alter_table('group_measure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_measure_group_id'))

    op.drop_table('group_measure')
