"""``integritas api-token create --name NAME | list | revoke NAME``."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from app import cli
from app.accounts.models import AuditLog
from app.api.models import ApiToken


@pytest.fixture
def run(settings, db, monkeypatch):
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    monkeypatch.setattr(cli, "_database", lambda: db)
    runner = CliRunner()
    return lambda *args: runner.invoke(cli.app, list(args))


def test_create_prints_the_secret_once_alone_on_standard_output(run, db, client):
    result = run("api-token", "create", "--name", "Dasbor KPK")
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert secret.startswith("kbt_") and "\n" not in secret
    assert "shown only this once" in result.stderr
    with db.read() as session:
        row = session.execute(select(ApiToken)).scalar_one()
        audit = session.execute(select(AuditLog)).scalar_one()
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert row.created_by is None
    assert (audit.action, audit.actor_id, audit.detail["via"]) == ("api_token.create", None, "cli")
    assert client.get("/api/v1/regions", headers={"Authorization": f"Bearer {secret}"}).is_success

    listing = run("api-token", "list")
    assert listing.exit_code == 0
    assert "Dasbor KPK" in listing.output and f"{secret[:8]}…" in listing.output
    assert secret[8:] not in listing.output and "active" in listing.output


def test_list_revoke_and_refusals(run, settings, db):
    assert run("api-token", "list").output.strip() == "No API tokens yet."
    secret = run("api-token", "create", "--name", "lama").stdout.strip()
    twice = run("api-token", "create", "--name", "lama")
    assert twice.exit_code == 2 and "already exists" in twice.output
    assert "Traceback" not in twice.output
    empty = run("api-token", "create", "--name", "")
    assert empty.exit_code == 2 and "required" in empty.output
    assert run("api-token", "create").exit_code == 2  # --name is required

    revoked = run("api-token", "revoke", "lama")
    assert revoked.exit_code == 0 and "Revoked API token 'lama'." in revoked.output
    again = run("api-token", "revoke", "lama")
    assert again.exit_code == 0 and "already revoked" in again.output
    unknown = run("api-token", "revoke", "tidak-ada")
    assert unknown.exit_code == 2 and "No API token is named 'tidak-ada'." in unknown.output

    from app.main import create_app

    with TestClient(create_app(settings, db)) as c:
        response = c.get("/api/v1/regions", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401
    listing = run("api-token", "list").output
    assert "lama" in listing and "revoked" in listing
    with db.read() as session:
        actions = session.execute(select(AuditLog.action)).scalars().all()
    assert actions == ["api_token.create", "api_token.revoke"]
