"""shipments get a random link token for customers' links; staff users may be bound to one shop

Revision ID: c3d5e7f90a12
Revises: bd9941589969
Create Date: 2026-12-02 21:50:00.000000

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3d5e7f90a12'
down_revision = 'bd9941589969'
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade():
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link_token', sa.String(length=32), nullable=True))

    # Every existing shipment gets its own random token (links already sent keep working: app/notify/links.py).
    shipment = sa.table('shipment', sa.column('id', sa.Integer()), sa.column('link_token', sa.String()))
    connection = op.get_bind()
    ids = connection.execute(sa.select(shipment.c.id).order_by(shipment.c.id)).scalars().all()
    statement = (
        sa.update(shipment)
        .where(shipment.c.id == sa.bindparam('shipment_id'))
        .values(link_token=sa.bindparam('token'))
    )
    for start in range(0, len(ids), BATCH):
        connection.execute(
            statement,
            [{'shipment_id': i, 'token': secrets.token_urlsafe(16)} for i in ids[start : start + BATCH]],
        )

    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.alter_column('link_token', existing_type=sa.String(length=32), nullable=False)
        batch_op.create_index(batch_op.f('ix_shipment_link_token'), ['link_token'], unique=True)

    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shop_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_staff_user_shop_id'), ['shop_id'], unique=False)
        batch_op.create_foreign_key('fk_staff_user_shop_id_shop', 'shop', ['shop_id'], ['id'])


def downgrade():
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_constraint('fk_staff_user_shop_id_shop', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_staff_user_shop_id'))
        batch_op.drop_column('shop_id')

    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipment_link_token'))
        batch_op.drop_column('link_token')
