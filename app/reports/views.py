"""The KPK pages and exports: the service's measures as page rows, charts, export tables and the
audit record of a download.

Pure code of the reports domain (no web framework): the router parses the request and calls
``kpk_report``, then renders what this module makes of it. Every figure becomes text in one
place, ``Formats`` (pages) or ``export_table`` (CSV/XLSX), both through
``app.reports.suppression`` (``display``, ``export_value``): a suppressed figure is "< 5", never
its value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape
from sqlmodel import Session

from app.accounts.models import CurrentUser
from app.audit import audit_record
from app.charts import bar_chart, paired_bars
from app.cohorts.models import Organization
from app.curriculum.outline import Curriculum
from app.exports import Column
from app.i18n import N_, fmt_number, fmt_percent, pick, translations
from app.reports import service
from app.reports.service import (
    CohortInfo,
    CohortRow,
    Comparison,
    FollowupReport,
    FollowupRow,
    Funnel,
    FunnelFigure,
    FunnelRow,
    GainFigures,
    GainReport,
    ReportFilter,
    TopicGain,
    Trend,
    ViewCheck,
)
from app.reports.suppression import Figure, display, explain, export_value, format_count

PAGE_SIZE = 25
"""Cohorts per page of the comparison table."""

STATUS_NAMES = {
    "upcoming": N_("Upcoming"),
    "open": N_("Open"),
    "closed": N_("Closed"),
}
"""A cohort's state: before the workshop's end, the post-test window open, closed."""

FILTER_NAMES = {
    "region": service.GROUP_NAMES["region"],
    "province": service.GROUP_NAMES["province"],
    "organization": service.GROUP_NAMES["organization"],
    "cohort": service.GROUP_NAMES["cohort"],
    "period": N_("Period"),
    "role": service.GROUP_NAMES["role"],
}

INTERVAL_NAMES = {
    "month": service.GROUP_NAMES["month"],
    "quarter": service.GROUP_NAMES["quarter"],
    "year": service.GROUP_NAMES["year"],
}

COHORT_GROUPS = ("organization", "role")
"""What a single cohort's page can be grouped by."""


# ---------------------------------------------------------------- figures as text


class Formats:
    """How a page writes a figure: a count, a share (0..1), a mean in percent, a gain or
    d_z — "< 5" with its reason as a tooltip when suppressed, "–" for no data."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self._gettext = translations(locale).gettext

    # plain text (charts, tooltips)

    def _number(self, value: float, pattern: str) -> str:
        if not math.isfinite(value):
            return "–"
        return fmt_number(value, pattern, self.locale)

    def count_text(self, f: Figure[int]) -> str:
        return display(f, locale=self.locale, fmt=format_count)

    def share_text(self, f: Figure[float]) -> str:
        return display(f, locale=self.locale, fmt=lambda v, loc: fmt_percent(v, loc))

    def mean_text(self, f: Figure[float]) -> str:
        return display(f, locale=self.locale, fmt=lambda v, _: self._number(v, "#,##0.0") + "%")

    def dec_text(self, f: Figure[float]) -> str:
        return display(f, locale=self.locale, fmt=lambda v, _: self._number(v, "#,##0.00"))

    def likert_text(self, f: Figure[float]) -> str:
        """A mean answer on the survey's 1–5 scale: ``4,2``."""
        return display(f, locale=self.locale, fmt=lambda v, _: self._number(v, "0.0"))

    # page cells

    def _cell(self, f: Figure[Any], text: str) -> Markup:
        if not f.suppressed:
            return escape(text)
        reason = explain(f)
        title = self._gettext(reason) % {"k": f.k} if reason else ""
        return Markup('<abbr class="hidden-figure" title="{}">{}</abbr>').format(title, text)

    def count(self, f: Figure[int] | None) -> Markup:
        return escape("") if f is None else self._cell(f, self.count_text(f))

    def share(self, f: Figure[float] | None) -> Markup:
        return escape("") if f is None else self._cell(f, self.share_text(f))

    def mean(self, f: Figure[float] | None) -> Markup:
        return escape("") if f is None else self._cell(f, self.mean_text(f))

    def dec(self, f: Figure[float] | None) -> Markup:
        return escape("") if f is None else self._cell(f, self.dec_text(f))

    def likert(self, f: Figure[float] | None) -> Markup:
        return escape("") if f is None else self._cell(f, self.likert_text(f))

    def ci(self, g: GainFigures) -> Markup:
        """d_z's 95 % confidence interval: ``[0,85; 1,90]``."""
        if g.ci_low.suppressed:
            return self._cell(g.ci_low, self.dec_text(g.ci_low))
        if g.ci_low.value is None or g.ci_high.value is None:
            return escape("–")
        return escape(f"[{self.dec_text(g.ci_low)}; {self.dec_text(g.ci_high)}]")


