"""A participant's standing — the path, the quizzes, the partner — read once for a page.

Every read goes through the request's one read session, so a page sees one snapshot: the
couple, the lesson completions and the quiz attempts with the extra attempts a facilitator
granted, of the participant and (when asked) the partner. Four statements, whatever the size
of the cohort, or three on a page: the couple is read with who is signed in
(``with_learner``). The rules of ``app.learning.rules`` do the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import cached_property
from typing import Any

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from app.accounts.models import CurrentUser, User
from app.cohorts.models import Cohort, Couple
from app.curriculum.models import LessonProgress, Quiz
from app.curriculum.outline import Curriculum
from app.db import execute_core
from app.errors import Forbidden
from app.i18n import N_
from app.learning import selectors
from app.learning.rules import (
    AttemptInfo,
    Completions,
    Gates,
    Learner,
    PathProgress,
    QuizRecord,
    QuizStatus,
    StageFacts,
    attempts_exhausted,
    gates_for,
    path_progress,
    quiz_status,
    workshop_over_at,
)
from app.quizzes.models import ExtraAttempts, QuizAttempt


class NotInACouple(Forbidden):
    """A participant account that belongs to no couple (yet)."""

    def __init__(self) -> None:
        super().__init__(message=N_("This account is not part of a couple yet."))


@dataclass
class Standing:
    learner: Learner
    curriculum: Curriculum
    now: datetime
    mine: PathProgress
    records: dict[int, QuizRecord]
    gates: Gates
    partner: PathProgress | None = None
    partner_records: dict[int, QuizRecord] | None = None

    def record(self, quiz_id: int) -> QuizRecord:
        return self.records.get(quiz_id, QuizRecord())

    @cached_property
    def statuses(self) -> dict[str, QuizStatus]:
        """Every quiz's status for this participant, by slug."""
        quizzes = self.curriculum.quizzes
        return {
            slug: quiz_status(
                quiz,
                self.records,
                progress=self.mine,
                quizzes=quizzes,
                now=self.now,
                after_opens=self.learner.after_opens,
            )
            for slug, quiz in quizzes.items()
        }

    @property
    def module_quiz_statuses(self) -> dict[int, QuizStatus]:
        """{module id: the status of its quiz}."""
        return {
            s.quiz.module_id: s
            for s in self.statuses.values()
            if s.quiz.kind == "module" and s.quiz.module_id is not None
        }

    def taken(self, slug: str) -> bool:
        """The participant submitted the pre- or post-test (``slug``)."""
        quiz = self.curriculum.quizzes.get(slug)
        return quiz is not None and self.record(quiz.id).taken


_partner = aliased(User)
_me = aliased(User)


def _learner_columns(me: Any) -> tuple[Any, ...]:
    """What a ``Learner`` is made of beyond the user's own columns, in ``learner_of``'s order
    (``me``: the participant's ``User`` entity, the partner is ``_partner``)."""
    return (
        col(Couple.code),
        col(Cohort.id),
        col(Cohort.title),
        col(Cohort.workshop_start),
        col(Cohort.workshop_end),
        col(_partner.id),
        col(_partner.display_name),
        me.check_seed,
        col(_partner.erased_at),
        col(Cohort.checkin_first_days),
        col(Cohort.checkin_second_days),
        col(Cohort.checkin_open_days),
    )


LEARNER = (
    select(*_learner_columns(_me))
    .select_from(Couple)
    .join(Cohort, col(Cohort.id) == Couple.cohort_id)
    .join(_me, col(_me.id) == bindparam("user_id"))
    .outerjoin(
        _partner,
        (col(_partner.couple_id) == Couple.id) & (col(_partner.id) != bindparam("user_id")),
    )
    .where(col(Couple.id) == bindparam("couple_id"))
)


def with_learner(statement: Select[Any]) -> Select[Any]:
    """``statement``, which selects one ``User`` (the signed-in person), with the columns of
    their couple, cohort and partner added at its end (all ``None`` for someone in no couple):
    who is signed in and what their path depends on, in one round trip (``app.deps``)."""
    return (
        statement.add_columns(*_learner_columns(User))
        .outerjoin(Couple, col(Couple.id) == User.couple_id)
        .outerjoin(Cohort, col(Cohort.id) == Couple.cohort_id)
        .outerjoin(
            _partner,
            (col(_partner.couple_id) == User.couple_id) & (col(_partner.id) != User.id),
        )
    )


LEARNER_WIDTH = len(_learner_columns(User))


