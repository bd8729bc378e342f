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
    predicted_delay         eta_start, eta_end (the new ETA); previous_eta (optional); change_days,
                            change_cause, change_place (optional: how and why the estimate moved,
                            worded by `estimate_change` as on the tracking page)
    stuck                   last_event_at
    back_on_track           eta_start, eta_end (the ETA again within the promise); change_* (optional)
    claim_opened            claim_reference, claim_reason (lost, damaged, delayed, returned, not_received)
    claim_updated           claim_reference, claim_state (classified, submitted, or anything else)
    claim_resolved          claim_reference, claim_resolution (refund, reship, compensation, denied);
                            claim_amount (Decimal) and currency (ISO 4217), optional
    delivery_survey         survey_url (also the email's button and the SMS link)
    case_reply              case_reply (staff's answer to the customer's message, plain text)
"""

from __future__ import annotations

import functools
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
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from notifications.arrival import DAY_PATTERNS, describe_arrival
from notifications.change import describe_change
from notifications.errors import RenderError
from notifications.model import Trigger
from notifications.sms_text import fits_sms, fold_typography, shorten_sms

LANGUAGES = ("en", "nb", "da", "th")
DEFAULT_LANGUAGE = "en"
LOCALES = {"en": "en_GB", "nb": "nb_NO", "da": "da_DK", "th": "th_TH"}
SMS_MAX_SEGMENTS = 2
_ALIASES = {"no": "nb", "nn": "nb", "nob": "nb", "dan": "da", "tha": "th", "eng": "en"}
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
    Trigger.CASE_REPLY: ("case_reply",),
}
_OPTIONAL_KEYS = (
    "customer_name",
    "carrier",
    "order_reference",
    "eta_start",
    "eta_end",
    "previous_eta",
    "change_days",
    "change_cause",
    "change_place",
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
    "case_reply",
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


def render(
    trigger: str,
    language: str,
    context: Mapping[str, Any],
    overrides: Mapping[tuple[str, str], str] | None = None,
) -> RenderedMessage:
    """Render `trigger` for the customer; RenderError on an unknown trigger or a missing/invalid key.

    `overrides` are a shop's own texts by (trigger, language): one for this message and language replaces
    the file `<language>/<trigger>.j2`, rendered in a sandbox; it must set `subject`, `body` and `sms`.
    """
    try:
        trig = Trigger(trigger)
    except ValueError:
        known = ", ".join(t.value for t in Trigger)
        raise RenderError(f"unknown trigger {trigger!r}; known triggers: {known}") from None
    lang, fallback = resolve_language(language)
    values = _prepare(trig, lang, context)
    source = (overrides or {}).get((trig.value, lang))
    action_url = values["survey_url"] if trig is Trigger.DELIVERY_SURVEY else values["tracking_url"]
    text_parts = _parts(_TEXT_ENV, lang, trig, values, source)
    html_parts = _parts(_HTML_ENV, lang, trig, values, source)
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


def template_source(trigger: str, language: str) -> str:
    """The shipped template text of `trigger` in `language` (where a shop's own text starts from)."""
    return (_TEMPLATES / resolve_language(language)[0] / f"{Trigger(trigger).value}.j2").read_text("utf-8")


def _parts(
    env: jinja2.Environment,
    language: str,
    trigger: Trigger,
    values: dict[str, Any],
    source: str | None = None,
) -> dict[str, Any]:
    """The pieces of one message (subject, greeting, paragraphs, ...) rendered by `env`."""
    common = env.get_template(f"{language}/_common.j2").make_module(values)
    if source is None:
        specific = env.get_template(f"{language}/{trigger.value}.j2").make_module(values)
    else:
        specific = _shop_module(env.autoescape, source, values, f"{language}/{trigger.value}")
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


# What a shop's own template may get wrong at compile or render time; each becomes a RenderError.
_TEMPLATE_ERRORS = (jinja2.TemplateError, TypeError, ValueError, ArithmeticError, LookupError, AttributeError)


def _shop_module(autoescape: bool, source: str, values: dict[str, Any], name: str) -> Any:
    """A shop's template text rendered in the sandbox; RenderError saying what is wrong with it."""
    try:
        module = _sandboxed(autoescape, source).make_module(values)
    except RenderError:
        raise
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"{name}: line {exc.lineno}: {exc.message}") from None
    except _TEMPLATE_ERRORS as exc:
        raise RenderError(f"{name}: {exc}") from None
    missing = [part for part in ("subject", "body", "sms") if not hasattr(module, part)]
    if missing:
        raise RenderError(f"{name}: the template must set {', '.join(missing)} ({{% set subject %}}…)")
    return module


@functools.lru_cache(maxsize=256)
def _sandboxed(autoescape: bool, source: str) -> jinja2.Template:
    return (_SANDBOX_HTML_ENV if autoescape else _SANDBOX_TEXT_ENV).from_string(source)


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
    return format_date(_local(value, context), DAY_PATTERNS[language], locale=LOCALES[language])


@jinja2.pass_context
def _short_day(context: jinja2.runtime.Context, value: date | datetime) -> str:
    language = context["_language"]
    return format_date(_local(value, context), _SHORT_DAY_PATTERNS[language], locale=LOCALES[language])


@jinja2.pass_context
def _arrival_window(context: jinja2.runtime.Context, start: date | datetime, end: date | datetime) -> str:
    """The window as the tracking page words it, but with dated days: messages may be read days later."""
    locale = LOCALES[context["_language"]]
    return describe_arrival(start, end, locale=locale, zone=context["_tz"]).when


@jinja2.pass_context
def _estimate_change(
    context: jinja2.runtime.Context, days: int, cause: str | None = None, place: str | None = None
) -> str:
    """How the estimate moved, in the tracking page's words (never "today": messages are read later)."""
    return describe_change(days, locale=LOCALES[context["_language"]], cause=cause, place=place or "") or ""


@jinja2.pass_context
def _time(context: jinja2.runtime.Context, value: datetime) -> str:
    if not isinstance(value, datetime):
        raise RenderError(f"a time of day needs a datetime, got {value!r}")
    return format_time(_local(value, context), "short", locale=LOCALES[context["_language"]])


@jinja2.pass_context
def _money(context: jinja2.runtime.Context, amount: Decimal | int | float, currency: str) -> str:
    return format_currency(amount, currency, locale=LOCALES[context["_language"]])


def _environment(autoescape: bool, sandboxed: bool = False) -> jinja2.Environment:
    env = (ImmutableSandboxedEnvironment if sandboxed else jinja2.Environment)(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(day=_day, shortday=_short_day, time=_time, money=_money)
    env.globals["arrival_window"] = _arrival_window
    env.globals["estimate_change"] = _estimate_change
    return env


_TEXT_ENV = _environment(autoescape=False)
_HTML_ENV = _environment(autoescape=True)
# Shops' own texts (app/admin/message_templates.py): no attribute tricks, no mutation of the context.
_SANDBOX_TEXT_ENV = _environment(autoescape=False, sandboxed=True)
_SANDBOX_HTML_ENV = _environment(autoescape=True, sandboxed=True)
