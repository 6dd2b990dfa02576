"""End to end in headless Chromium (Debian's package) driven by Playwright: the pages render,
sign-in and sign-out work, htmx works under the strict CSP, and the console stays clean."""

from __future__ import annotations

import re

import pytest

from tests.e2e.browser import chromium, demo_server, sign_in
from tests.live_server import playwright_or_skip

pytestmark = pytest.mark.browser
playwright_api = playwright_or_skip()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("browser"), "browser-test-secret") as (base, _):
        yield base


@pytest.fixture(scope="module")
def browser():
    with chromium(playwright_api) as b:
        yield b


@pytest.fixture
def page(browser, tmp_path):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="id-ID")
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.problems = problems
    yield page
    context.close()


def test_login_page_renders_without_console_errors(server, page, tmp_path):
    page.goto(server + "/login")
    assert page.title().startswith("Masuk")
    assert page.locator("label[for=username]").inner_text() == "Nama pengguna"
    page.screenshot(path=str(tmp_path / "login.png"), full_page=True)
    assert page.problems == []


def test_demo_user_logs_in_reads_completes_with_htmx_and_logs_out(server, page, tmp_path):
    sign_in(page, server, "budi")
    assert page.url == server + "/learn"
    assert "Halo, Budi Santoso" in page.inner_text("h1")
    page.click("a[href='/learn/quizzes/pre-test']")  # the pre-test comes first
    page.click("form[action='/learn/quizzes/pre-test/start'] button")
    page.wait_for_selector("fieldset.question")
    for fieldset in page.locator("fieldset.question").all():
        fieldset.locator("label.choice").last.click()
        fieldset.locator(".saved").wait_for()  # saved as given, through htmx
    page.click("button:has-text('Kumpulkan jawaban saya')")
    page.wait_for_url(server + "/learn/quizzes/pre-test")
    page.goto(server + "/learn")
    page.click("a.button.primary")  # continue where you left off: the first lesson
    page.wait_for_url("**/learn/lessons/**")
    lesson_url = page.url
    page.screenshot(path=str(tmp_path / "lesson.png"), full_page=True)
    # htmx: each check answered in place, then the completion box, without a page load
    page.evaluate("window.__marker = 1")
    unanswered = page.locator("#checks section.check:not(:has(.feedback))")
    while unanswered.count():
        check_id = unanswered.first.get_attribute("id")
        unanswered.first.locator("label.choice").first.click()
        unanswered.first.locator("button").click()
        page.wait_for_selector(f"#{check_id} .feedback")
    page.click("#complete-box button[type=submit]:not([disabled])")
    page.wait_for_selector("#complete-box .notice")
    assert page.evaluate("window.__marker") == 1
    assert page.url == lesson_url
    page.click("footer button:has-text('Keluar')")
    page.wait_for_url(server + "/login")
    assert page.problems == []
    # the session is over on the server too
    page.goto(server + "/learn")
    page.wait_for_url("**/login?next=/learn")


def test_pre_test_with_javascript_off(server, browser, tmp_path):
    context = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False)
    page = context.new_page()
    sign_in(page, server, "sari")
    assert page.url == server + "/learn"
    page.click("a[href='/learn/quizzes/pre-test']")
    page.click("form[action='/learn/quizzes/pre-test/start'] button")
    page.wait_for_selector("fieldset.question")
    for fieldset in page.locator("fieldset.question").all():
        fieldset.locator("label.choice").first.click()
    page.screenshot(path=str(tmp_path / "pretest.png"), full_page=True)
    page.click("button:has-text('Kumpulkan jawaban saya')")
    page.wait_for_url(server + "/learn/quizzes/pre-test")
    assert "Tes awal Anda sudah tersimpan" in page.inner_text("main")
    page.goto(server + "/learn")
    first_lesson = page.locator("a.button.primary").first
    assert "/learn/lessons/" in first_lesson.get_attribute("href")
    context.close()


@pytest.mark.parametrize("width", [360, 1280])
def test_the_facilitators_evening(server, browser, tmp_path, width):
    """Filter "behind", open a couple, check the WhatsApp link, mark attendance, download the
    XLSX — with htmx, at a phone's and a laptop's width."""
    import openpyxl

    context = browser.new_context(viewport={"width": width, "height": 900}, locale="id-ID")
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    sign_in(page, server, "fasilitator")
    assert page.url == server + "/facilitator"
    page.click("a[href='/facilitator/cohorts/tng-2024']")
    page.wait_for_selector("#list")
    page.select_option("#f-flag", "behind")  # htmx swaps the list in place, the URL follows
    page.wait_for_url("**/facilitator/cohorts/tng-2024?flag=behind")
    page.wait_for_function("document.querySelector('#list').innerText.includes('cocok')")
    behind = page.locator("#list tr[data-stage]").count()
    assert 0 < behind < 80
    assert page.locator("#list .state.late").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(tmp_path / f"list-{width}.png"), full_page=False)
    page.locator("#list td.stack-head a").first.click()
    page.wait_for_url("**/couples/TNG24-*")
    whatsapp = page.locator("a[href^='https://wa.me/']").first.get_attribute("href")
    assert re.match(r"https://wa\.me/628\d+\?text=Halo%20", whatsapp), whatsapp
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(tmp_path / f"couple-{width}.png"), full_page=True)
    page.goto(server + "/facilitator/cohorts/tng-2024/attendance?day=2024-10-15")
    counts = page.locator(".counts").inner_text()
    first = page.locator("ul.attendance .mark").first
    was_present = first.locator("button[value='1']").get_attribute("aria-pressed") == "true"
    first.locator(f"button[value='{0 if was_present else 1}']").click()  # htmx swaps the list
    page.wait_for_function(
        "(before) => document.querySelector('.counts').innerText !== before", arg=counts
    )
    now_pressed = page.locator("ul.attendance .mark").first.locator(
        f"button[value='{0 if was_present else 1}']"
    )
    assert now_pressed.get_attribute("aria-pressed") == "true"
    page.screenshot(path=str(tmp_path / f"attendance-{width}.png"), full_page=False)
    page.goto(server + "/facilitator/cohorts/tng-2024?flag=behind")
    with page.expect_download() as download:
        page.click("a[href$='export.xlsx?flag=behind']")
    assert download.value.suggested_filename.startswith("tng-2024-peserta-behind-")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    sheet = openpyxl.load_workbook(path).active
    assert sheet.max_row == behind + 1
    assert problems == []
    context.close()


