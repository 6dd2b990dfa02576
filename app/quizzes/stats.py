"""Summaries for the facilitator and KPK dashboards, computed with SQL aggregates.

- ``participant_summaries``: per participant of a cohort, lessons done and quiz results (from
  ``app.learning.selectors``);
- ``quiz_summaries``: per quiz of a cohort, who took it, mean best score, pass rate;
- ``item_analysis``: classical test theory on first attempts (facility p, item–rest
  discrimination, KR-20), from sums the database computes per item.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlmodel import Session, col

from app.curriculum.models import Question
from app.curriculum.outline import QuizInfo
from app.learning.selectors import cohort_participants, lessons_done, quiz_records
from app.quizzes.models import AttemptItem, QuizAttempt


def _cohort_users(cohort_id: int) -> Any:
    return cohort_participants(cohort_id).scalar_subquery()


@dataclass(frozen=True)
class QuizSummary:
    """One participant at one quiz (``learning.selectors.quiz_records``)."""

    best: float | None
    passed: bool
    attempts: int  # submitted
    extra: int
    exhausted: bool  # a module quiz with every allowed attempt used, not passed


@dataclass
class ParticipantSummary:
    lessons: int = 0
    quizzes: dict[str, QuizSummary] = field(default_factory=dict)


def participant_summaries(session: Session, *, cohort_id: int) -> dict[int, ParticipantSummary]:
    """{user_id: ParticipantSummary} for a cohort: two statements, whatever its size."""
    users = cohort_participants(cohort_id)
    out: dict[int, ParticipantSummary] = {}
    for user_id, lessons in session.execute(lessons_done(users)).all():
        out.setdefault(user_id, ParticipantSummary()).lessons = lessons
    for r in session.execute(quiz_records(users)).mappings():
        out.setdefault(r["user_id"], ParticipantSummary()).quizzes[r["slug"]] = QuizSummary(
            best=r["best"],
            passed=bool(r["passed"]),
            attempts=r["submitted"],
            extra=r["extra"] or 0,
            exhausted=bool(r["exhausted"]),
        )
    return out


def waiting_for_attempt(
    summaries: dict[int, ParticipantSummary], quizzes: dict[str, QuizInfo]
) -> dict[int, list[QuizInfo]]:
    """{user_id: [module quizzes]} where the participant used every attempt without passing."""
    out: dict[int, list[QuizInfo]] = {}
    for user_id, summary in summaries.items():
        for slug, done in summary.quizzes.items():
            if done.exhausted and slug in quizzes:
                out.setdefault(user_id, []).append(quizzes[slug])
    return out


def quiz_summaries(session: Session, *, cohort_id: int) -> dict[str, dict[str, Any]]:
    """{quiz slug: {"participants", "attempts", "mean_best", "pass_rate"}} over the cohort's
    participants who submitted at least one attempt."""
    records = quiz_records(cohort_participants(cohort_id)).subquery()
    rows = session.execute(
        select(
            records.c.slug,
            func.count(),
            func.sum(records.c.submitted),
            func.avg(records.c.best),
            func.avg(case((records.c.passed, 1.0), else_=0.0)),
        )
        .where(records.c.submitted > 0)
        .group_by(records.c.slug)
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
        col(QuizAttempt.quiz_id) == quiz_id,
        col(QuizAttempt.number) == 1,
        col(QuizAttempt.submitted_at).is_not(None),
    ]
    if cohort_id is not None:
        first.append(col(QuizAttempt.user_id).in_(_cohort_users(cohort_id)))
    totals = (
        select(
            col(AttemptItem.attempt_id).label("attempt_id"),
            func.sum(func.coalesce(AttemptItem.score, 0.0)).label("t"),
        )
        .join(QuizAttempt, col(QuizAttempt.id) == AttemptItem.attempt_id)
        .where(and_(*first))
        .group_by(col(AttemptItem.attempt_id))
        .subquery()
    )
    x = func.coalesce(AttemptItem.score, 0.0)
    r = totals.c.t - x
    rows = session.execute(
        select(
            col(Question.slug),
            col(Question.revision),
            func.count(),
            func.sum(x),
            func.sum(x * x),
            func.sum(r),
            func.sum(r * r),
            func.sum(x * r),
        )
        .join(totals, totals.c.attempt_id == AttemptItem.attempt_id)
        .join(Question, col(Question.id) == AttemptItem.question_id)
        .group_by(col(Question.slug), col(Question.revision))
        .order_by(col(Question.slug), col(Question.revision))
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
