"""The JP rule: the workshop's JP plus the e-learning's minutes over 45, rounded as the
cohort says."""

from __future__ import annotations

import pytest

from app.certificates.hours import (
    JP_MINUTES,
    ROUNDINGS,
    TrainingHours,
    lesson_minutes,
    training_hours,
)
from app.curriculum.outline import Curriculum, LessonInfo, ModuleInfo


@pytest.mark.parametrize(
    ("minutes", "down", "nearest", "up"),
    [
        ([], 0, 0, 0),
        ([0, 0], 0, 0, 0),
        ([1], 0, 0, 1),
        ([22], 0, 0, 1),  # just under half a JP
        ([23], 0, 1, 1),  # just over half a JP (whole minutes never make exactly half)
        ([45], 1, 1, 1),
        ([20, 25], 1, 1, 1),  # summed first, then rounded: not per lesson
        ([46], 1, 1, 2),
        ([67], 1, 1, 2),
        ([68], 1, 2, 2),
        ([15] * 12, 4, 4, 4),  # 180 minutes
        ([10] * 37, 8, 8, 9),  # 370 minutes = 8 JP and 10 minutes
        ([45] * 100, 100, 100, 100),
    ],
)
def test_each_rounding(minutes, down, nearest, up):
    for rounding, expected in zip(ROUNDINGS, (down, nearest, up), strict=True):
        hours = training_hours(16, minutes, rounding)
        assert hours == TrainingHours(workshop_jp=16, elearning_jp=expected), rounding
        assert hours.total_jp == 16 + expected


def test_no_workshop_hours_and_a_generator_of_minutes():
    assert training_hours(0, (m for m in [30, 30, 30]), "nearest").total_jp == 2
    assert training_hours(200, [], "down").total_jp == 200


def test_negative_minutes_count_as_none():
    assert training_hours(2, [-90, 45], "up") == TrainingHours(2, 1)


@pytest.mark.parametrize("rounding", ["", "Nearest", "half-up", "ceil"])
def test_an_unknown_rounding_is_refused(rounding):
    with pytest.raises(ValueError, match="rounding"):
        training_hours(0, [45], rounding)


def test_negative_workshop_hours_are_refused():
    with pytest.raises(ValueError, match="negative"):
        training_hours(-1, [45], "nearest")


def test_one_jp_is_45_minutes():
    assert JP_MINUTES == 45


def _lesson(n: int, minutes: int, module_id: int) -> LessonInfo:
    return LessonInfo(n, f"l{n}", {"id": "L"}, minutes, "pre", module_id, n)


def test_lesson_minutes_of_every_module():
    modules = [
        ModuleInfo(1, "m1", {}, {}, "pre", 1, [_lesson(1, 10, 1), _lesson(2, 20, 1)]),
        ModuleInfo(2, "m2", {}, {}, "post", 2, [_lesson(3, 15, 2)]),
        ModuleInfo(3, "m3", {}, {}, "post", 3, []),
    ]
    curriculum = Curriculum(1, modules, {}, {})
    assert lesson_minutes(curriculum) == [10, 20, 15]
    assert training_hours(3, lesson_minutes(curriculum), "up").elearning_jp == 1
