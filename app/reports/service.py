"""National aggregates for KPK: the funnel, learning gain, the trend and the cohort comparison,
grouped and filtered by region, province, OPD, cohort, period and partner role. Counts and
figures only, never a name; every figure goes through ``app.reports.suppression``.

Everything is read from the summary's sums (``report_cohort``, and ``report_opd`` when an OPD
filters or groups), which ``app.reports.summary`` keeps current: a page costs a few statements
over a few hundred rows, whatever the number of participants. The measures themselves are the
pure functions of ``app.reports.measures``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cached_property, lru_cache
from typing import Any

from babel.dates import format_date
from sqlalchemy import BigInteger, cast, func, select
from sqlmodel import Session, col

from app.accounts.models import Role, User
from app.cohorts.models import Cohort, Couple, Organization, Region
from app.curriculum.outline import Curriculum
from app.db import execute_core
from app.errors import AppError
from app.followup.service import (
    CohortSurvey,
    RetentionSums,
    RoundCounts,
    SurveySummary,
    checkin_counts,
    retention_sums,
    survey_counts,
    survey_of_counts,
    survey_text,
)
from app.i18n import N_, translations
from app.learning.rules import CHECKIN_ROUNDS, module_after, workshop_over_at
from app.quizzes.service import value_titles
from app.reports import summary as _summary  # noqa: F401  (the summary's transaction hooks)
from app.reports.measures import (
    ATTENTION_REASONS,
    INTERVALS,
    GainSums,
    attention_reasons,
    class_gain,
    gain_values,
    in_period,
    period_interval,
    period_key,
)
from app.reports.models import GAIN_SUMS, MILESTONES, report_cohort, report_opd
from app.reports.suppression import (
    Column,
    Figure,
    Reason,
    SubsetCheck,
    check_subset,
    count,
    figure,
    follow,
    suppress_column,
    suppress_groups,
)

ROLES = ("official", "spouse")
ROLE_NAMES = {"official": N_("Official"), "spouse": N_("Spouse")}
GROUP_BY = ("region", "province", "organization", "cohort", "month", "quarter", "year", "role")
GROUP_NAMES = {
    "region": N_("Region"),
    "province": N_("Province"),
    "organization": N_("OPD"),
    "cohort": N_("Cohort"),
    "month": N_("Month"),
    "quarter": N_("Quarter"),
    "year": N_("Year"),
    "role": N_("Partner role"),
}
FILTERS = ("region", "province", "organization", "cohort", "period", "role")


# ---------------------------------------------------------------- national totals


@dataclass(frozen=True)
class NationalTotals:
    regions: int
    organizations: int
    cohorts: int
    couples: int
    participants: int


def national_totals(session: Session) -> NationalTotals:
    """Regions, organizations, cohorts, couples and participants, in one statement."""
    row = (
        session.execute(
            select(
                select(func.count()).select_from(Region).scalar_subquery().label("regions"),
                select(func.count())
                .select_from(Organization)
                .scalar_subquery()
                .label("organizations"),
                select(func.count()).select_from(Cohort).scalar_subquery().label("cohorts"),
                select(func.count()).select_from(Couple).scalar_subquery().label("couples"),
                select(func.count())
                .select_from(User)
                .where(col(User.role) == Role.participant)
                .scalar_subquery()
                .label("participants"),
            )
        )
        .mappings()
        .one()
    )
    return NationalTotals(**row)


# ---------------------------------------------------------------- filters


class ReportFilterError(AppError):
    """A filter or grouping that does not exist."""

    def __init__(self, message: str, field: str, value: str) -> None:
        super().__init__(422, message, {"value": value[:60]}, field=field)


@dataclass(frozen=True)
class ReportFilter:
    """Which people a report counts: each field narrows (None: everyone)."""

    region: str | None = None  # region slug
    province: str | None = None
    organization: int | None = None  # OPD id
    cohort: str | None = None  # cohort slug
    period: str | None = None  # 2024 · 2024-Q4 · 2024-10 (the workshop's start)
    role: str | None = None  # official · spouse

    def active(self) -> list[str]:
        return [f for f in FILTERS if getattr(self, f) is not None]

    def without(self, name: str) -> ReportFilter:
        return replace(self, **{name: None})

    def params(self, **changes: Any) -> dict[str, str]:
        """The filter as URL parameters (with ``changes``; None drops one)."""
        values = {f: getattr(self, f) for f in FILTERS} | changes
        return {k: str(v) for k, v in values.items() if v not in (None, "")}

    def label(self) -> str | None:
        """For file names: the active filters' values, joined."""
        parts = [str(getattr(self, f)) for f in self.active()]
        return "_".join(parts) or None


def parse_group_by(value: str | None) -> str | None:
    if value in (None, ""):
        return None
    if value not in GROUP_BY:
        raise ReportFilterError(N_("There is no grouping “%(value)s”."), "group_by", value)
    return value


def parse_interval(value: str | None) -> str:
    if value in (None, ""):
        return "quarter"
    if value not in INTERVALS:
        raise ReportFilterError(N_("There is no interval “%(value)s”."), "interval", value)
    return value


def parse_filter(
    session: Session,
    *,
    region: str | None = None,
    province: str | None = None,
    organization: str | int | None = None,
    cohort: str | None = None,
    period: str | None = None,
    role: str | None = None,
) -> ReportFilter:
    """The filter of a page or an API call, each value checked against the database (an
    unknown one is a 422 naming it). Empty values mean no filter."""

    def clean(v: Any) -> str | None:
        v = None if v is None else str(v).strip()
        return v or None

    region, province, cohort, period, role = map(clean, (region, province, cohort, period, role))
    org_text = clean(organization)
    if role is not None and role not in ROLES:
        raise ReportFilterError(N_("There is no partner role “%(value)s”."), "role", role)
    if period is not None and period_interval(period) is None:
        raise ReportFilterError(
            N_(
                "“%(value)s” is not a period: use a year (2024), a quarter (2024-Q4) or a month "
                "(2024-10)."
            ),
            "period",
            period,
        )
    if region is not None and (
        session.execute(select(col(Region.id)).where(col(Region.slug) == region)).first() is None
    ):
        raise ReportFilterError(N_("There is no region “%(value)s”."), "region", region)
    if province is not None and (
        session.execute(select(col(Region.id)).where(col(Region.province) == province)).first()
        is None
    ):
        raise ReportFilterError(N_("There is no province “%(value)s”."), "province", province)
    org_id = None
    if org_text is not None:
        if not org_text.isdigit() or len(org_text) > 9:
            raise ReportFilterError(N_("There is no OPD “%(value)s”."), "organization", org_text)
        org_id = int(org_text)
        if session.get(Organization, org_id) is None:
            raise ReportFilterError(N_("There is no OPD “%(value)s”."), "organization", org_text)
    if cohort is not None and (
        session.execute(select(col(Cohort.id)).where(col(Cohort.slug) == cohort)).first() is None
    ):
        raise ReportFilterError(N_("There is no cohort “%(value)s”."), "cohort", cohort)
    return ReportFilter(
        region=region,
        province=province,
        organization=org_id,
        cohort=cohort,
        period=period,
        role=role,
    )


