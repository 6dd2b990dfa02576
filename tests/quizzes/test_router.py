"""Module quizzes, pre-test and post-test on the small fixture curriculum."""

from __future__ import annotations

import re
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.quizzes.models import AttemptItem, QuizAttempt
from tests.conftest import complete, csrf_of, login, open_quiz, quiz_form, take_quiz
from tests.factories import make_cohort, make_couple, make_user

TODAY = date(2026, 3, 2)
PW = "kata-sandi-uji-123"


@pytest.fixture
def couple(mini, settings, time_machine):
    time_machine.move_to("2026-03-02 03:00:00+00:00", tick=False)
    fasi = make_user(mini, settings, "rina", "facilitator")
    cohort = make_cohort(mini, "uji", workshop_start=TODAY + timedelta(days=7), facilitator=fasi)
    return make_couple(mini, settings, cohort, "tng26-001")


@pytest.fixture
def official(client, couple, mini):
    login(client, "tng26-001-a", PW)
    take_quiz(client, mini, "pre-test", right=0.5)
    return client


def finish_module_one(client):
    complete(client, "awal")
    complete(client, "kedua")


def attempts(db, user_id=None):
    with db.read() as session:
        query = select(QuizAttempt).order_by(QuizAttempt.id)
        if user_id:
            query = query.where(QuizAttempt.user_id == user_id)
        return session.execute(query).scalars().all()


def test_module_quiz_opens_when_its_lessons_are_done(official):
    locked = official.get("/learn/quizzes/kuis-satu")
    assert locked.status_code == 403
    assert "Terbuka setelah Anda menyelesaikan semua pelajaran" in locked.text
    finish_module_one(official)
    page = official.get("/learn/quizzes/kuis-satu")
    assert page.status_code == 200 and "Nilai lulus 70%" in page.text


def test_three_failed_attempts_then_a_kind_message_naming_the_facilitator(official, mini):
    finish_module_one(official)
    for n in range(3):
        response = take_quiz(official, mini, "kuis-satu", right=False)
        assert response.headers["location"] == f"/learn/quizzes/kuis-satu/attempts/{n + 1}"
    page = official.get("/learn/quizzes/kuis-satu").text
    assert "Semua kesempatan untuk kuis ini sudah terpakai" in page
    assert "Rina" in page
    refused = official.post("/learn/quizzes/kuis-satu/start", data={"csrf_token": csrf_of(page)})
    assert refused.status_code == 409
    assert len(attempts(mini)) == 4  # the pre-test and three tries


def test_facilitator_gives_one_more_attempt_once_and_it_is_audited(
    official, couple, mini, make_client, settings
):
    from app.accounts.models import AuditLog

    finish_module_one(official)
    for _ in range(3):
        take_quiz(official, mini, "kuis-satu", right=False)
    fasi = make_client()
    login(fasi, "rina", PW)
    cohort_page = fasi.get("/facilitator/cohorts/uji").text
    assert "Menunggu kesempatan tambahan" in cohort_page
    assert "tng26-001 a" in cohort_page and "Kuis Satu" in cohort_page
    url = f"/facilitator/cohorts/uji/participants/{couple[0].id}/extra-attempt"
    granted = fasi.post(url, data={"quiz": "kuis-satu", "csrf_token": csrf_of(cohort_page)})
    assert granted.status_code == 200
    assert "dapat mengerjakan kuis itu sekali lagi" in granted.text
    assert 'id="waiting"' not in granted.text  # nobody waits any more
    # a second click grants nothing more: the participant has an attempt waiting
    again = fasi.post(url, data={"quiz": "kuis-satu", "csrf_token": csrf_of(cohort_page)})
    assert again.status_code == 409 and "masih punya kesempatan" in again.text
    page = official.get("/learn/quizzes/kuis-satu").text
    assert "sudah terpakai" not in page
    take_quiz(official, mini, "kuis-satu", right=False)
    refused = official.post("/learn/quizzes/kuis-satu/start", data={"csrf_token": csrf_of(page)})
    assert refused.status_code == 409  # the fifth try needs a new grant
    with mini.read() as session:
        log = session.execute(
            select(AuditLog).where(AuditLog.action == "quiz.extra_attempt")
        ).scalar_one()
    assert log.detail == {"quiz": "kuis-satu", "extra": 1}
    assert log.target == f"user:{couple[0].id}"


