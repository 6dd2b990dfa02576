"""The fuzz gate: bad values in every form field of every unsafe route, in every path
parameter of every route and in every declared query parameter, sent as someone who may use
the route. No answer may be a 5xx, and an answer 4xx must leave the database as it was.

The routes come from ``app.routes`` (and the JSON API's, under its mount), so a route added
later joins without an edit here. For each route:

- **who sends**: the role its guard names (``app.deps.require_role`` names it
  ``require_<roles>``; ``require_user`` and participants: a participant); routes without a
  guard anonymously; the API with a bearer token;
- **valid values** for everything not being fuzzed: the route's address as the site links to
  it, and the fields of its form as the page shows them, both found by crawling the pages of
  every role (links and forms) in a small world — a cohort, its facilitator, a couple half way
  through module 1 with a quiz attempt open and a family reflection written, KPK, an
  administrator, an API token;
- **bad values** (``EDGE`` for each kind, then ``GENERATED`` Hypothesis examples, derandomized):
  NUL, control and bidirectional characters, lone surrogates as raw UTF-8 escapes, invalid
  UTF-8, integers far beyond 64 bits and negative, decimals and exponents, text in an integer
  field, overlong text, dates (0001-01-01, 9999-12-31, 2024-02-30), combining marks, RTL text,
  emoji, zero-width characters, and a file part where text is expected.

An answer 4xx is compared with a fingerprint of every table taken before it
(``fingerprint``; taken again only after a commit that may have written, ``Writes``). After
each route the database is put back as it was (``restore``), so that what one route's accepted
values did — an account switched off, a token revoked — leaves the next route its world.
Every failure is collected (route, field, value, status, and the line of the application where
the server's traceback ends) and reported together; ``FUZZED`` counts the inputs sent, printed
at the end (``-s``) and held to ``FLOOR``.
"""

from __future__ import annotations

import hashlib
import logging
import re
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import delete, event, insert, select
from starlette.routing import Mount

from app.accounts.models import User
from app.api import service as api_service
from app.db import Database, metadata, touch_learning
from app.main import create_app
from tests.api.conftest import create_token
from tests.conftest import complete, csrf_of, login, open_quiz, take_quiz
from tests.factories import PASSWORD, make_cohort, make_couple, make_user

try:  # a FastAPI that keeps included routes as contexts (see tests/admin/test_audit.py)
    from fastapi.routing import iter_route_contexts
except ImportError:  # pragma: no cover — one that keeps them flat in ``app.routes``
    iter_route_contexts = None

FUZZED = 0  # inputs sent in this run (every case of every field)
FLOOR = 3500  # the gate covers at least this many; fewer means routes or fields went missing

# Tables left out of the fingerprint, and why: they record refusals on purpose.
UNFINGERPRINTED_TABLES = {
    "login_failure",  # a refused sign-in is recorded to throttle the next guesses
}
# Columns left out: touched by authentication, not by the refused input.
UNFINGERPRINTED_COLUMNS = {
    ("api_token", "last_used_at"),  # a valid token's last use, at most once a minute
}

GENERATED = {"path": 4, "form": 6, "query": 2}  # Hypothesis examples per field, beyond EDGE
# a route with more fields than this gives each of them only the CORE cases and 2 examples
# (the reminder texts have 18 alike)
MANY_FIELDS = 8


# ---------------------------------------------------------------- values


@dataclass(frozen=True)
class Raw:
    """Bytes sent as they are (percent-escaped), not as UTF-8 text: invalid sequences."""

    data: bytes


@dataclass(frozen=True)
class Upload:
    """A file part in place of the field."""

    content: bytes = b"name,role\n"
    filename: str = "daftar.csv"


Value = str | Raw | Upload

