"""The accessibility gate: axe-core (vendored from the npm registry) over every page of every
role, in Debian's Chromium at a phone's width (360 px), finds no violation whose impact is
"serious" or "critical".

The pages come from the application's own GET routes, so that a page added later joins the
audit without an edit here: each route is given to the roles that see it (``AUDIENCE``, by
its first path segment), its path parameters are filled from the seeded demo (``FILL``, by the
collection the parameter names an item of), and only files (a name with an extension: PDF, CSV,
XLSX) and the few routes of ``NOT_PAGES`` are left out. A GET route that cannot be placed or
filled fails the gate by name rather than being skipped. Beside the routes: filtered views,
error pages, a form that answered with an error, and pages changed in place by htmx."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select
from starlette.routing import Mount

from app.accounts.models import User
from app.certificates.models import Certificate
from app.cohorts.models import Cohort, Couple
from app.config import Settings
from app.curriculum.models import Lesson, Module, Quiz
from app.db import Database, make_engine
from app.main import create_app
from app.quizzes.models import QuizAttempt
from tests.e2e.browser import chromium, demo_server, sign_in
from tests.live_server import playwright_or_skip

pytestmark = pytest.mark.browser
playwright_api = playwright_or_skip()

AXE_VERSION = "4.14.1"
AXE = Path(__file__).parent / "vendor" / f"axe-core-{AXE_VERSION}" / "axe.min.js"
BLOCKING = ("serious", "critical")
VIEWPORT = {"width": 360, "height": 740}

# who sees the pages under each first path segment (the roles' own areas, and the public pages)
SIGNED_IN = ("participant", "facilitator", "kpk", "admin")
AUDIENCE: dict[str, tuple[str, ...]] = {
    "login": ("anonymous",),
    "activate": ("anonymous",),
    "verify": ("anonymous",),
    # the notice for anyone; the question at sign-in; the erasure requests for staff
    "privacy": ("anonymous", "facilitator", "admin"),
    "learn": ("participant",),
    "family": ("participant",),
    "survey": ("participant",),
    "account": SIGNED_IN,
    "facilitator": ("facilitator",),
    "kpk": ("kpk",),
    "admin": ("admin",),
}

# GET routes that are not pages (files are recognised by their name's extension)
NOT_PAGES = {
    "/": "redirects to the home page of whoever asks",
    "/healthz": "JSON for the load balancer",
}
MOUNTS = {
    "/static": "stylesheets, scripts, fonts and images",
    "/api/v1": "the JSON API for KPK's tools (its /docs is the vendored Swagger UI)",
}

# how to fill a path parameter, by the collection it names an item of (the path segment before
# it) and its name: the attribute of ``Demo`` to use
FILL: dict[tuple[str, str], str] = {
    ("lessons", "slug"): "lesson",
    ("quizzes", "slug"): "quiz",
    ("attempts", "number"): "attempt",
    ("cohorts", "slug"): "cohort",
    ("couples", "code"): "couple",
    ("verify", "code"): "certificate",
    ("participants", "user_id"): "participant_id",
    ("checkins", "round_"): "checkin",
}

# more than one page per route: filtered views, the other quizzes, and error pages (status)
EXTRA: dict[str, list[tuple[str, int]]] = {
    "anonymous": [
        ("/no-such-page", 404),
        ("/verify/KB-0000000000", 404),  # a code that belongs to no certificate
    ],
    "participant": [
        ("/learn/quizzes/pre-test", 200),
        ("/learn/quizzes/post-test", 200),
        ("/admin", 403),
    ],
    "facilitator": [
        ("/facilitator/cohorts/{cohort}?q=no-such-name", 200),
        ("/facilitator/cohorts/tng-demo", 200),
        ("/facilitator/cohorts/no-such-cohort", 404),
    ],
    "kpk": [
        ("/kpk?region=kota-tangerang&group_by=cohort", 200),
        ("/kpk?group_by=organization", 200),
    ],
    "admin": [
        ("/facilitator", 200),
    ],
}

PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")

# Unique ids are checked by rules axe ships disabled (``duplicate-id``, ``duplicate-id-active``:
# deprecated since WCAG 2.2 made 4.1.1 obsolete) or leaves for review (``duplicate-id-aria``):
# here they are enabled and always count, whatever their impact, since a ``for=`` or an
# ``aria-labelledby`` that meets two elements names the wrong one.
DUPLICATE_IDS = ("duplicate-id", "duplicate-id-active", "duplicate-id-aria")

# defines ``__auditPage(duplicateIds)`` in every page: the violations axe finds, each with the
# elements at fault (axe's CSS selectors)
AUDIT = """window.__auditPage = async (duplicateIds) => {
  const result = await axe.run(document, {
    resultTypes: ["violations"],
    rules: {"duplicate-id": {enabled: true}, "duplicate-id-active": {enabled: true}},
  });
  const review = result.incomplete.filter((v) => duplicateIds.includes(v.id));
  return [...result.violations, ...review].map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map((n) => n.target.join(" ")),
  }));
};"""
TABS = 2  # pages audited at once (the machine has two cores)


@dataclass(frozen=True)
class Demo:
    """Items of the seeded demo to fill path parameters with: a participant of the historic
    cohort whose couple has done everything (certificate included), and their things."""

    participant: str
    lesson: str
    quiz: str
    attempt: int
    cohort: str
    couple: str
    certificate: str
    participant_id: int
    checkin: int = 1  # the first check-in after the workshop


@dataclass(frozen=True)
class Plan:
    demo: Demo
    pages: dict[str, list[tuple[str, int]]]  # role → (URL, expected status)
    unplaced: list[str]  # GET routes that could not be given a role or filled


def every_route(app) -> list:
    """Every route of the application, those of the included routers too."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # a FastAPI that keeps included routes flat in ``app.routes``
        return list(app.routes)
    return list(iter_route_contexts(app.routes))


