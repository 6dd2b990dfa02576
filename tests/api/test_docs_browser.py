"""The API docs in headless Chromium under the site's strict CSP: Swagger UI renders from the
vendored files, nothing is blocked or logged as an error, and "Try it out" with a token
answers from the API."""

from __future__ import annotations

import pytest

from tests.live_server import CHROMIUM, live_server, playwright_or_skip, run_cli, server_env

pytestmark = pytest.mark.browser
playwright_api = playwright_or_skip()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = server_env(tmp_path_factory.mktemp("api-docs"), "api-docs-secret")
    run_cli(env, "migrate")
    secret = run_cli(env, "api-token", "create", "--name", "browser").strip()
    with live_server(env) as base:
        yield base, secret


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
