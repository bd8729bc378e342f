"""shipments keep the carrier's pickup point (name, address, page, last day before return)

Revision ID: 16f9e2c09202
Revises: a3c9e5f17b42
Create Date: 2026-12-03 10:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '16f9e2c09202'
down_revision = 'a3c9e5f17b42'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("shipment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pickup_point", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("shipment", schema=None) as batch_op:
        batch_op.drop_column("pickup_point")