TEXT_EDGE: list[Value] = [
    "bu\x00di",
    "\x00",
    "AB\x00CD",
    "\x1b[31mmerah",
    "a\x7fb",
    "a\x85b",  # NEL, a C1 control
    "tab\there",
    "baris\nbaru",
    "\u202egnp.exe",  # right-to-left override
    "\u2066isolasi\u2069",
    "\ud800",  # a lone surrogate: sent as its raw UTF-8 escape %ED%A0%80
    Raw(b"\xed\xa0\x80"),
    Raw(b"\xff\xfe"),  # not UTF-8 at all
    "x" * 10_001,
    "e\u0301\u0301\u0301\u0301",  # combining marks
    "\u0643\u0644\u0645\u0629 \u0639\u0631\u0628\u064a\u0629",  # RTL text
    "\U0001f46a\u200d\U0001f3e0",  # emoji with a zero-width joiner
    "\u200b\ufeff",  # zero-width space, byte-order mark
    str(2**70),
    "-" + str(2**70),
    "0001-01-01",
    "9999-12-31",
    "2024-02-30",
    "",
    Upload(),
]
PATH_EDGE: list[Value] = [  # for a path parameter of text
    "AB\x00CD",
    "\x1f",
    "a\x85b",
    "\u202eabc",
    "\ud800",
    Raw(b"\xff"),
    "x" * 300,
    str(2**70),
    "0001-01-01",
    "\U0001f46a",
]
INT_PATH_EDGE: list[Value] = [  # for a path parameter declared int
    "1\x00",
    "\ud800",
    str(2**70),
    str(2**31),
    "-" + str(2**63),
    "-1",
    "0",
    "1e9",
    "1.0",
    "9" * 300,
    "satu",
]
QUERY_EDGE: list[Value] = [
    "\x00",
    "\ud800",
    "x" * 10_001,
    str(2**70),
    "-" + str(2**70),
    "0001-01-01",
    "9999-12-31",
    "\u202e",
]
EDGE = {"path": PATH_EDGE, "form": TEXT_EDGE, "query": QUERY_EDGE}
CORE: list[Value] = ["bu\x00di", "a\x85b", "baris\nbaru", "\ud800", str(2**70), "x" * 10_001]
CORE += ["0001-01-01", Upload()]

ODD_CHARACTERS = st.sampled_from(
    ["\x00", "\x01", "\x0b", "\x1f", "\x7f", "\x9f", "\u202a", "\u202e", "\u2066", "\u2069"]
    + ["\u200b", "\u200d", "\u0301", "\u05d0", "\u0627", "\U0001f600", "\ufeff", "\ud83d"]
)
NUMBERS = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80),
    st.integers(min_value=2**31 - 2, max_value=2**64 + 2),
    st.integers(min_value=-(2**64) - 2, max_value=-(2**31) + 2),
).map(str)
BAD_VALUES = st.one_of(
    NUMBERS,
    st.text(st.one_of(ODD_CHARACTERS, st.characters(codec="utf-8")), max_size=40),
    st.text(ODD_CHARACTERS, min_size=1, max_size=5),
    st.dates().map(lambda d: d.isoformat()),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.binary(min_size=1, max_size=8).map(Raw),
    st.integers(min_value=190, max_value=12_000).map(lambda n: "é" * n),
)


def _escape(value: str | Raw, *, path: bool = False) -> str:
    data = value.data if isinstance(value, Raw) else value.encode("utf-8", "surrogatepass")
    return quote(data, safe="") if path else quote_plus(data)


