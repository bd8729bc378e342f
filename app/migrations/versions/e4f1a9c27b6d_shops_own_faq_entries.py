"""shops' own questions and answers on the tracking page (per language and topic)

Revision ID: e4f1a9c27b6d
Revises: 16f9e2c09202
Create Date: 2026-12-04 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

from app.models.types import UTCDateTime


# revision identifiers, used by Alembic.
revision = 'e4f1a9c27b6d'
down_revision = '16f9e2c09202'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'faq_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('topic', sa.String(length=32), nullable=False),
        sa.Column('default_key', sa.String(length=40), nullable=True),
        sa.Column('question', sa.String(length=200), nullable=True),
        sa.Column('answer', sa.Text(), nullable=True),
        sa.Column('hidden', sa.Boolean(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.Column('updated_by', sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(['shop_id'], ['shop.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('shop_id', 'language', 'topic', 'default_key', name='uq_faq_entry_default'),
    )
    with op.batch_alter_table('faq_entry', schema=None) as batch_op:
        batch_op.create_index('ix_faq_entry_shop_topic', ['shop_id', 'language', 'topic'], unique=False)


def downgrade():
    with op.batch_alter_table('faq_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_faq_entry_shop_topic')

    op.drop_table('faq_entry')
