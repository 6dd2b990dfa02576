"""Summaries for the facilitator and KPK dashboards, computed with SQL aggregates.

- ``participant_summaries``: per participant of a cohort, lessons done and quiz results (from
  ``app.learning.selectors``);
- ``quiz_summaries``: per quiz of a cohort, who took it, mean best score, pass rate;
- ``quiz_analysis``: classical item analysis of one quiz on first attempts, as Moodle's quiz
  statistics report computes it: the score distribution (mean, median, SD), Cronbach's α (KR-20
  for 0/1 items) and the standard error of measurement; per question the facility, SD,
  item–rest discrimination, discriminative efficiency, the choice distribution and plain
  reasons to look at it again;
- ``prepost_facility``: per pre-/post-test question, the facility before and after.

Formulas and thresholds: ``docs/item-analysis.md``. Every number comes from sums, counts and
window functions the database computes (per attempt, per item, per item and choice); Python only
combines a handful of sums per item, so the number of statements never depends on how many
people answered.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import Integer, Select, and_, case, cast, func, literal_column, select, true
from sqlmodel import Session, col

from app.cohorts.models import Couple
from app.curriculum.models import Choice, Question, Quiz
from app.curriculum.outline import Curriculum, QuizInfo
from app.i18n import N_
from app.learning.selectors import cohort_participants, lessons_done, quiz_records
from app.quizzes.models import AttemptItem, QuizAttempt

# ---------------------------------------------------------------- item analysis: thresholds
# (why these values: docs/item-analysis.md)

SMALL_SAMPLE = 10  # fewer first attempts than this: the numbers are not stable yet
TOO_EASY = 0.9  # facility above this: (almost) everybody answers right
TOO_HARD = 0.2  # facility below this: few answer right
WEAK_DISCRIMINATION = 0.2  # item–rest correlation below this discriminates badly
UNUSED_DISTRACTOR_MIN_N = 10  # "a wrong choice nobody picked" needs at least this many answers

FLAG_TOO_EASY = N_("Too easy: almost everybody answers it right.")
FLAG_TOO_HARD = N_("Too hard: only a few answer it right.")
FLAG_WEAK_DISCRIMINATION = N_(
    "Discriminates badly: participants who do well on the rest of the quiz hardly do better "
    "on this question."
)
FLAG_NEGATIVE_DISCRIMINATION = N_(
    "Negative discrimination: participants who do well on the rest of the quiz do worse on "
    "this question. Check the answer key and the wording."
)
FLAG_UNUSED_DISTRACTOR = N_(
    "A wrong choice that nobody picked: it distracts nobody. Make it more plausible or replace it."
)

_EPS = 1e-9  # variances and covariances below this are zero (sums of floats)


@dataclass(frozen=True)
class QuizSummary:
    """One participant at one quiz (``learning.selectors.quiz_records``)."""

    best: float | None
    passed: bool
    attempts: int  # submitted
    extra: int
    exhausted: bool  # a module quiz with every allowed attempt used, not passed


@dataclass
class ParticipantSummary:
    lessons: int = 0
    quizzes: dict[str, QuizSummary] = field(default_factory=dict)


def participant_summaries(
    session: Session, *, cohort_id: int, couple_ids: Collection[int] | None = None
) -> dict[int, ParticipantSummary]:
    """{user_id: ParticipantSummary} for a cohort (or only its couples ``couple_ids``): two
    statements, whatever its size."""
    users = cohort_participants(cohort_id)
    if couple_ids is not None:
        users = users.where(col(Couple.id).in_(couple_ids))
    out: dict[int, ParticipantSummary] = {}
    for user_id, lessons in session.execute(lessons_done(users)).all():
        out.setdefault(user_id, ParticipantSummary()).lessons = lessons
    for r in session.execute(quiz_records(users)).mappings():
        out.setdefault(r["user_id"], ParticipantSummary()).quizzes[r["slug"]] = QuizSummary(
            best=r["best"],
            passed=bool(r["passed"]),
            attempts=r["submitted"],
            extra=r["extra"] or 0,
            exhausted=bool(r["exhausted"]),
        )
    return out


def quiz_summaries(session: Session, *, cohort_id: int) -> dict[str, dict[str, Any]]:
    """{quiz slug: {"participants", "attempts", "mean_best", "pass_rate"}} over the cohort's
    participants who submitted at least one attempt."""
    records = quiz_records(cohort_participants(cohort_id)).subquery()
    rows = session.execute(
        select(
            records.c.slug,
            func.count(),
            func.sum(records.c.submitted),
            func.avg(records.c.best),
            func.avg(case((records.c.passed, 1.0), else_=0.0)),
        )
        .where(records.c.submitted > 0)
        .group_by(records.c.slug)
    ).all()
    return {
        slug: {
            "participants": n,
            "attempts": int(attempts or 0),
            "mean_best": float(mean) if mean is not None else None,
            "pass_rate": float(rate) if rate is not None else None,
        }
        for slug, n, attempts, mean, rate in rows
    }


# ---------------------------------------------------------------- item analysis


@dataclass(frozen=True)
class ChoiceStats:
    """How often one choice of a question was picked on first attempts."""

    choice_id: int
    position: int
    text: dict[str, str]  # {"id": …, "en": …}
    correct: bool
    picked: int  # first attempts that picked it
    share: float  # picked / the question's n (0..1)


@dataclass(frozen=True)
class ItemStats:
    """One question version on the first attempts of one quiz."""

    question_id: int
    slug: str
    revision: int
    position: int  # order in the content file
    type: str  # single | true_false | multiple
    text: dict[str, str]  # the stem, {"id": …, "en": …}
    n: int  # first attempts that were given this question
    facility: float  # mean item score, 0..1
    sd: float | None  # sample SD of the item score (None below two answers)
    discrimination: float | None  # item–rest correlation; None when either side is constant
    efficiency: float | None  # discriminative efficiency: cov / the largest cov possible
    choices: list[ChoiceStats]
    flags: tuple[str, ...]  # message ids (N_), to translate where shown


@dataclass(frozen=True)
class QuizAnalysis:
    """The score distribution and reliability of one quiz, on first attempts."""

    attempts: int  # n: submitted first attempts
    mean: float | None  # percent
    median: float | None  # percent
    sd: float | None  # sample SD of the attempt scores, percent points
    alpha: float | None  # Cronbach's α (= KR-20 for 0/1 items)
    sem: float | None  # standard error of measurement, percent points: SD·√(1 − α)
    small_sample: bool  # attempts < SMALL_SAMPLE
    items: list[ItemStats]


class PrePost(NamedTuple):
    """One pre-/post-test question: facility (0..1) and first attempts, before and after."""

    pre: float | None
    n_pre: int
    post: float | None
    n_post: int


@dataclass(frozen=True)
class PrePostRow:
    """A row of the before/after table: a question (its newest stem) and its facilities."""

    slug: str
    text: dict[str, str]
    pre: float | None
    n_pre: int
    post: float | None
    n_post: int

    @property
    def change(self) -> float | None:
        """post − pre facility (−1..1), when both were taken."""
        return None if self.pre is None or self.post is None else self.post - self.pre


def _first_attempts(quiz_ids: Any, users: Select | None) -> Any:
    """Submitted first attempts (attempt_id, score) at the given quiz(zes), of ``users``."""
    query: Select = select(
        col(QuizAttempt.id).label("attempt_id"),
        col(QuizAttempt.quiz_id).label("quiz_id"),
        col(QuizAttempt.score).label("score"),
    ).where(
        col(QuizAttempt.number) == 1,
        col(QuizAttempt.submitted_at).is_not(None),
        quiz_ids,
    )
    if users is not None:
        query = query.where(col(QuizAttempt.user_id).in_(users))
    return query


def _sample_variance(n: int, s: float, ss: float) -> float | None:
    """From n, Σv and Σv²: Σ(v − v̄)² / (n − 1)."""
    if n < 2:
        return None
    return max((ss - s * s / n) / (n - 1), 0.0)


def _picks(session: Session, first: Any) -> Any:
    """(question_id, choice_id, picked): how many first attempts picked each choice, one row
    per element of the JSON ``selected`` lists (a table-valued function per dialect)."""
    selected: Any = AttemptItem.selected
    if session.get_bind().dialect.name == "postgresql":
        # the column is ``json``; an answer cleared to JSON null is no array
        array = case(
            (func.json_typeof(selected) == "array", selected),
            else_=literal_column("'[]'::json"),
        )
        element = func.json_array_elements_text(array).table_valued("value")
        choice_id: Any = cast(element.c.value, Integer)
    else:
        element = func.json_each(selected).table_valued("value")
        choice_id = element.c.value
    return (
        select(
            col(AttemptItem.question_id).label("question_id"),
            choice_id.label("choice_id"),
            func.count(col(AttemptItem.attempt_id).distinct()).label("picked"),
        )
        .select_from(AttemptItem)
        .join(first, first.c.attempt_id == AttemptItem.attempt_id)
        .join(element, true())
        .group_by(col(AttemptItem.question_id), choice_id)
        .subquery("picks")
    )


def quiz_analysis(session: Session, *, quiz_id: int, users: Select | None) -> QuizAnalysis:
    """Classical item analysis of a quiz on the submitted first attempts of ``users`` (a
    ``Select`` of user ids, e.g. ``cohort_participants(cohort_id)``; None: everybody).

    Three statements, whatever the number of attempts: the score distribution (with the
    median and the variance of the summed item scores), the per-item sums, the per-choice
    counts."""
    first = _first_attempts(col(QuizAttempt.quiz_id) == quiz_id, users).cte("first_attempt")
    x = func.coalesce(AttemptItem.score, 0.0)
    # each answer with the total t of its attempt (a window: no join of the attempts back)
    item = (
        select(
            col(AttemptItem.attempt_id).label("attempt_id"),
            col(AttemptItem.question_id).label("question_id"),
            x.label("x"),
            func.sum(x).over(partition_by=col(AttemptItem.attempt_id)).label("t"),
        )
        .join(first, first.c.attempt_id == AttemptItem.attempt_id)
        .cte("item")
    )
    total = (
        select(item.c.attempt_id, func.max(item.c.t).label("t"))
        .group_by(item.c.attempt_id)
        .subquery("total")
    )
    totals = select(func.sum(total.c.t), func.sum(total.c.t * total.c.t)).subquery("totals")

    # 1. the attempts: n, mean, Σscore², the median; Σt and Σt² of the summed item scores
    score = func.coalesce(first.c.score, 0.0)
    ranked = select(
        score.label("score"),
        func.row_number().over(order_by=score).label("rn"),
        func.count().over().label("cnt"),
    ).subquery()
    # the middle row (n odd) or the two middle rows (n even): 2·rn ∈ {n, n + 1, n + 2}
    median = (
        select(func.avg(ranked.c.score))
        .where(2 * ranked.c.rn >= ranked.c.cnt, 2 * ranked.c.rn <= ranked.c.cnt + 2)
        .scalar_subquery()
    )
    n, mean, sum_ss, sum_t, sum_tt, median_value = session.execute(
        select(
            func.count(),
            func.avg(score),
            func.sum(score * score),
            select(totals.c[0]).scalar_subquery(),
            select(totals.c[1]).scalar_subquery(),
            median,
        ).select_from(first)
    ).one()
    n = int(n or 0)
    if n == 0:
        return QuizAnalysis(0, None, None, None, None, None, True, [])

    # 2. per item: n, Σx, Σx², Σr, Σr², Σxr with r = t − x (the rest of the attempt), and
    # Σx₍ᵢ₎r₍ᵢ₎ over both sorted independently (the largest covariance the two could have)
    scored = select(item.c.question_id, item.c.x, (item.c.t - item.c.x).label("r")).cte("scored")
    # the sorted pairing without a join of two rankings: item scores take few values, so the
    # k-th smallest x is the value whose cumulative count range holds k; each rest score,
    # ranked, meets the one x value of its rank (a range join on a small table)
    x_counts = (
        select(scored.c.question_id, scored.c.x, func.count().label("c"))
        .group_by(scored.c.question_id, scored.c.x)
        .subquery()
    )
    x_ranges = select(
        x_counts.c.question_id,
        x_counts.c.x,
        func.sum(x_counts.c.c)
        .over(partition_by=x_counts.c.question_id, order_by=x_counts.c.x)
        .label("hi"),
        x_counts.c.c,
    ).subquery()
    by_r = select(
        scored.c.question_id,
        scored.c.r,
        func.row_number().over(partition_by=scored.c.question_id, order_by=scored.c.r).label("rn"),
    ).subquery()
    sorted_products = (
        select(by_r.c.question_id, func.sum(x_ranges.c.x * by_r.c.r).label("sxr_max"))
        .join(
            x_ranges,
            and_(
                x_ranges.c.question_id == by_r.c.question_id,
                by_r.c.rn > x_ranges.c.hi - x_ranges.c.c,
                by_r.c.rn <= x_ranges.c.hi,
            ),
        )
        .group_by(by_r.c.question_id)
        .subquery()
    )
    sums = (
        select(
            scored.c.question_id,
            func.count().label("n"),
            func.sum(scored.c.x).label("sx"),
            func.sum(scored.c.x * scored.c.x).label("sxx"),
            func.sum(scored.c.r).label("sr"),
            func.sum(scored.c.r * scored.c.r).label("srr"),
            func.sum(scored.c.x * scored.c.r).label("sxr"),
        )
        .group_by(scored.c.question_id)
        .subquery()
    )
    rows = session.execute(
        select(
            col(Question.id),
            col(Question.slug),
            col(Question.revision),
            col(Question.position),
            col(Question.type),
            col(Question.text),
            sums.c.n,
            sums.c.sx,
            sums.c.sxx,
            sums.c.sr,
            sums.c.srr,
            sums.c.sxr,
            sorted_products.c.sxr_max,
        )
        .join(sums, sums.c.question_id == Question.id)
        .join(sorted_products, sorted_products.c.question_id == Question.id)
        .order_by(col(Question.position), col(Question.slug), col(Question.revision))
    ).all()

    # 3. per item and choice: how many picked it (every choice, also those nobody picked)
    picks = _picks(session, first)
    choices: dict[int, list[tuple[int, int, dict, bool, int]]] = {}
    for choice_id, question_id, position, text, correct, picked in session.execute(
        select(
            col(Choice.id),
            col(Choice.question_id),
            col(Choice.position),
            col(Choice.text),
            col(Choice.correct),
            func.coalesce(picks.c.picked, 0),
        )
        .outerjoin(
            picks,
            and_(picks.c.question_id == Choice.question_id, picks.c.choice_id == Choice.id),
        )
        .where(col(Choice.question_id).in_(select(item.c.question_id).distinct()))
        .order_by(col(Choice.question_id), col(Choice.position))
    ):
        choices.setdefault(question_id, []).append(
            (choice_id, position, text, bool(correct), int(picked))
        )

    items = []
    by_slug: dict[str, tuple[int, float, float]] = {}  # slug: n, Σx, Σx² over its versions
    for qid, slug, revision, position, kind, text, k, sx, sxx, sr, srr, sxr, sxr_max in rows:
        k, sx, sxx, sr, srr = int(k), float(sx), float(sxx), float(sr), float(srr)
        sxr, sxr_max = float(sxr), float(sxr_max)
        m, s, ss = by_slug.get(slug, (0, 0.0, 0.0))
        by_slug[slug] = (m + k, s + sx, ss + sxx)
        var_x = _sample_variance(k, sx, sxx)
        var_r = _sample_variance(k, sr, srr)
        discrimination = efficiency = None
        if var_x is not None and var_r is not None:
            cov = (sxr - sx * sr / k) / (k - 1)
            cov_max = (sxr_max - sx * sr / k) / (k - 1)
            if var_x > _EPS and var_r > _EPS:
                discrimination = max(-1.0, min(1.0, cov / math.sqrt(var_x * var_r)))
            if cov_max > _EPS:
                efficiency = cov / cov_max
        facility = sx / k
        item_choices = [
            ChoiceStats(cid, pos, ctext, correct, picked, picked / k)
            for cid, pos, ctext, correct, picked in choices.get(qid, [])
        ]
        items.append(
            ItemStats(
                question_id=qid,
                slug=slug,
                revision=revision,
                position=position,
                type=kind,
                text=text,
                n=k,
                facility=facility,
                sd=math.sqrt(var_x) if var_x is not None else None,
                discrimination=discrimination,
                efficiency=efficiency,
                choices=item_choices,
                flags=item_flags(
                    facility=facility, discrimination=discrimination, n=k, choices=item_choices
                ),
            )
        )

    # Cronbach's α over the quiz's questions (a question's versions are one question):
    # k/(k − 1)·(1 − Σ item variances / variance of the summed item scores)
    alpha = None
    var_t = _sample_variance(n, float(sum_t or 0.0), float(sum_tt or 0.0))
    k_items = len(by_slug)
    if k_items > 1 and var_t is not None and var_t > _EPS:
        item_variances = sum(_sample_variance(*slug_sums) or 0.0 for slug_sums in by_slug.values())
        alpha = k_items / (k_items - 1) * (1 - item_variances / var_t)
    var_score = _sample_variance(n, float(mean) * n, float(sum_ss))
    sd = math.sqrt(var_score) if var_score is not None else None
    sem = sd * math.sqrt(1 - alpha) if sd is not None and alpha is not None else None
    return QuizAnalysis(
        attempts=n,
        mean=float(mean),
        median=float(median_value) if median_value is not None else None,
        sd=sd,
        alpha=alpha,
        sem=sem,
        small_sample=n < SMALL_SAMPLE,
        items=items,
    )


def item_flags(
    *, facility: float, discrimination: float | None, n: int, choices: Iterable[ChoiceStats]
) -> tuple[str, ...]:
    """Plain reasons to look at a question again (message ids; thresholds at the top)."""
    flags = []
    if facility > TOO_EASY:
        flags.append(FLAG_TOO_EASY)
    elif facility < TOO_HARD:
        flags.append(FLAG_TOO_HARD)
    if discrimination is not None:
        if discrimination < 0:
            flags.append(FLAG_NEGATIVE_DISCRIMINATION)
        elif discrimination < WEAK_DISCRIMINATION:
            flags.append(FLAG_WEAK_DISCRIMINATION)
    if n >= UNUSED_DISTRACTOR_MIN_N and any(not c.correct and c.picked == 0 for c in choices):
        flags.append(FLAG_UNUSED_DISTRACTOR)
    return tuple(flags)


def prepost_facility(session: Session, *, users: Select | None) -> dict[str, PrePost]:
    """{question slug: PrePost} on the submitted first attempts at the pre-test and the
    post-test (they ask the same questions) of ``users`` (None: everybody). One statement."""
    tests = select(col(Quiz.id)).where(col(Quiz.kind).in_(("pre", "post")))
    first = _first_attempts(col(QuizAttempt.quiz_id).in_(tests), users).subquery()
    position = func.min(col(Question.position)).label("position")
    rows = session.execute(
        select(
            col(Question.slug),
            col(Quiz.kind),
            func.count(),
            func.avg(func.coalesce(AttemptItem.score, 0.0)),
            position,
        )
        .select_from(AttemptItem)
        .join(first, first.c.attempt_id == AttemptItem.attempt_id)
        .join(Quiz, col(Quiz.id) == first.c.quiz_id)
        .join(Question, col(Question.id) == AttemptItem.question_id)
        .group_by(col(Question.slug), col(Quiz.kind))
        .order_by(position, col(Question.slug))
    ).all()
    out: dict[str, PrePost] = {}
    for slug, kind, n, facility, _position in rows:
        was = out.get(slug, PrePost(None, 0, None, 0))
        if kind == "pre":
            out[slug] = was._replace(pre=float(facility), n_pre=int(n))
        else:
            out[slug] = was._replace(post=float(facility), n_post=int(n))
    return out


def prepost_rows(
    prepost: dict[str, PrePost], analyses: Iterable[QuizAnalysis] = ()
) -> list[PrePostRow]:
    """The before/after table: ``prepost_facility`` with each question's stem taken from the
    analyses (its newest version), in the order of ``prepost``."""
    stems: dict[str, tuple[int, dict[str, str]]] = {}
    for analysis in analyses:
        for i in analysis.items:
            if i.slug not in stems or stems[i.slug][0] < i.revision:
                stems[i.slug] = (i.revision, i.text)
    return [
        PrePostRow(slug, stems.get(slug, (0, {}))[1], *values) for slug, values in prepost.items()
    ]


def quizzes_in_order(curriculum: Curriculum) -> list[QuizInfo]:
    """The pre-test, the module quizzes in module order, the post-test."""
    position = {m.id: m.position for m in curriculum.modules}
    kinds = {"pre": 0, "module": 1, "post": 2}
    return sorted(
        curriculum.quizzes.values(),
        key=lambda q: (kinds.get(q.kind, 3), position.get(q.module_id or 0, 0), q.slug),
    )


def item_analyses(
    session: Session, curriculum: Curriculum, *, users: Select | None
) -> tuple[list[tuple[QuizInfo, QuizAnalysis]], list[PrePostRow]]:
    """The item analysis of every quiz (in path order) and the pre/post facility table, on
    the first attempts of ``users`` (None: everybody): what the facilitator's item page shows
    and ``integritas content stats`` prints."""
    analyses = [
        (q, quiz_analysis(session, quiz_id=q.id, users=users)) for q in quizzes_in_order(curriculum)
    ]
    return analyses, prepost_rows(prepost_facility(session, users=users), [a for _, a in analyses])


FLAG_WORDS = {
    FLAG_TOO_EASY: "too easy",
    FLAG_TOO_HARD: "too hard",
    FLAG_WEAK_DISCRIMINATION: "weak discrimination",
    FLAG_NEGATIVE_DISCRIMINATION: "NEGATIVE discrimination",
    FLAG_UNUSED_DISTRACTOR: "unused distractor",
}


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def content_stats_report(session: Session, *, cohort_slug: str | None) -> str:
    """``integritas content stats``: ``item_analyses`` as plain text for content authors.
    Raises LookupError (with the message) for an unknown cohort or no synced content."""
    from app.cohorts.models import Cohort
    from app.curriculum.models import ContentVersion
    from app.curriculum.service import load_curriculum
    from app.exports import text_columns

    version = session.execute(select(func.max(ContentVersion.id))).scalar()
    if version is None:
        raise LookupError("No content is synced yet: run `integritas content sync` first.")
    users = None
    scope = "all participants"
    if cohort_slug is not None:
        cohort = session.execute(
            select(col(Cohort.id), col(Cohort.title)).where(col(Cohort.slug) == cohort_slug)
        ).first()
        if cohort is None:
            raise LookupError(f"No cohort with the slug {cohort_slug!r}.")
        users = cohort_participants(cohort[0])
        scope = f"cohort {cohort_slug} ({cohort[1]})"
    analyses, prepost = item_analyses(session, load_curriculum(session, version), users=users)
    out = [
        f"Item statistics on first attempts, {scope}, content version {version}.",
        f"facility: share answered right (flag below {TOO_HARD} or above {TOO_EASY}); "
        f"discrimination: item-rest correlation (flag below {WEAK_DISCRIMINATION}); "
        "efficiency: discrimination / its largest possible value. docs/item-analysis.md.",
    ]
    for quiz, a in analyses:
        out += [
            "",
            f"{quiz.title.get('id', quiz.slug)} ({quiz.slug}): {a.attempts} first attempt(s), "
            f"mean {_num(a.mean, 0)} %, SD {_num(a.sd, 1)}, alpha {_num(a.alpha)}, "
            f"SEM {_num(a.sem, 1)} points"
            + (f" — fewer than {SMALL_SAMPLE}: not stable yet" if a.small_sample else ""),
        ]
        if not a.items:
            continue
        rows = [("question", "rev", "n", "facility", "discr.", "effic.", "flags")]
        rows += [
            (
                i.slug,
                str(i.revision),
                str(i.n),
                _num(i.facility),
                _num(i.discrimination),
                _num(i.efficiency),
                ", ".join(FLAG_WORDS.get(f, f) for f in i.flags) or "–",
            )
            for i in a.items
        ]
        out += ["  " + line for line in text_columns(rows)]
    if prepost:
        out += ["", "Pre-test and post-test, facility before and after:"]
        table = [("question", "pre", "n", "post", "n", "change")]
        table += [
            (r.slug, _num(r.pre), str(r.n_pre), _num(r.post), str(r.n_post), _num(r.change))
            for r in prepost
        ]
        out += ["  " + line for line in text_columns(table)]
    return "\n".join(out)
