"""The pure learning rules of ``app.learning.rules``, on hand-built curricula (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.curriculum.outline import Curriculum, LessonInfo, ModuleInfo, QuizInfo
from app.learning.rules import (
    Access,
    AttemptInfo,
    Completion,
    QuizRecord,
    State,
    all_modules_passed,
    attempts_allowed,
    attempts_exhausted,
    completion_of,
    gates_for,
    is_late,
    path_progress,
    pledge_open,
    post_test_open,
    quiz_status,
    reflection_open,
    workshop_over_at,
)

JAKARTA = ZoneInfo("Asia/Jakarta")
END = date(2026, 3, 10)  # the workshop's last day
OVER = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)  # midnight after it in Jakarta (UTC+7)
BEFORE = OVER - timedelta(days=3)
AFTER = OVER + timedelta(days=3)


def lesson(id: int, module_id: int, position: int, phase: str = "before") -> LessonInfo:
    return LessonInfo(id, f"l{id}", {"id": f"L{id}"}, 10, phase, module_id, position)


def module(id: int, position: int, lessons: list[LessonInfo], phase: str = "before") -> ModuleInfo:
    return ModuleInfo(id, f"m{id}", {"id": f"M{id}"}, {}, phase, position, lessons)


# module 10: lessons 101, 102 (before); module 20: lessons 201 (before), 202 (after)
M1 = module(10, 1, [lesson(101, 10, 1), lesson(102, 10, 2)])
M2 = module(20, 2, [lesson(201, 20, 1), lesson(202, 20, 2, "after")], phase="after")
OUTLINE = [M1, M2]

Q1 = QuizInfo(1, "kuis-1", "module", 10, {}, 70, 3)
Q2 = QuizInfo(2, "kuis-2", "module", 20, {}, 70, 3)
PRE = QuizInfo(3, "pre-test", "pre", None, {}, 0, 1)
POST = QuizInfo(4, "post-test", "post", None, {}, 0, 1)
QUIZZES = {q.slug: q for q in (Q1, Q2, PRE, POST)}
CURRICULUM = Curriculum(1, OUTLINE, QUIZZES, {})

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def attempt(
    number: int, score: float | None = None, *, passed: bool | None = None, open: bool = False
) -> AttemptInfo:
    started = T0 + timedelta(hours=number)
    if open:
        return AttemptInfo(number, number, 1000 + number, started, None, None, None)
    if passed is None:
        passed = (score or 0) >= 70
    return AttemptInfo(
        number, number, 1000 + number, started, started + timedelta(minutes=5), score, passed
    )


def failed(n: int, *, extra: int = 0) -> QuizRecord:
    return QuizRecord([attempt(i, 40.0) for i in range(1, n + 1)], extra=extra)


def done(*ids: int, late: bool = False) -> dict[int, tuple[datetime, bool]]:
    return {i: (T0 + timedelta(days=1), late) for i in ids}


def states(progress) -> dict[int, State]:
    return {ls.lesson.id: ls.state for m in progress.modules for ls in m.lessons}


# ---------------------------------------------------------------- time


def test_workshop_over_at_is_midnight_after_the_last_day_in_jakarta():
    over = workshop_over_at(END, JAKARTA)
    assert over == datetime(2026, 3, 10, 17, 0, tzinfo=UTC)
    assert over.utcoffset() == timedelta(0)
    assert over.tzinfo is UTC


def test_workshop_over_at_follows_the_cohorts_time_zone():
    assert workshop_over_at(END, UTC) == datetime(2026, 3, 11, 0, 0, tzinfo=UTC)
    assert workshop_over_at(END, ZoneInfo("Asia/Jayapura")) == datetime(
        2026, 3, 10, 15, 0, tzinfo=UTC
    )


def test_is_late_at_the_boundary():
    assert is_late("before", OVER, OVER) is True
    assert is_late("before", OVER - timedelta(microseconds=1), OVER) is False
    assert is_late("before", AFTER, OVER) is True
    assert is_late("after", OVER, OVER) is False
    assert is_late("after", AFTER, OVER) is False


# ---------------------------------------------------------------- lessons


def test_a_new_participant_has_only_the_first_lesson_open():
    progress = path_progress(OUTLINE, {}, now=AFTER, after_opens=OVER)
    assert states(progress) == {
        101: State.open,
        102: State.locked,
        201: State.locked,
        202: State.locked,
    }
    assert progress.state_of(102).blocked_by == ("lesson", M1.lessons[0])
    assert progress.state_of(201).blocked_by == ("module", M1)
    assert progress.state_of(202).blocked_by == ("lesson", M2.lessons[0])
    assert progress.state_of(101).blocked_by is None
    assert progress.next_open().lesson.id == 101
    assert progress.first_locked().lesson.id == 102
    assert (progress.done, progress.total, progress.percent) == (0, 4, 0)


def test_lessons_open_in_order():
    progress = path_progress(OUTLINE, done(101), now=AFTER, after_opens=OVER)
    assert states(progress)[101] == State.done
    assert states(progress)[102] == State.open
    assert states(progress)[201] == State.locked
    assert progress.state_of(101).completed_at == T0 + timedelta(days=1)
    assert progress.next_open().lesson.id == 102
    assert progress.module(10).done == 1 and not progress.module(10).complete


def test_a_lesson_completed_out_of_order_still_counts_and_the_gap_stays_open():
    progress = path_progress(OUTLINE, done(102), now=AFTER, after_opens=OVER)
    assert states(progress)[101] == State.open
    assert states(progress)[102] == State.done
    assert progress.done == 1


def test_the_pre_test_comes_before_every_lesson():
    progress = path_progress(
        OUTLINE, {}, now=AFTER, after_opens=OVER, modules_passed={10, 20}, pretest_done=False
    )
    assert set(states(progress).values()) == {State.locked}
    assert all(ls.blocked_by == ("pretest", None) for m in progress.modules for ls in m.lessons)
    assert progress.next_open() is None


def test_without_the_pre_test_completed_lessons_still_show_done():
    progress = path_progress(OUTLINE, done(101), now=AFTER, after_opens=OVER, pretest_done=False)
    assert states(progress)[101] == State.done
    assert progress.state_of(102).blocked_by == ("pretest", None)


def test_without_modules_passed_a_module_opens_when_its_lessons_are_done():
    progress = path_progress(OUTLINE, done(101, 102), now=AFTER, after_opens=OVER)
    assert states(progress)[201] == State.open
    assert progress.module(10).complete


def test_with_modules_passed_the_next_module_waits_for_the_quiz():
    locked = path_progress(
        OUTLINE, done(101, 102), now=AFTER, after_opens=OVER, modules_passed=set()
    )
    assert states(locked)[201] == State.locked
    assert locked.state_of(201).blocked_by == ("module", M1)
    opened = path_progress(
        OUTLINE, done(101, 102), now=AFTER, after_opens=OVER, modules_passed={10}
    )
    assert states(opened)[201] == State.open
    assert opened.state_of(201).blocked_by is None


def test_after_lessons_are_locked_until_the_workshop_is_over():
    completions = done(101, 102, 201)
    just_before = path_progress(
        OUTLINE,
        completions,
        now=OVER - timedelta(seconds=1),
        after_opens=OVER,
        modules_passed={10},
    )
    assert states(just_before)[202] == State.locked
    assert just_before.state_of(202).blocked_by == ("phase", OVER)
    at = path_progress(OUTLINE, completions, now=OVER, after_opens=OVER, modules_passed={10})
    assert states(at)[202] == State.open
    assert at.next_open().lesson.id == 202


def test_the_phase_lock_comes_before_the_lesson_lock():
    progress = path_progress(OUTLINE, done(101, 102), now=BEFORE, after_opens=OVER)
    assert states(progress)[201] == State.open  # a before lesson, in an after module
    assert progress.state_of(202).blocked_by == ("phase", OVER)


def test_before_lessons_stay_open_after_the_workshop_and_late_ones_count_as_finished():
    progress = path_progress(OUTLINE, done(101, late=True), now=AFTER, after_opens=OVER)
    assert states(progress)[101] == State.late
    assert progress.state_of(101).finished
    assert states(progress)[102] == State.open
    assert progress.done == 1 and progress.percent == 25
    full = path_progress(
        OUTLINE, done(101, 102, 201, 202), now=AFTER, after_opens=OVER, modules_passed={10, 20}
    )
    assert (full.done, full.total, full.percent) == (4, 4, 100)
    assert full.next_open() is None and full.first_locked() is None


def test_state_of_and_module_of_unknown_ids():
    progress = path_progress(OUTLINE, {}, now=AFTER, after_opens=OVER)
    assert progress.state_of(999) is None
    assert progress.module(999) is None
    assert progress.module(20).total == 2


# ---------------------------------------------------------------- attempts


def test_attempts_allowed_adds_extra_for_module_quizzes_only():
    assert attempts_allowed(Q1, 0) == 3
    assert attempts_allowed(Q1, 2) == 5
    assert attempts_allowed(PRE, 0) == 1
    assert attempts_allowed(PRE, 2) == 1
    assert attempts_allowed(POST, 1) == 1


def test_attempts_exhausted():
    assert attempts_exhausted(Q1, failed(3)) is True
    assert attempts_exhausted(Q1, failed(2)) is False
    assert attempts_exhausted(Q1, QuizRecord()) is False
    assert attempts_exhausted(Q1, failed(3, extra=1)) is False
    assert attempts_exhausted(Q1, failed(4, extra=1)) is True
    with_open = QuizRecord([*failed(3).attempts, attempt(4, open=True)], extra=1)
    assert attempts_exhausted(Q1, with_open) is False
    passed_last = QuizRecord([attempt(1, 40.0), attempt(2, 50.0), attempt(3, 90.0)])
    assert attempts_exhausted(Q1, passed_last) is False
    # pre- and post-test are never exhausted: one attempt and done
    assert attempts_exhausted(PRE, failed(1)) is False
    assert attempts_exhausted(POST, failed(1)) is False


# ---------------------------------------------------------------- quiz records


def test_quiz_record_best_prefers_the_higher_score_then_the_earlier_attempt():
    record = QuizRecord([attempt(1, 60.0), attempt(2, 80.0), attempt(3, 80.0), attempt(4, 70.0)])
    assert record.best.number == 2
    assert record.best.score == 80.0
    tie_first = QuizRecord([attempt(1, 80.0), attempt(2, 80.0)])
    assert tie_first.best.number == 1
    later_higher = QuizRecord([attempt(1, 50.0), attempt(2, 51.0)])
    assert later_higher.best.number == 2


def test_quiz_record_best_ignores_the_open_attempt():
    record = QuizRecord([attempt(1, 30.0), attempt(2, open=True)])
    assert record.best.number == 1
    assert QuizRecord([attempt(1, open=True)]).best is None
    assert QuizRecord().best is None


def test_quiz_record_open_submitted_taken_passed():
    empty = QuizRecord()
    assert (empty.taken, empty.passed, empty.open_attempt, empty.submitted) == (
        False,
        False,
        None,
        [],
    )
    only_open = QuizRecord([attempt(1, open=True)])
    assert only_open.open_attempt.number == 1
    assert only_open.taken is False and only_open.passed is False
    assert only_open.submitted == []
    record = QuizRecord([attempt(1, 90.0), attempt(2, 20.0), attempt(3, open=True)])
    assert record.passed is True  # a pass stays a pass, whatever follows
    assert record.taken is True
    assert [a.number for a in record.submitted] == [1, 2]
    assert record.open_attempt.number == 3
    failed_only = failed(2)
    assert failed_only.taken is True and failed_only.passed is False


def test_a_passed_flag_on_an_unsubmitted_attempt_does_not_count():
    ghost = AttemptInfo(1, 1, 7, T0, None, 100.0, True)
    assert QuizRecord([ghost]).passed is False
    assert QuizRecord([ghost]).taken is False


def test_gates_for():
    assert gates_for(QUIZZES, {}).pretest_done is False
    assert gates_for(QUIZZES, {}).modules_passed == set()
    records = {PRE.id: failed(1), Q1.id: failed(3), Q2.id: QuizRecord([attempt(1, 75.0)])}
    gates = gates_for(QUIZZES, records)
    assert gates.pretest_done is True
    assert gates.modules_passed == {20}
    assert gates_for(QUIZZES, {PRE.id: QuizRecord([attempt(1, open=True)])}).pretest_done is False
    without_pre = {slug: q for slug, q in QUIZZES.items() if q.kind != "pre"}
    assert gates_for(without_pre, {}).pretest_done is True


def test_all_modules_passed():
    assert all_modules_passed(QUIZZES, {}) is False
    assert all_modules_passed(QUIZZES, {Q1.id: QuizRecord([attempt(1, 90.0)])}) is False
    both = {Q1.id: QuizRecord([attempt(1, 90.0)]), Q2.id: QuizRecord([attempt(1, 70.0)])}
    assert all_modules_passed(QUIZZES, both) is True


# ---------------------------------------------------------------- quiz status


def progress_of(completions, passed=frozenset({10, 20}), now=AFTER):
    return path_progress(
        OUTLINE, completions, now=now, after_opens=OVER, modules_passed=set(passed)
    )


def status(quiz, records, progress, now=AFTER):
    return quiz_status(quiz, records, progress=progress, quizzes=QUIZZES, now=now, after_opens=OVER)


def test_module_quiz_is_locked_until_the_modules_lessons_are_done():
    s = status(Q1, {}, progress_of(done(101)))
    assert s.access == Access.locked
    assert s.reason == "It opens when you have completed every lesson of the module."
    assert s.reason_values == {}
    assert s.attempts_allowed == 3


def test_module_quiz_from_available_to_exhausted_to_extra_to_done():
    progress = progress_of(done(101, 102))
    s = status(Q1, {}, progress)
    assert (s.access, s.reason, s.attempts_left) == (Access.available, None, 3)

    s = status(Q1, {Q1.id: QuizRecord([attempt(1, open=True)])}, progress)
    assert s.access == Access.in_progress and s.attempts_left == 3

    s = status(Q1, {Q1.id: failed(2)}, progress)
    assert s.access == Access.available and s.attempts_left == 1

    s = status(Q1, {Q1.id: failed(3)}, progress)
    assert (s.access, s.attempts_allowed, s.attempts_left) == (Access.exhausted, 3, 0)

    s = status(Q1, {Q1.id: failed(3, extra=1)}, progress)
    assert (s.access, s.attempts_allowed, s.attempts_left) == (Access.available, 4, 1)

    granted_open = QuizRecord([*failed(3).attempts, attempt(4, open=True)], extra=1)
    assert status(Q1, {Q1.id: granted_open}, progress).access == Access.in_progress

    s = status(Q1, {Q1.id: failed(4, extra=1)}, progress)
    assert s.access == Access.exhausted

    passed = QuizRecord([*failed(3).attempts, attempt(4, 85.0)], extra=1)
    s = status(Q1, {Q1.id: passed}, progress)
    assert (s.access, s.attempts_left) == (Access.done, 0)
    assert status(Q1, {Q1.id: QuizRecord([attempt(1, 70.0)])}, progress).access == Access.done


def test_a_module_quiz_outside_the_curriculum_is_locked():
    stray = QuizInfo(9, "kuis-lama", "module", 99, {}, 70, 3)
    s = status(stray, {}, progress_of(done(101, 102)))
    assert s.access == Access.locked
    assert s.reason == "This quiz is not part of the curriculum any more."


def test_post_test_is_locked_before_the_workshop_is_over_with_the_date():
    passed = {Q1.id: QuizRecord([attempt(1, 90.0)]), Q2.id: QuizRecord([attempt(1, 90.0)])}
    full = done(101, 102, 201, 202)
    before = OVER - timedelta(seconds=1)
    s = status(POST, passed, progress_of(full, now=before), now=before)
    assert s.access == Access.locked
    assert s.reason == "The post-test opens after the workshop, on %(date)s."
    assert s.reason_values == {"date": OVER}
    assert post_test_open(QUIZZES, passed, now=before, after=OVER) == s.reason
    # the date comes first, even when a module is not passed either
    s = status(POST, {}, progress_of({}, now=before), now=before)
    assert s.reason == "The post-test opens after the workshop, on %(date)s."


def test_post_test_is_locked_while_a_module_quiz_is_not_passed():
    records = {Q1.id: QuizRecord([attempt(1, 90.0)]), Q2.id: failed(3)}
    s = status(POST, records, progress_of(done(101, 102, 201, 202)))
    assert s.access == Access.locked
    assert s.reason == "The post-test opens when you have passed every module quiz."
    assert s.reason_values == {}
    assert post_test_open(QUIZZES, records, now=AFTER, after=OVER) == s.reason


def test_post_test_is_open_after_the_workshop_with_every_module_passed():
    records = {Q1.id: QuizRecord([attempt(1, 90.0)]), Q2.id: QuizRecord([attempt(1, 70.0)])}
    assert post_test_open(QUIZZES, records, now=OVER, after=OVER) is None
    s = status(POST, records, progress_of(done(101, 102, 201, 202)), now=OVER)
    assert (s.access, s.reason, s.attempts_allowed) == (Access.available, None, 1)
    records[POST.id] = QuizRecord([attempt(1, open=True)])
    assert status(POST, records, progress_of({})).access == Access.in_progress
    records[POST.id] = QuizRecord([attempt(1, 10.0)])
    assert status(POST, records, progress_of({})).access == Access.done


@pytest.mark.parametrize("score", [0.0, 100.0])
def test_pre_test_is_done_after_one_attempt_whatever_the_score(score):
    progress = progress_of({}, passed=set())
    assert status(PRE, {}, progress, now=BEFORE).access == Access.available
    opened = {PRE.id: QuizRecord([attempt(1, open=True)])}
    assert status(PRE, opened, progress, now=BEFORE).access == Access.in_progress
    taken = {PRE.id: QuizRecord([attempt(1, score)], extra=2)}
    s = status(PRE, taken, progress, now=BEFORE)
    assert (s.access, s.attempts_allowed, s.attempts_left) == (Access.done, 1, 0)


# ---------------------------------------------------------------- family and completion


def test_reflection_opens_when_the_modules_lessons_are_done():
    assert reflection_open(progress_of(done(101)).module(10)) is False
    assert reflection_open(progress_of(done(101, 102)).module(10)) is True
    assert reflection_open(progress_of(done(101, 102)).module(20)) is False


def test_pledge_opens_after_the_post_test():
    assert pledge_open(True) is True
    assert pledge_open(False) is False


COMPLETE = {
    "modules": 2,
    "partners": (1, 2),
    "modules_passed": {1: 2, 2: 2},
    "post_test": frozenset({1, 2}),
    "reflections_confirmed": 2,
    "signed": frozenset({1, 2}),
}


def test_a_couple_with_everything_is_complete():
    c = Completion(**COMPLETE)
    assert c.complete is True
    assert c.all_passed is True
    assert c.all_post_test is True


@pytest.mark.parametrize(
    ("missing", "change"),
    [
        ("a partner", {"partners": (1,)}),
        ("three partners", {"partners": (1, 2, 3), "modules_passed": {1: 2, 2: 2, 3: 2}}),
        ("a module of one partner", {"modules_passed": {1: 2, 2: 1}}),
        ("one partner's modules entirely", {"modules_passed": {1: 2}}),
        ("a post-test", {"post_test": frozenset({1})}),
        ("a reflection", {"reflections_confirmed": 1}),
        ("a signature", {"signed": frozenset({2})}),
    ],
)
def test_a_couple_is_incomplete_without(missing, change):
    c = Completion(**{**COMPLETE, **change})
    assert c.complete is False, missing


def test_completion_flags_name_what_is_missing():
    assert Completion(**{**COMPLETE, "modules_passed": {1: 2, 2: 1}}).all_passed is False
    assert Completion(**{**COMPLETE, "post_test": frozenset({2})}).all_post_test is False
    # more reflections or signatures than needed do no harm
    extra = Completion(**{**COMPLETE, "reflections_confirmed": 3, "signed": frozenset({1, 2, 9})})
    assert extra.complete is True


def finished_records() -> dict[int, QuizRecord]:
    return {
        PRE.id: QuizRecord([attempt(1, 40.0)]),
        Q1.id: QuizRecord([attempt(1, 90.0)]),
        Q2.id: QuizRecord([attempt(1, 50.0), attempt(2, 80.0)]),
        POST.id: QuizRecord([attempt(1, 60.0)]),
    }


def test_completion_of_a_couple_who_finished():
    records = {7: finished_records(), 5: finished_records()}
    c = completion_of(CURRICULUM, [7, 5], records, reflections_confirmed=2, signed=[5, 7])
    assert c.modules == 2
    assert c.partners == (5, 7)
    assert c.modules_passed == {5: 2, 7: 2}
    assert c.post_test == frozenset({5, 7})
    assert c.signed == frozenset({5, 7})
    assert c.reflections_confirmed == 2
    assert c.complete is True


def test_completion_of_counts_only_submitted_passes_and_taken_post_tests():
    partial = finished_records()
    partial[Q2.id] = QuizRecord([attempt(1, 50.0), attempt(2, open=True)])
    partial[POST.id] = QuizRecord([attempt(1, open=True)])
    records = {5: finished_records(), 7: partial}
    c = completion_of(CURRICULUM, [5, 7], records, reflections_confirmed=2, signed=[5, 7])
    assert c.modules_passed == {5: 2, 7: 1}
    assert c.post_test == frozenset({5})
    assert c.complete is False


def test_completion_of_a_partner_without_records():
    records = {5: finished_records()}
    c = completion_of(CURRICULUM, [5, 7], records, reflections_confirmed=2, signed=[5])
    assert c.modules_passed == {5: 2, 7: 0}
    assert c.post_test == frozenset({5})
    assert c.complete is False
    alone = completion_of(CURRICULUM, [5], records, reflections_confirmed=2, signed=[5])
    assert alone.all_passed and alone.all_post_test and alone.complete is False


def test_completion_of_without_a_post_test_in_the_curriculum():
    quizzes = {slug: q for slug, q in QUIZZES.items() if q.kind != "post"}
    curriculum = Curriculum(1, OUTLINE, quizzes, {})
    records = {5: finished_records(), 7: finished_records()}
    c = completion_of(curriculum, [5, 7], records, reflections_confirmed=2, signed=[5, 7])
    assert c.post_test == frozenset()
    assert c.complete is False
