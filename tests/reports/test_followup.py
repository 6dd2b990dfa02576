"""The follow-ups over many cohorts (``app.followup.service``'s sums per cohort) equal the
one-cohort functions the facilitator's report uses, and the KPK figures made of them: hand
computed, small cells suppressed with their complements, a filter that singles out a few
refused, and no text a person wrote."""

from __future__ import annotations

import random
from datetime import date

import pytest

from app.db import saved_id
from app.followup.service import (
    checkin_counts,
    checkin_summary,
    retention_summary,
    retention_sums,
    survey_counts,
    survey_of_counts,
    survey_summary,
    survey_text,
)
from app.reports import service
from app.reports.suppression import Reason
from tests.factories import make_cohort, make_couple
from tests.reports.followup_data import add_plan, add_scores, add_survey, answers, partners

K = 5


def _cohorts(db, settings, spec):
    out = {}
    for slug, day, couples in spec:
        cohort = make_cohort(db, slug, workshop_start=day)
        for i in range(1, couples + 1):
            make_couple(db, settings, cohort, f"{slug[:3]}-{i:03d}")
        out[slug] = cohort
    return out


def test_survey_counts_equal_the_survey_summary(mini, settings):
    cohorts = _cohorts(
        mini, settings, [("alfa", date(2025, 3, 3), 1), ("beta", date(2025, 5, 5), 1)]
    )
    rng = random.Random(7)
    for cohort in cohorts.values():
        responses = []
        for _ in range(rng.randint(3, 12)):
            a = answers(rng.randint(1, 5), rng.choice(["ya", "mungkin", "tidak"]))
            for slug in list(a):
                if slug != "rekomendasi":
                    a[slug] = rng.randint(1, 5)
            responses.append(a)
        add_survey(mini, saved_id(cohort), responses)
    with mini.read() as session:
        survey = survey_text(session)
        counted = survey_counts(session, survey=survey)
        ids = [saved_id(c) for c in cohorts.values()]
        for group in ([ids[0]], [ids[1]], ids):
            one = survey_summary(session, cohort_ids=group, k=1)
            many = survey_of_counts(survey, [counted[c] for c in group], k=1)
            assert many.responses == one.responses
            assert [(i.slug, i.counts, i.mean, i.agree) for i in many.items] == [
                (i.slug, i.counts, i.mean, i.agree) for i in one.items
            ]
        assert survey_counts(session, survey=survey, cohort_ids=[ids[0]]).keys() == {ids[0]}


def test_checkin_counts_equal_the_checkin_summary(mini, settings):
    cohorts = _cohorts(
        mini, settings, [("alfa", date(2025, 3, 3), 6), ("beta", date(2025, 5, 5), 3)]
    )
    done, partly, not_yet = "done", "partly", "not_yet"
    # alfa: 001 kept both rounds; 002 kept round 1, partly in 2; 003 only the official
    # answered; 004 plan not confirmed; 005 three commitments, one unmarked by the spouse;
    # 006 no plan
    add_plan(
        mini,
        "alf-001",
        marks={1: {0: [done, done], 1: [done, done]}, 2: {0: [done, done], 1: [done, done]}},
    )
    add_plan(
        mini,
        "alf-002",
        marks={1: {0: [done, done], 1: [done, done]}, 2: {0: [done, partly], 1: [done, done]}},
    )
    add_plan(mini, "alf-003", marks={1: {0: [done, done]}})
    add_plan(mini, "alf-004", confirmed=False, marks={1: {0: [done, done], 1: [done, done]}})
    add_plan(mini, "alf-005", commitments=3, marks={1: {0: [done, done, done], 1: [done, done]}})
    # beta: 001 answered with not yet; 002 kept
    add_plan(mini, "bet-001", marks={1: {0: [not_yet, done], 1: [done, done]}})
    add_plan(mini, "bet-002", marks={2: {0: [done, done], 1: [done, done]}})
    with mini.read() as session:
        counted = checkin_counts(session)
        for cohort in cohorts.values():
            summary = checkin_summary(session, cohort=cohort, tz=settings.tz)
            mine = counted[saved_id(cohort)]
            for r in summary.rounds:
                assert (mine[r.round].plans, mine[r.round].answered, mine[r.round].kept) == (
                    r.plans,
                    r.answered,
                    r.kept,
                ), (cohort.slug, r.round)
        alfa = counted[saved_id(cohorts["alfa"])]
        assert (alfa[1].plans, alfa[1].answered, alfa[1].kept) == (4, 2, 2)
        assert (alfa[2].answered, alfa[2].kept) == (2, 1)
        beta = counted[saved_id(cohorts["beta"])]
        assert (beta[1].answered, beta[1].kept, beta[2].kept) == (1, 0, 1)


