"""The administrator's page of API tokens: only administrators, CSRF on every change, the
secret shown once (and never again, nor stored), revocation."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from app.api.models import ApiToken
from tests.conftest import csrf_of, login
from tests.factories import PASSWORD, make_cohort, make_couple, make_user

SECRET_RE = re.compile(r'id="token-secret" type="text" value="(kbt_[A-Za-z0-9_-]+)"')


@pytest.fixture
def admin(client, db, settings):
    make_user(db, settings, "kepala", "admin")
    assert login(client, "kepala", PASSWORD).status_code == 303
    return client


def create(client, name: str, *, token: str | None = None):
    if token is None:
        token = csrf_of(client.get("/admin/api-tokens").text)
    return client.post(
        "/admin/api-tokens", data={"name": name, "csrf_token": token}, follow_redirects=False
    )


def test_the_secret_is_shown_once_and_only_its_hash_is_stored(admin, db):
    home = admin.get("/admin")
    assert 'href="/admin/api-tokens"' in home.text
    page = admin.get("/admin/api-tokens")
    assert page.status_code == 200 and 'action="/admin/api-tokens"' in page.text

    response = create(admin, "Dasbor KPK")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    secret = SECRET_RE.search(response.text).group(1)
    assert 'id="new-token"' in response.text and 'role="status"' in response.text
    assert f"Authorization: Bearer {secret}" in response.text  # the curl example
    with db.read() as session:
        row = session.execute(select(ApiToken)).scalar_one()
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert row.name == "Dasbor KPK" and row.prefix == secret[:8]

    again = admin.get("/admin/api-tokens")
    assert secret not in again.text and secret[8:] not in again.text
    assert "Dasbor KPK" in again.text and f"{secret[:8]}…" in again.text
    assert 'id="new-token"' not in again.text
    assert admin.get("/api/v1/regions", headers={"Authorization": f"Bearer {secret}"}).is_success


def test_refused_names_show_the_form_again_with_the_message(admin, db):
    assert create(admin, "dasbor").status_code == 200
    twice = create(admin, "dasbor")
    assert twice.status_code == 422
    assert 'id="token-name-error"' in twice.text
    assert 'aria-invalid="true"' in twice.text and 'value="dasbor"' in twice.text
    assert SECRET_RE.search(twice.text) is None
    empty = create(admin, "  ")
    assert empty.status_code == 422 and "Kolom ini wajib diisi." in empty.text
    with db.read() as session:
        assert len(session.execute(select(ApiToken)).all()) == 1


def test_every_change_needs_the_csrf_token(admin, db):
    assert create(admin, "tanpa", token="salah").status_code == 403
    response = admin.post("/admin/api-tokens", data={"name": "tanpa"})
    assert response.status_code == 403
    create(admin, "dasbor")
    with db.read() as session:
        token_id = session.execute(select(ApiToken.id)).scalar_one()
    refused = admin.post(f"/admin/api-tokens/{token_id}/revoke", data={})
    assert refused.status_code == 403
    with db.read() as session:
        assert session.execute(select(ApiToken.revoked_at)).scalar_one() is None


def test_revoking_closes_the_api_to_the_token(admin, db):
    secret = SECRET_RE.search(create(admin, "dasbor").text).group(1)
    bearer = {"Authorization": f"Bearer {secret}"}
    assert admin.get("/api/v1/regions", headers=bearer).status_code == 200
    page = admin.get("/admin/api-tokens")
    with db.read() as session:
        token_id = session.execute(select(ApiToken.id)).scalar_one()
    revoked = admin.post(
        f"/admin/api-tokens/{token_id}/revoke",
        data={"csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert revoked.status_code == 303 and revoked.headers["location"] == "/admin/api-tokens"
    assert admin.get("/api/v1/regions", headers=bearer).status_code == 401
    page = admin.get("/admin/api-tokens")
    assert f"/admin/api-tokens/{token_id}/revoke" not in page.text
    token = csrf_of(page.text)
    again = admin.post(f"/admin/api-tokens/{token_id}/revoke", data={"csrf_token": token})
    assert again.status_code == 200  # revoking twice changes nothing
    for bad, status in [("999", 404), ("0", 422), ("x", 422), ("9" * 30, 422)]:
        response = admin.post(f"/admin/api-tokens/{bad}/revoke", data={"csrf_token": token})
        assert response.status_code == status, bad


@pytest.mark.parametrize("role", ["participant", "facilitator", "kpk"])
def test_only_administrators_see_or_change_tokens(client, db, settings, role):
    make_user(db, settings, "kepala", "admin")
    if role == "participant":
        make_couple(db, settings, make_cohort(db, "uji"), "uji-001")
        username = "uji-001-a"
    else:
        username = f"orang-{role}"
        make_user(db, settings, username, role)
    login(client, username, PASSWORD)
    assert client.get("/admin/api-tokens").status_code == 403
    token = csrf_of(client.get("/account").text)
    response = client.post("/admin/api-tokens", data={"name": "x", "csrf_token": token})
    assert response.status_code == 403
    response = client.post("/admin/api-tokens/1/revoke", data={"csrf_token": token})
    assert response.status_code == 403
    with db.read() as session:
        assert session.execute(select(ApiToken)).first() is None


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/admin/api-tokens", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/admin/api-tokens"
