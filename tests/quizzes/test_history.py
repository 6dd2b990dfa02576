"""Rewriting items keeps history: an attempt keeps the question versions it was given, a
participant's post-test repeats the pre-test's versions (so their gain compares like with
like), and new participants get the new wording; the sync report counts what changed."""

from __future__ import annotations

import shutil
from datetime import date, timedelta

from app.curriculum.content import load_content
from app.curriculum.sync import sync_content
from tests.conftest import FIXTURE_CONTENT, complete, login, open_quiz, take_quiz
from tests.factories import make_cohort, make_couple

TODAY = date(2026, 3, 2)
PW = "kata-sandi-uji-123"
OLD = "Batas hadiah acara keluarga per pemberi (2026)?"
NEW = "Bu Ani menerima amplop di pesta pernikahan anaknya. Berapa batas per pemberi?"


def test_a_submitted_pre_test_reviews_with_its_original_wording_after_a_rewrite(
    db, tmp_path, settings, time_machine, make_client
):
    root = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, root)
    first = sync_content(db, load_content(root)[0])
    time_machine.move_to("2026-03-02 03:00:00+00:00", tick=False)
    cohort = make_cohort(db, "uji", workshop_start=TODAY + timedelta(days=7))
    make_couple(db, settings, cohort, "tng26-001")
    make_couple(db, settings, cohort, "tng26-002")
    early = make_client()
    login(early, "tng26-001-a", PW)
    assert OLD in open_quiz(early, "pre-test")
    take_quiz(early, db, "pre-test", right=True)

    path = root / "pre-post.yaml"
    path.write_text(path.read_text().replace(OLD, NEW))
    report = sync_content(db, load_content(root)[0])
    assert report.version == first.version + 1
    assert report.counts["questions_revised"] == 1
    assert "questions revised: 1" in str(report)

    late = make_client()  # a participant who starts after the rewrite gets the new wording
    login(late, "tng26-002-a", PW)
    page = open_quiz(late, "pre-test")
    assert NEW in page and OLD not in page

    # the early participant's post-test repeats the versions of their pre-test
    time_machine.move_to("2026-03-11 03:00:00+00:00", tick=False)
    for lesson in ("awal", "kedua"):
        complete(early, lesson)
    take_quiz(early, db, "kuis-satu")
    complete(early, "ketiga")
    take_quiz(early, db, "kuis-dua")
    post = open_quiz(early, "post-test")
    assert OLD in post and NEW not in post
    take_quiz(early, db, "post-test")
    review = early.get("/learn/quizzes/pre-test/attempts/1")
    assert review.status_code == 200
    assert OLD in review.text and NEW not in review.text
