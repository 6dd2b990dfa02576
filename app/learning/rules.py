"""The learning rules of DESIGN §3, written once: pure functions over plain data, no I/O.

- The pre-test comes before the first lesson.
- Lessons open in order: a lesson opens when the one before it is completed; the first lesson
  of a module opens when the module before it is passed (its quiz).
- Lessons of phase ``after`` open when the workshop is over: midnight after its last day in the
  cohort's time zone (``workshop_over_at``). ``before`` lessons stay open after it; finishing
  one then is *late* (``is_late``).
- A module quiz opens when the module's lessons are done: pass mark, attempts (the quiz's own
  plus what a facilitator granted), the best attempt counts.
- The post-test opens when the workshop is over and every module quiz is passed; pre- and
  post-test have one attempt each.
- A module's family reflection opens when its lessons are done; the pledge after the
  post-test.
- A couple is complete when both partners passed every module and took the post-test, every
  module's reflection is confirmed, and both signed the pledge.

``app.learning.selectors`` states the same rules in SQL for many people at once; a test proves
that both agree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from app.curriculum.outline import Curriculum, LessonInfo, ModuleInfo, QuizInfo
from app.i18n import N_

# ---------------------------------------------------------------- time


def workshop_over_at(workshop_end: date, tz: tzinfo) -> datetime:
    """The moment ``after`` items open, in UTC: midnight after the workshop's last day, in the
    cohort's time zone."""
    return datetime.combine(workshop_end + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)


def is_late(phase: str, done_at: datetime, after_opens: datetime) -> bool:
    """Work that belonged before the workshop, done after it was over."""
    return phase == "before" and done_at >= after_opens


@dataclass(frozen=True)
class Learner:
    """A participant with what the path depends on: the couple, the cohort, the partner."""

    user_id: int
    name: str
    partner_role: str | None
    couple_id: int
    couple_code: str
    cohort_id: int
    cohort_title: str
    workshop_start: date
    workshop_end: date
    after_opens: datetime  # workshop_over_at(workshop_end) in the cohort's time zone
    partner_id: int | None
    partner_name: str | None
    check_seed: int = 0  # orders the choices of the lesson checks this participant sees
    partner_erased: bool = False  # the partner's data were erased (withdrawn consent)
    # the cohort's check-ins: days after the workshop (first, second), days each stays open
    checkin_days: tuple[int, int, int] = (30, 90, 21)


# ---------------------------------------------------------------- lessons


class State(StrEnum):
    locked = "locked"
    open = "open"
    done = "done"
    late = "late"  # done, after the workshop, though it belonged before it


# why a locked lesson is locked: ("pretest", None) | ("phase", datetime) |
# ("module", ModuleInfo) | ("lesson", LessonInfo)
Blocker = tuple[str, Any]


@dataclass
class LessonState:
    lesson: LessonInfo
    state: State
    completed_at: datetime | None = None
    blocked_by: Blocker | None = None

    @property
    def finished(self) -> bool:
        return self.state in (State.done, State.late)

    @property
    def key(self) -> tuple:
        """What a page can show of this state (for keeping it rendered, ``app.web.Fragments``):
        the lesson, its state and what blocks it."""
        kind, what = self.blocked_by or (None, None)
        return (self.lesson.id, self.state, kind, getattr(what, "id", what))


@dataclass
class ModuleProgress:
    module: ModuleInfo
    lessons: list[LessonState]

    @property
    def done(self) -> int:
        return sum(ls.finished for ls in self.lessons)

    @property
    def total(self) -> int:
        return len(self.lessons)

    @property
    def complete(self) -> bool:
        return self.done == self.total

    @property
    def key(self) -> tuple:
        """Every lesson's ``LessonState.key``."""
        return tuple(ls.key for ls in self.lessons)

    @property
    def finished_key(self) -> tuple[bool, ...]:
        """Which lessons are finished (what a partner sees of them)."""
        return tuple(ls.finished for ls in self.lessons)


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

    def module(self, module_id: int) -> ModuleProgress | None:
        return next((m for m in self.modules if m.module.id == module_id), None)

    def first(self, state: State) -> LessonState | None:
        return next((ls for m in self.modules for ls in m.lessons if ls.state == state), None)

    def first_locked(self) -> LessonState | None:
        """What stands in the way: the first lesson that is not open yet."""
        return self.first(State.locked)

    def next_open(self) -> LessonState | None:
        """Where to continue: the first lesson that is open and not done."""
        return self.first(State.open)