# ---------------------------------------------------------------- the report


@dataclass(frozen=True)
class Page:
    number: int
    pages: int
    rows: list[CohortRow]
    total: int


@dataclass(frozen=True)
class KpkReport:
    f: ReportFilter
    group_by: str | None
    interval: str
    k: int
    funnel: Funnel
    gain: GainReport
    trend: Trend
    comparison: Comparison | None
    cohort: CohortInfo | None = None  # the cohort of a cohort's page
    cohorts: dict[int, CohortInfo] | None = None  # every cohort (for the filter form)
    followup: FollowupReport | None = None  # the survey, the check-ins, the retention check

    @property
    def check(self) -> ViewCheck:
        return self.funnel.check


def kpk_report(
    session: Session,
    *,
    f: ReportFilter,
    group_by: str | None,
    interval: str,
    curriculum: Curriculum,
    k: int,
    now: datetime,
    tz: Any,
    locale: str,
    cohort: CohortInfo | None = None,
    cohorts: dict[int, CohortInfo] | None = None,
) -> KpkReport:
    """Everything the KPK page (and its export) shows for a filter; without the cohort
    comparison on a cohort's own page."""
    scope = service.scope_of(session, f, k=k, cohorts=cohorts)
    return KpkReport(
        f=f,
        group_by=group_by,
        interval=interval,
        k=k,
        funnel=service.funnel(
            session,
            f=f,
            curriculum=curriculum,
            k=k,
            group_by=group_by,
            locale=locale,
            scope=scope,
        ),
        gain=service.gain(
            session,
            f=f,
            curriculum=curriculum,
            k=k,
            group_by=group_by,
            locale=locale,
            scope=scope,
        ),
        trend=service.trend(session, f=f, k=k, interval=interval, locale=locale, scope=scope),
        comparison=None
        if cohort is not None
        else service.comparison(session, f=f, k=k, now=now, tz=tz, scope=scope),
        cohort=cohort,
        cohorts=scope.cohorts,
        followup=service.followup(session, f=f, k=k, group_by=group_by, locale=locale, scope=scope),
    )


def parse_page(value: str | None) -> int:
    """The page number of the URL: anything but a positive number is page 1."""
    text = (value or "").strip()
    if not text.isdigit() or len(text) > 6:
        return 1
    return max(int(text), 1)


def comparison_page(comparison: Comparison | None, number: int) -> Page:
    """One page of the cohort comparison (a page past the last shows the last)."""
    rows = comparison.rows if comparison is not None else []
    pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
    number = min(max(number, 1), pages)
    start = (number - 1) * PAGE_SIZE
    return Page(number, pages, rows[start : start + PAGE_SIZE], len(rows))


def filter_words(
    session: Session, f: ReportFilter, choices: dict[str, list[tuple[str, str]]], locale: str
) -> list[tuple[str, str]]:
    """The active filters as (name, value) in words, e.g. ("Daerah", "Kota Tangerang")."""
    gettext = translations(locale).gettext
    words = []
    for name in f.active():
        value = str(getattr(f, name))
        text = dict(choices.get(name, [])).get(value)
        if name == "organization" and text is None:
            org = session.get(Organization, f.organization)
            text = org.name if org is not None else value
        elif name == "cohort" and text is None:
            info = service.cohort_title(session, value)
            text = info.title if info is not None else value
        elif name == "period":
            text = service.period_label(value, locale)
        elif name == "role":
            text = gettext(service.ROLE_NAMES[value])
        words.append((gettext(FILTER_NAMES[name]), text or value))
    return words


def step_of(row: FunnelRow, key: str) -> FunnelFigure | None:
    return next((s for s in row.steps if s.step.key == key), None)


# ---------------------------------------------------------------- charts


