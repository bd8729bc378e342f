"""A shop's own settings as admins edit them: name, language, time zone, claims contact, survey link."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.admin.errors import AdminError
from app.extensions import db
from app.models import Shop
from app.notify.settings import shop_settings
from notifications.errors import InvalidRecipient
from notifications.recipients import validate_email
from notifications.render import LANGUAGES

SENDER_FIELDS = ("name", "street", "postcode", "city", "country")


@dataclass(frozen=True)
class ShopChanges:
    """The settings form's values (strings as typed; empty means "none" where a value is optional)."""

    name: str
    default_language: str
    default_timezone: str
    claims_email: str
    survey_url: str
    survey_delay_hours: int
    sender: dict[str, str]


def update_shop(shop: Shop, changes: ShopChanges) -> None:
    """Check every value, then store them all (AdminError naming the first bad field, nothing stored)."""
    name = changes.name.strip()
    if not name or len(name) > 200:
        raise AdminError("The shop needs a name of at most 200 characters.", "name")
    if changes.default_language not in LANGUAGES:
        raise AdminError(f"Choose one of {', '.join(LANGUAGES)}.", "default_language")
    try:
        zone = ZoneInfo(changes.default_timezone.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise AdminError(f"Unknown time zone {changes.default_timezone!r}.", "default_timezone") from None
    claims_email = None
    if changes.claims_email.strip():
        try:
            claims_email = validate_email(changes.claims_email.strip())
        except InvalidRecipient as exc:
            raise AdminError(f"Not a valid email address: {exc.message}", "claims_email") from None
    survey_url = changes.survey_url.strip() or None
    if survey_url and (not survey_url.startswith(("https://", "http://")) or len(survey_url) > 500):
        raise AdminError("The survey link must be an http(s) URL of at most 500 characters.", "survey_url")
    if not 1 <= changes.survey_delay_hours <= 24 * 14:
        raise AdminError("The survey is sent 1 to 336 hours after delivery.", "survey_delay_hours")
    sender = {key: changes.sender.get(key, "").strip()[:200] for key in SENDER_FIELDS}
    if sender["country"] and not (len(sender["country"]) == 2 and sender["country"].isalpha()):
        raise AdminError("The sender's country is a two-letter code such as NO.", "sender_country")

    shop.name, shop.default_language, shop.default_timezone = name, changes.default_language, zone.key
    shop.claims_email = claims_email
    shop.sender_address = (
        {k: v.upper() if k == "country" else v for k, v in sender.items()} if any(sender.values()) else None
    )
    settings = shop_settings(shop.id)
    settings.survey_url, settings.survey_delay_hours = survey_url, changes.survey_delay_hours
    db.session.add(settings)
    db.session.flush()
