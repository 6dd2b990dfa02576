"""A real server for the browser tests: the application under uvicorn on a free loopback
port, with its own SQLite database, started after the given CLI commands and always stopped."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from app.config import ROOT

CLI = [sys.executable, "-m", "app.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(folder: Path, secret: str) -> dict[str, str]:
    return {
        **os.environ,
        "APP_ENV": "test",
        "APP_DATABASE_URL": f"sqlite:///{folder / 'live.db'}",
        "APP_SECRET_KEY": secret + "-" + "y" * 32,
        "APP_DATA_DIR": str(folder),
    }


def run_cli(env: dict[str, str], *args: str) -> str:
    """An ``integritas`` command against the server's database; its standard output."""
    done = subprocess.run(
        [*CLI, *args], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    return done.stdout


@contextmanager
def live_server(env: dict[str, str]) -> Iterator[str]:
    """The base URL of a running server (waited for with bounded retries)."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("the server did not start")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


CHROMIUM = "/usr/bin/chromium"


def playwright_or_skip():
    """Playwright's sync API, or the whole module skipped: without Debian's Chromium, and on
    PostgreSQL (browser tests run once, on SQLite)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)",
            allow_module_level=True,
        )
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("browser tests run once, on SQLite", allow_module_level=True)
    return pytest.importorskip("playwright.sync_api")
