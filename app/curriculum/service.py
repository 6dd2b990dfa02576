"""The learning path: which lessons a participant may open, what is done, what comes next.

Rules (DESIGN §3), all enforced here on the server:
- lessons open in order: a lesson opens when the one before it is completed;
- the first lesson of a module opens when the module before it is passed;
- lessons of phase ``after`` open when the cohort's workshop is over (the end of its last day,
  WIB); ``before`` lessons stay open after it, and finishing them then is marked late.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from app.accounts.models import CurrentUser, User
from app.cohorts.models import Cohort, Couple
from app.curriculum.models import (
    Choice,
    ContentVersion,
    Lesson,
    LessonProgress,
    Module,
    Question,
    Quiz,
)
from app.db import Query, Reader

WIB = timedelta(hours=7)


class State(StrEnum):
    locked = "locked"
    open = "open"
    done = "done"
    late = "late"  # done, after the workshop, though it belonged before it


@dataclass(frozen=True)
class Learner:
    """A participant with what the path depends on: the cohort and the partner."""

    user_id: int
    name: str
    partner_role: str | None
    couple_code: str
    cohort_id: int
    cohort_title: str
    workshop_start: date
    workshop_end: date
    partner_id: int | None
    partner_name: str | None

    @property
    def after_opens(self) -> datetime:
        """The moment ``after`` items open: the end of the workshop's last day, in WIB."""
        return workshop_over_at(self.workshop_end)


def workshop_over_at(workshop_end: date) -> datetime:
    return datetime.combine(workshop_end + timedelta(days=1), time(0)).replace(tzinfo=UTC) - WIB


@dataclass
class LessonInfo:
    id: int
    slug: str
    title: dict
    minutes: int
    phase: str
    module_id: int
    position: int
    html: dict = field(default_factory=dict, repr=False)
    sources: list = field(default_factory=list)
    discussion: list = field(default_factory=list)


@dataclass
class ModuleInfo:
    id: int
    slug: str
    title: dict
    summary: dict
    phase: str
    position: int
    lessons: list[LessonInfo] = field(default_factory=list)
    discussion: list = field(default_factory=list)


@dataclass
class LessonState:
    lesson: LessonInfo
    state: State
    completed_at: datetime | None = None
    # why a locked lesson is locked: ("lesson", LessonInfo) | ("module", ModuleInfo) | ("phase", dt)
    blocked_by: tuple | None = None


@dataclass
class ModuleProgress:
    module: ModuleInfo
    lessons: list[LessonState]

    @property
    def done(self) -> int:
        return sum(ls.state in (State.done, State.late) for ls in self.lessons)

    @property
    def total(self) -> int:
        return len(self.lessons)

    @property
    def complete(self) -> bool:
        return self.done == self.total


@dataclass
class PathProgress:
    modules: list[ModuleProgress]

    @property
    def done(self) -> int:
        return sum(m.done for m in self.modules)

    @property
    def total(self) -> int:
        return sum(m.total for m in self.modules)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    def state_of(self, lesson_id: int) -> LessonState | None:
        for m in self.modules:
            for ls in m.lessons:
                if ls.lesson.id == lesson_id:
                    return ls
        return None

    def first(self, state: State) -> LessonState | None:
        return next((ls for m in self.modules for ls in m.lessons if ls.state == state), None)

    def first_locked(self) -> LessonState | None:
        """What stands in the way: the first lesson that is not open yet."""
        return self.first(State.locked)

    def next_open(self) -> LessonState | None:
        """Where to continue: the first lesson that is open and not done."""
        return self.first(State.open)


_partner = aliased(User)
LEARNER = Query(
    select(
        Couple.code,
        Cohort.id,
        Cohort.title,
        Cohort.workshop_start,
        Cohort.workshop_end,
        _partner.id,
        _partner.display_name,
    )
    .select_from(Couple)
    .join(Cohort, Cohort.id == Couple.cohort_id)
    .outerjoin(_partner, (_partner.couple_id == Couple.id) & (_partner.id != bindparam("user_id")))
    .where(Couple.id == bindparam("couple_id"))
)


