"""Validation and normalisation of recipients: email addresses and mobile phone numbers."""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

from notifications.errors import InvalidRecipient

# RFC 5322 dot-atom local part, ASCII only: we do not rely on SMTPUTF8 support at the relay.
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_TLD = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}")
_SMS_CAPABLE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def validate_email(address: str) -> str:
    """Return the address with its domain lower-cased (and IDNA-encoded), or raise InvalidRecipient."""
    if not isinstance(address, str) or not address:
        raise InvalidRecipient("email address is empty")
    if address != address.strip() or any(c.isspace() for c in address):
        raise InvalidRecipient(f"email address {address!r} contains whitespace")
    if address.count("@") != 1:
        raise InvalidRecipient(f"email address {address!r} must contain exactly one '@'")
    local, domain = address.split("@")
    if not _LOCAL_PART.fullmatch(local):
        raise InvalidRecipient(f"email address {address!r} has an invalid part before '@'")
    if len(local) > 64:
        raise InvalidRecipient(f"email address {address!r}: the part before '@' exceeds 64 characters")
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidRecipient(f"email address {address!r} has an invalid domain") from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidRecipient(f"email address {address!r} has an invalid domain")
    if not _TLD.fullmatch(labels[-1]):
        raise InvalidRecipient(f"email address {address!r} has an invalid top-level domain")
    normalised = f"{local}@{ascii_domain}"
    if len(normalised) > 254:
        raise InvalidRecipient(f"email address {address!r} exceeds 254 characters")
    return normalised


def normalise_phone(number: str, default_region: str) -> str:
    """Return the mobile number in E.164 (`+4791234567`), or raise InvalidRecipient saying why."""
    try:
        parsed = phonenumbers.parse(number, default_region.upper())
    except NumberParseException as exc:
        raise InvalidRecipient(f"phone number {number!r} could not be read: {exc.args[0]}") from None
    if not phonenumbers.is_valid_number(parsed):
        region = phonenumbers.region_code_for_number(parsed) or default_region.upper()
        raise InvalidRecipient(f"phone number {number!r} is not a valid number for {region}")
    if phonenumbers.number_type(parsed) not in _SMS_CAPABLE:
        raise InvalidRecipient(f"phone number {number!r} is not a mobile number and cannot receive SMS")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