# {lesson id: (completed_at, late)}
Completions = dict[int, tuple[datetime, bool]]


def path_progress(
    outline: list[ModuleInfo],
    completions: Completions,
    *,
    now: datetime,
    after_opens: datetime,
    modules_passed: set[int] | None = None,
    pretest_done: bool = True,
) -> PathProgress:
    """Every lesson's state for one participant.

    ``modules_passed``: the modules whose gate (the quiz) is passed; None means a module counts
    as passed once all its lessons are done. ``pretest_done``: the pre-test comes first.
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
            blocked: Blocker | None = None
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


# ---------------------------------------------------------------- quizzes


@dataclass
class AttemptInfo:
    id: int
    number: int
    seed: int
    started_at: datetime
    submitted_at: datetime | None
    score: float | None
    passed: bool | None


@dataclass
class QuizRecord:
    """What one participant did at one quiz, and the extra attempts a facilitator granted."""

    attempts: list[AttemptInfo] = field(default_factory=list)
    extra: int = 0

    @property
    def open_attempt(self) -> AttemptInfo | None:
        return next((a for a in self.attempts if a.submitted_at is None), None)

    @property
    def submitted(self) -> list[AttemptInfo]:
        return [a for a in self.attempts if a.submitted_at is not None]

    @property
    def taken(self) -> bool:
        """At least one attempt submitted (what the pre- and post-test ask)."""
        return any(a.submitted_at is not None for a in self.attempts)

    @property
    def passed(self) -> bool:
        """A module is passed when any submitted attempt of its quiz passed."""
        return any(a.passed for a in self.submitted)

    @property
    def best(self) -> AttemptInfo | None:
        done = self.submitted
        return max(done, key=lambda a: (a.score or 0, -a.number)) if done else None


def attempt_passed(score: float, pass_mark: int) -> bool:
    """An attempt passes at the pass mark or above (percent)."""
    return score >= pass_mark


def attempts_allowed(quiz: QuizInfo, extra: int) -> int:
    """Attempts a participant may use: the quiz's own, plus what a facilitator granted
    (module quizzes only)."""
    return quiz.max_attempts + (extra if quiz.kind == "module" else 0)


def attempts_exhausted(quiz: QuizInfo, record: QuizRecord) -> bool:
    """A module quiz whose every allowed attempt is used without passing: the participant
    waits for the facilitator."""
    return (
        quiz.kind == "module"
        and not record.passed
        and record.open_attempt is None
        and len(record.submitted) >= attempts_allowed(quiz, record.extra)
    )


@dataclass(frozen=True)
class Gates:
    """What the quizzes open on the learning path, for ``path_progress``."""

    pretest_done: bool
    modules_passed: set[int]


def gates_for(quizzes: dict[str, QuizInfo], records: dict[int, QuizRecord]) -> Gates:
    pre = quizzes.get("pre-test")
    pretest_done = pre is None or records.get(pre.id, QuizRecord()).taken
    passed = {
        q.module_id
        for q in quizzes.values()
        if q.kind == "module" and q.module_id is not None and records.get(q.id, QuizRecord()).passed
    }
    return Gates(pretest_done=pretest_done, modules_passed=passed)


def all_modules_passed(quizzes: dict[str, QuizInfo], records: dict[int, QuizRecord]) -> bool:
    return all(
        records.get(q.id, QuizRecord()).passed for q in quizzes.values() if q.kind == "module"
    )


class Access(StrEnum):
    locked = "locked"
    available = "available"  # may start an attempt
    in_progress = "in_progress"
    done = "done"  # nothing more to do (passed, or the one attempt is submitted)
    exhausted = "exhausted"  # module quiz: every attempt used, not passed


@dataclass
class QuizStatus:
    quiz: QuizInfo
    access: Access
    record: QuizRecord
    attempts_allowed: int
    reason: str | None = None  # why locked (an English message id)
    reason_values: dict[str, Any] = field(default_factory=dict)

    @property
    def attempts_left(self) -> int:
        return max(0, self.attempts_allowed - len(self.record.submitted))


def post_test_open(
    quizzes: dict[str, QuizInfo], records: dict[int, QuizRecord], *, now: datetime, after: datetime
) -> str | None:
    """None when the post-test is open; else why not (an English message id)."""
    if now < after:
        return N_("The post-test opens after the workshop, on %(date)s.")
    if not all_modules_passed(quizzes, records):
        return N_("The post-test opens when you have passed every module quiz.")
    return None


def quiz_status(
    quiz: QuizInfo,
    records: dict[int, QuizRecord],
    *,
    progress: PathProgress,
    quizzes: dict[str, QuizInfo],
    now: datetime,
    after_opens: datetime,
) -> QuizStatus:
    """Whether the participant may start, continue or review a quiz, and why not."""
    record = records.get(quiz.id, QuizRecord())
    allowed = attempts_allowed(quiz, record.extra)
    status = QuizStatus(quiz, Access.locked, record, allowed)
    if quiz.kind == "module":
        module = progress.module(quiz.module_id) if quiz.module_id is not None else None
        if module is None:
            status.reason = N_("This quiz is not part of the curriculum any more.")
            return status
        if not module.complete:
            status.reason = N_("It opens when you have completed every lesson of the module.")
            return status
    elif quiz.kind == "post":
        reason = post_test_open(quizzes, records, now=now, after=after_opens)
        if reason is not None:
            status.reason = reason
            if now < after_opens:
                status.reason_values = {"date": after_opens}
            return status
    if record.open_attempt is not None:
        status.access = Access.in_progress
    elif quiz.kind == "module" and record.passed:
        status.access = Access.done
    elif quiz.kind != "module" and record.taken:
        status.access = Access.done
    elif len(record.submitted) >= allowed:
        status.access = Access.exhausted
    else:
        status.access = Access.available
    return status


# ---------------------------------------------------------------- family and completion


def reflection_open(module: ModuleProgress) -> bool:
    """A module's family reflection is written once its lessons are done."""
    return module.complete


