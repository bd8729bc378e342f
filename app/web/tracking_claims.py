"""The tracking page's "Report a problem" (after postcode verification) and the words it uses for the
shipment's claims. The routes join the tracking blueprint, so its language, error and rate-limit pages apply."""

from __future__ import annotations

from babel.units import format_unit
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import format_date, get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from app.claims.evidence import IMAGE_TYPES, Upload, sniff
from app.claims.reports import PHOTO_REQUIRED, ReportOptions, reply_channels, report_options, report_problem
from app.errors import Conflict, InvalidInput
from app.extensions import db, limiter
from app.models import Claim, ClaimKind, ClaimState, RemedyKind, Shipment, Shop
from app.notify.links import find_tracking_shipment
from app.web.tracking import VERIFIED_KEY, _shipment_for, bp, is_verified, use_language

STATEMENT_MAX = 2000
FORM_ALLOWANCE = 64 * 1024  # the statement, the choices and the multipart framing around the photos

REPORT_CHOICES = {
    ClaimKind.NOT_RECEIVED: _l("It says delivered, but I have not received the parcel"),
    ClaimKind.DAMAGED: _l("The parcel or what is inside is damaged"),
    ClaimKind.MISSING_CONTENTS: _l("Something is missing from the parcel"),
    ClaimKind.WRONG_ITEM: _l("I received the wrong item"),
}
KIND_WORDS = {
    ClaimKind.LOST: _l("Lost parcel"),
    ClaimKind.DAMAGED: _l("Damaged parcel"),
    ClaimKind.MISSING_CONTENTS: _l("Missing contents"),
    ClaimKind.WRONG_ITEM: _l("Wrong item"),
    ClaimKind.REFUSED: _l("Parcel refused"),
    ClaimKind.RETURNED: _l("Parcel returned to the sender"),
    ClaimKind.FAILED_DELIVERY: _l("Delivery failed"),
    ClaimKind.NOT_RECEIVED: _l("Delivered, but not received"),
}
CHANNEL_WORDS = {"email": _l("Email"), "sms": _l("Text message (SMS)")}
# Where a claim stands; `opened` names the case and `closed` names the remedy (see claim_state_words).
_WITH_CARRIER = _l("Sent to the carrier.")
_ANSWERED = _l("The carrier has answered.")
STATE_WORDS = {
    ClaimState.CLASSIFIED: _l("We are looking into your case."),
    ClaimState.REMEDY_DECIDED: _l("We have decided how to put it right."),
    ClaimState.SUBMITTED: _WITH_CARRIER,
    ClaimState.IN_REVIEW: _WITH_CARRIER,
    ClaimState.NEEDS_INFORMATION: _l("The carrier has asked for more information."),
    ClaimState.APPROVED: _ANSWERED,
    ClaimState.PARTIALLY_APPROVED: _ANSWERED,
    ClaimState.DENIED: _ANSWERED,
    ClaimState.CANCELLED: _l("Closed: your parcel turned up."),
}
_REVIEWING_NEXT = _l(
    "You do not need to contact the carrier yourself. We will tell you when anything changes."
)
_WAITING_NEXT = _l("We are waiting for the carrier's answer and will tell you as soon as we have it.")
_FINISHING_NEXT = _l("We are finishing your case and will tell you the outcome.")
NEXT_WORDS = {
    ClaimState.OPENED: _REVIEWING_NEXT,
    ClaimState.CLASSIFIED: _REVIEWING_NEXT,
    ClaimState.REMEDY_DECIDED: _l("We will send you the details shortly."),
    ClaimState.SUBMITTED: _WAITING_NEXT,
    ClaimState.IN_REVIEW: _WAITING_NEXT,
    ClaimState.NEEDS_INFORMATION: _l("We will contact you if we need anything from you."),
    ClaimState.APPROVED: _FINISHING_NEXT,
    ClaimState.PARTIALLY_APPROVED: _FINISHING_NEXT,
    ClaimState.DENIED: _FINISHING_NEXT,
    ClaimState.CLOSED: _l("Your case is closed. Thank you for your patience."),
    ClaimState.CANCELLED: _l("There is nothing more to do."),
}
RESOLVED_WORDS = {
    RemedyKind.REFUND: _l("Resolved: refund."),
    RemedyKind.RESHIP: _l("Resolved: we are sending a new parcel."),
    RemedyKind.STORE_CREDIT: _l("Resolved: store credit."),
    RemedyKind.COMPENSATION: _l("Resolved: compensation."),
    RemedyKind.NONE: _l("Resolved: no refund or replacement."),
}