def demo_items(database: Database) -> Demo:
    with database.read() as session:
        user, couple_code, cohort_slug, certificate = session.execute(
            select(User, Couple.code, Cohort.slug, Certificate.code)
            .join(Certificate, col(Certificate.user_id) == col(User.id))
            .join(Couple, col(Couple.id) == col(User.couple_id))
            .join(Cohort, col(Cohort.id) == col(Couple.cohort_id))
            .where(col(Certificate.revoked_at).is_(None))
            .order_by(col(User.id))
            .limit(1)
        ).one()
        lesson = session.execute(
            select(Lesson.slug)
            .join(Module, col(Module.id) == col(Lesson.module_id))
            .where(col(Lesson.active))
            .order_by(col(Module.position), col(Lesson.position))
            .limit(1)
        ).scalar_one()
        quiz, attempt = session.execute(
            select(Quiz.slug, QuizAttempt.number)
            .join(QuizAttempt, col(QuizAttempt.quiz_id) == col(Quiz.id))
            .join(Module, col(Module.id) == col(Quiz.module_id))
            .where(
                col(QuizAttempt.user_id) == user.id,
                col(QuizAttempt.submitted_at).is_not(None),
            )
            .order_by(col(Module.position), col(QuizAttempt.number))
            .limit(1)
        ).one()
    return Demo(
        participant=user.username,
        lesson=lesson,
        quiz=quiz,
        attempt=attempt,
        cohort=cohort_slug,
        couple=couple_code,
        certificate=certificate,
        participant_id=user.id,
    )


def fill(path: str, demo: Demo) -> tuple[str, list[str]]:
    """The path with its parameters filled from the demo, and the parameters ``FILL`` has no
    entry for (as ``(collection, name)``)."""
    segments = path.strip("/").split("/")
    missing = []
    for i, segment in enumerate(segments):
        match = PARAMETER.fullmatch(segment)
        if match is None:
            continue
        key = (segments[i - 1] if i else "", match.group(1))
        attribute = FILL.get(key)
        if attribute is None:
            missing.append(repr(key))
        else:
            segments[i] = str(getattr(demo, attribute))
    return "/" + "/".join(segments), missing


