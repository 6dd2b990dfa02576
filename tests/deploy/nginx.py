"""Debian's nginx running the shipped site file ``deploy/nginx/integritas.conf`` as the test's
own process: the same file with the upstream's port, the static folder and the log folder
put in, the port-80 redirect server left out, and the TLS server listening on a plain
loopback port instead (there is no certificate). Every substitution must find what it
replaces, so a changed site file fails here rather than being tested in a shape it no
longer has."""

from __future__ import annotations

import os
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from app.config import ROOT
from tests.deploy.processes import Process, start
from tests.live_server import free_port

NGINX = "/usr/sbin/nginx"
SITE = ROOT / "deploy" / "nginx" / "integritas.conf"
MIME_TYPES = Path("/etc/nginx/mime.types")
SHIPPED_UPSTREAM = "server 127.0.0.1:8000;"
SHIPPED_STATIC = "/srv/integritas/app/static/"
SHIPPED_LOGS = "/var/log/nginx/"


def nginx_or_skip() -> str:
    """The nginx binary; without it the test is skipped, or fails in CI (CI installs it)."""
    if Path(NGINX).exists() and MIME_TYPES.exists():
        return NGINX
    message = f"Debian's nginx is not installed at {NGINX} (apt-get install nginx)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _code(line: str) -> tuple[str, int]:
    """A line without its comment, and its braces' balance (braces in quotes not counted)."""
    quote = ""
    balance = 0
    for i, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#":
            return line[:i].rstrip(), balance
        elif char == "{":
            balance += 1
        elif char == "}":
            balance -= 1
    return line.rstrip(), balance


def statements(text: str) -> list[list[str]]:
    """The top-level statements of an nginx file (each its lines, comments removed)."""
    found: list[list[str]] = []
    current: list[str] = []
    depth = 0
    for raw in text.splitlines():
        line, balance = _code(raw)
        if not line.strip():
            continue
        current.append(line)
        depth += balance
        if depth == 0 and line.endswith((";", "}")):
            found.append(current)
            current = []
    assert depth == 0 and not current, "unbalanced braces in the site file"
    return found


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, f"the site file no longer contains {old!r}"
    return text.replace(old, new)


def site_for_test(text: str, *, listen: int, upstream: int, logs: Path) -> str:
    """The shipped site as the test runs it (see the module's docstring)."""
    kept: list[str] = []
    tls_servers = 0
    for statement in statements(text):
        head = statement[0].split()
        if head[:2] != ["server", "{"]:
            kept.extend(statement)
            continue
        body = "\n".join(statement)
        if "return 301 https://" in body:
            continue  # port 80: only the redirect to HTTPS
        assert "ssl_certificate " in body, "a server that is neither the redirect nor TLS"
        tls_servers += 1
        lines = [statement[0], f"    listen 127.0.0.1:{listen};"]
        for line in statement[1:]:
            word = line.split()[0]
            if word == "listen" or word.startswith("ssl_"):
                continue
            lines.append(line)
        kept.extend(lines)
    assert tls_servers == 1, "the site file should have one TLS server"
    site = "\n".join(kept)
    site = _replace_once(site, SHIPPED_UPSTREAM, f"server 127.0.0.1:{upstream};")
    site = _replace_once(site, SHIPPED_STATIC, f"{ROOT / 'app' / 'static'}/")
    return _replace_once(site, SHIPPED_LOGS, f"{logs}/")


def nginx_conf(site: str, folder: Path) -> str:
    """A whole nginx.conf around the site, with every path nginx writes inside ``folder``.
    The http block turns gzip on, as Debian's nginx.conf does: the site must turn it off for
    what it proxies."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers could not read tmp as nobody
    temp = "\n".join(
        f"    {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}worker_processes 2;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} notice;
events {{
    worker_connections 256;
}}
http {{
    include {MIME_TYPES};
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    gzip on;
    access_log {folder / "default-access.log"};
{temp}
{site}
}}
"""


class Nginx:
    def __init__(self, process: Process, base: str, folder: Path) -> None:
        self.process = process
        self.base = base
        self.folder = folder

    def access_log(self) -> str:
        path = self.folder / "integritas.access.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def error_log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""


def run_nginx(stack: ExitStack, folder: Path, upstream: int, *, seconds: float = 20) -> Nginx:
    """nginx in front of the application on ``upstream``, on a free loopback port, once it
    answers (a static file it serves itself, so the application may still be starting)."""
    binary = nginx_or_skip()
    folder.mkdir(parents=True, exist_ok=True)
    listen = free_port()
    conf = folder / "nginx.conf"
    site = site_for_test(SITE.read_text(), listen=listen, upstream=upstream, logs=folder)
    conf.write_text(nginx_conf(site, folder))
    args = [binary, "-p", f"{folder}/", "-c", str(conf), "-e", str(folder / "error.log")]
    checked = subprocess.run([*args, "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, f"nginx -t:\n{checked.stderr}\n{conf.read_text()}"
    process = start(stack, [*args, "-g", "daemon off;"], dict(os.environ), folder / "nginx.out")
    nginx = Nginx(process, f"http://127.0.0.1:{listen}", folder)
    deadline = time.monotonic() + seconds
    while True:
        if process.proc.poll() is not None:
            raise AssertionError(f"nginx exited:\n{process.output()}\n{nginx.error_log()}")
        try:
            if httpx.get(nginx.base + "/static/favicon.svg", timeout=2).status_code == 200:
                return nginx
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"nginx did not answer in {seconds:.0f} s:\n{nginx.error_log()}")
        time.sleep(0.1)
