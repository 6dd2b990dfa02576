"""What the benchmark scripts share: the state of the code measured, the machine, production
settings for a server or a command, the application under uvicorn on a free loopback port,
the ``integritas`` command, percentiles, and the rewriting of a section of
benchmarks/results.md. The uvicorn command line and the bounded wait for ``/healthz`` are the
tests' (``tests.live_server``)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results.md"
CLI = [sys.executable, "-m", "app.cli"]
# one uvicorn worker as in production: uvloop, httptools, no access log
PRODUCTION_SERVER = (
    "--loop",
    "uvloop",
    "--http",
    "httptools",
    "--no-access-log",
    "--log-level",
    "warning",
)


# ---------------------------------------------------------------- the code and the machine


def code_state(app_dir: Path = ROOT, *, this_tree: str = "") -> str:
    """The code measured: another copy of it (``app_dir``), or this tree's commit (after
    ``this_tree``) and whether app/ or templates/ differ from it (read only)."""
    if app_dir.resolve() != ROOT:
        return f"the code at `{app_dir}` (served with this tree's virtual environment)"
    try:
        head = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "app", "templates")
    except OSError:
        return "code state unknown"
    return f"{this_tree}commit {head}" + (
        " with uncommitted changes in app/ or templates/" if dirty else ""
    )


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip()


def now_stamp() -> str:
    """When the results were written, in the machine's time zone."""
    return f"{datetime.now().astimezone():%Y-%m-%d %H:%M %Z}"


def nproc() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load_averages(load: tuple[float, ...]) -> str:
    """The 1-minute load average at the start (``load``, from ``os.getloadavg()``) and now."""
    return (
        f"1-minute load average {load[0]:.1f} when it started, "
        f"{os.getloadavg()[0]:.1f} when it ended"
    )


# ---------------------------------------------------------------- commands and servers


def production_env(work: Path, database_url: str, secret_key: str, **more: str) -> dict[str, str]:
    """This process's environment with production settings, ``work`` as the data folder."""
    return {
        **os.environ,
        "APP_ENV": "production",
        "APP_DATA_DIR": str(work),
        "APP_DATABASE_URL": database_url,
        "APP_SECRET_KEY": secret_key,
        **more,
    }


def run_cli(env: dict[str, str], *args: str, cwd: Path = ROOT) -> tuple[str, float]:
    """An ``integritas`` command of the code in ``cwd``; its standard output and its wall
    time. A failure ends the benchmark with the command's output."""
    start = time.perf_counter()
    done = subprocess.run([*CLI, *args], env=env, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(
            f"integritas {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )
    return done.stdout, seconds


@contextmanager
def server(
    env: dict[str, str],
    log: Path,
    *options: str,
    cwd: Path = ROOT,
    app: str = "app.main:create_app",
    factory: bool = True,
    path: str = "/healthz",
) -> Iterator[str]:
    """The base URL of ``app`` under uvicorn (with ``options``) on a free loopback port, its
    output appended to ``log``; waited for until ``path`` answers 200 (60 s at the most),
    always stopped."""
    # imported here: the scripts that start no server (facilitator.py measures the memory of
    # its child processes) do not load httpx, pytest and the application's settings
    from tests.live_server import (
        ServerDidNotStart,
        free_port,
        spawn,
        stop,
        uvicorn_command,
        wait_until_healthy,
    )

    port = free_port()
    proc = spawn(uvicorn_command(port, *options, app=app, factory=factory), env, log, cwd)
    base = f"http://127.0.0.1:{port}"
    SERVED[base] = proc.pid
    try:
        try:
            wait_until_healthy(
                proc, base, lambda: log.read_text(errors="replace")[-3000:], path=path
            )
        except ServerDidNotStart as exc:
            raise SystemExit(str(exc)) from None
        yield base
    finally:
        SERVED.pop(base, None)
        stop(proc, timeout=30)


# the process behind each base URL that ``server`` started (one uvicorn worker)
SERVED: dict[str, int] = {}


def cpu_seconds(base: str) -> float:
    """The CPU time (user + system) the server behind ``base`` has used so far: the cost of
    a request measured as work done, which a busy or shared machine disturbs much less than
    requests per second."""
    fields = Path(f"/proc/{SERVED[base]}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- numbers


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


# ---------------------------------------------------------------- results.md


def replace_section(title: str, rewrite: Callable[[str], str]) -> None:
    """Rewrite the section ``title`` of benchmarks/results.md (added at the end when
    missing): ``rewrite`` gets the section as it stands (its title first) and returns it as
    it will be; the other sections are left as they are."""
    old = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if title not in old:
        old = old.rstrip("\n") + f"\n\n{title}\n"
    start = old.index(title)
    after = old.find("\n## ", start + len(title))
    end = len(old) if after < 0 else after + 1
    section = rewrite(old[start:end]).rstrip("\n") + "\n"
    rest = old[end:]
    new = old[:start] + section + ("\n" + rest if rest.strip() else "")
    RESULTS.write_text(new.rstrip("\n") + "\n")
