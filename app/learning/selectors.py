"""The learning rules as SQL, for many people at once: the facilitator's lists, KPK's
reports, exports and the demo read these, never a re-implementation.

Each function returns a composable ``Select`` with labelled columns; pass ``users`` (a
``Select`` of user ids, e.g. ``cohort_participants(cohort_id)``) or ``couples`` to narrow it.
They state exactly what ``app.learning.rules`` states for one person (a test proves both agree
on generated data, on SQLite and PostgreSQL):

- a lesson counts when it is completed and belongs to the curriculum (active, in an active
  module that has active lessons);
- a module is passed when a submitted attempt of its quiz passed;
- the pre-/post-test is taken when an attempt of it is submitted;
- a module quiz is *exhausted* when every allowed attempt (the quiz's own plus the extra ones
  granted) is submitted without a pass;
- a couple is complete when both partners passed every module and took the post-test, every
  module's reflection is confirmed, and both signed the pledge.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, case, exists, func, select, union_all
from sqlmodel import col

from app.accounts.models import Role, User
from app.cohorts.models import Couple
from app.curriculum.models import Lesson, LessonProgress, Module, Quiz
from app.family.models import FamilyReflection, PledgeSignature
from app.quizzes.models import CheckAnswer, ExtraAttempts, QuizAttempt


def cohort_participants(cohort_id: int | Any) -> Select:
    """The participants of a cohort: ``select(user id)``."""
    return (
        select(col(User.id))
        .join(Couple, col(Couple.id) == User.couple_id)
        .where(col(Couple.cohort_id) == cohort_id, col(User.role) == Role.participant)
    )


def curriculum_modules() -> Select:
    """The modules of the curriculum: active, with at least one active lesson."""
    return select(col(Module.id)).where(
        col(Module.active).is_(True),
        exists().where(col(Lesson.module_id) == Module.id, col(Lesson.active).is_(True)),
    )


def module_count() -> Any:
    """How many modules the curriculum has (a scalar subquery)."""
    return select(func.count()).select_from(curriculum_modules().subquery()).scalar_subquery()


def _narrow(query: Select, column: Any, within: Select | None) -> Select:
    return query if within is None else query.where(column.in_(within))


def lessons_done(users: Select | None = None) -> Select:
    """(user_id, lessons_done): completed lessons of the curriculum, per participant."""
    query: Select = (
        select(
            col(LessonProgress.user_id).label("user_id"),
            func.count().label("lessons_done"),
        )
        .join(Lesson, col(Lesson.id) == LessonProgress.lesson_id)
        .where(
            col(LessonProgress.completed_at).is_not(None),
            col(Lesson.active).is_(True),
            col(Lesson.module_id).in_(curriculum_modules()),
        )
        .group_by(col(LessonProgress.user_id))
    )
    return _narrow(query, col(LessonProgress.user_id), users)


def module_lessons_done(users: Select | None = None) -> Select:
    """(user_id, module_id, lessons_done): completed lessons of the curriculum, per
    participant and module."""
    query: Select = (
        select(
            col(LessonProgress.user_id).label("user_id"),
            col(Lesson.module_id).label("module_id"),
            func.count().label("lessons_done"),
        )
        .join(Lesson, col(Lesson.id) == LessonProgress.lesson_id)
        .where(
            col(LessonProgress.completed_at).is_not(None),
            col(Lesson.active).is_(True),
            col(Lesson.module_id).in_(curriculum_modules()),
        )
        .group_by(col(LessonProgress.user_id), col(Lesson.module_id))
    )
    return _narrow(query, col(LessonProgress.user_id), users)


def modules_passed(users: Select | None = None) -> Select:
    """(user_id, module_id): every module a participant passed (a submitted, passed attempt
    at its quiz)."""
    query: Select = (
        select(col(QuizAttempt.user_id).label("user_id"), col(Quiz.module_id).label("module_id"))
        .join(Quiz, col(Quiz.id) == QuizAttempt.quiz_id)
        .where(
            col(Quiz.kind) == "module",
            col(Quiz.module_id).in_(curriculum_modules()),
            col(QuizAttempt.submitted_at).is_not(None),
            col(QuizAttempt.passed).is_(True),
        )
        .group_by(col(QuizAttempt.user_id), col(Quiz.module_id))
    )
    return _narrow(query, col(QuizAttempt.user_id), users)


def modules_passed_count(users: Select | None = None) -> Select:
    """(user_id, modules_passed): how many modules a participant passed."""
    passed = modules_passed(users).subquery()
    return select(passed.c.user_id, func.count().label("modules_passed")).group_by(passed.c.user_id)


def test_taken(kind: str, users: Select | None = None) -> Select:
    """(user_id): participants with a submitted attempt at the ``pre`` or ``post`` test."""
    query: Select = (
        select(col(QuizAttempt.user_id).label("user_id"))
        .join(Quiz, col(Quiz.id) == QuizAttempt.quiz_id)
        .where(col(Quiz.kind) == kind, col(QuizAttempt.submitted_at).is_not(None))
        .group_by(col(QuizAttempt.user_id))
    )
    return _narrow(query, col(QuizAttempt.user_id), users)


def pledge_signed(users: Select | None = None) -> Select:
    """(user_id): participants who signed the family pledge."""
    return _narrow(
        select(col(PledgeSignature.user_id).label("user_id")),
        col(PledgeSignature.user_id),
        users,
    )


def reflections_confirmed(couples: Select | None = None) -> Select:
    """(couple_id, reflections_confirmed): modules whose family reflection the partner
    confirmed."""
    query: Select = (
        select(
            col(FamilyReflection.couple_id).label("couple_id"),
            func.count().label("reflections_confirmed"),
        )
        .where(
            col(FamilyReflection.confirmed_at).is_not(None),
            col(FamilyReflection.module_id).in_(curriculum_modules()),
        )
        .group_by(col(FamilyReflection.couple_id))
    )
    return _narrow(query, col(FamilyReflection.couple_id), couples)


def quiz_records(users: Select | None = None) -> Select:
    """(user_id, quiz_id, slug, kind, submitted, best, passed, extra, allowed, in_progress,
    exhausted): each participant's standing at each quiz they attempted."""
    extra = func.coalesce(col(ExtraAttempts.extra), 0)
    allowed = col(Quiz.max_attempts) + case((col(Quiz.kind) == "module", extra), else_=0)
    submitted = func.count(col(QuizAttempt.submitted_at))
    passed = (
        func.max(
            case(
                (
                    and_(
                        col(QuizAttempt.submitted_at).is_not(None),
                        col(QuizAttempt.passed).is_(True),
                    ),
                    1,
                ),
                else_=0,
            )
        )
        == 1
    )
    in_progress = func.count() > submitted
    query: Select = (
        select(
            col(QuizAttempt.user_id).label("user_id"),
            col(Quiz.id).label("quiz_id"),
            col(Quiz.slug).label("slug"),
            col(Quiz.kind).label("kind"),
            submitted.label("submitted"),
            func.max(
                case((col(QuizAttempt.submitted_at).is_not(None), col(QuizAttempt.score)))
            ).label("best"),
            passed.label("passed"),
            func.max(extra).label("extra"),
            func.max(allowed).label("allowed"),
            in_progress.label("in_progress"),
            and_(
                col(Quiz.kind) == "module",
                ~passed,
                ~in_progress,
                submitted >= func.max(allowed),
            ).label("exhausted"),
        )
        .join(Quiz, col(Quiz.id) == QuizAttempt.quiz_id)
        .outerjoin(
            ExtraAttempts,
            and_(
                col(ExtraAttempts.user_id) == QuizAttempt.user_id,
                col(ExtraAttempts.quiz_id) == QuizAttempt.quiz_id,
            ),
        )
        .group_by(col(QuizAttempt.user_id), col(Quiz.id), col(Quiz.slug), col(Quiz.kind))
    )
    return _narrow(query, col(QuizAttempt.user_id), users)


