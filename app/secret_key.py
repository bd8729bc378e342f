"""The secret key that signs sessions, CSRF tokens and tracking links: required outside the embedded mode.

Production entry points (`wsgi.py`, `leveranse worker`, …) call `require_secret_key` and refuse to start
on a missing or published key, since anyone holding it can mint a staff session. The embedded mode
calls `use_instance_keys` instead: random keys generated once and kept in the instance directory, the
secret key and the key that encrypts stored carrier credentials and TOTP secrets (when none is set).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

DEV_SECRET_KEY = "dev-only-change-me"  # Config's default: public, so never a real key
KNOWN_KEYS = frozenset({"", DEV_SECRET_KEY})
INSTANCE_KEY_FILE = "secret-key"
CREDENTIALS_KEY_FILE = "credentials-key"


class MissingSecretKey(RuntimeError):
    """LEVERANSE_SECRET_KEY is unset or a published value."""


def has_real_secret_key(config: MutableMapping[str, Any]) -> bool:
    """True when SECRET_KEY is set and is not a published default."""
    key = config.get("SECRET_KEY")
    return isinstance(key, str | bytes) and bool(key) and key not in KNOWN_KEYS


def require_secret_key(config: MutableMapping[str, Any]) -> None:
    """Raise MissingSecretKey unless the app has a real secret key."""
    if not has_real_secret_key(config):
        raise MissingSecretKey(
            "LEVERANSE_SECRET_KEY is not set (or is the published development value): refusing to start. "
            "Set it to a long random value, e.g. "
            '`python -c "import secrets; print(secrets.token_urlsafe(48))"`; '
            "`leveranse embedded` needs none."
        )


def use_instance_keys(config: MutableMapping[str, Any], instance_dir: Path) -> None:
    """Without a real secret key (or a credentials key), use and on first start create the instance
    directory's own random one."""
    if not has_real_secret_key(config):
        config["SECRET_KEY"] = instance_key(
            instance_dir, INSTANCE_KEY_FILE, lambda: secrets.token_urlsafe(48)
        )
    if not config.get("CREDENTIALS_KEY"):
        from cryptography.fernet import Fernet

        config["CREDENTIALS_KEY"] = instance_key(
            instance_dir, CREDENTIALS_KEY_FILE, lambda: Fernet.generate_key().decode()
        )


def instance_key(instance_dir: Path, name: str, make: Callable[[], str]) -> str:
    """The key in `instance_dir/name`, created (mode 0600) with `make()` if missing."""
    path = instance_dir / name
    if not path.exists():
        instance_dir.mkdir(parents=True, exist_ok=True)
        draft = instance_dir / f".{name}.{os.getpid()}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(make() + "\n")
        try:
            os.link(draft, path)  # atomic: of two first starts racing, both end up with the same key
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    key = path.read_text().strip()
    if not key:
        raise MissingSecretKey(f"{path} is empty: delete it to have a new key generated.")
    return key
