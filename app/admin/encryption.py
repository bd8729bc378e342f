"""Secrets kept in the database (carrier credentials, staff TOTP secrets), encrypted at rest with Fernet
under the one key in LEVERANSE_CREDENTIALS_KEY (`Config.CREDENTIALS_KEY`)."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

KEY_VARIABLE = "LEVERANSE_CREDENTIALS_KEY"
# Every Fernet token starts with its version byte 0x80, base64 "gA"; a base32 TOTP secret never does.
TOKEN_PREFIX = "gAAAAA"


class EncryptionKeyError(Exception):
    """The key is missing, not a Fernet key, or not the one a stored secret was encrypted with."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def fernet(key: str) -> Fernet:
    """The Fernet of `key`; EncryptionKeyError when it is empty or malformed."""
    if not key:
        raise EncryptionKeyError(
            f"{KEY_VARIABLE} is not set: carrier credentials and TOTP secrets in the database cannot be "
            "encrypted or read. Generate one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        )
    try:
        return Fernet(key.encode())
    except ValueError:
        raise EncryptionKeyError(
            f"{KEY_VARIABLE} is not a Fernet key (urlsafe base64 of 32 bytes)."
        ) from None


def encrypt(plaintext: str, key: str) -> str:
    """`plaintext` as a Fernet token (text)."""
    return fernet(key).encrypt(plaintext.encode()).decode()


def decrypt(token: str, key: str, what: str) -> str:
    """The plaintext of a token from `encrypt`; `what` names the secret in the error."""
    try:
        return fernet(key).decrypt(token.encode()).decode()
    except InvalidToken:
        raise EncryptionKeyError(
            f"The stored {what} do not decrypt with {KEY_VARIABLE}: the key was changed."
        ) from None


def is_encrypted(value: str) -> bool:
    """True for a Fernet token, False for a secret still stored as plaintext."""
    return value.startswith(TOKEN_PREFIX)
