"""Render a notification for a trigger in the customer's language and timezone.

`render(trigger, language, context)` returns the email subject, text and HTML bodies and the SMS text.
Templates live in `templates/<language>/<trigger>.j2` (one per trigger and language, written by
native speakers, not translated word for word) and `templates/<language>/_common.j2` (greeting,
sign-off, footer, phrase tables). Every email carries the tracking link and the unsubscribe link.

Context keys (datetimes must be timezone-aware; they are shown in `timezone`):

    always      shop_name, tracking_number, tracking_url, unsubscribe_url, timezone (IANA name)
    optional    customer_name, carrier (display name), order_reference
    shipped                 eta_start, eta_end (dates or datetimes, optional)
    out_for_delivery        eta_start, eta_end (datetimes, optional)
    arriving_soon           eta_start, eta_end (datetimes)
    delivered               delivered_at; delivery_location (optional, e.g. "in your mailbox")
    available_for_pickup    pickup_point (name); pickup_address, pickup_deadline (optional)
    pickup_reminder         pickup_point, pickup_deadline; pickup_address (optional)
    failed_attempt          attempted_at
    exception               reason (a carriers.model.Reason value; unknown ones read as "other")
    predicted_delay         eta_start, eta_end (the new ETA); previous_eta (optional)
    stuck                   last_event_at
    back_on_track           eta_start, eta_end (the ETA again within the promise)
    claim_opened            claim_reference, claim_reason (lost, damaged, delayed, returned, not_received)
    claim_updated           claim_reference, claim_state (classified, submitted, or anything else)
    claim_resolved          claim_reference, claim_resolution (refund, reship, compensation, denied);
                            claim_amount (Decimal) and currency (ISO 4217), optional
    delivery_survey         survey_url (also the email's button and the SMS link)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from babel.dates import format_date, format_time
from babel.numbers import format_currency
from markupsafe import Markup

from notifications.errors import RenderError
from notifications.model import Trigger
from notifications.sms_text import fits_sms, fold_typography, shorten_sms

LANGUAGES = ("en", "nb", "da", "th")
DEFAULT_LANGUAGE = "en"
LOCALES = {"en": "en_GB", "nb": "nb_NO", "da": "da_DK", "th": "th_TH"}
SMS_MAX_SEGMENTS = 2
_ALIASES = {"no": "nb", "nn": "nb", "nob": "nb", "dan": "da", "tha": "th", "eng": "en"}
_DAY_PATTERNS = {"en": "EEEE d MMMM", "nb": "EEEE d. MMMM", "da": "EEEE 'den' d. MMMM", "th": "EEEEที่ d MMMM"}
_SHORT_DAY_PATTERNS = {"en": "EEE d MMM", "nb": "EEEE d. MMMM", "da": "EEEE d/M", "th": "EEEEที่ d MMM"}
_COMMON_KEYS = ("shop_name", "tracking_number", "tracking_url", "unsubscribe_url", "timezone")
REQUIRED_KEYS: dict[Trigger, tuple[str, ...]] = {
    Trigger.SHIPPED: (),
    Trigger.OUT_FOR_DELIVERY: (),
    Trigger.ARRIVING_SOON: ("eta_start", "eta_end"),
    Trigger.DELIVERED: ("delivered_at",),
    Trigger.AVAILABLE_FOR_PICKUP: ("pickup_point",),
    Trigger.PICKUP_REMINDER: ("pickup_point", "pickup_deadline"),
    Trigger.FAILED_ATTEMPT: ("attempted_at",),
    Trigger.EXCEPTION: ("reason",),
    Trigger.PREDICTED_DELAY: ("eta_start", "eta_end"),
    Trigger.STUCK: ("last_event_at",),
    Trigger.BACK_ON_TRACK: ("eta_start", "eta_end"),
    Trigger.CLAIM_OPENED: ("claim_reference", "claim_reason"),
    Trigger.CLAIM_UPDATED: ("claim_reference", "claim_state"),
    Trigger.CLAIM_RESOLVED: ("claim_reference", "claim_resolution"),
    Trigger.DELIVERY_SURVEY: ("survey_url",),
}
_OPTIONAL_KEYS = (
    "customer_name",
    "carrier",
    "order_reference",
    "eta_start",
    "eta_end",
    "previous_eta",
    "delivered_at",
    "delivery_location",
    "pickup_point",
    "pickup_address",
    "pickup_deadline",
    "attempted_at",
    "reason",
    "last_event_at",
    "claim_reference",
    "claim_reason",
    "claim_state",
    "claim_resolution",
    "claim_amount",
    "currency",
    "survey_url",
)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r]*\n")
_LAYOUT_WHITESPACE = re.compile(r"[ \t\r\n]+")
_TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class RenderedMessage:
    """A notification ready for any channel; `fallback` is True when `language` replaced the one asked for."""

    subject: str
    text: str
    html: str
    sms: str
    language: str
    locale: str
    fallback: bool


def resolve_language(language: str) -> tuple[str, bool]:
    """Map a language tag (`nb-NO`, `no`, `da_DK`, `th`) to a supported language; (language, fell_back)."""
    primary = re.split(r"[-_]", (language or "").strip().lower())[0]
    primary = _ALIASES.get(primary, primary)
    if primary in LANGUAGES:
        return primary, False
    return DEFAULT_LANGUAGE, True


def render(trigger: str, language: str, context: Mapping[str, Any]) -> RenderedMessage:
    """Render `trigger` for the customer; RenderError on an unknown trigger or a missing/invalid key."""
    try:
        trig = Trigger(trigger)
    except ValueError:
        known = ", ".join(t.value for t in Trigger)
        raise RenderError(f"unknown trigger {trigger!r}; known triggers: {known}") from None
    lang, fallback = resolve_language(language)
    values = _prepare(trig, lang, context)
    action_url = values["survey_url"] if trig is Trigger.DELIVERY_SURVEY else values["tracking_url"]
    text_parts = _parts(_TEXT_ENV, lang, trig, values)
    html_parts = _parts(_HTML_ENV, lang, trig, values)
    layout = {"language": lang, "action_url": action_url, **values}
    text = _TEXT_ENV.get_template("email.txt.j2").render(**layout, **text_parts)
    html = _HTML_ENV.get_template("email.html.j2").render(**layout, **html_parts)
    return RenderedMessage(
        subject=_collapse(text_parts["subject"]),
        text=text.strip() + "\n",
        html=html,
        sms=_sms(text_parts, action_url),
        language=lang,
        locale=LOCALES[lang],
        fallback=fallback,
    )


def _prepare(trigger: Trigger, language: str, context: Mapping[str, Any]) -> dict[str, Any]:
    """Check the context for `trigger` and add the formatting state the filters read."""
    missing = [k for k in _COMMON_KEYS + REQUIRED_KEYS[trigger] if context.get(k) in (None, "")]
    if missing:
        raise RenderError(f"context for {trigger.value!r} is missing: {', '.join(missing)}")
    try:
        tz = ZoneInfo(str(context["timezone"]))
    except (ZoneInfoNotFoundError, ValueError):
        raise RenderError(f"unknown timezone {context['timezone']!r}") from None
    values: dict[str, Any] = dict.fromkeys(_OPTIONAL_KEYS)
    values.update(context)
    for key, value in values.items():
        if isinstance(value, datetime) and value.tzinfo is None:
            raise RenderError(f"context value {key!r} must be a timezone-aware datetime")
    for key in ("tracking_url", "unsubscribe_url", "survey_url"):
        if values[key] is not None and not str(values[key]).startswith(("https://", "http://")):
            raise RenderError(f"context value {key!r} must be an http(s) URL, got {values[key]!r}")
    if values["claim_amount"] is not None and not values.get("currency"):
        raise RenderError("context value 'claim_amount' needs a 'currency'")
    values["_tz"] = tz
    values["_language"] = language
    return values


def _parts(
    env: jinja2.Environment, language: str, trigger: Trigger, values: dict[str, Any]
) -> dict[str, Any]:
    """The pieces of one message (subject, greeting, paragraphs, ...) rendered by `env`."""
    common = env.get_template(f"{language}/_common.j2").make_module(values)
    specific = env.get_template(f"{language}/{trigger.value}.j2").make_module(values)
    pieces = {
        name: getattr(common, name) for name in ("greeting", "action", "signoff", "tracking_line", "footer")
    }
    pieces["unsubscribe"] = common.unsubscribe
    for name in ("subject", "body", "sms", "sms_short", "action"):
        if hasattr(specific, name):
            pieces[name] = getattr(specific, name)
    wrap = Markup if env.autoescape else str
    pieces = {name: wrap(_collapse(value)) if name != "body" else value for name, value in pieces.items()}
    pieces["paragraphs"] = [
        wrap(_collapse(p)) for p in _PARAGRAPH_BREAK.split(str(pieces.pop("body")).strip())
    ]
    return pieces


def _sms(parts: Mapping[str, str], link: str) -> str:
    """The SMS text plus link within SMS_MAX_SEGMENTS, preferring the short variant to cutting words."""
    suffix = " " + link
    full = fold_typography(parts["sms"])
    if "sms_short" in parts and not fits_sms(full + suffix, SMS_MAX_SEGMENTS):
        full = fold_typography(parts["sms_short"])
    try:
        return shorten_sms(full, suffix, SMS_MAX_SEGMENTS)
    except ValueError as exc:
        raise RenderError(f"SMS link {link!r} is too long for the SMS budget") from exc


def _collapse(value: str) -> str:
    # Only layout whitespace: Babel's no-break spaces ("499,50\xa0kr") must survive in emails.
    return _LAYOUT_WHITESPACE.sub(" ", str(value)).strip()


def _local(value: date | datetime, context: jinja2.runtime.Context) -> date | datetime:
    return value.astimezone(context["_tz"]) if isinstance(value, datetime) else value


@jinja2.pass_context
def _day(context: jinja2.runtime.Context, value: date | datetime) -> str:
    language = context["_language"]
    return format_date(_local(value, context), _DAY_PATTERNS[language], locale=LOCALES[language])


@jinja2.pass_context
def _short_day(context: jinja2.runtime.Context, value: date | datetime) -> str:
    language = context["_language"]
    return format_date(_local(value, context), _SHORT_DAY_PATTERNS[language], locale=LOCALES[language])


@jinja2.pass_context
def _time(context: jinja2.runtime.Context, value: datetime) -> str:
    if not isinstance(value, datetime):
        raise RenderError(f"a time of day needs a datetime, got {value!r}")
    return format_time(_local(value, context), "short", locale=LOCALES[context["_language"]])


@jinja2.pass_context
def _money(context: jinja2.runtime.Context, amount: Decimal | int | float, currency: str) -> str:
    return format_currency(amount, currency, locale=LOCALES[context["_language"]])


def _environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(day=_day, shortday=_short_day, time=_time, money=_money)
    return env


_TEXT_ENV = _environment(autoescape=False)
_HTML_ENV = _environment(autoescape=True)
