"""The KPK measures on small hand-built data: funnel, matched gain (pre = 100 %, nobody
matched, one role only), trend, comparison, grouping and filtering, and small-cell suppression
(a cell of 4, its complement, a narrowing filter). The data is written as the application
writes it (ORM rows in write transactions), so the summary the measures read is the one the
transaction hooks keep; ``tests/conftest.py`` checks after each test that it equals a
recomputation."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.accounts.models import Role, User
from app.certificates.models import Certificate
from app.cohorts.models import Attendance, Cohort, Couple, Organization, Region
from app.curriculum.models import Quiz
from app.curriculum.service import load_curriculum
from app.db import Database
from app.family.models import PledgeSignature
from app.quizzes.models import QuizAttempt
from app.reports import service
from app.reports.measures import GainSums, gain_values, t_quantile
from app.reports.suppression import Reason, SubsetProblem

K = 5
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


@dataclass
class Person:
    pre: float | None = None
    post: float | None = None
    activated: bool = True
    modules: int = 0  # module quizzes passed, in order
    attended: bool = False
    signed: bool = False
    certificate: bool = False


@dataclass
class Built:
    cohorts: dict[str, int] = field(default_factory=dict)
    organizations: dict[str, int] = field(default_factory=dict)
    users: list[int] = field(default_factory=list)


def attempt(session, uid: int, quiz: Quiz, score: float, at: datetime) -> None:
    session.add(
        QuizAttempt(
            user_id=uid,
            quiz_id=quiz.id,
            number=1,
            seed=1,
            started_at=at,
            submitted_at=at + timedelta(minutes=10),
            score=score,
            passed=score >= 70,
        )
    )


def build(db: Database, plan: dict[tuple[str, str, str], list[tuple[Person, Person]]]) -> Built:
    """``plan``: (region slug, cohort slug, OPD name) → couples (official, spouse). Regions:
    kota-a (province Jawa Barat, cohort workshop 14 Oct 2024), kab-b (Jawa Tengah, 10 Mar
    2025)."""
    built = Built()
    with db.read() as session:
        quizzes = {q.slug: q for q in session.execute(select(Quiz)).scalars()}
    modules = sorted((q for q in quizzes.values() if q.kind == "module"), key=lambda q: q.id)
    workshops = {"kota-a": date(2024, 10, 14), "kab-b": date(2025, 3, 10)}
    provinces = {"kota-a": "Jawa Barat", "kab-b": "Jawa Tengah"}
    with db.write() as session:
        regions: dict[str, int] = {}
        number = 0
        for (region_slug, cohort_slug, opd), couples in plan.items():
            if region_slug not in regions:
                region = Region(
                    slug=region_slug, name=region_slug.upper(), province=provinces[region_slug]
                )
                session.add(region)
                session.flush()
                regions[region_slug] = region.id
            if cohort_slug not in built.cohorts:
                start = workshops[region_slug]
                cohort = Cohort(
                    slug=cohort_slug,
                    region_id=regions[region_slug],
                    title=f"Bimtek {cohort_slug}",
                    venue="Aula",
                    code_prefix=cohort_slug[:6].upper(),
                    workshop_start=start,
                    workshop_end=start + timedelta(days=1),
                    pre_opens=datetime.combine(
                        start - timedelta(days=20), datetime.min.time(), UTC
                    ),
                    post_closes=datetime.combine(
                        start + timedelta(days=60), datetime.min.time(), UTC
                    ),
                )
                session.add(cohort)
                session.flush()
                built.cohorts[cohort_slug] = cohort.id
            key = f"{region_slug}/{opd}"
            if key not in built.organizations:
                org = Organization(region_id=regions[region_slug], name=opd)
                session.add(org)
                session.flush()
                built.organizations[key] = org.id
            start = workshops[region_slug]
            at = datetime.combine(start - timedelta(days=10), datetime.min.time(), UTC)
            for pair in couples:
                number += 1
                couple = Couple(
                    code=f"K-{number:03d}",
                    cohort_id=built.cohorts[cohort_slug],
                    organization_id=built.organizations[key],
                )
                session.add(couple)
                session.flush()
                for role, person in zip(("official", "spouse"), pair, strict=True):
                    user = User(
                        username=f"peserta-{number:03d}-{role}",
                        display_name=f"Nama Rahasia {number} {role}",
                        role=Role.participant,
                        password_hash="x" if person.activated else None,
                        couple_id=couple.id,
                        partner_role=role,
                    )
                    session.add(user)
                    session.flush()
                    built.users.append(user.id)

                    if person.pre is not None:
                        attempt(session, user.id, quizzes["pre-test"], person.pre, at)
                    for quiz in modules[: person.modules]:
                        attempt(session, user.id, quiz, 80.0, at)
                    if person.post is not None:
                        attempt(session, user.id, quizzes["post-test"], person.post, at)
                    if person.attended:
                        session.add(
                            Attendance(user_id=user.id, day=start, present=True, marked_at=at)
                        )
                    if person.signed:
                        session.add(
                            PledgeSignature(
                                user_id=user.id,
                                couple_id=couple.id,
                                signed_at=at,
                                content_version_id=1,
                            )
                        )
                    if person.certificate:
                        session.add(
                            Certificate(user_id=user.id, code=f"KB-{user.id:06d}", issued_at=at)
                        )
    return built


def curriculum_of(db: Database):
    with db.read() as session:
        return load_curriculum(session, 1)


def funnel_of(db: Database, f: service.ReportFilter | None = None, group_by: str | None = None):
    with db.read() as session:
        return service.funnel(
            session,
            f=f or service.ReportFilter(),
            curriculum=curriculum_of(db),
            k=K,
            group_by=group_by,
        )


def gain_of(db: Database, f: service.ReportFilter | None = None, group_by: str | None = None):
    with db.read() as session:
        return service.gain(
            session,
            f=f or service.ReportFilter(),
            curriculum=curriculum_of(db),
            k=K,
            group_by=group_by,
        )


def step(funnel, key: str):
    return next(s for s in funnel.total.steps if s.step.key == key)


# the hand-computed group: seven matched pairs, one of them with pre = 100 %
PAIRS = [(40, 70), (40, 70), (40, 70), (100, 90), (50, 50), (20, 60), (20, 60)]


@pytest.fixture
def country(synced):
    """kota-a / a-2024: Dinas X 6 couples (12 people), Dinas Y 2 couples (4 people);
    kab-b / b-2025: Dinas Z 5 couples (10 people)."""
    x = [
        (
            Person(pre=40, post=70, modules=3, attended=True),
            Person(pre=20, post=60, modules=3, attended=True),
        ),
        (
            Person(pre=40, post=70, modules=3, attended=True, signed=True, certificate=True),
            Person(pre=20, post=60, modules=3, attended=True, signed=True, certificate=True),
        ),
        (Person(pre=40, post=70, modules=2, attended=True), Person(activated=False)),
        (Person(pre=100, post=90, modules=1), Person(pre=None)),
        (Person(pre=50, post=50), Person(activated=False)),
        (Person(pre=60), Person()),
    ]
    y = [(Person(pre=30), Person(pre=35)), (Person(), Person())]
    z = [(Person(pre=10 * i, post=10 * i + 30, modules=1), Person(pre=50)) for i in range(1, 6)]
    built = build(
        synced,
        {
            ("kota-a", "a-2024", "Dinas X"): x,
            ("kota-a", "a-2024", "Dinas Y"): y,
            ("kab-b", "b-2025", "Dinas Z"): z,
        },
    )
    return synced, built


# ---------------------------------------------------------------- pure measures


def test_gain_from_sums_equals_the_hand_computation():
    n = len(PAIRS)
    pre = sum(p for p, _ in PAIRS) * 100
    post = sum(q for _, q in PAIRS) * 100
    d2 = sum(((q - p) * 100) ** 2 for p, q in PAIRS)
    gains = [(q - p) / (100 - p) for p, q in PAIRS if p < 100]
    v = gain_values(
        GainSums(n=n, pre=pre, post=post, d2=d2, gn=len(gains), gain=round(sum(gains) * 10000))
    )
    assert v.n == 7 and v.excluded == 1
    assert v.pre_mean == pytest.approx(310 / 7)
    assert v.post_mean == pytest.approx(470 / 7)
    assert v.class_gain == pytest.approx((470 / 7 - 310 / 7) / (100 - 310 / 7))  # 0.4103
    assert v.class_gain == pytest.approx(0.4103, abs=1e-4)
    assert v.mean_gain == pytest.approx(2.5 / 6, abs=1e-4)  # 0.4167: pre = 100 left out
    changes = [q - p for p, q in PAIRS]
    d_z = statistics.mean(changes) / statistics.stdev(changes)
    assert v.d_z == pytest.approx(d_z)
    assert v.d_z == pytest.approx(1.1567, abs=1e-4)
    se = math.sqrt(1 / n + d_z**2 / (2 * n))
    assert v.ci_low == pytest.approx(d_z - 2.4469 * se, abs=1e-3)
    assert v.ci_high == pytest.approx(d_z + 2.4469 * se, abs=1e-3)


def test_gain_of_nobody_and_of_everyone_at_100():
    none = gain_values(GainSums())
    assert none.n == 0 and none.class_gain is None and none.d_z is None
    full = gain_values(GainSums(n=2, pre=20000, post=19000, d2=2 * 500**2, gn=0, gain=0))
    assert full.class_gain is None  # mean pre = 100 %: nothing left to gain
    assert full.mean_gain is None and full.excluded == 2
    assert full.d_z is None  # every change the same: no spread


@pytest.mark.parametrize(
    ("df", "exact"), [(1, 12.706), (2, 4.303), (4, 2.776), (6, 2.447), (29, 2.045)]
)
def test_t_quantile(df, exact):
    assert t_quantile(0.975, df) == pytest.approx(exact, abs=0.01)


# ---------------------------------------------------------------- the funnel


def test_the_funnel_counts_people_and_couples_at_each_step(country):
    db, _ = country
    funnel = funnel_of(db)
    keys = [s.step.key for s in funnel.total.steps]
    assert keys == [
        "invited",
        "activated",
        "pretest",
        "module1",
        "module2",
        "attended",
        "module3",
        "posttest",
        "reflections",
        "pledge",
        "certificate",
    ]
    assert funnel.total.people.value == 26 and funnel.total.couples.value == 13
    activated = step(funnel, "activated")
    assert activated.people.value == 24
    assert activated.rate.value == pytest.approx(24 / 26)
    assert activated.officials.value == 13 and activated.spouses.value == 11
    assert activated.couples_both.value == 11
    # two couples with one partner activated: a count of 2 is hidden
    assert activated.couples_one.suppressed and activated.couples_one.reason == Reason.SMALL
    pre = step(funnel, "pretest")
    assert pre.people.value == 20  # X: 6 officials + 2 spouses, Y: 2, Z: 5 + 5
    module1 = step(funnel, "module1")
    assert module1.people.value == 11  # X: 4 officials + 2 spouses, Z: 5
    # 2 certificates: a figure of fewer than 5 people is "< 5"
    assert step(funnel, "certificate").people.suppressed


def test_grouped_funnel_hides_a_cell_of_four_and_its_complement(country):
    db, built = country
    funnel = funnel_of(db, service.ReportFilter(cohort="a-2024"), group_by="organization")
    labels = {g.key: g for g in funnel.groups}
    x = labels[str(built.organizations["kota-a/Dinas X"])]
    y = labels[str(built.organizations["kota-a/Dinas Y"])]
    assert y.people.suppressed and y.people.reason == Reason.SMALL  # 4 people
    # the total (16) minus X would give Y away: X is hidden too
    assert x.people.suppressed and x.people.reason == Reason.COMPLEMENT
    assert funnel.total.people.value == 16
    assert "Dinas Y (KOTA-A)" in y.label


def test_a_narrowing_filter_cannot_expose_a_small_group(country):
    db, built = country
    # Dinas Y alone: 4 people
    only_y = funnel_of(
        db,
        service.ReportFilter(region="kota-a", organization=built.organizations["kota-a/Dinas Y"]),
    )
    assert not only_y.check.safe
    assert only_y.check.checks["organization"].problem == SubsetProblem.SUBSET_SMALL
    assert only_y.total.people.suppressed  # 4 people: small by itself
    assert all(s.people.suppressed for s in only_y.total.steps)
    # Dinas X: 12 of 16 — the 4 left outside would be the difference
    only_x = funnel_of(
        db,
        service.ReportFilter(region="kota-a", organization=built.organizations["kota-a/Dinas X"]),
    )
    assert only_x.check.checks["organization"].problem == SubsetProblem.REMAINDER_SMALL
    assert only_x.check.filters == ["organization"]
    assert only_x.total.people.suppressed and only_x.total.people.reason == Reason.DIFFERENCE
    assert all(s.people.suppressed for s in only_x.total.steps)
    # a role filter is wide enough: 13 officials of 26
    officials = funnel_of(db, service.ReportFilter(role="official"))
    assert officials.check.safe
    assert officials.total.people.value == 13
    assert not officials.couples_shown and step(officials, "activated").couples_both is None


def test_filters_by_region_province_period_and_grouping_by_role(country):
    db, _ = country
    assert funnel_of(db, service.ReportFilter(region="kab-b")).total.people.value == 10
    assert funnel_of(db, service.ReportFilter(province="Jawa Barat")).total.people.value == 16
    assert funnel_of(db, service.ReportFilter(period="2025-Q1")).total.people.value == 10
    assert funnel_of(db, service.ReportFilter(period="2024-10")).total.people.value == 16
    assert funnel_of(db, service.ReportFilter(period="2023")).total.people.value == 0
    by_region = funnel_of(db, group_by="region")
    assert [(g.key, g.people.value) for g in by_region.groups] == [("kota-a", 16), ("kab-b", 10)]
    by_role = funnel_of(db, group_by="role")
    assert [(g.key, g.people.value) for g in by_role.groups] == [
        ("official", 13),
        ("spouse", 13),
    ]
    assert all(g.couples is None for g in by_role.groups)


def test_unknown_filters_are_refused(country):
    db, _ = country
    with db.read() as session:
        for values, name in (
            ({"region": "atlantis"}, "region"),
            ({"role": "boss"}, "role"),
            ({"period": "2024-13"}, "period"),
            ({"organization": "x1"}, "organization"),
            ({"organization": "999999"}, "organization"),
            ({"cohort": "nope"}, "cohort"),
            ({"province": "Narnia"}, "province"),
        ):
            with pytest.raises(service.ReportFilterError) as refused:
                service.parse_filter(session, **values)
            assert refused.value.status == 422 and refused.value.field == name
        with pytest.raises(service.ReportFilterError):
            service.parse_group_by("nope")
        f = service.parse_filter(session, region=" kota-a ", period="2024-Q4", role="")
    assert f == service.ReportFilter(region="kota-a", period="2024-Q4")


# ---------------------------------------------------------------- learning gain


def test_gain_on_matched_participants_with_the_pre_test_only_beside(country):
    db, _ = country
    report = gain_of(db, service.ReportFilter(cohort="a-2024"))
    g = report.total.figures
    assert g.n.value == 7  # PAIRS
    assert report.total.only_pre.n == 3 and report.total.only_pre.suppressed  # beside: "< 5"
    assert g.pre_mean.value == pytest.approx(310 / 7)
    assert g.post_mean.value == pytest.approx(470 / 7)
    assert g.class_gain.value == pytest.approx(0.4103, abs=1e-4)
    assert g.mean_gain.value == pytest.approx(2.5 / 6, abs=1e-4)
    assert g.d_z.value == pytest.approx(1.1567, abs=1e-4)
    assert g.excluded.suppressed  # one person at 100 %: a count of 1 is hidden


def test_gain_of_one_role_and_of_nobody_matched(country):
    db, _ = country
    spouses = gain_of(db, service.ReportFilter(role="spouse"))
    # spouses matched: the two of Dinas X (20 → 60): fewer than 5
    assert spouses.total.figures.n.suppressed and spouses.total.figures.class_gain.suppressed
    officials = gain_of(db, service.ReportFilter(role="official", region="kab-b"))
    pairs = [(10 * i, 10 * i + 30) for i in range(1, 6)]
    expected = statistics.mean((q - p) / (100 - p) for p, q in pairs)
    assert officials.total.figures.n.value == 5
    assert officials.total.figures.mean_gain.value == pytest.approx(expected, abs=1e-4)
    assert officials.total.only_pre.value == 0
    nobody = gain_of(db, service.ReportFilter(region="kab-b", role="spouse"))
    assert nobody.total.figures.n.value == 0 and nobody.total.figures.n.no_data
    assert nobody.total.figures.class_gain.value is None
    assert nobody.total.only_pre.value == 5


def test_grouped_gain_hides_small_groups_and_their_complement(country):
    db, _ = country
    report = gain_of(db, group_by="region")
    groups = {g.key: g for g in report.groups}
    assert groups["kota-a"].figures.n.value == 7
    assert groups["kab-b"].figures.n.value == 5
    by_role = gain_of(db, service.ReportFilter(region="kota-a"), group_by="role")
    roles = {g.key: g for g in by_role.groups}
    assert roles["spouse"].figures.n.suppressed  # 2 matched
    assert roles["official"].figures.n.suppressed  # its complement: 7 − 5 would give it away
    assert roles["official"].figures.class_gain.suppressed


def test_gain_by_value_and_module_equals_the_facilitators_matched_gain(synced, settings):
    """One definition of gain: the KPK figures by value and module on the demo's historic
    cohort agree with the facilitator's results page computation."""
    from app.demo import seed_demo
    from app.learning.selectors import cohort_participants
    from app.quizzes.gain import matched_gain
    from app.quizzes.service import value_titles

    seed_demo(synced, settings)
    curriculum = curriculum_of(synced)
    with synced.read() as session:
        cohort_id = session.execute(select(Cohort.id).where(Cohort.slug == "tng-2024")).scalar_one()
        expected = matched_gain(
            session,
            users=cohort_participants(cohort_id),
            titles={
                "module": {m.slug: m.title for m in curriculum.modules},
                "value": value_titles(session),
            },
        )
        report = service.gain(
            session, f=service.ReportFilter(cohort="tng-2024"), curriculum=curriculum, k=K
        )
    assert report.total.figures.n.value == expected.overall.n > 5
    assert report.total.figures.class_gain.value == pytest.approx(
        expected.overall.gain_of_averages, abs=1e-3
    )
    assert report.total.only_pre.value == expected.only_pre
    assert [t.slug for t in report.by_value] == [t.key for t in expected.by_value]
    for mine, theirs in zip(
        report.by_value + report.by_module, expected.by_value + expected.by_module, strict=True
    ):
        assert mine.figures.n.value == theirs.gain.n
        assert mine.figures.pre_mean.value == pytest.approx(theirs.gain.pre_mean, abs=0.01)
        assert mine.figures.post_mean.value == pytest.approx(theirs.gain.post_mean, abs=0.01)


