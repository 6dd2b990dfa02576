"""The follow-ups over many cohorts (``app.followup.service``'s sums per cohort) equal the
one-cohort functions the facilitator's report uses, and the KPK figures made of them: hand
computed, small cells suppressed with their complements, a filter that singles out a few
refused, and no text a person wrote."""

from __future__ import annotations

import csv
import io
import random
import re
from datetime import date
from typing import get_args

import pytest

from app.api.schemas import FollowupGroupBy
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
from app.i18n import translations
from app.reports import service
from app.reports.suppression import Reason
from app.reports.views import FOLLOWUP_SECTIONS, export_columns
from tests.api.conftest import create_token
from tests.conftest import login
from tests.factories import PASSWORD, make_cohort, make_couple, make_user
from tests.reports.followup_data import (
    OPEN_ANSWER,
    add_plan,
    add_scores,
    add_survey,
    answers,
    build_country,
    make_cohorts,
    partners,
)
from tests.reports.test_pages import section, tables, text_of

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
        # of some cohorts only: the same counts for them, none for the others
        only_beta = checkin_counts(session, cohort_ids=[saved_id(cohorts["beta"])])
        assert only_beta == {saved_id(cohorts["beta"]): beta}
        assert checkin_counts(session, cohort_ids=[]) == {}


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
        assert sum(s.n for s in sums.values()) > 0
        assert retention_sums(session, cohort_ids=[]) == {}
        alfa = saved_id(cohorts["alfa"])
        assert retention_sums(session, cohort_ids=[alfa]) == {alfa: sums[alfa]}


# ---------------------------------------------------------------- the KPK figures


@pytest.fixture
def country(mini, settings):
    return mini, build_country(mini, settings)


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
    retention = report.total.retention
    assert (retention.n.value, retention.pre.value, retention.post.value) == (6, 25.0, 100.0)
    assert retention.later.value == pytest.approx(75.0)


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


# ---------------------------------------------------------------- over HTTP


@pytest.fixture
def kpk(country, settings, make_client):
    db, _ = country
    make_user(db, settings, "analis", "kpk")
    client = make_client()
    login(client, "analis", PASSWORD)
    return client


def test_the_kpk_page_shows_the_follow_ups(kpk):
    html = kpk.get("/kpk").text
    part = section(html, "followup")
    keyfigs = [text_of(d) for d in re.findall(r"<dd>(.*?)</dd>", part, re.S)]
    assert keyfigs[:2] == ["17", "71%"]  # answers; would recommend 12 of 17
    assert keyfigs[2:] == ["6", "25,0%", "100,0%", "75,0%"]  # took all three; pre, post, later
    statements, checkins = tables(part)
    assert len(statements) == 8
    assert statements[0][1:] == ["17", "65%", "3,5"]  # 11 of 17 agreed; 59 / 17
    assert checkins[0][1:] == ["6", "6", "100%", "5", "83%"]
    assert checkins[1][1:] == ["6", "–", "0%", "–", "–"]  # nobody at round 2 yet


def test_grouped_by_cohort_a_small_cell_is_hidden_on_the_page_the_export_and_the_api(kpk, country):
    db, _ = country
    html = kpk.get("/kpk?group_by=cohort").text
    survey_groups = tables(section(html, "followup"))[1]
    assert [r[:3] for r in survey_groups] == [
        ["Angkatan besar", "8", "75%"],
        ["Angkatan sedang", "< 5", "< 5"],  # the complement of kecil's 3
        ["Angkatan kecil", "< 5", "< 5"],
    ]
    assert set(survey_groups[2][3:]) == {"< 5"}
    rows = list(csv.reader(io.StringIO(kpk.get("/kpk/export.csv?group_by=cohort").text)))
    col = {c.key: i for i, c in enumerate(export_columns("id"))}
    grouped = translations("id").gettext(FOLLOWUP_SECTIONS["survey_group"])
    answers_by_cohort = {
        r[col["group"]]: r[col["responses"]]
        for r in rows
        if r[col["section"]] == grouped and not r[col["item"]]
    }
    assert answers_by_cohort == {
        "Angkatan besar": "8",
        "Angkatan sedang": "< 5",
        "Angkatan kecil": "< 5",
    }
    total = next(
        r for r in rows if r[col["section"]] == translations("id").gettext("Workshop survey")
    )
    assert total[col["responses"]] == "17"
    assert float(total[col["recommend"]]) == pytest.approx(100 * 12 / 17)


