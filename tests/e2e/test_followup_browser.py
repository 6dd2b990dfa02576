"""Weeks after the workshop, in headless Chromium: a couple's 30-day check-in on a phone, and
the facilitator's follow-up list. The server's clock stands in tng-2024's first check-in
window (the demo's historic cohort: workshop 14–15 October 2024)."""

from __future__ import annotations

import sqlite3

import pytest

from tests.e2e.browser import chromium, sign_in
from tests.live_server import live_server, playwright_or_skip, run_cli, server_env

pytestmark = pytest.mark.browser
playwright_api = playwright_or_skip()
CLOCK = "2024-11-18T02:00:00+00:00"  # 18 November 2024, 09.00 WIB: check-in 1 is open


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The demo, with one tng-2024 couple whose plan is confirmed and who have not checked in
    yet (the demo's marks of that couple removed); the server at ``CLOCK``."""
    folder = tmp_path_factory.mktemp("followup")
    env = server_env(folder, "followup-browser-secret")
    for args in (["migrate"], ["content", "sync"], ["seed-demo"]):
        run_cli(env, *args)
    db = sqlite3.connect(env["APP_DATABASE_URL"].removeprefix("sqlite:///"))
    couple_id, code = db.execute(
        "SELECT couple.id, couple.code FROM action_plan JOIN couple ON couple.id ="
        " action_plan.couple_id WHERE action_plan.confirmed_at IS NOT NULL ORDER BY couple.code"
        " LIMIT 1"
    ).fetchone()
    users = dict(
        db.execute(
            "SELECT partner_role, username FROM user_account WHERE couple_id = ?", (couple_id,)
        )
    )
    db.execute(
        "DELETE FROM checkin_mark WHERE commitment_id IN"
        " (SELECT id FROM plan_commitment WHERE couple_id = ?)",
        (couple_id,),
    )
    db.commit()
    db.close()
    with live_server({**env, "TEST_CLOCK_AT": CLOCK}, app="tests.e2e.shifted_app:create") as base:
        yield base, code, users


@pytest.fixture(scope="module")
def browser():
    with chromium(playwright_api) as b:
        yield b


def _console(page):
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def test_a_couple_checks_in_after_thirty_days_on_a_phone(site, browser, tmp_path):
    base, code, users = site
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="id-ID")
    page = context.new_page()
    problems = _console(page)
    sign_in(page, base, users["official"])
    page.goto(base + "/family")
    after = page.locator("#after")
    assert "Cek bersama 30 hari" in after.inner_text()
    assert "14 November 2024 – 4 Desember 2024" in after.inner_text()
    assert page.locator("#plan ol.commitments li").count() >= 2
    page.click("#after a[href='/family/checkins/1']")
    page.wait_for_url(base + "/family/checkins/1")
    assert page.locator("h1").inner_text() == "Cek bersama 30 hari"
    # sent with a commitment unmarked: refused, and the message says which
    page.click("form[action='/family/checkins/1'] button[type=submit]")
    page.wait_for_selector("p.alert")
    assert "Komitmen 1" in page.locator("p.alert").inner_text()
    boxes = page.locator("fieldset.question")
    for i in range(boxes.count()):
        boxes.nth(i).locator(f"input[value={'done' if i == 0 else 'partly'}]").check()
    page.fill("fieldset.question >> nth=0 >> textarea", "Sudah kami jalankan setiap bulan.")
    page.click("form[action='/family/checkins/1'] button[type=submit]")
    page.wait_for_url(base + "/family/checkins/1?saved=1")
    assert page.locator("p.notice").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(tmp_path / "checkin-official-360.png"), full_page=True)
    context.close()

    # the partner sees both answers on the same check-in
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="id-ID")
    page = context.new_page()
    problems += _console(page)
    sign_in(page, base, users["spouse"])
    page.goto(base + "/family/checkins/1")
    first = page.locator("fieldset.question").first.locator(".partner-answer").inner_text()
    assert "Sudah" in first and "Sudah kami jalankan setiap bulan." in first
    page.screenshot(path=str(tmp_path / "checkin-spouse-360.png"), full_page=True)
    context.close()
    assert [p for p in problems if "status of 422" not in p] == []


@pytest.mark.parametrize("width", [360, 1280])
def test_the_facilitators_follow_up_list(site, browser, tmp_path, width):
    base, code, _ = site
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="id-ID")
    page = context.new_page()
    problems = _console(page)
    sign_in(page, base, "fasilitator")
    page.goto(base + "/facilitator/cohorts/tng-2024")
    page.click("nav.tabs a:has-text('Tindak lanjut')")
    page.wait_for_url(base + "/facilitator/cohorts/tng-2024/follow-up")
    assert "Cek bersama 30 hari" in page.inner_text("#dates-h + ul")
    page.click("nav.filters a:has-text('Cek bersama 30 hari')")
    page.wait_for_url("**/follow-up?step=checkin-1")
    rows = page.locator("table.followup tbody tr")
    assert rows.count() >= 1
    assert page.locator(f"td.couple-cell:has-text('{code}')").count() == 1
    whatsapp = page.locator("table.followup a[href^='https://wa.me/']").first
    assert "checkins%2F1" in whatsapp.get_attribute("href")
    if width == 360:
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(tmp_path / f"followup-{width}.png"), full_page=True)
    context.close()
    assert problems == []
