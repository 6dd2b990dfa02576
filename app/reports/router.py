"""The KPK pages: the national dashboard ``/kpk``, a cohort's own ``/kpk/cohorts/{slug}`` and
their downloads ``/kpk/export.xlsx`` and ``/kpk/export.csv``, all with the same filters in the
URL (``?region=&province=&organization=&cohort=&period=&role=&group_by=&interval=``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlmodel import Session

from app.accounts.models import CurrentUser
from app.config import Settings
from app.curriculum.outline import Curriculum
from app.db import Database
from app.deps import CurriculumDep, DbDep, KpkDep, NowDep, ReadDep, SettingsDep
from app.errors import NotFound
from app.exports import csv_stream, export_filename, xlsx_stream
from app.i18n import N_, translations
from app.reports import service, views
from app.reports.service import CohortInfo, ReportFilter
from app.web import download, render

router = APIRouter(prefix="/kpk")


@dataclass
class KpkQuery:
    """The query of ``/kpk`` and its downloads (every value checked by the service)."""

    region: str = ""
    province: str = ""
    organization: str = ""
    cohort: str = ""
    period: str = ""
    role: str = ""
    group_by: str = ""
    interval: str = ""
    page: str = ""

    def filters(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in service.FILTERS}


KpkQueryDep = Annotated[KpkQuery, Depends()]


def _state(
    f: ReportFilter, group_by: str | None, interval: str, *, cohort_page: bool = False
) -> dict[str, str]:
    """The page's parameters as the URL carries them (defaults left out)."""
    params = f.params(cohort=None) if cohort_page else f.params()
    if group_by:
        params["group_by"] = group_by
    if interval != "quarter":
        params["interval"] = interval
    return params


def _query(params: dict[str, str], **changes: Any) -> str:
    values = {k: v for k, v in ({**params, **changes}).items() if v not in (None, "")}
    return "?" + urlencode(values) if values else ""


def _page(
    request: Request,
    session: Session,
    *,
    f: ReportFilter,
    group_by: str | None,
    interval: str,
    page: str,
    curriculum: Curriculum,
    settings: Settings,
    now: datetime,
    cohort: CohortInfo | None = None,
    cohorts: dict[int, CohortInfo] | None = None,
) -> Response:
    locale = request.state.locale
    k = settings.min_cell_size
    report = views.kpk_report(
        session,
        f=f,
        group_by=group_by,
        interval=interval,
        curriculum=curriculum,
        k=k,
        now=now,
        tz=settings.tz,
        locale=locale,
        cohort=cohort,
        cohorts=cohorts,
    )
    fmt = views.Formats(locale)
    # a cohort's page offers the OPDs of its region
    choices = service.filter_choices(
        session,
        f if cohort is None else ReportFilter(region=cohort.region_slug),
        cohorts=report.cohorts,
    )
    params = _state(f, group_by, interval, cohort_page=cohort is not None)
    path = "/kpk" if cohort is None else f"/kpk/cohorts/{cohort.slug}"
    export_params = _state(f, group_by, interval)
    return render(
        request,
        "reports/dashboard.html",
        {
            "report": report,
            "num": fmt,
            "charts": views.report_charts(report, fmt),
            "k": k,
            "cohort": cohort,
            "choices": choices,
            "words": views.filter_words(session, f, choices, locale),
            "group_names": service.GROUP_NAMES,
            "group_choices": views.COHORT_GROUPS if cohort is not None else service.GROUP_BY,
            "interval_names": views.INTERVAL_NAMES,
            "status_names": views.STATUS_NAMES,
            "checkin_names": views.CHECKIN_NAMES,
            "period_label": lambda key: service.period_label(key, locale),
            "step_label": lambda step: service.step_label(step, locale),
            "comparison": views.comparison_page(report.comparison, views.parse_page(page)),
            "path": path,
            "params": params,
            "query": lambda **changes: _query(params, **changes),
            "export_query": _query(export_params),
        },
    )


@router.get("")
async def kpk_home(
    request: Request,
    user: KpkDep,
    session: ReadDep,
    curriculum: CurriculumDep,
    settings: SettingsDep,
    now: NowDep,
    query: KpkQueryDep,
) -> Response:
    return _page(
        request,
        session,
        f=service.parse_filter(session, **query.filters()),
        group_by=service.parse_group_by(query.group_by),
        interval=service.parse_interval(query.interval),
        page=query.page,
        curriculum=curriculum,
        settings=settings,
        now=now,
    )


@router.get("/cohorts/{slug}")
async def kpk_cohort(
    request: Request,
    slug: str,
    user: KpkDep,
    session: ReadDep,
    curriculum: CurriculumDep,
    settings: SettingsDep,
    now: NowDep,
    organization: str = "",
    role: str = "",
    group_by: str = "",
    interval: str = "",
) -> Response:
    cohorts = service.cohort_index(session)
    info = service.cohort_title(session, slug, cohorts=cohorts)
    if info is None:
        raise NotFound(message=N_("There is no cohort “%(value)s”."), values={"value": slug[:60]})
    f = service.parse_filter(session, cohort=slug, organization=organization, role=role)
    return _page(
        request,
        session,
        f=f,
        group_by=service.parse_group_by(group_by or "organization"),
        interval=service.parse_interval(interval),
        page="",
        curriculum=curriculum,
        settings=settings,
        now=now,
        cohort=info,
        cohorts=cohorts,
    )


def _export(
    db: Database,
    user: CurrentUser,
    curriculum: Curriculum,
    now: datetime,
    settings: Settings,
    locale: str,
    kind: str,
    params: dict[str, str],
) -> tuple[str, Iterator[bytes]]:
    """The export file (in a worker thread: reading and building are heavy)."""
    gettext = translations(locale).gettext
    with db.read() as session:
        f = service.parse_filter(session, **{k: params[k] for k in service.FILTERS})
        group_by = service.parse_group_by(params["group_by"])
        interval = service.parse_interval(params["interval"])
        cohorts = service.cohort_index(session)
        cohort = service.cohort_title(session, f.cohort, cohorts=cohorts) if f.cohort else None
        report = views.kpk_report(
            session,
            f=f,
            group_by=group_by,
            interval=interval,
            curriculum=curriculum,
            k=settings.min_cell_size,
            now=now,
            tz=settings.tz,
            locale=locale,
            cohorts=cohorts,
        )
    with db.write() as write:
        views.kpk_export_audit(
            write, actor=user, now=now, kind=kind, f=f, group_by=group_by, interval=interval
        )
    columns, rows = views.export_table(report, locale)
    name = export_filename(
        "kpk",
        gettext("report"),
        f.label(),
        now.astimezone(settings.tz).date(),
        kind,
    )
    if kind == "csv":
        return name, csv_stream(columns, rows, tz=settings.tz)
    title = cohort.title if cohort is not None else gettext("National overview")
    return name, xlsx_stream(columns, rows, sheet_title=title, freeze_columns=3, tz=settings.tz)


@router.get("/export.{kind}")
async def kpk_export(
    request: Request,
    kind: str,
    user: KpkDep,
    db: DbDep,
    curriculum: CurriculumDep,
    settings: SettingsDep,
    now: NowDep,
    query: KpkQueryDep,
) -> Response:
    if kind not in ("xlsx", "csv"):
        raise NotFound(message=N_("This page does not exist."))
    params = asdict(query)
    name, body = await run_in_threadpool(
        _export, db, user, curriculum, now, settings, request.state.locale, kind, params
    )
    return download(name, body, kind)
