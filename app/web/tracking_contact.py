"""The tracking page's "Contact us about this parcel" (after postcode verification): the customer's message
becomes a case for staff, and staff replies show under it. The routes join the tracking blueprint, so its
language, error and rate-limit pages apply."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from app.claims.reports import reply_channels
from app.customer_care.cases import contact, shipment_cases
from app.customer_care.text import MESSAGE_MAX, has_control_characters, tidy_text
from app.errors import InvalidInput
from app.extensions import db, limiter
from app.models import Shipment, Shop, SupportCase
from app.web.tracking import _shipment_for, bp, is_verified, use_language
from app.web.tracking_claims import CHANNEL_WORDS

CASE_STATUS_WORDS = {
    "open": _l("We have your message and will answer soon."),
    "answered": _l("We have answered."),
    "closed": _l("Closed."),
}


def _contact_limit() -> str:
    return current_app.config["CONTACT_RATE_LIMIT"]


class ContactForm(FlaskForm):
    """The customer's message and the channel to answer on (the shipment's addresses)."""

    message = TextAreaField(_l("Your message"), filters=[tidy_text], render_kw={"maxlength": MESSAGE_MAX})
    reply_channel = RadioField(_l("How should we answer you?"), validate_choice=False)

    @classmethod
    def for_shipment(cls, shipment: Shipment, **kwargs) -> ContactForm:
        """The form with the shipment's channels as choices, the first one chosen."""
        form = cls(**kwargs)
        form.reply_channel.choices = [SelectChoice(c, CHANNEL_WORDS[c]) for c in reply_channels(shipment)]
        if form.reply_channel.choices and not form.reply_channel.data:
            form.reply_channel.data = form.reply_channel.choices[0].value
        return form

    def validate_message(self, field: TextAreaField) -> None:
        if not field.data:
            raise ValidationError(_("Please write your message."))
        if len(field.data) > MESSAGE_MAX:
            raise ValidationError(_("Please keep it to %(max)d characters or fewer.", max=MESSAGE_MAX))
        if has_control_characters(field.data):
            raise ValidationError(
                _("Your message contains characters we cannot store. Please type it again.")
            )

    def validate_reply_channel(self, field: RadioField) -> None:
        if field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(_("Choose one of the options."))


@bp.route("/t/<token>/contact", methods=["GET", "POST"])
@limiter.limit(_contact_limit, methods=["POST"])
def contact_us(token: str):
    """Write to us about the parcel; only a session that verified the postcode may, or see the answers."""
    shipment = _shipment_for(token)
    language = use_language(shipment)
    lang = request.args.get("lang")
    if not is_verified(shipment):
        if request.method == "POST":
            message = _(
                "Only the recipient can write to us here. Enter the delivery postcode on the parcel page first."
            )
            return _refused(token, _("Please confirm the postcode first"), message, 403)
        flash(_("Enter the delivery postcode first, then you can write to us."), "info")
        return redirect(url_for(".parcel", token=token, lang=lang, _anchor="verify-heading"))
    if not reply_channels(shipment):
        return _refused(token, _("Contact us"), _no_address_words(shipment), 409)
    form = ContactForm.for_shipment(shipment)
    if request.method == "GET":
        return _render_contact(shipment, token, form)
    if form.validate_on_submit():
        try:
            contact(shipment, form.message.data, form.reply_channel.data, language=language)
        except InvalidInput:
            db.session.rollback()
            form.message.errors.append(_("Please check your message and try again."))
        else:
            db.session.commit()
            flash(_("Thank you. We have your message and will answer you soon."), "info")
            return redirect(url_for(".parcel", token=token, lang=lang, _anchor="contact"))
    return _render_contact(shipment, token, form), 400


@bp.app_template_global()
def contact_section(shipment: Shipment) -> dict | None:
    """What the parcel page's "Contact us" section shows: the cases and an empty form; None unless verified."""
    if not is_verified(shipment):
        return None
    form = ContactForm.for_shipment(shipment, formdata=None)
    return {"cases": shipment_cases(shipment), "form": form, "no_address": _no_address_words(shipment)}


@bp.app_template_global()
def case_status_words(case: SupportCase) -> str:
    """Where the customer's case stands, in the page's language."""
    return str(CASE_STATUS_WORDS[case.status])


def _no_address_words(shipment: Shipment) -> str | None:
    if reply_channels(shipment):
        return None
    shop = db.session.get(Shop, shipment.shop_id)
    return _(
        "We have no email address or phone number to answer you on. Please contact %(shop)s.", shop=shop.name
    )


def _refused(token: str, title: str, message: str, status: int):
    return render_template("tracking/report_refused.html", title=title, message=message, token=token), status


def _render_contact(shipment: Shipment, token: str, form: ContactForm):
    return render_template(
        "tracking/contact.html",
        shipment=shipment,
        shop=db.session.get(Shop, shipment.shop_id),
        token=token,
        form=form,
        cases=shipment_cases(shipment),
    )
