"""Our own post-delivery survey: one answer per shipment (CSAT 1–5, NPS 0–10, effort 1–7, a comment)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.customer_care.text import checked_text
from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import Shipment, SurveyResponse
from app.models.types import utcnow

CSAT_SCALE = range(1, 6)
NPS_SCALE = range(0, 11)
CES_SCALE = range(1, 8)
COMMENT_MAX = 2000


@dataclass(frozen=True)
class SurveyAnswer:
    """What the customer answered: satisfaction 1–5, likelihood to recommend 0–10, ease 1–7 (7 = very easy)."""

    csat: int
    nps: int
    ces: int
    comment: str | None = None


def survey_answer(shipment: Shipment) -> SurveyResponse | None:
    """The shipment's answer, if the customer gave one."""
    return db.session.scalar(select(SurveyResponse).where(SurveyResponse.shipment_id == shipment.id))


def record_answer(
    shipment: Shipment, answer: SurveyAnswer, *, language: str, now: datetime | None = None
) -> SurveyResponse:
    """Store the customer's answer; Conflict when the shipment was answered before, InvalidInput when a score
    is off its scale or the comment cannot be stored. Flushes, never commits; a racing second answer fails
    the flush (IntegrityError on the unique shipment)."""
    for name, scale in (("csat", CSAT_SCALE), ("nps", NPS_SCALE), ("ces", CES_SCALE)):
        if getattr(answer, name) not in scale:
            raise InvalidInput("A score is off its scale.", errors={name: f"{scale.start}..{scale.stop - 1}"})
    comment = checked_text(answer.comment, field="comment", required=False, limit=COMMENT_MAX)
    if survey_answer(shipment) is not None:
        raise Conflict("This delivery was rated already.")
    response = SurveyResponse(
        shipment_id=shipment.id,
        shop_id=shipment.shop_id,
        csat=answer.csat,
        nps=answer.nps,
        ces=answer.ces,
        comment=comment,
        language=language,
        answered_at=now or utcnow(),
    )
    db.session.add(response)
    db.session.flush()
    return response
