"""The web shell: security headers, error pages, health check, htmx fragments."""

from __future__ import annotations

from tests.conftest import login
from tests.factories import make_user


def test_csp_allows_no_inline_or_eval_script(client):
    response = client.get("/login")
    csp = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert directives["frame-ancestors"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "<script>" not in response.text  # no inline script in the page itself
    assert '"allowEval": false' in response.text


def test_htmx_is_vendored_with_version_and_license(client):
    from app.config import ROOT

    folder = ROOT / "app/static/vendor/htmx-2.0.11"
    assert (folder / "LICENSE").read_text().startswith("Zero-Clause BSD")
    response = client.get("/static/vendor/htmx-2.0.11/htmx.min.js")
    assert response.status_code == 200
    assert 'version:"2.0.11"' in response.text.replace(" ", "")


def test_unknown_url_gets_indonesian_404_page(client):
    response = client.get("/tidak-ada-halaman")
    assert response.status_code == 404
    assert "Halaman tidak ditemukan" in response.text
    assert '<html lang="id">' in response.text


def test_error_pages_are_fragments_for_htmx(client):
    response = client.get("/tidak-ada", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert "<html" not in response.text
    assert 'role="alert"' in response.text and "Halaman tidak ditemukan" in response.text


def test_validation_error_gets_422_page(client, db, settings):
    make_user(db, settings, "ana")
    login(client, "ana")
    response = client.post("/admin/users/bukan-angka/active", data={})
    assert response.status_code in (403, 422)
    response = client.get("/healthz/x")
    assert response.status_code == 404


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    # the test database is built from the models, without migrations: "behind"
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "migrations": "behind",
        "content_version": None,
    }


def test_healthz_says_the_schema_is_at_head_and_which_content_is_synced(tmp_path, settings):
    from fastapi.testclient import TestClient

    from app import migrate
    from app.curriculum.sync import sync_content
    from app.db import Database, make_engine
    from app.main import create_app
    from tests.conftest import fixture_content

    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    migrate.upgrade(url)
    db = Database(make_engine(url))
    with TestClient(create_app(settings, db)) as c:
        assert c.get("/healthz").json()["migrations"] == "head"
        assert c.get("/healthz").json()["content_version"] is None
        sync_content(db, fixture_content())
        assert c.get("/healthz").json() == {
            "status": "ok",
            "database": "ok",
            "migrations": "head",
            "content_version": 1,
        }
    db.dispose()


def test_healthz_reports_a_broken_database(settings, db):
    from fastapi.testclient import TestClient

    from app.db import Database, make_engine
    from app.main import create_app

    broken = Database(make_engine("sqlite:////nonexistent-folder/x.db"))
    with TestClient(create_app(settings, broken)) as c:
        response = c.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "error"


def test_server_error_gets_a_500_page_not_a_traceback(settings, db):
    from fastapi.testclient import TestClient

    from app.main import create_app

    app = create_app(settings, db)

    @app.get("/boom")
    async def boom():
        raise RuntimeError("kaboom")

    with TestClient(app, raise_server_exceptions=False) as c:
        response = c.get("/boom")
    assert response.status_code == 500
    assert "Terjadi kesalahan di sisi kami" in response.text
    assert "kaboom" not in response.text and "Traceback" not in response.text


def test_home_redirects_anonymous_to_login(client):
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    page = client.get("/login")
    assert "<main" in page.text and 'for="username"' in page.text and 'for="password"' in page.text


def test_every_message_is_translated_into_indonesian():
    """Every message of the code and the templates has its Indonesian text: a refusal a
    service raises reaches the reader in their language."""
    from babel.messages.pofile import read_po

    from app.config import ROOT

    with open(ROOT / "app/translations/id/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f)
    missing = [m.id for m in catalog if m.id and not m.string]
    assert missing == []


def test_a_refusal_is_shown_in_the_readers_language(client, db, settings):
    make_user(db, settings, "rina", "facilitator")
    login(client, "rina", "kata-sandi-uji-123")
    page = client.get("/facilitator/cohorts/tidak-ada")
    assert page.status_code == 404
    assert "Angkatan ini tidak ada." in page.text
