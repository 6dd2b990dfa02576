"""Scoring and learning gain: property tests and hand-computed examples."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.quizzes.scoring import (
    attempt_percent,
    band,
    gain_summary,
    normalized_gain,
    score_item,
    shuffled,
)

question = st.tuples(
    st.sampled_from(["single", "multiple", "true_false"]),
    st.lists(st.integers(1, 10_000), min_size=2, max_size=6, unique=True),
).flatmap(
    lambda t: st.tuples(
        st.just(t[0]),
        st.just(t[1]),
        st.lists(st.sampled_from(t[1]), min_size=1, max_size=len(t[1]), unique=True),
        st.lists(st.sampled_from(t[1]), max_size=len(t[1]), unique=True),
        st.integers(0, 2**31),
    )
)


@given(question)
def test_score_is_within_bounds_and_invariant_to_the_shuffle(q):
    kind, choices, correct, selected, seed = q
    score = score_item(kind, choices, correct, selected)
    assert 0.0 <= score <= 1.0
    assert (
        score_item(
            kind, shuffled(choices, seed), shuffled(correct, seed, 1), shuffled(selected, seed, 2)
        )
        == score
    )


@given(question)
def test_full_marks_exactly_when_the_answer_is_the_correct_set(q):
    kind, choices, correct, _, _ = q
    if kind != "multiple":
        correct = correct[:1]
    assert score_item(kind, choices, correct, correct) == 1.0


@given(st.lists(st.integers(0, 1000), min_size=1, max_size=30, unique=True), st.integers(0, 2**31))
def test_shuffle_is_reproducible_and_a_permutation(items, seed):
    assert shuffled(items, seed, "x") == shuffled(items, seed, "x")
    assert sorted(shuffled(items, seed)) == sorted(items)


def test_multiple_scores_by_partial_credit():
    choices = [1, 2, 3, 4]
    assert score_item("multiple", choices, [1, 2], [1, 2]) == 1.0
    assert score_item("multiple", choices, [1, 2], [1]) == 0.75  # 3 of 4 decisions right
    assert score_item("multiple", choices, [1, 2], [1, 3]) == 0.5
    assert score_item("multiple", choices, [1, 2], []) == 0.5
    assert score_item("multiple", choices, [1, 2], [3, 4]) == 0.0
    assert score_item("single", [1, 2, 3], [2], [2]) == 1.0
    assert score_item("single", [1, 2, 3], [2], [2, 3]) == 0.0
    assert score_item("true_false", [1, 2], [1], [2]) == 0.0


def test_attempt_percent_counts_unanswered_as_zero():
    assert attempt_percent([1, 1, 0.5, None]) == 62.5
    assert attempt_percent([]) == 0.0


def test_normalized_gain_by_hand():
    assert normalized_gain(40, 70) == pytest.approx(0.5)  # 30 of the 60 left
    assert normalized_gain(80, 90) == pytest.approx(0.5)
    assert normalized_gain(50, 40) == pytest.approx(-0.2)
    assert normalized_gain(100, 100) is None  # nothing left to gain
    assert band(0.29) == "low" and band(0.3) == "medium" and band(0.71) == "high"


def test_gain_of_averages_and_average_of_gains_differ_as_computed_by_hand():
    # three people: (pre, post) = (20, 60), (50, 75), (100, 90)
    summary = gain_summary([(20, 60), (50, 75), (100, 90)])
    assert summary.n == 3
    assert summary.pre_mean == pytest.approx(56.67, abs=0.01)
    assert summary.post_mean == pytest.approx(75.0)
    # gain of averages: (75 − 56.667) / (100 − 56.667) = 18.333 / 43.333
    assert summary.gain_of_averages == pytest.approx(0.4231, abs=1e-4)
    # average of individual gains, pre = 100 left out: (0.5 + 0.5) / 2
    assert summary.average_of_gains == pytest.approx(0.5)
    assert summary.excluded == 1


def test_gain_summary_of_nobody():
    assert gain_summary([]).gain_of_averages is None
    everyone_perfect = gain_summary([(100, 100), (100, 90)])
    assert everyone_perfect.gain_of_averages is None
    assert everyone_perfect.average_of_gains is None and everyone_perfect.excluded == 2
