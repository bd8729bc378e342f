"""Our own post-delivery survey page, reached by the signed link in the survey message: three scores and a
comment, one answer per shipment, in the customer's language, without JavaScript."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from app.customer_care.survey import (
    CES_SCALE,
    COMMENT_MAX,
    CSAT_SCALE,
    NPS_SCALE,
    SurveyAnswer,
    record_answer,
    survey_answer,
)
from app.customer_care.text import has_control_characters, tidy_text
from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import Shipment, Shop
from app.notify.links import find_survey_shipment
from app.web.tracking import LANGUAGE_NAMES, use_language

bp = Blueprint("survey", __name__)


def _scale(scale: range) -> list[SelectChoice]:
    return [SelectChoice(str(n), str(n)) for n in scale]


class SurveyForm(FlaskForm):
    """Satisfaction 1–5, likelihood to recommend 0–10, effort 1–7 and an optional comment."""

    csat = RadioField(
        _l("How satisfied are you with the delivery?"), choices=_scale(CSAT_SCALE), validate_choice=False
    )
    nps = RadioField(
        _l("How likely is it that you would recommend us to a friend or colleague?"),
        choices=_scale(NPS_SCALE),
        validate_choice=False,
    )
    ces = RadioField(
        _l("How easy was it to get your parcel?"), choices=_scale(CES_SCALE), validate_choice=False
    )
    comment = TextAreaField(
        _l("Anything else you would like to tell us? (optional)"),
        filters=[tidy_text],
        render_kw={"maxlength": COMMENT_MAX},
    )

    def validate_csat(self, field: RadioField) -> None:
        _check_choice(field)

    def validate_nps(self, field: RadioField) -> None:
        _check_choice(field)

    def validate_ces(self, field: RadioField) -> None:
        _check_choice(field)

    def validate_comment(self, field: TextAreaField) -> None:
        if len(field.data or "") > COMMENT_MAX:
            raise ValidationError(_("Please keep it to %(max)d characters or fewer.", max=COMMENT_MAX))
        if has_control_characters(field.data or ""):
            raise ValidationError(
                _("Your comment contains characters we cannot store. Please type it again.")
            )

    def answer(self) -> SurveyAnswer:
        """The validated answer."""
        return SurveyAnswer(
            int(self.csat.data), int(self.nps.data), int(self.ces.data), self.comment.data or None
        )


def _check_choice(field: RadioField) -> None:
    if field.data not in {choice.value for choice in field.choices}:
        raise ValidationError(_("Please choose one of the numbers."))


#: the words at both ends of each scale
SCALE_ENDS = {
    "csat": (_l("Very dissatisfied"), _l("Very satisfied")),
    "nps": (_l("Not at all likely"), _l("Extremely likely")),
    "ces": (_l("Very difficult"), _l("Very easy")),
}


@bp.context_processor
def _language_links() -> dict:
    args = request.view_args or {}
    endpoint = "survey.answer"
    return {
        "language_links": {
            code: (name, url_for(endpoint, **args, lang=code)) for code, name in LANGUAGE_NAMES.items()
        }
    }


def _shipment_for(token: str) -> Shipment:
    shipment = find_survey_shipment(current_app.config, token)
    if shipment is None or shipment.deleted_at is not None:
        abort(404)
    return shipment


@bp.route("/survey/<token>", methods=["GET", "POST"])
def answer(token: str):
    """The survey; once answered, a thank-you (a second answer changes nothing)."""
    shipment = _shipment_for(token)
    language = use_language(shipment)
    shop = db.session.get(Shop, shipment.shop_id)
    if survey_answer(shipment) is not None:
        return _already_answered(shop, 409 if request.method == "POST" else 200)
    form = SurveyForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            record_answer(shipment, form.answer(), language=language)
            db.session.commit()
        except (Conflict, IntegrityError):
            db.session.rollback()  # a second tab or a double click answered first
            return _already_answered(shop, 409)
        except InvalidInput:
            db.session.rollback()
            form.comment.errors.append(_("Please check your answers and try again."))
        else:
            flash(_("Thank you for your answers!"), "info")
            return redirect(url_for(".answer", token=token, lang=request.args.get("lang")))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "survey/form.html", form=form, shop=shop, shipment=shipment, ends=SCALE_ENDS
    ), status


def _already_answered(shop: Shop, status: int):
    return render_template(
        "survey/thanks.html",
        shop=shop,
        title=_("Thank you"),
        message=_("We have your answers about this delivery. Thank you for taking the time!"),
    ), status


@bp.errorhandler(404)
def not_found(error):
    """A bad or tampered survey link."""
    use_language(None)
    return render_template(
        "tracking/message.html",
        title=_("Survey not found"),
        message=_("This survey link is not valid. Please check the link in your message."),
    ), 404