def _report_limit() -> str:
    return current_app.config["CLAIM_REPORT_RATE_LIMIT"]


def _tidy_statement(value: str | None) -> str | None:
    return value.replace("\r\n", "\n").strip() if value else value


def _display_name(filename: str) -> str:
    return filename.replace("\\", "/").rsplit("/", 1)[-1][:100]


def size_words(size: int) -> str:
    """A byte count in the page's language: `5 MB`, `64 kB`."""
    if size >= 1024 * 1024:
        return format_unit(round(size / 1024 / 1024, 1), "digital-megabyte", "short", locale=get_locale())
    return format_unit(round(size / 1024, 1), "digital-kilobyte", "short", locale=get_locale())


class ReportForm(FlaskForm):
    """What went wrong, in the customer's words, with photos and how to answer them."""

    # choices depend on the shipment (for_shipment); the validators below say what is valid
    kind = RadioField(_l("What happened?"), validate_choice=False)
    statement = TextAreaField(
        _l("Tell us what happened"),
        filters=[_tidy_statement],
        validators=[
            DataRequired(message=_l("Please tell us briefly what happened.")),
            Length(max=STATEMENT_MAX, message=_l("Please keep it to %(max)d characters or fewer.")),
        ],
    )
    photos = MultipleFileField(_l("Photos"))
    reply_channel = RadioField(_l("How should we contact you about this case?"), validate_choice=False)

    uploads: list[Upload]

    @classmethod
    def for_shipment(cls, shipment: Shipment, options: ReportOptions) -> ReportForm:
        """The form with the kinds on offer and the shipment's channels as choices."""
        form = cls()
        form.kind.choices = [SelectChoice(kind.value, REPORT_CHOICES[kind]) for kind in options.kinds]
        channels = reply_channels(shipment)
        form.reply_channel.choices = [SelectChoice(c, CHANNEL_WORDS[c]) for c in channels]
        if channels and not form.is_submitted():
            form.reply_channel.data = channels[0]
        form.uploads = []
        return form

    def validate_kind(self, field: RadioField) -> None:
        if field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(_("Choose one of the options."))

    def validate_reply_channel(self, field: RadioField) -> None:
        if field.choices and field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(_("Choose one of the options."))

    def validate_photos(self, field: MultipleFileField) -> None:
        """Count, size and content of each photo, with a message that names the file."""
        files = [f for f in field.data or [] if f]
        config = current_app.config
        most, limit = config["CLAIM_REPORT_MAX_FILES"], config["CLAIM_REPORT_MAX_FILE_BYTES"]
        if len(files) > most:
            raise ValidationError(
                ngettext("You can add at most %(num)d photo.", "You can add at most %(num)d photos.", most)
            )
        uploads = []
        for file in files:
            name = _display_name(file.filename)
            data = file.stream.read(limit + 1)
            if not data:
                raise ValidationError(_("%(name)s is empty.", name=name))
            if len(data) > limit:
                raise ValidationError(
                    _(
                        "%(name)s is too large: each photo can be at most %(size)s.",
                        name=name,
                        size=size_words(limit),
                    )
                )
            upload = Upload(name, data)
            try:
                sniff(upload)
            except InvalidInput:
                raise ValidationError(
                    _(
                        "%(name)s is not a photo we can use. Please choose JPEG, PNG, WebP or GIF pictures.",
                        name=name,
                    )
                ) from None
            uploads.append(upload)
        if not uploads and self.kind.data in PHOTO_REQUIRED:
            raise ValidationError(_("Please add at least one photo that shows the problem."))
        self.uploads = uploads


@bp.url_value_preprocessor
def _allow_photo_uploads(endpoint: str | None, values: dict | None) -> None:
    # URL value preprocessors run before every before_request hook, and CSRFProtect's hook parses the body:
    # this is the last moment to raise the 5 MB limit, and only a verified session gets the larger one.
    if endpoint != "tracking.report" or request.method != "POST" or not values:
        return
    shipment = find_tracking_shipment(current_app.config, values.get("token", ""))
    if shipment is not None and shipment.id in session.get(VERIFIED_KEY, []):
        request.max_content_length = report_body_limit()


def report_body_limit() -> int:
    """The largest report a verified customer may send: every photo at its largest, plus the form."""
    config = current_app.config
    return config["CLAIM_REPORT_MAX_FILES"] * config["CLAIM_REPORT_MAX_FILE_BYTES"] + FORM_ALLOWANCE


