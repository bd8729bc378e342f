"""The customer tracking page: by signed link or number + postcode; personal data after verification."""

from __future__ import annotations

import hmac
import re
from datetime import datetime, timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_date, format_time, format_timedelta, get_locale, refresh, to_user_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from marshmallow import ValidationError
from sqlalchemy import select
from wtforms import RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app.api.notification_schemas import PreferenceSchema
from app.claims.reports import report_options, shipment_claims
from app.extensions import db, limiter
from app.models import CustomerPreference, Shipment, Shop
from app.models.types import utcnow
from app.notify.enqueue import customer_zone
from app.notify.links import find_tracking_shipment, tracking_link_expired
from app.notify.preferences import IncompleteQuietHours, preference_view, save_preference
from app.notify.settings import shop_settings
from app.web.tracking_arrival import arrival_text, pickup_point
from carriers.model import Status
from carriers.numbers import normalise_number
from carriers.registry import DISPLAY_NAMES
from notifications.render import DEFAULT_LANGUAGE, LANGUAGES, LOCALES

bp = Blueprint("tracking", __name__)

LANGUAGE_NAMES = {"en": "English", "nb": "Norsk bokmål", "da": "Dansk", "th": "ไทย"}
VERIFIED_KEY = "tracking_verified"
MAX_VERIFIED = 20  # shipment ids remembered per browser session

STATUS_WORDS = {
    Status.PENDING: _l("The shop has registered your parcel"),
    Status.INFO_RECEIVED: _l("The carrier knows your parcel is coming"),
    Status.IN_TRANSIT: _l("Your parcel is on its way"),
    Status.OUT_FOR_DELIVERY: _l("Your parcel is out for delivery"),
    Status.FAILED_ATTEMPT: _l("The carrier tried to deliver, but could not"),
    Status.AVAILABLE_FOR_PICKUP: _l("Your parcel is ready for pickup"),
    Status.DELIVERED: _l("Your parcel has been delivered"),
    Status.EXCEPTION: _l("There is a problem with the delivery"),
    Status.RETURNING: _l("Your parcel is on its way back to the sender"),
    Status.RETURNED: _l("Your parcel was returned to the sender"),
    Status.CANCELLED: _l("The shipment was cancelled"),
    Status.EXPIRED: _l("This parcel is no longer tracked"),
    Status.UNKNOWN: _l("We do not know the status yet"),
}
MILESTONES = (_l("Registered"), _l("On its way"), _l("Out for delivery"), _l("Delivered"))
PICKUP_MILESTONE = _l("Ready for pickup")
STAGE = {
    Status.PENDING: 0,
    Status.INFO_RECEIVED: 0,
    Status.UNKNOWN: 0,
    Status.IN_TRANSIT: 1,
    Status.EXCEPTION: 1,
    Status.FAILED_ATTEMPT: 2,
    Status.OUT_FOR_DELIVERY: 2,
    Status.AVAILABLE_FOR_PICKUP: 3,
    Status.DELIVERED: 3,
}  # returning, returned, cancelled and expired have no progress bar
CHANNEL_CHOICES = {"email": ["email"], "sms": ["sms"], "email+sms": ["email", "sms"], "none": []}
FIELD_ERRORS = {
    "channels": _l("Choose one of the options."),
    "language": _l("Choose one of the languages."),
    "quiet_start": _l("Use a time like 21:00."),
    "quiet_end": _l("Use a time like 21:00."),
}


class VerifyForm(FlaskForm):
    postcode = StringField(_l("Delivery postcode"), validators=[DataRequired(), Length(max=16)])


class LookupForm(VerifyForm):
    tracking_number = StringField(_l("Tracking number"), validators=[DataRequired(), Length(max=64)])


class PreferenceForm(FlaskForm):
    # the shop API's PreferenceSchema decides what is valid, so WTForms does not check choices itself
    channels = RadioField(
        _l("Messages about this parcel"),
        choices=[
            SelectChoice("email", _l("Email")),
            SelectChoice("sms", _l("Text message (SMS)")),
            SelectChoice("email+sms", _l("Email and text message")),
            SelectChoice("none", _l("No messages")),
        ],
        validate_choice=False,
    )
    language = SelectField(
        _l("Language"),
        choices=[SelectChoice(code, name, render_kw={"lang": code}) for code, name in LANGUAGE_NAMES.items()],
        validate_choice=False,
    )
    quiet_start = StringField(_l("Quiet hours from"), render_kw={"type": "time"})
    quiet_end = StringField(_l("Quiet hours until"), render_kw={"type": "time"})


@bp.app_template_global()
def status_words_for(status: str) -> str:
    """The status in plain words, in the page's language."""
    return str(STATUS_WORDS.get(status, STATUS_WORDS[Status.UNKNOWN]))


@bp.context_processor
def _language_links() -> dict:
    endpoint = "tracking.parcel" if request.endpoint in {"tracking.verify", "tracking.preferences"} else None
    endpoint = endpoint or request.endpoint or "tracking.lookup"
    args = request.view_args or {}
    links = {code: (name, url_for(endpoint, **args, lang=code)) for code, name in LANGUAGE_NAMES.items()}
    return {"language_links": links}


