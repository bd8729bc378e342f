"""Shop API for claims: list and read them, open one, decide (classify, remedy, carrier decision, close),
add evidence, download its files. Every move is audited and reaches the shop's `claim.*` webhooks."""

from __future__ import annotations

import io
import re

from flask import Response, g, send_file, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import func, select
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict

from app.api.auth import require_api_key
from app.api.claim_schemas import (
    ClaimCarrierDecisionSchema,
    ClaimClassifySchema,
    ClaimCloseSchema,
    ClaimCreateSchema,
    ClaimDetailSchema,
    ClaimEvidenceSchema,
    ClaimPageSchema,
    ClaimQuerySchema,
    ClaimRemedyDecisionSchema,
    ClaimSubmitSchema,
)
from app.api.idempotency import idempotent
from app.api.problems import ApiProblem
from app.claims.evidence import Upload, attach, read
from app.claims.lifecycle import record
from app.claims.service import (
    ClaimCandidate,
    classify,
    close,
    decide_remedy,
    open_claim,
    record_carrier_decision,
)
from app.claims.submission import submit
from app.errors import Conflict
from app.extensions import db
from app.models import Claim, ClaimKind, ClaimState, Liability, RemedyKind, Shipment
from app.models.claim import FINISHED_CLAIM_STATES

ACTOR = "shop:api"
_REFERENCE = re.compile(r"C-[A-Z0-9]{1,14}")


class _MultipartParser(FlaskParser):
    """webargs with a `multipart` location: a form's text fields and its files, in one schema."""

    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def load_multipart(self, req, schema):
        """The form fields and file parts together (a field sent as both is a list of both)."""
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)


class _ClaimsBlueprint(Blueprint):
    """A smorest blueprint that also parses (and documents) `multipart` bodies."""

    ARGUMENTS_PARSER = _MultipartParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }


bp = _ClaimsBlueprint(
    "claims", __name__, url_prefix="/api/v1", description="Claims about lost, damaged or returned parcels"
)
bp.before_request(require_api_key)


def _own_claim(reference: str, *, for_update: bool = False) -> Claim:
    wanted = reference.strip().upper()
    claim = None
    # Only reference-shaped strings reach SQL (PostgreSQL refuses e.g. NUL characters with an error).
    if _REFERENCE.fullmatch(wanted):
        query = select(Claim).where(Claim.reference == wanted, Claim.shop_id == g.shop.id)
        if for_update:
            query = query.with_for_update()  # two decisions at once: the second sees the first's state
        claim = db.session.scalar(query)
    if claim is None:
        raise ApiProblem(404, "Not Found", f"No claim {reference[:40]}.", kind="not-found")
    return claim


def _own_shipment(shipment_id: int) -> Shipment:
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None or shipment.shop_id != g.shop.id or shipment.deleted_at is not None:
        raise ApiProblem(
            404,
            "Not Found",
            f"No shipment {shipment_id}.",
            kind="not-found",
            errors={"shipment_id": ["No such shipment."]},
        )
    return shipment


def claim_body(claim: Claim, shipment: Shipment, *, detail: bool = False) -> dict:
    """A claim as the API shows it; `detail` adds the statement, evidence, timeline and files."""
    body = {
        "reference": claim.reference,
        "shipment": {
            "id": shipment.id,
            "tracking_number": shipment.tracking_number,
            "carrier": shipment.carrier,
            "order_ref": shipment.order_ref,
        },
        "kind": claim.kind,
        "state": claim.state,
        "open": claim.is_open,
        "source": claim.source,
        "rule": claim.rule,
        "liability": claim.liability,
        "goods_value": claim.goods_value,
        "currency": claim.currency,
        "carrier_cap": claim.carrier_cap,
        "claim_amount": claim.claim_amount,
        "uncovered_amount": claim.uncovered_amount,
        "remedy": {
            "kind": claim.remedy_kind,
            "amount": claim.remedy_amount,
            "decided_at": claim.remedy_decided_at,
        },
        "carrier": {
            "claim_id": claim.carrier_claim_id,
            "status": claim.carrier_status,
            "submitted_at": claim.submitted_at,
            "decided_at": claim.carrier_decided_at,
            "approved_amount": claim.approved_amount,
            "denial_reason": claim.denial_reason,
        },
        "filing": {
            "earliest_file_at": claim.earliest_file_at,
            "file_by": claim.file_by,
            "filed_in_time": claim.filed_in_time,
        },
        "opened_at": claim.opened_at,
        "acknowledged_at": claim.acknowledged_at,
        "closed_at": claim.closed_at,
        "updated_at": claim.updated_at,
    }
    if detail:
        body["statement"] = claim.customer_statement
        body["evidence"] = claim.evidence or {}
        body["timeline"] = claim.events
        body["attachments"] = [
            {
                "id": attachment.id,
                "filename": attachment.filename,
                "content_type": attachment.content_type,
                "size": attachment.size,
                "created_at": attachment.created_at,
                "url": url_for(
                    "claims.ClaimAttachmentFile", reference=claim.reference, attachment_id=attachment.id
                ),
            }
            for attachment in claim.attachments
        ]
    return body


