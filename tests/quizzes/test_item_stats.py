"""Item analysis (``app.quizzes.stats.quiz_analysis``) against numbers computed by hand.

A pre-test of five questions, answered by the six participants of a cohort (first attempts):

    item score          Q1   Q2   Q3   Q4    Q5    total t   percent = 100·t/5
    P1 (c1 official)     1    1    0   1      1    4         80
    P2 (c1 spouse)       1    1    0   0.75   1    3.75      75
    P3 (c2 official)     1    1    0   0.75   0    2.75      55
    P4 (c2 spouse)       1    0    0   0.5    1    2.5       50
    P5 (c3 official)     1    0    0   0.25   0    1.25      25
    P6 (c3 spouse)       1    0    1   0      0    2         40

Q1 everybody gets right; Q3 only the weakest participant gets right (negative discrimination);
Q4 is a multiple-answer question (A and B correct of A–D) scored with partial credit: the share
of the four pick/leave decisions that are right. Each question's choices are picked as in
``ANSWERS`` below, and the builder checks every item score against ``score_item``.

Besides: P1's second attempt, a first attempt never submitted, and a participant of another
cohort, none of which may count for the cohort.

Variances are sample variances (divided by n − 1 = 5), as Moodle computes them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import null, union, update

from app.curriculum.models import Choice, Module, Question, Quiz
from app.learning.selectors import cohort_participants
from app.quizzes.models import AttemptItem, QuizAttempt
from app.quizzes.scoring import attempt_percent, score_item
from app.quizzes.stats import (
    FLAG_NEGATIVE_DISCRIMINATION,
    FLAG_TOO_EASY,
    FLAG_TOO_HARD,
    FLAG_UNUSED_DISTRACTOR,
    FLAG_WEAK_DISCRIMINATION,
    ChoiceStats,
    PrePost,
    item_flags,
    prepost_facility,
    prepost_rows,
    quiz_analysis,
)
from tests.factories import make_cohort, make_couple

NOW = datetime(2026, 3, 1, tzinfo=UTC)

# question slug: (type, choices as (letter, correct))
QUESTIONS = {
    "q1": ("single", [("A", True), ("B", False), ("C", False)]),
    "q2": ("single", [("A", True), ("B", False), ("C", False)]),
    "q3": ("single", [("A", True), ("B", False), ("C", False)]),
    "q4": ("multiple", [("A", True), ("B", True), ("C", False), ("D", False)]),
    "q5": ("true_false", [("A", True), ("B", False)]),
}
QUESTIONS_CORRECT = {slug: dict(choices) for slug, (_, choices) in QUESTIONS.items()}
# P1..P6 on the pre-test, per question: (the letters picked, the item score that gives);
# unanswered is stored as JSON null (None) or as SQL NULL ("")
ANSWERS = [
    [("A", 1), ("A", 1), ("B", 0), ("AB", 1.0), ("A", 1)],
    [("A", 1), ("A", 1), ("B", 0), ("A", 0.75), ("A", 1)],  # q4: A✓ B✗ C✓ D✓ = 3/4
    [("A", 1), ("A", 1), (None, 0), ("ABC", 0.75), ("B", 0)],  # q3 JSON null; q4: C✗ = 3/4
    [("A", 1), ("B", 0), ("B", 0), ("BC", 0.5), ("A", 1)],  # q4: A✗ B✓ C✗ D✓ = 2/4
    [("A", 1), ("B", 0), ("", 0), ("C", 0.25), ("B", 0)],  # q3 SQL NULL; q4: only D✓ = 1/4
    [("A", 1), ("C", 0), ("A", 1), ("CD", 0.0), ("B", 0)],  # q4: every decision wrong
]


@pytest.fixture
def bank(db):
    """A module, a pre-test and a post-test that ask the same five questions."""
    with db.write() as session:
        module = Module(
            slug="m", position=1, phase="before", title={"id": "M"}, summary={}, discussion=[]
        )
        session.add(module)
        session.flush()
        quizzes = {}
        for kind in ("pre", "post"):
            quiz = Quiz(slug=f"{kind}-test", kind=kind, title={"id": kind, "en": kind.title()})
            session.add(quiz)
            quizzes[kind] = quiz
        questions = {}
        for position, (slug, (kind, choices)) in enumerate(QUESTIONS.items(), 1):
            question = Question(
                slug=slug,
                pool="prepost",
                module_id=module.id,
                position=position,
                type=kind,
                text={"id": f"Soal {slug}?", "en": f"Question {slug}?"},
                explanation={},
                source="-",
                digest=slug,
            )
            session.add(question)
            session.flush()
            ids = {}
            for n, (letter, correct) in enumerate(choices, 1):
                choice = Choice(
                    question_id=question.id,
                    position=n,
                    text={"id": f"{slug}{letter}"},
                    feedback={},
                    correct=correct,
                )
                session.add(choice)
                session.flush()
                ids[letter] = choice.id
            questions[slug] = SimpleNamespace(id=question.id, type=kind, choices=ids)
        session.flush()
        return SimpleNamespace(pre=quizzes["pre"].id, post=quizzes["post"].id, questions=questions)


def add_attempt(db, bank, user, answers, *, quiz="pre", number=1, submitted=True):
    """One attempt: ``answers`` per question in QUESTIONS order, (letters or None, score)."""
    with db.write() as session:
        scores = []
        picks = []
        for slug, (letters, expected) in zip(QUESTIONS, answers, strict=True):
            q = bank.questions[slug]
            correct = [cid for letter, cid in q.choices.items() if QUESTIONS_CORRECT[slug][letter]]
            selected = None if letters is None or letters == "" else [q.choices[c] for c in letters]
            assert score_item(q.type, list(q.choices.values()), correct, selected or []) == expected
            scores.append(expected)
            picks.append((q.id, letters, selected))
        percent = attempt_percent(scores)
        attempt = QuizAttempt(
            user_id=user.id,
            quiz_id=bank.pre if quiz == "pre" else bank.post,
            number=number,
            seed=1,
            started_at=NOW,
            submitted_at=NOW if submitted else None,
            score=percent if submitted else None,
            passed=None,
        )
        session.add(attempt)
        session.flush()
        for position, ((qid, letters, selected), s) in enumerate(
            zip(picks, scores, strict=True), 1
        ):
            item = AttemptItem(
                attempt_id=attempt.id,
                question_id=qid,
                position=position,
                selected=selected,
                score=s if submitted else None,
            )
            session.add(item)
            session.flush()
            if letters == "":  # an answer that is SQL NULL rather than JSON null
                session.execute(
                    update(AttemptItem).where(AttemptItem.id == item.id).values(selected=null())
                )
        return attempt


@pytest.fixture
def cohorts(db, settings, bank):
    cohort = make_cohort(db, "uji")
    other = make_cohort(db, "lain")
    people = [p for code in ("c1", "c2", "c3") for p in make_couple(db, settings, cohort, code)]
    late, _ = make_couple(db, settings, cohort, "c4")
    stranger, _ = make_couple(db, settings, other, "c9")
    for person, answers in zip(people, ANSWERS, strict=True):
        add_attempt(db, bank, person, answers)
    # P1 again, every answer wrong: not a first attempt
    add_attempt(
        db, bank, people[0], [("B", 0), ("B", 0), ("B", 0), ("CD", 0.0), ("B", 0)], number=2
    )
    # a first attempt in progress: not submitted
    add_attempt(db, bank, late, ANSWERS[0], submitted=False)
    # another cohort: answers as P1 (80)
    add_attempt(db, bank, stranger, ANSWERS[0])
    return SimpleNamespace(cohort=cohort, other=other, people=people, stranger=stranger)


def analysis(db, bank, users):
    with db.read() as session:
        return quiz_analysis(session, quiz_id=bank.pre, users=users)


def test_the_score_distribution_by_hand(db, bank, cohorts):
    result = analysis(db, bank, cohort_participants(cohorts.cohort.id))
    # first attempts of the cohort: six (not P1's second, not the unsubmitted, not the stranger)
    assert result.attempts == 6
    assert result.small_sample is True  # 6 < 10
    # mean = (80 + 75 + 55 + 50 + 25 + 40) / 6 = 325 / 6
    assert result.mean == pytest.approx(325 / 6)
    # sorted 25 40 50 55 75 80: the two middle ones (50 + 55) / 2
    assert result.median == pytest.approx(52.5)
    # Σscore² = 6400 + 5625 + 3025 + 2500 + 625 + 1600 = 19775; 325² / 6 = 17604.1667
    # SD = √((19775 − 17604.1667) / 5) = √434.1667 = 20.8367
    assert result.sd == pytest.approx(20.8367, abs=1e-4)
    # variance of the totals t = 434.1667 / 20² = 1.0854167 (the percent is 20·t)
    # item variances: q1 0; q2 (3 − 3²/6)/5 = 0.3; q3 (1 − 1/6)/5 = 1/6;
    #   q4 Σx = 3.25, Σx² = 2.4375: (2.4375 − 3.25²/6)/5 = 0.1354167; q5 0.3
    #   Σ = 0.9020833
    # α = 5/4 · (1 − 0.9020833 / 1.0854167) = 1.25 · 0.168906 = 0.211132
    assert result.alpha == pytest.approx(0.211132, abs=1e-5)
    # SEM = SD · √(1 − α) = 20.8367 · √0.788868 = 20.8367 · 0.888183 = 18.5068
    assert result.sem == pytest.approx(18.5068, abs=1e-4)


def test_every_item_by_hand(db, bank, cohorts):
    items = analysis(db, bank, cohort_participants(cohorts.cohort.id)).items
    assert [(i.slug, i.revision, i.position, i.n) for i in items] == [
        (f"q{n}", 1, n, 6) for n in range(1, 6)
    ]
    q1, q2, q3, q4, q5 = items
    assert q1.text == {"id": "Soal q1?", "en": "Question q1?"} and q4.type == "multiple"

    # q1: everybody right. p = 1, SD 0; neither the correlation nor the efficiency exists
    assert (q1.facility, q1.sd, q1.discrimination, q1.efficiency) == (1.0, 0.0, None, None)
    assert q1.flags == (FLAG_TOO_EASY,)

    # q2: x = 1 1 1 0 0 0, rest r = t − x = 3 2.75 1.75 2.5 1.25 2 (Σr = 13.25)
    # cov = Σ(x − ½)(r − r̄)/5 = ½·((3 + 2.75 + 1.75) − (2.5 + 1.25 + 2))/5 = 0.875/5 = 0.175
    # var r = (Σr² − Σr²/6)/5 = (31.4375 − 29.260417)/5 = 0.4354167
    # discrimination = 0.175 / √(0.3 · 0.4354167) = 0.175 / 0.361421 = 0.48420
    # largest covariance: both sorted, x 0 0 0 1 1 1 against r 1.25 1.75 2 2.5 2.75 3:
    #   ½·((2.5 + 2.75 + 3) − (1.25 + 1.75 + 2))/5 = 1.625/5 = 0.325; efficiency 0.175/0.325
    assert q2.facility == pytest.approx(0.5)
    assert q2.sd == pytest.approx(0.3**0.5)
    assert q2.discrimination == pytest.approx(0.48420, abs=1e-5)
    assert q2.efficiency == pytest.approx(7 / 13)
    assert q2.flags == ()

    # q3: x = 0 0 0 0 0 1 (only P6), r = 4 3.75 2.75 2.5 1.25 1 (Σr = 15.25, r̄ = 2.541667)
    # cov = (1 − 1/6)·(1 − r̄)/5 + Σ over the rest … = (r₆ − r̄)/5 = (1 − 2.541667)/5 = −0.308333
    # var r = (46.4375 − 15.25²/6)/5 = (46.4375 − 38.760417)/5 = 1.5354167
    # discrimination = −0.308333 / √(1/6 · 1.5354167) = −0.308333 / 0.505869 = −0.60951
    # largest covariance: the one 1 against the largest rest, 4: (4 − 2.541667)/5 = 0.291667
    # efficiency = −0.308333 / 0.291667 = −37/35 (a negative item can fall below −1)
    assert q3.facility == pytest.approx(1 / 6)
    assert q3.sd == pytest.approx((1 / 6) ** 0.5)
    assert q3.discrimination == pytest.approx(-0.60951, abs=1e-5)
    assert q3.efficiency == pytest.approx(-37 / 35)
    assert q3.flags == (FLAG_TOO_HARD, FLAG_NEGATIVE_DISCRIMINATION)

    # q4 (partial credit): x = 1 .75 .75 .5 .25 0 (Σx = 3.25), r = 3 3 2 2 1 2 (Σr = 13)
    # Σxr = 3 + 2.25 + 1.5 + 1 + .25 + 0 = 8; cov = (8 − 3.25·13/6)/5 = 0.958333/5 = 0.191667
    # var x = 0.1354167 (above); var r = (31 − 13²/6)/5 = 0.5666667
    # discrimination = 0.191667 / √(0.1354167 · 0.5666667) = 0.191667 / 0.277013 = 0.69191
    # sorted: x 0 .25 .5 .75 .75 1 · r 1 2 2 2 3 3 → Σ = 8.25: (8.25 − 7.041667)/5 = 0.241667
    # efficiency = 0.958333 / 1.208333 = 23/29
    assert q4.facility == pytest.approx(3.25 / 6)
    assert q4.sd == pytest.approx(0.1354167**0.5, abs=1e-6)
    assert q4.discrimination == pytest.approx(0.69191, abs=1e-5)
    assert q4.efficiency == pytest.approx(23 / 29)
    assert q4.flags == ()

    # q5: x = 1 1 0 1 0 0, r = 3 2.75 2.75 1.5 1.25 2 (Σr = 13.25)
    # cov = ½·((3 + 2.75 + 1.5) − (2.75 + 1.25 + 2))/5 = 0.125
    # var r = (31.9375 − 29.260417)/5 = 0.5354167; discrimination = 0.125/√0.160625 = 0.31189
    # sorted r 1.25 1.5 2 2.75 2.75 3: ½·(8.5 − 4.75)/5 = 0.375; efficiency 1/3
    assert q5.discrimination == pytest.approx(0.31189, abs=1e-5)
    assert q5.efficiency == pytest.approx(1 / 3)


def test_the_choice_distribution(db, bank, cohorts):
    items = analysis(db, bank, cohort_participants(cohorts.cohort.id)).items
    by_slug = {i.slug: i for i in items}

    def picked(slug):
        return [(c.text["id"], c.correct, c.picked) for c in by_slug[slug].choices]

    assert picked("q1") == [("q1A", True, 6), ("q1B", False, 0), ("q1C", False, 0)]
    assert picked("q2") == [("q2A", True, 3), ("q2B", False, 2), ("q2C", False, 1)]
    # P3 answered JSON null, P5 SQL NULL: neither picked anything
    assert picked("q3") == [("q3A", True, 1), ("q3B", False, 3), ("q3C", False, 0)]
    # A: P1 P2 P3 · B: P1 P3 P4 · C: P3 P4 P5 P6 · D: P6
    assert picked("q4") == [
        ("q4A", True, 3),
        ("q4B", True, 3),
        ("q4C", False, 4),
        ("q4D", False, 1),
    ]
    shares = [c.share for c in by_slug["q4"].choices]
    assert shares == pytest.approx([3 / 6, 3 / 6, 4 / 6, 1 / 6])
    assert [c.position for c in by_slug["q4"].choices] == [1, 2, 3, 4]
    # six answers are too few to call q3's unpicked C a useless distractor
    assert FLAG_UNUSED_DISTRACTOR not in by_slug["q3"].flags


def test_scope_first_attempts_and_several_cohorts(db, bank, cohorts):
    everybody = analysis(db, bank, None)
    both = analysis(
        db,
        bank,
        union(cohort_participants(cohorts.cohort.id), cohort_participants(cohorts.other.id)),
    )
    other = analysis(db, bank, cohort_participants(cohorts.other.id))
    # + the stranger's attempt (as P1: 80); still not P1's second or the unsubmitted one
    assert everybody.attempts == both.attempts == 7
    assert everybody.mean == pytest.approx((325 + 80) / 7)
    assert everybody.median == pytest.approx(55.0)  # 25 40 50 [55] 75 80 80
    assert both.items[1].facility == pytest.approx(4 / 7)  # q2: 3 of 6 plus the stranger
    assert both.items[1].choices[0].picked == 4
    # one person: a mean and a median, no spread and no reliability
    assert (other.attempts, other.mean, other.median) == (1, 80.0, 80.0)
    assert (other.sd, other.alpha, other.sem) == (None, None, None)
    assert all(i.sd is None and i.discrimination is None for i in other.items)


def test_nobody_yet(db, bank, cohorts):
    with db.read() as session:
        empty = quiz_analysis(session, quiz_id=bank.post, users=None)
    assert (empty.attempts, empty.mean, empty.median, empty.items) == (0, None, None, [])
    assert empty.small_sample


def test_flags_and_their_thresholds():
    def choices(*picked):
        return [ChoiceStats(n, n, {}, n == 1, p, 0.0) for n, p in enumerate(picked, 1)]

    # just inside every threshold: nothing to say
    assert item_flags(facility=0.9, discrimination=0.2, n=30, choices=choices(20, 5, 5)) == ()
    assert item_flags(facility=0.2, discrimination=None, n=3, choices=choices(1, 2)) == ()
    assert item_flags(facility=0.91, discrimination=0.1, n=9, choices=choices(9, 0)) == (
        FLAG_TOO_EASY,
        FLAG_WEAK_DISCRIMINATION,
    )
    assert item_flags(facility=0.19, discrimination=-0.01, n=9, choices=choices(2, 7)) == (
        FLAG_TOO_HARD,
        FLAG_NEGATIVE_DISCRIMINATION,
    )
    # a wrong choice nobody picked counts from ten answers on; an unpicked right one does not
    assert item_flags(facility=0.5, discrimination=0.5, n=10, choices=choices(5, 5, 0)) == (
        FLAG_UNUSED_DISTRACTOR,
    )
    assert item_flags(facility=0.0, discrimination=None, n=10, choices=choices(0, 5, 5)) == (
        FLAG_TOO_HARD,
    )


def test_prepost_facility_before_and_after(db, bank, cohorts):
    p1, p2, p3, p4, _, _ = cohorts.people
    after = [
        [("A", 1), ("A", 1), ("A", 1), ("AB", 1.0), ("A", 1)],
        [("A", 1), ("A", 1), ("A", 1), ("AB", 1.0), ("B", 0)],
        [("A", 1), ("A", 1), ("B", 0), ("ABC", 0.75), ("A", 1)],
        [("A", 1), ("A", 1), ("C", 0), ("BC", 0.5), ("A", 1)],
    ]
    for person, answers in zip((p1, p2, p3, p4), after, strict=True):
        add_attempt(db, bank, person, answers, quiz="post")
    add_attempt(db, bank, cohorts.stranger, ANSWERS[5], quiz="post")  # another cohort
    with db.read() as session:
        result = prepost_facility(session, users=cohort_participants(cohorts.cohort.id))
        everybody = prepost_facility(session, users=None)
    assert list(result) == ["q1", "q2", "q3", "q4", "q5"]
    assert result["q1"] == PrePost(1.0, 6, 1.0, 4)
    assert result["q2"] == pytest.approx(PrePost(3 / 6, 6, 4 / 4, 4))
    assert result["q3"] == pytest.approx(PrePost(1 / 6, 6, 2 / 4, 4))
    # q4 before: (1 + .75 + .75 + .5 + .25 + 0)/6; after: (1 + 1 + .75 + .5)/4
    assert result["q4"] == pytest.approx(PrePost(3.25 / 6, 6, 3.25 / 4, 4))
    assert result["q5"] == pytest.approx(PrePost(3 / 6, 6, 3 / 4, 4))
    # the stranger: pre as P1 (q2 right), post as P6 (q2 wrong)
    assert everybody["q2"] == pytest.approx(PrePost(4 / 7, 7, 4 / 5, 5))

    rows = prepost_rows(result, [analysis(db, bank, None)])
    assert [(r.slug, r.text["en"], r.n_pre, r.n_post) for r in rows][0] == (
        "q1",
        "Question q1?",
        6,
        4,
    )
    assert rows[2].change == pytest.approx(2 / 4 - 1 / 6)
    assert prepost_rows({"x": PrePost(None, 0, 0.5, 2)})[0].change is None


def test_statements_do_not_grow_with_participants(db, settings, bank, count_queries):
    """5 and 50 participants: the same statements, three for the analysis, one for pre/post."""
    counts = []
    for slug, size in (("kecil", 5), ("besar", 50)):
        cohort = make_cohort(db, slug)
        people = [
            p
            for n in range((size + 1) // 2)
            for p in make_couple(db, settings, cohort, f"{slug}{n}")
        ][:size]
        for n, person in enumerate(people):
            add_attempt(db, bank, person, ANSWERS[n % 6])
            add_attempt(db, bank, person, ANSWERS[(n + 1) % 6], quiz="post")
        users = cohort_participants(cohort.id)
        with db.read() as session, count_queries() as counter:
            result = quiz_analysis(session, quiz_id=bank.pre, users=users)
            prepost = prepost_facility(session, users=users)
        assert result.attempts == size and prepost["q1"].n_post == size
        counts.append(counter.count)
    assert counts == [4, 4]


def test_the_page_renders_the_analysis(db, bank, cohorts, settings):
    """templates/facilitator/items.html: facts, flags in words, the choice bars (SVG widths,
    no inline style), the small-sample note and the before/after table."""
    from app.i18n import pick
    from app.web import make_templates, template_gettext

    users = cohort_participants(cohorts.cohort.id)
    with db.read() as session:
        pre = quiz_analysis(session, quiz_id=bank.pre, users=users)
        post = quiz_analysis(session, quiz_id=bank.post, users=users)
        prepost = prepost_facility(session, users=users)
    gettext, ngettext = template_gettext("en")
    html = (
        make_templates(settings)
        .get_template("facilitator/items.html")
        .render(
            request=SimpleNamespace(url=SimpleNamespace(path="/x")),
            user=None,
            locale="en",
            _=gettext,
            gettext=gettext,
            ngettext=ngettext,
            csrf_token="t",
            pick=lambda text: pick(text, "en"),
            quiz_title=lambda quiz: pick(quiz.title, "en"),
            cohort=SimpleNamespace(title="Angkatan uji", slug="uji"),
            title="Question quality",
            analyses=[
                (SimpleNamespace(title={"id": "Pra", "en": "Pre-test"}), pre),
                (SimpleNamespace(title={"id": "Pasca", "en": "Post-test"}), post),
            ],
            prepost_rows=prepost_rows(prepost, [pre]),
        )
    )
    main = html.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    assert "style=" not in main and "<script" not in main
    assert "Pre-test" in main and "Question q3?" in main and "52.5" in main
    assert "Fewer than 10 participants: the numbers are not stable yet." in main
    assert "Too easy: almost everybody answers it right." in main
    assert "Negative discrimination" in main and "<details" in main
    # q4's choice C: 4 of 6, a bar two thirds wide; the correct choices are marked
    assert 'width="66.7"' in main and "q4C" in main
    assert main.count('class="tag"') >= 6  # q1–q3 and q5 one each, q4 two
    assert "Nobody has taken this quiz yet." in main  # the post-test


def test_content_stats_prints_the_same_analysis_for_authors(db, bank, cohorts, monkeypatch):
    """``integritas content stats``: the facilitator's numbers, per cohort or for everybody."""
    from typer.testing import CliRunner

    from app import cli
    from app.curriculum.models import ContentVersion

    monkeypatch.setattr(cli, "_database", lambda: db)
    runner = CliRunner()
    assert runner.invoke(cli.app, ["content", "stats"]).exit_code == 1  # nothing synced yet
    with db.write() as session:
        session.add(ContentVersion(digest="x"))

    result = runner.invoke(cli.app, ["content", "stats", "--cohort", "uji"])
    assert result.exit_code == 0, result.output
    items, prepost = result.output.split("Pre-test and post-test, facility before and after:")
    lines = [line.split() for line in items.splitlines()]
    assert "cohort uji" in result.output
    assert ["pre", "(pre-test):", "6", "first", "attempt(s),"] == lines[3][:5]
    rows = {line[0]: line[1:] for line in lines if line and line[0].startswith("q")}
    # the hand-computed figures of test_every_item_by_hand, as printed
    assert rows["q1"] == ["1", "6", "1.00", "–", "–", "too", "easy"]
    assert rows["q2"] == ["1", "6", "0.50", "0.48", "0.54", "–"]
    assert rows["q3"] == [
        "1",
        "6",
        "0.17",
        "-0.61",
        "-1.06",
        "too",
        "hard,",
        "NEGATIVE",
        "discrimination",
    ]
    assert "fewer than 10: not stable yet" in result.output
    before_after = {line.split()[0]: line.split()[1:] for line in prepost.splitlines()[2:]}
    assert before_after["q2"] == ["0.50", "6", "–", "0", "–"]  # nobody took the post-test

    everybody = runner.invoke(cli.app, ["content", "stats"])
    assert "7 first attempt(s)" in everybody.output  # the other cohort's participant too

    unknown = runner.invoke(cli.app, ["content", "stats", "--cohort", "nowhere"])
    assert unknown.exit_code == 1 and "No cohort with the slug 'nowhere'." in unknown.output