def _wide_and_narrow(draw: Callable[..., Markup], **kwargs: Any) -> Markup:
    """A chart twice: labels above the bars for a phone, in a column beside them for a
    laptop (the CSS shows one)."""
    narrow = draw(**kwargs)
    wide = draw(**kwargs, width=720, label_width=260)
    return Markup('<div class="chart narrow">{}</div><div class="chart wide">{}</div>').format(
        narrow, wide
    )


def _bar_value(f: Figure[Any], scale: float = 1.0) -> float:
    return float(f.value) * scale if f.value is not None else 0.0


def _percent(f: Figure[float]) -> float | None:
    return f.value * 100 if f.value is not None else None


def report_charts(report: KpkReport, fmt: Formats) -> dict[str, Markup]:
    """The page's charts (none when the view is hidden: the notice says why)."""
    if not report.check.safe:
        return {}
    locale = fmt.locale
    _ = translations(locale).gettext
    total = report.funnel.total
    charts: dict[str, Markup] = {}
    charts["funnel"] = _wide_and_narrow(
        bar_chart,
        rows=[
            (service.step_label(s.step, locale), _bar_value(s.people), fmt.count_text(s.people))
            for s in total.steps
        ],
        title=_("Participants who have reached each step"),
        max_value=max(_bar_value(total.people), 1.0),
        locale=locale,
    )
    if report.funnel.groups:
        rows = []
        for g in report.funnel.groups:
            step = step_of(g, "certificate")
            if step is not None:
                rows.append((g.label, _bar_value(step.rate, 100), fmt.share_text(step.rate)))
        charts["funnel_groups"] = _wide_and_narrow(
            bar_chart,
            rows=rows,
            title=_("Share of the invited who received a certificate"),
            max_value=100,
            locale=locale,
            color="#0b5d4b",
        )

    def paired(topics: Sequence[TopicGain], title: str) -> Markup:
        return _wide_and_narrow(
            paired_bars,
            rows=[
                (pick(t.title, locale), t.figures.pre_mean.value, t.figures.post_mean.value)
                for t in topics
            ],
            title=title,
            first_label=_("Pre-test"),
            second_label=_("Post-test"),
            locale=locale,
        )

    charts["by_value"] = paired(report.gain.by_value, _("Pre-test and post-test by value"))
    charts["by_module"] = paired(report.gain.by_module, _("Pre-test and post-test by module"))
    charts["trend"] = _wide_and_narrow(
        paired_bars,
        rows=[(r.label, _percent(r.activated), _percent(r.posttest)) for r in report.trend.rows],
        title=_("Activated and post-test taken, share of the invited"),
        first_label=_("Activated"),
        second_label=_("Post-test taken"),
        locale=locale,
    )
    return charts


# ---------------------------------------------------------------- the export


SECTIONS = {
    "funnel": N_("Funnel"),
    "funnel_group": N_("Funnel by group"),
    "gain": N_("Learning gain"),
    "gain_value": N_("By value"),
    "gain_module": N_("By module"),
    "gain_group": N_("Learning gain by group"),
    "trend": N_("Trend over time"),
    "cohorts": N_("Cohorts compared"),
}

FOLLOWUP_SECTIONS = {
    "survey": N_("Workshop survey"),
    "survey_item": N_("Survey statements"),
    "survey_group": N_("Workshop survey by group"),
    "checkin": N_("Check-ins"),
    "checkin_group": N_("Check-ins by group"),
    "retention": N_("What stayed"),
    "retention_group": N_("What stayed by group"),
}
"""The export's sections after the workshop (after ``SECTIONS``)."""

CHECKIN_NAMES = {1: N_("Check-in at about 30 days"), 2: N_("Check-in at about 90 days")}

