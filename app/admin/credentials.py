"""Carrier credentials that admins store, encrypted at rest (app/admin/encryption.py) under CREDENTIALS_KEY.

Stored credentials of a carrier replace the environment's (LEVERANSE_<CARRIER>_…) for that carrier. Without
the key nothing can be stored, and a carrier with stored credentials refuses to start (CredentialsKeyError)
rather than silently fall back to other credentials.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import select

from app.admin.encryption import EncryptionKeyError, decrypt, encrypt
from app.admin.errors import AdminError
from app.extensions import db
from app.models import CarrierCredential
from carriers.errors import CarrierAuthError

CREDENTIAL_FIELDS = ("api_uid", "api_key", "client_id", "client_secret")


class CredentialsKeyError(CarrierAuthError):
    """The credentials key is missing or not the one the stored credentials were encrypted with."""

    kind = "credentials_key"


@dataclass(frozen=True)
class CarrierCredentialStatus:
    """Where one carrier's credentials come from, and which names are set (never their values)."""

    carrier: str
    source: str  # "database", "environment" or "none"
    names: tuple[str, ...]


def stored_credentials(carrier: str, key: str) -> dict[str, str] | None:
    """The carrier's stored credentials decrypted, or None when none are stored."""
    row = db.session.get(CarrierCredential, carrier)
    if row is None:
        return None
    try:
        return json.loads(decrypt(row.ciphertext, key, f"credentials of {carrier}"))
    except EncryptionKeyError as exc:
        raise CredentialsKeyError(exc.message) from None


def save_credentials(carrier: str, values: Mapping[str, str], key: str, actor: str) -> None:
    """Encrypt and store the non-empty `values` for `carrier`; AdminError without the key or any value."""
    cleaned = {name: values[name].strip() for name in CREDENTIAL_FIELDS if (values.get(name) or "").strip()}
    if not cleaned:
        raise AdminError("Enter at least one credential.")
    try:
        ciphertext = encrypt(json.dumps(cleaned, sort_keys=True), key)
    except EncryptionKeyError as exc:
        raise AdminError(exc.message) from None
    row = db.session.get(CarrierCredential, carrier)
    if row is None:
        row = CarrierCredential(carrier=carrier)
        db.session.add(row)
    row.ciphertext, row.updated_by = ciphertext, actor
    db.session.flush()


def clear_credentials(carrier: str) -> bool:
    """Forget the stored credentials (the environment's apply again); False when there were none."""
    row = db.session.get(CarrierCredential, carrier)
    if row is None:
        return False
    db.session.delete(row)
    db.session.flush()
    return True


def credential_overview(carriers: Mapping[str, Mapping[str, str]], key: str) -> list[CarrierCredentialStatus]:
    """Every carrier of `carriers` (the config's environment credentials) with its credential source."""
    stored = {row.carrier for row in db.session.scalars(select(CarrierCredential))}
    overview = []
    for carrier, env in carriers.items():
        if carrier in stored:
            try:
                names = tuple(sorted(stored_credentials(carrier, key) or {}))
            except CredentialsKeyError:
                names = ("(cannot decrypt)",)
            overview.append(CarrierCredentialStatus(carrier, "database", names))
        else:
            names = tuple(name for name in CREDENTIAL_FIELDS if env.get(name))
            overview.append(CarrierCredentialStatus(carrier, "environment" if names else "none", names))
    return overview


def forget_clients(app: Flask, carrier: str) -> None:
    """Drop this process's cached client and claim filer of `carrier`, so the next call uses the new
    credentials (other processes pick them up when they restart)."""
    for cache in ("leveranse_carriers", "leveranse_claim_filers"):
        app.extensions.get(cache, {}).pop(carrier, None)
