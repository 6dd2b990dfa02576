"""``fmt_ago`` asks Babel once per 30 seconds of distance and locale: it must say exactly what
Babel says for the moment itself."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from babel.dates import format_timedelta

from app.i18n import fmt_ago

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
UNITS = (1, 60, 3600, 86400, 604800, 2592000, 31536000)


def _babel(value: datetime, locale: str) -> str:
    return format_timedelta(
        value - NOW, granularity="minute", threshold=1.0, add_direction=True, locale=locale
    )


def _distances() -> list[float]:
    rng = random.Random(20261203)
    out = [0.0, 1e-6, 29.999, 30.0, 59.999999, 60.0, 89.5, 90.0, 990.0, 990.000001, 1019.99]
    for _ in range(4000):
        unit = rng.choice(UNITS)
        seconds = rng.uniform(0, 3 * unit)
        # half the time on or next to a multiple of 30 seconds: where the words change
        if rng.random() < 0.5:
            seconds = round(seconds / 30) * 30 + rng.choice((0.0, 1e-6, -1e-6, 0.5, -0.5))
        out.append(seconds)
    return [s for d in out for s in (d, -d)]


@pytest.mark.parametrize("locale", ["id", "en"])
def test_fmt_ago_says_what_babel_says_for_every_distance(locale: str) -> None:
    wrong = [
        (
            s,
            fmt_ago(NOW + timedelta(seconds=s), NOW, locale),
            _babel(NOW + timedelta(seconds=s), locale),
        )
        for s in _distances()
        if fmt_ago(NOW + timedelta(seconds=s), NOW, locale)
        != _babel(NOW + timedelta(seconds=s), locale)
    ]
    assert wrong == []


def test_fmt_ago_in_plain_words() -> None:
    assert fmt_ago(NOW - timedelta(days=3, hours=2), NOW, "id") == "3 hari yang lalu"
    assert fmt_ago(NOW - timedelta(minutes=16, seconds=33), NOW, "en") == "17 minutes ago"
    assert fmt_ago(None, NOW, "id") == ""
