"""No service starts on a missing or published secret key; the embedded mode keeps its own (issue 11)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from flask.cli import ScriptInfo
from sqlalchemy import select

from app.cli.main import cli
from app.extensions import db
from app.models import Shop
from app.secret_key import DEV_SECRET_KEY, use_instance_keys

REPO = Path(__file__).resolve().parents[1]


def _import_wsgi(tmp_path: Path, secret: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "LEVERANSE_SECRET_KEY"}
    env.update(LEVERANSE_INSTANCE_DIR=str(tmp_path), LEVERANSE_DATABASE_URL=f"sqlite:///{tmp_path / 'w.db'}")
    if secret is not None:
        env["LEVERANSE_SECRET_KEY"] = secret
    code = "import wsgi; print('started')"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def test_wsgi_refuses_to_start_without_a_key(tmp_path) -> None:
    result = _import_wsgi(tmp_path, None)
    assert result.returncode != 0
    assert "LEVERANSE_SECRET_KEY is not set" in result.stderr
    assert "started" not in result.stdout


def test_wsgi_starts_with_a_real_key(tmp_path) -> None:
    result = _import_wsgi(tmp_path, "a-real-and-long-random-secret-for-this-test")
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def _invoke(app, *args: str):
    return CliRunner().invoke(cli, list(args), obj=ScriptInfo(create_app=lambda: app))


@pytest.mark.parametrize("secret", ["", DEV_SECRET_KEY])
@pytest.mark.parametrize("command", [["worker"], ["run"], ["shops", "create", "Keyless"]])
def test_service_commands_refuse_to_start_without_a_real_key(app, command, secret) -> None:
    app.config["SECRET_KEY"] = secret
    result = _invoke(app, *command)
    assert result.exit_code == 1
    assert "LEVERANSE_SECRET_KEY is not set" in result.output
    assert db.session.scalar(select(Shop.id)) is None


def test_help_and_offline_tools_need_no_key(app) -> None:
    app.config["SECRET_KEY"] = ""
    for command in (["--help"], ["worker", "--help"], ["shops", "create", "--help"], ["routes"]):
        result = _invoke(app, *command)
        assert result.exit_code == 0, (command, result.output)


def test_service_commands_run_with_a_real_key(app) -> None:
    result = _invoke(app, "shops", "create", "Keyed")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(Shop.name)) == "Keyed"


def test_embedded_mode_generates_one_private_key_and_keeps_it(tmp_path) -> None:
    instance = tmp_path / "instance"
    config = {"SECRET_KEY": ""}
    use_instance_keys(config, instance)
    key_file = instance / "secret-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(config["SECRET_KEY"]) >= 32
    assert key_file.read_text().strip() == config["SECRET_KEY"]

    Fernet(config["CREDENTIALS_KEY"])  # a real Fernet key for stored credentials and TOTP secrets
    restarted = {"SECRET_KEY": DEV_SECRET_KEY, "CREDENTIALS_KEY": ""}
    use_instance_keys(restarted, instance)
    assert restarted == config
    assert sorted(p.name for p in instance.iterdir()) == ["credentials-key", "secret-key"]


def test_embedded_mode_keeps_a_configured_key(tmp_path) -> None:
    config = {
        "SECRET_KEY": "configured-by-the-operator-and-long-enough",
        "CREDENTIALS_KEY": "set-by-operator",
    }
    use_instance_keys(config, tmp_path)
    assert config["SECRET_KEY"] == "configured-by-the-operator-and-long-enough"
    assert config["CREDENTIALS_KEY"] == "set-by-operator"
    assert list(tmp_path.iterdir()) == []