def pledge_open(post_test_taken: bool) -> bool:
    """The family pledge is signed after the post-test."""
    return post_test_taken


@dataclass(frozen=True)
class Completion:
    """Where a couple stands against the definition of complete."""

    modules: int  # modules of the curriculum
    partners: tuple[int, ...]  # the couple's participant ids
    modules_passed: dict[int, int]  # user id → module quizzes passed
    post_test: frozenset[int]  # user ids who took the post-test
    reflections_confirmed: int  # modules whose reflection the partner confirmed
    signed: frozenset[int]  # user ids who signed the pledge

    @property
    def all_passed(self) -> bool:
        return all(self.modules_passed.get(u, 0) >= self.modules for u in self.partners)

    @property
    def all_post_test(self) -> bool:
        return set(self.partners) <= self.post_test

    @property
    def complete(self) -> bool:
        return (
            len(self.partners) == 2
            and self.all_passed
            and self.all_post_test
            and self.reflections_confirmed >= self.modules
            and set(self.partners) <= self.signed
        )


def completion_of(
    curriculum: Curriculum,
    partners: Iterable[int],
    records: dict[int, dict[int, QuizRecord]],
    *,
    reflections_confirmed: int,
    signed: Iterable[int],
) -> Completion:
    """The couple's ``Completion`` from both partners' quiz records."""
    module_quizzes = [q for q in curriculum.quizzes.values() if q.kind == "module"]
    post = curriculum.quizzes.get("post-test")
    ids = tuple(sorted(partners))
    return Completion(
        modules=len(curriculum.modules),
        partners=ids,
        modules_passed={
            u: sum(records.get(u, {}).get(q.id, QuizRecord()).passed for q in module_quizzes)
            for u in ids
        },
        post_test=frozenset(
            u
            for u in ids
            if post is not None and records.get(u, {}).get(post.id, QuizRecord()).taken
        ),
        reflections_confirmed=reflections_confirmed,
        signed=frozenset(signed),
    )


# ---------------------------------------------------------------- stages and flags


class StageKind(StrEnum):
    """Where a participant stands on the path (DESIGN §3), in path order."""

    not_activated = "not_activated"
    pretest = "pretest"
    lessons = "lessons"  # module N's lessons
    quiz = "quiz"  # module N's quiz (attempts left, or every one used: waiting)
    workshop = "workshop"  # everything before the workshop is done; waiting for it
    post_test = "post_test"
    reflections = "reflections"
    pledge = "pledge"
    certificate = "certificate"  # the couple is complete


@dataclass(frozen=True)
class StageSlot:
    """One step of the ladder every participant climbs; ``key`` names it in URLs
    (``?stage=m2-quiz``)."""

    kind: StageKind
    rank: int
    module: ModuleInfo | None = None

    @property
    def key(self) -> str:
        if self.module is not None:
            return f"m{self.module.position}-{self.kind.value}"
        return self.kind.value