def select_locale() -> str:
    """Flask-Babel's locale: the language `use_language` chose for this request (English elsewhere)."""
    return LOCALES[g.get("tracking_language", DEFAULT_LANGUAGE)]


def select_timezone() -> str:
    """Flask-Babel's time zone (a name, for pytz): the customer's, once a view found the shipment."""
    zone = g.get("tracking_zone")
    return zone.key if zone else "UTC"


def use_language(shipment: Shipment | None) -> str:
    """`?lang=` > the customer's chosen language > the shipment's language > Accept-Language > English."""
    candidates = [request.args.get("lang")]
    if shipment is not None:
        preference = db.session.get(CustomerPreference, shipment.id)
        candidates += [preference and preference.language, shipment.customer_language]
        g.tracking_zone = customer_zone(shipment)
    candidates.append(request.accept_languages.best_match(LANGUAGES))
    g.tracking_language = next((c for c in candidates if c in LANGUAGES), DEFAULT_LANGUAGE)
    refresh()  # Flask-Babel caches the locale per app context
    return g.tracking_language


def _shipment_for(token: str) -> Shipment:
    shipment = find_tracking_shipment(current_app.config, token)
    if shipment is None or shipment.deleted_at is not None:
        abort(404)
    # An old link alone no longer shows the parcel; a session that proved the postcode (the lookup) does.
    if tracking_link_expired(current_app.config, shipment) and not is_verified(shipment):
        use_language(shipment)
        abort(410)
    return shipment


def normalised_postcode(value: str | None) -> str:
    """Postcodes compared without spaces, dashes or case: `"sw1a 1aa"` == `"SW1A1AA"`."""
    return re.sub(r"[\s-]+", "", value or "").upper()


def postcode_matches(shipment: Shipment, postcode: str) -> bool:
    """True when `postcode` is the shipment's destination postcode (never for a shipment without one)."""
    expected = normalised_postcode(shipment.destination_postcode)
    return bool(expected) and hmac.compare_digest(expected.encode(), normalised_postcode(postcode).encode())


def is_verified(shipment: Shipment) -> bool:
    """True when this browser session proved it knows the shipment's destination postcode."""
    return shipment.id in session.get(VERIFIED_KEY, [])


def _remember(shipment: Shipment) -> None:
    verified = [i for i in session.get(VERIFIED_KEY, []) if i != shipment.id]
    session[VERIFIED_KEY] = [*verified, shipment.id][-MAX_VERIFIED:]


def find_shipment(tracking_number: str, postcode: str) -> Shipment | None:
    """The live shipment with this number whose destination postcode matches, newest first; else None."""
    raw = tracking_number.strip()
    numbers = {raw, normalise_number(raw)}
    candidates = db.session.scalars(
        select(Shipment)
        .where(Shipment.tracking_number.in_(numbers), Shipment.deleted_at.is_(None))
        .order_by(Shipment.id.desc())
    ).all()
    return next((s for s in candidates if postcode_matches(s, postcode)), None)


def _lookup_limit() -> str:
    return current_app.config["TRACKING_LOOKUP_RATE_LIMIT"]


def _verify_limit() -> str:
    return current_app.config["TRACKING_VERIFY_RATE_LIMIT"]


@bp.get("/t/<token>")
def parcel(token: str):
    """The parcel page; personal details and preferences only after postcode verification."""
    shipment = _shipment_for(token)
    use_language(shipment)
    return _render_parcel(shipment, token)


@bp.post("/t/<token>/verify")
@limiter.limit(_verify_limit)
def verify(token: str):
    """Check the destination postcode; on success this session sees the personal details."""
    shipment = _shipment_for(token)
    use_language(shipment)
    form = VerifyForm()
    if form.validate_on_submit() and postcode_matches(shipment, form.postcode.data):
        _remember(shipment)
        return redirect(url_for(".parcel", token=token, lang=request.args.get("lang")))
    return _render_parcel(shipment, token, verify_form=form, verify_failed=True), 400


@bp.route("/track", methods=["GET", "POST"])
@limiter.limit(_lookup_limit, methods=["POST"])
def lookup():
    """Find a parcel by tracking number + destination postcode; a wrong pair looks like an unknown number."""
    use_language(None)
    form = LookupForm()
    if request.method == "GET":
        return render_template("tracking/lookup.html", form=form)
    if form.validate_on_submit():
        shipment = find_shipment(form.tracking_number.data, form.postcode.data)
        if shipment is not None:
            _remember(shipment)
            return redirect(
                url_for(
                    ".parcel",
                    token=shipment.link_token,
                    lang=request.args.get("lang"),
                )
            )
    return render_template("tracking/lookup.html", form=form, not_found=True), 404


