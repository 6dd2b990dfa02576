"""The cohort report as a PDF: "Laporan Pelaksanaan Bimtek Keluarga Berintegritas".

The facilitator's record of one cohort (one Bimtek): who got how far, attendance, learning gain
between the pre-test and the post-test, module quizzes, reflections, pledges, certificates, and
what is left to follow up. The caller fills a ``CohortReport`` from the database; this module
only lays it out, with fpdf2 and the DejaVu fonts shipped for the PDFs, so it stays pure: no
database, no web.

Units, the same as the rest of the app:

- scores (``mean_pre``, ``mean_post``, ``mean_best``) are **percentages, 0–100**;
- shares and rates (``FunnelStep.share``, ``QuizRow.pass_rate``) are **fractions, 0–1**;
- gains (``class_gain`` ⟨g⟩, ``mean_gain``) are Hake's normalized gains, **fractions** (at
  most 1, negative when scores fell); ``None`` where a value is undefined.

Texts that come in (stage labels, module, value and quiz titles, follow-up lines) are already
in the reader's language; the report's own words go through gettext for ``locale`` (English
message ids). The report names no participant: only the facilitators.

The charts are the SVG of ``app.charts`` embedded as vector images: fpdf2 draws their shapes
and their ``<text>`` (as real, searchable text in DejaVu Sans), so the page and the PDF show
the same chart.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from fpdf import FPDF
from fpdf.fonts import FontFace
from markupsafe import Markup

from app.certificates.pdf import FONT_DIR
from app.charts import PAD as CHART_PAD
from app.charts import bar_chart, paired_bars
from app.i18n import (
    fmt_date,
    fmt_date_range,
    fmt_datetime,
    fmt_number,
    fmt_percent,
    local,
    translations,
)

__all__ = [
    "AttendanceDay",
    "CheckinRow",
    "CohortReport",
    "Followup",
    "FunnelStep",
    "GainRow",
    "QuizRow",
    "RetentionFigures",
    "SurveyItemRow",
    "cohort_report_pdf",
]


# --- the input ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelStep:
    """How many participants are at or past a stage of the learning path."""

    label: str  # the stage, translated: "Pre-test selesai", "Modul 1 lulus", …
    participants: int
    share: float  # fraction 0–1 of the cohort's participants


@dataclass(frozen=True)
class AttendanceDay:
    day: date
    present: int
    total: int  # participants expected that day


@dataclass(frozen=True)
class GainRow:
    """Pre-test vs post-test for one module or value (or overall), over matched participants
    (those who took both tests)."""

    label: str
    n_matched: int
    mean_pre: float | None  # percent 0–100
    mean_post: float | None  # percent 0–100
    class_gain: float | None  # ⟨g⟩ = (post − pre) / (100 − pre) of the means, a fraction
    mean_gain: float | None  # the mean of individual gains, a fraction


@dataclass(frozen=True)
class QuizRow:
    title: str
    participants: int  # who submitted at least one attempt
    passed: int
    pass_rate: float | None  # fraction 0–1 of ``participants``
    mean_best: float | None  # percent 0–100, the mean of everyone's best attempt


@dataclass(frozen=True)
class SurveyItemRow:
    """One statement (likert) or question with options (choice) of the reaction survey."""

    text: str  # in the reader's language
    kind: str  # likert | choice
    labels: Sequence[str]  # the scale's five answers, or the options, in the reader's language
    counts: Sequence[int]  # people per answer, in the same order
    mean: float | None = None  # likert: the mean answer (1–5)
    agree: int = 0  # likert: people who answered 4 or 5

    @property
    def answered(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class CheckinRow:
    """One check-in round: couples with a confirmed plan, of which both partners answered,
    of which kept every commitment; every partner's marks."""

    round: int
    days: int  # after the workshop
    opens: datetime
    last_day: datetime
    plans: int
    answered: int
    kept: int
    marks: Sequence[tuple[str, int]]  # (mark in words, how many), done · partly · not yet