class Ladder(list[StageSlot]):
    """The stages of a curriculum in path order; ``slot(kind, module)`` finds one at once
    (asked for every participant of a cohort)."""

    def __init__(self, slots: Iterable[StageSlot]) -> None:
        super().__init__(slots)
        self._slots = {(s.kind, s.module.id if s.module else None): s for s in self}

    def slot(self, kind: StageKind, module: ModuleInfo | None = None) -> StageSlot:
        return self._slots[(kind, module.id if module else None)]


def stage_ladder(curriculum: Curriculum) -> Ladder:
    """The stages of this curriculum in path order: not activated, pre-test, each module's
    lessons and quiz, the workshop before the first module that belongs after it, the
    post-test, family reflections, pledge, certificate."""
    kinds: list[tuple[StageKind, ModuleInfo | None]] = [
        (StageKind.not_activated, None),
        (StageKind.pretest, None),
    ]
    workshop_placed = False
    for module in curriculum.modules:
        if module_after(module) and not workshop_placed:
            kinds.append((StageKind.workshop, None))
            workshop_placed = True
        kinds.append((StageKind.lessons, module))
        if curriculum.module_quiz(module.id) is not None:
            kinds.append((StageKind.quiz, module))
    if not workshop_placed:
        kinds.append((StageKind.workshop, None))
    kinds += [
        (StageKind.post_test, None),
        (StageKind.reflections, None),
        (StageKind.pledge, None),
        (StageKind.certificate, None),
    ]
    return Ladder(StageSlot(kind, rank, module) for rank, (kind, module) in enumerate(kinds))


def module_after(module: ModuleInfo) -> bool:
    """A module that belongs after the workshop: it has a lesson of phase ``after``."""
    return module.phase == "after" or any(ls.phase == "after" for ls in module.lessons)


def modules_before_workshop(curriculum: Curriculum) -> tuple[ModuleInfo, ...]:
    """The modules that belong before the workshop, in path order (computed once per
    curriculum)."""
    found = curriculum.derived.get("modules_before_workshop")
    if found is None:
        found = tuple(m for m in curriculum.modules if not module_after(m))
        curriculum.derived["modules_before_workshop"] = found
    return found


@dataclass(frozen=True)
class StageFacts:
    """What a participant's stage is computed from. ``app.learning.standing`` reads them for
    one person (from a standing) or for a whole cohort (from the selectors); a test proves
    both readings agree."""

    activated: bool
    pre_taken: bool
    lessons_done: dict[int, int]  # module id → completed lessons of the curriculum (none: absent)
    modules_passed: frozenset[int]
    quizzes_exhausted: frozenset[int]  # module ids whose quiz has every attempt used, not passed
    post_taken: bool
    reflections_confirmed: int  # the couple's
    signed: bool
    complete: bool  # the couple's


@dataclass(frozen=True)
class Stage:
    slot: StageSlot
    waiting: bool = False  # quiz: every attempt used (the facilitator decides); pledge: signed,
    # waiting for the partner; workshop: the "after" lessons are not open yet

    @property
    def kind(self) -> StageKind:
        return self.slot.kind

    @property
    def rank(self) -> int:
        return self.slot.rank

    @property
    def key(self) -> str:
        return self.slot.key

    @property
    def module(self) -> ModuleInfo | None:
        return self.slot.module


def stage_of(
    ladder: Ladder,
    curriculum: Curriculum,
    facts: StageFacts,
    *,
    now: datetime,
    after_opens: datetime,
) -> Stage:
    """The participant's one current stage: the first step of the path not done."""
    slot = ladder.slot
    if not facts.activated:
        return Stage(slot(StageKind.not_activated))
    if "pre-test" in curriculum.quizzes and not facts.pre_taken:
        return Stage(slot(StageKind.pretest))
    for module in curriculum.modules:
        if module_done(curriculum, module, facts):
            continue
        done = facts.lessons_done.get(module.id, 0)
        if done < len(module.lessons):
            nxt = module.lessons[done]
            if nxt.phase == "after" and now < after_opens and module_after(module):
                return Stage(slot(StageKind.workshop), waiting=True)
            return Stage(slot(StageKind.lessons, module))
        return Stage(slot(StageKind.quiz, module), waiting=module.id in facts.quizzes_exhausted)
    if not facts.post_taken:
        if now < after_opens:
            return Stage(slot(StageKind.workshop), waiting=True)
        return Stage(slot(StageKind.post_test))
    if facts.reflections_confirmed < len(curriculum.modules):
        return Stage(slot(StageKind.reflections))
    if not facts.signed:
        return Stage(slot(StageKind.pledge))
    if not facts.complete:
        return Stage(slot(StageKind.pledge), waiting=True)
    return Stage(slot(StageKind.certificate))