def test_a_cohort_of_few_answers_shows_no_distribution_anywhere(kpk, country, db):
    db, _ = country
    html = kpk.get("/kpk?cohort=kecil").text  # 3 answers, 4 people
    statements = tables(section(html, "followup"))[0]
    assert {cell for row in statements for cell in row[1:]} == {"< 5"}
    rows = list(csv.reader(io.StringIO(kpk.get("/kpk/export.csv?cohort=kecil").text)))
    col = {c.key: i for i, c in enumerate(export_columns("id"))}
    assert {r[col["agree"]] for r in rows[1:] if r[col["agree"]]} == {"< 5"}


def test_no_open_answer_name_or_username_on_the_kpk_pages_and_downloads(kpk):
    for url in (
        "/kpk",
        "/kpk?group_by=cohort",
        "/kpk/export.csv?group_by=cohort",
        "/kpk/cohorts/kecil",
    ):
        text = kpk.get(url).text
        assert OPEN_ANSWER not in text and "Budi" not in text, url
        for username in ("bes-001-a", "kec-001-b", "sed-002-a"):
            assert username not in text, (url, username)


def test_the_page_statements_do_not_grow_with_the_cohorts(kpk, country, settings, count_queries):
    db, _ = country

    def statements() -> dict[str, int]:
        out = {}
        for path in ("/kpk", "/kpk?group_by=cohort", "/kpk?group_by=region"):
            kpk.get(path)
            with count_queries() as counter:
                assert kpk.get(path).status_code == 200
            out[path] = counter.count
        return out

    before = statements()
    more = make_cohorts(
        db, settings, [("lain", date(2025, 12, 1), 2), ("baru", date(2026, 1, 5), 2)]
    )
    for slug, cohort in more.items():
        add_survey(db, saved_id(cohort), [answers(3) for _ in range(4)])
        add_plan(db, f"{slug[:3]}-001", marks={1: {0: ["done", "done"], 1: ["done", "done"]}})
        _, users = partners(db, f"{slug[:3]}-001")
        add_scores(
            db, users[0], pre={"p-1": 1.0, "p-2": 0.0}, post={"p-1": 1.0, "p-2": 1.0}, later=50.0
        )
    assert statements() == before


def test_the_api_gives_the_follow_ups_suppressed(country, client):
    db, _ = country
    token = create_token(db)

    def get(query: str = "") -> dict:
        response = client.get(f"/api/v1/followup{query}", headers=token.headers)
        assert response.status_code == 200, response.text
        assert OPEN_ANSWER not in response.text and "bes-001" not in response.text
        return response.json()

    body = get()
    survey = body["total"]["survey"]
    assert survey["responses"] == {"value": 17, "suppressed": False}
    assert survey["recommend"]["value"] == pytest.approx(12 / 17)
    first = survey["items"][0]
    assert first["slug"] == "materi-jelas" and first["agree"]["value"] == pytest.approx(11 / 17)
    assert first["mean"]["value"] == pytest.approx(59 / 17)
    assert survey["items"][-1]["options"]["tidak"] == {"value": None, "suppressed": True}
    round1 = body["total"]["checkins"][0]
    assert round1["kept_rate"]["value"] == pytest.approx(5 / 6)
    assert body["total"]["retention"]["later_mean"]["value"] == pytest.approx(75.0)
    grouped = get("?group_by=cohort&lang=en")
    assert [(g["key"], g["survey"]["responses"]) for g in grouped["groups"]] == [
        ("besar", {"value": 8, "suppressed": False}),
        ("sedang", {"value": None, "suppressed": True}),
        ("kecil", {"value": None, "suppressed": True}),
    ]
    small = get("?cohort=kecil")
    assert small["hidden_reason"] and small["hidden_filters"] == ["cohort"]
    assert all(
        i["answered"]["suppressed"] and i["answered"]["value"] is None
        for i in small["total"]["survey"]["items"]
    )
    # the follow-ups have no OPD and no partner role
    for query in ("?organization=1", "?role=spouse", "?group_by=organization"):
        response = client.get(f"/api/v1/followup{query}", headers=token.headers)
        assert response.status_code == 422, query
    schema = client.get("/api/v1/openapi.json").json()
    assert "FollowupOut" in schema["components"]["schemas"]
    assert "/followup" in schema["paths"]


def test_the_api_choices_are_the_reports_own():
    assert get_args(FollowupGroupBy) == service.FOLLOWUP_GROUPS