def learner_for(reader: Reader, *, user: CurrentUser | User) -> Learner | None:
    """The participant's couple, cohort and partner, in one query."""
    if user.couple_id is None:
        return None
    row = reader.first(LEARNER, user_id=user.id, couple_id=user.couple_id)
    if row is None:
        return None
    return Learner(
        user_id=user.id,
        name=user.display_name,
        partner_role=user.partner_role,
        couple_code=row[0],
        cohort_id=row[1],
        cohort_title=row[2],
        workshop_start=row[3],
        workshop_end=row[4],
        partner_id=row[5],
        partner_name=row[6],
    )


@dataclass
class QuizInfo:
    id: int
    slug: str
    kind: str  # module | pre | post
    module_id: int | None
    title: dict
    pass_mark: int
    max_attempts: int


@dataclass
class CheckQuestion:
    """A lesson-check question (current version) with its choices in authored order."""

    id: int
    slug: str
    type: str
    text: dict
    explanation: dict
    source: str
    choices: list[dict]  # id, text, feedback, correct


@dataclass
class Curriculum:
    """Everything about the content a page needs, loaded once per content version."""

    version: int
    modules: list[ModuleInfo]
    quizzes: dict[str, QuizInfo]
    checks: dict[int, list[CheckQuestion]]  # by lesson id

    def find(self, slug: str) -> tuple[ModuleInfo, LessonInfo] | None:
        for module in self.modules:
            for lesson in module.lessons:
                if lesson.slug == slug:
                    return module, lesson
        return None

    def neighbours(self, lesson: LessonInfo) -> tuple[LessonInfo | None, LessonInfo | None]:
        flat = [item for module in self.modules for item in module.lessons]
        i = next(n for n, item in enumerate(flat) if item.id == lesson.id)
        return (flat[i - 1] if i > 0 else None), (flat[i + 1] if i + 1 < len(flat) else None)

    def module_quiz(self, module_id: int) -> QuizInfo | None:
        return next((q for q in self.quizzes.values() if q.module_id == module_id), None)


def load_curriculum(session: Session, version: int) -> Curriculum:
    rows = session.execute(
        select(
            Module.id,
            Module.slug,
            Module.title,
            Module.summary,
            Module.phase,
            Module.position,
            Module.discussion,
            Lesson.id,
            Lesson.slug,
            Lesson.title,
            Lesson.minutes,
            Lesson.phase,
            Lesson.position,
            Lesson.html,
            Lesson.sources,
            Lesson.discussion,
        )
        .join(Lesson, Lesson.module_id == Module.id)
        .where(Module.active.is_(True), Lesson.active.is_(True))
        .order_by(Module.position, Lesson.position)
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
                Quiz.id,
                Quiz.slug,
                Quiz.kind,
                Quiz.module_id,
                Quiz.title,
                Quiz.pass_mark,
                Quiz.max_attempts,
            )
        ).all()
        if r[2] != "module" or r[3] in modules
    }
    checks: dict[int, list[CheckQuestion]] = {}
    questions = session.execute(
        select(
            Question.id,
            Question.slug,
            Question.type,
            Question.text,
            Question.explanation,
            Question.source,
            Question.lesson_id,
        )
        .where(Question.current.is_(True), Question.pool == "check")
        .order_by(Question.lesson_id, Question.position)
    ).all()
    by_id = {}
    for q in questions:
        item = CheckQuestion(q[0], q[1], q[2], q[3], q[4], q[5], [])
        by_id[q[0]] = item
        checks.setdefault(q[6], []).append(item)
    for cid, qid, text, feedback, correct in session.execute(
        select(Choice.id, Choice.question_id, Choice.text, Choice.feedback, Choice.correct)
        .join(Question, Question.id == Choice.question_id)
        .where(Question.current.is_(True), Question.pool == "check")
        .order_by(Choice.question_id, Choice.position)
    ).all():
        by_id[qid].choices.append(
            {"id": cid, "text": text, "feedback": feedback, "correct": correct}
        )
    return Curriculum(version, list(modules.values()), quizzes, checks)


class CurriculumCache:
    """The curriculum kept in memory per content version: a page asks the database only for
    the latest version number, and reloads after a sync (in every worker)."""

    def __init__(self) -> None:
        self._value: Curriculum | None = None
        self._lock = threading.Lock()

    def get(self, reader: Reader) -> Curriculum:
        version = reader.scalar(CONTENT_VERSION) or 0
        current = self._value
        if current is None or current.version != version:
            with self._lock:
                current = self._value
                if current is None or current.version != version:
                    with reader.db.read() as session:
                        current = self._value = load_curriculum(session, version)
        return current