def module_done(curriculum: Curriculum, module: ModuleInfo, facts: StageFacts) -> bool:
    """A participant is done with a module when its quiz is passed (a module without a quiz:
    when its lessons are done)."""
    if curriculum.module_quiz(module.id) is None:
        return facts.lessons_done.get(module.id, 0) >= len(module.lessons)
    return module.id in facts.modules_passed


def workshop_starts_at(workshop_start: date, tz: tzinfo) -> datetime:
    """Midnight at the start of the workshop's first day, in UTC."""
    return datetime.combine(workshop_start, time(0), tzinfo=tz).astimezone(UTC)


class BehindReason(StrEnum):
    before_workshop = "before_workshop"  # modules before the workshop not done when it starts
    before_close = "before_close"  # modules after it or the post-test not done near the close


def behind_schedule(
    curriculum: Curriculum,
    facts: StageFacts,
    *,
    now: datetime,
    workshop_starts: datetime,
    post_closes: datetime,
    days_before_close: int,
) -> BehindReason | None:
    """Behind schedule: the modules that belong before the workshop are not all passed when
    it starts; or, ``days_before_close`` days before ``post_closes``, the modules after it or
    the post-test are not done. None when on schedule."""
    before = modules_before_workshop(curriculum)
    if now >= workshop_starts and not all(module_done(curriculum, m, facts) for m in before):
        return BehindReason.before_workshop
    if now >= post_closes - timedelta(days=days_before_close):
        passed_all = all(module_done(curriculum, m, facts) for m in curriculum.modules)
        if not passed_all or not facts.post_taken:
            return BehindReason.before_close
    return None


PARTNER_GAP = 2  # stages between partners that count as a gap


def partner_gap(first: Stage, second: Stage | None) -> bool:
    """One partner two or more stages ahead of the other."""
    return second is not None and abs(first.rank - second.rank) >= PARTNER_GAP


def couple_stage(stages: Iterable[Stage]) -> Stage:
    """A couple stands where its slower partner stands."""
    # at the same step, the partner still to act is the slower one: at the pledge the one who
    # has not signed; at a quiz the one with every attempt used
    return min(
        stages,
        key=lambda s: (s.rank, s.waiting if s.kind == StageKind.pledge else not s.waiting),
    )


# ---------------------------------------------------------------- after the workshop


def day_starts_at(day: date, tz: tzinfo) -> datetime:
    """Midnight at the start of ``day`` in the cohort's time zone, in UTC."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


DUE_DAYS = 7  # a follow-up is due within a week of opening; after that it is overdue


class WindowState(StrEnum):
    not_open = "not_open"
    open = "open"
    overdue = "overdue"  # still open, past the week it was due in
    closed = "closed"


@dataclass(frozen=True)
class Window:
    """When a follow-up may be answered: from ``opens`` until ``closes`` (exclusive); due
    within ``DUE_DAYS`` of opening."""

    opens: datetime
    closes: datetime

    @property
    def due(self) -> datetime:
        return min(self.opens + timedelta(days=DUE_DAYS), self.closes)

    def state(self, now: datetime) -> WindowState:
        if now < self.opens:
            return WindowState.not_open
        if now >= self.closes:
            return WindowState.closed
        return WindowState.overdue if now >= self.due else WindowState.open

    def is_open(self, now: datetime) -> bool:
        return self.opens <= now < self.closes

    @property
    def last_day(self) -> datetime:
        """The last moment it is open (for "until 4 December")."""
        return self.closes - timedelta(seconds=1)


CHECKIN_ROUNDS = (1, 2)  # about 30 and about 90 days after the workshop


@dataclass(frozen=True)
class FollowupPlan:
    """The dates of a cohort's follow-ups: the reaction survey from the end of the workshop
    until the first check-in closes; the check-ins ``days`` after the workshop's last day,
    each open ``open_days`` days; the retention check with the second check-in."""

    survey: Window
    checkins: dict[int, Window]  # round → window
    days: dict[int, int]  # round → days after the workshop

    @property
    def retention(self) -> Window:
        return self.checkins[CHECKIN_ROUNDS[-1]]


def followup_plan(
    workshop_end: date, tz: tzinfo, *, first_days: int, second_days: int, open_days: int
) -> FollowupPlan:
    days = {1: first_days, 2: second_days}
    checkins = {
        r: Window(
            day_starts_at(workshop_end + timedelta(days=d), tz),
            day_starts_at(workshop_end + timedelta(days=d + open_days), tz),
        )
        for r, d in days.items()
    }
    survey = Window(workshop_over_at(workshop_end, tz), checkins[1].closes)
    return FollowupPlan(survey=survey, checkins=checkins, days=days)


MIN_COMMITMENTS, MAX_COMMITMENTS = 2, 5


def plan_open(progress: PathProgress) -> bool:
    """The family action plan is written once the last module's lessons are done (its last
    lesson is the plan's lesson)."""
    return bool(progress.modules) and progress.modules[-1].complete


