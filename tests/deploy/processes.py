"""What the deployment tests share: the database they run on (a new scratch PostgreSQL
database in the PostgreSQL phase, a SQLite file otherwise), ``integritas`` commands against
it, and processes started in their own process group, always killed with the whole group."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from app.config import ROOT
from tests.conftest import PG_URL, scratch_pg_database
from tests.live_server import CLI, free_port, spawn, wait_until_healthy

START_SECONDS = 60
SECRET = "deploy-test-secret-" + "d" * 32


@contextmanager
def deploy_database(folder: Path, pg_name: str) -> Iterator[str]:
    """The URL of an empty database for one test: PostgreSQL when ``TEST_DATABASE_URL`` is
    PostgreSQL (a scratch database of that name, dropped afterwards), else a SQLite file."""
    if PG_URL and PG_URL.startswith("postgresql"):
        with scratch_pg_database(pg_name) as url:
            yield url
    else:
        yield f"sqlite:///{folder / 'site.db'}"


def site_env(folder: Path, database_url: str, **settings: str) -> dict[str, str]:
    """The environment of the site's processes: test settings, the given database, and
    ``APP_*`` settings from keyword arguments (``trusted_proxies="127.0.0.1"``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("APP_")}
    env.update(
        {
            "APP_ENV": "test",
            "APP_DATABASE_URL": database_url,
            "APP_SECRET_KEY": SECRET,
            "APP_DATA_DIR": str(folder / "var"),
        }
    )
    env.update({f"APP_{key.upper()}": value for key, value in settings.items()})
    return env


def cli(env: dict[str, str], *args: str) -> str:
    """An ``integritas`` command; its standard output (its output in the failure if it
    fails)."""
    done = subprocess.run(
        [*CLI, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"integritas {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


class Process:
    """A command in a new session (its own process group), output appended to ``log``."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self.proc = spawn(command, env, log, new_session=True)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self, timeout: float = 10) -> None:
        """SIGTERM to the whole group (a server and its workers), then SIGKILL to whatever of
        the group is left; the leader is waited for."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass


def start(stack: ExitStack, command: list[str], env: dict[str, str], log: Path) -> Process:
    process = Process(command, env, log)
    stack.callback(process.kill)
    return process


def serve(
    stack: ExitStack, env: dict[str, str], log: Path, *, workers: int = 1, wait: bool = True
) -> tuple[Process, str]:
    """``integritas serve`` on a free loopback port with ``workers`` workers: the process and
    its base URL, once ``/healthz`` answers 200 (at once with ``wait=False``: then
    ``healthy`` waits)."""
    port = free_port()
    command = [*CLI, "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = start(stack, [*command, "--workers", str(workers)], env, log)
    base = f"http://127.0.0.1:{port}"
    if wait:
        healthy(process, base)
    return process, base


def healthy(process: Process, base: str) -> None:
    """Return once the server answers ``/healthz`` with 200 (bounded; its output if not)."""
    wait_until_healthy(
        process.proc, base, process.output, seconds=START_SECONDS, request_timeout=2, poll=0.1
    )


def access_lines(log_text: str) -> list[dict]:
    """The application's JSON access lines in a server's output."""
    lines = []
    for line in log_text.splitlines():
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and "request_id" in record:
                lines.append(record)
    return lines


def written(read: Callable[[], str], text: str, seconds: float = 5) -> str:
    """What ``read`` gives once it holds ``text`` (a server writes its log line just after
    the response went out, so a client may read the log first), polled for at most
    ``seconds``; the last reading otherwise."""
    deadline = time.monotonic() + seconds
    while True:
        found = read()
        if text in found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def logged(output: Callable[[], str], request_id: str, seconds: float = 5) -> list[dict]:
    """The access lines of ``request_id`` once there is one (a line is written just after
    its response went out), polled for at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        lines = [r for r in access_lines(output()) if r["request_id"] == request_id]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)