def encode(fields: list[tuple[str, Value]]) -> tuple[bytes, str]:
    """A form body and its content type: urlencoded, or multipart when a file part is in it
    (every other value then a text part, its bytes as given)."""
    if not any(isinstance(v, Upload) for _, v in fields):
        body = "&".join(
            f"{quote_plus(k)}={_escape(v)}" for k, v in fields if not isinstance(v, Upload)
        )
        return body.encode("ascii"), "application/x-www-form-urlencoded"
    boundary = "fuzz-boundary-7d2f"
    parts: list[bytes] = []
    for name, value in fields:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
        if isinstance(value, Upload):
            head += f'; filename="{value.filename}"\r\nContent-Type: text/csv'
            data = value.content
        else:
            data = value.data if isinstance(value, Raw) else value.encode("utf-8", "surrogatepass")
        parts.append(head.encode() + b"\r\n\r\n" + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


# ---------------------------------------------------------------- the routes


@dataclass
class Route:
    method: str
    path: str  # with its mount's prefix
    regex: re.Pattern[str]
    path_params: list[str]
    int_params: set[str]  # the path parameters declared int
    query_params: list[str]
    form_params: list[str]  # declared ones
    role: str  # anonymous, participant, facilitator, kpk, admin, api
    url: str | None = None  # an address the site links to (valid path values)
    form: list[tuple[str, str]] = field(default_factory=list)  # the page's form, as shown
    form_found: bool = False


def _guard_role(route: APIRoute) -> str:
    names: list[str] = []
    todo = [route.dependant]
    while todo:
        current = todo.pop()
        for sub in current.dependencies:
            name = getattr(sub.call, "__name__", "")
            if name.startswith("require_"):
                names.append(name)
            todo.append(sub)
    if not names:
        return "anonymous"
    roles = set(names[0].removeprefix("require_").split("_"))
    if roles & {"user", "participant"}:
        return "participant"
    others = sorted(roles - {"admin"})
    return others[0] if others else "admin"


def _params(route: APIRoute) -> tuple[list[str], set[str], list[str], list[str]]:
    path: list[str] = []
    ints: set[str] = set()
    query: list[str] = []
    form: list[str] = []
    todo = [route.dependant]
    while todo:
        current = todo.pop()
        path += [p.alias for p in current.path_params]
        ints |= {p.alias for p in current.path_params if p.field_info.annotation is int}
        for p in current.query_params:
            model = getattr(p.field_info.annotation, "model_fields", None)
            query += [f.alias or n for n, f in model.items()] if model else [p.alias]
        form += [p.alias for p in current.body_params]
        todo.extend(current.dependencies)
    unique = lambda names: list(dict.fromkeys(names))  # noqa: E731
    return unique(path), ints, unique(query), unique(form)


def _regex(path: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{(\w+)(?::\w+)?\\\}", r"(?P<\1>[^/]+)", re.escape(path))
    return re.compile(pattern + "$")


def every_route(app) -> list[Route]:
    """Every API route of the application and of the applications mounted in it."""

    def walk(routes, prefix: str, api: bool) -> Iterator[Route]:
        contexts = list(iter_route_contexts(routes)) if iter_route_contexts else routes
        for context in contexts:
            original = getattr(context, "original_route", context)
            if isinstance(original, APIRoute):
                full = prefix + context.path
                path, ints, query, form = _params(original)
                for method in sorted(context.methods - {"HEAD"}):
                    yield Route(
                        method,
                        full,
                        _regex(full),
                        path,
                        ints,
                        query,
                        form,
                        "api" if api else _guard_role(original),
                    )
            elif isinstance(original, Mount) and hasattr(original.app, "routes"):
                yield from walk(original.app.routes, prefix + context.path, True)

    return sorted(walk(app.routes, "", False), key=lambda r: (r.path, r.method))


# ---------------------------------------------------------------- pages: links and forms


class PageParser(HTMLParser):
    """The links and forms of a page (each form with the values a browser would send)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[tuple[str, str, list[tuple[str, str]]]] = []
        self._form: list[tuple[str, str]] | None = None
        self._radios: set[str] = set()
        self._select: str | None = None
        self._textarea: str | None = None
        self._text = ""
        self._button = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if a.get("hx-get", "").startswith("/"):
            self.links.append(a["hx-get"])
        if tag == "a" and a.get("href", "").startswith("/"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form, self._radios, self._button = [], set(), False
            method = "POST" if a.get("hx-post") else a.get("method", "get").upper()
            action = a.get("hx-post") or a.get("action") or ""
            self.forms.append((method, action, self._form))
            return
        if a.get("hx-post", "").startswith("/"):  # a button of its own (within a form or not)
            self.forms.append(("POST", a["hx-post"], self._form if self._form is not None else []))
        elif tag == "option" and self._select is not None and self._form is not None:
            self._form.append((self._select, a.get("value", "")))
            self._select = None  # its first option
        elif self._form is None or "name" not in a:
            return
        elif tag == "input":
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox"):
                if a["name"] not in self._radios:  # the first choice of each group
                    self._radios.add(a["name"])
                    self._form.append((a["name"], a.get("value", "on")))
            elif kind == "submit":
                if not self._button:
                    self._button = True
                    self._form.append((a["name"], a.get("value", "")))
            elif kind != "file":
                self._form.append((a["name"], a.get("value", "")))
        elif tag == "button" and not self._button and a.get("type", "submit") == "submit":
            self._button = True
            self._form.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select = a["name"]
        elif tag == "textarea":
            self._textarea, self._text = a["name"], ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.append((self._textarea, self._text))
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self._form = None


SKIPPED = (".pdf", ".csv", ".xlsx", "/logout")  # not fetched (their address is noted)


def crawl(routes: list[Route], clients: dict[str, TestClient], starts: dict[str, str]) -> None:
    """Visit the pages of every role from its start page, following links (at most two
    addresses per route), and give each route an address and its form as the pages show
    them (htmx attributes too)."""
    by_method: dict[str, list[Route]] = {}
    for route in routes:
        by_method.setdefault(route.method, []).append(route)

    def match(method: str, url: str) -> Route | None:
        path = urlsplit(url).path
        return next((r for r in by_method.get(method, ()) if r.regex.match(path)), None)

    for role, start in starts.items():
        client = clients[role]
        todo, seen, visits = [start], {start}, dict[int, int]()
        while todo and len(seen) < 150:
            url = todo.pop(0)
            route = match("GET", url)
            if route is not None:
                visits[id(route)] = visits.get(id(route), 0) + 1
                if visits[id(route)] > 2:
                    continue
            page = client.get(url)
            if page.status_code != 200 or "text/html" not in page.headers.get("content-type", ""):
                continue
            if route is not None and route.role == role and route.url is None:
                route.url = urlsplit(url).path
            parser = PageParser()
            parser.feed(page.text)
            for method, action, fields in parser.forms:
                target = match(method, action.split("#")[0] or url)
                if target is not None and target.role == role and not target.form_found:
                    target.url = urlsplit(action).path or urlsplit(url).path
                    target.form = [(k, v) for k, v in fields if k != "csrf_token"]
                    target.form_found = True
            for link in parser.links:
                link = link.split("#")[0]
                if not link or link in seen or link.startswith("/static"):
                    continue
                seen.add(link)
                if not urlsplit(link).path.endswith(SKIPPED):
                    todo.append(link)
                elif (linked := match("GET", link)) and linked.role == role and not linked.url:
                    linked.url = urlsplit(link).path


def _shared(a: str, b: str) -> int:
    """How many leading path segments two route paths share."""
    n = 0
    for x, y in zip(a.split("/"), b.split("/"), strict=False):
        if x != y:
            break
        n += 1
    return n


def borrow(routes: list[Route]) -> None:
    """For a route no page links to (or shows the form of): the path values and the form of
    its nearest relative that has them (the route sharing the most leading segments: the
    quiz's "save" borrows its "submit" form), so that the other fields are valid there too."""
    for route in routes:
        if route.url is None:
            values: dict[str, str] = {}
            for name in route.path_params:
                relatives = [
                    (_shared(route.path, other.path), m.group(name))
                    for other in routes
                    if other.url and name in other.path_params
                    if (m := other.regex.match(other.url))
                ]
                if relatives:
                    values[name] = max(relatives, key=lambda r: r[0])[1]
            route.url = re.sub(
                r"\{(\w+)(?::\w+)?\}",
                lambda m, values=values: quote(values.get(m.group(1), "1"), safe=""),
                route.path,
            )
        if route.method == "POST" and not route.form_found:
            relatives = [
                (_shared(route.path, other.path), other.form)
                for other in routes
                if other.form_found and other.method == route.method and other.role == route.role
            ]
            best = max(relatives, key=lambda r: r[0], default=(0, []))
            if best[0] >= 3:  # at least "/area/{slug}"-deep relatives
                route.form = list(best[1])


def with_value(route: Route, url: str, name: str, value: str | Raw) -> str:
    """The address with one path parameter replaced."""
    match = route.regex.match(url)
    assert match is not None, (route.path, url)
    start, end = match.span(name)
    return url[:start] + _escape(value, path=True) + url[end:]


# ---------------------------------------------------------------- the database


def fingerprint(db: Database) -> dict[str, str]:
    """A digest of every table's rows (but the ones that record refusals on purpose)."""
    digests = {}
    with db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name in UNFINGERPRINTED_TABLES:
                continue
            columns = [
                c for c in table.columns if (table.name, c.name) not in UNFINGERPRINTED_COLUMNS
            ]
            rows = sorted(repr(tuple(row)) for row in conn.execute(select(*columns)))
            digests[table.name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return digests


class Writes:
    """Whether a transaction that sent a statement which may write was committed since the
    last look: only then is the fingerprint (some 20 ms) taken again, since a database to
    which nothing was committed cannot have changed."""

    READS = ("SELECT", "PRAGMA", "BEGIN", "SHOW", "SET ", "SAVEPOINT", "RELEASE", "ROLLBACK")

    def __init__(self, db: Database) -> None:
        self.engine = db.engine
        self.pending: set[int] = set()  # connections with a write in their transaction
        self.dirty = False

    def _statement(self, conn, cursor, statement: str, *args) -> None:
        if not statement.lstrip()[:9].upper().startswith(self.READS):
            self.pending.add(id(conn))

    def _commit(self, conn) -> None:
        if id(conn) in self.pending:
            self.pending.discard(id(conn))
            self.dirty = True

    def _rollback(self, conn) -> None:
        self.pending.discard(id(conn))

    EVENTS = (
        ("before_cursor_execute", "_statement"),
        ("commit", "_commit"),
        ("rollback", "_rollback"),
    )

    def __enter__(self) -> Writes:
        for name, method in self.EVENTS:
            event.listen(self.engine, name, getattr(self, method))
        return self

    def __exit__(self, *exc) -> None:
        for name, method in self.EVENTS:
            event.remove(self.engine, name, getattr(self, method))

    def seen(self) -> bool:
        dirty, self.dirty = self.dirty, False
        return dirty


def snapshot(db: Database) -> dict[str, list[dict[str, Any]]]:
    with db.engine.connect() as conn:
        return {
            table.name: [dict(row._mapping) for row in conn.execute(select(table))]
            for table in metadata.sorted_tables
        }


def restore(db: Database, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Every table as it was in the snapshot, so that what one route's accepted values did
    (an account switched off, a facilitator removed, a token revoked) does not take the next
    route's world away; the reports' summary is recomputed as after any such change."""
    with db.write() as session:
        for table in reversed(metadata.sorted_tables):
            session.execute(delete(table))
        for table in metadata.sorted_tables:
            if rows[table.name]:
                session.execute(insert(table), rows[table.name])
        touch_learning(session, everyone=True)


class ServerErrors(logging.Handler):
    """The tracebacks the application logs for its 500s."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.last: str = ""

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            frames = traceback.extract_tb(record.exc_info[2])
            ours = [
                f for f in frames if "/app/" in f.filename and "site-packages" not in f.filename
            ]
            last = (ours or frames)[-1]
            where = f"{last.filename.split('/app/')[-1]}:{last.lineno} {last.line}"
            self.last = f"{record.exc_info[0].__name__}: {record.exc_info[1]} at {where}"


# ---------------------------------------------------------------- the world


@dataclass
class World:
    app: Any
    db: Database
    clients: dict[str, TestClient]  # by role
    tokens: dict[str, str]  # CSRF token of each role's client
    opened: ExitStack  # every client, closed after the test


def sign_in(client: TestClient, username: str) -> str:
    assert login(client, username, PASSWORD).status_code == 303, username
    return csrf_of(client.get("/account").text)


def build_world(db: Database, settings, monkeypatch) -> World:
    monkeypatch.setattr(api_service, "RATE_PER_MINUTE", 1_000_000)  # the fuzz sends many
    app = create_app(settings=settings, db=db)
    rina = make_user(db, settings, "rina", "facilitator")
    make_user(db, settings, "analis", "kpk")
    make_user(db, settings, "pengelola", "admin")
    cohort = make_cohort(db, "uji", facilitator=rina)
    official, spouse = make_couple(db, settings, cohort, "uji-001")
    make_couple(db, settings, cohort, "uji-002")
    with db.write() as session:  # a contact, so that the reminder buttons show
        for user in session.execute(select(User).where(User.couple_id.is_not(None))).scalars():
            user.contact = "+6281234567890"
    secret = create_token(db, "fuzz").secret

    opened = ExitStack()

    def client() -> TestClient:
        # entered: one event loop thread for all its requests, not one each
        return opened.enter_context(TestClient(app, raise_server_exceptions=False))

    users = {
        "participant": official.username,
        "facilitator": "rina",
        "kpk": "analis",
        "admin": "pengelola",
    }
    clients = {role: client() for role in users}
    tokens = {role: sign_in(clients[role], name) for role, name in users.items()}
    anonymous = client()
    tokens["anonymous"] = csrf_of(anonymous.get("/login").text)
    clients["anonymous"] = anonymous
    api = client()
    api.headers["Authorization"] = f"Bearer {secret}"
    clients["api"], tokens["api"] = api, ""

    # the couple half way through module 1: pre-test, two lessons, a reflection, a quiz open
    learner = clients["participant"]
    assert take_quiz(learner, db, "pre-test", right=0.5).status_code == 303
    complete(learner, "awal")
    complete(learner, "kedua")
    reflection = learner.post(
        "/family/reflections/satu",
        data={"text": "Kami sepakat jujur.", "csrf_token": tokens["participant"]},
    )
    assert reflection.status_code in (200, 303), reflection.text[:500]
    open_quiz(learner, "kuis-satu")
    spouse_client = client()
    sign_in(spouse_client, spouse.username)
    take_quiz(spouse_client, db, "pre-test", right=0.5)
    return World(app, db, clients, tokens, opened)


# ---------------------------------------------------------------- the gate


@dataclass
class Failure:
    route: str
    where: str
    name: str
    value: str
    status: int
    detail: str

    def __str__(self) -> str:
        return (
            f"{self.route} {self.where} {self.name}={self.value[:80]!r}: {self.status} "
            f"{self.detail}"
        )


def fuzz_field(
    send: Callable[[Value], tuple[int, str]], edge: list[Value], examples: int
) -> Iterator[tuple[Value, int, str]]:
    """The field's answers to the edge cases, then to Hypothesis's values."""
    for value in edge:
        yield (value, *send(value))
    answers: list[tuple[Value, int, str]] = []

    @given(value=BAD_VALUES)
    @hypothesis_settings(
        max_examples=max(examples, 1),
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def generated(value: Value) -> None:
        answers.append((value, *send(value)))

    if examples:
        generated()
    yield from answers


@pytest.fixture
def world(mini, settings, monkeypatch) -> Iterator[World]:
    built = build_world(mini, settings, monkeypatch)
    with built.opened:
        yield built


class Fuzzer:
    """Sends one route's cases and judges each answer."""

    def __init__(self, world: World, writes: Writes, errors: ServerErrors) -> None:
        self.world = world
        self.writes = writes
        self.errors = errors
        self.before = fingerprint(world.db)
        self.failures: list[Failure] = []
        self.statuses: Counter[int] = Counter()
        self.wrote = False  # since the last restore

    def send(
        self, route: Route, url: str, form: list[tuple[str, Value]], query: str = ""
    ) -> tuple[int, str]:
        """One request; the status, and what is wrong with the answer ("" when nothing)."""
        global FUZZED
        FUZZED += 1
        self.errors.last = ""
        headers: dict[str, str] = {}
        body = None
        if route.method not in ("GET", "HEAD"):
            token = self.world.tokens[route.role]
            body, headers["content-type"] = encode([*form, ("csrf_token", token)])
        client = self.world.clients[route.role]
        response = client.request(
            route.method, url + query, content=body, headers=headers, follow_redirects=False
        )
        status = response.status_code
        self.statuses[status] += 1
        if status >= 500:
            return status, self.errors.last or response.text[:200]
        if self.writes.seen():
            self.wrote = True
            after = fingerprint(self.world.db)
            changed = [name for name in after if after[name] != self.before.get(name)]
            self.before = after
            if status >= 400 and changed:
                return status, f"a {status} changed {', '.join(changed)}"
        return status, ""

    def cases(self, route: Route) -> Iterator[tuple[str, str, Callable[[Value], tuple[int, str]]]]:
        """(where, field, send one value) for every path parameter, every declared query
        parameter of a safe route, and every form field of an unsafe route (those its page
        shows and those it declares, and one it does not expect)."""
        url = route.url or route.path
        form = list(route.form) + [(n, "") for n in route.form_params if n not in dict(route.form)]
        for name in route.path_params:
            yield (
                "path",
                name,
                lambda v, n=name: self.send(route, with_value(route, url, n, v), form),
            )
        if route.method in ("GET", "HEAD"):
            for name in route.query_params:
                yield (
                    "query",
                    name,
                    lambda v, n=name: self.send(route, url, form, f"?{quote_plus(n)}={_escape(v)}"),
                )
            return
        for name in dict.fromkeys([n for n, _ in form] + ["unexpected"]):
            others = [(k, x) for k, x in form if k != name]
            yield "form", name, lambda v, n=name, o=others: self.send(route, url, [*o, (n, v)])


def test_no_bad_value_gives_a_5xx_or_changes_anything(world: World, record_property):
    routes = every_route(world.app)
    starts = {
        "anonymous": "/login",
        "participant": "/learn",
        "facilitator": "/facilitator",
        "kpk": "/kpk",
        "admin": "/admin",
    }
    crawl(routes, world.clients, starts)
    linked = [r for r in routes if r.url is not None]
    with_form = [r for r in routes if r.form_found]
    borrow(routes)
    assert len(linked) >= len(routes) // 2, "the crawl found too few of the routes"

    original = snapshot(world.db)
    errors = ServerErrors()
    logging.getLogger("integritas").addHandler(errors)
    fields = 0
    try:
        with Writes(world.db) as writes:
            fuzzer = Fuzzer(world, writes, errors)
            for route in routes:
                cases = list(fuzzer.cases(route))
                many = sum(where == "form" for where, _, _ in cases) > MANY_FIELDS
                for where, name, send in cases:
                    fields += 1
                    edge, examples = EDGE[where], GENERATED[where]
                    if many and where == "form":
                        edge, examples = CORE, 2
                    elif where == "path" and name in route.int_params:
                        edge = INT_PATH_EDGE
                    for value, status, detail in fuzz_field(send, edge, examples):
                        if detail:
                            shown = value if isinstance(value, str) else repr(value)
                            fuzzer.failures.append(
                                Failure(
                                    f"{route.method} {route.path}",
                                    where,
                                    name,
                                    shown,
                                    status,
                                    detail,
                                )
                            )
                if fuzzer.wrote or writes.seen():
                    restore(world.db, original)
                    writes.seen()
                    fuzzer.before, fuzzer.wrote = fingerprint(world.db), False
    finally:
        logging.getLogger("integritas").removeHandler(errors)

    print(
        f"\nfuzz gate: {FUZZED} inputs in {fields} fields of {len(routes)} routes "
        f"({len(linked)} reached through the pages, {len(with_form)} with their form); "
        f"answers {dict(sorted(fuzzer.statuses.items()))}"
    )
    record_property("fuzzed_inputs", FUZZED)  # in the JUnit report too
    failures = fuzzer.failures
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(map(str, failures[:80]))
    assert FUZZED >= FLOOR, FUZZED
