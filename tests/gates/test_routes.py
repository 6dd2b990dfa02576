"""The route × role gate: every route of ``create_app()`` is declared in
``tests/gates/route_table.py``, and every identity gets, on every route, as a full page and as
an htmx request, the answer the table declares — with the ids and slugs of someone else's
cohort, couple, reflection and attempt where the route takes them.

Refused: not signed in → the sign-in page (a 303, or 204 with ``HX-Redirect`` for htmx; 401 on
the API); a role that may never use the route → 403; someone else's object → 404, the same
answer as for an object that does not exist. Allowed: a 2xx or 3xx that is not the sign-in
page, or the minimal form's own refusal (409, 422) on a route that changes something; and to a
signed-in identity, every 2xx with a body is one no cache may keep (``Cache-Control:
no-store``: pages, fragments, PDFs, CSV and XLSX alike).

Size: routes × 9 identities × {page, htmx}, and for a route about a cohort and one of its
objects, three more requests each way that mix one cohort's slug with another's object."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from tests.authz_world import SiteWorld, build_site
from tests.gates.route_table import BY_KEY, IDENTITIES, ROLE_OF, ROUTES, Entry

TABLE = "tests/gates/route_table.py"


def route_contexts(routes: list) -> list:
    """The routes of a router, those of its included routers too."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # a FastAPI that keeps included routes flat in ``app.routes``
        return list(routes)
    return list(iter_route_contexts(routes))


def app_routes(app, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path template) of every route, into mounted applications (the API); the
    static files aside. ``HEAD`` goes with ``GET`` and is not declared on its own."""
    for route in route_contexts(app.routes):
        original = getattr(route, "original_route", route)
        if isinstance(original, Mount):
            if isinstance(original.app, StaticFiles):
                continue
            yield from app_routes(original.app, prefix + original.path)
            continue
        methods = set(route.methods or ())
        if "GET" in methods:
            methods.discard("HEAD")
        for method in sorted(methods):
            yield method, prefix + route.path


def declaration_problems(app) -> list[str]:
    present = set(app_routes(app))
    return [
        f"route {method} {path} is not declared in {TABLE}"
        for method, path in sorted(present - set(BY_KEY))
    ] + [
        f"{TABLE} declares {method} {path}, but the application has no such route"
        for method, path in sorted(set(BY_KEY) - present)
    ]


def test_every_route_is_declared(app):
    assert {("GET", "/learn"), ("GET", "/api/v1/regions")} <= set(app_routes(app))
    problems = declaration_problems(app)
    assert not problems, "\n".join(problems)


def test_a_new_route_fails_the_gate_until_it_is_declared(app):
    @app.post("/facilitator/cohorts/{slug}/archive")
    async def archive(slug: str) -> None: ...

    assert declaration_problems(app) == [
        f"route POST /facilitator/cohorts/{{slug}}/archive is not declared in {TABLE}"
    ]


# ---------------------------------------------------------------- sending


@dataclass
class Caller:
    """Sends a table entry's request as one identity, with a CSRF token of its own session."""

    site: SiteWorld
    identity: str

    @property
    def client(self) -> TestClient:
        return self.site.clients[self.identity]

    def send(self, entry: Entry, values: dict[str, str], *, htmx: bool) -> tuple[str, Response]:
        path = entry.url(values)
        headers = {"HX-Request": "true"} if htmx else {}
        if not entry.unsafe:
            return path, self.client.request(
                entry.method, path, headers=headers, follow_redirects=False
            )
        response = self.client.request(
            entry.method,
            path,
            data={**entry.data(values), "csrf_token": self.site.csrf(self.identity)},
            headers=headers,
            follow_redirects=False,
        )
        if entry.signs_out:
            self.site.sign_in(self.identity)
        return path, response


def to_login(response: Response, *, htmx: bool) -> bool:
    if htmx and response.status_code == 204:
        return response.headers.get("hx-redirect", "").startswith("/login")
    return response.status_code in (302, 303) and response.headers.get("location", "").startswith(
        "/login"
    )


def verdict(
    entry: Entry, identity: str, expected: str, response: Response, *, htmx: bool
) -> str | None:
    """What is wrong with the answer, or None."""
    status = response.status_code
    if expected == "login":
        if entry.to_login:
            return None if status < 400 else "an error instead of the sign-in page"
        return None if to_login(response, htmx=htmx) else "not sent to the sign-in page"
    if expected in ("401", "403", "404"):
        return None if status == int(expected) else f"expected {expected}"
    if entry.window and status == 403 and "data-window=" in response.text:
        return None  # the follow-up's window is not open: its own answer, with the date
    if status >= 400 and not (entry.unsafe and status in (409, 422)):
        return "refused, but allowed"
    if to_login(response, htmx=htmx) and not entry.to_login:
        return "sent to the sign-in page, but allowed"
    signed_in = identity in ROLE_OF
    cache = response.headers.get("cache-control", "")
    # a 204 (htmx's redirect) has no body to keep
    kept = 200 <= status < 300 and status != 204 and "no-store" not in cache
    if signed_in and kept and not entry.cacheable:
        return f"a cacheable answer (Cache-Control: {cache or 'none'})"
    return None


