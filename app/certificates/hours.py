"""Training hours on a certificate, in JP (jam pelajaran): in Indonesian government training
one JP is 45 minutes. An official's certificate states the workshop's JP, set per cohort,
plus the e-learning's: the minutes of the curriculum's lessons over 45, rounded to a whole JP
as the cohort says. Pure: no database, no pages."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.curriculum.outline import Curriculum

JP_MINUTES = 45
JP_WORKSHOP_MAX = 200
ROUND_DOWN, ROUND_NEAREST, ROUND_UP = "down", "nearest", "up"
ROUNDINGS = (ROUND_DOWN, ROUND_NEAREST, ROUND_UP)


@dataclass(frozen=True)
class TrainingHours:
    workshop_jp: int
    elearning_jp: int

    @property
    def total_jp(self) -> int:
        return self.workshop_jp + self.elearning_jp


def training_hours(workshop_jp: int, lesson_minutes: Iterable[int], rounding: str) -> TrainingHours:
    """The workshop's JP and the e-learning's (``lesson_minutes`` summed, over 45 minutes,
    rounded ``down``, to the ``nearest`` — half a JP and more up — or ``up``).

    >>> training_hours(16, [30, 30, 30], "nearest").total_jp  # 90 minutes: 2 JP
    18
    """
    if rounding not in ROUNDINGS:
        raise ValueError(f"unknown rounding {rounding!r}")
    if workshop_jp < 0:
        raise ValueError("the workshop's JP cannot be negative")
    minutes = sum(max(0, m) for m in lesson_minutes)
    whole, rest = divmod(minutes, JP_MINUTES)
    if rounding == ROUND_UP:
        elearning = whole + (rest > 0)
    elif rounding == ROUND_NEAREST:
        elearning = whole + (2 * rest >= JP_MINUTES)
    else:
        elearning = whole
    return TrainingHours(workshop_jp=workshop_jp, elearning_jp=elearning)


def lesson_minutes(curriculum: Curriculum) -> list[int]:
    """The minutes of every lesson of the curriculum, module by module."""
    return [lesson.minutes for module in curriculum.modules for lesson in module.lessons]
