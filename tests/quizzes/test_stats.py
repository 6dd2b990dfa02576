"""Dashboard summaries, computed by hand on a tiny cohort (item analysis: test_item_stats.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.curriculum.models import Question, Quiz
from app.quizzes.models import AttemptItem, QuizAttempt
from app.quizzes.stats import QuizSummary, participant_summaries, quiz_summaries
from tests.factories import make_cohort, make_couple

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def add_attempt(db, user, quiz_slug, scores, *, number=1, passed=None):
    with db.write() as session:
        quiz = session.execute(select(Quiz).where(Quiz.slug == quiz_slug)).scalar_one()
        pool = "prepost" if quiz.kind != "module" else "quiz"
        qids = (
            session.execute(
                select(Question.id)
                .where(
                    Question.pool == pool,
                    Question.current.is_(True),
                    *([Question.module_id == quiz.module_id] if quiz.module_id else []),
                )
                .order_by(Question.slug)
            )
            .scalars()
            .all()
        )
        percent = 100 * sum(scores) / len(scores)
        attempt = QuizAttempt(
            user_id=user.id,
            quiz_id=quiz.id,
            number=number,
            seed=1,
            started_at=NOW,
            submitted_at=NOW,
            score=percent,
            passed=percent >= 70 if passed is None else passed,
        )
        session.add(attempt)
        session.flush()
        for n, (qid, s) in enumerate(zip(qids, scores, strict=True), 1):
            session.add(
                AttemptItem(
                    attempt_id=attempt.id, question_id=qid, position=n, selected=[], score=s
                )
            )


@pytest.fixture
def people(mini, settings):
    cohort = make_cohort(mini, "uji")
    other = make_cohort(mini, "lain")
    a, b = make_couple(mini, settings, cohort, "c1")
    c, d = make_couple(mini, settings, cohort, "c2")
    (stranger, _) = make_couple(mini, settings, other, "c3")
    return cohort, other, (a, b, c, d), stranger


def test_participant_and_quiz_summaries(mini, people):
    cohort, _, (a, b, c, d), stranger = people
    add_attempt(mini, a, "kuis-satu", [0])
    add_attempt(mini, a, "kuis-satu", [1], number=2)
    add_attempt(mini, b, "kuis-satu", [0])
    add_attempt(mini, stranger, "kuis-satu", [1])
    with mini.read() as session:
        people_summary = participant_summaries(session, cohort_id=cohort.id)
        quizzes = quiz_summaries(session, cohort_id=cohort.id)
    assert people_summary[a.id].quizzes["kuis-satu"] == QuizSummary(
        best=100.0, passed=True, attempts=2, extra=0, exhausted=False
    )
    assert people_summary[b.id].quizzes["kuis-satu"].passed is False
    assert stranger.id not in people_summary
    assert quizzes["kuis-satu"] == {
        "participants": 2,
        "attempts": 3,
        "mean_best": 50.0,
        "pass_rate": 0.5,
    }
