"""Marshmallow schemas of the delivery-options and reservations API."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.api.schemas import DecimalString, PageQuerySchema
from app.input_guard import SaneDate, SaneDateTime, id_field
from app.models import ReservationState

COUNTRY = validate.Regexp(r"^[A-Z]{2}$", error="Use an ISO 3166-1 alpha-2 code.")


class AddressSchema(Schema):
    street = fields.String(
        required=True, validate=validate.Length(min=1, max=200), metadata={"example": "Storgata 12"}
    )
    postcode = fields.String(
        required=True, validate=validate.Length(min=1, max=16), metadata={"example": "0150"}
    )
    city = fields.String(
        required=True, validate=validate.Length(min=1, max=100), metadata={"example": "Oslo"}
    )
    country = fields.String(required=True, validate=COUNTRY, metadata={"example": "NO"})


class CoordinatesSchema(Schema):
    lat = fields.Float(required=True, validate=validate.Range(-90, 90), metadata={"example": 59.92})
    lon = fields.Float(required=True, validate=validate.Range(-180, 180), metadata={"example": 10.76})
    country = fields.String(
        validate=COUNTRY, metadata={"description": "Improves carrier predictions.", "example": "NO"}
    )
    postcode = fields.String(validate=validate.Length(max=16))


class ParcelSchema(Schema):
    weight_kg = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False, max=100000))
    volume_l = fields.Float(load_default=0.0, validate=validate.Range(min=0, max=100000))


class _DeliveryTo(Schema):
    address = fields.Nested(AddressSchema)
    coordinates = fields.Nested(CoordinatesSchema)
    parcel = fields.Nested(ParcelSchema, required=True)

    @validates_schema
    def _one_place(self, data: dict, **_) -> None:
        if ("address" in data) == ("coordinates" in data):
            raise ValidationError("Send either an address or coordinates.", "address")


class OptionsRequestSchema(_DeliveryTo):
    order_time = SaneDateTime(metadata={"description": "When the order is placed; default now."})
    days = fields.Integer(validate=validate.Range(min=1), metadata={"description": "Days ahead; default 5."})


class OptionsQuerySchema(Schema):
    explain = fields.Boolean(
        load_default=False, metadata={"description": "Include refused slots and reasons."}
    )


class ExplanationSchema(Schema):
    code = fields.String()
    text = fields.String()


class LocationSchema(Schema):
    lat = fields.Float()
    lon = fields.Float()
    label = fields.String()
    source = fields.String(metadata={"description": "given or geocoded"})


class SlotOptionSchema(Schema):
    template_id = fields.Integer()
    date = fields.Date()
    depot = fields.String()
    start = fields.AwareDateTime()
    end = fields.AwareDateTime()
    offered = fields.Boolean()
    price = DecimalString(allow_none=True)
    currency = fields.String()
    green = fields.Boolean()
    remaining = fields.Integer()
    reasons = fields.List(fields.Nested(ExplanationSchema))


class CarrierOptionSchema(Schema):
    carrier = fields.String()
    service = fields.String()
    label = fields.String()
    price = DecimalString()
    currency = fields.String()
    handover_at = fields.AwareDateTime()
    promised_date = fields.Date()
    earliest = fields.Date()
    expected = fields.Date()
    latest = fields.Date()
    p_on_time = fields.Float()
    reasons = fields.List(fields.String())


class OptionsResponseSchema(Schema):
    location = fields.Nested(LocationSchema)
    slots = fields.List(fields.Nested(SlotOptionSchema))
    carriers = fields.List(fields.Nested(CarrierOptionSchema))
    notes = fields.List(fields.Nested(ExplanationSchema))


class ReservationCreateSchema(_DeliveryTo):
    template_id = id_field(required=True)
    date = SaneDate(required=True)
    order_ref = fields.String(validate=validate.Length(max=100))


class ReservationConfirmSchema(Schema):
    shipment_id = id_field(metadata={"description": "The shipment this delivery is for, if registered."})
    order_ref = fields.String(validate=validate.Length(max=100))


class ReservationSchema(Schema):
    id = fields.String()
    state = fields.String()
    template_id = fields.Integer()
    date = fields.Date()
    start = fields.AwareDateTime()
    end = fields.AwareDateTime()
    price = DecimalString()
    currency = fields.String()
    expires_at = fields.AwareDateTime()
    confirmed_at = fields.AwareDateTime(allow_none=True)
    order_ref = fields.String(allow_none=True)
    shipment_id = fields.Integer(allow_none=True)
    address = fields.String()
    lat = fields.Float()
    lon = fields.Float()


class ReservationQuerySchema(PageQuerySchema):
    state = fields.String(validate=validate.OneOf([s.value for s in ReservationState]))
    date = SaneDate(metadata={"description": "Delivery day"})


class ReservationPageSchema(Schema):
    items = fields.List(fields.Nested(ReservationSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
