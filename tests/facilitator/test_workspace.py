"""The facilitator's evening: the working list with stages and flags, filters and search,
reminders by WhatsApp, "remind one by one", the reminder texts, attendance, the couple page —
as a facilitator uses them over HTTP, on the fixture curriculum (two modules, three lessons:
module 2 after the workshop)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from sqlalchemy import func, select, update

from app.accounts.models import AuditLog, User
from app.cohorts.models import Attendance, Cohort
from app.db import touch_learning
from app.demo import make_roster_csv
from app.facilitator.models import Reminder, ReminderText
from tests.conftest import SECRET, answer_checks, complete, csrf_of, login, take_quiz
from tests.factories import PASSWORD, make_cohort, make_couple, make_user


@dataclass
class Evening:
    cohort: Cohort
    rina: object  # TestClient signed in as the cohort's facilitator
    users: dict[str, User]


def set_user(db, username: str, **values) -> None:
    with db.write() as session:
        uid = session.execute(select(User.id).where(User.username == username)).scalar_one()
        session.execute(update(User).where(User.id == uid).values(**values))
        touch_learning(session, users=[uid])  # a Core write says whose learning it changed


@pytest.fixture
def evening(mini, settings, make_client) -> Evening:
    """Cohort "uji" (workshop in 7 days) of facilitator rina, with three couples:
    uji-001: the official finished module 1's lessons (waits at the quiz), the spouse has not
    taken the pre-test (a partner gap); uji-002: both took the pre-test; uji-003: not
    activated. Another cohort "lain" belongs to facilitator dewi."""
    rina = make_user(mini, settings, "rina", "facilitator")
    dewi = make_user(mini, settings, "dewi", "facilitator")
    cohort = make_cohort(mini, "uji", facilitator=rina)
    make_cohort(mini, "lain", facilitator=dewi)
    users = {}
    for code in ("uji-001", "uji-002", "uji-003"):
        a, b = make_couple(mini, settings, cohort, code)
        users[a.username], users[b.username] = a, b
    set_user(mini, "uji-001-a", contact="+6281234567890", display_name="Budi Santoso")
    set_user(mini, "uji-001-b", contact="sari@example.org", display_name="Sari Wulandari")
    set_user(mini, "uji-003-a", password_hash=None)
    set_user(mini, "uji-003-b", password_hash=None)
    for username in ("uji-001-a", "uji-002-a", "uji-002-b"):
        person = make_client()
        login(person, username, PASSWORD)
        take_quiz(person, mini, "pre-test", right=0.5)
        if username == "uji-001-a":
            complete(person, "awal")
            complete(person, "kedua")
    client = make_client()
    login(client, "rina", PASSWORD)
    return Evening(cohort, client, users)


def rows_of(html: str) -> dict[str, str]:
    """{username: the row's stage key} of the list."""
    return dict(
        (user, stage)
        for stage, user in re.findall(r'data-stage="([^"]+)".*?(uji-\d{3}-[ab])', html, flags=re.S)
    )


def test_the_list_shows_each_partners_stage_flags_and_the_funnel(evening):
    page = evening.rina.get("/facilitator/cohorts/uji")
    assert page.status_code == 200
    stages = rows_of(page.text)
    assert stages == {
        "uji-001-a": "m1-quiz",
        "uji-001-b": "pretest",
        "uji-002-a": "m1-lessons",
        "uji-002-b": "m1-lessons",
        "uji-003-a": "not_activated",
        "uji-003-b": "not_activated",
    }
    text = page.text
    assert "Modul 1: kuis" in text and "Tes awal belum dikerjakan" in text
    assert "Belum aktivasi" in text
    assert "Kesenjangan pasangan" in text  # uji-001: two stages apart
    assert "2/3" in text and "0/3" in text  # lessons x/3
    # the funnel: how many reached each step, with the numbers beside the chart
    funnel = re.search(r"<table>.*?</table>", text, re.S).group(0)
    assert re.search(r"Sudah aktivasi</td><td class=\"num\">4</td>", funnel)
    assert re.search(r"Tes awal selesai</td><td class=\"num\">3</td>", funnel)
    assert "<svg" in text and 'role="img"' in text


def test_behind_schedule_appears_when_the_workshop_starts(evening, time_machine):
    start = evening.cohort.workshop_start
    time_machine.move_to(datetime.combine(start, datetime.min.time(), UTC) - timedelta(hours=8))
    before = evening.rina.get("/facilitator/cohorts/uji?flag=behind")
    assert "Tidak ada pasangan yang cocok" in before.text
    time_machine.move_to(datetime.combine(start, datetime.min.time(), UTC))  # 07:00 WIB
    during = evening.rina.get("/facilitator/cohorts/uji?flag=behind")
    assert set(rows_of(during.text)) == set(evening.users)  # nobody passed module 1


def test_filters_search_and_the_htmx_fragment(evening):
    rina = evening.rina
    assert set(rows_of(rina.get("/facilitator/cohorts/uji?flag=gap").text)) == {
        "uji-001-a",
        "uji-001-b",
    }
    assert set(rows_of(rina.get("/facilitator/cohorts/uji?flag=not_activated").text)) == {
        "uji-003-a",
        "uji-003-b",
    }
    found = rina.get("/facilitator/cohorts/uji?q=sari+wulan").text
    assert set(rows_of(found)) == {"uji-001-a", "uji-001-b"}  # the couple, both partners
    assert set(rows_of(rina.get("/facilitator/cohorts/uji?q=UJI-002").text)) == {
        "uji-002-a",
        "uji-002-b",
    }
    assert set(rows_of(rina.get("/facilitator/cohorts/uji?stage=m1-quiz").text)) == {
        "uji-001-a",
        "uji-001-b",
    }
    sorted_page = rina.get("/facilitator/cohorts/uji?sort=stage").text
    assert sorted_page.index("UJI-003") < sorted_page.index("UJI-001")  # slowest first
    fragment = rina.get(
        "/facilitator/cohorts/uji?flag=gap", headers={"HX-Request": "true", "HX-Target": "list"}
    )
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert set(rows_of(fragment.text)) == {"uji-001-a", "uji-001-b"}
    refused = rina.get("/facilitator/cohorts/uji?stage=m9-quiz")
    assert refused.status_code == 422 and "m9-quiz" in refused.text


def test_the_list_has_pages_of_fifty_couples(mini, settings, make_client):
    from app.cohorts.roster import parse_roster
    from app.cohorts.service import roster_import

    rina = make_user(mini, settings, "rina", "facilitator")
    cohort = make_cohort(mini, "besar", facilitator=rina)
    with mini.write() as session:
        result = roster_import(
            session,
            cohort=cohort,
            parsed=parse_roster(make_roster_csv(55, seed=3), "r.csv"),
            actor_id=None,
            now=datetime.now(UTC),
            activation_days=30,
            secret=SECRET,
            create_organizations=True,
        )
        assert result.ok, result.problems
    client = make_client()
    login(client, "rina", PASSWORD)
    first = client.get("/facilitator/cohorts/besar").text
    assert first.count('class="stack-head"') == 50
    assert "Halaman 1 dari 2" in first and "BESAR-050" in first and "BESAR-051" not in first
    # the next page: a link that works without JavaScript, and with htmx swaps the list only
    nxt = '<a class="button" href="/facilitator/cohorts/besar?page=2"'
    assert f'{nxt} hx-get="/facilitator/cohorts/besar?page=2" hx-target="#list">' in first
    second = client.get("/facilitator/cohorts/besar?page=2").text
    assert second.count('class="stack-head"') == 5 and "BESAR-055" in second
    assert 'href="/facilitator/cohorts/besar" hx-get="/facilitator/cohorts/besar"' in second


def test_whatsapp_and_email_reminders_and_marking_them_sent(evening, mini):
    rina = evening.rina
    page = rina.get("/facilitator/cohorts/uji").text
    link = re.search(r'href="(https://wa\.me/[^"]+)"', page).group(1)
    url = urlparse(link.replace("&amp;", "&"))
    assert url.path == "/6281234567890"
    message = parse_qs(url.query)["text"][0]
    assert message.startswith("Halo Budi Santoso,") and "kuis modul 1" in message
    assert "http://testserver/learn" in message
    mail = re.search(r'href="(mailto:[^"]+)"', page).group(1).replace("&amp;", "&")
    assert mail.startswith("mailto:sari@example.org?subject=")
    assert "tes awal" in unquote(mail)
    assert "Tidak ada kontak" in page  # uji-002 and uji-003 have none
    assert "tidak dikirim oleh situs ini" in page
    budi = evening.users["uji-001-a"]
    sent = rina.post(
        f"/facilitator/cohorts/uji/participants/{budi.id}/reminded",
        data={"stage": "m1-quiz", "channel": "whatsapp", "csrf_token": csrf_of(page)},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    with mini.read() as session:
        row = session.execute(select(Reminder)).scalar_one()
    assert (row.user_id, row.stage, row.channel) == (budi.id, "m1-quiz", "whatsapp")
    assert row.sent_by is not None
    again = rina.get("/facilitator/cohorts/uji").text
    assert "diingatkan" in again
    fragment = rina.post(
        f"/facilitator/cohorts/uji/participants/{budi.id}/reminded",
        data={"stage": "m1-quiz", "channel": "whatsapp", "csrf_token": csrf_of(page)},
        headers={"HX-Request": "true"},
    )
    assert fragment.status_code == 200 and fragment.text.strip().startswith("diingatkan")
    bad = rina.post(
        f"/facilitator/cohorts/uji/participants/{budi.id}/reminded",
        data={"stage": "nowhere", "channel": "whatsapp", "csrf_token": csrf_of(page)},
    )
    assert bad.status_code == 422
    with mini.read() as session:
        assert session.execute(select(func.count()).select_from(Reminder)).scalar() == 2


def test_remind_one_by_one_walks_the_filtered_list(evening):
    rina = evening.rina
    first = rina.get("/facilitator/cohorts/uji/remind?flag=gap")
    assert first.status_code == 200
    names = {"Budi Santoso", "Sari Wulandari"}
    shown = next(n for n in names if f">{n}</h2>" in first.text)
    action = re.search(r'<form method="post" action="([^"]+)"', first.text).group(1)
    nxt = re.search(r'name="next" value="([^"]+)"', first.text).group(1).replace("&amp;", "&")
    stage = re.search(r'name="stage" value="([^"]+)"', first.text).group(1)
    done = rina.post(
        action,
        data={
            "stage": stage,
            "channel": "whatsapp",
            "next": nxt,
            "csrf_token": csrf_of(first.text),
        },
        follow_redirects=False,
    )
    assert done.headers["location"] == nxt
    second = rina.get(nxt).text
    other = (names - {shown}).pop()
    assert f">{other}</h2>" in second
    skipped = re.search(r'href="([^"]*skip=[^"]+)"', second).group(1).replace("&amp;", "&")
    assert "semua orang" in rina.get(skipped).text.lower()


def test_reminder_texts_are_checked_saved_and_used(evening, mini):
    rina = evening.rina
    page = rina.get("/facilitator/cohorts/uji/reminder-texts")
    assert page.status_code == 200 and "{nama}" in page.text
    token = csrf_of(page.text)
    wrong = rina.post(
        "/facilitator/cohorts/uji/reminder-texts",
        data={"text-quiz-id": "Halo {nama}, ayo {kuis}!", "csrf_token": token},
    )
    assert wrong.status_code == 422 and "{kuis}" in wrong.text
    assert "Halo {nama}, ayo {kuis}!" in wrong.text  # what was typed is kept
    broken = rina.post(
        "/facilitator/cohorts/uji/reminder-texts",
        data={"text-quiz-id": "Halo {nama", "csrf_token": token},
    )
    assert broken.status_code == 422
    with mini.read() as session:
        assert session.execute(select(func.count()).select_from(ReminderText)).scalar() == 0
    saved = rina.post(
        "/facilitator/cohorts/uji/reminder-texts",
        data={"text-quiz-id": "Pak {nama}, kuisnya menunggu: {tautan}", "csrf_token": token},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    listing = rina.get("/facilitator/cohorts/uji").text
    link = re.search(r'href="(https://wa\.me/[^"]+)"', listing).group(1).replace("&amp;", "&")
    assert parse_qs(urlparse(link).query)["text"][0] == (
        "Pak Budi Santoso, kuisnya menunggu: http://testserver/learn"
    )
    reset = rina.post(
        "/facilitator/cohorts/uji/reminder-texts",
        data={"reset-quiz-id": "1", "csrf_token": token},
        follow_redirects=False,
    )
    assert reset.status_code == 303
    with mini.read() as session:
        assert session.execute(select(func.count()).select_from(ReminderText)).scalar() == 0
        assert (
            session.execute(
                select(func.count())
                .select_from(AuditLog)
                .where(AuditLog.action == "reminder.texts")
            ).scalar()
            == 2
        )


def test_attendance_one_tap_a_couple_at_once_and_corrections(evening, mini):
    rina = evening.rina
    day1 = evening.cohort.workshop_start.isoformat()
    page = rina.get("/facilitator/cohorts/uji/attendance")
    assert page.status_code == 200 and "Hadir: 0" in page.text and "Belum ditandai: 6" in page.text
    budi = evening.users["uji-001-a"]
    token = csrf_of(page.text)
    marked = rina.post(
        "/facilitator/cohorts/uji/attendance",
        data={"user": budi.id, "day": day1, "present": "1", "csrf_token": token},
        follow_redirects=False,
    )
    assert marked.status_code == 303 and f"#p{budi.id}" in marked.headers["location"]
    both = rina.post(
        "/facilitator/cohorts/uji/attendance",
        data={
            "user": [evening.users["uji-002-a"].id, evening.users["uji-002-b"].id],
            "day": day1,
            "present": "1",
            "csrf_token": token,
        },
        headers={"HX-Request": "true"},
    )
    assert both.status_code == 200 and "<html" not in both.text and "Hadir: 3" in both.text
    corrected = rina.post(
        "/facilitator/cohorts/uji/attendance",
        data={"user": budi.id, "day": day1, "present": "0", "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert "Hadir: 2" in corrected.text and "Tidak hadir: 1" in corrected.text
    found = rina.get(f"/facilitator/cohorts/uji/attendance?day={day1}&q=uji-002").text
    assert "UJI-002" in found and "UJI-001" not in found
    day2 = rina.get(
        f"/facilitator/cohorts/uji/attendance?day={evening.cohort.workshop_end.isoformat()}"
    ).text
    assert "Hadir: 0" in day2
    not_a_day = rina.post(
        "/facilitator/cohorts/uji/attendance",
        data={"user": budi.id, "day": "2001-01-01", "present": "1", "csrf_token": token},
    )
    assert not_a_day.status_code == 422
    with mini.read() as session:
        rows = session.execute(select(Attendance)).scalars().all()
        audits = session.execute(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "attendance.mark")
        ).scalar()
    assert {(r.user_id, r.present) for r in rows} == {
        (budi.id, False),
        (evening.users["uji-002-a"].id, True),
        (evening.users["uji-002-b"].id, True),
    }
    assert audits == 3
    couple = rina.get("/facilitator/cohorts/uji/couples/UJI-001").text
    assert "tidak hadir" in couple


def test_the_couple_page_shows_both_partners_and_their_actions(evening):
    page = evening.rina.get("/facilitator/cohorts/uji/couples/UJI-001")
    assert page.status_code == 200
    text = page.text
    assert "Budi Santoso" in text and "Sari Wulandari" in text
    assert text.index("Budi Santoso") < text.index("Sari Wulandari")
    assert "Percobaan 1: 50%" in text  # the pre-test attempt with its score
    assert "Pelajaran awal" in text and "Pelajaran kedua" in text
    assert "Kode baru" in text and "Tandai sudah dikirim" in text
    assert "Refleksi keluarga" in text
    assert evening.rina.get("/facilitator/cohorts/uji/couples/UJI-999").status_code == 404


def test_a_facilitator_never_reaches_another_cohort(evening, mini, make_client, settings):
    dewi = make_client()
    login(dewi, "dewi", PASSWORD)
    budi = evening.users["uji-001-a"]
    base = "/facilitator/cohorts/uji"
    for path in (
        base,
        f"{base}?flag=gap",
        f"{base}/couples/UJI-001",
        f"{base}/attendance",
        f"{base}/results",
        f"{base}/items",
        f"{base}/remind",
        f"{base}/reminder-texts",
        f"{base}/export.xlsx",
        f"{base}/export.csv",
        f"{base}/report.pdf",
    ):
        response = dewi.get(path, headers={"HX-Request": "true", "HX-Target": "list"})
        assert response.status_code in (403, 404), path
        assert "Budi Santoso" not in response.text, path
    token = csrf_of(dewi.get("/facilitator").text)
    for path, data in (
        (f"{base}/participants/{budi.id}/reminded", {"stage": "pretest", "channel": "whatsapp"}),
        (
            f"{base}/attendance",
            {"user": budi.id, "day": evening.cohort.workshop_start.isoformat(), "present": "1"},
        ),
        (f"{base}/reminder-texts", {"text-quiz-id": "Halo {nama}"}),
        # her own cohort's URL with someone of another cohort
        (
            f"/facilitator/cohorts/lain/participants/{budi.id}/reminded",
            {"stage": "pretest", "channel": "whatsapp"},
        ),
        ("/facilitator/cohorts/lain/attendance", {"user": budi.id, "day": "", "present": "1"}),
    ):
        response = dewi.post(path, data={**data, "csrf_token": token})
        assert response.status_code in (403, 404), path
    participant = make_client()
    login(participant, "uji-001-a", PASSWORD)
    assert participant.get(base).status_code == 403
    with mini.read() as session:
        for table in (Reminder, Attendance, ReminderText):
            assert session.execute(select(func.count()).select_from(table)).scalar() == 0
        exports = session.execute(
            select(func.count()).select_from(AuditLog).where(AuditLog.action.like("export.%"))
        ).scalar()
    assert exports == 0


def test_the_home_page_lists_each_cohort_with_its_progress(evening):
    page = evening.rina.get("/facilitator").text
    assert "Angkatan uji" in page and "Angkatan lain" not in page
    assert "7 hari lagi" in page
    assert "67%" in page  # activated: 4 of 6
    assert "50%" in page  # pre-test: 3 of 6


@pytest.mark.parametrize(
    ("name", "greeted"),
    [
        ("Ir. Iwan Gunadi, S.H., M.H.", "Iwan Gunadi"),
        ("Drs. Rudi Suryadi, S.T., M.T.", "Rudi Suryadi"),
        ("Hj. Siti Rahmawati", "Siti Rahmawati"),
        ("Dian Rahman", "Dian Rahman"),
        ("Prof.", "Prof."),
    ],
)
def test_reminders_greet_people_without_their_degrees(name, greeted):
    from app.facilitator.workspace import plain_name

    assert plain_name(name) == greeted


def row_of(html: str, user: User) -> str:
    """The list's row of one participant."""
    return re.search(rf'<tr id="p{user.id}".*?</tr>', html, re.S).group(0)


def test_the_list_keeps_each_couples_facts_until_the_couple_changes(
    evening, mini, make_client, count_queries, time_machine
):
    """A second view reads fewer statements (the couples' facts are kept); each change of a
    couple shows at once: a pre-test, an answered lesson check (the last activity), an
    activation written with a Core statement."""
    rina, users = evening.rina, evening.users
    with count_queries() as first:
        assert rows_of(rina.get("/facilitator/cohorts/uji").text)["uji-001-b"] == "pretest"
    with count_queries() as again:
        page = rina.get("/facilitator/cohorts/uji").text
    assert again.count < first.count
    assert rows_of(page)["uji-001-b"] == "pretest"

    spouse = make_client()
    login(spouse, "uji-001-b", PASSWORD)
    take_quiz(spouse, mini, "pre-test", right=0.5)
    with count_queries() as after:
        page = rina.get("/facilitator/cohorts/uji").text
    assert rows_of(page)["uji-001-b"] == "m1-lessons"
    # the changed couple alone is read again, in the statements of a whole cohort's read
    assert again.count < after.count == first.count

    time_machine.move_to(datetime.now(UTC) + timedelta(days=3))
    assert "3 hari yang lalu" in row_of(
        rina.get("/facilitator/cohorts/uji").text, users["uji-002-a"]
    )
    person = make_client()
    login(person, "uji-002-a", PASSWORD)
    answer_checks(person, "awal")  # no lesson completed: only the last activity moves
    row = row_of(rina.get("/facilitator/cohorts/uji").text, users["uji-002-a"])
    assert "3 hari yang lalu" not in row and "m1-lessons" in row

    set_user(mini, "uji-003-a", password_hash=users["uji-001-a"].password_hash)
    assert rows_of(rina.get("/facilitator/cohorts/uji").text)["uji-003-a"] == "pretest"
