"""Marshmallow schemas of the shop API (they also generate the OpenAPI document)."""

from __future__ import annotations

from datetime import timedelta, timezone
from zoneinfo import available_timezones

import phonenumbers
from marshmallow import Schema, ValidationError, fields, post_load, pre_dump, validate, validates

from app.input_guard import SaneDate, SaneDateTime, page_field
from app.models.types import utcnow
from carriers.model import MODEL_VERSION, Reason, Status
from carriers.numbers import normalise_number
from planning.prediction import RiskState

POLLED_CARRIERS = ("bring", "postnord", "dhl", "ups", "fedex", "usps", "gls", "thailandpost")
LANGUAGES = ("en", "nb", "da", "th", "sv")
_TIMEZONES = available_timezones()
SHIPPED_AT_MAX_FUTURE = timedelta(days=7)  # labels are bought a few days ahead, never years
DECIMAL_TEXT = r"^-?[0-9]+(\.[0-9]+)?$"


class DecimalString(fields.Decimal):
    """A decimal with `places` digits after the point, sent as a JSON string ("49.00") so that no client
    reads an amount through a float."""

    def __init__(self, places: int = 2, **kwargs) -> None:
        super().__init__(places=places, as_string=True, **kwargs)
        self.digits = places

    def openapi_properties(self) -> dict:
        """How the OpenAPI document shows it (see app/api/smorest.py)."""
        return {
            "type": "string",
            "format": "decimal",
            "pattern": rf"^-?[0-9]+\.[0-9]{{{self.digits}}}$",
            "example": f"{49:.{self.digits}f}",
        }


class DecimalInput(DecimalString):
    """A decimal a request may send as a JSON number (49.5) or a string ("49.50"); rounded to `places`
    digits, and answered as a DecimalString."""

    def openapi_properties(self) -> dict:
        """How the OpenAPI document shows it: a number within the field's range, or a decimal string."""
        number: dict = {"type": "number"}
        text = DECIMAL_TEXT
        for rule in self.validators:
            if isinstance(rule, validate.Range):
                if rule.min is not None:
                    number["minimum"] = rule.min
                    if rule.min >= 0:
                        text = DECIMAL_TEXT.replace("-?", "")
                    if not rule.min_inclusive:
                        number["exclusiveMinimum"] = True
                if rule.max is not None:
                    number["maximum"] = rule.max
                    if not rule.max_inclusive:
                        number["exclusiveMaximum"] = True
        return {"anyOf": [number, {"type": "string", "pattern": text}], "example": "49.50"}


class CustomerSchema(Schema):
    name = fields.String(validate=validate.Length(max=200))
    email = fields.Email(validate=validate.Length(max=254))
    phone = fields.String(validate=validate.Length(min=5, max=32), metadata={"example": "+47 412 34 567"})
    language = fields.String(validate=validate.OneOf(LANGUAGES))
    timezone = fields.String(metadata={"example": "Europe/Oslo"})

    @validates("timezone")
    def _known_zone(self, value: str, **_) -> None:
        if value not in _TIMEZONES:
            raise ValidationError("Unknown IANA time zone.")


class PlaceSchema(Schema):
    postcode = fields.String(validate=validate.Length(max=16))
    country = fields.String(validate=validate.Regexp(r"^[A-Z]{2}$", error="Use an ISO 3166-1 alpha-2 code."))
    lat = fields.Float(validate=validate.Range(-90, 90))
    lon = fields.Float(validate=validate.Range(-180, 180))


class ShipmentCreateSchema(Schema):
    tracking_number = fields.String(
        required=True, validate=validate.Length(min=4, max=64), metadata={"example": "70438101015432113"}
    )
    carrier = fields.String(
        validate=validate.OneOf(POLLED_CARRIERS), metadata={"description": "Detected if omitted."}
    )
    carrier_ref = fields.String(validate=validate.Length(max=100))
    service = fields.String(validate=validate.Length(max=50))
    order_ref = fields.String(validate=validate.Length(max=100))
    customer = fields.Nested(CustomerSchema)
    origin = fields.Nested(PlaceSchema)
    destination = fields.Nested(PlaceSchema)
    shipped_at = SaneDateTime(max_future=SHIPPED_AT_MAX_FUTURE)
    promised_date = SaneDate()
    declared_value = DecimalInput(validate=validate.Range(min=0, max=10**9))
    weight_kg = DecimalInput(places=3, validate=validate.Range(min=0, max=10**4))
    currency = fields.String(validate=validate.Regexp(r"^[A-Z]{3}$", error="Use an ISO 4217 code."))

    @post_load
    def _clean(self, data: dict, **_) -> dict:
        data["tracking_number"] = normalise_number(data["tracking_number"])
        if len(data["tracking_number"]) < 4:
            raise ValidationError("Too short.", "tracking_number")
        phone = data.get("customer", {}).get("phone")
        if phone:
            region = data.get("destination", {}).get("country") or "NO"
            data["customer"]["phone"] = _e164(phone, region)
        return data


