"""The stage rules of ``app.learning.rules`` ("stages and flags"): the ladder, each
participant's one stage, the couple's stage, and the flags "behind schedule" and "partner
gap" that facilitators read. Hand-built curricula, no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from app.curriculum.outline import Curriculum, QuizInfo
from app.learning.rules import (
    PARTNER_GAP,
    BehindReason,
    Stage,
    StageFacts,
    StageKind,
    StageSlot,
    behind_schedule,
    couple_stage,
    module_after,
    partner_gap,
    stage_ladder,
    stage_of,
    workshop_over_at,
    workshop_starts_at,
)
from tests.learning.test_rules import lesson, module

JAKARTA = ZoneInfo("Asia/Jakarta")

# Module ids (10, 20, 30) differ from positions (1, 2, 3): stage keys use the position.
# module 1: lessons 101–103; module 2: lessons 201–202 (both "before");
# module 3: lessons 301–302, phase "after" (they open when the workshop is over)
M1 = module(10, 1, [lesson(101, 10, 1), lesson(102, 10, 2), lesson(103, 10, 3)])
M2 = module(20, 2, [lesson(201, 20, 1), lesson(202, 20, 2)])
M3 = module(30, 3, [lesson(301, 30, 1, "after"), lesson(302, 30, 2, "after")], phase="after")

Q1 = QuizInfo(1, "kuis-1", "module", 10, {}, 70, 3)
Q2 = QuizInfo(2, "kuis-2", "module", 20, {}, 70, 3)
Q3 = QuizInfo(3, "kuis-3", "module", 30, {}, 70, 3)
PRE = QuizInfo(4, "pre-test", "pre", None, {}, 0, 1)
POST = QuizInfo(5, "post-test", "post", None, {}, 0, 1)


def curriculum(modules, quizzes=(Q1, Q2, Q3, PRE, POST)) -> Curriculum:
    return Curriculum(1, list(modules), {q.slug: q for q in quizzes}, {})


CURRICULUM = curriculum([M1, M2, M3])
LADDER = stage_ladder(CURRICULUM)

# the workshop: Monday 14 to Wednesday 16 October 2024, in Jakarta (UTC+7)
WORKSHOP_START = date(2024, 10, 14)
WORKSHOP_END = date(2024, 10, 16)
STARTS = datetime(2024, 10, 13, 17, 0, tzinfo=UTC)  # 14 Oct 00:00 WIB
OVER = datetime(2024, 10, 16, 17, 0, tzinfo=UTC)  # 17 Oct 00:00 WIB
BEFORE = OVER - timedelta(days=7)  # before the workshop: "after" lessons closed
AFTER = OVER + timedelta(days=3)
POST_CLOSES = datetime(2024, 11, 30, 17, 0, tzinfo=UTC)  # 1 Dec 00:00 WIB
DAYS_BEFORE_CLOSE = 7
CLOSE_WINDOW = POST_CLOSES - timedelta(days=DAYS_BEFORE_CLOSE)  # 23 Nov 17:00 UTC

ALL_LESSONS = {10: 3, 20: 2, 30: 2}
BEFORE_LESSONS = {10: 3, 20: 2}


def facts(**changes) -> StageFacts:
    """An activated participant who took the pre-test and did nothing else, changed."""
    base = StageFacts(
        activated=True,
        pre_taken=True,
        lessons_done={},
        modules_passed=frozenset(),
        quizzes_exhausted=frozenset(),
        post_taken=False,
        reflections_confirmed=0,
        signed=False,
        complete=False,
    )
    return replace(base, **changes)


def passed(*module_ids: int) -> frozenset[int]:
    return frozenset(module_ids)


FINISHED = facts(
    lessons_done=ALL_LESSONS,
    modules_passed=passed(10, 20, 30),
    post_taken=True,
    reflections_confirmed=3,
    signed=True,
    complete=True,
)


def stage(f: StageFacts, *, now: datetime = AFTER, cur: Curriculum = CURRICULUM) -> Stage:
    ladder = LADDER if cur is CURRICULUM else stage_ladder(cur)
    return stage_of(ladder, cur, f, now=now, after_opens=OVER)


def slot(key: str, ladder: list[StageSlot] = LADDER) -> StageSlot:
    return next(s for s in ladder if s.key == key)


def read(s: Stage) -> tuple[str, bool]:
    """What a facilitator reads: the stage key and whether the participant waits."""
    return s.key, s.waiting


# ---------------------------------------------------------------- the ladder


def test_the_ladder_in_path_order():
    assert [s.key for s in LADDER] == [
        "not_activated",
        "pretest",
        "m1-lessons",
        "m1-quiz",
        "m2-lessons",
        "m2-quiz",
        "workshop",
        "m3-lessons",
        "m3-quiz",
        "post_test",
        "reflections",
        "pledge",
        "certificate",
    ]
    assert [s.rank for s in LADDER] == list(range(len(LADDER)))


def test_the_ladder_slots_name_their_kind_and_module():
    assert slot("m1-lessons").kind is StageKind.lessons
    assert slot("m1-lessons").module is M1
    assert slot("m2-quiz").kind is StageKind.quiz
    assert slot("m2-quiz").module is M2
    assert slot("m3-lessons").module is M3
    assert slot("workshop").kind is StageKind.workshop
    assert slot("workshop").module is None
    assert [s.kind for s in LADDER if s.module is None] == [
        StageKind.not_activated,
        StageKind.pretest,
        StageKind.workshop,
        StageKind.post_test,
        StageKind.reflections,
        StageKind.pledge,
        StageKind.certificate,
    ]


def test_without_a_module_after_the_workshop_it_comes_after_the_last_module():
    ladder = stage_ladder(curriculum([M1, M2], (Q1, Q2, PRE, POST)))
    assert [s.key for s in ladder] == [
        "not_activated",
        "pretest",
        "m1-lessons",
        "m1-quiz",
        "m2-lessons",
        "m2-quiz",
        "workshop",
        "post_test",
        "reflections",
        "pledge",
        "certificate",
    ]
    assert [s.rank for s in ladder] == list(range(11))


def test_a_module_without_a_quiz_gets_no_quiz_slot():
    ladder = stage_ladder(curriculum([M1, M2, M3], (Q1, Q3, PRE, POST)))
    keys = [s.key for s in ladder]
    assert "m2-quiz" not in keys
    assert keys[2:8] == ["m1-lessons", "m1-quiz", "m2-lessons", "workshop", "m3-lessons", "m3-quiz"]
    assert [s.rank for s in ladder] == list(range(len(ladder)))


def test_one_after_lesson_puts_the_module_after_the_workshop():
    mixed = module(20, 2, [lesson(201, 20, 1), lesson(202, 20, 2, "after")])  # module "before"
    assert module_after(mixed) is True
    assert module_after(M1) is False
    assert module_after(M3) is True
    ladder = stage_ladder(curriculum([M1, mixed, M3]))
    keys = [s.key for s in ladder]
    assert keys[2:6] == ["m1-lessons", "m1-quiz", "workshop", "m2-lessons"]
    assert keys.count("workshop") == 1


# ---------------------------------------------------------------- one participant's stage


@pytest.mark.parametrize(
    ("f", "now", "expected"),
    [
        pytest.param(facts(activated=False, pre_taken=False), AFTER, "not_activated", id="new"),
        pytest.param(replace(FINISHED, activated=False), AFTER, "not_activated", id="inactive"),
        pytest.param(facts(pre_taken=False), AFTER, "pretest", id="pretest"),
        pytest.param(
            facts(pre_taken=False, lessons_done={10: 3}, modules_passed=passed(10)),
            AFTER,
            "pretest",
            id="pretest-before-anything",
        ),
        pytest.param(facts(), BEFORE, "m1-lessons", id="m1-none-done"),
        pytest.param(facts(lessons_done={10: 2}), BEFORE, "m1-lessons", id="m1-some-done"),
        pytest.param(facts(lessons_done={10: 3}), BEFORE, "m1-quiz", id="m1-quiz"),
        pytest.param(
            facts(lessons_done={10: 3, 20: 1}, modules_passed=passed(10)),
            BEFORE,
            "m2-lessons",
            id="m2-lessons",
        ),
        pytest.param(
            facts(lessons_done=BEFORE_LESSONS, modules_passed=passed(10)),
            BEFORE,
            "m2-quiz",
            id="m2-quiz",
        ),
        pytest.param(
            facts(lessons_done=BEFORE_LESSONS, modules_passed=passed(10, 20)),
            OVER,
            "m3-lessons",
            id="m3-lessons-once-over",
        ),
        pytest.param(
            facts(lessons_done={**BEFORE_LESSONS, 30: 1}, modules_passed=passed(10, 20)),
            AFTER,
            "m3-lessons",
            id="m3-some-done",
        ),
        pytest.param(
            facts(lessons_done=ALL_LESSONS, modules_passed=passed(10, 20)),
            AFTER,
            "m3-quiz",
            id="m3-quiz",
        ),
        pytest.param(
            facts(lessons_done=ALL_LESSONS, modules_passed=passed(10, 20, 30)),
            AFTER,
            "post_test",
            id="post-test",
        ),
        pytest.param(
            replace(FINISHED, reflections_confirmed=2, signed=False, complete=False),
            AFTER,
            "reflections",
            id="reflections",
        ),
        pytest.param(
            replace(FINISHED, reflections_confirmed=0, signed=False, complete=False),
            AFTER,
            "reflections",
            id="no-reflections",
        ),
        pytest.param(replace(FINISHED, signed=False, complete=False), AFTER, "pledge", id="pledge"),
        pytest.param(FINISHED, AFTER, "certificate", id="certificate"),
    ],
)
def test_the_stage_and_no_waiting(f, now, expected):
    s = stage(f, now=now)
    assert read(s) == (expected, False)
    assert s.slot is slot(expected)
    assert s.rank == slot(expected).rank


def test_the_stage_names_its_module():
    assert stage(facts(lessons_done={10: 1}), now=BEFORE).module is M1
    at_quiz = stage(facts(lessons_done=BEFORE_LESSONS, modules_passed=passed(10)), now=BEFORE)
    assert at_quiz.kind is StageKind.quiz
    assert at_quiz.module is M2
    assert stage(FINISHED).module is None


def test_every_attempt_used_waits_at_the_quiz():
    s = stage(facts(lessons_done={10: 3}, quizzes_exhausted=passed(10)), now=BEFORE)
    assert read(s) == ("m1-quiz", True)
    assert s.kind is StageKind.quiz


def test_only_the_current_modules_quiz_decides_the_waiting():
    # module 2's quiz exhausted (facts out of order) does not make module 1's quiz wait
    s = stage(facts(lessons_done={10: 3}, quizzes_exhausted=passed(20)), now=BEFORE)
    assert read(s) == ("m1-quiz", False)


def test_module_3_quiz_waits_too():
    f = facts(lessons_done=ALL_LESSONS, modules_passed=passed(10, 20), quizzes_exhausted=passed(30))
    assert read(stage(f)) == ("m3-quiz", True)


def test_modules_before_passed_wait_for_the_workshop():
    f = facts(lessons_done=BEFORE_LESSONS, modules_passed=passed(10, 20))
    s = stage(f, now=BEFORE)
    assert read(s) == ("workshop", True)
    assert s.kind is StageKind.workshop
    # one second before the workshop is over: still waiting; at midnight: module 3
    assert read(stage(f, now=OVER - timedelta(seconds=1))) == ("workshop", True)
    assert read(stage(f, now=OVER)) == ("m3-lessons", False)


def test_the_workshop_waits_only_for_the_after_module_not_for_before_work():
    # module 2 not passed: the participant is at module 2, even while the workshop is ahead
    f = facts(lessons_done={10: 3, 20: 1}, modules_passed=passed(10))
    assert read(stage(f, now=BEFORE)) == ("m2-lessons", False)


def test_without_an_after_module_everything_passed_waits_for_the_workshop():
    cur = curriculum([M1, M2], (Q1, Q2, PRE, POST))
    f = facts(lessons_done=BEFORE_LESSONS, modules_passed=passed(10, 20))
    s = stage(f, now=BEFORE, cur=cur)
    assert read(s) == ("workshop", True)
    assert s.rank == 6  # after m2-quiz
    assert read(stage(f, now=OVER, cur=cur)) == ("post_test", False)


def test_the_pledge_waits_for_the_partner_once_signed():
    s = stage(replace(FINISHED, complete=False))
    assert read(s) == ("pledge", True)
    assert s.kind is StageKind.pledge


def test_without_a_pre_test_in_the_curriculum_the_path_starts_at_module_1():
    cur = curriculum([M1, M2, M3], (Q1, Q2, Q3, POST))
    assert read(stage(facts(pre_taken=False), now=BEFORE, cur=cur)) == ("m1-lessons", False)


# a module passed is passed, whatever its lessons count says (e.g. content changed)


def test_a_module_passed_with_its_lessons_short_counts_as_passed():
    f = facts(lessons_done={10: 1}, modules_passed=passed(10))
    assert read(stage(f, now=BEFORE)) == ("m2-lessons", False)


def test_modules_passed_without_any_lesson_counted_move_on():
    f = facts(lessons_done={}, modules_passed=passed(10, 20))
    assert read(stage(f, now=AFTER)) == ("m3-lessons", False)
    assert read(stage(f, now=BEFORE)) == ("workshop", True)


def test_the_first_module_not_passed_decides_the_stage():
    f = facts(lessons_done={10: 1, 20: 2}, modules_passed=passed(20))
    assert read(stage(f, now=BEFORE)) == ("m1-lessons", False)
    f = facts(lessons_done={10: 3, 20: 2}, modules_passed=passed(20))
    assert read(stage(f, now=BEFORE)) == ("m1-quiz", False)
    f = facts(lessons_done=ALL_LESSONS, modules_passed=passed(10, 30))
    assert read(stage(f, now=AFTER)) == ("m2-quiz", False)


def test_a_module_without_a_quiz_still_has_its_lessons_stage():
    cur = curriculum([M1, M2, M3], (Q1, Q3, PRE, POST))
    f = facts(lessons_done={10: 3}, modules_passed=passed(10))
    assert read(stage(f, now=AFTER, cur=cur)) == ("m2-lessons", False)


# ---------------------------------------------------------------- time


def test_workshop_starts_at_midnight_of_its_first_day_in_jakarta():
    starts = workshop_starts_at(date(2024, 10, 14), JAKARTA)
    assert starts == datetime(2024, 10, 13, 17, 0, tzinfo=UTC)
    assert starts.tzinfo is UTC
    assert starts == STARTS


def test_workshop_over_at_is_midnight_after_the_last_day_in_jakarta():
    over = workshop_over_at(WORKSHOP_END, JAKARTA)
    assert over == datetime(2024, 10, 16, 17, 0, tzinfo=UTC)
    assert over == datetime(2024, 10, 17, 0, 0, tzinfo=JAKARTA)
    assert over.tzinfo is UTC
    assert over == OVER
    # a one-day workshop is over at the midnight after its only day
    assert workshop_over_at(WORKSHOP_START, JAKARTA) == datetime(2024, 10, 14, 17, 0, tzinfo=UTC)


# ---------------------------------------------------------------- behind schedule


def behind_now(f: StageFacts, cur: Curriculum = CURRICULUM) -> BehindReason | None:
    """``behind_schedule`` as the facilitator's workspace calls it: at the clock's now."""
    return behind_schedule(
        cur,
        f,
        now=datetime.now(UTC),
        workshop_starts=workshop_starts_at(WORKSHOP_START, JAKARTA),
        post_closes=POST_CLOSES,
        days_before_close=DAYS_BEFORE_CLOSE,
    )


NOTHING = facts()
MODULE_1 = facts(lessons_done={10: 3}, modules_passed=passed(10))
BEFORE_DONE = facts(lessons_done=BEFORE_LESSONS, modules_passed=passed(10, 20))
ALL_PASSED = facts(lessons_done=ALL_LESSONS, modules_passed=passed(10, 20, 30))
POST_ONLY = replace(BEFORE_DONE, post_taken=True)  # module 3 not passed, post-test taken


def test_the_day_before_the_workshop_nobody_is_behind():
    with time_machine.travel(datetime(2024, 10, 13, 0, 0, tzinfo=JAKARTA), tick=False):
        assert behind_now(NOTHING) is None
        assert behind_now(MODULE_1) is None
    with time_machine.travel(STARTS - timedelta(seconds=1), tick=False):
        assert behind_now(NOTHING) is None


def test_at_the_workshops_first_midnight_modules_before_it_not_passed_are_behind():
    with time_machine.travel(datetime(2024, 10, 14, 0, 0, tzinfo=JAKARTA), tick=False):
        assert datetime.now(UTC) == datetime(2024, 10, 13, 17, 0, tzinfo=UTC)
        assert behind_now(NOTHING) is BehindReason.before_workshop
        assert behind_now(MODULE_1) is BehindReason.before_workshop
        # module 2 passed but module 1 not: still behind
        assert behind_now(facts(modules_passed=passed(20))) is BehindReason.before_workshop
        assert behind_now(BEFORE_DONE) is None


def test_after_the_workshop_with_everything_before_it_done_is_not_behind():
    for moment in (OVER, AFTER, CLOSE_WINDOW - timedelta(seconds=1)):
        with time_machine.travel(moment, tick=False):
            assert behind_now(BEFORE_DONE) is None
            assert (
                behind_now(
                    facts(lessons_done={**BEFORE_LESSONS, 30: 1}, modules_passed=passed(10, 20))
                )
                is None
            )
            assert behind_now(MODULE_1) is BehindReason.before_workshop


def test_days_before_the_close_module_3_or_the_post_test_not_done_is_behind():
    with time_machine.travel(CLOSE_WINDOW, tick=False):
        assert datetime.now(UTC) == datetime(2024, 11, 23, 17, 0, tzinfo=UTC)
        assert behind_now(BEFORE_DONE) is BehindReason.before_close  # module 3 not passed
        assert behind_now(ALL_PASSED) is BehindReason.before_close  # post-test not taken
        assert behind_now(POST_ONLY) is BehindReason.before_close
        # the modules before the workshop not passed: that reason comes first
        assert behind_now(MODULE_1) is BehindReason.before_workshop


def test_one_second_before_the_close_window_nobody_on_track_is_behind():
    with time_machine.travel(CLOSE_WINDOW - timedelta(seconds=1), tick=False):
        assert behind_now(BEFORE_DONE) is None
        assert behind_now(ALL_PASSED) is None
        assert behind_now(POST_ONLY) is None


def test_after_the_close_it_stays_behind():
    with time_machine.travel(POST_CLOSES + timedelta(days=1), tick=False):
        assert behind_now(ALL_PASSED) is BehindReason.before_close


@pytest.mark.parametrize(
    "moment",
    [
        STARTS - timedelta(days=1),
        STARTS,
        OVER,
        CLOSE_WINDOW - timedelta(seconds=1),
        CLOSE_WINDOW,
        POST_CLOSES,
        POST_CLOSES + timedelta(days=30),
    ],
)
def test_a_participant_who_finished_everything_is_never_behind(moment):
    with time_machine.travel(moment, tick=False):
        assert behind_now(FINISHED) is None
        # passed every module and took the post-test: the schedule asks nothing more
        assert behind_now(replace(ALL_PASSED, post_taken=True)) is None


def test_a_module_without_a_quiz_does_not_make_everyone_behind():
    cur = curriculum([M1, M2, M3], (Q1, Q3, PRE, POST))
    f = facts(lessons_done=BEFORE_LESSONS, modules_passed=passed(10))
    with time_machine.travel(AFTER, tick=False):
        assert behind_now(f, cur) is None


# ---------------------------------------------------------------- partner gap


def at(key: str, *, waiting: bool = False) -> Stage:
    return Stage(slot(key), waiting=waiting)


def test_partner_gap_is_two_stages():
    assert PARTNER_GAP == 2


def test_partners_at_the_same_or_the_next_stage_have_no_gap():
    assert partner_gap(at("not_activated"), at("not_activated")) is False  # ranks 0, 0
    assert partner_gap(at("not_activated"), at("pretest")) is False  # ranks 0, 1
    assert partner_gap(at("pretest"), at("not_activated")) is False
    assert partner_gap(at("m1-lessons"), at("m1-quiz", waiting=True)) is False


def test_partners_two_stages_apart_have_a_gap():
    assert partner_gap(at("not_activated"), at("m1-lessons")) is True  # ranks 0, 2
    assert partner_gap(at("m1-lessons"), at("not_activated")) is True
    assert partner_gap(at("m1-lessons"), at("m2-lessons")) is True
    assert partner_gap(at("pretest"), at("certificate")) is True


def test_no_partner_no_gap():
    assert partner_gap(at("not_activated"), None) is False
    assert partner_gap(at("certificate"), None) is False


def test_partner_gap_from_computed_stages():
    a = stage(facts(lessons_done={10: 2}), now=BEFORE)  # m1-lessons
    b = stage(facts(lessons_done=BEFORE_LESSONS, modules_passed=passed(10)), now=BEFORE)  # m2-quiz
    assert (a.key, b.key) == ("m1-lessons", "m2-quiz")
    assert partner_gap(a, b) is True
    c = stage(facts(lessons_done={10: 3}), now=BEFORE)  # m1-quiz
    assert partner_gap(a, c) is False


# ---------------------------------------------------------------- the couple's stage


def test_the_couple_stands_where_the_slower_partner_stands():
    slow, fast = at("m1-quiz"), at("m3-lessons")
    assert couple_stage([slow, fast]) is slow
    assert couple_stage([fast, slow]) is slow
    assert couple_stage([at("certificate"), at("pledge", waiting=True)]).key == "pledge"


def test_a_participant_without_a_partner_is_the_couples_stage():
    alone = at("reflections")
    assert couple_stage([alone]) is alone


def test_at_the_pledge_the_partner_who_has_not_signed_is_the_couples_stage():
    signed = stage(replace(FINISHED, complete=False))
    not_signed = stage(replace(FINISHED, signed=False, complete=False))
    assert read(signed) == ("pledge", True)
    assert read(not_signed) == ("pledge", False)
    assert read(couple_stage([signed, not_signed])) == ("pledge", False)
    assert read(couple_stage([not_signed, signed])) == ("pledge", False)


def test_at_a_quiz_the_partner_with_every_attempt_used_is_the_couples_stage():
    trying = stage(facts(lessons_done={10: 3}), now=BEFORE)
    stuck = stage(facts(lessons_done={10: 3}, quizzes_exhausted=passed(10)), now=BEFORE)
    assert read(trying) == ("m1-quiz", False)
    assert read(stuck) == ("m1-quiz", True)
    assert read(couple_stage([trying, stuck])) == ("m1-quiz", True)
    assert read(couple_stage([stuck, trying])) == ("m1-quiz", True)


def test_a_lower_rank_wins_over_the_waiting_rule():
    # a partner waiting at the pledge is still ahead of one at the reflections
    assert read(couple_stage([at("pledge", waiting=False), at("reflections")])) == (
        "reflections",
        False,
    )
    # a partner stuck at module 2's quiz is ahead of one at module 1's lessons
    assert read(couple_stage([at("m2-quiz", waiting=True), at("m1-lessons")])) == (
        "m1-lessons",
        False,
    )
