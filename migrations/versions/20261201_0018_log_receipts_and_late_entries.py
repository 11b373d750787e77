"""log_receipt: idempotency keys of logs sent from a device; reading_session.entered_late_at

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 00:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('log_receipt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=100), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['reading_session.id'], name=op.f('fk_log_receipt_session_id_reading_session'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_log_receipt_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_log_receipt')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_log_receipt_idempotency_key'))
    )
    with op.batch_alter_table('log_receipt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_log_receipt_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_log_receipt_user_id'), ['user_id'], unique=False)

    # Plain ALTER TABLE, not a batch: on SQLite a batch copies the table and drops the old
    # one, and the drop would cascade to every row that refers to a session.
    op.add_column('reading_session', sa.Column('entered_late_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_column('reading_session', 'entered_late_at')

    with op.batch_alter_table('log_receipt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_log_receipt_user_id'))
        batch_op.drop_index(batch_op.f('ix_log_receipt_session_id'))

    op.drop_table('log_receipt')
