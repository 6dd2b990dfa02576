"""The demo: accounts, cohorts and a history that follows the site's own rules."""

from __future__ import annotations

from sqlalchemy import func, select

from app.accounts.models import User
from app.cohorts.models import Cohort
from app.curriculum.models import LessonProgress
from app.demo import seed_demo
from app.quizzes.models import QuizAttempt
from tests.conftest import login


def counts(db):
    with db.read() as session:
        return tuple(
            session.execute(select(func.count()).select_from(t)).scalar()
            for t in (User, LessonProgress, QuizAttempt)
        )


def test_demo_history_is_realistic_and_idempotent(mini, settings, client, time_machine):
    time_machine.move_to("2026-11-28 10:00:00+07:00", tick=False)
    seed_demo(mini, settings)
    first = counts(mini)
    seed_demo(mini, settings)
    assert counts(mini) == first
    with mini.read() as session:
        demo = session.execute(select(Cohort).where(Cohort.slug == "tng-demo")).scalar_one()
        budi = session.execute(select(User).where(User.username == "budi")).scalar_one()
        assert (
            session.execute(
                select(func.count())
                .select_from(LessonProgress)
                .where(LessonProgress.user_id == budi.id)
            ).scalar()
            == 0
        )
        historic = session.execute(select(Cohort).where(Cohort.slug == "tng-2024")).scalar_one()
        assert str(historic.workshop_start) == "2024-10-14"
        assert str(demo.workshop_start) == "2026-12-05"  # 7 days ahead of today (WIB)
        post = session.execute(
            select(func.count())
            .select_from(QuizAttempt)
            .where(QuizAttempt.number == 1, QuizAttempt.score.is_not(None))
        ).scalar()
    assert first[0] == 3 + 2 * 13 + 2 * 40 and first[1] > 100 and post > 80
    # a historic participant who finished sees a consistent map and results
    login(client, "tng24-001a")
    page = client.get("/learn")
    assert page.status_code == 200
    assert client.get("/learn/results").status_code == 200


def test_demo_cohorts_state_their_certificate_facts(mini, settings):
    seed_demo(mini, settings)
    with mini.read() as session:
        cohorts = session.execute(
            select(Cohort).where(Cohort.slug.in_(["tng-demo", "tng-2024"]))
        ).scalars()
        for cohort in cohorts:
            assert cohort.jp_workshop == 16 and cohort.jp_rounding == "nearest"
            assert "Pemerintah Kota Tangerang" in cohort.organizers
            assert "Komisi Pemberantasan Korupsi" in cohort.organizers
            assert cohort.signatory_title == "Sekretaris Daerah Kota Tangerang"
            assert cohort.signatory_name and cohort.signature_type is None