# ---------------------------------------------------------------- reading the sums


@dataclass(frozen=True)
class CohortInfo:
    id: int
    slug: str
    title: str
    region_slug: str
    region_name: str
    province: str
    workshop_start: date
    workshop_end: date
    post_closes: datetime
    region_id: int


_COHORT_INDEX = (
    select(
        col(Cohort.id),
        col(Cohort.slug),
        col(Cohort.title),
        col(Region.slug),
        col(Region.name),
        col(Region.province),
        col(Cohort.workshop_start),
        col(Cohort.workshop_end),
        col(Cohort.post_closes),
        col(Region.id),
    )
    .join(Region, col(Region.id) == Cohort.region_id)
    .order_by(col(Cohort.workshop_start), col(Cohort.slug))
)


def cohort_index(session: Session) -> dict[int, CohortInfo]:
    """Every cohort with its region: one statement (built once; a KPK page asks it each time)."""
    return {r[0]: CohortInfo(*r) for r in execute_core(session, _COHORT_INDEX)}


def _chosen(cohorts: dict[int, CohortInfo], f: ReportFilter) -> list[int] | None:
    """The cohort ids the filter keeps (None: every one)."""
    if f.region is None and f.province is None and f.cohort is None and f.period is None:
        return None
    return [
        c.id
        for c in cohorts.values()
        if (f.region is None or c.region_slug == f.region)
        and (f.province is None or c.province == f.province)
        and (f.cohort is None or c.slug == f.cohort)
        and (f.period is None or in_period(c.workshop_start, f.period))
    ]


@dataclass
class Cell:
    cohort_id: int | None
    organization_id: int | None
    role: str | None
    values: dict[str, int]


@lru_cache(maxsize=64)
def _sums(table: str, columns: tuple[str, ...]) -> tuple[Any, ...]:
    """The summed columns of a cube, built once (a national page sums a hundred columns in
    each of its statements)."""
    cube = report_opd if table == report_opd.name else report_cohort
    # integers back (PostgreSQL's SUM of a bigint is a numeric: a Decimal per value), 0 for none
    return tuple(func.coalesce(cast(func.sum(cube.c[c]), BigInteger), 0).label(c) for c in columns)