@bp.route("/t/<token>/report", methods=["GET", "POST"])
@limiter.limit(_report_limit, methods=["POST"])
def report(token: str):
    """Report a problem with a delivered parcel; only a session that verified the postcode may."""
    shipment = _shipment_for(token)
    use_language(shipment)
    lang = request.args.get("lang")
    if not is_verified(shipment):
        if request.method == "POST":
            return _refused(
                token,
                _("Please confirm the postcode first"),
                _(
                    "Only the recipient can report a problem. Enter the delivery postcode on the parcel page first."
                ),
                403,
            )
        flash(_("Enter the delivery postcode first, then you can report a problem."), "info")
        return redirect(url_for(".parcel", token=token, lang=lang, _anchor="verify-heading"))
    options = report_options(shipment)
    form = ReportForm.for_shipment(shipment, options)
    if request.method == "GET":
        return _render_report(shipment, token, form, options)
    if form.validate_on_submit():
        try:
            claim = report_problem(
                shipment,
                ClaimKind(form.kind.data),
                statement=form.statement.data,
                uploads=form.uploads,
                reply_channel=form.reply_channel.data if form.reply_channel.choices else None,
            )
        except Conflict as conflict:
            db.session.rollback()
            reference = conflict.details.get("reference")
            flash(
                _(
                    "You have already reported this. Case %(reference)s is open; you can follow it below.",
                    reference=reference,
                ),
                "info",
            )
            return redirect(url_for(".parcel", token=token, lang=lang, _anchor="claims"))
        except InvalidInput:
            db.session.rollback()
            form.kind.errors.append(_("Please check your report and try again."))
        else:
            db.session.commit()
            flash(
                _(
                    "Thank you. We have opened case %(reference)s and will keep you updated.",
                    reference=claim.reference,
                ),
                "info",
            )
            return redirect(url_for(".parcel", token=token, lang=lang, _anchor="claims"))
    return _render_report(shipment, token, form, options), 400


@bp.errorhandler(413)
def too_large(error):
    """A body above the route's limit: a friendly page instead of a bare 413."""
    token = (request.view_args or {}).get("token")
    shipment = find_tracking_shipment(current_app.config, token) if token else None
    if shipment is not None and shipment.deleted_at is not None:
        shipment = None
    use_language(shipment)
    if shipment is not None and request.endpoint == "tracking.report" and is_verified(shipment):
        message = _(
            "Together, the photos can be at most %(size)s. Please choose fewer or smaller photos and try again.",
            size=size_words(report_body_limit() - FORM_ALLOWANCE),
        )
    else:
        message = _("What you sent is too large. Please try again with less.")
    return _refused(token if shipment else None, _("Too large to send"), message, 413)


def _refused(token: str | None, title: str, message: str, status: int):
    return render_template("tracking/report_refused.html", title=title, message=message, token=token), status


def _render_report(shipment: Shipment, token: str, form: ReportForm, options: ReportOptions):
    config = current_app.config
    return render_template(
        "tracking/report.html",
        shipment=shipment,
        shop=db.session.get(Shop, shipment.shop_id),
        token=token,
        form=form,
        options=options,
        not_received_from=format_date(options.not_received_from, "full")
        if options.not_received_from
        else None,
        max_files=config["CLAIM_REPORT_MAX_FILES"],
        max_size=size_words(config["CLAIM_REPORT_MAX_FILE_BYTES"]),
        accept=",".join(IMAGE_TYPES.values()),
        resend_photos=bool(form.errors and form.photos.data),
    )


@bp.app_template_global()
def claim_kind_words(kind: str) -> str:
    """The claim's kind in plain words, in the page's language."""
    return str(KIND_WORDS.get(kind, kind))


@bp.app_template_global()
def claim_state_words(claim: Claim) -> str:
    """Where the claim stands, in the customer's words: "We have opened case C-…", "Resolved: refund."."""
    if claim.state is ClaimState.OPENED:
        return _("We have opened case %(reference)s.", reference=claim.reference)
    if claim.state is ClaimState.CLOSED:
        return str(RESOLVED_WORDS[claim.remedy_kind or RemedyKind.NONE])
    return str(STATE_WORDS[claim.state])


@bp.app_template_global()
def claim_next_words(claim: Claim) -> str:
    """What happens next with the claim."""
    return str(NEXT_WORDS[claim.state])


@bp.app_template_global()
def channel_words(channel: str | None) -> str | None:
    """ "Email" or "Text message (SMS)" in the page's language; None for no channel."""
    return str(CHANNEL_WORDS[channel]) if channel in CHANNEL_WORDS else None
