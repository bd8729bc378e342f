"""Marshmallow schemas of the own-fleet configuration API (depots, vans, zones, slots, closures, carriers).

Each resource has one schema for create and read (`id` and the parent's id are read-only) and an
update variant where every field is optional; resources with a price also have a read variant, since a
request may send the price as a number while answers always carry a decimal string. Checks that need two fields or the database (windows
inside shifts, bookings in the way) live in app/fleet_setup.py.
"""

from __future__ import annotations

from datetime import time
from zoneinfo import available_timezones

import holidays
from marshmallow import Schema, ValidationError, fields, validate, validates

from app.api.schemas import DecimalInput, DecimalString
from app.config import CARRIER_CODES
from app.input_guard import SaneDate, id_field

_TIMEZONES = available_timezones()


class LocalTime(fields.Time):
    """A wall-clock time in the depot's own zone: "15:00"; an offset ("15:00+05:00") is refused, not dropped."""

    def _deserialize(self, value, attr, data, **kwargs):
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if parsed.tzinfo is not None:
            raise ValidationError("Give a local time without a UTC offset, e.g. 15:00.")
        return parsed


_COUNTRIES = frozenset(holidays.list_supported_countries())
CURRENCY = validate.Regexp(r"^[A-Z]{3}$", error="Use an ISO 4217 code.")
LAT = validate.Range(-90, 90)
LON = validate.Range(-180, 180)
PRICE = validate.Range(min=0, max=1_000_000)  # the columns hold 10 digits; surcharges stay within them


def _weekdays(value: str) -> None:
    if not set(value) <= set("1234567") or len(set(value)) != len(value):
        raise ValidationError("ISO weekday digits 1 (Monday) to 7, each at most once, e.g. '12345'.")


class _Partial(Schema):
    """Mixin for update schemas: every field optional, defaults not applied."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class DepotSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    lat = fields.Float(required=True, validate=LAT)
    lon = fields.Float(required=True, validate=LON)
    country = fields.String(
        required=True, metadata={"description": "ISO 3166-1 alpha-2; its holidays close", "example": "NO"}
    )
    postcode = fields.String(load_default="", validate=validate.Length(max=16))
    timezone = fields.String(load_default="Europe/Oslo", metadata={"example": "Europe/Oslo"})
    opens = LocalTime(load_default=time(7), metadata={"description": "Vans leave after (local time)"})
    closes = LocalTime(load_default=time(21), metadata={"description": "Vans are back by"})
    order_cutoff = LocalTime(load_default=time(22), metadata={"description": "Orders for a day close at"})
    cutoff_days_before = fields.Integer(load_default=1, validate=validate.Range(0, 14))
    service_seconds = fields.Integer(load_default=180, validate=validate.Range(1, 3600))

    @validates("country")
    def _known_country(self, value: str, **_) -> None:
        if value not in _COUNTRIES:
            raise ValidationError("Use an ISO 3166-1 alpha-2 code of a country with a holiday calendar.")

    @validates("timezone")
    def _known_zone(self, value: str, **_) -> None:
        if value not in _TIMEZONES:
            raise ValidationError("Unknown IANA time zone.")


class DepotUpdateSchema(_Partial, DepotSchema):
    pass


class VehicleSchema(Schema):
    id = fields.Integer(dump_only=True)
    depot_id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    capacity_kg = fields.Integer(required=True, validate=validate.Range(min=1, max=100000))
    shift_start = LocalTime(required=True)
    shift_end = LocalTime(required=True)
    weekdays = fields.String(load_default="1234567", validate=_weekdays)
    fixed_cost = fields.Float(
        load_default=0.0, validate=validate.Range(min=0), metadata={"description": "km charged per use"}
    )
    active = fields.Boolean(load_default=True)


class VehicleUpdateSchema(_Partial, VehicleSchema):
    pass


class ZoneSchema(Schema):
    id = fields.Integer(dump_only=True)
    depot_id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    lat = fields.Float(required=True, validate=LAT)
    lon = fields.Float(required=True, validate=LON)
    radius_km = fields.Float(required=True, validate=validate.Range(min=0, max=500, min_inclusive=False))


class ZoneUpdateSchema(_Partial, ZoneSchema):
    pass


class SlotTemplateSchema(Schema):
    id = fields.Integer(dump_only=True)
    depot_id = fields.Integer(dump_only=True)
    start = LocalTime(required=True)
    end = LocalTime(required=True)
    capacity = fields.Integer(required=True, validate=validate.Range(min=1, max=100000))
    base_price = DecimalInput(required=True, validate=PRICE)
    currency = fields.String(load_default="NOK", validate=CURRENCY)
    lead_minutes = fields.Integer(load_default=240, validate=validate.Range(0, 14 * 24 * 60))
    weekdays = fields.String(
        load_default="1234567", validate=_weekdays, metadata={"description": "Empty: no longer offered"}
    )


class SlotTemplateUpdateSchema(_Partial, SlotTemplateSchema):
    pass


class SlotTemplateReadSchema(SlotTemplateSchema):
    base_price = DecimalString(required=True)


class ClosureSchema(Schema):
    id = fields.Integer(dump_only=True)
    depot_id = fields.Integer(dump_only=True)
    day = SaneDate(required=True)
    reason = fields.String(load_default="closed", validate=validate.Length(min=1, max=200))


class CarrierServiceSchema(Schema):
    id = fields.Integer(dump_only=True)
    depot_id = id_field(required=True, metadata={"description": "Where parcels are handed over"})
    carrier = fields.String(required=True, validate=validate.OneOf(CARRIER_CODES))
    service = fields.String(required=True, validate=validate.Length(min=1, max=50))
    label = fields.String(required=True, validate=validate.Length(min=1, max=100))
    price = DecimalInput(required=True, validate=PRICE)
    currency = fields.String(load_default="NOK", validate=CURRENCY)
    cutoff = LocalTime(load_default=time(15), metadata={"description": "Daily hand-over cut-off"})
    transit_days = fields.Integer(load_default=1, validate=validate.Range(0, 30))


class CarrierServiceUpdateSchema(_Partial, CarrierServiceSchema):
    pass


class CarrierServiceReadSchema(CarrierServiceSchema):
    price = DecimalString(required=True)