def _read_rows(
    session: Session,
    f: ReportFilter,
    cohorts: dict[int, CohortInfo],
    columns: Sequence[str],
    *,
    by_cohort: bool = False,
    by_org: bool = False,
    by_role: bool = False,
    by_region: bool = False,
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The sums of ``columns`` over the filter, per cohort / region / OPD / role as asked:
    one statement. The names of the keys, and a row per group: its keys, then the sums
    (integers, 0 for none). Without keys, no row when nobody is counted."""
    table = report_opd if (by_org or f.organization is not None) else report_cohort
    keys: list[Any] = []
    if by_cohort:
        keys.append(table.c.cohort_id)
    if by_region:
        keys.append(col(Cohort.region_id))
    if by_org:
        keys.append(table.c.organization_id)
    if by_role:
        keys.append(table.c.role)
    query = select(*keys, *_sums(table.name, tuple(columns)))
    if by_region:
        query = query.select_from(table.join(Cohort, col(Cohort.id) == table.c.cohort_id))
    chosen = _chosen(cohorts, f)
    names = [k.name for k in keys]
    if chosen is not None:
        if not chosen:
            return names, []
        query = query.where(table.c.cohort_id.in_(chosen))
    if f.organization is not None:
        query = query.where(table.c.organization_id == f.organization)
    if f.role is not None:
        query = query.where(table.c.role == f.role)
    if keys:
        query = query.group_by(*keys)
    rows = [tuple(row) for row in execute_core(session, query)]
    if not keys and "people" in columns:
        rows = [r for r in rows if r[columns.index("people")]]
    return names, rows


def _read(
    session: Session,
    f: ReportFilter,
    cohorts: dict[int, CohortInfo],
    columns: Sequence[str],
    *,
    by_cohort: bool = False,
    by_org: bool = False,
    by_role: bool = False,
) -> list[Cell]:
    """``_read_rows`` as cells: the sums by column name."""
    names, rows = _read_rows(
        session, f, cohorts, columns, by_cohort=by_cohort, by_org=by_org, by_role=by_role
    )
    n = len(names)
    out = []
    for row in rows:
        keyed = dict(zip(names, row[:n], strict=True))
        out.append(
            Cell(
                keyed.get("cohort_id"),
                keyed.get("organization_id"),
                keyed.get("role"),
                dict(zip(columns, row[n:], strict=True)),
            )
        )
    return out


def _people(session: Session, f: ReportFilter, cohorts: dict[int, CohortInfo]) -> int:
    cells = _read(session, f, cohorts, ["people"])
    return cells[0].values["people"] if cells else 0


@dataclass(frozen=True)
class ViewCheck:
    """Whether the filtered view may be shown (differencing across filters): for each active
    filter, the view against the view without it."""

    checks: dict[str, SubsetCheck] = field(default_factory=dict)

    @cached_property
    def safe(self) -> bool:
        return all(c.safe for c in self.checks.values())

    @property
    def message(self) -> str | None:
        return next((c.message for c in self.checks.values() if not c.safe), None)

    @property
    def filters(self) -> list[str]:
        """The filters that narrow too far."""
        return [name for name, c in self.checks.items() if not c.safe]


def view_check(
    session: Session, f: ReportFilter, cohorts: dict[int, CohortInfo], *, k: int
) -> ViewCheck:
    """One statement per active filter (and one for the view)."""
    if not f.active():
        return ViewCheck()
    people = _people(session, f, cohorts)
    return ViewCheck(
        {
            name: check_subset(_people(session, f.without(name), cohorts), people, k=k)
            for name in f.active()
        }
    )


@dataclass(frozen=True)
class Scope:
    """What every measure of one page shares: the cohorts and the filter's check (computed
    once for the page, not once per measure)."""

    cohorts: dict[int, CohortInfo]
    check: ViewCheck


def scope_of(
    session: Session, f: ReportFilter, *, k: int, cohorts: dict[int, CohortInfo] | None = None
) -> Scope:
    cohorts = cohorts if cohorts is not None else cohort_index(session)
    return Scope(cohorts, view_check(session, f, cohorts, k=k))


def _scope(
    session: Session, f: ReportFilter, k: int, scope: Scope | None
) -> tuple[dict[int, CohortInfo], ViewCheck]:
    scope = scope or scope_of(session, f, k=k)
    return scope.cohorts, scope.check


# ---------------------------------------------------------------- groups


@dataclass(frozen=True)
class GroupKey:
    key: str
    label: str
    sort: Any


def _period_label(key: str, locale: str) -> str:
    interval = period_interval(key)
    if interval == "month":
        return format_date(date(int(key[:4]), int(key[5:]), 1), "MMM y", locale=locale)
    if interval == "quarter":
        return translations(locale).gettext(N_("Q%(q)s %(year)s")) % {
            "q": key[-1],
            "year": key[:4],
        }
    return key


def period_label(key: str, locale: str) -> str:
    """``Okt 2024`` (month), ``T4 2024`` / ``Q4 2024`` (quarter), ``2024`` (year)."""
    return _period_label(key, locale)


def _grouper(
    session: Session, group_by: str, cohorts: dict[int, CohortInfo], locale: str
) -> Callable[[dict[str, Any]], GroupKey]:
    """The group of a row of sums, from its keys (``cohort_id``, ``region_id``,
    ``organization_id`` or ``role``)."""
    if group_by == "organization":
        names = {
            r[0]: (r[1], r[2])
            for r in session.execute(
                select(col(Organization.id), col(Organization.name), col(Region.name)).join(
                    Region, col(Region.id) == Organization.region_id
                )
            ).all()
        }

        def by_org(keys: dict[str, Any]) -> GroupKey:
            name, region = names.get(keys["organization_id"] or 0, ("?", "?"))
            return GroupKey(str(keys["organization_id"]), f"{name} ({region})", (region, name))

        return by_org
    if group_by == "role":
        gettext = translations(locale).gettext
        return lambda keys: GroupKey(
            keys["role"] or "",
            gettext(ROLE_NAMES.get(keys["role"] or "", "")),
            ROLES.index(keys["role"] or ""),
        )
    if group_by in REGION_GROUPS:
        regions = {c.region_id: c for c in cohorts.values()}

        def by_region(keys: dict[str, Any]) -> GroupKey:
            info = regions[keys["region_id"]]
            if group_by == "region":
                return GroupKey(
                    info.region_slug, info.region_name, (info.province, info.region_name)
                )
            return GroupKey(info.province, info.province, info.province)

        return by_region

    labels: dict[str, str] = {}

    def by_cohort_attr(keys: dict[str, Any]) -> GroupKey:
        info = cohorts[keys["cohort_id"]]
        if group_by == "cohort":
            return GroupKey(info.slug, info.title, (info.workshop_start, info.slug))
        key = period_key(info.workshop_start, group_by)
        if key not in labels:
            labels[key] = _period_label(key, locale)
        return GroupKey(key, labels[key], key)

    return by_cohort_attr


REGION_GROUPS = ("region", "province")  # summed per region in SQL


def _grouped(
    session: Session,
    f: ReportFilter,
    cohorts: dict[int, CohortInfo],
    columns: Sequence[str],
    group_by: str,
    locale: str,
) -> list[tuple[GroupKey, dict[str, int]]]:
    names, rows = _read_rows(
        session,
        f,
        cohorts,
        columns,
        by_cohort=group_by not in ("organization", "role", *REGION_GROUPS),
        by_region=group_by in REGION_GROUPS,
        by_org=group_by == "organization",
        by_role=group_by == "role",
    )
    key_of = _grouper(session, group_by, cohorts, locale)
    n = len(names)
    keys: dict[str, GroupKey] = {}
    parts: dict[str, list[tuple[Any, ...]]] = {}  # a group's rows (one per cohort: hundreds)
    for row in rows:
        g = key_of(dict(zip(names, row[:n], strict=True)))
        keys.setdefault(g.key, g)
        parts.setdefault(g.key, []).append(row[n:])
    out = []
    for g in sorted(keys.values(), key=lambda g: g.sort):
        values = dict(zip(columns, map(sum, zip(*parts[g.key], strict=True)), strict=True))
        if values.get("people", 0) > 0:
            out.append((g, values))
    return out


# ---------------------------------------------------------------- the funnel


@dataclass(frozen=True)
class Step:
    key: str  # a milestone of ``app.reports.models.MILESTONES``, or "invited"
    label: str  # message id (``%(n)s``: the module's position)
    module: int | None = None


STEP_NAMES = {
    "invited": N_("Invited"),
    "activated": N_("Activated"),
    "pretest": N_("Pre-test taken"),
    "module": N_("Module %(n)s passed"),
    "attended": N_("Attended the workshop"),
    "posttest": N_("Post-test taken"),
    "reflections": N_("Family reflections confirmed"),
    "pledge": N_("Pledge signed"),
    "certificate": N_("Certificate received"),
}


def funnel_steps(curriculum: Curriculum) -> list[Step]:
    """invited → activated → pre-test → each module → attended the workshop (before the
    first module that belongs after it) → … → post-test → reflections → pledge →
    certificate."""
    steps = [Step("invited", STEP_NAMES["invited"]), Step("activated", STEP_NAMES["activated"])]
    if "pre-test" in curriculum.quizzes:
        steps.append(Step("pretest", STEP_NAMES["pretest"]))
    placed = False
    for i, module in enumerate(curriculum.modules, 1):
        if module_after(module) and not placed:
            steps.append(Step("attended", STEP_NAMES["attended"]))
            placed = True
        steps.append(Step(f"module{i}", STEP_NAMES["module"], module=i))
    if not placed:
        steps.append(Step("attended", STEP_NAMES["attended"]))
    if "post-test" in curriculum.quizzes:
        steps.append(Step("posttest", STEP_NAMES["posttest"]))
    steps += [Step(m, STEP_NAMES[m]) for m in ("reflections", "pledge", "certificate")]
    return steps


def step_label(step: Step, locale: str) -> str:
    text = translations(locale).gettext(step.label)
    return text % {"n": step.module} if step.module is not None else text


def _n(values: dict[str, int], step: str) -> int:
    return values["people"] if step == "invited" else values[f"n_{step}"]


def _both(values: dict[str, int], step: str) -> int:
    return values["couples"] if step == "invited" else values[f"both_{step}"]


def _one(values: dict[str, int], step: str) -> int:
    return 0 if step == "invited" else values[f"one_{step}"]


FUNNEL_COLUMNS = (
    "people",
    "couples",
    *(f"n_{m}" for m in MILESTONES),
    *(f"both_{m}" for m in MILESTONES),
    *(f"one_{m}" for m in MILESTONES),
)


@dataclass(frozen=True)
class FunnelFigure:
    step: Step
    people: Figure[int]
    rate: Figure[float]  # of the invited
    officials: Figure[int] | None = None  # the total only
    spouses: Figure[int] | None = None
    couples_both: Figure[int] | None = None
    couples_one: Figure[int] | None = None
    couples_rate: Figure[float] | None = None  # both partners, of the couples


@dataclass(frozen=True)
class FunnelRow:
    key: str
    label: str
    people: Figure[int]
    couples: Figure[int] | None
    steps: list[FunnelFigure]


@dataclass(frozen=True)
class Funnel:
    steps: list[Step]
    total: FunnelRow
    groups: list[FunnelRow]
    group_by: str | None
    check: ViewCheck
    couples_shown: bool  # not when a role filter splits couples


def _hide_all(f: Figure[Any], check: ViewCheck) -> Any:
    return f if check.safe else f.hidden(Reason.DIFFERENCE)


def _share(
    part: int, part_hidden: Reason | None, base: int, base_hidden: Reason | None, k: int
) -> tuple[float | None, Reason | None]:
    """``part`` of ``base`` as a share, and why it is hidden: wherever either count is (a
    rate beside a shown base would give a hidden count back, and the other way round), and
    when the base is under ``k``. The rule of every rate on the KPK pages (``_rate``)."""
    reason = (Reason.SMALL if 0 < base < k else None) or base_hidden or part_hidden
    if reason is not None:
        return None, reason
    return (part / base if base else None), None


def _rate(part: Figure[int], base: Figure[int], k: int) -> Figure[float]:
    """``part`` of ``base`` as a share (``_share``), a figure of ``base``'s people."""
    value, reason = _share(part.n, part.reason, base.n, base.reason, k)
    if reason is not None:
        return Figure(n=base.n, value=None, k=k, suppressed=True, reason=reason)
    return Figure(n=base.n, value=value, k=k)


