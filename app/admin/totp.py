"""An optional second factor for staff: RFC 6238 TOTP codes from an authenticator app.

Enrolment stores a new secret and shows it (and its otpauth:// URI) once; the factor is on only after a
code from the app was verified, and from then on login asks for a code. A code is good for one use. The
secret is stored encrypted like carrier credentials (app/admin/encryption.py, LEVERANSE_CREDENTIALS_KEY).
"""

from __future__ import annotations

import logging
import time

import pyotp
from flask import current_app

from app.admin.encryption import EncryptionKeyError, decrypt, encrypt
from app.admin.errors import AdminError
from app.models import StaffUser
from app.models.types import utcnow

ISSUER = "Leveranse"
VALID_WINDOW = 1  # one 30-second step either side: clocks of phones drift
log = logging.getLogger(__name__)


def _key() -> str:
    return current_app.config["CREDENTIALS_KEY"]


def secret_of(user: StaffUser) -> str:
    """The user's secret in plaintext; EncryptionKeyError without the key it was stored under."""
    return decrypt(user.totp_secret, _key(), "TOTP secret")


def begin_enrolment(user: StaffUser) -> str:
    """A fresh secret for `user` (replacing an unconfirmed one); the factor stays off until confirmed."""
    if user.totp_enabled_at is not None:
        raise AdminError("Two-factor login is already on; turn it off first to enrol a new app.")
    secret = pyotp.random_base32()
    try:
        user.totp_secret = encrypt(secret, _key())
    except EncryptionKeyError as exc:
        raise AdminError(exc.message) from None
    user.totp_last_step = None
    return secret


def provisioning_uri(user: StaffUser) -> str:
    """The otpauth:// URI of the user's secret (what a QR code would carry)."""
    return pyotp.TOTP(secret_of(user)).provisioning_uri(name=user.email, issuer_name=ISSUER)


def check_code(user: StaffUser, code: str, now: float | None = None) -> bool:
    """True when `code` is the user's current code and was not used before (then it is used up)."""
    code = "".join((code or "").split())
    if not user.totp_secret or not (code.isdigit() and len(code) == 6):
        return False
    try:
        totp = pyotp.TOTP(secret_of(user))
    except EncryptionKeyError as exc:
        # No code can be checked until the key is back; the login fails like a wrong code would.
        log.error("TOTP code of %s not checked: %s", user.email, exc.message)
        return False
    now = time.time() if now is None else now
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        moment = now + offset * totp.interval
        step = int(moment // totp.interval)
        if totp.verify(code, for_time=moment, valid_window=0):
            if user.totp_last_step is not None and step <= user.totp_last_step:
                return False  # replayed
            user.totp_last_step = step
            return True
    return False


def confirm_enrolment(user: StaffUser, code: str) -> None:
    """Turn the factor on once the app shows the right code."""
    if not user.totp_secret or user.totp_enabled_at is not None:
        raise AdminError("Start the enrolment first.")
    if not check_code(user, code):
        raise AdminError("That code is not right; check the app's clock and try the next code.", "code")
    user.totp_enabled_at = utcnow()


def disable(user: StaffUser) -> None:
    """Turn the factor off and forget the secret."""
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None


def required(user: StaffUser) -> bool:
    """True when login must ask `user` for a code."""
    return user.totp_enabled_at is not None and bool(user.totp_secret)
