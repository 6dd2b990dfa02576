"""Test fixtures: a fresh real database per test (SQLite file; PostgreSQL when
``TEST_DATABASE_URL`` is set), the application, and signed-in clients.

The suite runs in parallel processes (pytest-xdist, ``make test``): on PostgreSQL each process
gets a database of its own next to ``TEST_DATABASE_URL``'s (its name + ``_gw0``, ``_gw1``…),
set in the environment before any test module reads it; scratch databases carry the suffix
too."""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, select, text

import app.models  # noqa: F401
from app.config import ROOT, Settings
from app.curriculum.content import Content, load_content
from app.db import Database, make_engine, metadata
from app.main import create_app

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1"… under pytest-xdist


def _worker_database(url: str | None) -> str | None:
    """This test process's PostgreSQL database: ``url``'s own without parallel processes,
    else one named after the process (created when missing; emptied by ``pg_engine``)."""
    if not url or not url.startswith("postgresql") or not WORKER:
        return url
    base, _, name = url.rpartition("/")
    mine = f"{name}_{WORKER}"
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            known = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": mine}
            ).first()
            if known is None:
                conn.execute(text(f'CREATE DATABASE "{mine}"'))
    finally:
        admin.dispose()
    os.environ["TEST_DATABASE_URL"] = f"{base}/{mine}"  # for the modules and servers after us
    return os.environ["TEST_DATABASE_URL"]


PG_URL = _worker_database(os.environ.get("TEST_DATABASE_URL"))
SECRET = "test-secret-key-" + "x" * 32


@lru_cache
def real_content() -> Content:
    content, problems = load_content(ROOT / "modules")
    assert not problems, "\n".join(map(str, problems))
    return content


@pytest.fixture(scope="session")
def pg_engine():
    if not PG_URL:
        yield None
        return
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        metadata.drop_all(conn)
        metadata.create_all(conn)
    yield engine
    engine.dispose()


@contextmanager
def scratch_pg_database(name: str) -> Iterator[str]:
    """A new, empty PostgreSQL database next to the test one (its URL), dropped afterwards;
    its name carries the test process's (parallel processes do not share it)."""
    assert PG_URL, "needs TEST_DATABASE_URL"
    name = f"{name}_{WORKER}" if WORKER else name
    base, _, _ = PG_URL.rpartition("/")
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{base}/{name}"
    finally:
        drop_pg_database(admin, name)
        admin.dispose()


def drop_pg_database(admin, name: str) -> None:
    """Drop a scratch database: end the test role's own connections to it (a killed server's
    may linger), then ``DROP DATABASE`` without ``FORCE``, which stops an autovacuum worker by
    itself (``FORCE`` would try to terminate that worker too, which only a member of
    ``pg_signal_backend`` may do). Bounded retries while a connection is still going away."""
    from sqlalchemy.exc import OperationalError

    for attempt in range(20):
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid() "
                    "AND usename = current_user"
                ),
                {"name": name},
            )
            try:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                return
            except OperationalError:  # "is being accessed by other users"
                if attempt == 19:
                    raise
        time.sleep(0.25)


@pytest.fixture
def database_url(tmp_path: Path, pg_engine) -> str:
    if pg_engine is not None:
        return PG_URL
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        secret_key=SECRET,
        data_dir=tmp_path / "var",
        content_dir=ROOT / "modules",
    )


def _summary_kept(database: Database) -> None:
    """After every test: the reports' summary the application kept equals a recomputation
    from the raw tables (whatever the test did through the services)."""
    from app.reports.summary import summary_differences

    with database.read() as session:
        problems = summary_differences(session)
    assert not problems, "the report summary is not current:\n" + "\n".join(problems)


@pytest.fixture
def db(settings: Settings, pg_engine) -> Iterator[Database]:
    if pg_engine is not None:
        tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        with pg_engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        database = Database(pg_engine)
        yield database
        _summary_kept(database)
        return
    engine = make_engine(settings.database_url)
    metadata.create_all(engine)
    database = Database(engine)
    yield database
    _summary_kept(database)
    engine.dispose()


@pytest.fixture
def synced(db: Database) -> Database:
    """The database with the real curriculum of ``modules/`` synced into it."""
    from app.curriculum.sync import sync_content

    sync_content(db, real_content())
    return db


def _facts_kept(application) -> None:
    """After every test: each couple's facts the facilitator's pages kept under the couple's
    current learning version (and the current content version) equal a fresh read — a change
    that does not raise the version would leave them behind."""
    from app.cohorts.models import Couple
    from app.curriculum.service import CONTENT_VERSION
    from app.facilitator.workspace import read_couples

    cache = getattr(application.state, "kept_results", {})
    with application.state.db.read() as session:
        content = session.execute(CONTENT_VERSION).scalar() or 0
        versions = dict(session.execute(select(Couple.id, Couple.learning_version)).all())
        problems = []
        for key, couples in list(cache.items()):
            if key[0] != "couples" or key[2] != content:
                continue
            current = [c for c, k in couples.items() if versions.get(c) == k.version]
            if not current:
                continue
            facts, activity = read_couples(session, current)
            for couple_id in current:
                kept = couples[couple_id]
                fresh_facts = {u: facts[u] for u in kept.facts if u in facts}
                fresh_activity = {u: activity[u] for u in kept.facts if u in activity}
                if (kept.facts, kept.activity) != (fresh_facts, fresh_activity):
                    problems.append(f"couple {couple_id}: kept {kept}, fresh {fresh_facts}")
    assert not problems, "the facilitator's kept facts are behind:\n" + "\n".join(problems)