def learner_of(user: CurrentUser | User, row: tuple[Any, ...], *, tz: tzinfo) -> Learner | None:
    """The ``Learner`` of a participant from the columns ``LEARNER`` (or ``with_learner``)
    read; ``None`` for someone in no couple."""
    if user.couple_id is None or user.id is None or row[0] is None:
        return None
    return Learner(
        user_id=user.id,
        name=user.display_name,
        partner_role=user.partner_role,
        couple_id=user.couple_id,
        couple_code=row[0],
        cohort_id=row[1],
        cohort_title=row[2],
        workshop_start=row[3],
        workshop_end=row[4],
        after_opens=workshop_over_at(row[4], tz),
        partner_id=row[5],
        partner_name=None if row[8] is not None else row[6],
        check_seed=row[7],
        partner_erased=row[8] is not None,
        checkin_days=(row[9], row[10], row[11]),
    )


def learner_for(session: Session, *, user: CurrentUser | User, tz: tzinfo) -> Learner | None:
    """The participant's couple, cohort and partner, in one statement."""
    if user.couple_id is None or user.id is None:
        return None
    row = execute_core(session, LEARNER, {"user_id": user.id, "couple_id": user.couple_id}).first()
    return None if row is None else learner_of(user, tuple(row), tz=tz)


COMPLETIONS = select(
    col(LessonProgress.user_id),
    col(LessonProgress.lesson_id),
    col(LessonProgress.completed_at),
    col(LessonProgress.late),
).where(
    or_(
        col(LessonProgress.user_id) == bindparam("me"),
        col(LessonProgress.user_id) == bindparam("partner"),
    ),
    col(LessonProgress.completed_at).is_not(None),
)


def _me_and_partner(user_id: int, partner_id: int | None) -> dict[str, int]:
    """A participant and maybe the partner as two plain parameters (an expanding IN list
    would be rewritten on every execution)."""
    return {"me": user_id, "partner": user_id if partner_id is None else partner_id}


def completions_for(
    session: Session, *, user_id: int, partner_id: int | None = None
) -> dict[int, Completions]:
    """{user_id: {lesson_id: (completed_at, late)}} of a participant and maybe the partner,
    in one statement."""
    out: dict[int, Completions] = {uid: {} for uid in (user_id, partner_id) if uid is not None}
    for uid, lesson_id, completed_at, late in execute_core(
        session, COMPLETIONS, _me_and_partner(user_id, partner_id)
    ).all():
        out[uid][lesson_id] = (completed_at, late)
    return out


# the columns of an AttemptInfo, in its order
ATTEMPT_COLUMNS = (
    col(QuizAttempt.id),
    col(QuizAttempt.number),
    col(QuizAttempt.seed),
    col(QuizAttempt.started_at),
    col(QuizAttempt.submitted_at),
    col(QuizAttempt.score),
    col(QuizAttempt.passed),
)
# A grant needs every attempt used, so every ExtraAttempts row has attempts to join to.
RECORDS = (
    select(
        col(QuizAttempt.user_id),
        col(QuizAttempt.quiz_id),
        col(ExtraAttempts.extra),
        *ATTEMPT_COLUMNS,
    )
    .outerjoin(
        ExtraAttempts,
        (col(ExtraAttempts.user_id) == QuizAttempt.user_id)
        & (col(ExtraAttempts.quiz_id) == QuizAttempt.quiz_id),
    )
    .where(
        or_(
            col(QuizAttempt.user_id) == bindparam("me"),
            col(QuizAttempt.user_id) == bindparam("partner"),
        )
    )
    .order_by(col(QuizAttempt.number))
)


def records_for(
    session: Session, *, user_id: int, partner_id: int | None = None
) -> dict[int, dict[int, QuizRecord]]:
    """Every attempt, and the extra attempts granted, of a participant and maybe the partner:
    {user_id: {quiz_id: QuizRecord}}, in one statement."""
    out: dict[int, dict[int, QuizRecord]] = {
        uid: {} for uid in (user_id, partner_id) if uid is not None
    }
    for row in execute_core(session, RECORDS, _me_and_partner(user_id, partner_id)).all():
        record = out[row[0]].setdefault(row[1], QuizRecord())
        record.extra = row[2] or 0
        record.attempts.append(AttemptInfo(*row[3:]))
    return out


def standing_for(
    session: Session,
    *,
    user: CurrentUser | User,
    curriculum: Curriculum,
    now: datetime,
    tz: tzinfo,
    with_partner: bool = True,
    learner_row: tuple[Any, ...] | None = None,
) -> Standing:
    """The participant's standing (and the partner's progress when asked). ``learner_row``:
    the ``with_learner`` columns already read with the user (one statement fewer)."""
    learner = (
        learner_for(session, user=user, tz=tz)
        if learner_row is None
        else learner_of(user, learner_row, tz=tz)
    )
    if learner is None:
        raise NotInACouple
    partner_id = learner.partner_id if with_partner else None
    completions = completions_for(session, user_id=learner.user_id, partner_id=partner_id)
    records = records_for(session, user_id=learner.user_id, partner_id=partner_id)

    def progress(uid: int) -> tuple[PathProgress, Gates]:
        gates = gates_for(curriculum.quizzes, records[uid])
        return path_progress(
            curriculum.modules,
            completions[uid],
            now=now,
            after_opens=learner.after_opens,
            modules_passed=gates.modules_passed,
            pretest_done=gates.pretest_done,
        ), gates

    mine, gates = progress(learner.user_id)
    standing = Standing(learner, curriculum, now, mine, records[learner.user_id], gates)
    if learner.partner_id is not None and learner.partner_id in records:
        standing.partner, _ = progress(learner.partner_id)
        standing.partner_records = records[learner.partner_id]
    return standing


