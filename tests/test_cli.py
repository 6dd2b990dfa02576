"""The ``integritas`` command: clear messages and exit codes, never a traceback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from app import cli
from app.accounts.models import User


@pytest.fixture
def run(settings, db, monkeypatch):
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    monkeypatch.setattr(cli, "_database", lambda: db)
    runner = CliRunner()
    return lambda *args, input=None: runner.invoke(cli.app, list(args), input=input)


def test_create_user_from_stdin(run, db):
    result = run(
        "create-user",
        "nina",
        "--role",
        "facilitator",
        "--name",
        "Nina Rahma",
        "--password-stdin",
        input="sandi-yang-panjang-9\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created facilitator 'nina'" in result.output
    with db.read() as session:
        user = session.query(User).filter_by(username="nina").one()
    assert user.display_name == "Nina Rahma"
    assert user.password_hash.startswith("$argon2id$")


def test_create_user_from_prompt(run):
    result = run(
        "create-user", "rudi", "--role", "kpk", input="sandi-yang-panjang-9\nsandi-yang-panjang-9\n"
    )
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["create-user", "x1", "--role", "raja"], "sandi-panjang-99\n", "Unknown role 'raja'"),
        (["create-user", "x1", "--role", "admin"], "pendek\n", "at least 8 characters"),
        (["create-user", "x1", "--role", "admin"], "password123\n", "too easy to guess"),
        (["create-user", "Bad Name!", "--role", "admin"], "sandi-panjang-99\n", "Username must"),
        (["create-user", "x" * 300, "--role", "admin"], "sandi-panjang-99\n", "Username must"),
        (
            ["create-user", "x1", "--role", "admin", "--name", "n" * 300],
            "sandi-panjang-99\n",
            "Display name",
        ),
    ],
)
def test_create_user_bad_input(run, args, stdin, message):
    result = run(*args, "--password-stdin", input=stdin)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_create_user_twice_is_refused(run):
    assert (
        run(
            "create-user",
            "nina",
            "--role",
            "admin",
            "--password-stdin",
            input="sandi-yang-panjang-9\n",
        ).exit_code
        == 0
    )
    again = run(
        "create-user", "nina", "--role", "admin", "--password-stdin", input="sandi-yang-panjang-9\n"
    )
    assert again.exit_code == 2 and "already taken" in again.output


def test_seed_demo_is_idempotent(run, db, synced):
    first = run("seed-demo")
    assert first.exit_code == 0, first.output
    with db.read() as session:
        counts = (session.query(User).count(),)
    second = run("seed-demo")
    assert second.exit_code == 0
    with db.read() as session:
        assert (session.query(User).count(),) == counts
        assert session.query(User).filter_by(username="budi").one().partner_role == "official"
    assert counts[0] == 3 + 2 + 80


def test_production_refuses_to_start_without_secret(settings):
    from app.config import ConfigError
    from app.main import create_app

    prod = settings.model_copy(update={"env": "production", "secret_key": None})
    with pytest.raises(ConfigError, match="APP_SECRET_KEY is not set"):
        create_app(prod)


def test_development_secret_is_made_once_and_kept(settings):
    dev = settings.model_copy(update={"env": "development", "secret_key": None})
    first = dev.secret()
    assert len(first) >= 32
    assert dev.secret() == first
    assert (dev.data_dir / "secret_key").stat().st_mode & 0o077 == 0
