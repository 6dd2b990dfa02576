"""What the JSON API answers with: pydantic models, which are also its OpenAPI schema.

Only places, organizations, cohorts, counts and measures: no model here has a field for a
person's name, username, contact or any free text a person wrote. Every figure of a measure
is a ``FigureOut`` (``value`` and ``suppressed``), made from the reports' figure by
``app.reports.suppression.api_value`` alone: the number of people behind a figure is never
sent, as it could give a hidden count away."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.reports.suppression import Figure, api_value

MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 50


SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


# ---------------------------------------------------------------- what a request may ask


class _Query(BaseModel):
    """Query parameters; any other parameter is refused (422), so that a misspelt filter
    never silently answers with everything."""

    model_config = ConfigDict(extra="forbid")


class _Paging(_Query):
    page: int = Field(1, ge=1, le=1_000_000, description="Page number, from 1")
    per_page: int = Field(
        DEFAULT_PER_PAGE,
        ge=1,
        le=MAX_PER_PAGE,
        description=f"Items per page, at most {MAX_PER_PAGE}",
    )


class RegionQuery(_Paging):
    pass


class OrganizationQuery(_Paging):
    region: str | None = Field(
        None, min_length=1, max_length=64, pattern=SLUG_PATTERN, description="A region's slug"
    )


class CohortQuery(OrganizationQuery):
    year: int | None = Field(None, ge=2000, le=2100, description="Year the workshop starts")


# the measures' choices: the same as ``app.reports.service`` (GROUP_BY, INTERVALS, ROLES), which
# a test compares them with
GroupBy = Literal[
    "region", "province", "organization", "cohort", "month", "quarter", "year", "role"
]
Interval = Literal["month", "quarter", "year"]
PartnerRole = Literal["official", "spouse"]
Lang = Literal["id", "en"]

PERIOD_PATTERN = r"^(?:20[0-9]{2}|2100)(?:-(?:Q[1-4]|0[1-9]|1[0-2]))?$"
TEXT_PATTERN = r"^[^\x00-\x1f\x7f]+$"  # no control characters


class MeasureQuery(_Query):
    """The filters of every measure, as on the KPK pages; each narrows (none: everyone). A
    value that matches nothing in the database is refused (422, naming the parameter)."""

    region: str | None = Field(
        None, min_length=1, max_length=64, pattern=SLUG_PATTERN, description="A region's slug"
    )
    province: str | None = Field(
        None, min_length=1, max_length=100, pattern=TEXT_PATTERN, description="A province"
    )
    organization: int | None = Field(
        None, ge=1, le=999_999_999, description="An organization's (OPD) id"
    )
    cohort: str | None = Field(
        None, min_length=1, max_length=64, pattern=SLUG_PATTERN, description="A cohort's slug"
    )
    period: str | None = Field(
        None,
        pattern=PERIOD_PATTERN,
        description="When the workshop starts: a year (`2024`), a quarter (`2024-Q4`) or a "
        "month (`2024-10`)",
    )
    role: PartnerRole | None = Field(None, description="Only officials, or only spouses")
    lang: Lang = Field("id", description="Language of the labels: Indonesian or English")


class GroupedQuery(MeasureQuery):
    group_by: GroupBy | None = Field(
        None, description="Also give the figures of each group (period groups: the workshop's)"
    )


class FunnelQuery(GroupedQuery):
    pass


class GainQuery(GroupedQuery):
    pass


class TrendQuery(MeasureQuery):
    interval: Interval = Field("quarter", description="One row per workshop period of this length")


class ComparisonQuery(MeasureQuery, _Paging):
    pass


# the follow-ups' groupings: ``app.reports.service.FOLLOWUP_GROUPS`` (a test compares them)
FollowupGroupBy = Literal["region", "province", "cohort", "month", "quarter", "year"]


class FollowupQuery(_Query):
    """The follow-ups' filters: those of the measures but the OPD and the partner role,
    which the follow-ups do not have (the survey is kept without its author)."""

    region: str | None = Field(
        None, min_length=1, max_length=64, pattern=SLUG_PATTERN, description="A region's slug"
    )
    province: str | None = Field(
        None, min_length=1, max_length=100, pattern=TEXT_PATTERN, description="A province"
    )
    cohort: str | None = Field(
        None, min_length=1, max_length=64, pattern=SLUG_PATTERN, description="A cohort's slug"
    )
    period: str | None = Field(
        None,
        pattern=PERIOD_PATTERN,
        description="When the workshop starts: a year (`2024`), a quarter (`2024-Q4`) or a "
        "month (`2024-10`)",
    )
    lang: Lang = Field("id", description="Language of the labels: Indonesian or English")
    group_by: FollowupGroupBy | None = Field(
        None, description="Also give the figures of each group (period groups: the workshop's)"
    )


# ---------------------------------------------------------------- what the API answers


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegionOut(_Out):
    """A regional government (pemerintah daerah)."""

    slug: str = Field(description="Stable short name, used in filters", examples=["kota-tangerang"])
    name: str = Field(examples=["Kota Tangerang"])
    province: str = Field(examples=["Banten"])
    organizations: int = Field(ge=0, description="Number of its organizations (OPD)")
    cohorts: int = Field(ge=0, description="Number of its cohorts")


class OrganizationOut(_Out):
    """An organization (OPD, organisasi perangkat daerah) of a region."""

    id: int
    name: str = Field(examples=["Dinas Pendidikan"])
    region: str = Field(description="The region's slug", examples=["kota-tangerang"])


class CohortOut(_Out):
    """A cohort (angkatan): one workshop with the learning before and after it."""

    slug: str = Field(examples=["tng-2024"])
    title: str
    region: str = Field(description="The region's slug")
    workshop_start: date
    workshop_end: date
    couples: int = Field(ge=0, description="Number of couples enrolled")


class _Page(_Out):
    page: int = Field(ge=1, description="This page's number, from 1")
    per_page: int = Field(ge=1, le=MAX_PER_PAGE)
    total: int = Field(ge=0, description="Items on all pages together")


class RegionPage(_Page):
    items: list[RegionOut]


class OrganizationPage(_Page):
    items: list[OrganizationOut]


class CohortPage(_Page):
    items: list[CohortOut]


# ---------------------------------------------------------------- the measures


class FigureOut(_Out):
    """One figure of a measure. `value` is null when the figure is **suppressed**
    (`suppressed`: it concerns fewer than k people, or it would let a hidden figure be worked
    out, or the filters single out too few people), and for a share or a mean of nobody
    (`suppressed` false); a count of nobody is 0. Shares are fractions (0.85), means and
    scores percents (72.5)."""

    value: int | float | None
    suppressed: bool

    @classmethod
    def of(cls, figure: Figure[Any]) -> FigureOut:
        value, suppressed = api_value(figure)
        return cls(value=value, suppressed=suppressed)


def _absent(value: object) -> bool:
    return value is None


def _optional(description: str) -> Any:
    """A figure sent only where the measure has it (the key is left out otherwise)."""
    return Field(None, description=description, exclude_if=_absent)


class LabelOut(_Out):
    key: str = Field(description="A stable key, for programs")
    label: str = Field(description="The key in words, in the language of `lang`")


class FiltersOut(_Out):
    """The filters the figures are of (null: not filtered)."""

    region: str | None
    province: str | None
    organization: int | None
    cohort: str | None
    period: str | None
    role: PartnerRole | None


class _View(_Out):
    k: int = Field(
        ge=1, description="Figures of fewer than k people are suppressed (`min_cell_size`)"
    )
    filters: FiltersOut
    hidden_reason: str | None = Field(
        description="Why every figure is suppressed: compared with the view without one of "
        "the filters, fewer than k people would be singled out (null: the view is shown)"
    )
    hidden_filters: list[str] = Field(description="The filters that narrow too far")


class FunnelStepOut(_Out):
    """How many reached a step, and their share of the invited."""

    key: str = Field(examples=["module2"])
    people: FigureOut
    rate: FigureOut = Field(description="Of the invited")
    officials: FigureOut | None = _optional("Officials who reached it (total only)")
    spouses: FigureOut | None = _optional("Spouses who reached it (total only)")
    couples_both: FigureOut | None = _optional(
        "Couples of whom both partners reached it (total only, not with `role`)"
    )
    couples_one: FigureOut | None = _optional("Couples of whom one partner only reached it")
    couples_rate: FigureOut | None = _optional("Couples with both partners, of the couples")


class FunnelTotalOut(_Out):
    people: FigureOut = Field(description="Invited participants")
    couples: FigureOut | None = _optional("Invited couples (not with `role`)")
    steps: list[FunnelStepOut]


class FunnelGroupOut(FunnelTotalOut):
    key: str
    label: str


class FunnelOut(_View):
    """Invited → activated → pre-test → each module → workshop → post-test → reflections →
    pledge → certificate."""

    group_by: GroupBy | None
    steps: list[LabelOut] = Field(description="The steps, in order")
    total: FunnelTotalOut
    groups: list[FunnelGroupOut] = Field(description="With `group_by`: each group")


class GainFiguresOut(_Out):
    """Learning gain of the **matched** participants (both tests taken)."""

    n: FigureOut = Field(description="Matched participants")
    pre_mean: FigureOut = Field(description="Mean pre-test score, percent")
    post_mean: FigureOut = Field(description="Mean post-test score, percent")
    class_gain: FigureOut = Field(
        description="Normalized gain of the means (post − pre) / (100 − pre)"
    )
    mean_gain: FigureOut = Field(description="Mean of the individual normalized gains")
    excluded: FigureOut = Field(description="Matched with a pre-test of 100 %: no individual gain")
    d_z: FigureOut = Field(description="Paired effect size")
    ci_low: FigureOut = Field(description="95 % confidence interval of d_z, low end")
    ci_high: FigureOut = Field(description="95 % confidence interval of d_z, high end")


class GainTotalOut(_Out):
    gain: GainFiguresOut
    only_pre: FigureOut = Field(description="Took the pre-test only")
    only_post: FigureOut = Field(description="Took the post-test only")


class GainGroupOut(GainTotalOut):
    key: str
    label: str


class TopicGainOut(_Out):
    """The gain on the questions of one module or one integrity value."""

    slug: str
    title: str
    gain: GainFiguresOut


class GainOut(_View):
    group_by: GroupBy | None
    total: GainTotalOut
    modules: list[TopicGainOut]
    values: list[TopicGainOut]
    groups: list[GainGroupOut] = Field(description="With `group_by`: each group")


class TrendRowOut(_Out):
    period: str = Field(examples=["2024-Q4"])
    label: str = Field(examples=["T4 2024"])
    people: FigureOut = Field(description="Invited participants of the period's cohorts")
    activated: FigureOut = Field(description="Activated, of the invited")
    posttest: FigureOut = Field(description="Took the post-test, of the invited")
    couples_complete: FigureOut = Field(
        description="Couples with both certificates, of the couples"
    )
    gain: GainFiguresOut


class TrendOut(_View):
    interval: Interval
    rows: list[TrendRowOut] = Field(description="Periods with a workshop, in order")


class ComparisonRowOut(_Out):
    slug: str = Field(examples=["tng-2024"])
    title: str
    region: str = Field(description="The region's slug")
    workshop_start: date
    status: LabelOut = Field(description="`upcoming`, `open` (the post-test window) or `closed`")
    people: FigureOut = Field(description="Invited participants")
    activation: FigureOut = Field(description="Activated, of the invited")
    post_uptake: FigureOut = Field(description="Took the post-test, of those who took the pre-test")
    completion: FigureOut = Field(description="Couples complete, of the couples")
    gain: GainFiguresOut
    reasons: list[LabelOut] = Field(
        description="Why the cohort needs attention (`activation`, `completion`, `post_test`, "
        "`gain`), the worst first"
    )


class ComparisonPage(_View, _Page):
    """The cohorts, those that need attention first."""

    items: list[ComparisonRowOut]


class SurveyItemOut(_Out):
    """One statement (likert, 1–5) or question with options (choice) of the survey."""

    slug: str = Field(examples=["materi-jelas"])
    kind: Literal["likert", "choice"]
    text: str = Field(description="The statement or question, in the language of `lang`")
    answered: FigureOut = Field(description="People who answered it")
    agree: FigureOut | None = _optional(
        "Likert: who agreed (4 or 5), a share of those who answered"
    )
    mean: FigureOut | None = _optional("Likert: the mean answer, from 1 to 5")
    options: dict[str, FigureOut] | None = _optional(
        "Choice: each option's share of those who answered, by its slug"
    )


class SurveyOut(_Out):
    """The reaction survey after the workshop (level 1). Its answers are kept without their
    author; free-text answers are never sent."""

    responses: FigureOut = Field(description="People who answered the survey")
    recommend: FigureOut | None = Field(
        description="Would recommend the program (`ya`), a share of those who answered"
    )
    items: list[SurveyItemOut]


class CheckinRoundOut(_Out):
    """One check-in of the family action plans (level 3): round 1 about 30 days after the
    workshop, round 2 about 90."""

    round: int = Field(ge=1, le=2)
    plans: FigureOut = Field(description="Couples with a confirmed action plan")
    answered: FigureOut = Field(description="Couples of which both partners answered")
    answered_rate: FigureOut = Field(description="Answered, a share of the plans")
    kept: FigureOut = Field(
        description="Couples who kept every commitment (every partner marked each done)"
    )
    kept_rate: FigureOut = Field(description="Kept, a share of the couples who answered")


class RetentionOut(_Out):
    """The retention check at the 90-day check-in: the same items scored in the pre-test,
    the post-test and about 90 days after the workshop, of those who took all three."""

    n: FigureOut = Field(description="Participants with all three scores")
    pre_mean: FigureOut = Field(description="Mean pre-test score on the items, percent")
    post_mean: FigureOut = Field(description="Mean post-test score on the items, percent")
    later_mean: FigureOut = Field(description="Mean retention check score, percent")


class FollowupFiguresOut(_Out):
    survey: SurveyOut
    checkins: list[CheckinRoundOut]
    retention: RetentionOut


class FollowupGroupOut(FollowupFiguresOut):
    key: str
    label: str


class FollowupOut(_View):
    """After the workshop: the survey, the check-ins and the retention check."""

    group_by: FollowupGroupBy | None
    total: FollowupFiguresOut
    groups: list[FollowupGroupOut] = Field(description="With `group_by`: each group")


class Problem(BaseModel):
    """An error, as RFC 9457 ``application/problem+json``."""

    type: str = Field(default="about:blank", description="A URI reference naming the problem")
    title: str = Field(description="The HTTP status in words", examples=["Unauthorized"])
    status: int = Field(ge=400, le=599)
    detail: str = Field(description="What went wrong, in English, for the developer")
    errors: list[dict[str, str]] | None = Field(
        default=None, description="For invalid input (422): each parameter and its problem"
    )
