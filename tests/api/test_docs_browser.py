"""The API docs in headless Chromium under the site's strict CSP: Swagger UI renders from the
vendored files, nothing is blocked or logged as an error, and "Try it out" with a token
answers from the API."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.config import ROOT

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():
    pytest.skip(f"Chromium is not installed at {CHROMIUM}", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api")
if os.environ.get("TEST_DATABASE_URL"):
    pytest.skip("browser tests run once, on SQLite", allow_module_level=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("api-docs")
    env = {
        **os.environ,
        "APP_ENV": "test",
        "APP_DATABASE_URL": f"sqlite:///{folder / 'docs.db'}",
        "APP_SECRET_KEY": "api-docs-secret-" + "z" * 32,
        "APP_DATA_DIR": str(folder),
    }
    cli = [sys.executable, "-m", "app.cli"]
    subprocess.run([*cli, "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
    made = subprocess.run(
        [*cli, "api-token", "create", "--name", "browser"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("the server did not start")
    yield base, made.stdout.strip()
    proc.terminate()
    proc.wait(timeout=10)


def test_swagger_ui_renders_under_the_csp_and_tries_an_endpoint(server, tmp_path):
    base, secret = server
    problems: list[str] = []
    failed: list[str] = []
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on(
            "console",
            lambda m: problems.append(m.text) if m.type in ("error", "warning") else None,
        )
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.on(
            "response",
            lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        page.goto(base + "/api/v1/docs")
        page.wait_for_selector(".opblock-summary-path[data-path='/regions']")
        assert "Keluarga Berintegritas API" in page.inner_text(".info")

        page.click("button.authorize")
        page.fill(".auth-container input", secret)
        page.click(".auth-btn-wrapper button.authorize")
        page.click("button.btn-done")
        regions = page.locator(".opblock", has=page.locator("[data-path='/regions']"))
        regions.locator(".opblock-summary").click()
        regions.locator(".try-out__btn").click()
        regions.locator(".execute").click()
        live = regions.locator(".live-responses-table tbody .response-col_status")
        live.wait_for()
        status = live.inner_text()
        page.screenshot(path=str(tmp_path / "api-docs.png"), full_page=True)
        browser.close()
    assert status.strip().startswith("200"), status
    assert problems == [] and failed == []
