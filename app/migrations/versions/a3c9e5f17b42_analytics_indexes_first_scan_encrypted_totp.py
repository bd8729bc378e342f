"""staff analytics indexes and the shipment's first scan; TOTP secrets encrypted at rest

Revision ID: a3c9e5f17b42
Revises: 1d977cfa0ca4
Create Date: 2026-12-03 12:00:00.000000

"""

from alembic import op
import sqlalchemy as sa
from flask import current_app

from app.admin.encryption import EncryptionKeyError, decrypt, encrypt, is_encrypted
from app.models.types import UTCDateTime


# revision identifiers, used by Alembic.
revision = "a3c9e5f17b42"
down_revision = "1d977cfa0ca4"
branch_labels = None
depends_on = None

EXCEPTION_ONLY = sa.text("status = 'exception'")


def upgrade():
    with op.batch_alter_table("shipment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_scan_at", UTCDateTime(), nullable=True))
    op.execute(
        "UPDATE shipment SET first_scan_at = (SELECT min(e.occurred_at) FROM tracking_event e "
        "WHERE e.shipment_id = shipment.id AND e.status <> 'info_received')"
    )
    op.create_index(
        "ix_shipment_shipped",
        "shipment",
        ["shipped_at", "created_at", "carrier", "shop_id", "deleted_at", "first_scan_at"],
    )
    op.create_index(
        "ix_shipment_delivered",
        "shipment",
        [
            "delivered_at",
            "carrier",
            "shop_id",
            "deleted_at",
            "shipped_at",
            "promised_date",
            "service",
            "origin_country",
            "destination_country",
        ],
    )
    op.create_index(
        "ix_event_exception",
        "tracking_event",
        ["shipment_id", "reason"],
        sqlite_where=EXCEPTION_ONLY,
        postgresql_where=EXCEPTION_ONLY,
    )
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.alter_column(
            "totp_secret",
            existing_type=sa.String(length=64),
            type_=sa.String(length=200),
            existing_nullable=True,
        )
    _rewrite_totp_secrets(lambda secret, key: secret if is_encrypted(secret) else encrypt(secret, key))


def downgrade():
    _rewrite_totp_secrets(
        lambda secret, key: decrypt(secret, key, "TOTP secrets") if is_encrypted(secret) else secret
    )
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.alter_column(
            "totp_secret",
            existing_type=sa.String(length=200),
            type_=sa.String(length=64),
            existing_nullable=True,
        )
    op.drop_index("ix_event_exception", table_name="tracking_event")
    op.drop_index("ix_shipment_delivered", table_name="shipment")
    op.drop_index("ix_shipment_shipped", table_name="shipment")
    with op.batch_alter_table("shipment", schema=None) as batch_op:
        batch_op.drop_column("first_scan_at")


def _rewrite_totp_secrets(rewrite) -> None:
    """Every stored TOTP secret through `rewrite(secret, key)` with the service's CREDENTIALS_KEY; without
    the key, stops (before changing anything) when there is a secret to rewrite."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT id, totp_secret FROM staff_user WHERE totp_secret IS NOT NULL")
    ).all()
    if not rows:
        return
    key = current_app.config["CREDENTIALS_KEY"]
    try:
        changed = [(user_id, rewrite(secret, key)) for user_id, secret in rows]
    except EncryptionKeyError as exc:
        raise RuntimeError(f"Staff TOTP secrets need the key to migrate: {exc.message}") from None
    for user_id, secret in changed:
        connection.execute(
            sa.text("UPDATE staff_user SET totp_secret = :secret WHERE id = :id"),
            {"secret": secret, "id": user_id},
        )
