"""The JSON API over HTTP: bearer tokens only (never a browser session), problem+json errors,
throttling, last use, the lists, its own schema — and no personal data in any answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.api import service
from app.api.models import ApiToken
from app.db import utcnow
from app.main import create_app
from tests.api.conftest import PERSONAL, create_token
from tests.conftest import QueryCounter, login
from tests.factories import PASSWORD, make_cohort, make_couple, make_user

PROBLEM = "application/problem+json"


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["type"] == "about:blank"
    assert body["title"] and body["detail"]
    return body


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock(datetime(2026, 3, 2, 3, 0, tzinfo=UTC))


@pytest.fixture
def timed(settings, db, clock):
    """A client of an application that runs on ``clock``."""
    with TestClient(create_app(settings, db, clock=clock), raise_server_exceptions=False) as c:
        yield c


# ---------------------------------------------------------------- who gets in


def test_a_missing_token_gets_401_problem_with_a_bearer_challenge(client):
    response = client.get("/api/v1/regions")
    body = assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in body["detail"]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer kbt_salah",
        "Bearer bukan-token",
        "Bearer ",
        "Bearer " + "kbt_" + "x" * 5000,
        "Basic a2VwYWxhOnJhaGFzaWE=",
        "kbt_tanpa_skema",
        "Token {secret}",
        "Bearer {secret}x",
        "Bearer {prefix}",
    ],
)
def test_a_wrong_token_gets_401(client, token, header):
    value = header.format(secret=token.secret, prefix=token.secret[:8])
    response = client.get("/api/v1/regions", headers={"Authorization": value})
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_the_right_token_opens_the_api_and_a_revoked_one_no_more(client, db, token):
    assert client.get("/api/v1/regions", headers=token.headers).status_code == 200
    with db.write() as session:
        service.token_revoke(session, actor=None, now=utcnow(), name=token.name)
    response = client.get("/api/v1/regions", headers=token.headers)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


@pytest.mark.parametrize("role", ["participant", "facilitator", "kpk", "admin"])
def test_no_browser_session_opens_the_api(client, db, settings, role):
    if role == "participant":
        make_couple(db, settings, make_cohort(db, "uji"), "uji-001")
        username = "uji-001-a"
    else:
        username = f"orang-{role}"
        make_user(db, settings, username, role)
    assert login(client, username, PASSWORD).status_code == 303
    assert client.get("/").status_code == 200  # signed in
    for path in ("/api/v1/regions", "/api/v1/organizations", "/api/v1/cohorts"):
        assert_problem(client.get(path), 401)
    # not with the session token as a bearer token either
    session_token = client.cookies.get("kb_session")
    assert session_token
    bearer = {"Authorization": f"Bearer {session_token}"}
    assert_problem(client.get("/api/v1/regions", headers=bearer), 401)


def test_last_use_is_written_once_a_minute_not_on_every_request(timed, db, token, clock):
    def last_used():
        with db.read() as session:
            return session.execute(select(ApiToken.last_used_at)).scalar_one()

    assert last_used() is None
    assert timed.get("/api/v1/regions", headers=token.headers).status_code == 200
    assert last_used() == clock.now
    first = clock.now
    clock.now += timedelta(seconds=30)
    with QueryCounter(db) as counter:
        assert timed.get("/api/v1/regions", headers=token.headers).status_code == 200
    assert not [s for s in counter.statements if s.lstrip().upper().startswith("UPDATE")]
    assert last_used() == first
    clock.now += timedelta(seconds=31)
    assert timed.get("/api/v1/regions", headers=token.headers).status_code == 200
    assert last_used() == clock.now


def test_too_many_requests_get_429_with_retry_after(settings, db, clock, monkeypatch):
    monkeypatch.setattr(service, "RATE_PER_MINUTE", 3)
    one, other = create_token(db, "satu"), create_token(db, "lain")
    with TestClient(create_app(settings, db, clock=clock)) as c:
        for _ in range(3):
            assert c.get("/api/v1/regions", headers=one.headers).status_code == 200
            clock.now += timedelta(seconds=10)
        response = c.get("/api/v1/cohorts", headers=one.headers)
        body = assert_problem(response, 429)
        assert response.headers["retry-after"] == "30"
        assert "3 requests a minute" in body["detail"]
        assert c.get("/api/v1/regions", headers=other.headers).status_code == 200
        clock.now += timedelta(seconds=30)
        assert c.get("/api/v1/regions", headers=one.headers).status_code == 200
        assert c.get("/api/v1/openapi.json").status_code == 200  # the schema is not counted


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/tidak-ada", 404),
        ("/api/v1/", 404),
        ("/api/v1/cohorts?region=tidak-ada", 404),
        ("/api/v1/organizations?region=tidak-ada", 404),
        ("/api/v1/regions?per_page=201", 422),
        ("/api/v1/regions?per_page=0", 422),
        ("/api/v1/regions?page=0", 422),
        ("/api/v1/regions?page=99999999999999999999999", 422),
        ("/api/v1/regions?page=satu", 422),
        ("/api/v1/cohorts?year=dua-ribu", 422),
        ("/api/v1/cohorts?year=1999", 422),
        ("/api/v1/cohorts?region=Kota%20Uji", 422),
        ("/api/v1/cohorts?region=" + "a" * 65, 422),
        ("/api/v1/cohorts?region=a%00b", 422),
    ],
)
def test_errors_are_problem_json(client, token, path, status):
    body = assert_problem(client.get(path, headers=token.headers), status)
    if status == 422:
        assert body["errors"] and body["errors"][0]["parameter"].startswith("query.")


def test_other_methods_get_405_problem(client, token):
    response = client.post("/api/v1/regions", headers=token.headers)
    assert_problem(response, 405)
    assert response.headers["allow"] == "GET"


def test_a_server_error_is_a_problem_too(settings, db, token, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(service, "regions_page", broken)
    with TestClient(create_app(settings, db), raise_server_exceptions=False) as c:
        response = c.get("/api/v1/regions", headers=token.headers)
    body = assert_problem(response, 500)
    assert "boom" not in response.text and "Traceback" not in body["detail"]


# ---------------------------------------------------------------- the lists


def test_regions_organizations_and_cohorts(client, world, token):
    def get(path: str) -> dict:
        response = client.get(path, headers=token.headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        return response.json()

    regions = get("/api/v1/regions")
    assert regions == {
        "items": [
            {
                "slug": "kab-kosong",
                "name": "Kabupaten Kosong",
                "province": "Jawa Barat",
                "organizations": 0,
                "cohorts": 0,
            },
            {
                "slug": "kota-uji",
                "name": "Kota Uji",
                "province": "Banten",
                "organizations": 3,
                "cohorts": 2,
            },
        ],
        "page": 1,
        "per_page": 50,
        "total": 2,
    }
    orgs = get("/api/v1/organizations?region=kota-uji&per_page=2&page=2")
    assert orgs["total"] == 3 and orgs["page"] == 2 and orgs["per_page"] == 2
    assert [(o["name"], o["region"]) for o in orgs["items"]] == [("Dinas wrt-003", "kota-uji")]
    assert set(orgs["items"][0]) == {"id", "name", "region"}
    assert get("/api/v1/organizations?region=kab-kosong") == {
        "items": [],
        "page": 1,
        "per_page": 50,
        "total": 0,
    }
    cohorts = get("/api/v1/cohorts?region=kota-uji")
    assert cohorts["items"] == [
        {
            "slug": "tng-2026",
            "title": "Angkatan tng-2026",
            "region": "kota-uji",
            "workshop_start": "2026-03-09",
            "workshop_end": "2026-03-10",
            "couples": 2,
        },
        {
            "slug": "tng-2025",
            "title": "Angkatan tng-2025",
            "region": "kota-uji",
            "workshop_start": "2025-10-14",
            "workshop_end": "2025-10-15",
            "couples": 1,
        },
    ]
    assert [c["slug"] for c in get("/api/v1/cohorts?year=2025")["items"]] == ["tng-2025"]
    assert get("/api/v1/cohorts?year=2024&region=kota-uji")["total"] == 0
    assert get("/api/v1/cohorts?page=3&per_page=1") == {
        "items": [],
        "page": 3,
        "per_page": 1,
        "total": 2,
    }


def test_no_answer_carries_personal_data(client, db, settings, world, token):
    """Every answer the API gives — the lists on every page and filter, its errors, its
    schema and its docs — is searched for the names, usernames, contacts and NIP."""
    admin = make_user(db, settings, "kepala-sekarwangi", "admin")
    bodies = []
    paths = ["/api/v1/openapi.json", "/api/v1/docs", "/api/v1/docs.js", "/api/v1/tidak-ada"]
    for endpoint in ("regions", "organizations", "cohorts"):
        for query in ("", "?per_page=1", "?per_page=1&page=2", "?per_page=200"):
            paths.append(f"/api/v1/{endpoint}{query}")
    paths += [
        "/api/v1/organizations?region=kota-uji",
        "/api/v1/cohorts?region=kota-uji&year=2026",
        "/api/v1/cohorts?region=tidak-ada",
        "/api/v1/cohorts?year=x",
    ]
    for path in paths:
        response = client.get(path, headers=token.headers)
        assert response.status_code < 500, path
        bodies.append((path, response.text))
    bodies.append(("no token", client.get("/api/v1/regions").text))
    secrets = (*PERSONAL, admin.username, admin.display_name)
    for path, body in bodies:
        for secret in secrets:
            assert secret.lower() not in body.lower(), (path, secret)


# ---------------------------------------------------------------- schemas and docs


def test_the_site_publishes_no_schema_of_its_pages(client):
    assert client.get("/openapi.json").status_code == 404
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404


def test_the_api_schema_lists_the_api_and_nothing_else(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["servers"] == [{"url": "/api/v1"}]
    assert set(schema["paths"]) == {
        "/regions",
        "/organizations",
        "/cohorts",
        "/funnel",
        "/gain",
        "/trend",
        "/comparison",
        "/followup",
    }
    assert schema["components"]["securitySchemes"]["token"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token made by an administrator (`kbt_…`).",
    }
    for path, item in schema["paths"].items():
        operation = item["get"]
        assert operation["security"] == [{"token": []}], path
        for code in ("401", "422", "429"):
            content = operation["responses"][code]["content"]
            assert content == {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert {"Problem", "RegionPage", "CohortPage", "OrganizationPage"} <= set(
        schema["components"]["schemas"]
    )
    text = response.text
    for html_route in ("/login", "/learn", "/admin", "/facilitator", "/kpk", "/healthz"):
        assert f'"{html_route}' not in text


def test_the_docs_page_loads_its_vendored_assets_under_the_sites_csp(client):
    import re

    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe" not in csp
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.S)
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
    assert " style=" not in page.text and "<style" not in page.text
    assets = re.findall(r'(?:src|href)="(/[^"]+)"', page.text)
    assert "/api/v1/docs.js" in assets
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert any(a.endswith("swagger-ui.css") for a in assets)
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert "unsafe" not in response.headers["content-security-policy"]
    init = client.get("/api/v1/docs.js").text
    assert "/api/v1/openapi.json" in init and "validatorUrl: null" in init
    assert "eval(" not in init and "://" not in init  # nothing from elsewhere


def test_swagger_ui_is_vendored_with_its_license():
    import json

    from app.api.router import SWAGGER_UI
    from app.config import ROOT

    folder = ROOT / "app/static/vendor" / SWAGGER_UI
    assert (folder / "LICENSE").read_text().lstrip().startswith("Apache License")
    assert (folder / "NOTICE").exists() and (folder / "swagger-ui-bundle.js.LICENSE.txt").exists()
    version = json.loads((folder / "package.json").read_text())["version"]
    assert SWAGGER_UI == f"swagger-ui-dist-{version}"
    assert "cdn" not in (ROOT / "app/api/docs.html").read_text().lower()
