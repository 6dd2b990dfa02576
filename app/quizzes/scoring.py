"""Scoring and learning gain: pure functions, no database.

How a question scores (also in modules/README.md):
- ``single`` and ``true_false``: 1 when the picked choice is the correct one, else 0.
- ``multiple``: partial credit. Every choice is one decision — pick it when it is correct,
  leave it when it is wrong — and the score is the share of right decisions. The question
  counts as *correct* only when every decision is right (score 1).
An attempt scores the mean of its items, as a percentage; an unanswered item scores 0.

Learning gain (Hake 1998): g = (post − pre) / (100 − pre), undefined when pre = 100.
Reported both as the gain of the averages and as the average of individual gains (Bao 2006).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def score_item(
    kind: str, choice_ids: Sequence[int], correct_ids: Iterable[int], selected: Iterable[int]
) -> float:
    """The score of one answer, between 0 and 1. Order never matters: only which ids."""
    choices = set(choice_ids)
    correct = set(correct_ids) & choices
    picked = set(selected) & choices
    if kind in ("single", "true_false"):
        return 1.0 if len(picked) == 1 and picked == correct else 0.0
    if not choices:
        return 0.0
    right = sum(1 for c in choices if (c in picked) == (c in correct))
    return right / len(choices)


def attempt_percent(item_scores: Sequence[float | None]) -> float:
    """Mean item score as a percentage (0–100); unanswered (None) items count 0."""
    if not item_scores:
        return 0.0
    return round(100.0 * sum(s or 0.0 for s in item_scores) / len(item_scores), 2)


def shuffled(items: Sequence, seed: int, salt: object = "") -> list:
    """A reproducible order for an attempt: the same seed always gives the same order."""
    out = list(items)
    random.Random(f"{seed}:{salt}").shuffle(out)  # noqa: S311 — ordering, not security
    return out


def normalized_gain(pre: float, post: float) -> float | None:
    """Hake's g for one person (percentages). None when pre = 100: nothing left to gain."""
    if pre >= 100:
        return None
    return (post - pre) / (100.0 - pre)


def band(g: float | None) -> str | None:
    if g is None:
        return None
    if g < 0.3:
        return "low"
    if g <= 0.7:
        return "medium"
    return "high"


@dataclass(frozen=True)
class GainSummary:
    n: int
    pre_mean: float | None
    post_mean: float | None
    gain_of_averages: float | None
    average_of_gains: float | None
    excluded: int  # people with pre = 100, left out of the average of individual gains


def gain_summary(pairs: Iterable[tuple[float, float]]) -> GainSummary:
    pairs = list(pairs)
    if not pairs:
        return GainSummary(0, None, None, None, None, 0)
    pre_mean = sum(p for p, _ in pairs) / len(pairs)
    post_mean = sum(q for _, q in pairs) / len(pairs)
    gains = [g for p, q in pairs if (g := normalized_gain(p, q)) is not None]
    return GainSummary(
        n=len(pairs),
        pre_mean=round(pre_mean, 2),
        post_mean=round(post_mean, 2),
        gain_of_averages=normalized_gain(pre_mean, post_mean),
        average_of_gains=(sum(gains) / len(gains)) if gains else None,
        excluded=len(pairs) - len(gains),
    )
