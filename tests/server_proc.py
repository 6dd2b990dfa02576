"""The application under uvicorn as a child process that a test can kill with SIGKILL — a
crash, not a shutdown: no lifespan end, no connection closed, no file flushed — and start
again on the same database. Ports are free loopback ports (``tests.live_server``); waits are
bounded polls; the process is always killed when the block ends."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.live_server import free_port, spawn, uvicorn_command, wait_until_healthy

START_SECONDS = 60


class ServerProcess:
    """One uvicorn process (one worker) at a time, started and killed by the test."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log  # the server's output, appended over restarts, for a failing test
        self.proc: subprocess.Popen[bytes] | None = None
        self.base = ""

    def start(self) -> str:
        """Start the server on a new free port; its base URL once ``/healthz`` answers 200."""
        assert self.proc is None, "the server is already running"
        port = free_port()
        self.proc = spawn(uvicorn_command(port, "--no-access-log"), self.env, self.log)
        self.base = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(self.proc, self.base, self.output, seconds=START_SECONDS)
        except BaseException:
            self.kill()
            raise
        return self.base

    def kill(self) -> None:
        """SIGKILL, then wait until the process is gone (nothing runs after the signal)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextmanager
def server_process(env: dict[str, str], log: Path) -> Iterator[ServerProcess]:
    """A server handle whose process, if still running, is killed when the block ends."""
    server = ServerProcess(env, log)
    try:
        yield server
    finally:
        server.kill()
