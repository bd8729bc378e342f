"""Marshmallow schemas of the notification API: webhook endpoints, deliveries, settings, preferences."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates

from app.input_guard import page_field
from notifications.model import Trigger
from notifications.render import LANGUAGES
from notifications.webhooks import EVENT_TYPES

_SUBSCRIBABLE = sorted(EVENT_TYPES - {"webhook.test"})
_TRIGGERS = [t.value for t in Trigger]
_CLOCK = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="Use HH:MM (24-hour clock).")


class EndpointCreateSchema(Schema):
    url = fields.Url(required=True, schemes={"http", "https"}, validate=validate.Length(max=500))
    description = fields.String(load_default="", validate=validate.Length(max=200))
    event_types = fields.List(
        fields.String(validate=validate.OneOf(_SUBSCRIBABLE)),
        load_default=list,
        metadata={"description": "Empty: every event type."},
    )


class EndpointUpdateSchema(Schema):
    url = fields.Url(schemes={"http", "https"}, validate=validate.Length(max=500))
    description = fields.String(validate=validate.Length(max=200))
    event_types = fields.List(fields.String(validate=validate.OneOf(_SUBSCRIBABLE)))
    enabled = fields.Boolean()


class EndpointSchema(Schema):
    id = fields.Integer()
    url = fields.String()
    description = fields.String()
    event_types = fields.List(fields.String())
    enabled = fields.Boolean()
    disabled_reason = fields.String(allow_none=True)
    secret_rotated_at = fields.AwareDateTime(allow_none=True)
    previous_secret_expires_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()


class EndpointWithSecretSchema(EndpointSchema):
    secret = fields.String(metadata={"description": "Shown only when created or rotated."})


class RotateSchema(Schema):
    overlap_hours = fields.Float(
        load_default=None,
        validate=validate.Range(min=0, max=168),
        metadata={"description": "How long the previous secret stays valid (default 24)."},
    )


class AttemptSchema(Schema):
    number = fields.Integer()
    attempted_at = fields.AwareDateTime()
    duration_ms = fields.Integer()
    outcome = fields.String()
    error_kind = fields.String(allow_none=True)
    error = fields.String(allow_none=True)


class DeliverySchema(Schema):
    id = fields.Integer()
    event_id = fields.String()
    event_type = fields.String()
    state = fields.String()
    attempts = fields.Integer()
    next_attempt_at = fields.AwareDateTime(allow_none=True)
    sent_at = fields.AwareDateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    attempt_log = fields.List(fields.Nested(AttemptSchema), data_key="attempt_history")


class DeliveryPageSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class DeliveryQuerySchema(Schema):
    state = fields.String(validate=validate.OneOf(["pending", "sending", "sent", "dead", "cancelled"]))
    page = page_field()
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class SettingsSchema(Schema):
    triggers = fields.List(fields.String(validate=validate.OneOf(_TRIGGERS)))
    channels = fields.List(fields.String(validate=validate.OneOf(["email", "sms"])))
    quiet_start = fields.String(validate=_CLOCK)
    quiet_end = fields.String(validate=_CLOCK)
    urgent_triggers = fields.List(fields.String(validate=validate.OneOf(_TRIGGERS)))
    survey_url = fields.Url(allow_none=True, schemes={"http", "https"}, validate=validate.Length(max=500))
    survey_delay_hours = fields.Integer(validate=validate.Range(min=0, max=24 * 30))
    pickup_reminder_hours = fields.Integer(validate=validate.Range(min=1, max=24 * 30))


class PreferenceSchema(Schema):
    channels = fields.List(
        fields.String(validate=validate.OneOf(["email", "sms"])),
        allow_none=True,
        metadata={"description": "[] for no messages; null for the shop's default."},
    )
    language = fields.String(allow_none=True, validate=validate.OneOf(LANGUAGES))
    quiet_start = fields.String(allow_none=True, validate=_CLOCK)
    quiet_end = fields.String(allow_none=True, validate=_CLOCK)
    unsubscribed = fields.List(fields.String(), dump_only=True)

    @validates("channels")
    def _no_duplicates(self, value: list[str] | None, **_) -> None:
        if value is not None and len(set(value)) != len(value):
            raise ValidationError("List each channel once.")


class TestResultSchema(Schema):
    delivered = fields.Boolean()
    delivery = fields.Nested(DeliverySchema)
