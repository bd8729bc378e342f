"""outbox rows name the dispatcher holding them and when its attempt started

Revision ID: 4b7e2c9a1f30
Revises: 96fbc4104d24
Create Date: 2026-12-03 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.models.types


# revision identifiers, used by Alembic.
revision = '4b7e2c9a1f30'
down_revision = '96fbc4104d24'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('attempt_started_at', app.models.types.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('attempt_started_at')
        batch_op.drop_column('claimed_by')
