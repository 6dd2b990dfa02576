"""The deployment as shipped: Debian's nginx with ``deploy/nginx/integritas.conf`` in front of
``integritas serve --workers 2`` on one database (a new PostgreSQL database in the PostgreSQL
phase, a SQLite file otherwise), after ``migrate``, ``content sync`` and ``seed-demo``. A
participant and the facilitator go through nginx as a phone would; what nginx and the
application answer is checked on the way: compression done once, cache headers, the request
id shared by both logs, the client's own address as the application sees it, the body limit.
"""

from __future__ import annotations

import gzip
import re
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlparse

import brotli
import httpx
from sqlalchemy import create_engine, text

from app.config import ROOT
from tests.conftest import csrf_of
from tests.deploy.nginx import nginx_or_skip, run_nginx
from tests.deploy.processes import (
    access_lines,
    cli,
    deploy_database,
    healthy,
    logged,
    serve,
    site_env,
    written,
)

PASSWORD = "demo-integritas"
UPLOAD_LIMIT = 5 * 1024 * 1024  # APP_MAX_UPLOAD_BYTES' default; nginx's client_max_body_size
CLIENT = "127.0.0.2"  # the "phone": a loopback address that is not a trusted proxy
HASHED = re.compile(r"/static/[A-Za-z0-9._/-]+\.[0-9a-f]{12}\.(?:css|js)")


def fetch(client: httpx.Client, url: str, **headers: str) -> tuple[httpx.Response, bytes]:
    """A GET whose body is read as sent, not decoded by httpx: the response and its body
    decoded once (``decode_once``)."""
    with client.stream("GET", url, headers=headers) as response:
        raw = b"".join(response.iter_raw())
    return response, decode_once(response, raw)


def decode_once(response: httpx.Response, raw: bytes) -> bytes:
    """The body decoded with its single Content-Encoding, which must be br or gzip."""
    encoding = response.headers.get("content-encoding", "")
    assert encoding in ("br", "gzip"), f"{response.url}: Content-Encoding {encoding!r}"
    body = brotli.decompress(raw) if encoding == "br" else gzip.decompress(raw)
    # compressed once: what comes out is the document, not another compressed stream
    assert not body.startswith((b"\x1f\x8b", b"\x28\xb5\x2f\xfd")), "compressed twice"
    return body


def sign_in(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    page = client.get("/login")
    assert page.status_code == 200
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
    )


def test_nginx_in_front_of_two_workers(tmp_path: Path) -> None:
    nginx_or_skip()
    with (
        deploy_database(tmp_path, "integritas_deploy_test") as database_url,
        ExitStack() as stack,
    ):
        env = site_env(tmp_path, database_url, trusted_proxies="127.0.0.1")
        cli(env, "migrate")
        cli(env, "content", "sync")
        cli(env, "seed-demo")
        app, upstream = serve(stack, env, tmp_path / "app.log", workers=2, wait=False)
        nginx = run_nginx(stack, tmp_path / "nginx", urlparse(upstream).port or 0)
        healthy(app, upstream)
        assert httpx.get(nginx.base + "/healthz", timeout=10).status_code == 200
        transport = httpx.HTTPTransport(local_address=CLIENT)
        with httpx.Client(
            base_url=nginx.base,
            transport=transport,
            headers={"Accept-Encoding": "br, gzip"},
            timeout=30,
            follow_redirects=False,
        ) as phone:
            _journey(phone, nginx.base)
            _static_files(phone)
            _request_ids(phone, app.output, nginx.access_log)
            _client_address(phone, database_url)
            _body_limit(phone, app.output)
        # two worker processes answered behind nginx
        assert len(re.findall(r"Started server process \[\d+\]", app.output())) == 2
        assert "[error]" not in nginx.error_log(), nginx.error_log()


def _journey(phone: httpx.Client, base: str) -> None:
    """Sign in, a pre-test answer, the pre-test submitted, a lesson, sign out; then the
    facilitator's cohort page. Every page arrives compressed once and is not cached."""
    assert sign_in(phone, "budi").headers["location"] == "/learn"
    learn, body = fetch(phone, "/learn")
    assert learn.status_code == 200
    page = body.decode()
    assert "Budi Santoso" in page and page.rstrip().endswith("</html>")
    assert learn.headers["cache-control"] == "no-store"  # a personal page: never stored
    assert "accept-encoding" in learn.headers.get("vary", "").lower()
    assert 'href="/learn/quizzes/pre-test"' in page

    intro = phone.get("/learn/quizzes/pre-test")
    started = phone.post("/learn/quizzes/pre-test/start", data={"csrf_token": csrf_of(intro.text)})
    assert started.status_code == 303
    quiz = phone.get("/learn/quizzes/pre-test")
    assert quiz.status_code == 200
    attempt = re.search(r'name="attempt_id" value="(\d+)"', quiz.text)
    assert attempt
    choices: dict[str, str] = {}
    for name, value in re.findall(r'name="(q\d+)" value="(\d+)"', quiz.text):
        choices.setdefault(name, value)
    assert len(choices) >= 5
    first, choice = next(iter(choices.items()))
    token = csrf_of(quiz.text)
    saved = phone.post(
        "/learn/quizzes/pre-test/save",
        data={"csrf_token": token, "attempt_id": attempt[1], first: choice},
    )
    assert saved.status_code == 303, saved.text
    again = phone.get(saved.headers["location"])
    assert re.search(rf'name="{first}" value="{choice}" checked', again.text)
    submitted = phone.post(
        "/learn/quizzes/pre-test/submit",
        data={"csrf_token": token, "attempt_id": attempt[1], **choices},
    )
    assert submitted.status_code == 303, submitted.text

    learn = phone.get("/learn")
    lesson_url = re.search(r'href="(/learn/lessons/[^"#]+)"', learn.text)
    assert lesson_url
    lesson, body = fetch(phone, lesson_url[1])
    assert lesson.status_code == 200
    assert "<article" in body.decode()
    assert lesson.headers["cache-control"] == "no-store"

    out = phone.post("/logout", data={"csrf_token": csrf_of(body.decode())})
    assert out.status_code == 303
    assert phone.get("/learn").status_code in (302, 303, 307)  # signed out: to the sign-in

    # gzip for a browser without brotli, still once
    login, body = fetch(phone, "/login", **{"Accept-Encoding": "gzip"})
    assert login.headers["content-encoding"] == "gzip"
    assert b"</html>" in body

    assert sign_in(phone, "fasilitator").headers["location"] == "/facilitator"
    cohort, body = fetch(phone, "/facilitator/cohorts/tng-demo")
    assert cohort.status_code == 200
    assert "TNGD-001" in body.decode()
    out = phone.post("/logout", data={"csrf_token": csrf_of(phone.get("/facilitator").text)})
    assert out.status_code == 303

    # X-Forwarded-Proto is nginx's ($scheme), not the client's; Host keeps nginx's port
    slash = phone.get("/healthz/", headers={"X-Forwarded-Proto": "https"})
    assert slash.status_code == 307
    assert slash.headers["location"] == f"{base}/healthz"


