"""The reports' summary is kept right: on generated data (the learning agreement test's
generator) the kept rows and sums equal a recomputation from the raw tables; a content sync
that changes the curriculum rebuilds it; a facilitator's extra attempt and the pass after it,
a certificate's revocation, a partner's deactivation through a Core write that names them —
each leaves it equal. (``tests/conftest.py`` makes the same check after every test.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.curriculum.content import load_content
from app.curriculum.models import Quiz
from app.curriculum.service import load_curriculum
from app.curriculum.sync import sync_content
from app.quizzes.models import QuizAttempt
from app.quizzes.service import extra_attempt_grant
from app.reports.models import participant_summary, report_cohort, report_opd
from app.reports.summary import rebuild, summary_differences
from tests.conftest import FIXTURE_CONTENT
from tests.factories import actor, make_cohort, make_couple, make_user
from tests.learning.test_selectors import NOW, generate


def kept(db, uid: int) -> dict:
    with db.read() as session:
        return dict(
            session.execute(select(participant_summary).where(participant_summary.c.user_id == uid))
            .mappings()
            .one()
        )


def cube_total(db, column: str) -> int:
    with db.read() as session:
        return int(session.execute(select(func.sum(report_cohort.c[column]))).scalar() or 0)


@pytest.mark.parametrize("seed", [5, 19])
def test_the_kept_summary_equals_a_recomputation_on_generated_data(mini, settings, seed):
    world = generate(mini, settings, seed, couples=18)
    with mini.read() as session:
        assert summary_differences(session) == []
        rows = (
            session.execute(select(participant_summary).order_by(participant_summary.c.user_id))
            .mappings()
            .all()
        )
        opd_people = session.execute(select(func.sum(report_opd.c.people))).scalar()
    # varied data, so that the equality means something
    assert len(rows) >= 2 * 18 - 1
    assert sum(r["certificate"] for r in rows) == 0  # the generator issues none
    assert sum(r["pledge"] for r in rows) >= 4
    assert sum(r["module1"] for r in rows) >= 6
    assert sum(r["all_pre"] is not None for r in rows) >= 3  # matched on both tests
    assert sum(r["only_pre"] for r in rows) >= 1
    assert sum(r["both_reflections"] for r in rows) >= 2
    assert cube_total(mini, "people") == opd_people == len(rows)
    assert len(world.cohorts) == 2
    # and a rebuild from nothing gives the same rows and sums
    with mini.write() as session:
        rebuild(session)
    with mini.read() as session:
        assert summary_differences(session) == []
        assert (
            session.execute(select(participant_summary).order_by(participant_summary.c.user_id))
            .mappings()
            .all()
            == rows
        )


def test_a_content_sync_that_changes_the_curriculum_rebuilds_the_summary(
    mini, settings, tmp_path: Path
):
    generate(mini, settings, 3, couples=10)
    with mini.read() as session:
        before = session.execute(select(func.sum(participant_summary.c.reflections))).scalar()
    assert before and before > 0
    # a third module: couples who had every reflection confirmed have one more to write now
    folder = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, folder)
    third = folder / "03-tiga"
    shutil.copytree(folder / "02-dua", third)
    (third / "lessons" / "01-ketiga.md").rename(third / "lessons" / "01-keempat.md")
    for name in ("module.yaml", "quiz.yaml", "checks.yaml", "lessons/01-keempat.md"):
        path = third / name
        text = path.read_text(encoding="utf-8")
        text = text.replace("slug: dua", "slug: tiga").replace("kuis-dua", "kuis-tiga")
        text = text.replace("d-q-", "t-q-").replace("d-c-", "t-c-")
        text = text.replace("ketiga", "keempat").replace("module: dua", "module: tiga")
        path.write_text(text, encoding="utf-8")
    content, problems = load_content(folder)
    assert not problems, problems
    assert sync_content(mini, content, force=True).changed
    with mini.read() as session:
        assert summary_differences(session) == []
        after = session.execute(select(func.sum(participant_summary.c.reflections))).scalar()
        assert len(load_curriculum(session, 2).modules) == 3
    assert after == 0  # nobody has written the third module's reflection yet


def test_an_extra_attempt_and_the_pass_after_it_keep_the_summary(mini, settings):
    rina = make_user(mini, settings, "rina", "facilitator")
    cohort = make_cohort(mini, "uji", facilitator=rina)
    official, _spouse = make_couple(mini, settings, cohort, "uji-001")
    with mini.read() as session:
        curriculum = load_curriculum(session, 1)
    quiz = curriculum.module_quiz(curriculum.modules[0].id)
    assert quiz is not None
    with mini.write() as session:
        for number in range(1, quiz.max_attempts + 1):
            session.add(
                QuizAttempt(
                    user_id=official.id,
                    quiz_id=quiz.id,
                    number=number,
                    seed=number,
                    started_at=NOW,
                    submitted_at=NOW,
                    score=30.0,
                    passed=False,
                )
            )
    assert kept(mini, official.id)["module1"] == 0
    with mini.write() as session:
        assert (
            extra_attempt_grant(session, actor=actor(rina), user_id=official.id, quiz=quiz, now=NOW)
            == 1
        )
    with mini.read() as session:
        assert summary_differences(session) == []
    with mini.write() as session:
        session.add(
            QuizAttempt(
                user_id=official.id,
                quiz_id=quiz.id,
                number=quiz.max_attempts + 1,
                seed=9,
                started_at=NOW,
                submitted_at=NOW,
                score=90.0,
                passed=True,
            )
        )
    assert kept(mini, official.id)["module1"] == 1
    assert cube_total(mini, "n_module1") == 1
    with mini.read() as session:
        assert summary_differences(session) == []


def test_a_core_write_that_does_not_say_whom_it_changed_is_caught(mini, settings):
    """The guard itself can fail: an activation written with a Core statement and no
    ``touch_learning`` leaves the summary behind, and the check says where."""
    cohort = make_cohort(mini, "uji")
    official, _ = make_couple(mini, settings, cohort, "uji-001")
    from sqlalchemy import update

    with mini.write() as session:
        session.execute(update(User).where(User.id == official.id).values(password_hash=None))
    with mini.read() as session:
        problems = summary_differences(session)
    assert problems and f"participant {official.id}: activated kept 1 ≠ 0" in problems[0]
    with mini.write() as session:  # put it right, so the suite's own check passes
        rebuild(session)


def test_the_summary_has_one_row_per_participant_and_names_nobody(mini, settings):
    cohort = make_cohort(mini, "uji")
    make_couple(mini, settings, cohort, "uji-001")
    with mini.read() as session:
        rows = (
            session.execute(select(participant_summary).order_by(participant_summary.c.user_id))
            .mappings()
            .all()
        )
        quizzes = session.execute(select(func.count()).select_from(Quiz)).scalar()
    assert len(rows) == 2 and quizzes
    assert {r["role"] for r in rows} == {"official", "spouse"}
    assert sum(r["lead"] for r in rows) == 1
    text_columns = [c.name for c in participant_summary.columns if c.type.python_type is str]
    assert text_columns == ["role"]  # no name, username, contact or free text


def test_partners_acting_at_the_same_moment_keep_the_summary(db, settings):
    """On PostgreSQL two write transactions run at once: both partners submit the pre-test,
    and both transactions refresh the same couple's rows and cells before they commit."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: nothing runs at once")
    import threading

    from app.curriculum.sync import sync_content as sync
    from tests.conftest import real_content

    sync(db, real_content())
    cohort = make_cohort(db, "uji")
    partners = make_couple(db, settings, cohort, "uji-001")
    with db.read() as session:
        pre = session.execute(select(Quiz.id).where(Quiz.kind == "pre")).scalar_one()
    barrier = threading.Barrier(2, timeout=20)
    errors: list[BaseException] = []

    def submit(user: User) -> None:
        try:
            with db.write() as session:
                session.add(
                    QuizAttempt(
                        user_id=user.id,
                        quiz_id=pre,
                        number=1,
                        seed=1,
                        started_at=NOW,
                        submitted_at=NOW,
                        score=50.0,
                        passed=False,
                    )
                )
                session.flush()
                barrier.wait()  # both hold their attempt; now both commit (and refresh)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=submit, args=(p,)) for p in partners]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert [kept(db, p.id)["pretest"] for p in partners] == [1, 1]
    assert kept(db, partners[0].id)["both_pretest"] + kept(db, partners[1].id)["both_pretest"] == 1
    with db.read() as session:
        assert summary_differences(session) == []
