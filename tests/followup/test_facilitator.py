"""The facilitator's follow-up list: each person's next step after the workshop, open and
overdue check-ins, WhatsApp reminders, and the cohort's figures."""

from __future__ import annotations

from urllib.parse import unquote

from sqlalchemy import select

from app.facilitator.models import Reminder
from app.followup.models import Commitment
from tests.conftest import login, post_form
from tests.factories import make_couple, make_user
from tests.followup.test_participant import (
    PW,
    SURVEY_FORM,
    A,
    B,
    plan_form,
    through_the_path,
    travel,
)


def _rows(html: str) -> dict[str, str]:
    """{participant row id: the row's html} of the follow-up table."""
    out = {}
    for part in html.split('<tr id="f')[1:]:
        out[part.split('"', 1)[0]] = part.split("</tr>", 1)[0]
    return out


def test_the_follow_up_list_shows_open_and_overdue_check_ins_with_reminders(
    pair, couple, mini, settings, time_machine, make_client
):
    a, b = pair
    cohort, (official, spouse) = couple
    make_couple(mini, settings, cohort, "tng26-002")  # a couple that does nothing afterwards
    fasi = make_client()
    through_the_path(a, mini, time_machine)
    through_the_path(b, mini, time_machine)
    login(fasi, "rina", PW)
    url = f"/facilitator/cohorts/{cohort.slug}/follow-up"

    # right after the workshop: the survey for everyone, then the plan
    page = fasi.get(url)
    assert page.status_code == 200
    assert page.text.count("Feedback survey") >= 4 or "Survei" in page.text
    post_form(a, "/survey", SURVEY_FORM, page="/survey")
    post_form(a, "/family/plan", plan_form(2), page="/family/plan")
    post_form(b, "/family/plan/confirm", page="/family")

    # 9 April (WIB): the 30-day check-in is open; a week later it is overdue
    travel(time_machine, "2026-04-09 03:00:00+00:00", (a, A), (b, B), (fasi, "rina"))
    page = fasi.get(url + "?step=checkin-1").text
    rows = _rows(page)
    assert set(rows) == {str(official.id), str(spouse.id)}  # the couple with a plan
    message = unquote(rows[str(official.id)].split("<summary>", 1)[1])
    assert "/family/checkins/1" in message and "29 April 2026" in message
    assert fasi.get(url + "?step=overdue").text.count('<tr id="f') == 0  # due within a week
    assert fasi.get(url + "?step=plan").text.count('<tr id="f') == 2  # tng26-002 has none
    with mini.read() as session:
        ids = [c.id for c in session.execute(select(Commitment)).scalars()]
    marks = {f"mark-{i}": "done" for i in ids}
    assert post_form(a, "/family/checkins/1", marks, page="/family").status_code == 303
    # the couple's page shows the plan and each partner's marks
    couple_page = fasi.get(f"/facilitator/cohorts/{cohort.slug}/couples/TNG26-001").text
    assert "Komitmen keluarga 2" in couple_page and "Cek bersama 30 hari" in couple_page
    assert "<strong>Selesai</strong>" in couple_page

    travel(time_machine, "2026-04-17 03:00:00+00:00", (fasi, "rina"))
    overdue = _rows(fasi.get(url + "?step=overdue").text)
    # the couple is listed whole: the spouse is overdue, the official has answered
    assert 'class="state late"' in overdue[str(spouse.id)].split("remind-cell")[0]
    assert 'class="state late"' not in overdue[str(official.id)].split("remind-cell")[0]

    # the reminder is recorded under the follow-up step
    sent = post_form(
        fasi,
        f"/facilitator/cohorts/{cohort.slug}/participants/{spouse.id}/reminded",
        {"stage": "checkin-1", "channel": "whatsapp", "next": url},
        page=url,
    )
    assert sent.status_code == 303
    with mini.read() as session:
        assert session.execute(select(Reminder.stage)).scalars().all() == ["checkin-1"]
    bad = fasi.get(url + "?step=nope")
    assert bad.status_code == 422


def test_the_follow_up_page_reads_a_constant_number_of_statements(
    couple, mini, settings, make_client, count_queries
):
    cohort, _ = couple
    fasi = make_client()
    login(fasi, "rina", PW)
    url = f"/facilitator/cohorts/{cohort.slug}/follow-up"
    fasi.get(url)  # the first request of a session loads the curriculum, touches the session
    with count_queries() as few:
        assert fasi.get(url).status_code == 200
    for n in range(2, 12):
        make_couple(mini, settings, cohort, f"tng26-{n:03d}")
    fasi.get(url)
    with count_queries() as many:
        assert fasi.get(url).status_code == 200
    assert len(many.statements) == len(few.statements)


def test_the_administrator_sets_a_cohorts_check_in_days(couple, mini, settings, make_client):
    from app.cohorts.models import Cohort

    cohort, _ = couple
    make_user(mini, settings, "admin", "admin")
    admin = make_client()
    login(admin, "admin", PW)
    page = f"/admin/cohorts/{cohort.slug}"
    form = {
        "code_prefix": cohort.code_prefix,
        "region_id": str(cohort.region_id),
        "title": cohort.title,
        "venue": cohort.venue,
        "workshop_start": cohort.workshop_start.isoformat(),
        "workshop_end": cohort.workshop_end.isoformat(),
        "pre_opens": "2026-02-07",
        "post_closes": "2026-05-08",
        "checkin_first_days": "45",
        "checkin_second_days": "60",
        "checkin_open_days": "21",
    }
    refused = post_form(admin, page, form, page=page)
    assert refused.status_code == 422 and "hari ke-66" in refused.text
    assert post_form(admin, page, {**form, "checkin_open_days": "3"}, page=page).status_code == 422
    with mini.read() as session:
        assert session.get(Cohort, cohort.id).checkin_first_days == 30
    done = post_form(admin, page, {**form, "checkin_second_days": "120"}, page=page)
    assert done.status_code == 303
    with mini.read() as session:
        saved = session.get(Cohort, cohort.id)
    assert (saved.checkin_first_days, saved.checkin_second_days) == (45, 120)
