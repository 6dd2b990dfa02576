"""The KPK measures as pure functions of the summary's sums (no database, no web).

- Learning gain of **matched** participants (both tests taken) from the integer sums of a
  group (``GainSums``): mean pre and post, the class normalized gain ⟨g⟩ = (post − pre) /
  (100 − pre) of the means, the mean of individual gains (people with pre = 100 % have none and
  are counted as ``excluded``), and the paired effect size d_z = mean change / SD of the changes
  with a 95 % confidence interval (SE = √(1/n + d_z²/(2n)), t quantile with n − 1 degrees of
  freedom).
- Workshop periods (month, quarter, year) of a cohort, and the reasons a cohort needs
  attention.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from statistics import NormalDist

from app.i18n import N_


@dataclass(frozen=True)
class GainSums:
    """Sums over a group: ``n`` matched; ``pre``/``post`` in hundredths of a percentage point;
    ``d2`` the sum of squared changes (same unit, squared); ``gn`` people with an individual
    gain (pre < 100 %) and ``gain`` the sum of their gains in ten-thousandths."""

    n: int = 0
    pre: int = 0
    post: int = 0
    d2: int = 0
    gn: int = 0
    gain: int = 0


@dataclass(frozen=True)
class GainValues:
    n: int
    pre_mean: float | None  # percent
    post_mean: float | None
    class_gain: float | None  # ⟨g⟩
    mean_gain: float | None  # mean of individual gains
    excluded: int  # matched people with pre = 100 %: no individual gain
    d_z: float | None
    ci_low: float | None
    ci_high: float | None


def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom (Cornish–Fisher
    expansion of the normal quantile; within 0.01 of the exact value from df = 3 on)."""
    z = NormalDist().inv_cdf(p)
    if df <= 0:
        raise ValueError("df must be positive")
    if df == 1:
        return math.tan(math.pi * (p - 0.5))
    if df == 2:
        a = 4 * p * (1 - p)
        return 2 * (p - 0.5) * math.sqrt(2 / a)
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4


def class_gain(s: GainSums) -> float | None:
    """⟨g⟩ = (post − pre) / (100 − pre) of the means (None for nobody, or pre = 100 %)."""
    if s.n == 0:
        return None
    pre = s.pre / s.n / 100
    post = s.post / s.n / 100
    return (post - pre) / (100 - pre) if pre < 100 else None


def gain_values(s: GainSums) -> GainValues:
    if s.n == 0:
        return GainValues(0, None, None, None, None, 0, None, None, None)
    pre = s.pre / s.n / 100
    post = s.post / s.n / 100
    mean_gain = s.gain / s.gn / 10000 if s.gn else None
    d_z = low = high = None
    if s.n >= 2:
        mean_d = (s.post - s.pre) / s.n
        var = (s.d2 - s.n * mean_d * mean_d) / (s.n - 1)
        if var > 1e-9:
            d_z = mean_d / math.sqrt(var)
            se = math.sqrt(1 / s.n + d_z * d_z / (2 * s.n))
            t = t_quantile(0.975, s.n - 1)
            low, high = d_z - t * se, d_z + t * se
    return GainValues(
        n=s.n,
        pre_mean=pre,
        post_mean=post,
        class_gain=class_gain(s),
        mean_gain=mean_gain,
        excluded=s.n - s.gn,
        d_z=d_z,
        ci_low=low,
        ci_high=high,
    )


# ---------------------------------------------------------------- periods

INTERVALS = ("month", "quarter", "year")
PERIOD = re.compile(r"^(?P<year>\d{4})(?:-(?:Q(?P<quarter>[1-4])|(?P<month>0[1-9]|1[0-2])))?$")


def period_key(day: date, interval: str) -> str:
    """``2024-10`` (month), ``2024-Q4`` (quarter), ``2024`` (year)."""
    if interval == "month":
        return f"{day.year}-{day.month:02d}"
    if interval == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def period_interval(period: str) -> str | None:
    """Which interval a period filter names (``None``: not a period)."""
    m = PERIOD.match(period)
    if m is None or not 2000 <= int(m["year"]) <= 2100:
        return None
    return "quarter" if m["quarter"] else "month" if m["month"] else "year"


def in_period(day: date, period: str) -> bool:
    interval = period_interval(period)
    return interval is not None and period_key(day, interval) == period


# ---------------------------------------------------------------- cohorts needing attention

ACTIVATION_LOW = 0.6  # fewer than 60 % of the invited activated
COMPLETION_LOW = 0.4  # once the window is closed: fewer than 40 % of couples complete
POST_TEST_LOW = 0.5  # after the workshop: fewer than half of those who took the pre-test
# took the post-test too
GAIN_LOW = 0.2  # a class gain below 0.2 (Hake's "low")

ATTENTION_REASONS = {
    "activation": N_("Few have activated their account"),
    "completion": N_("Few couples finished"),
    "post_test": N_("Many have not taken the post-test"),
    "gain": N_("Little learning gain"),
}


def attention_reasons(
    *,
    activation: float | None,
    completion: float | None,
    post_uptake: float | None,
    class_gain: float | None,
    workshop_over: bool,
    window_closed: bool,
) -> list[str]:
    """Why a cohort needs attention (keys of ``ATTENTION_REASONS``, worst first). Each input
    is None when it is suppressed or there is nothing to measure: no reason is given then."""
    reasons = []
    if activation is not None and activation < ACTIVATION_LOW:
        reasons.append("activation")
    if window_closed and completion is not None and completion < COMPLETION_LOW:
        reasons.append("completion")
    if workshop_over and post_uptake is not None and post_uptake < POST_TEST_LOW:
        reasons.append("post_test")
    if class_gain is not None and class_gain < GAIN_LOW:
        reasons.append("gain")
    return reasons