def test_extra_attempts_are_refused_outside_the_rules(
    official, couple, mini, make_client, settings
):
    finish_module_one(official)
    fasi = make_client()
    login(fasi, "rina", PW)
    page = fasi.get("/facilitator/cohorts/uji").text
    url = f"/facilitator/cohorts/uji/participants/{couple[0].id}/extra-attempt"
    token = csrf_of(page)
    still = fasi.post(url, data={"quiz": "kuis-satu", "csrf_token": token})
    assert still.status_code == 409 and "masih punya kesempatan" in still.text
    pre = fasi.post(url, data={"quiz": "pre-test", "csrf_token": token})
    assert pre.status_code == 422 and "hanya untuk kuis modul" in pre.text
    assert fasi.post(url, data={"quiz": "tidak-ada", "csrf_token": token}).status_code == 404
    # a participant of another cohort, and a facilitator of another cohort
    other = make_cohort(mini, "lain")
    stranger = make_couple(mini, settings, other, "lain-001")[0]
    wrong = f"/facilitator/cohorts/uji/participants/{stranger.id}/extra-attempt"
    assert fasi.post(wrong, data={"quiz": "kuis-satu", "csrf_token": token}).status_code == 404
    make_user(mini, settings, "dewi-fasi", "facilitator")
    outsider = make_client()
    login(outsider, "dewi-fasi", PW)
    token = csrf_of(outsider.get("/facilitator").text)
    denied = outsider.post(url, data={"quiz": "kuis-satu", "csrf_token": token})
    assert denied.status_code == 404  # as if the cohort did not exist
    from app.quizzes.models import ExtraAttempts

    with mini.read() as session:
        assert session.execute(select(ExtraAttempts)).first() is None


def test_the_best_attempt_counts_and_passing_opens_the_next_module(official, mini, time_machine):
    finish_module_one(official)
    take_quiz(official, mini, "kuis-satu", right=False)
    review = official.get("/learn/quizzes/kuis-satu/attempts/1")
    assert "belum lulus" in review.text
    assert "Sumber" in review.text and "Kejujuran dan keadilan termasuk" in review.text
    take_quiz(official, mini, "kuis-satu", right=True)
    page = official.get("/learn/quizzes/kuis-satu").text
    assert "Anda lulus kuis ini" in page
    assert "Coba lagi" not in page
    time_machine.move_to("2026-03-11 03:00:00+00:00", tick=False)
    assert official.get("/learn/lessons/ketiga").status_code == 200