EXPORT_COLUMNS: tuple[tuple[str, str, Any, int], ...] = (
    # key, header (message id), kind, width
    ("section", N_("Section"), "text", 20),
    ("group", N_("Group"), "text", 28),
    ("item", N_("Step or topic"), "text", 28),
    ("cohort", service.GROUP_NAMES["cohort"], "text", 16),
    ("region", service.GROUP_NAMES["region"], "text", 18),
    ("workshop", N_("Workshop"), "date", 12),
    ("status", N_("Status"), "text", 12),
    ("people", N_("Participants"), "int", 12),
    ("share", N_("%% of invited"), "percent", 11),
    ("officials", N_("Officials"), "int", 10),
    ("spouses", N_("Spouses"), "int", 10),
    ("couples_both", N_("Both partners"), "int", 10),
    ("couples_one", N_("One partner only"), "int", 10),
    ("couples_rate", N_("%% of couples, both partners"), "percent", 12),
    ("activated", N_("%% activated"), "percent", 11),
    ("posttest", N_("%% post-test taken"), "percent", 11),
    ("uptake", N_("%% post-test uptake"), "percent", 12),
    ("complete", N_("%% couples complete"), "percent", 12),
    ("matched", N_("Took both tests"), "int", 10),
    ("only_pre", N_("Took only the pre-test"), "int", 10),
    ("pre_mean", N_("Mean pre-test"), "percent", 10),
    ("post_mean", N_("Mean post-test"), "percent", 10),
    ("class_gain", N_("Class gain ⟨g⟩"), "float", 10),
    ("mean_gain", N_("Mean of individual gains"), "float", 10),
    ("excluded", N_("Left out: full pre-test score"), "int", 10),
    ("d_z", "d_z", "float", 8),
    ("ci_low", N_("d_z, 95%% CI from"), "float", 9),
    ("ci_high", N_("d_z, 95%% CI to"), "float", 9),
    ("reasons", N_("Needs attention"), "text", 30),
    ("responses", N_("Survey answers"), "int", 10),
    ("agree", N_("%% agreed"), "percent", 10),
    ("likert_mean", N_("Mean answer (1–5)"), "float", 10),
    ("recommend", N_("%% would recommend"), "percent", 11),
    ("plans", N_("Plans confirmed"), "int", 10),
    ("answered", N_("Both partners answered"), "int", 10),
    ("kept", N_("Kept every commitment"), "int", 10),
    ("kept_rate", N_("%% kept, of those who answered"), "percent", 12),
    ("retained", N_("Took all three"), "int", 10),
    ("later_mean", N_("Mean after about 90 days"), "percent", 10),
)


def export_columns(locale: str) -> list[Column]:
    gettext = translations(locale).gettext
    # message ids write a percent sign as "%%", as in the templates
    return [
        Column(key, gettext(header) % {}, kind, width)
        for key, header, kind, width in EXPORT_COLUMNS
    ]


def _share_cell(f: Figure[float] | None) -> Any:
    """A share (0..1) for a percent column (0–100), or the text "< 5"."""
    if f is None:
        return None
    value = export_value(f)
    return value * 100 if isinstance(value, int | float) else value


def _count_cell(f: Figure[int] | None) -> Any:
    return None if f is None else export_value(f)


def _gain_cells(g: GainFigures) -> dict[str, Any]:
    return {
        "matched": export_value(g.n),
        "pre_mean": export_value(g.pre_mean),
        "post_mean": export_value(g.post_mean),
        "class_gain": export_value(g.class_gain),
        "mean_gain": export_value(g.mean_gain),
        "excluded": export_value(g.excluded),
        "d_z": export_value(g.d_z),
        "ci_low": export_value(g.ci_low),
        "ci_high": export_value(g.ci_high),
    }


def export_table(report: KpkReport, locale: str) -> tuple[list[Column], list[dict[str, Any]]]:
    """What the page shows, as one table with a ``section`` column: the funnel (total and
    grouped), the gain (total, by value, by module, grouped), the trend and every cohort of
    the comparison (not one page of it). Suppressed cells hold the text "< 5"."""
    gettext = translations(locale).gettext
    rows: list[dict[str, Any]] = []

    def section(key: str) -> str:
        return gettext(SECTIONS[key])

    for s in report.funnel.total.steps:
        rows.append(
            {
                "section": section("funnel"),
                "item": service.step_label(s.step, locale),
                "people": export_value(s.people),
                "share": _share_cell(s.rate),
                "officials": _count_cell(s.officials),
                "spouses": _count_cell(s.spouses),
                "couples_both": _count_cell(s.couples_both),
                "couples_one": _count_cell(s.couples_one),
                "couples_rate": _share_cell(s.couples_rate),
            }
        )
    for g in report.funnel.groups:
        for s in g.steps:
            rows.append(
                {
                    "section": section("funnel_group"),
                    "group": g.label,
                    "item": service.step_label(s.step, locale),
                    "people": export_value(s.people),
                    "share": _share_cell(s.rate),
                }
            )
    total = report.gain.total
    rows.append(
        {
            "section": section("gain"),
            "only_pre": export_value(total.only_pre),
            **_gain_cells(total.figures),
        }
    )
    topics = (("gain_value", report.gain.by_value), ("gain_module", report.gain.by_module))
    for key, items in topics:
        for topic in items:
            rows.append(
                {
                    "section": section(key),
                    "item": pick(topic.title, locale),
                    **_gain_cells(topic.figures),
                }
            )
    for r in report.gain.groups:
        rows.append(
            {
                "section": section("gain_group"),
                "group": r.label,
                "only_pre": export_value(r.only_pre),
                **_gain_cells(r.figures),
            }
        )
    for t in report.trend.rows:
        rows.append(
            {
                "section": section("trend"),
                "group": t.label,
                "people": export_value(t.people),
                "activated": _share_cell(t.activated),
                "posttest": _share_cell(t.posttest),
                "complete": _share_cell(t.couples_complete),
                **_gain_cells(t.gain),
            }
        )
    if report.comparison is not None:
        for c in report.comparison.rows:
            rows.append(
                {
                    "section": section("cohorts"),
                    "group": c.title,
                    "cohort": c.slug,
                    "region": c.region,
                    "workshop": c.workshop_start,
                    "status": gettext(STATUS_NAMES[c.status]),
                    "people": export_value(c.people),
                    "activated": _share_cell(c.activation),
                    "uptake": _share_cell(c.post_uptake),
                    "complete": _share_cell(c.completion),
                    **_gain_cells(c.gain),
                    "reasons": "; ".join(gettext(r) for r in c.reason_names),
                }
            )
    if report.followup is not None:
        rows += followup_rows(report.followup, locale)
    return export_columns(locale), rows