@dataclass(frozen=True)
class RetentionFigures:
    """Pre → post → about 90 days on the retention check's items, of those with all three."""

    items: int
    n: int
    pre: float | None  # percent 0–100
    post: float | None
    later: float | None


@dataclass(frozen=True)
class Followup:
    """After the workshop: the reaction survey, the check-ins, the retention check. The
    survey's answers are shown only when at least ``k`` people answered, and never with a
    name or a date."""

    k: int
    responses: int = 0
    shown: bool = False
    items: Sequence[SurveyItemRow] = ()
    open_answers: Sequence[tuple[str, Sequence[str]]] = ()  # (question, answers)
    checkins: Sequence[CheckinRow] = ()
    retention: RetentionFigures | None = None


@dataclass(frozen=True)
class CohortReport:
    cohort_title: str
    region: str
    venue: str
    workshop_start: date
    workshop_end: date
    pre_opens: datetime | date | None
    post_closes: datetime | date | None
    facilitators: Sequence[str]
    generated_at: datetime  # aware (UTC); shown in ``tz``
    couples: int = 0
    participants: int = 0
    funnel: Sequence[FunnelStep] = ()
    attendance: Sequence[AttendanceDay] = ()
    gain_overall: GainRow | None = None
    gain_by_module: Sequence[GainRow] = ()
    gain_by_value: Sequence[GainRow] = ()
    only_pre: int = 0  # participants who took the pre-test but not (yet) the post-test
    quizzes: Sequence[QuizRow] = ()
    reflections_confirmed: int = 0  # couples whose reflections are all confirmed
    pledges_signed: int = 0  # couples where both partners signed the pledge
    certificates_issued: int = 0  # participants with a valid certificate
    certificates_revoked: int = 0
    follow_up: Sequence[str] = ()
    followup: Followup | None = None  # after the workshop


# --- layout -------------------------------------------------------------------------------

_SANS = "DejaVuSans"  # the name app.charts' SVG asks for, so the charts use it too
_META = "Keluarga Berintegritas"

_INK = (29, 29, 31)
_MUTED = (79, 79, 85)
_BRAND = (122, 31, 31)
_GOLD = (176, 141, 87)
_LINE = (217, 214, 208)
_BAND = (245, 241, 234)

_MARGIN = 18.0
_BOTTOM = 20.0
_CHART_UNITS = 720  # viewBox width of the charts: at the text width, 14-unit labels are ~9.5 pt
_CHART_LABELS = 210  # the labels' column, in the same units
_TITLE_RE = re.compile(r"<title>.*?</title>", re.S)
_VIEWBOX_RE = re.compile(r'viewBox="0 0 ([\d.]+) ([\d.]+)"')


class _ReportPDF(FPDF):
    """A4 portrait with the page number ("Page 1 of 3") and the cohort in the footer."""

    def __init__(self, footer_left: str, page_label: Callable[[int], str]) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self._footer_left = footer_left
        self._page_label = page_label
        self.set_compression(True)
        self.set_title(_META)
        self.set_creator(_META)
        self.set_author(_META)
        self.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.set_auto_page_break(True, margin=_BOTTOM)
        self.c_margin = 0  # texts start at the margin, like the charts (tables pad their cells)
        self.add_font(_SANS, "", FONT_DIR / "DejaVuSans.ttf")
        self.add_font(_SANS, "B", FONT_DIR / "DejaVuSans-Bold.ttf")
        self.alias_nb_pages()

    def footer(self) -> None:
        self.set_y(-14)
        self.set_draw_color(*_LINE)
        self.set_line_width(0.2)
        self.line(_MARGIN, self.get_y() - 1.5, self.w - _MARGIN, self.get_y() - 1.5)
        self.set_font(_SANS, "", 8)
        self.set_text_color(*_MUTED)
        half = (self.w - 2 * _MARGIN) / 2
        self.cell(half + 30, 5, _clip(self, self._footer_left, half + 25), align="L")
        self.cell(half - 30, 5, self._page_label(self.page_no()), align="R")


def _clip(pdf: FPDF, text: str, width: float) -> str:
    while text and pdf.get_string_width(text) > width:
        text = text[:-2] + "\u2026"
    return text