CONTENT_VERSION = Query(select(func.max(ContentVersion.id)))


def content_summary(session: Session) -> tuple[int | None, dict]:
    """The latest content version and what it records beside the tables (counts, the pledge,
    the glossary)."""
    row = session.execute(
        select(ContentVersion.id, ContentVersion.summary)
        .order_by(ContentVersion.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None, {}
    return row[0], row[1] or {}


def glossary_terms(session: Session) -> list[dict]:
    """The glossary in alphabetical order: [{"term", "text": {"id", "en"}, "source"}]."""
    _, summary = content_summary(session)
    return sorted(summary.get("glossary") or [], key=lambda t: t["term"].casefold())


COMPLETIONS = Query(
    select(
        LessonProgress.user_id,
        LessonProgress.lesson_id,
        LessonProgress.completed_at,
        LessonProgress.late,
    ).where(
        or_(
            LessonProgress.user_id == bindparam("me"),
            LessonProgress.user_id == bindparam("partner"),
        ),
        LessonProgress.completed_at.is_not(None),
    )
)


def completions_for(reader: Reader, *, user_ids: list[int]) -> dict[int, dict[int, tuple]]:
    """{user_id: {lesson_id: (completed_at, late)}} for a participant and maybe the partner
    (one or two ids), in one query."""
    out: dict[int, dict[int, tuple]] = {uid: {} for uid in user_ids}
    for user_id, lesson_id, completed_at, late in reader.rows(
        COMPLETIONS, me=user_ids[0], partner=user_ids[-1]
    ):
        out[user_id][lesson_id] = (completed_at, late)
    return out


def path_progress(
    outline: list[ModuleInfo],
    completions: dict[int, tuple],
    *,
    now: datetime,
    after_opens: datetime,
    modules_passed: set[int] | None = None,
    pretest_done: bool = True,
) -> PathProgress:
    """Every lesson's state for one participant. Pure: no database, easy to test.

    ``modules_passed``: the modules whose gate is passed (their quiz); None means a module
    counts as passed once all its lessons are done. ``pretest_done``: the pre-test comes
    before the first lesson.
    """
    result = []
    previous_done = True  # the first lesson of the path has nothing before it
    previous_module: ModuleProgress | None = None
    for module in outline:
        states = []
        for i, lesson in enumerate(module.lessons):
            done = completions.get(lesson.id)
            if done is not None:
                state = State.late if done[1] else State.done
                states.append(LessonState(lesson, state, completed_at=done[0]))
                previous_done = True
                continue
            blocked: tuple | None = None
            if not pretest_done:
                blocked = ("pretest", None)
            elif lesson.phase == "after" and now < after_opens:
                blocked = ("phase", after_opens)
            elif i == 0 and previous_module is not None:
                passed = (
                    previous_module.complete
                    if modules_passed is None
                    else previous_module.module.id in modules_passed
                )
                if not passed:
                    blocked = ("module", previous_module.module)
            elif i > 0 and not previous_done:
                blocked = ("lesson", module.lessons[i - 1])
            states.append(
                LessonState(lesson, State.locked if blocked else State.open, blocked_by=blocked)
            )
            previous_done = False
        progress = ModuleProgress(module, states)
        result.append(progress)
        previous_module = progress
    return PathProgress(result)


class LessonLocked(Exception):
    def __init__(self, state: LessonState) -> None:
        self.state = state


def lesson_complete(
    session: Session, *, learner: Learner, lesson_id: int, progress: PathProgress, now: datetime
) -> bool:
    """Mark a lesson completed for the learner (never for anyone else). Idempotent.
    Returns True when this call completed it. Raises LessonLocked when it is not open."""
    state = progress.state_of(lesson_id)
    if state is None:
        raise LookupError(lesson_id)
    if state.state in (State.done, State.late):
        return False
    if state.state == State.locked:
        raise LessonLocked(state)
    late = state.lesson.phase == "before" and now >= learner.after_opens
    row = session.execute(
        select(LessonProgress).where(
            LessonProgress.user_id == learner.user_id, LessonProgress.lesson_id == lesson_id
        )
    ).scalar_one_or_none()
    if row is None:
        row = LessonProgress(user_id=learner.user_id, lesson_id=lesson_id, viewed_at=now)
    elif row.completed_at is not None:
        return False
    row.completed_at, row.late = now, late
    session.add(row)
    return True