def _columns(rows: Sequence[dict[str, int]], names: Iterable[str], k: int) -> dict[str, Any]:
    """Each column of a list of groups suppressed with its total (primary and
    complementary): ``{name: cells}``."""
    return {name: suppress_groups([r[name] for r in rows], k=k).cells for name in names}


def funnel(
    session: Session,
    *,
    f: ReportFilter,
    curriculum: Curriculum,
    k: int,
    group_by: str | None = None,
    locale: str = "id",
    scope: Scope | None = None,
) -> Funnel:
    cohorts, check = _scope(session, f, k, scope)
    steps = funnel_steps(curriculum)
    couples_shown = f.role is None
    by_role = {
        c.role: c.values
        for c in _read(session, f, cohorts, FUNNEL_COLUMNS, by_role=True)
        if c.role is not None
    }
    total = dict.fromkeys(FUNNEL_COLUMNS, 0)
    for values in by_role.values():
        for c, v in values.items():
            total[c] += v
    empty = dict.fromkeys(FUNNEL_COLUMNS, 0)
    invited = count(total["people"], k=k)
    couples = count(total["couples"], k=k)
    figures = []
    for step in steps:
        split = suppress_groups(
            [_n(by_role.get(r, empty), step.key) for r in ROLES],
            k=k,
        )
        people = count(_n(total, step.key), k=k)
        both = count(_both(total, step.key), k=k)
        figures.append(
            FunnelFigure(
                step=step,
                people=_hide_all(people, check),
                rate=_hide_all(_rate(people, invited, k), check),
                officials=_hide_all(split.cells[0], check),
                spouses=_hide_all(split.cells[1], check),
                couples_both=_hide_all(both, check) if couples_shown else None,
                couples_one=_hide_all(count(_one(total, step.key), k=k), check)
                if couples_shown
                else None,
                couples_rate=_hide_all(_rate(both, couples, k), check) if couples_shown else None,
            )
        )
    total_row = FunnelRow(
        key="",
        label="",
        people=_hide_all(count(total["people"], k=k), check),
        couples=_hide_all(count(total["couples"], k=k), check) if couples_shown else None,
        steps=figures,
    )
    groups: list[FunnelRow] = []
    if group_by is not None:
        grouped = _grouped(session, f, cohorts, FUNNEL_COLUMNS, group_by, locale)
        columns = {
            step.key: suppress_groups([_n(v, step.key) for _, v in grouped], k=k).cells
            for step in steps
        }
        couple_cells = suppress_groups([v["couples"] for _, v in grouped], k=k).cells
        for i, (g, _values) in enumerate(grouped):
            people = columns["invited"][i]
            groups.append(
                FunnelRow(
                    key=g.key,
                    label=g.label,
                    people=_hide_all(people, check),
                    couples=_hide_all(couple_cells[i], check)
                    if couples_shown and group_by != "role"
                    else None,
                    steps=[
                        FunnelFigure(
                            step=step,
                            people=_hide_all(columns[step.key][i], check),
                            rate=_hide_all(_rate(columns[step.key][i], people, k), check),
                        )
                        for step in steps
                    ],
                )
            )
    return Funnel(steps, total_row, groups, group_by, check, couples_shown)


# ---------------------------------------------------------------- learning gain


def _gain_columns(topic: str) -> list[str]:
    return [f"{topic}_{s}" for s in GAIN_SUMS]