def test_answers_are_saved_as_given_and_the_attempt_resumes(official, mini):
    finish_module_one(official)
    html = open_quiz(official, "kuis-satu")
    data = quiz_form(mini, html)
    saved = official.post("/learn/quizzes/kuis-satu/save", data=data, follow_redirects=False)
    assert saved.status_code == 303
    again = official.get("/learn/quizzes/kuis-satu").text  # closing the browser loses nothing
    assert again.count("checked") == 2
    assert "Jawaban Anda tersimpan" in official.get("/learn/quizzes/kuis-satu?saved=1").text
    htmx = official.post("/learn/quizzes/kuis-satu/save", data=data, headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and "Tersimpan" in htmx.text and "<html" not in htmx.text


def test_submitting_twice_makes_one_submitted_attempt(official, mini):
    finish_module_one(official)
    html = open_quiz(official, "kuis-satu")
    data = quiz_form(mini, html)
    first = official.post("/learn/quizzes/kuis-satu/submit", data=data, follow_redirects=False)
    second = official.post("/learn/quizzes/kuis-satu/submit", data=data, follow_redirects=False)
    assert first.headers["location"] == second.headers["location"]
    module = [a for a in attempts(mini) if a.number == 1 and a.score == 100]
    assert len(module) == 1
    assert len(attempts(mini)) == 2


def test_concurrent_submits_make_exactly_one_submission(official, mini, make_client):
    finish_module_one(official)
    html = open_quiz(official, "kuis-satu")
    data = quiz_form(mini, html)
    other_tab = make_client()
    other_tab.cookies.update(official.cookies)
    barrier = threading.Barrier(2)
    results = []

    def submit(client):
        barrier.wait()
        results.append(
            client.post(
                "/learn/quizzes/kuis-satu/submit", data=data, follow_redirects=False
            ).status_code
        )

    threads = [threading.Thread(target=submit, args=(c,)) for c in (official, other_tab)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [303, 303]
    quiz_attempts = [a for a in attempts(mini) if a.number == 1 and a.score is not None]
    submitted = [a for a in attempts(mini) if a.submitted_at is not None]
    assert len(submitted) == 2  # the pre-test and one quiz attempt
    assert len(quiz_attempts) == 2


def test_concurrent_submits_in_the_service(official, mini):
    from app.curriculum.service import CurriculumCache
    from app.quizzes import service

    finish_module_one(official)
    html = open_quiz(official, "kuis-satu")
    attempt_id = int(re.search(r'name="attempt_id" value="(\d+)"', html).group(1))
    with mini.read() as session:
        quiz = CurriculumCache().get(session).quizzes["kuis-satu"]
    barrier = threading.Barrier(4)
    outcomes = []

    def submit():
        barrier.wait()
        with mini.write() as session:
            attempt = service.attempt_get(
                session, attempt_id=attempt_id, user_id=attempts(mini)[0].user_id, quiz_id=quiz.id
            )
            outcomes.append(
                service.attempt_submit(session, attempt=attempt, quiz=quiz, now=attempt.started_at)
            )

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == [False, False, False, True]


def test_bad_answers_get_clear_4xx_and_write_nothing(official, mini, make_client, settings):
    finish_module_one(official)
    html = open_quiz(official, "kuis-satu")
    data = quiz_form(mini, html)
    # an item that is not in the attempt
    bad = {**data, "q999999": "1"}
    response = official.post("/learn/quizzes/kuis-satu/save", data=bad)
    assert response.status_code == 422
    assert "bukan bagian dari percobaan ini" in response.text
    # a choice from another question, together with a good answer: nothing is saved
    with mini.read() as session:
        other_choice = session.execute(select(AttemptItem.question_id)).first()
    qid = next(k for k in data if k.startswith("q"))
    mixed = {**data, qid: ["424242"]}
    assert official.post("/learn/quizzes/kuis-satu/save", data=mixed).status_code == 422
    assert "checked" not in official.get("/learn/quizzes/kuis-satu").text
    assert other_choice is not None
    # malformed ids
    assert (
        official.post("/learn/quizzes/kuis-satu/save", data={**data, qid: "abc"}).status_code == 422
    )
    assert (
        official.post("/learn/quizzes/kuis-satu/save", data={**data, "attempt_id": "x"}).status_code
        == 422
    )
    # another user's attempt
    intruder = make_client()
    login(intruder, "tng26-001-b", PW)
    page = intruder.get("/learn")
    stolen = intruder.post(
        "/learn/quizzes/kuis-satu/save", data={**data, "csrf_token": csrf_of(page.text)}
    )
    assert stolen.status_code == 404
    # after submit
    official.post("/learn/quizzes/kuis-satu/submit", data=data)
    late = official.post("/learn/quizzes/kuis-satu/save", data=data)
    assert late.status_code == 409 and "sudah dikumpulkan" in late.text


def test_an_attempt_is_accepted_only_under_its_own_quizs_address(official, mini):
    """A module quiz's attempt sent to the pre-test's save or submit address is refused as
    not found, and nothing of it changes."""
    finish_module_one(official)
    data = quiz_form(mini, open_quiz(official, "kuis-satu"))
    quiz_questions = [k for k in data if k.startswith("q")]
    for action in ("save", "submit"):
        response = official.post(f"/learn/quizzes/pre-test/{action}", data=data)
        assert response.status_code == 404, action
        assert "Percobaan ini tidak ada" in response.text
    assert official.post("/learn/quizzes/tidak-ada/save", data=data).status_code == 404
    attempt = next(a for a in attempts(mini) if a.id == int(data["attempt_id"]))
    assert attempt.submitted_at is None
    with mini.read() as session:
        selected = session.execute(
            select(AttemptItem.selected).where(AttemptItem.attempt_id == attempt.id)
        ).scalars()
        assert list(selected) == [None] * len(quiz_questions)
    # under its own address the same answers are taken
    assert official.post("/learn/quizzes/kuis-satu/save", data=data).status_code == 200
    with mini.read() as session:
        selected = session.execute(
            select(AttemptItem.selected).where(AttemptItem.attempt_id == attempt.id)
        ).scalars()
        assert None not in list(selected)


def test_submit_with_unanswered_questions_names_them(official, mini):
    finish_module_one(official)
    html = open_quiz(official, "kuis-satu")
    data = {k: v for k, v in quiz_form(mini, html).items() if not k.startswith("q")}
    response = official.post("/learn/quizzes/kuis-satu/submit", data=data)
    assert response.status_code == 422
    assert "Yang belum dijawab: nomor 1" in response.text


def test_pre_test_reveals_no_answers_and_allows_one_attempt(client, couple, mini):
    login(client, "tng26-001-a", PW)
    page = client.get("/learn/quizzes/pre-test")
    assert "tidak ada nilai lulus" in page.text
    response = take_quiz(client, mini, "pre-test", right=0.5)
    assert response.headers["location"] == "/learn/quizzes/pre-test"
    done = client.get("/learn/quizzes/pre-test").text
    assert "Tes awal Anda sudah tersimpan" in done
    assert "Pembahasan" not in done and "%" not in done.split("<main", 1)[1].split("</main>")[0]
    review = client.get("/learn/quizzes/pre-test/attempts/1")
    assert review.status_code == 403
    assert "ditampilkan setelah Anda mengikuti tes akhir" in review.text
    again = client.post("/learn/quizzes/pre-test/start", data={"csrf_token": csrf_of(done)})
    assert again.status_code == 409


def test_post_test_opens_after_the_workshop_with_the_same_items(
    official, mini, time_machine, make_client
):
    finish_module_one(official)
    take_quiz(official, mini, "kuis-satu")
    locked = official.get("/learn/quizzes/post-test")
    assert locked.status_code == 403 and "11 Maret 2026" in locked.text
    time_machine.move_to("2026-03-11 03:00:00+00:00", tick=False)
    assert "lulus semua kuis modul" in official.get("/learn/quizzes/post-test").text
    complete(official, "ketiga")
    take_quiz(official, mini, "kuis-dua")
    assert official.get("/learn/results").status_code == 200
    response = take_quiz(official, mini, "post-test")
    assert response.headers["location"] == "/learn/results"
    with mini.read() as session:
        rows = session.execute(
            select(QuizAttempt.id, AttemptItem.question_id)
            .join(AttemptItem, AttemptItem.attempt_id == QuizAttempt.id)
            .where(QuizAttempt.quiz_id.in_(select_quiz_ids(session, "pre-test", "post-test")))
        ).all()
    by_attempt = {}
    for attempt_id, qid in rows:
        by_attempt.setdefault(attempt_id, set()).add(qid)
    pre_items, post_items = by_attempt.values()
    assert pre_items == post_items  # the very same question versions
    results = official.get("/learn/results").text
    assert "Tes awal" in results and "Tes akhir" in results
    assert "50%" in results and "100%" in results
    assert "+100%" in results  # (100 − 50) / (100 − 50)
    assert "Per modul" in results and "Modul Satu" in results and "Per nilai" in results
    # the partner sees totals, never answers
    spouse = make_client()
    login(spouse, "tng26-001-b", PW)
    assert spouse.get("/learn/quizzes/pre-test/attempts/1").status_code in (403, 404)
    spouse_page = spouse.get("/learn").text
    assert "Pembahasan" not in spouse_page


def select_quiz_ids(session, *slugs):
    from app.curriculum.models import Quiz

    return list(session.execute(select(Quiz.id).where(Quiz.slug.in_(slugs))).scalars())


def test_partner_sees_the_other_partners_totals_on_results(
    official, mini, time_machine, make_client
):
    spouse = make_client()
    login(spouse, "tng26-001-b", PW)
    take_quiz(spouse, mini, "pre-test", right=False)
    time_machine.move_to("2026-03-11 03:00:00+00:00", tick=False)
    for who in (official, spouse):
        finish_module_one(who)
        take_quiz(who, mini, "kuis-satu")
        complete(who, "ketiga")
        take_quiz(who, mini, "kuis-dua")
        take_quiz(who, mini, "post-test")
    page = spouse.get("/learn/results").text
    assert "tng26-001 a" in page
    assert "Tes awal 50%, tes akhir 100%." in page


def test_quiz_pages_run_a_bounded_number_of_queries(official, mini, count_queries):
    finish_module_one(official)
    open_quiz(official, "kuis-satu")
    with count_queries() as counter:
        assert official.get("/learn/quizzes/kuis-satu").status_code == 200
    assert counter.count <= 9, counter.statements
    html = official.get("/learn/quizzes/kuis-satu").text
    with count_queries() as counter:
        official.post(
            "/learn/quizzes/kuis-satu/save",
            data=quiz_form(mini, html),
            headers={"HX-Request": "true"},
        )
    assert counter.count <= 6, counter.statements


def test_after_a_grant_the_map_shows_the_quiz_open_again(
    official, couple, mini, make_client, settings
):
    """Every page reads one standing: after a facilitator's grant, the learning map agrees
    with the quiz page that one more attempt is open, and links it."""
    finish_module_one(official)
    for _ in range(3):
        take_quiz(official, mini, "kuis-satu", right=False)
    before = official.get("/learn").text
    assert "Belum lulus" in before and "Coba lagi" not in before
    fasi = make_client()
    login(fasi, "rina", PW)
    page = fasi.get("/facilitator/cohorts/uji").text
    url = f"/facilitator/cohorts/uji/participants/{couple[0].id}/extra-attempt"
    granted = fasi.post(url, data={"quiz": "kuis-satu", "csrf_token": csrf_of(page)})
    assert granted.status_code == 200 and "sekali lagi" in granted.text
    after = official.get("/learn").text
    assert "Belum lulus" not in after
    line = re.search(r'<li class="quiz-line">.*?</li>', after, re.S).group(0)
    assert 'href="/learn/quizzes/kuis-satu"' in line
    assert "Coba lagi (sisa 1 kali)" in line and "Terbuka" in line
    quiz_page = official.get("/learn/quizzes/kuis-satu").text
    assert "Coba lagi (sisa 1 kali)" in quiz_page


def test_a_kept_question_shows_each_reader_their_own_answers(couple, mini, make_client):
    """Each question of a quiz page is rendered once per question, answer and order of the
    choices and kept (``app.web.Fragments``): a reader sees their own answers and what is
    still open, never another reader's, whichever page was rendered first."""
    official, spouse = make_client(), make_client()
    login(official, "tng26-001-a", PW)
    login(spouse, "tng26-001-b", PW)
    html = open_quiz(official, "pre-test")
    assert "checked" not in open_quiz(spouse, "pre-test")
    data = quiz_form(mini, html)
    questions = [k for k in data if k.startswith("q")]
    one = {k: v for k, v in data.items() if k not in questions[1:]}
    refused = official.post("/learn/quizzes/pre-test/submit", data=one)
    assert refused.status_code == 422
    assert refused.text.count("unanswered") == len(questions) - 1
    assert refused.text.count("checked") == 1
    assert official.get("/learn/quizzes/pre-test").text.count("checked") == 1
    theirs = spouse.get("/learn/quizzes/pre-test").text
    assert "checked" not in theirs and "unanswered" not in theirs
    official.post("/learn/quizzes/pre-test/save", data=data)
    assert official.get("/learn/quizzes/pre-test").text.count("checked") == len(questions)
    assert "checked" not in spouse.get("/learn/quizzes/pre-test").text
