"""What every request meets before a route: the body limits (413, before anything is read
into a form or spooled), HEAD wherever GET works, and a 500 that says it closes."""

from __future__ import annotations

import socket

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import csrf_of, login
from tests.factories import PASSWORD, make_cohort, make_user
from tests.live_server import live_server, run_cli, server_env


def test_a_form_over_64_kb_is_refused_with_413_and_its_limit(client, db):
    page = client.get("/login")
    body = {"username": "budi", "password": "x" * (70 * 1024), "csrf_token": csrf_of(page.text)}
    response = client.post("/login", data=body)
    assert response.status_code == 413
    assert "paling besar 64 KB" in response.text
    assert response.headers["connection"] == "close"
    # just under the limit, the form reaches the route (which refuses the long password itself)
    body["password"] = "x" * (60 * 1024)
    assert client.post("/login", data=body).status_code == 422


def test_an_upload_may_be_larger_than_a_form_but_not_larger_than_the_setting(
    make_client, db, settings
):
    rina = make_user(db, settings, "rina", "facilitator")
    make_cohort(db, "uji", facilitator=rina)
    client = make_client()
    login(client, "rina", PASSWORD)
    page = client.get("/facilitator/cohorts/uji/import")
    token = csrf_of(page.text)
    url = "/facilitator/cohorts/uji/import"
    roster = b"nama,peran\n" + b"a" * (settings.max_upload_bytes + 10)
    too_big = client.post(
        url, data={"csrf_token": token}, files={"file": ("roster.csv", roster, "text/csv")}
    )
    assert too_big.status_code == 413
    assert "paling besar 5 MB" in too_big.text
    # 200 KB is over the form limit but is an upload: it reaches the importer
    small = b"nama,peran\n" + b"a" * (200 * 1024)
    answer = client.post(
        url, data={"csrf_token": token}, files={"file": ("roster.csv", small, "text/csv")}
    )
    assert answer.status_code != 413
    # the same 200 KB sent to a route that takes no file is refused
    other = client.post(
        "/account/password",
        data={"csrf_token": token},
        files={"file": ("roster.csv", small, "text/csv")},
    )
    assert other.status_code == 413


def test_head_answers_wherever_get_does(client, db, settings):
    for path in ("/login", "/healthz", "/activate", "/verify"):
        get = client.get(path, follow_redirects=False)
        head = client.head(path, follow_redirects=False)
        assert head.status_code == get.status_code, path
        assert head.content == b""
        assert head.headers.get("content-type") == get.headers.get("content-type")
    make_user(db, settings, "rina", "facilitator")
    login(client, "rina", PASSWORD)
    assert client.head("/facilitator", follow_redirects=False).status_code == 200
    assert client.head("/kpk", follow_redirects=False).status_code == 403
    # a POST-only route still answers 405 to HEAD, like GET
    assert client.head("/logout").status_code == client.get("/logout").status_code == 405


def test_a_500_says_connection_close(app, db):
    @app.get("/boom-for-the-test")
    async def boom() -> None:
        raise RuntimeError("broken on purpose")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom-for-the-test")
    assert response.status_code == 500
    assert response.headers["connection"] == "close"
    assert "Terjadi kesalahan" in response.text or "kesalahan" in response.text.lower()


# ---------------------------------------------------------------- over a real connection


@pytest.fixture
def server(tmp_path):
    env = server_env(tmp_path, "edge")
    run_cli(env, "migrate")
    with live_server(env) as base:
        yield base


def _raw(base: str, request: bytes, then: bytes = b"") -> bytes:
    """Send raw bytes, then (after the headers) more bytes; the server's whole answer."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        if then:
            try:
                sock.sendall(then)
            except OSError:  # the server already answered and closed
                pass
        answer = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            answer += chunk
    return answer


def test_a_declared_500_mb_body_is_refused_before_it_is_sent(server):
    answer = _raw(
        server,
        b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 524288000\r\nConnection: keep-alive\r\n\r\n",
    )
    head = answer.split(b"\r\n\r\n", 1)[0].lower()
    assert head.startswith(b"http/1.1 413")
    assert b"connection: close" in head


def test_a_chunked_body_is_counted_as_it_arrives(server):
    chunk = b"a" * (80 * 1024)
    answer = _raw(
        server,
        b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n",
        b"%x\r\n%s\r\n" % (len(chunk), chunk),
    )
    assert answer.lower().startswith(b"http/1.1 413")
    # and the server goes on answering
    assert httpx.get(server + "/healthz", timeout=5).status_code == 200


def test_the_pages_publish_no_schema(client):
    """The site's routes are not listed for anyone: only the JSON API has its schema."""
    for path in ("/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect"):
        assert client.get(path).status_code == 404, path
    assert client.get("/api/v1/openapi.json").status_code == 200