def _sums_of(values: dict[str, int], topic: str) -> GainSums:
    return GainSums(*(values[f"{topic}_{s}"] for s in GAIN_SUMS))


@dataclass(frozen=True)
class GainFigures:
    n: Figure[int]  # matched: both tests taken
    pre_mean: Figure[float]  # percent
    post_mean: Figure[float]
    class_gain: Figure[float]  # ⟨g⟩ of the means
    mean_gain: Figure[float]  # mean of individual gains
    excluded: Figure[int]  # pre = 100 %: no individual gain
    d_z: Figure[float]
    ci_low: Figure[float]
    ci_high: Figure[float]


def gain_figures(
    sums: GainSums,
    *,
    k: int,
    n: Figure[int] | None = None,
    excluded: Figure[int] | None = None,
) -> GainFigures:
    """The figures of one group's gain, hidden wherever ``n`` (its matched count, suppressed
    as a cell of its table when given) is; ``excluded`` likewise (the cell of its column)."""
    v = gain_values(sums)
    base = n if n is not None else count(sums.n, k=k)

    def fig(value: float | None) -> Figure[float]:
        return _gain_figure(sums, value, base, k)

    return GainFigures(
        n=base,
        pre_mean=fig(v.pre_mean),
        post_mean=fig(v.post_mean),
        class_gain=fig(v.class_gain),
        mean_gain=fig(v.mean_gain),
        excluded=follow(base, excluded if excluded is not None else count(v.excluded, k=k)),
        d_z=fig(v.d_z),
        ci_low=fig(v.ci_low),
        ci_high=fig(v.ci_high),
    )


def _gain_figure(sums: GainSums, value: float | None, n: Figure[int], k: int) -> Figure[float]:
    """One figure of a group's gain: computed from its matched people, hidden with ``n``."""
    return follow(n, figure(sums.n, value, k=k))


def _hide_gain(g: GainFigures, check: ViewCheck) -> GainFigures:
    if check.safe:
        return g
    return GainFigures(*(x.hidden(Reason.DIFFERENCE) for x in vars(g).values()))


@dataclass(frozen=True)
class TopicGain:
    kind: str  # module · value
    slug: str
    title: dict[str, str]
    figures: GainFigures


@dataclass(frozen=True)
class GainRow:
    key: str
    label: str
    figures: GainFigures
    only_pre: Figure[int]  # took the pre-test only: beside, never dropped
    only_post: Figure[int]


@dataclass(frozen=True)
class GainReport:
    total: GainRow
    by_module: list[TopicGain]
    by_value: list[TopicGain]
    groups: list[GainRow]
    group_by: str | None
    check: ViewCheck


TOPIC_COLUMNS = ("people", "only_pre", "only_post", *_gain_columns("all"))


def gain(
    session: Session,
    *,
    f: ReportFilter,
    curriculum: Curriculum,
    k: int,
    group_by: str | None = None,
    locale: str = "id",
    scope: Scope | None = None,
) -> GainReport:
    cohorts, check = _scope(session, f, k, scope)
    modules = [(f"m{i}", m.slug, m.title) for i, m in enumerate(curriculum.modules, 1)]
    values = [
        (f"v{i}", slug, title) for i, (slug, title) in enumerate(value_titles(session).items(), 1)
    ]
    columns = [
        "people",
        "only_pre",
        "only_post",
        *(
            c
            for t in ["all", *(m[0] for m in modules), *(v[0] for v in values)]
            for c in _gain_columns(t)
        ),
    ]
    cells = _read(session, f, cohorts, columns)
    total = cells[0].values if cells else dict.fromkeys(columns, 0)

    def row(key: str, label: str, v: dict[str, int], cells: dict[str, Figure[int]]) -> GainRow:
        return GainRow(
            key=key,
            label=label,
            figures=_hide_gain(
                gain_figures(
                    _sums_of(v, "all"), k=k, n=cells.get("all_n"), excluded=cells.get("excluded")
                ),
                check,
            ),
            only_pre=_hide_all(cells.get("only_pre") or count(v["only_pre"], k=k), check),
            only_post=_hide_all(cells.get("only_post") or count(v["only_post"], k=k), check),
        )

    def topics(kind: str, items: list[tuple[str, str, dict[str, str]]]) -> list[TopicGain]:
        return [
            TopicGain(
                kind, slug, title, _hide_gain(gain_figures(_sums_of(total, slot), k=k), check)
            )
            for slot, slug, title in items
            # a hidden view lists every topic: which ones have data would say something
            if total[f"{slot}_n"] > 0 or not check.safe
        ]

    groups = []
    if group_by is not None:
        grouped = _grouped(session, f, cohorts, TOPIC_COLUMNS, group_by, locale)
        sums = [v | {"excluded": v["all_n"] - v["all_gn"]} for _, v in grouped]
        columns_of = _columns(sums, ("all_n", "excluded", "only_pre", "only_post"), k)
        groups = [
            row(g.key, g.label, v, {c: cells_of[i] for c, cells_of in columns_of.items()})
            for i, (g, v) in enumerate(grouped)
        ]
    return GainReport(
        total=row("", "", total, {}),
        by_module=topics("module", modules),
        by_value=topics("value", values),
        groups=groups,
        group_by=group_by,
        check=check,
    )


# ---------------------------------------------------------------- trend and comparison

TREND_COLUMNS = (
    "people",
    "couples",
    "n_activated",
    "n_pretest",
    "n_posttest",
    "both_certificate",
    "only_pre",
    *_gain_columns("all"),
)
TREND_COUNTS = (
    "people",
    "couples",
    "n_activated",
    "n_pretest",
    "n_posttest",
    "both_certificate",
    "all_n",
)


@dataclass(frozen=True)
class TrendRow:
    period: str
    label: str
    people: Figure[int]
    activated: Figure[float]  # of the invited
    posttest: Figure[float]
    couples_complete: Figure[float]  # couples with both certificates, of the couples
    gain: GainFigures


@dataclass(frozen=True)
class Trend:
    interval: str
    rows: list[TrendRow]
    check: ViewCheck


NOT_SHOWN: Figure[float] = Figure(n=0, value=None, k=1)  # couples under a role filter