def _static_files(phone: httpx.Client) -> None:
    """The hashed addresses the pages link are served by nginx from app/static: compressed,
    cached for a year; the plain address is revalidated."""
    login = phone.get("/login").text
    assets = sorted(set(HASHED.findall(login)))
    assert any(a.endswith(".css") for a in assets) and any(a.endswith(".js") for a in assets)
    for url in assets:
        response, body = fetch(phone, url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert "x-request-id" not in response.headers  # nginx's own answer, not the app's
        file = re.sub(r"\.[0-9a-f]{12}(\.[a-z]+)$", r"\1", url.removeprefix("/static/"))
        assert body == (ROOT / "app" / "static" / file).read_bytes()
    css = next(a for a in assets if a.endswith(".css"))
    plain_url = re.sub(r"\.[0-9a-f]{12}\.css$", ".css", css)
    plain = phone.get(plain_url)
    assert plain.status_code == 200 and plain.headers["cache-control"] == "no-cache"
    assert "x-request-id" not in plain.headers
    revalidated = phone.get(plain_url, headers={"If-None-Match": plain.headers["etag"]})
    assert revalidated.status_code == 304
    missing = phone.get("/static/css/none.0123456789ab.css")
    assert missing.status_code == 404 and "cache-control" not in missing.headers


def _request_ids(phone: httpx.Client, app_output, nginx_log) -> None:
    """nginx's id for a request (a client's own is replaced) is the one the application
    answers and logs, and the one in nginx's log."""
    response = phone.get("/login", headers={"X-Request-ID": "chosen-by-the-client"})
    request_id = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)  # nginx's $request_id
    lines = logged(app_output, request_id)
    assert [(r["method"], r["route"], r["status"]) for r in lines] == [("GET", "/login", 200)]
    line = f' {request_id} "GET /login '
    assert line in written(nginx_log, line)
    # nothing about static files reached the application
    assert not [r for r in access_lines(app_output()) if r["route"].startswith("/static")]


def _client_address(phone: httpx.Client, database_url: str) -> None:
    """A failed sign-in is counted against the phone's address — not nginx's (127.0.0.1), not
    one the phone wrote into X-Forwarded-For itself."""
    page = phone.get("/login")
    refused = phone.post(
        "/login",
        data={
            "username": "tamu-nginx",
            "password": "bukan-sandinya-9",
            "csrf_token": csrf_of(page.text),
        },
        headers={"X-Forwarded-For": "198.51.100.7"},
    )
    assert refused.status_code in (200, 401, 422), refused.status_code
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            keys = set(conn.execute(text("SELECT key FROM login_failure")).scalars())
    finally:
        engine.dispose()
    assert keys == {"user:tamu-nginx", f"addr:{CLIENT}"}


def _body_limit(phone: httpx.Client, app_output) -> None:
    """nginx refuses a body over the upload limit; one of exactly the limit reaches the
    application (which then refuses it for the missing CSRF token)."""
    url = "/facilitator/cohorts/tng-demo/import"

    def imports() -> int:
        # (counted by route: an earlier request's line may still be on its way to the log)
        return sum(
            r["method"] == "POST" and r["route"] == "/facilitator/cohorts/{slug}/import"
            for r in access_lines(app_output())
        )

    before = imports()
    over = phone.post(url, content=b"x" * (UPLOAD_LIMIT + 1))
    assert over.status_code == 413
    assert "x-request-id" not in over.headers and "nginx" in over.text
    assert imports() == before  # the application never saw it
    at_limit = phone.post(url, content=b"x" * UPLOAD_LIMIT)
    assert at_limit.status_code == 403, at_limit.status_code
    assert "x-request-id" in at_limit.headers
    assert logged(app_output, at_limit.headers["x-request-id"])
    assert imports() == before + 1  # this one did reach it
