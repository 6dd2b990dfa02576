"""Item-writing rules: can a test-wise reader answer without reading?

``review_items(content)`` looks at every question file (a *pool*: one module's lesson checks,
one module quiz, the pre/post pool) and returns warnings and errors, each with file and line,
plus a summary per pool for ``integritas content check``. The thresholds are the fields of
``ItemRules``, in this one place.

The rules, and why:

- ``key-longest`` (warning; error for a pool): the key is the longest option by a clear margin
  (its Indonesian text ≥ ``key_ratio`` × the longest distractor). Readers learn that "the long,
  careful answer is right". More than ``key_pool_share`` of a pool's single-answer items is an
  error.
- ``key-positions`` (warning): a pool's keys sit at positions far from uniform — a chi-square
  test of the key positions of its single-answer items against the uniform share of each
  item's choices, at 5 %. Participants see quiz attempts and lesson checks shuffled, but the file
  order is what the facilitator's item review, printed copies and reviewers see.
- ``key-length-rank`` (warning): a pool's keys are far from evenly spread over the length
  ranks of their options (longest, second longest, …), by the same test — shortening every key
  to just below the longest distractor teaches "pick the second longest".
- ``true-false-balance`` (warning): a pool's true/false keys are outside ``true_share`` "Benar".
- ``multiple-same-count`` (warning): all multiple-answer items of a pool have the same number of
  correct choices (readers learn "pick three").
- ``absolute-word`` (warning): an absolute word ("selalu", "pasti", …) in a false statement (a
  true/false stem keyed "Salah", or a wrong choice) and in no true one of the same item.
- ``feedback-contradicts`` (error): a choice's feedback opens with a word that contradicts the key
  ("Benar." on a correct "Salah", "Kurang tepat." on the correct choice, "Tepat." on a wrong one).
- ``near-duplicate`` (error): a pre/post item whose stem and key are near-identical to a lesson
  check or a quiz item — seen there with explanations and unlimited retries, so the post-test
  would measure exposure. Similarity is rapidfuzz's ``token_set_ratio`` of stem + key text
  (lower case, punctuation removed), 0–100; ``near_duplicate`` (75) is the threshold. On the
  December 2026 content every pair the review named scored 78–90 and the closest unrelated
  pair 70.
- ``pool-coverage`` (error): the pre/post pool has fewer than ``min_per_value`` items tagged with a
  value or fewer than ``min_per_module`` tagged with a module.

An author may accept a *warning* on one item with a reason (``accept: {key-longest: "…"}`` in
the item); the check then lists it as accepted instead of warning. Errors cannot be accepted.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from rapidfuzz import fuzz, utils

from app.curriculum.content import Content, QuestionDoc
from app.exports import text_columns

# chi-square critical values at 5 % for 1–5 degrees of freedom (2–6 choices)
CHI2_05 = {1: 3.841, 2: 5.991, 3: 7.815, 4: 9.488, 5: 11.070}
WARNING_RULES = (
    "key-longest",
    "key-length-rank",
    "key-positions",
    "true-false-balance",
    "multiple-same-count",
    "absolute-word",
)


POOL_RULES = (
    "key-longest-pool",
    "key-positions",
    "key-length-rank",
    "true-false-balance",
    "multiple-same-count",
)


@dataclass(frozen=True)
class ItemRules:
    key_ratio: float = 1.3
    key_pool_share: float = 0.15
    true_share: tuple[float, float] = (0.40, 0.60)
    near_duplicate: float = 75.0
    min_per_value: int = 3
    min_per_module: int = 8
    min_pool_for_spread: int = 6  # fewer single-answer items: no position or balance test
    absolute_words: tuple[str, ...] = (
        "selalu",
        "pasti",
        "tidak pernah",
        "hanya",
        "apa pun",
        "apapun",
        "sama sekali",
        "tidak ada risikonya",
    )
    # openers of a feedback that says "right" / "wrong" (Indonesian and English)
    says_right: tuple[str, ...] = ("tepat", "benar", "betul", "correct", "right", "true")
    says_wrong: tuple[str, ...] = (
        "kurang tepat",
        "tidak tepat",
        "salah",
        "keliru",
        "not quite",
        "not right",
        "incorrect",
        "wrong",
        "false",
    )


@dataclass(frozen=True)
class Finding:
    file: Path
    line: int | None
    rule: str
    message: str
    error: bool
    accepted: str | None = None  # the author's reason, for an accepted warning

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        kind = "accepted" if self.accepted else "error" if self.error else "warning"
        text = f"{where}: {kind} [{self.rule}] {self.message}"
        return f"{text} — {self.accepted}" if self.accepted else text


@dataclass
class PoolShape:
    """What a pool looks like at a glance (one row of the summary table)."""

    name: str
    file: Path
    items: int = 0
    single: int = 0
    key_longest: int = 0
    positions: Counter = field(default_factory=Counter)
    positions_uniform: bool | None = None  # None: too few items to test
    length_ranks: Counter = field(default_factory=Counter)  # 1: the key is the longest option
    length_ranks_uniform: bool | None = None
    true_false: int = 0
    keyed_true: int = 0
    multiple_counts: Counter = field(default_factory=Counter)
    per_value: Counter = field(default_factory=Counter)
    per_module: Counter = field(default_factory=Counter)


@dataclass
class ItemReview:
    findings: list[Finding]
    pools: list[PoolShape]
    values: list[str]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.error]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if not f.error and not f.accepted]

    @property
    def accepted(self) -> list[Finding]:
        return [f for f in self.findings if f.accepted]

    def table(self) -> str:
        """The summary per pool, and the items per value, as plain text columns."""
        head = (
            "pool",
            "items",
            "single",
            "key longest",
            "key positions",
            "key length rank",
            "T/F Benar",
            "multi",
        )
        rows = [head]
        for p in self.pools:
            rows.append(
                (
                    p.name,
                    str(p.items),
                    str(p.single),
                    f"{p.key_longest} ({_pct(p.key_longest, p.single)})",
                    _spread(p.positions, p.positions_uniform),
                    _spread(p.length_ranks, p.length_ranks_uniform),
                    f"{p.keyed_true}/{p.true_false} ({_pct(p.keyed_true, p.true_false)})",
                    ",".join(f"{k}×{n}" for k, n in sorted(p.multiple_counts.items())) or "–",
                )
            )
        lines = text_columns(rows)
        lines.append("")
        value_rows = [("items per value", *(p.name for p in self.pools))]
        for v in self.values:
            value_rows.append((v, *(str(p.per_value[v]) for p in self.pools)))
        lines += text_columns(value_rows)
        return "\n".join(lines)


def _spread(counts: Counter, uniform: bool | None) -> str:
    text = " ".join(f"{k}:{counts[k]}" for k in sorted(counts)) or "–"
    return text + " (!)" if uniform is False else text


def _pct(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)} %" if whole else "–"


def _pools(content: Content) -> list[tuple[str, Path | None, list[QuestionDoc]]]:
    pools = []
    for n, m in enumerate(content.modules, 1):
        pools.append((f"m{n} checks", m.checks[0].file if m.checks else None, m.checks))
        pools.append((f"m{n} quiz", m.quiz[0].file if m.quiz else None, m.quiz))
    pools.append(
        ("pre/post", content.prepost[0].file if content.prepost else None, content.prepost)
    )
    return pools


def _key_position(q: QuestionDoc) -> int:
    return next(i for i, c in enumerate(q.data.choices) if c.correct)


def _length_rank(q: QuestionDoc) -> int:
    """0 when the key is the longest option, 1 the second longest, … (ties: file order)."""
    lengths = sorted(
        ((-len(c.text.id), i, c.correct) for i, c in enumerate(q.data.choices)),
    )
    return next(rank for rank, (_, _, correct) in enumerate(lengths) if correct)


def _ordinal(n: int) -> str:
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n, 'th') }"


def _key_text(q: QuestionDoc) -> str:
    return " ".join(c.text.id for c in q.data.choices if c.correct)


def _words(words: tuple[str, ...], text: str) -> list[str]:
    low = text.lower()
    return [w for w in words if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", low)]


def _opens_with(text: str, openers: tuple[str, ...]) -> str | None:
    low = text.strip().lower()
    for opener in sorted(openers, key=len, reverse=True):
        if re.match(rf"{re.escape(opener)}(?!\w)", low):
            return opener
    return None


class _Reviewer:
    def __init__(self, rules: ItemRules) -> None:
        self.rules = rules
        self.findings: list[Finding] = []

    def add(self, q: QuestionDoc | None, file: Path, line: int | None, rule: str, msg: str) -> None:
        error = rule not in WARNING_RULES
        reason = None if error or q is None else q.data.accept.get(rule)
        self.findings.append(Finding(file, line, rule, msg, error, reason))

    # ---------------------------------------------------------------- one item

    def item(self, q: QuestionDoc, shape: PoolShape) -> None:
        d, r = q.data, self.rules
        shape.items += 1
        shape.per_module[d.tags.module] += 1
        for v in dict.fromkeys(d.tags.values):
            shape.per_value[v] += 1
        keys = [i for i, c in enumerate(d.choices) if c.correct]
        if d.type == "single":
            shape.single += 1
            shape.positions[keys[0] + 1] += 1
            shape.length_ranks[_length_rank(q) + 1] += 1
            key = len(d.choices[keys[0]].text.id)
            longest = max(len(c.text.id) for c in d.choices if not c.correct)
            if key >= r.key_ratio * longest:
                shape.key_longest += 1
                self.add(
                    q,
                    q.file,
                    q.line_at("choices", keys[0]),
                    "key-longest",
                    f"{d.slug}: the key is {key / longest:.1f}× as long as the longest "
                    f"distractor ({key} vs {longest} characters)",
                )
        elif d.type == "true_false":
            shape.true_false += 1
            shape.keyed_true += d.choices[keys[0]].text.id == "Benar"
        else:
            shape.multiple_counts[len(keys)] += 1
        self.absolute(q)
        self.feedback(q)

    def absolute(self, q: QuestionDoc) -> None:
        d, words = q.data, self.rules.absolute_words
        false_texts: list[tuple[str, tuple]] = []
        true_texts: list[str] = []
        if d.type == "true_false":
            if next(c for c in d.choices if c.correct).text.id == "Benar":
                true_texts.append(d.text.id)
            else:
                false_texts.append((d.text.id, ("text",)))
        else:
            for i, c in enumerate(d.choices):
                if c.correct:
                    true_texts.append(c.text.id)
                else:
                    false_texts.append((c.text.id, ("choices", i)))
        in_true = {w for t in true_texts for w in _words(words, t)}
        for text, loc in false_texts:
            cues = [w for w in _words(words, text) if w not in in_true]
            if cues:
                self.add(
                    q,
                    q.file,
                    q.line_at(*loc),
                    "absolute-word",
                    f"{d.slug}: {', '.join(repr(w) for w in cues)} in a false statement "
                    "(readers learn that absolute claims are wrong)",
                )

    def feedback(self, q: QuestionDoc) -> None:
        d, r = q.data, self.rules
        for i, c in enumerate(d.choices):
            for text in (c.feedback.id, c.feedback.en):
                if not text:
                    continue
                openers = r.says_wrong if c.correct else r.says_right
                if c.correct and d.type == "true_false" and c.text.id == "Salah":
                    # "Salah." may open the right answer "Salah"; "Benar." may not
                    openers = tuple(o for o in r.says_wrong if o not in ("salah", "false")) + (
                        "benar",
                        "betul",
                        "true",
                    )
                opener = _opens_with(text, openers)
                if opener is None:
                    continue
                what = "the correct choice" if c.correct else "a wrong choice"
                self.add(
                    q,
                    q.file,
                    q.line_at("choices", i, "feedback"),
                    "feedback-contradicts",
                    f"{d.slug}: the feedback of {what} ({c.text.id!r}) begins with "
                    f"{text.strip()[: len(opener)]!r}",
                )

    # ---------------------------------------------------------------- one pool

    def pool(self, name: str, file: Path | None, items: list[QuestionDoc]) -> PoolShape:
        shape = PoolShape(name, file or Path("?"))
        for q in items:
            self.item(q, shape)
        if file is None:
            return shape
        r = self.rules

        def first(kind: str) -> int | None:  # a pool's finding points at its first such item
            return next((q.line for q in items if q.data.type == kind), items[0].line)

        if shape.single and shape.key_longest / shape.single > r.key_pool_share:
            self.add(
                None,
                file,
                first("single"),
                "key-longest-pool",
                f"{name}: the key is clearly the longest option in {shape.key_longest} of "
                f"{shape.single} single-answer items ({_pct(shape.key_longest, shape.single)}; "
                f"at most {round(100 * r.key_pool_share)} %)",
            )
        singles = [q for q in items if q.data.type == "single"]
        if len(singles) >= r.min_pool_for_spread:
            spreads = (
                ("key-positions", _key_position, "positions", lambda k: f"position {k}",
                 "the keys' positions are far from even ({})"),
                ("key-length-rank", _length_rank, "length_ranks", _ordinal,
                 "the keys' lengths among their options are far from even (longest = 1st; {})"
                 " — readers learn which length to pick"),
            )  # fmt: skip
            for rule, place, attr, label, message in spreads:
                uniform = self.uniform(singles, place)
                setattr(shape, f"{attr}_uniform", uniform)
                if not uniform:
                    counts = getattr(shape, attr)
                    spread = ", ".join(f"{label(k)}: {counts[k]}" for k in sorted(counts))
                    self.add(None, file, first("single"), rule, f"{name}: {message.format(spread)}")
        low, high = r.true_share
        if shape.true_false >= 3 and not (low <= shape.keyed_true / shape.true_false <= high):
            self.add(
                None,
                file,
                first("true_false"),
                "true-false-balance",
                f"{name}: {shape.keyed_true} of {shape.true_false} true/false items are keyed "
                f"'Benar' ({_pct(shape.keyed_true, shape.true_false)}; keep "
                f"{round(100 * low)}–{round(100 * high)} %)",
            )
        multiple = sum(shape.multiple_counts.values())
        if multiple >= 3 and len(shape.multiple_counts) == 1:
            (count,) = shape.multiple_counts
            self.add(
                None,
                file,
                first("multiple"),
                "multiple-same-count",
                f"{name}: all {multiple} multiple-answer items have {count} correct choices",
            )
        return shape

    def uniform(self, singles: list[QuestionDoc], place: Callable[[QuestionDoc], int]) -> bool:
        """Chi-square of where the keys are (``place``: 0 … choices − 1) against each item's
        own uniform share."""
        observed: Counter[int] = Counter()
        expected: dict[int, float] = {}
        for q in singles:
            n = len(q.data.choices)
            observed[place(q)] += 1
            for i in range(n):
                expected[i] = expected.get(i, 0.0) + 1 / n
        chi2 = sum((observed[i] - e) ** 2 / e for i, e in expected.items())
        df = min(max(len(expected) - 1, 1), max(CHI2_05))
        return chi2 <= CHI2_05[df]

    # ---------------------------------------------------------------- across pools

    def duplicates(self, content: Content) -> None:
        instruction = [q for m in content.modules for q in (*m.checks, *m.quiz)]
        seen = [(q, utils.default_process(f"{q.data.text.id} {_key_text(q)}")) for q in instruction]
        for pp in content.prepost:
            mine = utils.default_process(f"{pp.data.text.id} {_key_text(pp)}")
            best, score = None, 0.0
            for q, text in seen:
                s = fuzz.token_set_ratio(mine, text)
                if s > score:
                    best, score = q, s
            if best is not None and score >= self.rules.near_duplicate:
                self.add(
                    pp,
                    pp.file,
                    pp.line,
                    "near-duplicate",
                    f"{pp.data.slug}: near-identical to {best.data.slug} "
                    f"({best.file}:{best.line}; similarity {score:.0f} ≥ "
                    f"{self.rules.near_duplicate:.0f}) — test the idea in a new scenario",
                )

    def coverage(self, content: Content, shape: PoolShape) -> None:
        r = self.rules
        for v in content.values:
            n = shape.per_value[v.slug]
            if n < r.min_per_value:
                self.add(
                    None,
                    shape.file,
                    content.prepost[0].line,
                    "pool-coverage",
                    f"pre/post: {n} item(s) tagged with the value {v.slug!r} "
                    f"(at least {r.min_per_value})",
                )
        for m in content.modules:
            n = shape.per_module[m.data.slug]
            if n < r.min_per_module:
                self.add(
                    None,
                    shape.file,
                    content.prepost[0].line,
                    "pool-coverage",
                    f"pre/post: {n} item(s) on the module {m.data.slug!r} "
                    f"(at least {r.min_per_module})",
                )


def review_items(content: Content, rules: ItemRules | None = None) -> ItemReview:
    reviewer = _Reviewer(rules or ItemRules())
    pools = _pools(content)
    shapes = [reviewer.pool(name, file, items) for name, file, items in pools]
    # all pools together, as a participant meets them over the course: the pool-level rules
    # again (the items' own findings are already there)
    everything = [q for _, _, items in pools for q in items]
    if everything:
        kept, reviewer.findings = reviewer.findings, []
        root = everything[0].file.parent.parent if content.modules else everything[0].file.parent
        shapes.append(reviewer.pool("all", root, everything))
        reviewer.findings = kept + [
            replace(f, line=None) for f in reviewer.findings if f.rule in POOL_RULES
        ]
    reviewer.duplicates(content)
    if content.prepost:
        reviewer.coverage(content, shapes[len(pools) - 1])
    for q in (q for _, _, items in _pools(content) for q in items):
        for rule in q.data.accept:
            if rule not in WARNING_RULES:
                reviewer.findings.append(
                    Finding(
                        q.file,
                        q.line_at("accept"),
                        "accept",
                        f"{q.data.slug}: {rule!r} is not a warning that can be accepted "
                        f"(one of: {', '.join(WARNING_RULES)})",
                        True,
                    )
                )
    order = {f: n for n, f in enumerate(reviewer.findings)}
    findings = sorted(reviewer.findings, key=lambda f: (str(f.file), f.line or 0, order[f]))
    return ItemReview(findings, shapes, [v.slug for v in content.values])
