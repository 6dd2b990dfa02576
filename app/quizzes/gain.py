"""Learning gain of a group on **matched** participants (both the pre- and the post-test
taken): the class gain ⟨g⟩ of the means and the mean of individual gains
(``app.quizzes.scoring.gain_summary``), overall and by module and by value.

Scores are aggregated per person and topic in SQL (never a loop over answers); who is in the
group is a ``Select`` of user ids (a cohort's participants, a region's, …). The first
submitted attempt of each test counts (there is one).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select
from sqlmodel import Session, col

from app.curriculum.models import Module, Question, QuestionValue, Quiz
from app.quizzes.models import AttemptItem, QuizAttempt
from app.quizzes.scoring import GainSummary, gain_summary


@dataclass(frozen=True)
class TopicGain:
    key: str  # module or value slug
    title: dict[str, str]
    gain: GainSummary


@dataclass
class MatchedGain:
    overall: GainSummary
    only_pre: int  # took the pre-test and not (yet) the post-test: beside, never dropped
    only_post: int
    by_module: list[TopicGain] = field(default_factory=list)
    by_value: list[TopicGain] = field(default_factory=list)
    pairs: dict[int, tuple[float, float]] = field(default_factory=dict)  # user → (pre, post)
    pre_only_scores: dict[int, float] = field(default_factory=dict)


def _tests(users: Select) -> Any:
    """(attempt_id, user_id, kind, score) of the first submitted pre/post attempt per user."""
    first = (
        select(
            col(QuizAttempt.user_id).label("user_id"),
            col(Quiz.kind).label("kind"),
            func.min(QuizAttempt.id).label("attempt_id"),
        )
        .join(Quiz, col(Quiz.id) == QuizAttempt.quiz_id)
        .where(
            col(Quiz.kind).in_(("pre", "post")),
            col(QuizAttempt.submitted_at).is_not(None),
            col(QuizAttempt.user_id).in_(users),
        )
        .group_by(col(QuizAttempt.user_id), col(Quiz.kind))
        .subquery()
    )
    return first


@dataclass
class PersonScores:
    """A participant's pre- and post-test scores (percent; the first submitted attempt of
    each) and, per topic, the percent of that test's items on the topic."""

    pre: float | None = None
    post: float | None = None
    topics: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)
    # ("module" | "value", slug) → {"pre": percent, "post": percent}


class ScoresReader:
    """The three statements of ``person_scores`` for one ``users`` select, built once: a
    reader kept at module level with a bound parameter in ``users`` serves every call
    (building SQLAlchemy statements with subqueries costs more than running them)."""

    def __init__(self, users: Select) -> None:
        first = _tests(users)
        self.tests = select(first.c.user_id, first.c.kind, col(QuizAttempt.score)).join(
            QuizAttempt, col(QuizAttempt.id) == first.c.attempt_id
        )
        percent = 100.0 * func.avg(func.coalesce(AttemptItem.score, 0.0))
        self.topics: list[tuple[str, Select]] = []
        for by, key in (("module", col(Module.slug)), ("value", col(QuestionValue.value_slug))):
            query = (
                select(first.c.user_id, first.c.kind, key, percent)
                .select_from(first)
                .join(AttemptItem, col(AttemptItem.attempt_id) == first.c.attempt_id)
            )
            if by == "module":
                query = query.join(Question, col(Question.id) == AttemptItem.question_id).join(
                    Module, col(Module.id) == Question.module_id
                )
            else:
                query = query.join(
                    QuestionValue, col(QuestionValue.question_id) == AttemptItem.question_id
                )
            self.topics.append((by, query.group_by(first.c.user_id, first.c.kind, key)))

    def read(
        self, session: Session, params: dict[str, Any] | None = None
    ) -> dict[int, PersonScores]:
        out: dict[int, PersonScores] = defaultdict(PersonScores)
        for user_id, kind, score in session.execute(self.tests, params).all():
            setattr(out[user_id], kind, float(score or 0.0))
        for by, query in self.topics:
            for user_id, kind, topic, value in session.execute(query, params).all():
                out[user_id].topics.setdefault((by, topic), {})[kind] = float(value)
        return dict(out)


def person_scores(session: Session, *, users: Select) -> dict[int, PersonScores]:
    """{user_id: PersonScores} for everyone in ``users`` who took the pre- or the post-test:
    three statements, whatever their number."""
    return ScoresReader(users).read(session)


def matched_gain(
    session: Session, *, users: Select, titles: dict[str, dict[str, dict[str, str]]]
) -> MatchedGain:
    """The group's gain on matched participants. ``titles``: {"module": {slug: title},
    "value": {slug: title}}, in the order to show. Three statements."""
    scores = person_scores(session, users=users)
    pairs = {
        u: (s.pre, s.post) for u, s in scores.items() if s.pre is not None and s.post is not None
    }
    result = MatchedGain(
        overall=gain_summary(pairs.values()),
        only_pre=sum(s.pre is not None and s.post is None for s in scores.values()),
        only_post=sum(s.post is not None and s.pre is None for s in scores.values()),
        pairs=pairs,
        pre_only_scores={
            u: s.pre for u, s in scores.items() if s.post is None and s.pre is not None
        },
    )
    for by in ("module", "value"):
        rows = []
        for slug, title in titles.get(by, {}).items():
            topic_pairs = [
                (t["pre"], t["post"])
                for u, s in scores.items()
                if u in pairs and len(t := s.topics.get((by, slug), {})) == 2
            ]
            if topic_pairs:
                rows.append(TopicGain(slug, title, gain_summary(topic_pairs)))
        if by == "module":
            result.by_module = rows
        else:
            result.by_value = rows
    return result
