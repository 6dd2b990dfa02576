"""The CSRF gate: every route of the application that changes something (enumerated from
``create_app()``, so a new one joins), sent by a signed-in user who may use it, is refused
with 403 and changes nothing in the database — without a token, with another session's token,
and with the anonymous token the sign-in page gave before that user signed in; as a plain
form (the token in the form) and as htmx (the token in ``X-CSRF-Token``)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.db import Database, metadata
from tests.authz_world import SiteWorld, build_site
from tests.conftest import csrf_of
from tests.factories import PASSWORD, make_user
from tests.gates.route_table import BY_KEY, IDENTITIES, ROLE_OF, Entry
from tests.gates.test_routes import TABLE, app_routes

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table."""
    with db.read() as session:
        return {
            table.name: sorted(
                (tuple(row) for row in session.execute(select(table)).all()), key=repr
            )
            for table in metadata.sorted_tables
        }


def changes(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after[name]]


def caller_of(entry: Entry) -> str:
    """The first signed-in identity that may use the route."""
    return next(i for i in IDENTITIES if i in ROLE_OF and i in entry.allowed)


def someone_else(identity: str) -> str:
    return "partner" if identity != "partner" else "participant"


@pytest.fixture
def site(mini, settings, make_client) -> SiteWorld:
    return build_site(mini, settings, make_client)


def test_every_unsafe_route_refuses_a_request_without_its_sessions_token(app, site, mini):
    unsafe = sorted((m, p) for m, p in app_routes(app) if m in UNSAFE)
    assert len(unsafe) > 25
    missing = [
        f"route {m} {p} is not declared in {TABLE}" for m, p in unsafe if (m, p) not in BY_KEY
    ]
    assert not missing, "\n".join(missing)
    problems = []
    for key in unsafe:
        entry = BY_KEY[key]
        identity = caller_of(entry)
        client = site.clients[identity]
        path = entry.url(site.subject)
        form = entry.data(site.subject)
        forged = {
            "no token": None,
            "another session's token": site.csrf(someone_else(identity)),
            "the anonymous token from before sign-in": site.anonymous_tokens[identity],
        }
        assert site.csrf(identity) not in forged.values()
        before = snapshot(mini)
        for case, token in forged.items():
            for htmx in (False, True):
                headers = {"HX-Request": "true"} if htmx else {}
                data: dict[str, Any] = dict(form)
                if token is not None and htmx:
                    headers["X-CSRF-Token"] = token
                elif token is not None:
                    data["csrf_token"] = token
                response = client.request(
                    entry.method, path, data=data, headers=headers, follow_redirects=False
                )
                if response.status_code != 403:
                    problems.append(
                        f"{entry.method} {path} as {identity} with {case}"
                        f" ({'htmx' if htmx else 'page'}): {response.status_code}"
                    )
        changed = changes(before, snapshot(mini))
        if changed:
            problems.append(f"{entry.method} {path} as {identity} changed {', '.join(changed)}")
    assert not problems, "\n".join(problems)


def test_the_anonymous_token_stops_working_at_sign_in(db, settings, make_client):
    """The token of a page shown before sign-in (perhaps to someone else, on a shared
    computer) is refused once the browser has signed in, and after it signs out again: sign-in
    renews the anonymous cookie it was bound to."""
    make_user(db, settings, "rina", "facilitator")
    client = make_client()
    before = csrf_of(client.get("/login").text)
    signed_in = client.post(
        "/login",
        data={"username": "rina", "password": PASSWORD, "csrf_token": before},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    english = {"locale": "en", "next": "/account"}

    def locale() -> str:
        with db.read() as session:
            return session.execute(select(User.locale).where(User.username == "rina")).scalar_one()

    old = client.post("/language", data={**english, "csrf_token": before})
    assert old.status_code == 403 and locale() == "id"
    header = client.post("/language", data=english, headers={"X-CSRF-Token": before})
    assert header.status_code == 403 and locale() == "id"

    own = csrf_of(client.get("/account").text)
    assert own != before
    signed_out = client.post("/logout", data={"csrf_token": own}, follow_redirects=False)
    assert signed_out.status_code == 303
    again = client.post("/language", data={**english, "csrf_token": before})
    assert again.status_code == 403
    assert "lang" not in client.cookies  # nothing was set
    fresh = csrf_of(client.get("/login").text)
    accepted = client.post(
        "/language", data={**english, "csrf_token": fresh}, follow_redirects=False
    )
    assert accepted.status_code == 303 and client.cookies.get("lang") == "en"
