"""survey answers and customer cases with their messages

Revision ID: bd9941589969
Revises: 4b7e2c9a1f30
Create Date: 2026-12-02 21:49:08.987524

"""
from alembic import op
import sqlalchemy as sa

import app.models.types


# revision identifiers, used by Alembic.
revision = 'bd9941589969'
down_revision = '4b7e2c9a1f30'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('support_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reply_channel', sa.String(length=8), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(), nullable=False),
    sa.Column('first_response_at', app.models.types.UTCDateTime(), nullable=True),
    sa.Column('resolved_at', app.models.types.UTCDateTime(), nullable=True),
    sa.Column('updated_at', app.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], ),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('support_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_case_shipment_id'), ['shipment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_case_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index('ix_support_case_status', ['status', 'created_at'], unique=False)

    op.create_table('survey_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('csat', sa.SmallInteger(), nullable=False),
    sa.Column('nps', sa.SmallInteger(), nullable=False),
    sa.Column('ces', sa.SmallInteger(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('answered_at', app.models.types.UTCDateTime(), nullable=False),
    sa.CheckConstraint('ces BETWEEN 1 AND 7', name='ck_survey_ces'),
    sa.CheckConstraint('csat BETWEEN 1 AND 5', name='ck_survey_csat'),
    sa.CheckConstraint('nps BETWEEN 0 AND 10', name='ck_survey_nps'),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], ),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('shipment_id')
    )
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.create_index('ix_survey_shop_answered', ['shop_id', 'answered_at'], unique=False)

    op.create_table('case_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', app.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['support_case.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_message_case_id'), ['case_id'], unique=False)


def downgrade():
    with op.batch_alter_table('case_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_message_case_id'))

    op.drop_table('case_message')
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_shop_answered')

    op.drop_table('survey_response')
    with op.batch_alter_table('support_case', schema=None) as batch_op:
        batch_op.drop_index('ix_support_case_status')
        batch_op.drop_index(batch_op.f('ix_support_case_shop_id'))
        batch_op.drop_index(batch_op.f('ix_support_case_shipment_id'))

    op.drop_table('support_case')