def trend(
    session: Session,
    *,
    f: ReportFilter,
    k: int,
    interval: str = "quarter",
    locale: str = "id",
    scope: Scope | None = None,
) -> Trend:
    """The funnel's main rates and the gain per workshop period (month, quarter or year)."""
    cohorts, check = _scope(session, f, k, scope)
    grouped = _grouped(session, f, cohorts, TREND_COLUMNS, interval, locale)
    c = _columns([v for _, v in grouped], TREND_COUNTS, k)
    rows = []
    for i, (g, v) in enumerate(grouped):
        base = c["people"][i]
        rows.append(
            TrendRow(
                period=g.key,
                label=g.label,
                people=_hide_all(base, check),
                activated=_hide_all(_rate(c["n_activated"][i], base, k), check),
                posttest=_hide_all(_rate(c["n_posttest"][i], base, k), check),
                couples_complete=_hide_all(
                    _rate(c["both_certificate"][i], c["couples"][i], k), check
                )
                if f.role is None
                else NOT_SHOWN,
                gain=_hide_gain(gain_figures(_sums_of(v, "all"), k=k, n=c["all_n"][i]), check),
            )
        )
    return Trend(interval, rows, check)


@dataclass(frozen=True)
class _Cohorts:
    """The comparison's columns over every cohort of the view, suppressed on the counts: the
    figures of a row are made when the row is shown (a page shows 25 of hundreds)."""

    columns: dict[str, Column]
    sums: list[GainSums]
    check: ViewCheck
    k: int
    couples_shown: bool

    def count(self, name: str, i: int) -> Figure[int]:
        return _hide_all(self.columns[name][i], self.check)

    def rate(self, part: str, base: str, i: int) -> Figure[float]:
        return _hide_all(_rate(self.columns[part][i], self.columns[base][i], self.k), self.check)

    def share(self, part: str, base: str, i: int) -> float | None:
        """``rate(part, base, i).value`` without making a figure (the order of every row)."""
        if not self.check.safe:
            return None
        p, b = self.columns[part], self.columns[base]
        return _share(p.counts[i], p.reason(i), b.counts[i], b.reason(i), self.k)[0]

    def class_gain(self, i: int) -> Figure[float]:
        n = self.columns["all_n"][i]
        return _hide_all(
            _gain_figure(self.sums[i], class_gain(self.sums[i]), n, self.k), self.check
        )

    def class_gain_value(self, i: int) -> float | None:
        """``class_gain(i).value`` without making a figure."""
        n = self.columns["all_n"]
        hidden = not self.check.safe or n.reason(i) is not None or 0 < self.sums[i].n < self.k
        return None if hidden else class_gain(self.sums[i])


@dataclass
class CohortRow:
    slug: str
    title: str
    region: str
    region_slug: str
    workshop_start: date
    status: str  # upcoming · open · closed
    reasons: list[str]  # keys of ATTENTION_REASONS, worst first
    data: _Cohorts = field(repr=False)
    index: int = field(repr=False)

    @property
    def reason_names(self) -> list[str]:
        return [ATTENTION_REASONS[r] for r in self.reasons]

    @cached_property
    def people(self) -> Figure[int]:
        return self.data.count("people", self.index)

    @cached_property
    def activation(self) -> Figure[float]:
        """Activated, of the invited."""
        return self.data.rate("n_activated", "people", self.index)

    @cached_property
    def post_uptake(self) -> Figure[float]:
        """Took the post-test, of those who took the pre-test."""
        return self.data.rate("all_n", "n_pretest", self.index)

    @cached_property
    def completion(self) -> Figure[float]:
        """Couples complete (both certificates), of the couples."""
        if not self.data.couples_shown:
            return NOT_SHOWN
        return self.data.rate("both_certificate", "couples", self.index)

    @cached_property
    def class_gain(self) -> Figure[float]:
        """⟨g⟩, for the order and the reasons."""
        return self.data.class_gain(self.index)

    @cached_property
    def gain(self) -> GainFigures:
        """Every figure of the cohort's gain."""
        d = self.data
        return _hide_gain(
            gain_figures(d.sums[self.index], k=d.k, n=d.columns["all_n"][self.index]), d.check
        )


@dataclass(frozen=True)
class Comparison:
    rows: list[CohortRow]
    total: int
    check: ViewCheck


def comparison(
    session: Session, *, f: ReportFilter, k: int, now: datetime, tz: Any, scope: Scope | None = None
) -> Comparison:
    """One row per cohort — activation, post-test uptake, completion, gain — the cohorts that
    need attention first (most reasons, then the lowest completion of a closed cohort, then
    the lowest activation), with the reasons. The order and the reasons are worked out from
    the suppressed counts of every cohort; a row's figures when it is shown."""
    cohorts, check = _scope(session, f, k, scope)
    keys, rows = _read_rows(session, f, cohorts, TREND_COLUMNS, by_cohort=True)
    at = {c: i for i, c in enumerate(TREND_COLUMNS, len(keys))}
    data = _Cohorts(
        columns={name: suppress_column([r[at[name]] for r in rows], k=k) for name in TREND_COUNTS},
        sums=[GainSums(*(r[at[f"all_{s}"]] for s in GAIN_SUMS)) for r in rows],
        check=check,
        k=k,
        couples_shown=f.role is None,
    )
    ranked = []
    for i, r in enumerate(rows):
        info = cohorts[r[0]]
        over = now >= workshop_over_at(info.workshop_end, tz)
        closed = now >= info.post_closes
        activation = data.share("n_activated", "people", i)
        completion = data.share("both_certificate", "couples", i) if data.couples_shown else None
        reasons = attention_reasons(
            activation=activation,
            completion=completion,
            post_uptake=data.share("all_n", "n_pretest", i),
            class_gain=data.class_gain_value(i),
            workshop_over=over,
            window_closed=closed,
        )
        # completion counts once the window is closed: a cohort still learning has not
        # finished yet, which is no reason to put it first
        order = (
            -len(reasons),
            completion if closed and completion is not None else 2.0,
            activation if activation is not None else 2.0,
            info.workshop_start,
            info.slug,
        )
        ranked.append(
            (order, i, info, reasons, "closed" if closed else "open" if over else "upcoming")
        )
    ranked.sort(key=lambda entry: entry[0])
    return Comparison(
        rows=[
            CohortRow(
                slug=info.slug,
                title=info.title,
                region=info.region_name,
                region_slug=info.region_slug,
                workshop_start=info.workshop_start,
                status=status,
                reasons=reasons,
                data=data,
                index=i,
            )
            for _, i, info, reasons, status in ranked
        ],
        total=len(rows),
        check=check,
    )


