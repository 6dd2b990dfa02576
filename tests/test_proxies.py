"""Whose X-Forwarded-For and X-Forwarded-Proto ``integritas serve`` believes: only those of
APP_TRUSTED_PROXIES, none by default. Otherwise anyone who can reach the server from the
same machine could rotate the header and escape every per-address throttle.

Each test starts the real command (``python -m app.cli serve``) on a free loopback port,
over its own migrated SQLite database, and always stops it."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from app.migrate import upgrade
from tests.live_server import CLI, free_port, server_env, spawn, stop, wait_until_healthy

if os.environ.get("TEST_DATABASE_URL"):
    pytest.skip("the served tests run once, on SQLite", allow_module_level=True)

PER_ADDRESS = 3  # APP_LOGIN_MAX_PER_ADDRESS for these servers


@contextmanager
def serving(folder: Path, trusted: str) -> Iterator[str]:
    """The base URL of ``integritas serve`` with APP_TRUSTED_PROXIES=``trusted``."""
    upgrade(f"sqlite:///{folder / 'live.db'}")
    port = free_port()
    env = {
        **server_env(folder, "proxies"),
        "APP_TRUSTED_PROXIES": trusted,
        "APP_LOGIN_MAX_PER_ADDRESS": str(PER_ADDRESS),
    }
    log = folder / "serve.log"
    proc = spawn([*CLI, "serve", "--host", "127.0.0.1", "--port", str(port)], env, log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(proc, base, log.read_text, seconds=60, request_timeout=2, poll=0.2)
        yield base
    finally:
        stop(proc, timeout=20)


def failed_sign_in(base: str, username: str, forwarded_for: str) -> httpx.Response:
    """A wrong password for ``username`` from a new browser, through a "proxy" that says
    the client is ``forwarded_for``."""
    headers = {"X-Forwarded-For": forwarded_for}
    with httpx.Client(base_url=base, timeout=30, headers=headers) as browser:
        form = browser.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token, form.text
        return browser.post(
            "/login",
            data={"username": username, "password": "bukan-sandinya-9", "csrf_token": token[1]},
        )


def statuses(base: str, forwarded: list[str]) -> list[int]:
    """Failed sign-ins, each for another username (the per-account limit never applies)."""
    return [
        failed_sign_in(base, f"tamu-{i:03d}", address).status_code
        for i, address in enumerate(forwarded)
    ]


def scheme_seen(base: str, proto: str) -> str:
    """The scheme the application believes the request came with: it names it in the
    absolute URL of a redirect (a path with a trailing slash goes to the one without)."""
    answer = httpx.get(
        base + "/healthz/", headers={"X-Forwarded-Proto": proto}, follow_redirects=False
    )
    assert answer.status_code == 307, answer.text
    return answer.headers["location"].split("://")[0]


ROTATING = [f"198.51.100.{i}" for i in range(1, PER_ADDRESS + 2)]


@pytest.mark.parametrize(
    "trusted",
    ["", "10.0.0.0/8"],
    ids=["no trusted proxies", "a trusted network the server's peer is not in"],
)
def test_forwarded_headers_from_anyone_else_are_ignored(tmp_path, trusted):
    with serving(tmp_path, trusted) as base:
        # one client rotating X-Forwarded-For is still one address: after PER_ADDRESS
        # failures it waits, whatever the header says
        answers = statuses(base, ROTATING)
        assert answers == [401] * PER_ADDRESS + [429]
        assert scheme_seen(base, "https") == "http"
    said = (tmp_path / "serve.log").read_text()
    if trusted:
        assert f"X-Forwarded-For and X-Forwarded-Proto are believed from {trusted}." in said
    else:
        assert "X-Forwarded-For and X-Forwarded-Proto are ignored" in said


def test_a_trusted_proxy_is_believed(tmp_path):
    with serving(tmp_path, "127.0.0.1") as base:
        # behind the proxy, every client has its own address: rotating ones are not
        # throttled together...
        assert statuses(base, ROTATING) == [401] * len(ROTATING)
        # ...and one client failing again and again is
        again = [failed_sign_in(base, f"lagi-{i}", "203.0.113.7") for i in range(PER_ADDRESS + 1)]
        assert [a.status_code for a in again] == [401] * PER_ADDRESS + [429]
        assert int(again[-1].headers["retry-after"]) > 0
        # the proxy terminates TLS and says so
        assert scheme_seen(base, "https") == "https"
        assert scheme_seen(base, "http") == "http"