def test_retention_sums_equal_the_retention_summary(mini, settings):
    cohorts = _cohorts(
        mini, settings, [("alfa", date(2025, 3, 3), 3), ("beta", date(2025, 5, 5), 2)]
    )
    rng = random.Random(3)
    for slug in cohorts:
        n = 3 if slug == "alfa" else 2
        for i in range(1, n + 1):
            _, users = partners(mini, f"{slug[:3]}-{i:03d}")
            for j, user in enumerate(users):
                scores = {s: rng.choice([0.0, 0.5, 1.0]) for s in ("p-1", "p-2")}
                later = None if (i + j) % 4 == 3 else rng.choice([0.0, 50.0, 100.0])
                post = None if i == 2 and j == 1 else {s: 1.0 for s in scores}
                add_scores(mini, user, pre=scores, post=post, later=later)
    with mini.read() as session:
        sums = retention_sums(session)
        for cohort in cohorts.values():
            summary = retention_summary(session, cohort=cohort)
            mine = sums[saved_id(cohort)]
            assert mine.n == len(summary.complete)
            for attr in ("pre", "post", "later"):
                assert mine.mean(attr) == pytest.approx(summary.mean(attr))
        assert retention_sums(session, cohort_ids=[]) == {}


# ---------------------------------------------------------------- the KPK figures


@pytest.fixture
def country(mini, settings):
    """Kota Uji: "besar" (6 couples), "sedang" (3), "kecil" (2)."""
    cohorts = _cohorts(
        mini,
        settings,
        [
            ("besar", date(2025, 10, 13), 6),
            ("sedang", date(2025, 11, 10), 3),
            ("kecil", date(2026, 2, 9), 2),
        ],
    )
    ids = {slug: saved_id(c) for slug, c in cohorts.items()}
    # besar: 8 answers — likert 5,5,5,4,4,3,2,1 (agree 5 of 8, mean 29/8); recommend ya ×6
    add_survey(
        mini,
        ids["besar"],
        [answers(v, "ya" if n < 6 else "mungkin") for n, v in enumerate([5, 5, 5, 4, 4, 3, 2, 1])],
    )
    # sedang: 6 answers, all 4, all ya; kecil: 3 answers
    add_survey(mini, ids["sedang"], [answers(4) for _ in range(6)])
    add_survey(mini, ids["kecil"], [answers(2, "tidak", saran="Nama saya Budi") for _ in range(3)])
    done = ["done", "done"]
    for i in range(1, 7):  # besar: 6 plans; all answered round 1; 5 kept
        marks = {0: done, 1: done if i != 6 else ["done", "partly"]}
        add_plan(mini, f"bes-{i:03d}", marks={1: marks})
    return mini, ids


def test_the_national_follow_ups_by_hand(country):
    db, _ = country
    with db.read() as session:
        report = service.followup(session, f=service.ReportFilter(), k=K)
    survey = report.total.survey
    assert survey.responses.value == 17
    first = survey.items[0]
    # 8 from besar (5 agree), 6 from sedang (6 agree), 3 from kecil (0 agree)
    assert first.answered.value == 17
    assert first.agree.value == pytest.approx(11 / 17)
    assert first.mean.value == pytest.approx((29 + 24 + 6) / 17)
    assert survey.recommend.value == pytest.approx(12 / 17)
    assert survey.items[-1].options["tidak"].suppressed  # 3 people
    round1 = report.total.rounds[0]
    assert (round1.plans.value, round1.answered.value, round1.kept.value) == (6, 6, 5)
    assert round1.kept_rate.value == pytest.approx(5 / 6)
    assert report.total.rounds[1].answered.value == 0  # no data: nobody answered round 2
    assert report.total.rounds[1].kept_rate.value is None
    assert report.total.retention.n.value == 0 and report.total.retention.pre.value is None


def test_grouped_by_cohort_the_small_cell_and_its_complement_are_hidden(country):
    db, _ = country
    with db.read() as session:
        report = service.followup(session, f=service.ReportFilter(), k=K, group_by="cohort")
    labels = [g.label for g in report.groups]
    assert labels == ["Angkatan besar", "Angkatan sedang", "Angkatan kecil"]
    responses = [g.survey.responses for g in report.groups]
    assert [r.value for r in responses] == [8, None, None]  # kecil 3, sedang 6 its complement
    assert responses[2].reason == Reason.SMALL and responses[1].reason == Reason.COMPLEMENT
    sedang = report.groups[1].survey.items[0]
    assert sedang.agree.suppressed and sedang.mean.suppressed
    besar = report.groups[0].survey.items[0]
    assert besar.agree.value == pytest.approx(5 / 8) and besar.mean.value == pytest.approx(29 / 8)
    # an OPD or a partner role is no grouping of the follow-ups
    with db.read() as session:
        by_org = service.followup(session, f=service.ReportFilter(), k=K, group_by="organization")
    assert by_org.groups == [] and by_org.group_by is None


def test_a_filter_that_singles_out_a_few_respondents_hides_the_follow_ups(country):
    db, _ = country
    with db.read() as session:
        # the region without 2026 leaves kecil's 3 respondents (and 4 people) outside
        f = service.parse_filter(session, period="2025")
        report = service.followup(session, f=f, k=K)
        assert not report.check.safe
        assert report.total.survey.responses.reason == Reason.DIFFERENCE
        assert report.total.rounds[0].kept_rate.suppressed
        # a cohort of 3 respondents: nothing of them
        small = service.followup(session, f=service.parse_filter(session, cohort="kecil"), k=K)
        assert small.total.survey.responses.suppressed
        assert all(i.answered.suppressed for i in small.survey_items)
        # an OPD filter: the follow-ups have none, so nothing is counted
        org = service.followup(session, f=service.ReportFilter(organization=1), k=K)
        assert not org.available and org.total.survey.responses.value is None
