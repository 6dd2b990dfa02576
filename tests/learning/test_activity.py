"""``selectors.last_activity``: the latest lesson, check or attempt of each participant of the
group asked for — and only of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.curriculum.models import Lesson, LessonProgress, Quiz
from app.learning.selectors import cohort_participants, last_activity
from app.quizzes.models import QuizAttempt
from tests.factories import make_cohort, make_couple

T = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def test_last_activity_is_the_latest_event_of_each_participant_of_the_group(mini, settings):
    here = make_cohort(mini, "sini")
    there = make_cohort(mini, "sana")
    a, b = make_couple(mini, settings, here, "sini-001")
    other, _ = make_couple(mini, settings, there, "sana-001")
    with mini.write() as session:
        lesson = session.execute(select(Lesson.id)).scalars().first()
        pre = session.execute(select(Quiz.id).where(Quiz.kind == "pre")).scalar_one()
        session.add(LessonProgress(user_id=a.id, lesson_id=lesson, viewed_at=T))
        session.add(
            QuizAttempt(
                user_id=a.id,
                quiz_id=pre,
                number=1,
                seed=1,
                started_at=T + timedelta(hours=1),
                submitted_at=T + timedelta(hours=2),
                score=50.0,
                passed=True,
            )
        )
        session.add(
            LessonProgress(user_id=other.id, lesson_id=lesson, viewed_at=T + timedelta(days=3))
        )
    with mini.read() as session:
        rows = dict(session.execute(last_activity(cohort_participants(here.id))).all())
    assert rows == {a.id: T + timedelta(hours=2)}  # b did nothing; the other cohort not asked
