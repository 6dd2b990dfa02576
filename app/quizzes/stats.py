"""Summaries for the facilitator and KPK dashboards, computed with SQL aggregates.

- ``participant_summaries``: per participant of a cohort, lessons done and quiz results;
- ``quiz_summaries``: per quiz of a cohort, who took it, mean best score, pass rate;
- ``item_analysis``: classical test theory on first attempts (facility p, item–rest
  discrimination, KR-20), from sums the database computes per item.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import Integer, and_, cast, func, select
from sqlmodel import Session

from app.accounts.models import User
from app.cohorts.models import Couple
from app.curriculum.models import LessonProgress, Question, Quiz
from app.curriculum.service import QuizInfo
from app.quizzes.models import AttemptItem, ExtraAttempts, QuizAttempt
from app.quizzes.service import attempts_allowed


def _cohort_users(cohort_id: int):  # noqa: ANN202
    return (
        select(User.id)
        .join(Couple, Couple.id == User.couple_id)
        .where(Couple.cohort_id == cohort_id)
        .scalar_subquery()
    )


def participant_summaries(session: Session, *, cohort_id: int) -> dict[int, dict]:
    """{user_id: {"lessons": n, "quizzes": {quiz slug: {"best", "passed", "attempts",
    "extra"}}}}: three queries, whatever the size of the cohort."""
    users = _cohort_users(cohort_id)
    out: dict[int, dict] = {}
    for user_id, lessons in session.execute(
        select(LessonProgress.user_id, func.count())
        .where(LessonProgress.user_id.in_(users), LessonProgress.completed_at.is_not(None))
        .group_by(LessonProgress.user_id)
    ).all():
        out.setdefault(user_id, {"lessons": 0, "quizzes": {}})["lessons"] = lessons
    for user_id, slug, best, passed, count in session.execute(
        select(
            QuizAttempt.user_id,
            Quiz.slug,
            func.max(QuizAttempt.score),
            func.max(cast(QuizAttempt.passed, Integer)),
            func.count(),
        )
        .join(Quiz, Quiz.id == QuizAttempt.quiz_id)
        .where(QuizAttempt.user_id.in_(users), QuizAttempt.submitted_at.is_not(None))
        .group_by(QuizAttempt.user_id, Quiz.slug)
    ).all():
        entry = out.setdefault(user_id, {"lessons": 0, "quizzes": {}})
        entry["quizzes"][slug] = {
            "best": best,
            "passed": bool(passed),
            "attempts": count,
            "extra": 0,
        }
    for user_id, slug, extra in session.execute(
        select(ExtraAttempts.user_id, Quiz.slug, ExtraAttempts.extra)
        .join(Quiz, Quiz.id == ExtraAttempts.quiz_id)
        .where(ExtraAttempts.user_id.in_(users))
    ).all():
        quizzes = out.setdefault(user_id, {"lessons": 0, "quizzes": {}})["quizzes"]
        quizzes.setdefault(slug, {"best": None, "passed": False, "attempts": 0})["extra"] = extra
    return out


def waiting_for_attempt(
    summaries: dict[int, dict], quizzes: dict[str, QuizInfo]
) -> dict[int, list[QuizInfo]]:
    """{user_id: [module quizzes]} where the participant used every attempt without passing."""
    out: dict[int, list[QuizInfo]] = {}
    for user_id, summary in summaries.items():
        for quiz in quizzes.values():
            done = summary["quizzes"].get(quiz.slug)
            if (
                quiz.kind == "module"
                and done is not None
                and not done["passed"]
                and done["attempts"] >= attempts_allowed(quiz, done["extra"])
            ):
                out.setdefault(user_id, []).append(quiz)
    return out


def quiz_summaries(session: Session, *, cohort_id: int) -> dict[str, dict]:
    """{quiz slug: {"participants", "attempts", "mean_best", "pass_rate"}}"""
    users = _cohort_users(cohort_id)
    best = (
        select(
            QuizAttempt.quiz_id.label("quiz_id"),
            QuizAttempt.user_id.label("user_id"),
            func.max(QuizAttempt.score).label("best"),
            func.max(cast(QuizAttempt.passed, Integer)).label("passed"),
            func.count().label("attempts"),
        )
        .where(QuizAttempt.user_id.in_(users), QuizAttempt.submitted_at.is_not(None))
        .group_by(QuizAttempt.quiz_id, QuizAttempt.user_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Quiz.slug,
            func.count(best.c.user_id),
            func.sum(best.c.attempts),
            func.avg(best.c.best),
            func.avg(best.c.passed),
        )
        .join(best, best.c.quiz_id == Quiz.id)
        .group_by(Quiz.slug)
    ).all()
    return {
        slug: {
            "participants": n,
            "attempts": int(attempts or 0),
            "mean_best": float(mean) if mean is not None else None,
            "pass_rate": float(rate) if rate is not None else None,
        }
        for slug, n, attempts, mean, rate in rows
    }


@dataclass(frozen=True)
class ItemStat:
    slug: str
    revision: int
    n: int
    facility: float  # p: mean score on this item
    discrimination: float | None  # item–rest correlation
    flags: tuple[str, ...]


@dataclass(frozen=True)
class ItemAnalysis:
    attempts: int
    items: list[ItemStat]
    kr20: float | None


def item_analysis(session: Session, *, quiz_id: int, cohort_id: int | None = None) -> ItemAnalysis:
    """Classical item analysis on first attempts, from per-item sums computed in SQL."""
    first = [
        QuizAttempt.quiz_id == quiz_id,
        QuizAttempt.number == 1,
        QuizAttempt.submitted_at.is_not(None),
    ]
    if cohort_id is not None:
        first.append(QuizAttempt.user_id.in_(_cohort_users(cohort_id)))
    totals = (
        select(
            AttemptItem.attempt_id.label("attempt_id"),
            func.sum(func.coalesce(AttemptItem.score, 0.0)).label("t"),
        )
        .join(QuizAttempt, QuizAttempt.id == AttemptItem.attempt_id)
        .where(and_(*first))
        .group_by(AttemptItem.attempt_id)
        .subquery()
    )
    x = func.coalesce(AttemptItem.score, 0.0)
    r = totals.c.t - x
    rows = session.execute(
        select(
            Question.slug,
            Question.revision,
            func.count(),
            func.sum(x),
            func.sum(x * x),
            func.sum(r),
            func.sum(r * r),
            func.sum(x * r),
        )
        .join(totals, totals.c.attempt_id == AttemptItem.attempt_id)
        .join(Question, Question.id == AttemptItem.question_id)
        .group_by(Question.slug, Question.revision)
        .order_by(Question.slug, Question.revision)
    ).all()
    n_att, sum_t, sum_tt = session.execute(
        select(func.count(), func.sum(totals.c.t), func.sum(totals.c.t * totals.c.t))
    ).one()
    items = []
    sum_pq = 0.0
    for slug, revision, n, sx, sxx, sr, srr, sxr in rows:
        p = sx / n
        sum_pq += p * (1 - p)
        items.append(
            ItemStat(
                slug,
                revision,
                n,
                p,
                _correlation(n, sx, sxx, sr, srr, sxr),
                _flags(p, _correlation(n, sx, sxx, sr, srr, sxr)),
            )
        )
    kr20 = None
    k = len(items)
    if n_att and n_att > 1 and k > 1:
        variance = sum_tt / n_att - (sum_t / n_att) ** 2
        if variance > 0:
            kr20 = k / (k - 1) * (1 - sum_pq / variance)
    return ItemAnalysis(attempts=n_att or 0, items=items, kr20=kr20)


def _correlation(n: int, sx: float, sxx: float, sy: float, syy: float, sxy: float) -> float | None:
    cov = sxy - sx * sy / n
    vx = sxx - sx * sx / n
    vy = syy - sy * sy / n
    if n < 2 or vx <= 1e-12 or vy <= 1e-12:
        return None
    return cov / math.sqrt(vx * vy)


def _flags(p: float, d: float | None) -> tuple[str, ...]:
    flags = []
    if p > 0.9:
        flags.append("too_easy")
    if p < 0.2:
        flags.append("too_hard")
    if d is not None and d < 0:
        flags.append("negative_discrimination")
    return tuple(flags)
