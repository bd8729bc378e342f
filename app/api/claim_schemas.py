"""Marshmallow schemas of the claims API: listing, opening, the shop's decisions, evidence, the claim."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from werkzeug.datastructures import FileStorage

from app.api.schemas import POLLED_CARRIERS, DecimalInput, DecimalString, PageQuerySchema
from app.input_guard import SaneDateTime
from app.models import ClaimKind, ClaimState, Liability, RemedyKind

CARRIER_OUTCOMES = (
    ClaimState.IN_REVIEW,
    ClaimState.NEEDS_INFORMATION,
    ClaimState.APPROVED,
    ClaimState.PARTIALLY_APPROVED,
    ClaimState.DENIED,
)
_MAX_ID = 2**31 - 1  # an id column's range: larger numbers are simply unknown, not a database error
_NOTE = validate.Length(max=2000)
_AMOUNT = validate.Range(min=0, max=10**9)


def _values(choices) -> list[str]:
    return [choice.value for choice in choices]


class ClaimQuerySchema(PageQuerySchema):
    state = fields.String(validate=validate.OneOf(_values(ClaimState)))
    kind = fields.String(validate=validate.OneOf(_values(ClaimKind)))
    carrier = fields.String(
        validate=validate.OneOf(POLLED_CARRIERS), metadata={"description": "The shipment's."}
    )
    shipment_id = fields.Integer(validate=validate.Range(min=1, max=_MAX_ID))
    order_ref = fields.String(validate=validate.Length(max=100))
    opened_since = SaneDateTime()
    open = fields.Boolean(
        metadata={"description": "true: open claims only; false: closed or cancelled ones."}
    )


class ClaimCreateSchema(Schema):
    shipment_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=_MAX_ID))
    kind = fields.String(required=True, validate=validate.OneOf(_values(ClaimKind)))
    statement = fields.String(
        validate=validate.Length(max=5000), metadata={"description": "What the customer says happened."}
    )


class ClaimClassifySchema(Schema):
    liability = fields.String(required=True, validate=validate.OneOf(_values(Liability)))
    kind = fields.String(
        validate=validate.OneOf(_values(ClaimKind)), metadata={"description": "Corrects the kind."}
    )
    note = fields.String(validate=_NOTE)


class ClaimRemedyDecisionSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(_values(RemedyKind)))
    amount = DecimalInput(
        validate=_AMOUNT,
        metadata={"description": "At most the goods value; none for reship and none."},
    )
    note = fields.String(validate=_NOTE)


class ClaimCarrierDecisionSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(_values(CARRIER_OUTCOMES)))
    amount = DecimalInput(
        validate=_AMOUNT,
        metadata={"description": "Approved; at most the claimed."},
    )
    reason = fields.String(validate=validate.Length(max=300))
    carrier_claim_id = fields.String(validate=validate.Length(min=1, max=64))


class ClaimCloseSchema(Schema):
    note = fields.String(validate=_NOTE)


class ClaimSubmitSchema(Schema):
    """File with the carrier: over its claims API, or record the number its portal gave."""

    carrier_claim_id = fields.String(validate=validate.Length(min=1, max=64))


class FilePart(Upload):
    """A file part of a multipart form (a text field of the same name is refused)."""

    def _deserialize(self, value, attr, data, **kwargs) -> FileStorage:
        if not isinstance(value, FileStorage):
            raise ValidationError("Send a file, not a text field.")
        return value


class ClaimEvidenceSchema(Schema):
    files = fields.List(
        FilePart(),
        metadata={"description": "JPEG, PNG, WebP or GIF images or PDF documents, checked by content."},
    )
    note = fields.String(validate=_NOTE)

    @validates_schema
    def _something(self, data: dict, **_) -> None:
        if not data.get("files") and not data.get("note"):
            raise ValidationError("Send files, a note, or both.", "files")


class ClaimShipmentSchema(Schema):
    id = fields.Integer()
    tracking_number = fields.String()
    carrier = fields.String()
    order_ref = fields.String(allow_none=True)


class ClaimRemedySchema(Schema):
    kind = fields.String(allow_none=True, metadata={"enum": _values(RemedyKind)})
    amount = DecimalString(allow_none=True)
    decided_at = fields.AwareDateTime(allow_none=True)


class ClaimCarrierSideSchema(Schema):
    claim_id = fields.String(allow_none=True, metadata={"description": "The carrier's claim number."})
    status = fields.String(allow_none=True)
    submitted_at = fields.AwareDateTime(allow_none=True)
    decided_at = fields.AwareDateTime(allow_none=True)
    approved_amount = DecimalString(allow_none=True)
    denial_reason = fields.String(allow_none=True)


class ClaimFilingSchema(Schema):
    earliest_file_at = fields.AwareDateTime(allow_none=True)
    file_by = fields.AwareDateTime(allow_none=True, metadata={"description": "The carrier's deadline."})
    filed_in_time = fields.Boolean(allow_none=True)


class ClaimTimelineEntrySchema(Schema):
    at = fields.AwareDateTime()
    actor = fields.String()
    action = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String(allow_none=True)
    note = fields.String(allow_none=True)


class ClaimAttachmentSchema(Schema):
    id = fields.Integer()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    created_at = fields.AwareDateTime()
    url = fields.String(metadata={"description": "GET it (with the API key) for the bytes."})


class ClaimSchema(Schema):
    reference = fields.String(metadata={"example": "C-ABCDEFG"})
    shipment = fields.Nested(ClaimShipmentSchema)
    kind = fields.String(metadata={"enum": _values(ClaimKind)})
    state = fields.String(metadata={"enum": _values(ClaimState)})
    open = fields.Boolean()
    source = fields.String(metadata={"description": "detection, customer, shop or staff"})
    rule = fields.String()
    liability = fields.String(allow_none=True, metadata={"enum": _values(Liability)})
    goods_value = DecimalString(allow_none=True)
    currency = fields.String(allow_none=True)
    carrier_cap = DecimalString(allow_none=True)
    claim_amount = DecimalString(
        allow_none=True, metadata={"description": "What the carrier can be asked for."}
    )
    uncovered_amount = DecimalString(
        allow_none=True, metadata={"description": "Goods value the carrier's cap leaves."}
    )
    remedy = fields.Nested(ClaimRemedySchema)
    carrier = fields.Nested(ClaimCarrierSideSchema)
    filing = fields.Nested(ClaimFilingSchema)
    opened_at = fields.AwareDateTime()
    acknowledged_at = fields.AwareDateTime(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)
    updated_at = fields.AwareDateTime()


class ClaimDetailSchema(ClaimSchema):
    statement = fields.String(allow_none=True)
    evidence = fields.Dict(metadata={"description": "The facts the claim was opened on."})
    timeline = fields.List(fields.Nested(ClaimTimelineEntrySchema))
    attachments = fields.List(fields.Nested(ClaimAttachmentSchema))


class ClaimPageSchema(Schema):
    items = fields.List(fields.Nested(ClaimSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