def variants(site: SiteWorld, entry: Entry, identity: str) -> list[tuple[dict[str, str], str]]:
    """(values, expected answer) of the requests an identity makes on an entry: the world's
    objects; and for a route about a cohort and one of its objects, a facilitator's (or the
    administrator's) request that names a cohort they manage with an object of another
    cohort — refused as an object that does not exist."""
    cases = [(site.subject, entry.expected(identity))]
    if entry.cohort_scoped and identity in ("facilitator", "admin"):
        cases.append(({**site.stranger, "cohort": site.subject["cohort"]}, "404"))
    if entry.cohort_scoped and identity == "other_facilitator":
        cases.append(({**site.subject, "cohort": site.stranger["cohort"]}, "404"))
    return cases


@pytest.fixture
def site(mini, settings, make_client) -> SiteWorld:
    return build_site(mini, settings, make_client)


def test_every_identity_gets_the_declared_answer_on_every_route(site):
    problems: list[str] = []
    succeeded: set[tuple[str, str]] = set()
    requests = 0
    for entry in ROUTES:
        for identity in IDENTITIES:
            caller = Caller(site, identity)
            for values, expected in variants(site, entry, identity):
                for htmx in (False, True):
                    path, response = caller.send(entry, values, htmx=htmx)
                    requests += 1
                    if expected == "allowed" and response.status_code < 400:
                        succeeded.add(entry.key)
                    wrong = verdict(entry, identity, expected, response, htmx=htmx)
                    if wrong:
                        where = response.headers.get("location") or response.headers.get(
                            "hx-redirect", ""
                        )
                        problems.append(
                            f"{entry.method} {path} as {identity}"
                            f" ({'htmx' if htmx else 'page'}): {wrong};"
                            f" got {response.status_code} {where}".rstrip()
                        )
    assert requests >= len(ROUTES) * len(IDENTITIES) * 2
    problems += [
        f"{e.method} {e.path}: no allowed identity got through, every answer was a refusal"
        f" of the form (declare why with refused=…)"
        for e in ROUTES
        if e.key not in succeeded and not e.refused and not e.window
    ]
    assert not problems, f"{len(problems)} problems in {requests} answers:\n" + "\n".join(problems)


def test_another_cohort_is_answered_as_one_that_does_not_exist(site):
    """A facilitator cannot tell another cohort's slug from one that does not exist: the same
    status and the same page, on every route about a cohort."""
    caller = Caller(site, "other_facilitator")
    cohort_routes = [
        e for e in ROUTES if e.params.get("slug") == "{cohort}" and "facilitator" in e.role_set
    ]
    assert len(cohort_routes) > 15
    problems: list[str] = []
    for entry in cohort_routes:
        for htmx in (False, True):
            path, theirs = caller.send(entry, site.subject, htmx=htmx)
            none, nowhere = caller.send(entry, {**site.subject, "cohort": "tidak-ada"}, htmx=htmx)
            # the page names its own address (the language form returns to it) and the
            # request's own id (every request has one)
            same = (
                theirs.text.replace(path, none).replace(
                    theirs.headers["x-request-id"], nowhere.headers["x-request-id"]
                )
                == nowhere.text
            )
            if (theirs.status_code, nowhere.status_code) != (404, 404) or not same:
                problems.append(
                    f"{entry.method} {path} ({'htmx' if htmx else 'page'}): "
                    f"{theirs.status_code} for another cohort, {nowhere.status_code} for none"
                )
    assert not problems, "\n".join(problems)


# the pages a signed-in person reaches before agreeing to the newest privacy notice: the
# notice, the question, their own data (and withdrawing), signing out, the public pages
BEFORE_CONSENT = {
    "/",
    "/login",
    "/logout",
    "/language",
    "/activate",
    "/healthz",
    "/privacy",
    "/privacy/consent",
    "/account/data",
    "/account/data.json",
    "/account/data.html",
    "/account/data/contact",
    "/account/data/withdraw",
}


def test_nothing_but_the_notice_and_ones_own_data_before_agreeing_to_it(site, mini):
    """Every route an identity may use, asked by that identity after it stopped agreeing to
    the privacy notice (never agreed, withdrawn or an older version), answers with the
    question — ``/privacy/consent?next=…`` — except the pages above and the public ones."""
    from sqlalchemy import update

    from app.accounts.models import User

    with mini.write() as session:
        session.execute(update(User).values(consent_version=None))
    problems: list[str] = []
    for entry in ROUTES:
        if entry.api or entry.path in BEFORE_CONSENT or entry.path.startswith("/verify"):
            continue
        for identity in sorted(entry.allowed & set(ROLE_OF)):
            for htmx in (False, True):
                path, response = Caller(site, identity).send(entry, site.subject, htmx=htmx)
                target = response.headers.get("location") or response.headers.get("hx-redirect", "")
                if not target.startswith("/privacy/consent"):
                    problems.append(
                        f"{entry.method} {path} as {identity} ({'htmx' if htmx else 'page'}):"
                        f" {response.status_code} {target}".rstrip()
                    )
    assert not problems, "\n".join(problems)