def participant_facts(users: Select) -> Select:
    """(user_id, couple_id, lessons_done, modules_passed, pre_taken, post_taken,
    pledge_signed): one row per participant in ``users``."""
    lessons = lessons_done(users).subquery()
    passed = modules_passed_count(users).subquery()
    pre = test_taken("pre", users).subquery()
    post = test_taken("post", users).subquery()
    signed = pledge_signed(users).subquery()
    return (
        select(
            col(User.id).label("user_id"),
            col(User.couple_id).label("couple_id"),
            func.coalesce(lessons.c.lessons_done, 0).label("lessons_done"),
            func.coalesce(passed.c.modules_passed, 0).label("modules_passed"),
            pre.c.user_id.is_not(None).label("pre_taken"),
            post.c.user_id.is_not(None).label("post_taken"),
            signed.c.user_id.is_not(None).label("pledge_signed"),
        )
        .outerjoin(lessons, lessons.c.user_id == User.id)
        .outerjoin(passed, passed.c.user_id == User.id)
        .outerjoin(pre, pre.c.user_id == User.id)
        .outerjoin(post, post.c.user_id == User.id)
        .outerjoin(signed, signed.c.user_id == User.id)
        .where(col(User.id).in_(users))
    )


def couple_complete(couples: Select | None = None) -> Select:
    """(couple_id, partners, reflections_confirmed, complete): one row per couple (in
    ``couples`` when given)."""
    members = select(col(User.id)).where(
        col(User.role) == Role.participant, col(User.couple_id).is_not(None)
    )
    if couples is not None:
        members = members.where(col(User.couple_id).in_(couples))
    facts_q = participant_facts(members).subquery()
    modules = module_count()
    ready = and_(
        facts_q.c.modules_passed >= modules,
        facts_q.c.post_taken,
        facts_q.c.pledge_signed,
    )
    per_couple = (
        select(
            facts_q.c.couple_id.label("couple_id"),
            func.count().label("partners"),
            func.sum(case((ready, 1), else_=0)).label("ready"),
        )
        .group_by(facts_q.c.couple_id)
        .subquery()
    )
    confirmed = reflections_confirmed(couples).subquery()
    reflections = func.coalesce(confirmed.c.reflections_confirmed, 0)
    query: Select = (
        select(
            col(Couple.id).label("couple_id"),
            func.coalesce(per_couple.c.partners, 0).label("partners"),
            reflections.label("reflections_confirmed"),
            and_(
                per_couple.c.partners == 2,
                per_couple.c.ready == 2,
                reflections >= modules,
            ).label("complete"),
        )
        .outerjoin(per_couple, per_couple.c.couple_id == Couple.id)
        .outerjoin(confirmed, confirmed.c.couple_id == Couple.id)
    )
    return _narrow(query, col(Couple.id), couples)