def _e164(number: str, region: str) -> str:
    """The number in E.164, or a validation error naming customer.phone."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException as error:
        raise ValidationError({"customer": {"phone": [f"Not a phone number: {error}."]}}) from error
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError({"customer": {"phone": ["Not a valid phone number for its country."]}})
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class BulkCreateSchema(Schema):
    shipments = fields.List(
        fields.Nested(ShipmentCreateSchema), required=True, validate=validate.Length(min=1)
    )


class EventSchema(Schema):
    occurred_at = fields.Method("_local_time", metadata={"description": "ISO 8601 with the local offset"})
    status = fields.String(metadata={"enum": [s.value for s in Status]})
    reason = fields.String(allow_none=True, metadata={"enum": [r.value for r in Reason]})
    carrier_code = fields.String()
    description = fields.String()
    location = fields.String()
    informational = fields.Boolean()
    tz_assumed = fields.Boolean()
    source = fields.String()

    def _local_time(self, event) -> str:
        if event.utc_offset_minutes is None:
            return event.occurred_at.isoformat()
        return event.occurred_at.astimezone(timezone(timedelta(minutes=event.utc_offset_minutes))).isoformat()


class FreshnessSchema(Schema):
    last_checked_at = fields.AwareDateTime(allow_none=True)
    age_seconds = fields.Integer(
        allow_none=True, metadata={"description": "Seconds since the carrier was last asked"}
    )
    next_poll_at = fields.AwareDateTime(allow_none=True)
    last_error = fields.String(allow_none=True)


class EtaSchema(Schema):
    p10 = fields.AwareDateTime(allow_none=True)
    p50 = fields.AwareDateTime(allow_none=True)
    p90 = fields.AwareDateTime(allow_none=True)


class RiskReasonSchema(Schema):
    key = fields.String(allow_none=True, metadata={"description": "stable machine key, e.g. customs_hold"})
    text = fields.String(metadata={"description": "the reason in English"})
    params = fields.Dict(keys=fields.String(), metadata={"description": "values the text is built from"})

    @pre_dump
    def _legacy(self, reason, **kwargs):
        # Shipments scored before reasons carried keys hold plain English sentences.
        return {"key": None, "text": reason, "params": {}} if isinstance(reason, str) else reason


class ShipmentSchema(Schema):
    id = fields.Integer()
    carrier = fields.String()
    carrier_ref = fields.String(allow_none=True)
    service = fields.String(allow_none=True)
    tracking_number = fields.String()
    order_ref = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": [s.value for s in Status]})
    reason = fields.String(allow_none=True)
    status_changed_at = fields.AwareDateTime(allow_none=True)
    estimated_delivery = fields.Date(attribute="carrier_eta", allow_none=True)
    delivered_at = fields.AwareDateTime(allow_none=True)
    last_event_at = fields.AwareDateTime(allow_none=True)
    promised_date = fields.Date(allow_none=True)
    shipped_at = fields.AwareDateTime(allow_none=True)
    declared_value = DecimalString(allow_none=True)
    currency = fields.String(allow_none=True)
    weight_kg = DecimalString(places=3, allow_none=True)
    freshness = fields.Method("_freshness")
    eta = fields.Method("_eta")
    p_late = fields.Float(allow_none=True)
    p_lost = fields.Float(allow_none=True)
    risk_state = fields.String(allow_none=True)
    reasons = fields.List(fields.Nested(RiskReasonSchema), attribute="risk_reasons", allow_none=True)
    computed_at = fields.AwareDateTime(attribute="risk_computed_at", allow_none=True)
    tracking_model_version = fields.Constant(
        MODEL_VERSION, metadata={"description": "version of the normalised status model"}
    )
    created_at = fields.AwareDateTime()

    def _freshness(self, shipment) -> dict:
        checked = shipment.last_checked_at
        return FreshnessSchema().dump(
            {
                "last_checked_at": checked,
                "age_seconds": int((utcnow() - checked).total_seconds()) if checked else None,
                "next_poll_at": shipment.next_poll_at,
                "last_error": shipment.last_error,
            }
        )

    def _eta(self, shipment) -> dict:
        return EtaSchema().dump({"p10": shipment.eta_p10, "p50": shipment.eta_p50, "p90": shipment.eta_p90})


class ShipmentDetailSchema(ShipmentSchema):
    events = fields.List(fields.Nested(EventSchema))


class ShipmentPageSchema(Schema):
    items = fields.List(fields.Nested(ShipmentSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class AtRiskPageSchema(ShipmentPageSchema):
    active = fields.Integer(metadata={"description": "the shop's active shipments (the book)"})
    book_share = fields.Float(
        allow_none=True, metadata={"description": "total / active: the share of the book in the queue"}
    )


class PageQuerySchema(Schema):
    page = page_field()
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class ShipmentQuerySchema(PageQuerySchema):
    status = fields.String(validate=validate.OneOf([s.value for s in Status]))
    carrier = fields.String(validate=validate.OneOf(POLLED_CARRIERS))
    risk_state = fields.String(validate=validate.OneOf([s.value for s in RiskState]))
    order_ref = fields.String()
    tracking_number = fields.String()
    updated_since = SaneDateTime()


class BulkResultSchema(Schema):
    created = fields.Integer()
    existing = fields.Integer()
    items = fields.List(fields.Nested(ShipmentSchema))