def audit_plan(app, demo: Demo) -> Plan:
    pages: dict[str, list[tuple[str, int]]] = {role: [] for role in ("anonymous", *SIGNED_IN)}
    unplaced: list[str] = []
    for route in every_route(app):
        path = route.path
        if isinstance(getattr(route, "original_route", route), Mount):
            if path not in MOUNTS:
                unplaced.append(f"{path} (a mount): say in MOUNTS what it serves")
            continue
        if "GET" not in (route.methods or ()) or path in NOT_PAGES:
            continue
        if "." in path.rsplit("/", 1)[-1]:
            continue  # a file: PDF, CSV, XLSX
        roles = AUDIENCE.get(path.strip("/").split("/")[0])
        if roles is None:
            unplaced.append(f"GET {path}: say in AUDIENCE which roles see its first segment")
            continue
        url, missing = fill(path, demo)
        if missing:
            unplaced.append(f"GET {path}: add {', '.join(missing)} to FILL")
            continue
        for role in roles:
            pages[role].append((url, 200))
    for role, extra in EXTRA.items():
        pages[role].extend((url.format(**vars(demo)), status) for url, status in extra)
    return Plan(demo=demo, pages=pages, unplaced=unplaced)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[str, dict[str, str]]]:
    with demo_server(tmp_path_factory.mktemp("a11y"), "a11y-test-secret") as running:
        yield running


@pytest.fixture(scope="module")
def plan(server) -> Plan:
    _, env = server
    settings = Settings(
        env="test",
        database_url=env["APP_DATABASE_URL"],
        secret_key=env["APP_SECRET_KEY"],
        data_dir=Path(env["APP_DATA_DIR"]),
    )
    database = Database(make_engine(env["APP_DATABASE_URL"]))
    try:
        demo = demo_items(database)
        return audit_plan(create_app(settings=settings, db=database), demo)
    finally:
        database.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium(playwright_api) as b:
        yield b


STAFF = {"facilitator": "fasilitator", "kpk": "kpk", "admin": "admin"}


def username_of(role: str, plan: Plan) -> str | None:
    """Whom the role's pages are seen as: nobody, the demo's finished participant, or the
    demo's staff account of that role."""
    if role == "anonymous":
        return None
    return plan.demo.participant if role == "participant" else STAFF[role]


def axe_context(browser) -> Any:
    """A phone-sized context in which every page loads axe and ``AUDIT`` (as init scripts: the
    pages' Content-Security-Policy allows no inline script, and needs no relaxing for this)."""
    context = browser.new_context(viewport=VIEWPORT, locale="id-ID")
    context.add_init_script(path=str(AXE))
    context.add_init_script(script=AUDIT)
    return context


def start_audit(page) -> None:
    """Start axe on the page as it is now, without waiting for it (see ``audited``)."""
    page.evaluate("(ids) => { window.__audit = window.__auditPage(ids); }", list(DUPLICATE_IDS))


def audited(page, where: str) -> list[str]:
    """The serious and critical violations found by the audit started on the page, one line
    each: where, the rule, and the elements at fault."""
    found = page.evaluate("() => window.__audit")
    return [
        f"{where} — {v['id']} ({v['impact']}: {v['help']}): {', '.join(v['targets'])}"
        for v in found
        if v["impact"] in BLOCKING or v["id"] in DUPLICATE_IDS
    ]


def audit_now(page, where: str) -> list[str]:
    """The serious and critical violations on the page as it is now."""
    start_audit(page)
    return audited(page, where)


def open_page(page, base: str, url: str, status: int) -> str | None:
    """Open the page; what is wrong with the answer (status, not HTML), if anything."""
    response = page.goto(base + url)
    if response is None or response.status != status:
        got = response.status if response else "no response"
        return f"{url}: expected status {status}, got {got}"
    kind = response.headers.get("content-type", "")
    if not kind.startswith("text/html"):
        return f"{url}: not an HTML page ({kind}); list it in NOT_PAGES"
    return None