@pytest.mark.parametrize("width", [1280, 360])
def test_the_analysts_briefing(server, browser, tmp_path, width):
    """A KPK analyst filters a region, reads the funnel and the gain charts with their
    numbers, and downloads the XLSX of what is on the screen — at a laptop's and a phone's
    width, without JavaScript errors and without the page scrolling sideways."""
    import openpyxl

    context = browser.new_context(viewport={"width": width, "height": 900}, locale="id-ID")
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    sign_in(page, server, "kpk")
    assert page.url == server + "/kpk"
    page.select_option("#f-region", "kota-tangerang")
    page.select_option("#f-group", "cohort")
    page.click(".kpk-filters button[type=submit]")
    page.wait_for_url("**/kpk?region=kota-tangerang*")
    assert "group_by=cohort" in page.url
    funnel = page.locator("#funnel")
    assert funnel.locator("svg").count() >= 1
    funnel_text = funnel.inner_text()
    assert "Diundang" in funnel_text and "Sertifikat diterima" in funnel_text
    # the demo's two cohorts invite 106 participants between them
    assert "106" in funnel_text
    gain = page.locator("#gain")
    assert gain.locator("svg").count() >= 1
    gain_text = gain.inner_text()
    assert "Peningkatan belajar" in gain_text and "d_z" in gain_text
    assert page.locator("#suppression").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(tmp_path / f"kpk-{width}.png"), full_page=True)
    with page.expect_download() as download:
        page.click("a[href^='/kpk/export.xlsx']")
    name = download.value.suggested_filename
    assert name.startswith("kpk-") and "kota-tangerang" in name and name.endswith(".xlsx")
    path = tmp_path / name
    download.value.save_as(path)
    sheet = openpyxl.load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) > 20
    invited = [r for r in rows if "Diundang" in [str(c) for c in r]]
    assert invited and 106 in invited[0]  # a number, not text
    for row in rows:  # no name or username of the demo's couples
        assert not any(isinstance(c, str) and ("budi" in c.lower() or "tngd-" in c) for c in row)
    assert problems == []
    context.close()


def _shot(page, tmp_path, name: str) -> None:
    """A screenshot in the test's folder (and in $SHOTS_DIR, to look at)."""
    import os
    import shutil

    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("SHOTS_DIR"):
        shutil.copy(path, os.path.join(os.environ["SHOTS_DIR"], path.name))


def test_a_spouse_consents_at_activation_and_downloads_her_data_on_a_phone(
    server, browser, tmp_path
):
    """The card's code from the facilitator's cards page; on a phone: activation refused
    without the box, accepted with it; the privacy notice; My data and its JSON download."""
    import json

    staff = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID")
    desk = staff.new_page()
    sign_in(desk, server, "fasilitator")
    desk.goto(server + "/facilitator/cohorts/tng-demo/cards")
    card = desk.locator("article", has_text="tngd-004b").first
    code = card.locator("p.code").inner_text().strip()
    staff.close()
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="id-ID")
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{server}/activate?code={code}")
    assert not page.locator("#consent").is_checked()
    page.fill("#password", "rumah-kami-jujur")
    page.fill("#password2", "rumah-kami-jujur")
    page.click("form[action='/activate'] button[type=submit]")
    page.wait_for_selector("#activate-error")
    assert "Centang kotak" in page.locator("#activate-error").inner_text()
    assert page.locator("#consent").get_attribute("aria-invalid") == "true"
    _shot(page, tmp_path, "activate-refused-360")
    page.click("summary:has-text('Baca pemberitahuan lengkap')")
    assert page.get_by_role("heading", name="Hak Anda", exact=True).is_visible()
    page.fill("#password", "rumah-kami-jujur")
    page.fill("#password2", "rumah-kami-jujur")
    page.check("#consent")
    page.click("form[action='/activate'] button[type=submit]")
    page.wait_for_url(server + "/learn")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.goto(server + "/account")
    page.click("a[href='/account/data']")
    page.wait_for_url(server + "/account/data")
    assert page.locator("h1").inner_text() == "Data saya"
    assert "menyetujui pemberitahuan privasi versi 1" in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    _shot(page, tmp_path, "my-data-360")
    with page.expect_download() as download:
        page.click("a[href='/account/data.json']")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    data = json.loads(path.read_text("utf-8"))
    assert data["profile"]["username"] == "tngd-004b"
    assert [c["notice_version"] for c in data["consents"]] == [1]
    page.goto(server + "/privacy")
    _shot(page, tmp_path, "privacy-360")
    # (the refused activation is answered 422, which the console reports)
    assert [p for p in problems if "status of 422" not in p] == []
    context.close()