MARKS = ("done", "partly", "not_yet")


def checkin_answered(marks: dict[int, str], commitments: Iterable[int]) -> bool:
    """A partner answered a check-in when every commitment of the plan has their mark."""
    ids = list(commitments)
    return bool(ids) and all(c in marks for c in ids)


def commitments_kept(marks: Iterable[Iterable[str]]) -> bool:
    """A couple kept its commitments at a check-in when every partner who answered marked
    every commitment done. ``marks``: per commitment, the partners' marks."""
    per_commitment = [list(m) for m in marks]
    return bool(per_commitment) and all(m and all(s == "done" for s in m) for m in per_commitment)


class FollowupKind(StrEnum):
    """What a participant has to do after the workshop, for the facilitator's follow-up list
    and its reminders."""

    survey = "survey"
    plan = "plan"  # the couple has no confirmed action plan
    checkin = "checkin"  # a check-in is open (or overdue) and not answered
    done = "done"  # nothing open is waiting for them


@dataclass(frozen=True)
class FollowupFacts:
    plan_open: bool  # the last module's lessons are done
    plan_confirmed: bool  # the couple's
    survey_taken: bool
    answered: frozenset[int]  # check-in rounds this partner answered
    retention_taken: bool


@dataclass(frozen=True)
class FollowupStep:
    kind: FollowupKind
    round: int | None = None
    overdue: bool = False

    @property
    def key(self) -> str:
        return f"checkin-{self.round}" if self.kind == FollowupKind.checkin else self.kind.value


FOLLOWUP_KEYS = ("survey", "plan", *(f"checkin-{r}" for r in CHECKIN_ROUNDS))


def followup_step(plan: FollowupPlan, facts: FollowupFacts, *, now: datetime) -> FollowupStep:
    """The one thing a participant should do next after the workshop: an open check-in first
    (with its retention check), then the action plan (when a check-in is near), then the
    survey."""
    for r in CHECKIN_ROUNDS:
        window = plan.checkins[r]
        state = window.state(now)
        if state in (WindowState.open, WindowState.overdue):
            pending = r not in facts.answered or (
                r == CHECKIN_ROUNDS[-1] and not facts.retention_taken
            )
            if pending:
                if not facts.plan_confirmed:
                    return FollowupStep(FollowupKind.plan, overdue=state == WindowState.overdue)
                return FollowupStep(FollowupKind.checkin, r, state == WindowState.overdue)
    survey = plan.survey.state(now)
    if survey in (WindowState.open, WindowState.overdue) and not facts.survey_taken:
        return FollowupStep(FollowupKind.survey, overdue=survey == WindowState.overdue)
    if facts.plan_open and not facts.plan_confirmed and now >= plan.survey.opens:
        return FollowupStep(FollowupKind.plan)
    return FollowupStep(FollowupKind.done)


def retention_selection(
    cohort_slug: str, pool: dict[str, list[str]], values: Iterable[str]
) -> list[str]:
    """The retention check's items for a cohort: one pre/post item per value (in the values'
    order), the same for every participant of the cohort, no item twice. ``pool``: value slug
    → the slugs of the pre/post items tagged with it."""
    chosen: list[str] = []
    for value in values:
        candidates = sorted(s for s in pool.get(value, []) if s not in chosen)
        if not candidates:
            continue
        digest = hashlib.sha256(f"{cohort_slug}:{value}".encode()).digest()
        chosen.append(candidates[int.from_bytes(digest[:4], "big") % len(candidates)])
    return chosen