# ---------------------------------------------------------------- trend and comparison


def test_trend_by_quarter_and_year(country):
    db, _ = country
    with db.read() as session:
        quarters = service.trend(session, f=service.ReportFilter(), k=K, interval="quarter")
        years = service.trend(session, f=service.ReportFilter(), k=K, interval="year", locale="en")
    assert [(r.period, r.people.value) for r in quarters.rows] == [("2024-Q4", 16), ("2025-Q1", 10)]
    assert quarters.rows[0].label == "T4 2024"
    assert years.rows[1].label == "2025"
    assert quarters.rows[1].activated.value == pytest.approx(1.0)
    assert quarters.rows[0].gain.n.value == 7
    assert quarters.rows[0].couples_complete.suppressed  # 1 couple of 8: hidden with its count


def test_comparison_puts_the_cohorts_needing_attention_first(country):
    db, _ = country
    with db.read() as session:
        result = service.comparison(
            session, f=service.ReportFilter(), k=K, now=NOW, tz=ZoneInfo("Asia/Jakarta")
        )
    assert [r.slug for r in result.rows][0] == "b-2025"
    first, second = result.rows
    # b-2025: nobody certified (completion 0 % of 5 couples), post-test 5 of 10 pre-tests
    assert first.status == "closed" and "completion" in first.reasons
    assert first.completion.value == 0.0
    assert second.slug == "a-2024" and second.activation.value == pytest.approx(14 / 16)
    # one complete couple of eight: the share would give the hidden count back, so it is hidden
    assert second.completion.suppressed and second.reasons == []
    assert first.reason_names
