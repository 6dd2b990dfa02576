"""What the browser tests share: a live server over the seeded demo, Debian's Chromium launched
the same way every time, and signing in through the login form."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.live_server import CHROMIUM, live_server, run_cli, server_env

DEMO_PASSWORD = "demo-integritas"

# headless on a small shared machine: no GPU, no background traffic beyond the test server
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def demo_server(folder: Path, secret: str) -> Iterator[tuple[str, dict[str, str]]]:
    """A running server over a migrated database with the curriculum and the demo: its base
    URL and the environment it runs with (its ``APP_DATABASE_URL`` included)."""
    env = server_env(folder, secret)
    for args in (["migrate"], ["content", "sync"], ["seed-demo"]):
        run_cli(env, *args)
    with live_server(env) as base:
        yield base, env


@contextmanager
def chromium(playwright_api: Any) -> Iterator[Any]:
    """Debian's headless Chromium under Playwright, closed afterwards."""
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def sign_in(page: Any, base: str, username: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the login form, as a person would, and wait for the home page."""
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