def first(items: Iterable[Any]) -> Any:
    return next(iter(items), None)


def filter_choices(
    session: Session, f: ReportFilter, *, cohorts: dict[int, CohortInfo] | None = None
) -> dict[str, list[tuple[str, str]]]:
    """What the filter form offers: regions, provinces, the chosen region's OPDs, the cohorts
    of the chosen region or province (hundreds nationally: none until one is chosen, but the
    one in the filter), periods (years and quarters with a workshop)."""
    regions = session.execute(
        select(col(Region.slug), col(Region.name), col(Region.province)).order_by(
            col(Region.province), col(Region.name)
        )
    ).all()
    cohorts = cohorts if cohorts is not None else cohort_index(session)
    narrowed = f.region is not None or f.province is not None
    organizations: list[tuple[str, str]] = []
    if f.region is not None:
        organizations = [
            (str(r[0]), r[1])
            for r in session.execute(
                select(col(Organization.id), col(Organization.name))
                .join(Region, col(Region.id) == Organization.region_id)
                .where(col(Region.slug) == f.region)
                .order_by(col(Organization.name))
            ).all()
        ]
    periods: set[str] = set()
    for c in cohorts.values():
        periods.add(period_key(c.workshop_start, "year"))
        periods.add(period_key(c.workshop_start, "quarter"))
    return {
        "region": [(r[0], r[1]) for r in regions],
        "province": sorted({(r[2], r[2]) for r in regions}),
        "organization": organizations,
        "cohort": [
            (c.slug, c.title)
            for c in cohorts.values()
            if (narrowed or c.slug == f.cohort)
            and (f.region is None or c.region_slug == f.region)
            and (f.province is None or c.province == f.province)
        ],
        "period": [(p, p) for p in sorted(periods, reverse=True)],
        "role": [(r, ROLE_NAMES[r]) for r in ROLES],
    }


def cohort_title(
    session: Session, slug: str, *, cohorts: dict[int, CohortInfo] | None = None
) -> CohortInfo | None:
    cohorts = cohorts if cohorts is not None else cohort_index(session)
    return first(c for c in cohorts.values() if c.slug == slug)


# ---------------------------------------------------------------- after the workshop

FOLLOWUP_GROUPS = ("region", "province", "cohort", "month", "quarter", "year")
"""What the follow-ups can be grouped by: the survey is kept without its author, so it has
no OPD and no partner role; the check-ins and the retention check are summed the same way."""

RECOMMEND = "ya"  # the recommend item's "yes"


@dataclass(frozen=True)
class FollowupData:
    """Every cohort's follow-up sums, read once for a page (a few statements, whatever the
    number of cohorts): the survey's counts, the check-ins' and the retention check's."""

    survey: dict[str, Any] | None
    surveys: dict[int, CohortSurvey]
    checkins: dict[int, dict[int, RoundCounts]]
    retention: dict[int, RetentionSums]

    def bases(self, ids: Iterable[int]) -> dict[str, int]:
        """The people (or couples) each follow-up figure of these cohorts is computed from."""
        ids = list(ids)
        out = {
            "survey": sum(self.surveys[c].responses for c in ids if c in self.surveys),
            "retention": sum(self.retention[c].n for c in ids if c in self.retention),
        }
        for r in CHECKIN_ROUNDS:
            rounds = [self.checkins[c][r] for c in ids if c in self.checkins]
            out[f"plans{r}"] = sum(x.plans for x in rounds)
            out[f"answered{r}"] = sum(x.answered for x in rounds)
        return out


def followup_data(session: Session) -> FollowupData:
    survey = survey_text(session)
    return FollowupData(
        survey=survey,
        surveys=survey_counts(session, survey=survey),
        checkins=checkin_counts(session),
        retention=retention_sums(session),
    )


@dataclass(frozen=True)
class SurveyItemFigures:
    """One likert or choice item: who answered it; likert: the share who agreed (4 or 5)
    and the mean answer (1–5); choice: the share of each option."""

    slug: str
    kind: str
    text: dict[str, str]
    answered: Figure[int]
    agree: Figure[float] | None = None
    mean: Figure[float] | None = None
    options: dict[str, Figure[float]] = field(default_factory=dict)

    @property
    def recommend(self) -> Figure[float] | None:
        return self.options.get(RECOMMEND)


@dataclass(frozen=True)
class SurveyFigures:
    responses: Figure[int]
    items: list[SurveyItemFigures]

    @property
    def recommend(self) -> Figure[float] | None:
        return next((i.recommend for i in self.items if i.recommend is not None), None)


@dataclass(frozen=True)
class RoundFigures:
    """One check-in round: couples with a confirmed plan, couples of which both partners
    answered (and their share of the plans), couples who kept every commitment (and their
    share of those who answered)."""

    round: int
    plans: Figure[int]
    answered: Figure[int]
    answered_rate: Figure[float]
    kept: Figure[int]
    kept_rate: Figure[float]


@dataclass(frozen=True)
class RetentionFigures:
    """People with the pre-test, the post-test and the retention check, and their mean
    scores (percent) on the retention check's items."""

    n: Figure[int]
    pre: Figure[float]
    post: Figure[float]
    later: Figure[float]


@dataclass(frozen=True)
class FollowupRow:
    key: str
    label: str
    survey: SurveyFigures
    rounds: list[RoundFigures]
    retention: RetentionFigures


@dataclass(frozen=True)
class FollowupReport:
    available: bool  # not under an OPD or partner-role filter: the follow-ups have neither
    total: FollowupRow
    groups: list[FollowupRow]
    group_by: str | None  # None: not grouped, or by a grouping the follow-ups do not have
    check: ViewCheck  # the page's people, and each follow-up's own bases, against each filter

    @property
    def survey_items(self) -> list[SurveyItemFigures]:
        return self.total.survey.items


def _followup_check(
    data: FollowupData, f: ReportFilter, cohorts: dict[int, CohortInfo], k: int
) -> ViewCheck:
    """Differencing across filters, on the follow-ups' own bases: for each active filter,
    the responses, plans, answered couples and retention people with and without it."""
    if not f.active():
        return ViewCheck()
    ids = _chosen(cohorts, f)
    mine = data.bases(cohorts if ids is None else ids)
    checks = {}
    for name in f.active():
        wider_ids = _chosen(cohorts, f.without(name))
        wider = data.bases(cohorts if wider_ids is None else wider_ids)
        unsafe = [
            check_subset(wider[b], mine[b], k=k)
            for b in mine
            if not check_subset(wider[b], mine[b], k=k).safe
        ]
        if unsafe:
            checks[name] = unsafe[0]
    return ViewCheck(checks)