@pytest.fixture
def app(settings: Settings, db: Database):
    application = create_app(settings=settings, db=db)
    yield application
    _facts_kept(application)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def make_client(app):
    clients = []

    def make() -> TestClient:
        c = TestClient(app, raise_server_exceptions=False)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def login(client: TestClient, username: str, password: str = "demo-integritas"):
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )


def post_form(
    client: TestClient, url: str, data: dict | None = None, *, page: str | None = None, **kwargs
):
    """POST a form the way a browser does: with the CSRF token of a page it just saw."""
    html = client.get(page or "/account").text
    return client.post(
        url, data={**(data or {}), "csrf_token": csrf_of(html)}, follow_redirects=False, **kwargs
    )


class QueryCounter:
    """Every statement sent to the database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.engine = db.engine
        self.statements: list[str] = []

    def _on(self, conn, cursor, statement, *args) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")):
            self.statements.append(statement)

    def __enter__(self) -> QueryCounter:
        event.listen(self.engine, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._on)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(db: Database):
    return lambda: QueryCounter(db)


def unique(prefix: str = "u") -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


FIXTURE_CONTENT = Path(__file__).parent / "fixtures" / "content"


@lru_cache
def fixture_content() -> Content:
    content, problems = load_content(FIXTURE_CONTENT)
    assert not problems, "\n".join(map(str, problems))
    return content


@pytest.fixture
def mini(db: Database) -> Database:
    """The database with the small fixture curriculum (two modules, three lessons)."""
    from app.curriculum.sync import sync_content

    sync_content(db, fixture_content())
    return db


QUESTION_RE = re.compile(r'name="q(\d+)" value="(\d+)"')
ATTEMPT_RE = re.compile(r'name="attempt_id" value="(\d+)"')


def open_quiz(client: TestClient, slug: str) -> str:
    """The quiz page with an attempt in progress (started through the page's own form)."""
    page = client.get(f"/learn/quizzes/{slug}")
    if f'action="/learn/quizzes/{slug}/start"' in page.text:
        client.post(f"/learn/quizzes/{slug}/start", data={"csrf_token": csrf_of(page.text)})
        page = client.get(f"/learn/quizzes/{slug}")
    assert ATTEMPT_RE.search(page.text), page.text[:3000]
    return page.text


def quiz_form(db: Database, html: str, *, right: bool | float = True) -> dict:
    """Answers for every question of a quiz page: all right, all wrong, or right for the
    given share of questions (in page order)."""
    from sqlalchemy import select

    from app.curriculum.models import Choice

    choices: dict[int, list[int]] = {}
    for qid, cid in QUESTION_RE.findall(html):
        choices.setdefault(int(qid), []).append(int(cid))
    with db.read() as session:
        correct = set(
            session.execute(
                select(Choice.id).where(Choice.question_id.in_(choices), Choice.correct.is_(True))
            ).scalars()
        )
    share = 1.0 if right is True else 0.0 if right is False else right
    data: dict = {"attempt_id": ATTEMPT_RE.search(html).group(1), "csrf_token": csrf_of(html)}
    for n, (qid, ids) in enumerate(choices.items()):
        good = n < round(share * len(choices))
        picked = [c for c in ids if (c in correct) == good]
        data[f"q{qid}"] = picked if good else picked[:1]
    return data


def take_quiz(client: TestClient, db: Database, slug: str, *, right: bool | float = True):
    html = open_quiz(client, slug)
    return client.post(
        f"/learn/quizzes/{slug}/submit",
        data=quiz_form(db, html, right=right),
        follow_redirects=False,
    )


def answer_checks(client: TestClient, slug: str) -> None:
    """Answer every lesson check of a lesson (the first choice), as a reader would."""
    page = client.get(f"/learn/lessons/{slug}").text
    for qid in dict.fromkeys(re.findall(rf"/learn/lessons/{slug}/checks/(\d+)", page)):
        first = re.search(rf'checks/{qid}".*?name="choice" value="(\d+)"', page, re.S).group(1)
        client.post(
            f"/learn/lessons/{slug}/checks/{qid}",
            data={"choice": first, "csrf_token": csrf_of(page)},
        )
        page = client.get(f"/learn/lessons/{slug}").text


def complete(client: TestClient, slug: str, *, htmx: bool = False):
    """Answer the lesson's checks, then mark it completed through the page's form."""
    answer_checks(client, slug)
    page = client.get(f"/learn/lessons/{slug}")
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        f"/learn/lessons/{slug}/complete",
        data={"csrf_token": csrf_of(page.text)},
        headers=headers,
        follow_redirects=False,
    )
