"""Follow-up data written as rows, the way the follow-up services store them: survey answers
without their author, action plans with their commitments and check-in marks, and the pre-test,
post-test and retention check scores on the retention items."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime

from sqlalchemy import select

from app.accounts.models import User
from app.cohorts.models import Couple
from app.curriculum.models import Question, Quiz
from app.db import Database
from app.followup.models import (
    ActionPlan,
    CheckinMark,
    Commitment,
    RetentionAttempt,
    SurveyResponse,
)
from app.quizzes.models import AttemptItem, QuizAttempt

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)

LIKERT = (
    "materi-jelas",
    "materi-sesuai",
    "fasilitator-menguasai",
    "fasilitator-melibatkan",
    "metode-berpasangan",
    "metode-daring",
    "tempat-jadwal",
    "bermanfaat-keluarga",
)


def answers(likert: int, recommend: str = "ya", **open_: str) -> dict:
    """Every likert item answered ``likert``, the recommend item ``recommend``; open answers
    by slug (``paling_berguna=…``)."""
    out: dict = dict.fromkeys(LIKERT, likert)
    out["rekomendasi"] = recommend
    for key, text in open_.items():
        out[key.replace("_", "-")] = text
    return out


def add_survey(db: Database, cohort_id: int, responses: list[dict]) -> None:
    with db.write() as session:
        for a in responses:
            session.add(
                SurveyResponse(
                    id=secrets.token_hex(16),
                    cohort_id=cohort_id,
                    survey_version=1,
                    answered_on=date(2026, 5, 1),
                    answers=a,
                )
            )


def partners(db: Database, code: str) -> tuple[int, list[int]]:
    """The couple's id and its partners' user ids (official first)."""
    with db.read() as session:
        couple = session.execute(select(Couple).where(Couple.code == code.upper())).scalar_one()
        users = session.execute(
            select(User.id).where(User.couple_id == couple.id).order_by(User.partner_role)
        ).scalars()
        return couple.id, list(users)


def add_plan(
    db: Database,
    code: str,
    *,
    commitments: int = 2,
    confirmed: bool = True,
    marks: dict[int, dict[int, list[str]]] | None = None,
) -> None:
    """A plan of ``commitments``; ``marks``: {round: {partner index (0 official, 1 spouse):
    a mark per commitment, in order}}."""
    couple_id, users = partners(db, code)
    with db.write() as session:
        session.add(
            ActionPlan(
                couple_id=couple_id,
                drafted_by=users[0],
                drafted_at=NOW,
                confirmed_by=users[1] if confirmed else None,
                confirmed_at=NOW if confirmed else None,
            )
        )
        session.flush()
        rows = [
            Commitment(
                couple_id=couple_id, position=n, what=f"Janji {n}", who="Kami", by_when=NOW.date()
            )
            for n in range(1, commitments + 1)
        ]
        session.add_all(rows)
        session.flush()
        for round_, by_partner in (marks or {}).items():
            for index, statuses in by_partner.items():
                for c, status in zip(rows, statuses, strict=False):
                    session.add(
                        CheckinMark(
                            commitment_id=c.id,
                            user_id=users[index],
                            round=round_,
                            status=status,
                            marked_at=NOW,
                        )
                    )


def _attempt(session, user_id: int, kind: str, scores: dict[str, float]) -> None:
    quiz = session.execute(select(Quiz).where(Quiz.kind == kind)).scalar_one()
    attempt = QuizAttempt(
        user_id=user_id, quiz_id=quiz.id, seed=1, started_at=NOW, submitted_at=NOW
    )
    session.add(attempt)
    session.flush()
    questions = dict(
        session.execute(
            select(Question.slug, Question.id).where(
                Question.current.is_(True), Question.pool == "prepost"
            )
        ).all()
    )
    for n, (slug, score) in enumerate(scores.items(), 1):
        session.add(
            AttemptItem(
                attempt_id=attempt.id,
                question_id=questions[slug],
                position=n,
                selected=[],
                answered_at=NOW,
                score=score,
            )
        )
    total = sum(scores.values()) / len(scores) * 100 if scores else 0.0
    attempt.score, attempt.passed = total, None
    session.add(attempt)


def add_scores(
    db: Database,
    user_id: int,
    *,
    pre: dict[str, float] | None = None,
    post: dict[str, float] | None = None,
    later: float | None = None,
) -> None:
    """Submitted attempts: pre- and post-test item scores by question slug (0..1), and the
    retention check's score (percent)."""
    with db.write() as session:
        if pre is not None:
            _attempt(session, user_id, "pre", pre)
        if post is not None:
            _attempt(session, user_id, "post", post)
        if later is not None:
            session.add(
                RetentionAttempt(user_id=user_id, started_at=NOW, submitted_at=NOW, score=later)
            )


OPEN_ANSWER = "Nama saya Budi, suami Sari"  # a free-text answer: never on a KPK page or the API


def make_cohorts(db: Database, settings, spec) -> dict:
    from tests.factories import make_cohort, make_couple

    out = {}
    for slug, day, couples in spec:
        cohort = make_cohort(db, slug, workshop_start=day)
        for i in range(1, couples + 1):
            make_couple(db, settings, cohort, f"{slug[:3]}-{i:03d}")
        out[slug] = cohort
    return out


def build_country(db: Database, settings) -> dict[str, int]:
    """Kota Uji: "besar" (workshop 13 Oct 2025, 6 couples), "sedang" (10 Nov 2025, 3) and
    "kecil" (9 Feb 2026, 2), with their follow-ups:

    - survey: besar 8 answers, every statement 5, 5, 5, 4, 4, 3, 2, 1 (agreed 5 of 8, mean
      29/8), recommend "ya" six times, "mungkin" twice; sedang 6 answers, all 4 and "ya";
      kecil 3 answers, all 2 and "tidak", with an open answer;
    - check-ins: besar's 6 couples confirmed a plan of two commitments and both partners
      answered round 1; all but bes-006 (one "partly") kept every commitment;
    - retention: the 6 people of bes-001 … bes-003: pre-test 25 %, post-test 100 %, the
      retention check 50 % (officials) and 100 % (spouses)."""
    cohorts = make_cohorts(
        db,
        settings,
        [
            ("besar", date(2025, 10, 13), 6),
            ("sedang", date(2025, 11, 10), 3),
            ("kecil", date(2026, 2, 9), 2),
        ],
    )
    ids = {slug: c.id for slug, c in cohorts.items()}
    add_survey(
        db,
        ids["besar"],
        [answers(v, "ya" if n < 6 else "mungkin") for n, v in enumerate([5, 5, 5, 4, 4, 3, 2, 1])],
    )
    add_survey(db, ids["sedang"], [answers(4) for _ in range(6)])
    add_survey(db, ids["kecil"], [answers(2, "tidak", saran=OPEN_ANSWER) for _ in range(3)])
    done = ["done", "done"]
    for i in range(1, 7):
        add_plan(
            db, f"bes-{i:03d}", marks={1: {0: done, 1: done if i != 6 else ["done", "partly"]}}
        )
    for i in range(1, 4):
        _, users = partners(db, f"bes-{i:03d}")
        for user, later in zip(users, (50.0, 100.0), strict=True):
            add_scores(
                db, user, pre={"p-1": 0.0, "p-2": 0.5}, post={"p-1": 1.0, "p-2": 1.0}, later=later
            )
    return ids