def _survey_figures(
    survey: dict[str, Any] | None,
    summaries: list[SurveySummary],
    cells: Callable[[str], list[Figure[int]]],
    i: int,
    hide: Callable[[Figure[Any]], Any],
    k: int,
) -> SurveyFigures:
    summary = summaries[i]
    items = []
    for item in summary.items:
        answered = cells(f"{item.slug}:n")[i]
        if item.kind == "likert":
            items.append(
                SurveyItemFigures(
                    item.slug,
                    item.kind,
                    item.text,
                    answered=hide(answered),
                    agree=hide(_rate(cells(f"{item.slug}:agree")[i], answered, k)),
                    mean=hide(follow(answered, figure(answered.n, item.mean, k=k))),
                )
            )
        else:
            items.append(
                SurveyItemFigures(
                    item.slug,
                    item.kind,
                    item.text,
                    answered=hide(answered),
                    options={
                        o["slug"]: hide(_rate(cells(f"{item.slug}:{o['slug']}")[i], answered, k))
                        for o in item.options
                    },
                )
            )
    return SurveyFigures(responses=hide(cells("responses")[i]), items=items)


def followup(
    session: Session,
    *,
    f: ReportFilter,
    k: int,
    group_by: str | None = None,
    locale: str = "id",
    scope: Scope | None = None,
    data: FollowupData | None = None,
) -> FollowupReport:
    """The reaction survey, the check-ins and the retention check of the filtered cohorts, in
    total and per group (``FOLLOWUP_GROUPS``), suppressed as the other measures are: counts
    under k hidden with their complements in a grouped list, every share and mean hidden
    with its counts, the view hidden when a filter singles out fewer than k (the page's
    people, or the follow-ups' own respondents). Never a text a person wrote."""
    cohorts, people_check = _scope(session, f, k, scope)
    data = data or followup_data(session)
    available = f.organization is None and f.role is None
    ids = [] if not available else list(_chosen(cohorts, f) or cohorts)
    own = _followup_check(data, f, cohorts, k) if available else ViewCheck()
    check = ViewCheck({**own.checks, **people_check.checks}) if own.checks else people_check
    grouping = group_by if group_by in FOLLOWUP_GROUPS else None
    units: list[tuple[GroupKey, list[int]]] = []
    if grouping is not None:
        key_of = _grouper(session, grouping, cohorts, locale)
        found: dict[str, tuple[GroupKey, list[int]]] = {}
        for cid in ids:
            bases = data.bases([cid])
            if not any(bases.values()):
                continue
            g = key_of({"cohort_id": cid, "region_id": cohorts[cid].region_id})
            found.setdefault(g.key, (g, []))[1].append(cid)
        units = sorted(found.values(), key=lambda u: u[0].sort)

    def rows(parts: list[tuple[str, str, list[int]]], grouped: bool) -> list[FollowupRow]:
        summaries = [
            survey_of_counts(data.survey, [data.surveys[c] for c in p if c in data.surveys], k=1)
            for _, _, p in parts
        ]
        rounds = [
            {r: [data.checkins[c][r] for c in p if c in data.checkins] for r in CHECKIN_ROUNDS}
            for _, _, p in parts
        ]
        retention = [
            sum((data.retention[c] for c in p if c in data.retention), RetentionSums())
            for _, _, p in parts
        ]
        counts: dict[str, list[int]] = {"responses": [s.responses for s in summaries]}
        for j, item in enumerate(summaries[0].items if summaries else []):
            counts[f"{item.slug}:n"] = [s.items[j].answered for s in summaries]
            if item.kind == "likert":
                counts[f"{item.slug}:agree"] = [s.items[j].agree for s in summaries]
            for o in item.options:
                counts[f"{item.slug}:{o['slug']}"] = [
                    s.items[j].counts.get(o["slug"], 0) for s in summaries
                ]
        for r in CHECKIN_ROUNDS:
            counts[f"plans{r}"] = [sum(x.plans for x in rr[r]) for rr in rounds]
            counts[f"answered{r}"] = [sum(x.answered for x in rr[r]) for rr in rounds]
            counts[f"kept{r}"] = [sum(x.kept for x in rr[r]) for rr in rounds]
        counts["retention"] = [s.n for s in retention]
        made: dict[str, list[Figure[int]]] = {}

        def cells(name: str) -> list[Figure[int]]:
            if name not in made:
                values = counts[name]
                made[name] = (
                    list(suppress_groups(values, k=k).cells)
                    if grouped
                    else [count(v, k=k) for v in values]
                )
            return made[name]

        def hide(x: Figure[Any]) -> Any:
            return x if check.safe else x.hidden(Reason.DIFFERENCE)

        out = []
        for i, (key, label, _) in enumerate(parts):
            round_figures = []
            for r in CHECKIN_ROUNDS:
                plans, answered, kept = (cells(f"{m}{r}")[i] for m in ("plans", "answered", "kept"))
                round_figures.append(
                    RoundFigures(
                        round=r,
                        plans=hide(plans),
                        answered=hide(answered),
                        answered_rate=hide(_rate(answered, plans, k)),
                        kept=hide(kept),
                        kept_rate=hide(_rate(kept, answered, k)),
                    )
                )
            n = cells("retention")[i]
            sums = retention[i]

            def mean(attr: str, n: Figure[int] = n, sums: RetentionSums = sums) -> Figure[float]:
                return hide(follow(n, figure(sums.n, sums.mean(attr), k=k)))

            out.append(
                FollowupRow(
                    key=key,
                    label=label,
                    survey=_survey_figures(data.survey, summaries, cells, i, hide, k),
                    rounds=round_figures,
                    retention=RetentionFigures(
                        n=hide(n), pre=mean("pre"), post=mean("post"), later=mean("later")
                    ),
                )
            )
        return out

    total = rows([("", "", ids)], grouped=False)[0]
    groups = rows([(g.key, g.label, p) for g, p in units], grouped=True) if units else []
    return FollowupReport(
        available=available,
        total=total,
        groups=groups,
        group_by=grouping,
        check=check,
    )
