"""staff workbench: shipment triage (snooze, assignee, handled), the staff audit log, the prediction's
history, and indexes on customers' email and phone (search) and for the at-risk queue

Revision ID: 39387bc6f51b
Revises: c3d5e7f90a12
Create Date: 2026-12-02 22:07:31.327208

"""

from alembic import op
import sqlalchemy as sa

import app.models.types


# revision identifiers, used by Alembic.
revision = "39387bc6f51b"
down_revision = "c3d5e7f90a12"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "prediction_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", app.models.types.UTCDateTime(), nullable=False),
        sa.Column("p_late", sa.Float(), nullable=True),
        sa.Column("p_lost", sa.Float(), nullable=True),
        sa.Column("risk_state", sa.String(length=16), nullable=True),
        sa.Column("eta_p10", app.models.types.UTCDateTime(), nullable=True),
        sa.Column("eta_p50", app.models.types.UTCDateTime(), nullable=True),
        sa.Column("eta_p90", app.models.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipment.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("prediction_change", schema=None) as batch_op:
        batch_op.create_index("ix_prediction_change_shipment", ["shipment_id", "recorded_at"], unique=False)

    op.create_table(
        "shipment_triage",
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("snoozed_until", app.models.types.UTCDateTime(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("handled_at", app.models.types.UTCDateTime(), nullable=True),
        sa.Column("handled_risk_state", sa.String(length=16), nullable=True),
        sa.Column("updated_at", app.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["assignee_id"], ["staff_user.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipment.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("shipment_id"),
    )
    with op.batch_alter_table("shipment_triage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shipment_triage_assignee_id"), ["assignee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shipment_triage_snoozed_until"), ["snoozed_until"], unique=False)

    op.create_table(
        "staff_audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=280), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipment.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shop.id"],
        ),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("staff_audit_entry", schema=None) as batch_op:
        batch_op.create_index("ix_staff_audit_entry_shipment", ["shipment_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_staff_audit_entry_shop_id"), ["shop_id"], unique=False)

    with op.batch_alter_table("shipment", schema=None) as batch_op:
        batch_op.create_index("ix_shipment_customer_email", ["customer_email"], unique=False)
        batch_op.create_index("ix_shipment_customer_phone", ["customer_phone"], unique=False)
        batch_op.create_index(
            "ix_shipment_queue",
            [
                "risk_state",
                "status",
                "deleted_at",
                "shop_id",
                "carrier",
                "service",
                "origin_country",
                "destination_country",
                "declared_value",
                "p_late",
                "p_lost",
                "last_event_at",
            ],
            unique=False,
        )
        batch_op.create_index("ix_shipment_active", ["status", "deleted_at", "shop_id"], unique=False)


def downgrade():
    with op.batch_alter_table("shipment", schema=None) as batch_op:
        batch_op.drop_index("ix_shipment_active")
        batch_op.drop_index("ix_shipment_queue")
        batch_op.drop_index("ix_shipment_customer_phone")
        batch_op.drop_index("ix_shipment_customer_email")

    with op.batch_alter_table("staff_audit_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_audit_entry_shop_id"))
        batch_op.drop_index("ix_staff_audit_entry_shipment")

    op.drop_table("staff_audit_entry")
    with op.batch_alter_table("shipment_triage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipment_triage_snoozed_until"))
        batch_op.drop_index(batch_op.f("ix_shipment_triage_assignee_id"))

    op.drop_table("shipment_triage")
    with op.batch_alter_table("prediction_change", schema=None) as batch_op:
        batch_op.drop_index("ix_prediction_change_shipment")

    op.drop_table("prediction_change")