def last_activity(users: Select | None = None) -> Select:
    """(user_id, last_activity): the latest moment a participant opened or finished a lesson,
    answered a lesson check, or started or submitted a quiz attempt. Each source is narrowed
    to ``users`` before it is grouped (not the whole database)."""
    lessons: Select = select(
        col(LessonProgress.user_id).label("user_id"),
        func.max(func.coalesce(LessonProgress.completed_at, LessonProgress.viewed_at)).label("at"),
    ).group_by(col(LessonProgress.user_id))
    checks: Select = select(
        col(CheckAnswer.user_id).label("user_id"), func.max(CheckAnswer.answered_at)
    ).group_by(col(CheckAnswer.user_id))
    attempts: Select = select(
        col(QuizAttempt.user_id).label("user_id"),
        func.max(func.coalesce(QuizAttempt.submitted_at, QuizAttempt.started_at)),
    ).group_by(col(QuizAttempt.user_id))
    events = union_all(
        _narrow(lessons, col(LessonProgress.user_id), users),
        _narrow(checks, col(CheckAnswer.user_id), users),
        _narrow(attempts, col(QuizAttempt.user_id), users),
    ).subquery()
    return select(events.c.user_id, func.max(events.c.at).label("last_activity")).group_by(
        events.c.user_id
    )