# ---------------------------------------------------------------- stages


def facts_of_standing(
    standing: Standing,
    *,
    activated: bool = True,
    reflections_confirmed: int,
    signed: bool,
    complete: bool,
) -> StageFacts:
    """A participant's ``StageFacts`` from their standing (one person's pages)."""
    quizzes = standing.curriculum.quizzes
    return StageFacts(
        activated=activated,
        pre_taken=standing.taken("pre-test"),
        lessons_done={m.module.id: m.done for m in standing.mine.modules if m.done},
        modules_passed=frozenset(standing.gates.modules_passed),
        quizzes_exhausted=frozenset(
            q.module_id
            for q in quizzes.values()
            if q.module_id is not None and attempts_exhausted(q, standing.record(q.id))
        ),
        post_taken=standing.taken("post-test"),
        reflections_confirmed=reflections_confirmed,
        signed=signed,
        complete=complete,
    )


@dataclass(frozen=True)
class PersonFacts:
    """One participant of many, as the selectors read them."""

    user_id: int
    couple_id: int
    facts: StageFacts
    lessons: int  # completed lessons of the curriculum


class FactsReader:
    """The five statements of ``facts_of_many`` for one ``users`` select, built once: a
    reader kept at module level with a bound parameter in ``users`` serves every call
    (building SQLAlchemy statements with subqueries costs more than running them)."""

    def __init__(self, users: Select) -> None:
        self.per_module = selectors.module_lessons_done(users)
        self.passed = selectors.modules_passed(users)
        records = selectors.quiz_records(users).subquery()
        self.exhausted = (
            select(records.c.user_id, col(Quiz.module_id))
            .join(Quiz, col(Quiz.id) == records.c.quiz_id)
            .where(records.c.exhausted, col(Quiz.module_id).is_not(None))
        )
        couples = select(col(User.couple_id)).where(
            col(User.id).in_(users), col(User.couple_id).is_not(None)
        )
        self.couples = selectors.couple_complete(couples)
        facts = selectors.participant_facts(users).subquery()
        self.facts = select(facts, col(User.password_hash).is_not(None).label("activated")).join(
            User, col(User.id) == facts.c.user_id
        )

    def read(
        self, session: Session, params: dict[str, Any] | None = None
    ) -> dict[int, PersonFacts]:
        per_module: dict[int, dict[int, int]] = {}
        for uid, module_id, done in session.execute(self.per_module, params).all():
            per_module.setdefault(uid, {})[module_id] = done
        passed: dict[int, set[int]] = {}
        for uid, module_id in session.execute(self.passed, params).all():
            passed.setdefault(uid, set()).add(module_id)
        exhausted: dict[int, set[int]] = {}
        for uid, module_id in session.execute(self.exhausted, params).all():
            exhausted.setdefault(uid, set()).add(module_id)
        couple_rows = {r.couple_id: r for r in session.execute(self.couples, params).all()}
        out: dict[int, PersonFacts] = {}
        for row in session.execute(self.facts, params).mappings():
            couple = couple_rows.get(row["couple_id"])
            uid = row["user_id"]
            out[uid] = PersonFacts(
                user_id=uid,
                couple_id=row["couple_id"],
                lessons=row["lessons_done"],
                facts=StageFacts(
                    activated=bool(row["activated"]),
                    pre_taken=bool(row["pre_taken"]),
                    lessons_done=per_module.get(uid, {}),
                    modules_passed=frozenset(passed.get(uid, ())),
                    quizzes_exhausted=frozenset(exhausted.get(uid, ())),
                    post_taken=bool(row["post_taken"]),
                    reflections_confirmed=couple.reflections_confirmed if couple else 0,
                    signed=bool(row["pledge_signed"]),
                    complete=bool(couple.complete) if couple else False,
                ),
            )
        return out


def facts_of_many(session: Session, *, users: Select) -> dict[int, PersonFacts]:
    """{user_id: PersonFacts} for every participant in ``users`` (a ``Select`` of user ids):
    five statements, whatever their number."""
    return FactsReader(users).read(session)