@bp.post("/t/<token>/preferences")
def preferences(token: str):
    """Save the customer's channels, language and quiet hours through the shop API's validation."""
    shipment = _shipment_for(token)
    use_language(shipment)
    if not is_verified(shipment):
        abort(403)
    form = PreferenceForm()
    if form.validate_on_submit():
        data = {
            "channels": CHANNEL_CHOICES.get(form.channels.data or "", [form.channels.data]),
            "language": form.language.data,
            "quiet_start": form.quiet_start.data or None,
            "quiet_end": form.quiet_end.data or None,
        }
        try:
            save_preference(shipment, PreferenceSchema().load(data))
        except ValidationError as exc:
            for name in exc.messages:
                getattr(form, name).errors.append(FIELD_ERRORS[name])
        except IncompleteQuietHours:
            form.quiet_end.errors.append(_("Give both the start and the end of the quiet hours, or neither."))
        else:
            db.session.commit()
            use_language(shipment)
            flash(_("Your choices are saved."), "info")
            return redirect(url_for(".parcel", token=token))
    return _render_parcel(shipment, token, preference_form=form), 400


@bp.errorhandler(404)
def not_found(error):
    """A bad, tampered or expired tracking link: a friendly page in the visitor's language."""
    use_language(None)
    return render_template(
        "tracking/message.html",
        title=_("Parcel not found"),
        message=_(
            "This tracking link is not valid any more. Check the link in your message, "
            "or look your parcel up with its tracking number and postcode."
        ),
    ), 404


@bp.errorhandler(410)
def link_expired(error):
    """An expired tracking link: the number + postcode lookup, in the customer's language."""
    if "tracking_language" not in g:
        use_language(None)
    return render_template("tracking/expired.html", form=LookupForm(formdata=None)), 410


@bp.errorhandler(429)
def too_many(error):
    """Too many lookups or verifications from this address."""
    use_language(None)
    message = _("You have tried many times in a short while. Please wait a minute and try again.")
    return render_template("tracking/message.html", title=_("Too many attempts"), message=message), 429


def _render_parcel(shipment: Shipment, token: str, **forms):
    verified = is_verified(shipment)
    if verified and "preference_form" not in forms:
        forms["preference_form"] = _preference_form(shipment)
    forms.setdefault("verify_form", VerifyForm(formdata=None))
    shop = db.session.get(Shop, shipment.shop_id)
    now = utcnow()
    return render_template(
        "tracking/parcel.html",
        shipment=shipment,
        shop=shop,
        token=token,
        verified=verified,
        status_words=status_words_for(shipment.status),
        steps=progress_steps(shipment.status),
        carrier=DISPLAY_NAMES.get(shipment.carrier, shipment.carrier),
        arrival=arrival_text(shipment, g.tracking_language, g.tracking_zone, now),
        pickup=pickup_point(shipment, g.tracking_language, now),
        checked=_freshness(shipment.last_checked_at),
        events=[(_when(e.occurred_at), e) for e in reversed(shipment.events)],
        country=get_locale().territories.get(
            shipment.destination_country or "", shipment.destination_country
        ),
        delivered=_when(shipment.delivered_at) if shipment.delivered_at else None,
        zone=g.tracking_zone.key,
        claims=shipment_claims(shipment) if verified else [],
        report_options=report_options(shipment) if verified else None,
        **forms,
    )


def _preference_form(shipment: Shipment) -> PreferenceForm:
    current = preference_view(shipment)
    channels = current["channels"]
    if channels is None:
        channels = shop_settings(shipment.shop_id).channels
    choice = next((k for k, v in CHANNEL_CHOICES.items() if sorted(v) == sorted(channels)), "email")
    return PreferenceForm(
        formdata=None,
        channels=choice,
        language=current["language"] or g.tracking_language,
        quiet_start=current["quiet_start"] or "",
        quiet_end=current["quiet_end"] or "",
    )


def progress_steps(status: str) -> list[dict] | None:
    """The progress bar's milestones; None for parcels leaving the delivery path (returns, cancelled, expired)."""
    stage = STAGE.get(status)
    if stage is None:
        return None
    labels = list(MILESTONES)
    if status == Status.AVAILABLE_FOR_PICKUP:
        labels[3] = PICKUP_MILESTONE
    states = ["done" if i < stage else "current" if i == stage else "todo" for i in range(len(labels))]
    if status == Status.DELIVERED:
        states[3] = "done"
    return [{"label": label, "state": state} for label, state in zip(labels, states, strict=True)]


def _when(moment: datetime) -> str:
    if g.tracking_language == "th":  # Thai readers count years in the Buddhist era (Babel shows AD)
        day = format_date(moment, f"d MMM '{to_user_timezone(moment).year + 543}'")
        return f"{day} {format_time(moment, 'short')}"
    return f"{format_date(moment, 'medium')} {format_time(moment, 'short')}"


def _freshness(checked_at: datetime | None) -> str:
    if checked_at is None:
        return _("The carrier has not been asked yet.")
    ago = format_timedelta(min(checked_at - utcnow(), timedelta(0)), add_direction=True)
    return _("Last checked %(ago)s.", ago=ago)