def followup_rows(report: FollowupReport, locale: str) -> list[dict[str, Any]]:
    """The follow-ups as export rows: the survey (its answers and would-recommend share,
    then each statement's agreed share and mean), each check-in round, the retention check;
    each in total and per group. Figures only: no open answer."""
    gettext = translations(locale).gettext
    rows: list[dict[str, Any]] = []

    def section(key: str) -> str:
        return gettext(FOLLOWUP_SECTIONS[key])

    def survey(row: FollowupRow, key: str, group: str | None) -> None:
        rows.append(
            {
                "section": section(key),
                "group": group,
                "responses": export_value(row.survey.responses),
                "recommend": _share_cell(row.survey.recommend),
            }
        )
        for item in row.survey.items:
            if item.kind != "likert":
                continue
            rows.append(
                {
                    "section": section("survey_item" if group is None else key),
                    "group": group,
                    "item": pick(item.text, locale),
                    "responses": export_value(item.answered),
                    "agree": _share_cell(item.agree),
                    "likert_mean": None if item.mean is None else export_value(item.mean),
                }
            )

    def checkins(row: FollowupRow, key: str, group: str | None) -> None:
        for r in row.rounds:
            rows.append(
                {
                    "section": section(key),
                    "group": group,
                    "item": gettext(CHECKIN_NAMES.get(r.round, "%(n)s")) % {"n": r.round},
                    "plans": export_value(r.plans),
                    "answered": export_value(r.answered),
                    "kept": export_value(r.kept),
                    "kept_rate": _share_cell(r.kept_rate),
                }
            )

    def retention(row: FollowupRow, key: str, group: str | None) -> None:
        t = row.retention
        rows.append(
            {
                "section": section(key),
                "group": group,
                "retained": export_value(t.n),
                "pre_mean": export_value(t.pre),
                "post_mean": export_value(t.post),
                "later_mean": export_value(t.later),
            }
        )

    survey(report.total, "survey", None)
    for g in report.groups:
        survey(g, "survey_group", g.label)
    checkins(report.total, "checkin", None)
    for g in report.groups:
        checkins(g, "checkin_group", g.label)
    retention(report.total, "retention", None)
    for g in report.groups:
        retention(g, "retention_group", g.label)
    return rows


# ---------------------------------------------------------------- the audit record


def kpk_export_audit(
    session: Session,
    *,
    actor: CurrentUser,
    now: datetime,
    kind: str,
    f: ReportFilter,
    group_by: str | None = None,
    interval: str | None = None,
) -> None:
    """The audit line of a KPK download: who, when, which file and which filter."""
    detail: dict[str, Any] = {"kind": kind, "filter": f.params()}
    if group_by:
        detail["group_by"] = group_by
    if interval:
        detail["interval"] = interval
    audit_record(
        session, now=now, actor_id=actor.id, action="kpk.export", target="kpk", detail=detail
    )