def audit_pages(tabs: list[Any], base: str, pages: list[tuple[str, int]]) -> list[str]:
    """Every page audited, ``len(tabs)`` at a time: each tab is its own renderer process, so
    axe runs in one while the next page loads in another."""
    problems: list[str] = []
    for i in range(0, len(pages), len(tabs)):
        running = []
        for tab, (url, status) in zip(tabs, pages[i : i + len(tabs)], strict=False):
            wrong = open_page(tab, base, url, status)
            if wrong:
                problems.append(wrong)
            else:
                start_audit(tab)
                running.append((tab, url))
        for tab, url in running:
            problems.extend(audited(tab, url))
    return problems


def test_every_get_page_has_a_role_and_its_parameters(plan):
    """A GET route the audit cannot place (no role sees it) or fill (a path parameter without
    an entry in FILL) fails here by name, instead of escaping the audit."""
    assert plan.unplaced == [], "\n".join(plan.unplaced)
    assert all(plan.pages.values()), plan.pages


@pytest.mark.parametrize("role", ["anonymous", *SIGNED_IN])
def test_no_serious_violation_on_any_page(server, plan, browser, role):
    base, _ = server
    context = axe_context(browser)
    try:
        tabs = [context.new_page() for _ in range(TABS)]
        name = username_of(role, plan)
        if name:
            sign_in(tabs[0], base, name)  # the context's cookie serves every tab
        problems = audit_pages(tabs, base, plan.pages[role])
    finally:
        context.close()
    assert problems == [], f"{role}: {len(problems)} problem(s)\n" + "\n".join(problems)


def test_no_serious_violation_in_states_reached_by_forms_and_htmx(server, plan, browser):
    """Pages as they are after an action, or before one: a sign-in and an activation refused
    (the forms again, with their error), a participant at the start (the map, a locked lesson,
    the family page with nothing to sign yet, the pre-test under way and an answer saved
    through htmx), and the facilitator's list filtered in place by htmx."""
    base, _ = server
    problems: list[str] = []
    context = axe_context(browser)
    try:
        page = context.new_page()
        page.goto(base + "/login")
        page.fill("#username", "no-such-user")
        page.fill("#password", "not-the-password")
        page.click("button[type=submit]")
        page.wait_for_selector("#login-error")
        problems += audit_now(page, "/login, refused")
        page.goto(base + "/activate")
        page.fill("#code", "AAAA-BBBB")
        page.click("form[action='/activate'] button[type=submit]")
        page.wait_for_selector("#activate-error")
        problems += audit_now(page, "/activate, refused")
    finally:
        context.close()

    context = axe_context(browser)
    try:
        page = context.new_page()
        sign_in(page, base, "budi")
        problems += audit_now(page, "/learn, nothing done yet")
        # a lesson still locked (403, the page says why) and a family page with nothing yet
        for url, status in ((f"/learn/lessons/{plan.demo.lesson}", 403), ("/family", 200)):
            wrong = open_page(page, base, url, status)
            problems += [wrong] if wrong else audit_now(page, f"{url}, nothing done yet")
        page.goto(base + "/learn/quizzes/pre-test")
        page.click("form[action='/learn/quizzes/pre-test/start'] button")
        page.wait_for_selector("fieldset.question")
        problems += audit_now(page, "the pre-test under way")
        first = page.locator("fieldset.question").first
        first.locator("label.choice").first.click()
        first.locator(".saved").wait_for()  # the answer saved, through htmx
        problems += audit_now(page, "the pre-test, an answer saved by htmx")
    finally:
        context.close()

    context = axe_context(browser)
    try:
        page = context.new_page()
        sign_in(page, base, "fasilitator")
        page.goto(base + "/facilitator/cohorts/tng-2024")
        page.select_option("#f-flag", "behind")  # htmx swaps the list, the URL follows
        page.wait_for_url("**/facilitator/cohorts/tng-2024?flag=behind")
        page.wait_for_function("document.querySelector('#list').innerText.includes('cocok')")
        problems += audit_now(page, "the cohort's list filtered by htmx")
    finally:
        context.close()
    assert problems == [], f"{len(problems)} problem(s)\n" + "\n".join(problems)
