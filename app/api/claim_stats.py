"""Shop API: the shop's claim figures (rates, recovery, durations, denials, filing, rising rates)."""

from __future__ import annotations

from datetime import timedelta

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.api.auth import require_api_key
from app.api.problems import ApiProblem
from app.api.schemas import DecimalString
from app.claims.analytics import claim_stats
from app.models.types import utcnow

MAX_DAYS = 731
DEFAULT_DAYS = 90

bp = Blueprint("claim_stats", __name__, url_prefix="/api/v1", description="What the shop's claims show")
bp.before_request(require_api_key)


def _hours(span: timedelta | None) -> float | None:
    return None if span is None else round(span.total_seconds() / 3600, 2)


class ClaimStatsQuerySchema(Schema):
    start = fields.Date(data_key="from", metadata={"description": "First day (UTC); default: 90 days back"})
    end = fields.Date(
        data_key="to", metadata={"description": "Last day, inclusive (UTC); default: yesterday"}
    )
    carrier = fields.String(validate=validate.Length(max=20))

    @validates_schema
    def _range(self, data: dict, **_) -> None:
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise ValidationError("Must not be after 'to'.", field_name="from")
        if start and end and (end - start).days >= MAX_DAYS:
            raise ValidationError(f"At most {MAX_DAYS} days.", field_name="from")


class RateSchema(Schema):
    shipments = fields.Integer()
    claims = fields.Integer()
    rate = fields.Float(allow_none=True, metadata={"description": "claims ÷ shipments handed over"})


class MonthRateSchema(RateSchema):
    carrier = fields.String()
    month = fields.Date(metadata={"description": "The month's first day"})


class ServiceRateSchema(RateSchema):
    carrier = fields.String()
    service = fields.String(allow_none=True)


class LaneRateSchema(RateSchema):
    carrier = fields.String()
    origin_country = fields.String(allow_none=True)
    destination_country = fields.String(allow_none=True)


class MoneySchema(Schema):
    currency = fields.String(allow_none=True)
    claimed = DecimalString()
    recovered = DecimalString()
    share = fields.Float(allow_none=True)


class RecoverySchema(Schema):
    submitted = fields.Integer()
    decided = fields.Integer()
    recovered = fields.Integer(metadata={"description": "Approved or partially approved"})
    denied = fields.Integer()
    rate = fields.Float(allow_none=True, metadata={"description": "recovered ÷ submitted"})
    amounts = fields.List(fields.Nested(MoneySchema))


class DurationSchema(Schema):
    measured = fields.Integer()
    waiting = fields.Integer(metadata={"description": "Open claims that have not reached the step yet"})
    median_hours = fields.Function(lambda d: _hours(d.median))
    p90_hours = fields.Function(lambda d: _hours(d.p90))


class DenialSchema(Schema):
    reason = fields.String()
    count = fields.Integer()


class FilingSchema(Schema):
    submitted = fields.Integer()
    in_time = fields.Integer()
    late = fields.Integer()
    unknown = fields.Integer()
    share = fields.Float(allow_none=True, metadata={"description": "in_time ÷ submitted"})


class AnomalySchema(Schema):
    carrier = fields.String()
    origin_country = fields.String(allow_none=True)
    destination_country = fields.String(allow_none=True)
    period_start = fields.Date()
    period_end = fields.Date()
    claims = fields.Integer()
    shipments = fields.Integer()
    rate = fields.Float()
    baseline_start = fields.Date()
    baseline_claims = fields.Integer()
    baseline_shipments = fields.Integer()
    baseline_rate = fields.Float()
    p_value = fields.Float()
    adjusted_p_value = fields.Float()
    words = fields.String()


class ClaimStatsSchema(Schema):
    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")
    carrier = fields.String(allow_none=True)
    overall = fields.Nested(RateSchema)
    by_month = fields.List(fields.Nested(MonthRateSchema))
    by_service = fields.List(fields.Nested(ServiceRateSchema))
    by_lane = fields.List(fields.Nested(LaneRateSchema))
    recovery = fields.Nested(RecoverySchema)
    to_acknowledgement = fields.Nested(DurationSchema)
    to_remedy = fields.Nested(DurationSchema)
    to_carrier_decision = fields.Nested(DurationSchema)
    denial_reasons = fields.List(fields.Nested(DenialSchema))
    filing = fields.Nested(FilingSchema)
    anomalies = fields.List(fields.Nested(AnomalySchema))


@bp.route("/claims/stats")
class ClaimStatsView(MethodView):
    @bp.arguments(ClaimStatsQuerySchema, location="query")
    @bp.response(200, ClaimStatsSchema)
    def get(self, args: dict):
        """The shop's claim figures for a date range, and carriers or lanes whose claim rate is rising."""
        now = utcnow()
        end = args.get("end") or now.date() - timedelta(days=1)
        start = args.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end or (end - start).days >= MAX_DAYS:
            message = f"Must be on or before 'to', at most {MAX_DAYS} days apart."
            raise ApiProblem(
                422, "Unprocessable Entity", message, kind="validation", errors={"from": [message]}
            )
        return claim_stats(start, end, shop_id=g.shop.id, carrier=args.get("carrier"), now=now)
