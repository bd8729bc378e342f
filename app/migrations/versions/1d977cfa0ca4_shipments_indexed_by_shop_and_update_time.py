"""shipments indexed by shop and update time (the API's updated_since filter scanned the whole table)

Revision ID: 1d977cfa0ca4
Revises: 7a1d5e3c9b20
Create Date: 2026-12-02 23:00:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '1d977cfa0ca4'
down_revision = '7a1d5e3c9b20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("shipment", schema=None) as batch_op:
        batch_op.create_index("ix_shipment_shop_updated", ["shop_id", "updated_at"], unique=False)


def downgrade():
    with op.batch_alter_table("shipment", schema=None) as batch_op:
        batch_op.drop_index("ix_shipment_shop_updated")
