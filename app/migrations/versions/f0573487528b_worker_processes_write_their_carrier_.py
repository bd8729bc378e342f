"""worker processes write their carrier calls, job runs and breakers per minute (operations page)

Revision ID: f0573487528b
Revises: 518137270e9c
Create Date: 2026-12-05 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

from app.models.types import UTCDateTime


# revision identifiers, used by Alembic.
revision = 'f0573487528b'
down_revision = '518137270e9c'
branch_labels = None
depends_on = None

BUCKET_COLUMNS = (
    'le_50ms', 'le_100ms', 'le_250ms', 'le_500ms', 'le_1000ms', 'le_2500ms',
    'le_5000ms', 'le_10000ms', 'le_30000ms', 'le_60000ms', 'le_300000ms',
)


def _durations():
    return [
        sa.Column('seconds_sum', sa.Float(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in BUCKET_COLUMNS),
    ]


def _owner():
    return [
        sa.Column('process_id', sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(['process_id'], ['worker_process.id'], ondelete='CASCADE'),
    ]


def upgrade():
    op.create_table(
        'worker_process',
        sa.Column('id', sa.String(length=80), nullable=False),
        sa.Column('host', sa.String(length=64), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('started_at', UTCDateTime(), nullable=False),
        sa.Column('last_seen_at', UTCDateTime(), nullable=False),
        sa.Column('flush_seconds', sa.Float(), nullable=False),
        sa.Column('stopped_at', UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('worker_process', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_worker_process_last_seen_at'), ['last_seen_at'], unique=False)

    op.create_table(
        'carrier_minute',
        *_durations(),
        *_owner(),
        sa.Column('carrier', sa.String(length=32), nullable=False),
        sa.Column('minute', UTCDateTime(), nullable=False),
        sa.Column('calls', sa.Integer(), nullable=False),
        sa.Column('ok', sa.Integer(), nullable=False),
        sa.Column('rate_limited', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('process_id', 'carrier', 'minute'),
    )
    with op.batch_alter_table('carrier_minute', schema=None) as batch_op:
        batch_op.create_index('ix_carrier_minute_minute', ['minute'], unique=False)

    op.create_table(
        'job_minute',
        *_durations(),
        *_owner(),
        sa.Column('job', sa.String(length=64), nullable=False),
        sa.Column('minute', UTCDateTime(), nullable=False),
        sa.Column('runs', sa.Integer(), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('skipped', sa.Integer(), nullable=False),
        sa.Column('last_ok_at', UTCDateTime(), nullable=True),
        sa.Column('last_failed_at', UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('process_id', 'job', 'minute'),
    )
    with op.batch_alter_table('job_minute', schema=None) as batch_op:
        batch_op.create_index('ix_job_minute_minute', ['minute'], unique=False)

    op.create_table(
        'carrier_state',
        *_owner(),
        sa.Column('carrier', sa.String(length=32), nullable=False),
        sa.Column('breaker', sa.String(length=16), nullable=False),
        sa.Column('last_success_at', UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('process_id', 'carrier'),
    )


def downgrade():
    op.drop_table('carrier_state')
    with op.batch_alter_table('job_minute', schema=None) as batch_op:
        batch_op.drop_index('ix_job_minute_minute')

    op.drop_table('job_minute')
    with op.batch_alter_table('carrier_minute', schema=None) as batch_op:
        batch_op.drop_index('ix_carrier_minute_minute')

    op.drop_table('carrier_minute')
    with op.batch_alter_table('worker_process', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_worker_process_last_seen_at'))

    op.drop_table('worker_process')