def _detail(claim: Claim) -> dict:
    db.session.flush()  # ids and defaults of the new events and files
    return claim_body(claim, db.session.get(Shipment, claim.shipment_id), detail=True)


@bp.route("/claims")
class ClaimCollection(MethodView):
    @bp.arguments(ClaimQuerySchema, location="query")
    @bp.response(200, ClaimPageSchema)
    def get(self, args: dict):
        """List the shop's claims, newest first, with filters."""
        query = (
            select(Claim, Shipment)
            .join(Shipment, Shipment.id == Claim.shipment_id)
            .where(Claim.shop_id == g.shop.id)
        )
        if "state" in args:
            query = query.where(Claim.state == ClaimState(args["state"]))
        if "kind" in args:
            query = query.where(Claim.kind == ClaimKind(args["kind"]))
        if "carrier" in args:
            query = query.where(Shipment.carrier == args["carrier"])
        if "shipment_id" in args:
            query = query.where(Claim.shipment_id == args["shipment_id"])
        if "order_ref" in args:
            query = query.where(Shipment.order_ref == args["order_ref"])
        if "opened_since" in args:
            query = query.where(Claim.opened_at >= args["opened_since"])
        if "open" in args:
            finished = Claim.state.in_(sorted(FINISHED_CLAIM_STATES))
            query = query.where(~finished if args["open"] else finished)
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
        page, per_page = args["page"], args["per_page"]
        rows = db.session.execute(
            query.order_by(Claim.opened_at.desc(), Claim.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        ).all()
        items = [claim_body(claim, shipment) for claim, shipment in rows]
        return {"items": items, "page": page, "per_page": per_page, "total": total}

    @idempotent
    @bp.arguments(ClaimCreateSchema)
    @bp.response(201, ClaimDetailSchema)
    @bp.alt_response(404, response="NOT_FOUND", description="No such shipment")
    @bp.alt_response(409, response="CONFLICT")
    def post(self, data: dict):
        """Open a claim about one of the shop's shipments; 409 when one of that kind is already open."""
        shipment = _own_shipment(data["shipment_id"])
        candidate = ClaimCandidate(
            shipment,
            ClaimKind(data["kind"]),
            "shop_report",
            source="shop",
            statement=data.get("statement"),
        )
        return _detail(open_claim(candidate, actor=ACTOR))


@bp.route("/claims/<reference>")
class ClaimItem(MethodView):
    @bp.response(200, ClaimDetailSchema)
    def get(self, reference: str):
        """One claim with its timeline (oldest first) and files."""
        claim = _own_claim(reference)
        return claim_body(claim, db.session.get(Shipment, claim.shipment_id), detail=True)


@bp.route("/claims/<reference>/classify")
class ClaimClassify(MethodView):
    @idempotent
    @bp.arguments(ClaimClassifySchema)
    @bp.response(200, ClaimDetailSchema)
    @bp.alt_response(409, response="CONFLICT")
    def post(self, data: dict, reference: str):
        """Say who bears the loss (and correct the kind): opened → classified."""
        claim = _own_claim(reference, for_update=True)
        kind = ClaimKind(data["kind"]) if "kind" in data else None
        classify(claim, liability=Liability(data["liability"]), kind=kind, actor=ACTOR, note=data.get("note"))
        return _detail(claim)


@bp.route("/claims/<reference>/remedy")
class ClaimRemedy(MethodView):
    @idempotent
    @bp.arguments(ClaimRemedyDecisionSchema)
    @bp.response(200, ClaimDetailSchema)
    @bp.alt_response(409, response="CONFLICT")
    def post(self, data: dict, reference: str):
        """Decide what the customer gets (refund, reship, store credit, compensation, none)."""
        claim = _own_claim(reference, for_update=True)
        decide_remedy(
            claim,
            remedy=RemedyKind(data["kind"]),
            amount=data.get("amount"),
            actor=ACTOR,
            note=data.get("note"),
        )
        return _detail(claim)


@bp.route("/claims/<reference>/submit")
class ClaimSubmit(MethodView):
    @idempotent
    @bp.arguments(ClaimSubmitSchema)
    @bp.response(200, ClaimDetailSchema)
    @bp.alt_response(409, response="CONFLICT")
    @bp.alt_response(503, response="SERVICE_UNAVAILABLE")
    def post(self, data: dict, reference: str):
        """File the claim with the carrier (its claims API), or record the claim number its portal gave."""
        claim = _own_claim(reference, for_update=True)
        submit(claim, actor=ACTOR, carrier_claim_id=data.get("carrier_claim_id"))
        return _detail(claim)


@bp.route("/claims/<reference>/carrier-decision")
class ClaimCarrierDecision(MethodView):
    @idempotent
    @bp.arguments(ClaimCarrierDecisionSchema)
    @bp.response(200, ClaimDetailSchema)
    @bp.alt_response(409, response="CONFLICT")
    def post(self, data: dict, reference: str):
        """Record what the carrier answered to the submitted claim."""
        claim = _own_claim(reference, for_update=True)
        record_carrier_decision(
            claim,
            outcome=ClaimState(data["outcome"]),
            amount=data.get("amount"),
            reason=data.get("reason"),
            actor=ACTOR,
            carrier_claim_id=data.get("carrier_claim_id"),
        )
        return _detail(claim)


@bp.route("/claims/<reference>/close")
class ClaimClose(MethodView):
    @idempotent
    @bp.arguments(ClaimCloseSchema)
    @bp.response(200, ClaimDetailSchema)
    @bp.alt_response(409, response="CONFLICT")
    def post(self, data: dict, reference: str):
        """Finish the claim; a carrier-liable claim closed without filing needs a note saying why."""
        claim = _own_claim(reference, for_update=True)
        close(claim, actor=ACTOR, note=data.get("note"))
        return _detail(claim)


@bp.route("/claims/<reference>/evidence")
class ClaimEvidence(MethodView):
    @idempotent
    @bp.arguments(ClaimEvidenceSchema, location="multipart")
    @bp.response(200, ClaimDetailSchema)
    @bp.alt_response(409, response="CONFLICT")
    def post(self, data: dict, reference: str):
        """Add photos or documents (`files`, repeated) and/or a `note`; all files are kept, or none."""
        claim = _own_claim(reference, for_update=True)
        if not claim.is_open:
            raise Conflict(
                f"Claim {claim.reference} is {claim.state}; it takes no more evidence.",
                errors={"state": f"The claim is {claim.state}."},
                kind="claim-finished",
            )
        uploads = [Upload(part.filename or "", part.read()) for part in data.get("files", [])]
        attachments = attach(claim, uploads, uploaded_by=ACTOR, allow_pdf=True) if uploads else []
        db.session.flush()
        record(
            claim,
            "evidence",
            actor=ACTOR,
            note=data.get("note"),
            data={"attachments": [attachment.id for attachment in attachments]},
        )
        return _detail(claim)


@bp.route("/claims/<reference>/attachments/<int:attachment_id>")
class ClaimAttachmentFile(MethodView):
    @bp.doc(
        responses={
            "200": {
                "description": "The file, with its stored content type, as a download",
                "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    )
    def get(self, reference: str, attachment_id: int) -> Response:
        """One of the claim's files."""
        claim = _own_claim(reference)
        # Looked up among the claim's own files: no other shop's file, and no out-of-range id reaches SQL.
        attachment = next((a for a in claim.attachments if a.id == attachment_id), None)
        if attachment is None:
            raise ApiProblem(
                404, "Not Found", f"No attachment {attachment_id} on this claim.", kind="not-found"
            )
        response = send_file(
            io.BytesIO(read(attachment)),
            mimetype=attachment.content_type,
            as_attachment=True,
            download_name=attachment.filename,
            etag=False,
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response.headers["Cache-Control"] = "private, no-store"
        return response
