"""The curriculum of the current content version, kept in memory; completing a lesson.

Which lesson is open, done or late is decided by ``app.learning.rules``; this module loads
what those rules compute from and records a completion the rules allow.
"""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from app.curriculum.models import (
    Choice,
    ContentVersion,
    Lesson,
    LessonProgress,
    Module,
    Question,
    Quiz,
)
from app.curriculum.outline import (
    CheckQuestion,
    Curriculum,
    LessonInfo,
    ModuleInfo,
    QuizInfo,
)
from app.db import execute_core
from app.errors import Forbidden, NotFound
from app.i18n import N_
from app.learning.rules import Learner, LessonState, PathProgress, State, is_late


def load_curriculum(session: Session, version: int) -> Curriculum:
    rows = session.execute(
        select(
            col(Module.id),
            col(Module.slug),
            col(Module.title),
            col(Module.summary),
            col(Module.phase),
            col(Module.position),
            col(Module.discussion),
            col(Lesson.id),
            col(Lesson.slug),
            col(Lesson.title),
            col(Lesson.minutes),
            col(Lesson.phase),
            col(Lesson.position),
            col(Lesson.html),
            col(Lesson.sources),
            col(Lesson.discussion),
        )
        .join(Lesson, col(Lesson.module_id) == Module.id)
        .where(col(Module.active).is_(True), col(Lesson.active).is_(True))
        .order_by(col(Module.position), col(Lesson.position))
    ).all()
    modules: dict[int, ModuleInfo] = {}
    for r in rows:
        module = modules.get(r[0])
        if module is None:
            module = modules[r[0]] = ModuleInfo(r[0], r[1], r[2], r[3], r[4], r[5], discussion=r[6])
        module.lessons.append(
            LessonInfo(r[7], r[8], r[9], r[10], r[11], r[0], r[12], r[13], r[14], r[15])
        )
    quizzes = {
        r[1]: QuizInfo(*r)
        for r in session.execute(
            select(
                col(Quiz.id),
                col(Quiz.slug),
                col(Quiz.kind),
                col(Quiz.module_id),
                col(Quiz.title),
                col(Quiz.pass_mark),
                col(Quiz.max_attempts),
            )
        ).all()
        if r[2] != "module" or r[3] in modules
    }
    checks: dict[int, list[CheckQuestion]] = {}
    questions = session.execute(
        select(
            col(Question.id),
            col(Question.slug),
            col(Question.type),
            col(Question.text),
            col(Question.explanation),
            col(Question.source),
            col(Question.lesson_id),
        )
        .where(col(Question.current).is_(True), col(Question.pool) == "check")
        .order_by(col(Question.lesson_id), col(Question.position))
    ).all()
    by_id = {}
    for q in questions:
        item = CheckQuestion(q[0], q[1], q[2], q[3], q[4], q[5], [])
        by_id[q[0]] = item
        checks.setdefault(q[6], []).append(item)
    for cid, qid, text, feedback, correct in session.execute(
        select(
            col(Choice.id),
            col(Choice.question_id),
            col(Choice.text),
            col(Choice.feedback),
            col(Choice.correct),
        )
        .join(Question, col(Question.id) == Choice.question_id)
        .where(col(Question.current).is_(True), col(Question.pool) == "check")
        .order_by(col(Choice.question_id), col(Choice.position))
    ).all():
        by_id[qid].choices.append(
            {"id": cid, "text": text, "feedback": feedback, "correct": correct}
        )
    return Curriculum(version, list(modules.values()), quizzes, checks)


CONTENT_VERSION = select(func.max(ContentVersion.id))


class CurriculumCache:
    """The curriculum kept in memory per content version: a page asks the database only for
    the latest version number, and reloads after a sync (in every worker)."""

    def __init__(self) -> None:
        self._value: Curriculum | None = None
        self._lock = threading.Lock()

    def get(self, session: Session) -> Curriculum:
        return self.for_version(session, execute_core(session, CONTENT_VERSION).scalar())

    def for_version(self, session: Session, version: int | None) -> Curriculum:
        """The curriculum of ``version`` (the latest, read by the caller): loaded only when
        it is not the one kept."""
        version = version or 0
        current = self._value
        if current is None or current.version != version:
            with self._lock:
                current = self._value
                if current is None or current.version != version:
                    current = self._value = load_curriculum(session, version)
        return current


def content_summary(session: Session) -> tuple[int | None, dict]:
    """The latest content version and what it records beside the tables (counts, the pledge,
    the glossary)."""
    row = session.execute(
        select(col(ContentVersion.id), col(ContentVersion.summary))
        .order_by(col(ContentVersion.id).desc())
        .limit(1)
    ).first()
    if row is None:
        return None, {}
    return row[0], row[1] or {}


def glossary_terms(session: Session) -> list[dict]:
    """The glossary in alphabetical order: [{"term", "text": {"id", "en"}, "source"}]."""
    _, summary = content_summary(session)
    return sorted(summary.get("glossary") or [], key=lambda t: t["term"].casefold())


class LessonLocked(Forbidden):
    """The lesson is not open for this participant; ``state`` says why."""

    def __init__(self, state: LessonState) -> None:
        super().__init__(message=N_("This lesson is not open yet."))
        self.state = state


def lesson_complete(
    session: Session, *, learner: Learner, lesson_id: int, progress: PathProgress, now: datetime
) -> bool:
    """Mark a lesson completed for the learner (never for anyone else). Idempotent.
    Returns True when this call completed it. Raises LessonLocked when it is not open."""
    state = progress.state_of(lesson_id)
    if state is None:
        raise NotFound(message=N_("This lesson does not exist."))
    if state.finished:
        return False
    if state.state == State.locked:
        raise LessonLocked(state)
    late = is_late(state.lesson.phase, now, learner.after_opens)
    row = session.execute(
        select(LessonProgress).where(
            col(LessonProgress.user_id) == learner.user_id,
            col(LessonProgress.lesson_id) == lesson_id,
        )
    ).scalar_one_or_none()
    if row is None:
        row = LessonProgress(user_id=learner.user_id, lesson_id=lesson_id, viewed_at=now)
    elif row.completed_at is not None:
        return False
    row.completed_at, row.late = now, late
    session.add(row)
    return True
