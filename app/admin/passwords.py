"""The password policy for staff accounts set by admins."""

from __future__ import annotations

from app.admin.errors import AdminError

MIN_LENGTH = 12
MAX_LENGTH = 200
# The most common choices that pass the length rule (from the published breach top lists), lower case.
COMMON_PASSWORDS = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678901234",
        "123456789abc",
        "1q2w3e4r5t6y",
        "aaaaaaaaaaaa",
        "abc123456789",
        "abcdefghijkl",
        "administrator",
        "correcthorsebatterystaple",
        "correct horse battery staple",
        "iloveyou1234",
        "letmein12345",
        "passwordpassword",
        "password1234",
        "password12345",
        "password123456",
        "password1234!",
        "qwertyuiop12",
        "qwertyuiopasdf",
        "qwerty123456",
        "qwertyqwerty",
        "trustno1trustno1",
        "welcome12345",
        "welcome123456",
        "zaq12wsxcde3",
        "leveranse123",
        "leveranse1234",
        "sommer2024!!",
        "passord12345",
        "passord123456",
    }
)


def check_password_policy(password: str, email: str) -> None:
    """Refuse (AdminError) a password shorter than MIN_LENGTH, equal to or containing the email, or common."""
    if len(password) < MIN_LENGTH:
        raise AdminError(f"The password needs at least {MIN_LENGTH} characters.", "password")
    if len(password) > MAX_LENGTH:
        raise AdminError(f"The password may have at most {MAX_LENGTH} characters.", "password")
    lowered, address = password.strip().lower(), email.strip().lower()
    local_part = address.partition("@")[0]
    if address and (address in lowered or (len(local_part) >= 4 and lowered == local_part)):
        raise AdminError("The password must not be the email address.", "password")
    if lowered in COMMON_PASSWORDS or len(set(lowered)) <= 2:
        raise AdminError("That password is too common; choose another.", "password")
