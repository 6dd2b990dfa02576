"""After the workshop, as the couple lives it: the survey, the action plan drafted by one
partner and confirmed by the other, the check-ins' windows, and the retention check."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import inspect, select

from app.followup.models import (
    ActionPlan,
    CheckinMark,
    Commitment,
    RetentionAttempt,
    SurveyResponse,
    SurveyTaken,
)
from tests.conftest import QUESTION_RE, complete, login, post_form, take_quiz

PW = "kata-sandi-uji-123"
TODAY = date(2026, 3, 2)  # the workshop is on 9–10 March 2026: "after" opens on 11 March
SURVEY_FORM = {
    "materi-jelas": "4",
    "materi-sesuai": "5",
    "fasilitator-menguasai": "4",
    "fasilitator-melibatkan": "3",
    "metode-berpasangan": "5",
    "metode-daring": "4",
    "tempat-jadwal": "2",
    "bermanfaat-keluarga": "5",
    "rekomendasi": "ya",
    "paling-berguna": "Bertanya 'ini uang dari mana?' dengan hangat.",
    "saran": "",
}


def through_the_path(client, db, time_machine):
    """Pre-test, every lesson (the last one after the workshop), module quizzes."""
    time_machine.move_to("2026-03-02 03:00:00+00:00", tick=False)
    take_quiz(client, db, "pre-test", right=0.5)
    complete(client, "awal")
    complete(client, "kedua")
    take_quiz(client, db, "kuis-satu")
    time_machine.move_to("2026-03-11 03:00:00+00:00", tick=False)
    complete(client, "ketiga")
    take_quiz(client, db, "kuis-dua")
    take_quiz(client, db, "post-test", right=0.5)


def travel(time_machine, when, *clients):
    """Move the clock; each client signs in again (sessions end after weeks)."""
    time_machine.move_to(when, tick=False)
    for client, username in clients:
        login(client, username, PW)


A, B = "tng26-001-a", "tng26-001-b"


def plan_form(n=2, day="2026-06-30"):
    form = {}
    for i in range(1, n + 1):
        form |= {f"what-{i}": f"Komitmen keluarga {i}", f"who-{i}": "Kami berdua", f"by-{i}": day}
    return form


def right_answers(db, html):
    """Every question of a page answered right (its correct choices)."""
    from app.curriculum.models import Choice

    choices: dict[int, list[int]] = {}
    for qid, cid in QUESTION_RE.findall(html):
        choices.setdefault(int(qid), []).append(int(cid))
    with db.read() as session:
        correct = set(
            session.execute(
                select(Choice.id).where(
                    Choice.id.in_([c for ids in choices.values() for c in ids]),
                    Choice.correct.is_(True),
                )
            ).scalars()
        )
    return {f"q{qid}": [c for c in ids if c in correct] for qid, ids in choices.items()}


def count(db, model):
    with db.read() as session:
        return len(session.execute(select(model)).scalars().all())


# ---------------------------------------------------------------- the survey


def test_the_survey_opens_after_the_workshop_and_keeps_answers_without_a_name(
    pair, mini, time_machine
):
    a, b = pair
    take_quiz(a, mini, "pre-test")
    early = a.get("/survey")
    assert 'data-window="not_open"' in early.text and 'action="/survey"' not in early.text
    refused = post_form(a, "/survey", SURVEY_FORM, page="/learn")
    assert refused.status_code == 403 and count(mini, SurveyResponse) == 0
    assert "Survei dibuka pada 11 Maret 2026" in refused.text  # the day after, in WIB

    time_machine.move_to("2026-03-11 03:00:00+00:00", tick=False)
    page = a.get("/survey")
    assert page.status_code == 200 and "materi-jelas" in page.text
    missing = post_form(a, "/survey", {**SURVEY_FORM, "tempat-jadwal": ""}, page="/survey")
    assert missing.status_code == 422 and count(mini, SurveyTaken) == 0
    assert post_form(a, "/survey", {**SURVEY_FORM, "rekomendasi": "selalu"}, page="/survey")
    assert count(mini, SurveyResponse) == 0
    done = post_form(a, "/survey", SURVEY_FORM, page="/survey")
    assert done.status_code == 303
    again = post_form(a, "/survey", SURVEY_FORM, page="/learn")
    assert again.status_code == 409
    with mini.read() as session:
        (response,) = session.execute(select(SurveyResponse)).scalars().all()
        taken = session.execute(select(SurveyTaken)).scalars().all()
    assert response.answers["materi-jelas"] == 4 and response.answers["rekomendasi"] == "ya"
    assert "saran" not in response.answers  # an empty open answer is not kept
    assert len(taken) == 1 and taken[0].taken_on == date(2026, 3, 11)
    # nothing in the answer's row points to a person: no user column, a random key
    columns = {c.name for c in inspect(SurveyResponse).columns}
    assert columns == {"id", "cohort_id", "survey_version", "answered_on", "answers"}
    assert re.fullmatch(r"[0-9a-f]{32}", response.id)

    # the survey closes with the first check-in: 10 March + 30 + 21 days
    travel(time_machine, "2026-04-30 03:00:00+00:00", (b, B))
    late = post_form(b, "/survey", SURVEY_FORM, page="/learn")
    assert late.status_code == 403 and 'data-window="closed"' in late.text
    assert "Survei sudah ditutup pada 29 April 2026" in late.text


# ---------------------------------------------------------------- the action plan


def test_one_partner_drafts_the_plan_and_the_other_confirms_it(pair, mini, time_machine):
    a, b = pair
    early = post_form(a, "/family/plan", plan_form(), page="/family")
    assert early.status_code == 409 and count(mini, ActionPlan) == 0
    through_the_path(a, mini, time_machine)

    one = post_form(a, "/family/plan", plan_form(1), page="/family/plan")
    assert one.status_code == 422 and count(mini, ActionPlan) == 0
    past = post_form(a, "/family/plan", plan_form(2, "2026-03-01"), page="/family/plan")
    assert past.status_code == 422 and 'aria-invalid="true"' in past.text
    no_who = post_form(a, "/family/plan", {**plan_form(2), "who-2": ""}, page="/family/plan")
    assert no_who.status_code == 422 and count(mini, Commitment) == 0
    assert "Komitmen keluarga 2" in no_who.text  # what was typed stays in the form

    assert post_form(a, "/family/plan", plan_form(3), page="/family/plan").status_code == 303
    own = post_form(a, "/family/plan/confirm", page="/family")
    assert own.status_code == 409
    family_b = b.get("/family").text
    assert "Komitmen keluarga 3" in family_b and "/family/plan/confirm" in family_b
    assert post_form(b, "/family/plan/confirm", page="/family").status_code == 303
    with mini.read() as session:
        plan = session.execute(select(ActionPlan)).scalar_one()
    assert plan.confirmed_at is not None and plan.confirmed_by != plan.drafted_by
    assert count(mini, Commitment) == 3

    # a change by either partner needs the other to confirm again
    through_the_path(b, mini, time_machine)
    assert post_form(b, "/family/plan", plan_form(2), page="/family/plan").status_code == 303
    with mini.read() as session:
        plan = session.execute(select(ActionPlan)).scalar_one()
    assert plan.confirmed_at is None and count(mini, Commitment) == 2
    assert post_form(a, "/family/plan/confirm", page="/family").status_code == 303


# ---------------------------------------------------------------- check-ins


def _confirmed_plan(pair, mini, time_machine):
    a, b = pair
    through_the_path(a, mini, time_machine)
    post_form(a, "/family/plan", plan_form(2), page="/family/plan")
    post_form(b, "/family/plan/confirm", page="/family")
    with mini.read() as session:
        return [c.id for c in session.execute(select(Commitment)).scalars()]


def test_a_check_in_opens_thirty_days_after_the_workshop_and_closes_three_weeks_later(
    pair, mini, time_machine
):
    a, b = pair
    ids = _confirmed_plan(pair, mini, time_machine)
    marks = {
        f"mark-{ids[0]}": "done",
        f"mark-{ids[1]}": "partly",
        f"note-{ids[1]}": "Baru dua kali.",
    }

    travel(time_machine, "2026-04-08 16:59:00+00:00", (a, A), (b, B))  # 23.59 WIB, 8 April
    early = post_form(a, "/family/checkins/1", marks, page="/family")
    assert early.status_code == 403 and "Cek bersama dibuka pada 9 April 2026" in early.text
    assert count(mini, CheckinMark) == 0

    time_machine.move_to("2026-04-08 17:00:00+00:00", tick=False)  # midnight WIB, 9 April
    assert a.get("/family/checkins/1").status_code == 200
    half = post_form(a, "/family/checkins/1", {f"mark-{ids[0]}": "done"}, page="/family")
    assert half.status_code == 422 and count(mini, CheckinMark) == 0
    wrong = post_form(a, "/family/checkins/1", {**marks, f"mark-{ids[0]}": "maybe"}, page="/family")
    assert wrong.status_code == 422
    assert post_form(a, "/family/checkins/1", marks, page="/family").status_code == 303
    # the partner sees both answers on the check-in
    page_b = b.get("/family/checkins/1").text
    assert "Baru dua kali." in page_b
    # changing one's answer while it is open replaces it
    again = {**marks, f"mark-{ids[1]}": "done"}
    assert post_form(a, "/family/checkins/1", again, page="/family").status_code == 303
    with mini.read() as session:
        statuses = sorted(m.status for m in session.execute(select(CheckinMark)).scalars())
    assert statuses == ["done", "done"]
    # the plan is fixed once someone checked in on it
    assert post_form(a, "/family/plan", plan_form(3), page="/family/plan").status_code == 409

    travel(time_machine, "2026-04-29 16:59:00+00:00", (a, A), (b, B))  # the last minute, WIB
    assert post_form(b, "/family/checkins/1", marks, page="/family").status_code == 303
    time_machine.move_to("2026-04-29 17:00:00+00:00", tick=False)
    closed = post_form(b, "/family/checkins/1", marks, page="/family")
    assert closed.status_code == 403 and 'data-window="closed"' in closed.text
    assert "ditutup pada 29 April 2026" in closed.text
    assert a.get("/family/checkins/3").status_code == 404


def test_a_check_in_needs_a_confirmed_plan(pair, mini, time_machine):
    a, _ = pair
    through_the_path(a, mini, time_machine)
    post_form(a, "/family/plan", plan_form(2), page="/family/plan")
    travel(time_machine, "2026-04-10 03:00:00+00:00", (a, A))
    refused = post_form(a, "/family/checkins/1", {}, page="/family")
    assert refused.status_code == 409 and count(mini, CheckinMark) == 0


# ---------------------------------------------------------------- the retention check


def test_the_retention_check_comes_with_the_ninety_day_check_in(pair, mini, time_machine):
    a, _ = pair
    through_the_path(a, mini, time_machine)
    travel(time_machine, "2026-06-07 03:00:00+00:00", (a, A))
    early = post_form(a, "/learn/retention/start", page="/learn")
    assert early.status_code == 403 and "Cek pengetahuan dibuka pada 8 Juni 2026" in early.text

    time_machine.move_to("2026-06-08 03:00:00+00:00", tick=False)
    assert post_form(a, "/learn/retention/start", page="/learn/retention").status_code == 303
    page = a.get("/learn/retention").text
    names = sorted(set(re.findall(r'name="(q\d+)"', page)))
    assert names  # one question per value the fixture's pool covers
    missing = post_form(a, "/learn/retention/submit", page="/learn/retention")
    assert missing.status_code == 422
    form = right_answers(mini, page)
    assert post_form(a, "/learn/retention/submit", form, page="/learn/retention").status_code == 303
    with mini.read() as session:
        attempt = session.execute(select(RetentionAttempt)).scalar_one()
    assert attempt.score == 100.0 and attempt.submitted_at is not None
    again = post_form(a, "/learn/retention/submit", form, page="/learn/retention")
    assert again.status_code == 409
    # the results page shows what stayed: pre → post → now, on the check's items
    results = a.get("/learn/results").text
    stayed = results.split('id="stayed"')[1].split("</section>")[0]
    assert "Yang masih diingat" in stayed and stayed.count("→") == 2
    assert stayed.rstrip().split("→")[-1].strip().startswith("100%")
