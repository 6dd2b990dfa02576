"""A real server for the browser tests: the application under uvicorn on a free loopback
port, with its own SQLite database, started after the given CLI commands and always stopped.
The uvicorn command line and the bounded wait for ``/healthz`` serve the other tests that
start a server (and the benchmarks) too."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
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


class ServerDidNotStart(AssertionError):
    """The server exited, or did not answer ``/healthz`` in time; the message holds its
    output."""


def uvicorn_command(
    port: int, *options: str, app: str = "app.main:create_app", factory: bool = True
) -> list[str]:
    """uvicorn serving ``app`` (the application's factory by default) on ``port`` of the
    loopback, with uvicorn's further ``options``."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        *(["--factory"] if factory else []),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *options,
    ]


def spawn(
    command: list[str],
    env: dict[str, str],
    log: Path,
    cwd: Path = ROOT,
    *,
    new_session: bool = False,
) -> subprocess.Popen[bytes]:
    """``command`` started in ``cwd``, its output (standard output and error) appended to
    ``log``; with ``new_session`` in a process group of its own (a server and its workers,
    killed together with ``os.killpg``)."""
    with log.open("ab") as out:
        return subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL if new_session else None,
            start_new_session=new_session,
        )


def wait_until_healthy(
    proc: subprocess.Popen,
    base: str,
    output: Callable[[], str],
    *,
    seconds: float = 60,
    path: str = "/healthz",
    request_timeout: float = 1,
    poll: float = 0.1,
) -> None:
    """Return once ``base + path`` answers 200; raise ``ServerDidNotStart`` with the server's
    ``output()`` as soon as the process has exited, or after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        if proc.poll() is not None:
            raise ServerDidNotStart(
                f"the server exited with {proc.returncode}; its output:\n{output()}"
            )
        try:
            if httpx.get(base + path, timeout=request_timeout).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise ServerDidNotStart(
                f"the server did not answer {path} within {seconds:.0f} s; its output:\n{output()}"
            )
        time.sleep(poll)


def stop(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Terminate the process, killed when it has not ended within ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def live_server(env: dict[str, str], app: str = "app.main:create_app") -> Iterator[str]:
    """The base URL of a running server of ``app`` (a factory; waited for with a bounded
    poll)."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="live-server-") as folder:
        log = Path(folder) / "server.log"
        proc = spawn(uvicorn_command(port, app=app), env, log)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(proc, base, lambda: log.read_text(errors="replace"), seconds=30)
            yield base
        finally:
            stop(proc)


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