def _viewbox(svg: str) -> tuple[float, float]:
    match = _VIEWBOX_RE.search(svg)
    if match is None:  # pragma: no cover - app.charts always writes one
        raise ValueError("chart without a viewBox")
    return float(match[1]), float(match[2])


def _tz_key(tz: str | tzinfo) -> str:
    return tz if isinstance(tz, str) else str(getattr(tz, "key", None) or tz)


class _Writer:
    """The report's words and numbers in one language, and the drawing steps."""

    def __init__(self, pdf: _ReportPDF, *, locale: str, tz: str) -> None:
        self.pdf = pdf
        self.locale = locale
        self.tz = tz
        self._ = translations(locale).gettext

    # numbers and dates

    def pct(self, fraction: float | None) -> str:
        if fraction is None:
            return "\u2013"
        return fmt_percent(fraction, self.locale)

    def score(self, percent: float | None) -> str:
        if percent is None:
            return "\u2013"
        return fmt_number(percent, "#,##0.0", self.locale)

    def gain(self, g: float | None) -> str:
        if g is None:
            return "\u2013"
        return fmt_number(g, "0.00", self.locale)

    def count(self, n: int) -> str:
        return fmt_number(n, "#,##0", self.locale)

    def day_text(self, value: date | datetime | None) -> str:
        return fmt_date(value, self.locale, self.tz) if value is not None else "\u2013"

    def date_range(self, start: date, end: date) -> str:
        """``14–15 Oktober 2024``, ``31 Oktober – 1 November 2024``, or one day."""
        return fmt_date_range(start, end, self.locale)

    def window(self, start: date | datetime | None, end: date | datetime | None) -> str:
        """From ``pre_opens`` to ``post_closes``, as dates in the report's time zone."""
        if start is None and end is None:
            return "\u2013"
        if start is None or end is None:
            return " \u2013 ".join(self.day_text(v) for v in (start, end))
        return self.date_range(self._day(start), self._day(end))

    def _day(self, value: date | datetime) -> date:
        if isinstance(value, datetime):
            return local(value, self.tz).date() if value.tzinfo else value.date()
        return value

    # drawing

    def room(self, height: float) -> None:
        """Start a new page unless ``height`` mm still fit on this one."""
        pdf = self.pdf
        if pdf.get_y() + height > pdf.h - _BOTTOM:
            pdf.add_page()

    def heading(self, text: str, *, keep: float = 30) -> None:
        """A section heading, kept on the page with ``keep`` mm of what follows."""
        pdf = self.pdf
        self.room(14 + keep)
        pdf.ln(5)
        pdf.set_font(_SANS, "B", 13)
        pdf.set_text_color(*_BRAND)
        pdf.multi_cell(0, 6.5, text, new_x="LMARGIN", new_y="NEXT", align="L")
        y = pdf.get_y() + 0.8
        pdf.set_draw_color(*_GOLD)
        pdf.set_line_width(0.4)
        pdf.line(_MARGIN, y, _MARGIN + 24, y)
        pdf.set_y(y + 3)

    def para(self, text: str, *, muted: bool = False, size: float = 10) -> None:
        pdf = self.pdf
        pdf.set_font(_SANS, "", size)
        pdf.set_text_color(*(_MUTED if muted else _INK))
        pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.ln(1.5)

    def subheading(self, text: str, *, keep: float = 20) -> None:
        """A bold line above a table or a chart, kept on the page with ``keep`` mm of it."""
        pdf = self.pdf
        self.room(8 + keep)
        pdf.ln(1)
        pdf.set_font(_SANS, "B", 10.5)
        pdf.set_text_color(*_INK)
        pdf.multi_cell(0, 5.5, text, new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.ln(1)

    def no_data(self) -> None:
        self.para(self._("No data yet."), muted=True)

    def facts(self, rows: Sequence[tuple[str, str]]) -> None:
        """Label–value pairs, the labels in a narrow muted column."""
        pdf = self.pdf
        label_w = 46.0
        for label, value in rows:
            self.room(6)
            y = pdf.get_y()
            pdf.set_font(_SANS, "", 9.5)
            pdf.set_text_color(*_MUTED)
            pdf.set_xy(_MARGIN, y)
            pdf.multi_cell(label_w - 2, 5, label, new_x="RIGHT", new_y="TOP", align="L")
            pdf.set_text_color(*_INK)
            pdf.set_font(_SANS, "B", 9.5)
            pdf.set_xy(_MARGIN + label_w, y)
            pdf.multi_cell(0, 5, value or "\u2013", new_x="LMARGIN", new_y="NEXT", align="L")
            pdf.set_y(max(pdf.get_y(), y + 5) + 0.8)

    def table(
        self,
        headings: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        widths: Sequence[float],
    ) -> None:
        """A table across the page; the first column left-aligned, the numbers right."""
        pdf = self.pdf
        self.room(8 + 7 * min(len(rows), 3))
        pdf.set_font(_SANS, "", 9)
        pdf.set_text_color(*_INK)
        pdf.set_draw_color(*_LINE)
        pdf.set_line_width(0.2)
        # fpdf2 2.8 fills body cells with the current fill colour under HORIZONTAL_LINES
        pdf.set_fill_color(255, 255, 255)
        align = ["LEFT"] + ["RIGHT"] * (len(headings) - 1)
        with pdf.table(
            col_widths=tuple(widths),
            text_align=tuple(align),
            borders_layout="HORIZONTAL_LINES",
            headings_style=FontFace(emphasis="BOLD", color=_INK, fill_color=_BAND),
            line_height=5,
            padding=(1.2, 1.5),
            width=pdf.w - 2 * _MARGIN,
            first_row_as_headings=True,
            repeat_headings=1,
        ) as table:
            for row in (headings, *rows):
                cells = table.row()
                for text in row:
                    cells.cell(text)
        pdf.ln(3)

    def chart_height(self, svg: str) -> float:
        """The height in mm of an ``app.charts`` SVG drawn across the text width."""
        units_w, units_h = _viewbox(svg)
        return self._chart_scale(units_w) * units_h

    def _chart_scale(self, units_w: float) -> float:
        # the chart's inner area (inside its PAD) spans the text width exactly
        return (self.pdf.w - 2 * _MARGIN) / (units_w - 2 * CHART_PAD)

    def chart(self, svg: str) -> None:
        """An ``app.charts`` SVG as a vector image, on this page when it fits."""
        pdf = self.pdf
        units_w, units_h = _viewbox(svg)
        scale = self._chart_scale(units_w)
        width, height = units_w * scale, units_h * scale
        self.room(height + 2)
        y = pdf.get_y()
        data = _TITLE_RE.sub("", svg)  # fpdf2 ignores <title>; spare it the warnings
        pdf.image(io.BytesIO(data.encode()), x=_MARGIN - CHART_PAD * scale, y=y, w=width, h=height)
        pdf.set_y(y + height + 3)

    def bullets(self, lines: Sequence[str]) -> None:
        pdf = self.pdf
        for line in lines:
            self.room(6)
            pdf.set_font(_SANS, "", 10)
            pdf.set_text_color(*_BRAND)
            y = pdf.get_y()
            pdf.set_xy(_MARGIN, y)
            pdf.cell(5, 5, "\u2022")
            pdf.set_text_color(*_INK)
            pdf.set_xy(_MARGIN + 5, y)
            pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT", align="L")
            pdf.ln(1)


# --- the report ---------------------------------------------------------------------------


def cohort_report_pdf(report: CohortReport, *, locale: str, tz: str | tzinfo) -> bytes:
    """The report as the bytes of an A4 portrait PDF, in ``locale``, times in ``tz`` (a zone
    name such as ``"Asia/Jakarta"`` or a ``ZoneInfo``, e.g. ``settings.tz``).

    CPU-bound (about 0.4 s, half of it loading the fonts): call it from a worker thread.
    """
    zone = _tz_key(tz)
    _ = translations(locale).gettext
    generated = fmt_datetime(report.generated_at, locale, zone)

    def page_label(page: int) -> str:
        return _("Page %(page)s of %(pages)s") % {"page": page, "pages": "{nb}"}

    pdf = _ReportPDF(f"{report.cohort_title} \u00b7 {generated}", page_label)
    w = _Writer(pdf, locale=locale, tz=zone)
    pdf.add_page()
    _title_block(w, report, generated)
    _funnel(w, report)
    _attendance(w, report)
    _gain(w, report)
    _quizzes(w, report)
    _family(w, report)
    if report.followup is not None:
        _survey(w, report.followup)
        _checkins(w, report.followup)
        _retention(w, report.followup)
    _follow_up(w, report)
    return bytes(pdf.output())


def _title_block(w: _Writer, report: CohortReport, generated: str) -> None:
    pdf, _ = w.pdf, w._
    pdf.set_fill_color(*_BRAND)
    pdf.rect(_MARGIN, _MARGIN, 1.6, 12, style="F")
    pdf.set_xy(_MARGIN + 5, _MARGIN - 0.5)
    pdf.set_font(_SANS, "B", 16)
    pdf.set_text_color(*_BRAND)
    pdf.multi_cell(
        0,
        7,
        _("Keluarga Berintegritas Bimtek implementation report"),
        new_x="LMARGIN",
        new_y="NEXT",
        align="L",
    )
    pdf.ln(2)
    pdf.set_font(_SANS, "B", 13)
    pdf.set_text_color(*_INK)
    pdf.multi_cell(0, 6.5, report.cohort_title, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_font(_SANS, "", 11)
    pdf.set_text_color(*_MUTED)
    where = " \u00b7 ".join(p for p in (report.region, report.venue) if p)
    when = w.date_range(report.workshop_start, report.workshop_end)
    pdf.multi_cell(
        0, 6, f"{where}\n{when}" if where else when, new_x="LMARGIN", new_y="NEXT", align="L"
    )
    pdf.ln(3)
    pdf.set_draw_color(*_GOLD)
    pdf.set_line_width(0.5)
    pdf.line(_MARGIN, pdf.get_y(), pdf.w - _MARGIN, pdf.get_y())
    pdf.ln(4)
    w.facts(
        [
            (_("Learning period"), w.window(report.pre_opens, report.post_closes)),
            (_("Facilitators"), ", ".join(report.facilitators)),
            (_("Couples"), w.count(report.couples)),
            (_("Participants"), w.count(report.participants)),
            (_("Generated"), generated),
        ]
    )


def _funnel(w: _Writer, report: CohortReport) -> None:
    _ = w._
    title = _("Progress through the learning path")
    if not report.participants or not report.funnel:
        w.heading(title)
        w.no_data()
        return
    rows = [
        (
            step.label,
            float(step.participants),
            f"{w.count(step.participants)} ({w.pct(step.share)})",
        )
        for step in report.funnel
    ]
    chart = str(
        bar_chart(
            rows,
            title=title,
            max_value=report.participants,
            locale=w.locale,
            width=_CHART_UNITS,
            label_width=_CHART_LABELS,
        )
    )
    w.heading(title, keep=min(w.chart_height(chart) + 8, 120))
    w.para(
        _("Participants at or past each stage, of %(n)s participants.")
        % {"n": w.count(report.participants)},
        muted=True,
        size=9,
    )
    w.chart(chart)


def _attendance(w: _Writer, report: CohortReport) -> None:
    _ = w._
    w.heading(_("Workshop attendance"))
    if not report.attendance or not any(day.total for day in report.attendance):
        w.no_data()
        return
    rows = [
        (
            w.day_text(day.day),
            w.count(day.present),
            w.count(day.total),
            w.pct(day.present / day.total if day.total else None),
        )
        for day in report.attendance
    ]
    w.table([_("Day"), _("Present"), _("Expected"), _("Share")], rows, widths=(4, 2, 2, 2))


def _gain_rows(w: _Writer, rows: Sequence[GainRow]) -> list[list[str]]:
    return [
        [
            row.label,
            w.count(row.n_matched),
            w.score(row.mean_pre),
            w.score(row.mean_post),
            w.gain(row.class_gain),
            w.gain(row.mean_gain),
        ]
        for row in rows
    ]


def _gain(w: _Writer, report: CohortReport) -> None:
    _ = w._
    w.heading(_("Pre-test and post-test"))
    overall = report.gain_overall
    matched = (
        overall.n_matched
        if overall
        else max((r.n_matched for r in (*report.gain_by_module, *report.gain_by_value)), default=0)
    )
    if not matched:
        w.no_data()
        if report.only_pre:
            w.para(
                _("%(n)s participants took only the pre-test so far.")
                % {"n": w.count(report.only_pre)}
            )
        return
    w.para(
        _(
            "Compared over the %(n)s participants who took both tests; %(only_pre)s took only "
            "the pre-test. Scores are percentages; ⟨g⟩ is the normalized gain of the means, "
            "(post − pre) / (100 − pre), and “mean g” the mean of each participant's gain."
        )
        % {"n": w.count(matched), "only_pre": w.count(report.only_pre)},
        muted=True,
        size=9,
    )
    headings = [
        _("Topic"),
        _("Matched"),
        _("Pre-test"),
        _("Post-test"),
        "\u27e8g\u27e9",
        _("Mean g"),
    ]
    widths = (5, 1.6, 1.7, 1.7, 1.4, 1.4)
    if overall is not None:
        w.facts(
            [
                (
                    _("All questions"),
                    f"{w.score(overall.mean_pre)} \u2192 {w.score(overall.mean_post)} "
                    f"(\u27e8g\u27e9 {w.gain(overall.class_gain)})",
                )
            ]
        )
    if report.gain_by_module:
        w.subheading(_("By module"))
        headings[0] = _("Module")
        w.table(headings, _gain_rows(w, report.gain_by_module), widths=widths)
    if report.gain_by_value:
        chart = paired_bars(
            [(r.label, r.mean_pre, r.mean_post) for r in report.gain_by_value],
            title=_("Pre-test and post-test by value"),
            first_label=_("Pre-test"),
            second_label=_("Post-test"),
            locale=w.locale,
            width=_CHART_UNITS,
            label_width=_CHART_LABELS,
        )
        w.subheading(_("By value"), keep=w.chart_height(str(chart)))
        w.chart(str(chart))
        headings[0] = _("Value")
        w.table(headings, _gain_rows(w, report.gain_by_value), widths=widths)


def _quizzes(w: _Writer, report: CohortReport) -> None:
    _ = w._
    w.heading(_("Module quizzes"))
    if not report.quizzes or not any(q.participants for q in report.quizzes):
        w.no_data()
        return
    rows = [
        [
            q.title,
            w.count(q.participants),
            w.count(q.passed),
            w.pct(q.pass_rate),
            w.score(q.mean_best),
        ]
        for q in report.quizzes
    ]
    w.table(
        [_("Quiz"), _("Took it"), _("Passed"), _("Pass rate"), _("Mean best score")],
        rows,
        widths=(4.6, 1.6, 1.6, 1.7, 2.5),
    )


def _family(w: _Writer, report: CohortReport) -> None:
    _ = w._
    w.heading(_("Reflections, pledges and certificates"))
    if not report.couples:
        w.no_data()
        return

    def of_couples(n: int) -> str:
        share = w.pct(n / report.couples)
        return _("%(n)s of %(of)s couples (%(share)s)") % {
            "n": w.count(n),
            "of": w.count(report.couples),
            "share": share,
        }

    facts: list[tuple[str, str]] = [
        (_("Reflections confirmed"), of_couples(report.reflections_confirmed)),
        (_("Pledge signed by both"), of_couples(report.pledges_signed)),
        (
            _("Certificates issued"),
            _("%(n)s participants") % {"n": w.count(report.certificates_issued)},
        ),
    ]
    if report.certificates_revoked:
        facts.append((_("Certificates revoked"), w.count(report.certificates_revoked)))
    w.facts(facts)


def _follow_up(w: _Writer, report: CohortReport) -> None:
    _ = w._
    w.heading(_("To follow up"))
    if report.follow_up:
        w.bullets(report.follow_up)
    elif report.participants:
        w.para(_("Nothing to follow up."), muted=True)
    else:
        w.no_data()


def survey_chart(
    item: SurveyItemRow, *, locale: str, width: float = 400, label_width: float = 0
) -> Markup:
    """One item's answers as bars, the number and share beside each (``app.charts``)."""
    total = item.answered
    rows = (
        [
            (
                label,
                float(n),
                f"{fmt_number(n, '#,##0', locale)} ({fmt_percent(n / total, locale)})",
            )
            for label, n in zip(item.labels, item.counts, strict=True)
        ]
        if total
        else [(label, 0.0, "0") for label in item.labels]
    )
    return bar_chart(
        rows,
        title=item.text,
        max_value=max(total, 1),
        locale=locale,
        width=width,
        label_width=label_width,
    )


def _survey(w: _Writer, followup: Followup) -> None:
    _ = w._
    w.heading(_("How participants judged the workshop"))
    if not followup.shown:
        w.para(
            _(
                "%(n)s participants answered the survey. Its answers are shown once at least "
                "%(k)s have answered, so that no one can be recognised."
            )
            % {"n": w.count(followup.responses), "k": w.count(followup.k)}
        )
        return
    w.para(
        _("%(n)s participants answered the survey; the answers are kept without names.")
        % {"n": w.count(followup.responses)},
        muted=True,
        size=9,
    )
    for item in followup.items:
        chart = str(
            survey_chart(item, locale=w.locale, width=_CHART_UNITS, label_width=_CHART_LABELS)
        )
        mean = (
            " \u00b7 " + _("mean %(mean)s of 5") % {"mean": fmt_number(item.mean, "0.0", w.locale)}
            if item.mean is not None
            else ""
        )
        w.subheading(item.text + mean, keep=w.chart_height(chart))
        w.chart(chart)
    for question, texts in followup.open_answers:
        w.subheading(question)
        if texts:
            w.bullets(list(texts))
        else:
            w.para(_("No answers."), muted=True)


def _checkins(w: _Writer, followup: Followup) -> None:
    _ = w._
    w.heading(_("What families did afterwards"))
    if not followup.checkins or not any(r.plans for r in followup.checkins):
        w.no_data()
        return
    rows = []
    for r in followup.checkins:
        marks = sum(n for _, n in r.marks)
        rows.append(
            [
                _("Check-in at %(days)s days") % {"days": r.days}
                + f" ({w.day_text(r.opens)} \u2013 {w.day_text(r.last_day)})",
                w.count(r.plans),
                f"{w.count(r.answered)} ({w.pct(r.answered / r.plans if r.plans else None)})",
                f"{w.count(r.kept)} ({w.pct(r.kept / r.answered if r.answered else None)})",
                ", ".join(
                    f"{label} {w.count(n)} ({w.pct(n / marks if marks else None)})"
                    for label, n in r.marks
                ),
            ]
        )
    w.table(
        [_("Check-in"), _("Plans confirmed"), _("Both answered"), _("Kept"), _("Marks")],
        rows,
        widths=(4, 1.6, 2, 2, 3.4),
    )


def _retention(w: _Writer, followup: Followup) -> None:
    _ = w._
    w.heading(_("What stayed"))
    t = followup.retention
    if t is None or not t.n:
        w.no_data()
        return
    w.para(
        _(
            "The same %(items)s items in the pre-test, the post-test and the knowledge check "
            "about 90 days after the workshop, of the %(n)s participants who took all three."
        )
        % {"items": w.count(t.items), "n": w.count(t.n)},
        muted=True,
        size=9,
    )
    w.facts(
        [
            (
                _("Pre-test \u2192 post-test \u2192 90 days"),
                f"{w.score(t.pre)} \u2192 {w.score(t.post)} \u2192 {w.score(t.later)}",
            )
        ]
    )
