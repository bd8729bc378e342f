"""The customer tracking page: by signed link or number + postcode; personal data after verification."""

from __future__ import annotations

import functools
import hmac
import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from babel import dates
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
from flask_babel import format_timedelta, get_locale, refresh
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from marshmallow import ValidationError
from sqlalchemy import Row, bindparam, select
from wtforms import RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app.api.notification_schemas import PreferenceSchema
from app.claims.reports import report_options, shipment_claims
from app.extensions import db, limiter
from app.faq.choose import parcel_questions
from app.models import (
    CustomerPreference,
    Shipment,
    Shop,
    ShopBranding,
    ShopNotificationSettings,
    TrackingEvent,
)
from app.models.types import utcnow
from app.notify.enqueue import customer_zone
from app.notify.links import find_tracking_shipment, tracking_link_expired
from app.notify.preferences import IncompleteQuietHours, save_preference
from app.notify.settings import default_settings
from app.web.tracking_arrival import arrival_text, pickup_view
from app.web.tracking_changes import what_changed
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
MAX_FRAGMENTS = 2048  # cached form bodies per process (a few kB each)
_FRAGMENTS: dict[tuple, Markup] = {}
_PARCEL_ROWS = (
    select(Shop, ShopBranding, ShopNotificationSettings, CustomerPreference)
    .outerjoin(ShopBranding, ShopBranding.shop_id == Shop.id)
    .outerjoin(ShopNotificationSettings, ShopNotificationSettings.shop_id == Shop.id)
    .outerjoin(CustomerPreference, CustomerPreference.shipment_id == bindparam("shipment_id"))
    .where(Shop.id == bindparam("shop_id"))
)
# the timeline's columns only (rows, not entities), in the relationship's order
_EVENTS = (
    select(TrackingEvent.occurred_at, TrackingEvent.status, TrackingEvent.description, TrackingEvent.location)
    .where(TrackingEvent.shipment_id == bindparam("shipment_id"))
    .order_by(TrackingEvent.occurred_at)
)
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


@bp.app_template_global()
def cached_fragment(*key: Hashable, caller: Callable[[], str], cache: bool = True) -> Markup:
    """What the `{% call %}` block renders, kept per process for `key` and the page's language: an empty
    form's fields render the same for the same values, and WTForms' rendering costs more than the rest of
    the page. `cache=False` (a form with errors) renders every time."""
    if not cache:
        return Markup(caller())
    full_key = (g.get("tracking_language"), *key)
    fragment = _FRAGMENTS.get(full_key)
    if fragment is None:
        if len(_FRAGMENTS) >= MAX_FRAGMENTS:
            _FRAGMENTS.clear()
        fragment = _FRAGMENTS[full_key] = Markup(caller())
    return fragment


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


@dataclass(frozen=True)
class ParcelRows:
    """What the parcel pages read besides the shipment, loaded together; holding the rows keeps them in the
    session's identity map, so later `session.get` calls for them (the layout's branding) read no row."""

    shop: Shop
    branding: ShopBranding | None
    settings: ShopNotificationSettings | None
    preference: CustomerPreference | None


def load_parcel_rows(shipment: Shipment) -> ParcelRows:
    """The shipment's shop with its branding and notification settings, and the customer's preference."""
    parameters = {"shop_id": shipment.shop_id, "shipment_id": shipment.id}
    return ParcelRows(*db.session.execute(_PARCEL_ROWS, parameters).one())


def use_language(shipment: Shipment | None) -> str:
    """`?lang=` > the customer's chosen language > the shipment's language > Accept-Language > English."""
    candidates = [request.args.get("lang")]
    if shipment is not None:
        rows = g.tracking_rows = load_parcel_rows(shipment)
        candidates += [rows.preference and rows.preference.language, shipment.customer_language]
        g.tracking_zone = customer_zone(shipment, rows.shop)
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
    verified, rows = is_verified(shipment), g.tracking_rows
    if verified and "preference_form" not in forms:
        forms["preference_form"] = _preference_form(shipment, rows)
    if not verified:  # the verified page has no postcode form
        forms.setdefault("verify_form", VerifyForm(formdata=None))
    now = utcnow()
    language, zone = g.tracking_language, g.tracking_zone
    arrival = arrival_text(shipment, language, zone, now)
    shown = arrival is not None and arrival.when is not None
    return render_template(
        "tracking/parcel.html",
        shipment=shipment,
        shop=rows.shop,
        token=token,
        verified=verified,
        status_words=status_words_for(shipment.status),
        steps=progress_steps(shipment.status),
        carrier=DISPLAY_NAMES.get(shipment.carrier, shipment.carrier),
        arrival=arrival,
        changed=what_changed(shipment, language, zone, now, shown=shown),
        pickup=pickup_view(
            shipment,
            language,
            now,
            reveal=lambda point: verified or not postcode_matches(shipment, point.postcode),
        ),
        checked=_freshness(shipment.last_checked_at),
        events=[(_when(e.occurred_at, language, zone), e) for e in reversed(_timeline(shipment))],
        country=get_locale().territories.get(
            shipment.destination_country or "", shipment.destination_country
        ),
        delivered=_when(shipment.delivered_at, language, zone) if shipment.delivered_at else None,
        zone=zone.key,
        claims=shipment_claims(shipment) if verified else [],
        report_options=report_options(shipment) if verified else None,
        faq=parcel_questions(shipment, language),
        **forms,
    )


def _timeline(shipment: Shipment) -> Sequence[Row]:
    return db.session.execute(_EVENTS, {"shipment_id": shipment.id}).all()


def _preference_form(shipment: Shipment, rows: ParcelRows) -> PreferenceForm:
    current = rows.preference or CustomerPreference()
    channels = current.channels
    if channels is None:
        channels = (rows.settings or default_settings(shipment.shop_id)).channels
    choice = next((k for k, v in CHANNEL_CHOICES.items() if sorted(v) == sorted(channels)), "email")
    return PreferenceForm(
        formdata=None,
        channels=choice,
        language=current.language or g.tracking_language,
        quiet_start=current.quiet_start.strftime("%H:%M") if current.quiet_start else "",
        quiet_end=current.quiet_end.strftime("%H:%M") if current.quiet_end else "",
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


@functools.lru_cache(maxsize=4096)  # a parcel's scan times read the same on every visit
def _when(moment: datetime, language: str, zone: ZoneInfo) -> str:
    # Babel directly: Flask-Babel resolves the locale and the zone again for every call
    locale = LOCALES[language]
    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone)
    # Thai readers count years in the Buddhist era (Babel shows AD)
    pattern = f"d MMM '{local.year + 543}'" if language == "th" else "medium"
    return f"{dates.format_date(local, pattern, locale=locale)} {dates.format_time(local, 'short', locale=locale)}"


def _freshness(checked_at: datetime | None) -> str:
    if checked_at is None:
        return _("The carrier has not been asked yet.")
    ago = format_timedelta(min(checked_at - utcnow(), timedelta(0)), add_direction=True)
    return _("Last checked %(ago)s.", ago=ago)
