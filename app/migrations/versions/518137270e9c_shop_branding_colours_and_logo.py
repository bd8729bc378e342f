"""shop branding on customers' pages: primary and accent colours and a logo

Revision ID: 518137270e9c
Revises: e4f1a9c27b6d
Create Date: 2026-12-04 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

from app.models.types import UTCDateTime


# revision identifiers, used by Alembic.
revision = '518137270e9c'
down_revision = 'e4f1a9c27b6d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'shop_branding',
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('primary_colour', sa.String(length=7), nullable=True),
        sa.Column('accent_colour', sa.String(length=7), nullable=True),
        sa.Column('logo', sa.LargeBinary(), nullable=True),
        sa.Column('logo_type', sa.String(length=32), nullable=True),
        sa.Column('logo_width', sa.Integer(), nullable=True),
        sa.Column('logo_height', sa.Integer(), nullable=True),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['shop_id'], ['shop.id']),
        sa.PrimaryKeyConstraint('shop_id'),
    )


def downgrade():
    op.drop_table('shop_branding')
