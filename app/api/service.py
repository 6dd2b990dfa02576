"""API tokens, their throttle, and the lists the JSON API answers with.

Tokens: an administrator makes one (``token_create``: on ``/admin/api-tokens`` or with
``integritas api-token create``); its secret (``kbt_…``) is shown once and only its SHA-256
is stored, so a request is authenticated by looking its hash up (``token_authenticate``):
no comparison of secrets character by character, nothing an attacker can time. Creating and
revoking are audit-logged.

Throttle: at most ``RATE_PER_MINUTE`` requests per token in any 60 seconds, counted **in
process memory** (``TokenThrottle``), so the hot path of the API writes nothing. With several
server processes each counts for itself (``workers × RATE_PER_MINUTE`` at most); the service
runs one process by default. ``last_used_at`` is written at most once a minute per token
(``TOUCH_EVERY``) for the same reason.

Lists (``regions_page``, ``organizations_page``, ``cohorts_page``): aggregates and names of
places, organizations and cohorts only — never a person's name, username or contact.

Measures (``funnel_view``, ``gain_view``, ``trend_view``, ``comparison_view``): the KPK
reports' own computation (``app.reports.service``, with its small-cell suppression and its
check of the filters against differencing), each figure turned into JSON by
``FigureOut.of`` (``app.reports.suppression.api_value``) and nothing else. The curriculum is
the reports' light outline (``app.reports.summary.outline``), read with the request.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from app.accounts.models import CurrentUser, Role, User
from app.api.models import ApiToken
from app.api.schemas import (
    CheckinRoundOut,
    CohortOut,
    CohortPage,
    ComparisonPage,
    ComparisonQuery,
    ComparisonRowOut,
    FigureOut,
    FiltersOut,
    FollowupFiguresOut,
    FollowupGroupOut,
    FollowupOut,
    FollowupQuery,
    FunnelGroupOut,
    FunnelOut,
    FunnelQuery,
    FunnelStepOut,
    FunnelTotalOut,
    GainFiguresOut,
    GainGroupOut,
    GainOut,
    GainQuery,
    GainTotalOut,
    LabelOut,
    MeasureQuery,
    OrganizationOut,
    OrganizationPage,
    RegionOut,
    RegionPage,
    RetentionOut,
    SurveyItemOut,
    SurveyOut,
    TopicGainOut,
    TrendOut,
    TrendQuery,
    TrendRowOut,
)
from app.audit import audit_record
from app.cohorts.models import Cohort, Couple, Organization, Region
from app.errors import AppError, Forbidden, NotFound
from app.i18n import N_, pick, translations
from app.reports import service as reports
from app.reports.measures import ATTENTION_REASONS
from app.reports.summary import outline
from app.reports.suppression import Figure

SECRET_PREFIX = "kbt_"  # noqa: S105 — the mark of our tokens, not a secret
PREFIX_LENGTH = 8  # "kbt_" and four random characters: enough to tell tokens apart
SECRET_MAX_LENGTH = 100  # a real secret is 47 characters; anything much longer is refused unread
NAME_MAX_LENGTH = 100
TOUCH_EVERY = timedelta(minutes=1)
RATE_PER_MINUTE = 120
WINDOW = timedelta(minutes=1)


class ApiTokenError(AppError):
    """Input the token forms refuse; ``field`` names the form field."""

    status = 422

    def __init__(self, field: str, message: str, status: int | None = None) -> None:
        super().__init__(status, message=message, field=field)


def _admin(actor: CurrentUser | None) -> int | None:
    """The acting administrator's id; ``None`` is the command line (the server's operator)."""
    if actor is None:
        return None
    if actor.role != Role.admin:
        raise Forbidden
    return actor.id


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _valid_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ApiTokenError("name", N_("This field is required."))
    if len(name) > NAME_MAX_LENGTH:
        raise ApiTokenError("name", N_("This field is too long."))
    if not name.isprintable():
        raise ApiTokenError("name", N_("Use letters, digits, spaces and punctuation only."))
    return name


def token_create(
    session: Session, *, actor: CurrentUser | None, name: str, now: datetime
) -> tuple[ApiToken, str]:
    """A new token and its secret. The secret is returned only here, once: the table keeps
    its hash and its first eight characters."""
    actor_id = _admin(actor)
    name = _valid_name(name)
    taken = session.execute(select(col(ApiToken.id)).where(col(ApiToken.name) == name)).first()
    if taken:
        raise ApiTokenError("name", N_("A token with this name already exists."))
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        token_hash=secret_hash(secret),
        prefix=secret[:PREFIX_LENGTH],
        created_by=actor_id,
        created_at=now,
    )
    session.add(token)
    session.flush()
    audit_record(
        session,
        now=now,
        actor_id=actor_id,
        action="api_token.create",
        target=f"api_token:{token.name}",
        detail={"name": name, "prefix": token.prefix, "via": "web" if actor else "cli"},
    )
    return token, secret


def token_revoke(
    session: Session,
    *,
    actor: CurrentUser | None,
    now: datetime,
    token_id: int | None = None,
    name: str | None = None,
) -> bool:
    """Revoke a token (by id or by name): from now on it opens nothing. True when it was
    revoked now, False when it already was (nothing changes, nothing is logged again)."""
    actor_id = _admin(actor)
    query = select(ApiToken)
    if token_id is not None:
        query = query.where(col(ApiToken.id) == token_id)
    elif name is not None:
        query = query.where(col(ApiToken.name) == " ".join(name.split()))
    else:
        raise TypeError("token_revoke needs token_id or name")
    token = session.execute(query).scalar_one_or_none()
    if token is None:
        raise NotFound(message=N_("This token does not exist."))
    if token.revoked_at is not None:
        return False
    token.revoked_at = now
    token.revoked_by = actor_id
    session.add(token)
    session.flush()
    audit_record(
        session,
        now=now,
        actor_id=actor_id,
        action="api_token.revoke",
        target=f"api_token:{token.name}",
        detail={"name": token.name, "prefix": token.prefix, "via": "web" if actor else "cli"},
    )
    return True


@dataclass(frozen=True)
class TokenRow:
    id: int
    name: str
    prefix: str
    created_at: datetime
    created_by: str | None  # the administrator's username; None for the command line
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def tokens_list(session: Session, *, actor: CurrentUser | None) -> list[TokenRow]:
    """Every token, active ones first, newest first; never a secret or a hash."""
    _admin(actor)
    rows = session.execute(
        select(
            col(ApiToken.id),
            col(ApiToken.name),
            col(ApiToken.prefix),
            col(ApiToken.created_at),
            col(User.username),
            col(ApiToken.last_used_at),
            col(ApiToken.revoked_at),
        )
        .outerjoin(User, col(User.id) == ApiToken.created_by)
        .order_by(col(ApiToken.revoked_at).is_not(None), col(ApiToken.id).desc())
    ).all()
    return [TokenRow(*row) for row in rows]


@dataclass
class TokensView:
    """The administrator's token page: every token, and the one just made with its secret
    (shown on this one answer only)."""

    tokens: list[TokenRow]
    created: str | None = None
    secret: str | None = None
    form: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def tokens_view(session: Session, *, actor: CurrentUser) -> TokensView:
    return TokensView(tokens=tokens_list(session, actor=actor))


def token_lookup(session: Session, *, secret: str) -> ApiToken | None:
    """The active token whose secret this is, or None (read only)."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > SECRET_MAX_LENGTH:
        return None
    return session.execute(
        select(ApiToken).where(
            col(ApiToken.token_hash) == secret_hash(secret), col(ApiToken.revoked_at).is_(None)
        )
    ).scalar_one_or_none()


def token_needs_touch(token: ApiToken, *, now: datetime) -> bool:
    """Whether ``last_used_at`` is old enough to be written again."""
    return token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY


def token_authenticate(session: Session, *, secret: str, now: datetime) -> ApiToken | None:
    """The active token whose secret this is, or None; its ``last_used_at`` moved to ``now``
    when it is a minute old or more (in this session, which must be able to write then).
    The hot path reads with ``token_lookup`` first and comes here only when
    ``token_needs_touch``, so a token in steady use costs one write a minute, not one a
    request."""
    token = token_lookup(session, secret=secret)
    if token is None or not token_needs_touch(token, now=now):
        return token
    session.execute(
        update(ApiToken)
        .where(col(ApiToken.id) == token.id)
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    token.last_used_at = now
    return token


class TokenThrottle:
    """At most ``rate`` requests per token in any ``WINDOW`` (a sliding log of the times of
    the last ``rate`` requests), in this process's memory. Thread-safe."""

    def __init__(self, rate: int = RATE_PER_MINUTE) -> None:
        self.rate = rate
        self._hits: dict[int, deque[datetime]] = {}
        self._lock = threading.Lock()

    def hit(self, token_id: int, *, now: datetime) -> int | None:
        """Count a request; ``None`` when allowed, else the seconds to wait (Retry-After)."""
        with self._lock:
            hits = self._hits.setdefault(token_id, deque())
            while hits and now - hits[0] >= WINDOW:
                hits.popleft()
            if len(hits) >= self.rate:
                wait = (hits[0] + WINDOW - now).total_seconds()
                return max(1, math.ceil(wait))
            hits.append(now)
            if len(self._hits) > 10_000:  # forget tokens idle for a window
                for key in [k for k, v in self._hits.items() if not v or now - v[-1] >= WINDOW]:
                    del self._hits[key]
            return None


# ---------------------------------------------------------------- what the API lists


def _region_id(session: Session, slug: str | None) -> int | None:
    if slug is None:
        return None
    found = session.execute(select(col(Region.id)).where(col(Region.slug) == slug)).scalar()
    if found is None:
        raise NotFound(message=N_("This region does not exist."))
    return found


def regions_page(session: Session, *, page: int, per_page: int) -> RegionPage:
    """Regions by slug, each with how many organizations and cohorts it has."""
    organizations = (
        select(func.count()).where(col(Organization.region_id) == Region.id).correlate(Region)
    ).scalar_subquery()
    cohorts = (
        select(func.count()).where(col(Cohort.region_id) == Region.id).correlate(Region)
    ).scalar_subquery()
    total = session.execute(select(func.count()).select_from(Region)).scalar_one()
    rows = session.execute(
        select(col(Region.slug), col(Region.name), col(Region.province), organizations, cohorts)
        .order_by(col(Region.slug))
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = [
        RegionOut(slug=slug, name=name, province=province, organizations=orgs, cohorts=n)
        for slug, name, province, orgs, n in rows
    ]
    return RegionPage(items=items, page=page, per_page=per_page, total=total)


def organizations_page(
    session: Session, *, region: str | None, page: int, per_page: int
) -> OrganizationPage:
    """Organizations (OPD) by region and name; of one region if asked."""
    region_id = _region_id(session, region)
    query = select(col(Organization.id), col(Organization.name), col(Region.slug)).join(
        Region, col(Region.id) == Organization.region_id
    )
    count = select(func.count()).select_from(Organization)
    if region_id is not None:
        query = query.where(col(Organization.region_id) == region_id)
        count = count.where(col(Organization.region_id) == region_id)
    total = session.execute(count).scalar_one()
    rows = session.execute(
        query.order_by(col(Region.slug), col(Organization.name), col(Organization.id))
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = [OrganizationOut(id=id_, name=name, region=slug) for id_, name, slug in rows]
    return OrganizationPage(items=items, page=page, per_page=per_page, total=total)


def cohorts_page(
    session: Session, *, region: str | None, year: int | None, page: int, per_page: int
) -> CohortPage:
    """Cohorts, the latest workshop first; of one region and one workshop year if asked;
    each with its number of couples."""
    region_id = _region_id(session, region)
    conditions = []
    if region_id is not None:
        conditions.append(col(Cohort.region_id) == region_id)
    if year is not None:
        conditions += [
            col(Cohort.workshop_start) >= date(year, 1, 1),
            col(Cohort.workshop_start) < date(year + 1, 1, 1),
        ]
    couples = (
        select(func.count()).where(col(Couple.cohort_id) == Cohort.id).correlate(Cohort)
    ).scalar_subquery()
    total = session.execute(
        select(func.count()).select_from(Cohort).where(*conditions)
    ).scalar_one()
    rows = session.execute(
        select(
            col(Cohort.slug),
            col(Cohort.title),
            col(Region.slug),
            col(Cohort.workshop_start),
            col(Cohort.workshop_end),
            couples,
        )
        .join(Region, col(Region.id) == Cohort.region_id)
        .where(*conditions)
        .order_by(col(Cohort.workshop_start).desc(), col(Cohort.slug))
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = [
        CohortOut(
            slug=slug,
            title=title,
            region=region_slug,
            workshop_start=start,
            workshop_end=end,
            couples=n,
        )
        for slug, title, region_slug, start, end, n in rows
    ]
    return CohortPage(items=items, page=page, per_page=per_page, total=total)


# ---------------------------------------------------------------- the measures

STATUS_NAMES = {
    "upcoming": N_("Upcoming"),
    "open": N_("Open"),
    "closed": N_("Closed"),
}
"""A cohort's state: before the workshop's end, the post-test window open, closed."""


def _filter(session: Session, query: MeasureQuery) -> reports.ReportFilter:
    """The reports' filter, each value checked against the database (``ReportFilterError``:
    422 naming the parameter)."""
    return reports.parse_filter(
        session,
        region=query.region,
        province=query.province,
        organization=query.organization,
        cohort=query.cohort,
        period=query.period,
        role=query.role,
    )


def _view(f: reports.ReportFilter, check: reports.ViewCheck, *, k: int, lang: str) -> dict:
    """What every measure answers besides its figures: k, the filters and, when the filters
    narrow too far, why every figure is suppressed."""
    message = check.message
    return {
        "k": k,
        "filters": FiltersOut(
            region=f.region,
            province=f.province,
            organization=f.organization,
            cohort=f.cohort,
            period=f.period,
            role=f.role,  # checked by parse_filter
        ),
        "hidden_reason": None
        if check.safe or message is None
        else translations(lang).gettext(message) % {"k": k},
        "hidden_filters": check.filters,
    }


def _out(figure: Figure[Any] | None) -> FigureOut | None:
    return None if figure is None else FigureOut.of(figure)


def _gain_figures(g: reports.GainFigures) -> GainFiguresOut:
    return GainFiguresOut(
        n=FigureOut.of(g.n),
        pre_mean=FigureOut.of(g.pre_mean),
        post_mean=FigureOut.of(g.post_mean),
        class_gain=FigureOut.of(g.class_gain),
        mean_gain=FigureOut.of(g.mean_gain),
        excluded=FigureOut.of(g.excluded),
        d_z=FigureOut.of(g.d_z),
        ci_low=FigureOut.of(g.ci_low),
        ci_high=FigureOut.of(g.ci_high),
    )


def _funnel_steps(row: reports.FunnelRow) -> list[FunnelStepOut]:
    return [
        FunnelStepOut(
            key=s.step.key,
            people=FigureOut.of(s.people),
            rate=FigureOut.of(s.rate),
            officials=_out(s.officials),
            spouses=_out(s.spouses),
            couples_both=_out(s.couples_both),
            couples_one=_out(s.couples_one),
            couples_rate=_out(s.couples_rate),
        )
        for s in row.steps
    ]


def funnel_view(session: Session, query: FunnelQuery, *, k: int) -> FunnelOut:
    """The funnel of the filtered participants, in total and per group."""
    f = _filter(session, query)
    group_by = reports.parse_group_by(query.group_by)
    curriculum, _ = outline(session)
    report = reports.funnel(
        session, f=f, curriculum=curriculum, k=k, group_by=group_by, locale=query.lang
    )
    return FunnelOut(
        **_view(f, report.check, k=k, lang=query.lang),
        group_by=query.group_by,
        steps=[LabelOut(key=s.key, label=reports.step_label(s, query.lang)) for s in report.steps],
        total=FunnelTotalOut(
            people=FigureOut.of(report.total.people),
            couples=_out(report.total.couples),
            steps=_funnel_steps(report.total),
        ),
        groups=[
            FunnelGroupOut(
                key=g.key,
                label=g.label,
                people=FigureOut.of(g.people),
                couples=_out(g.couples),
                steps=_funnel_steps(g),
            )
            for g in report.groups
        ],
    )


def _gain_row(row: reports.GainRow) -> dict:
    return {
        "gain": _gain_figures(row.figures),
        "only_pre": FigureOut.of(row.only_pre),
        "only_post": FigureOut.of(row.only_post),
    }


def gain_view(session: Session, query: GainQuery, *, k: int) -> GainOut:
    """The learning gain of the filtered participants: in total, per module and value, per
    group."""
    f = _filter(session, query)
    group_by = reports.parse_group_by(query.group_by)
    curriculum, _ = outline(session)
    report = reports.gain(
        session, f=f, curriculum=curriculum, k=k, group_by=group_by, locale=query.lang
    )

    def topics(items: list[reports.TopicGain]) -> list[TopicGainOut]:
        return [
            TopicGainOut(
                slug=t.slug, title=pick(t.title, query.lang), gain=_gain_figures(t.figures)
            )
            for t in items
        ]

    return GainOut(
        **_view(f, report.check, k=k, lang=query.lang),
        group_by=query.group_by,
        total=GainTotalOut(**_gain_row(report.total)),
        modules=topics(report.by_module),
        values=topics(report.by_value),
        groups=[GainGroupOut(key=g.key, label=g.label, **_gain_row(g)) for g in report.groups],
    )


def trend_view(session: Session, query: TrendQuery, *, k: int) -> TrendOut:
    """The main rates and the gain per workshop period."""
    f = _filter(session, query)
    interval = reports.parse_interval(query.interval)
    report = reports.trend(session, f=f, k=k, interval=interval, locale=query.lang)
    return TrendOut(
        **_view(f, report.check, k=k, lang=query.lang),
        interval=query.interval,
        rows=[
            TrendRowOut(
                period=r.period,
                label=r.label,
                people=FigureOut.of(r.people),
                activated=FigureOut.of(r.activated),
                posttest=FigureOut.of(r.posttest),
                couples_complete=FigureOut.of(r.couples_complete),
                gain=_gain_figures(r.gain),
            )
            for r in report.rows
        ],
    )


def comparison_view(
    session: Session, query: ComparisonQuery, *, k: int, now: datetime, tz: Any
) -> ComparisonPage:
    """One page of the cohorts, those that need attention first."""
    f = _filter(session, query)
    report = reports.comparison(session, f=f, k=k, now=now, tz=tz)
    gettext = translations(query.lang).gettext
    start = (query.page - 1) * query.per_page
    return ComparisonPage(
        **_view(f, report.check, k=k, lang=query.lang),
        page=query.page,
        per_page=query.per_page,
        total=report.total,
        items=[
            ComparisonRowOut(
                slug=r.slug,
                title=r.title,
                region=r.region_slug,
                workshop_start=r.workshop_start,
                status=LabelOut(key=r.status, label=gettext(STATUS_NAMES[r.status])),
                people=FigureOut.of(r.people),
                activation=FigureOut.of(r.activation),
                post_uptake=FigureOut.of(r.post_uptake),
                completion=FigureOut.of(r.completion),
                gain=_gain_figures(r.gain),
                reasons=[
                    LabelOut(key=reason, label=gettext(ATTENTION_REASONS[reason]))
                    for reason in r.reasons
                ],
            )
            for r in report.rows[start : start + query.per_page]
        ],
    )


def _followup_figures(row: reports.FollowupRow, lang: str) -> dict:
    survey = row.survey
    return {
        "survey": SurveyOut(
            responses=FigureOut.of(survey.responses),
            recommend=_out(survey.recommend),
            items=[
                SurveyItemOut(
                    slug=item.slug,
                    kind="likert" if item.kind == "likert" else "choice",
                    text=pick(item.text, lang),
                    answered=FigureOut.of(item.answered),
                    agree=_out(item.agree),
                    mean=_out(item.mean),
                    options={k: FigureOut.of(v) for k, v in item.options.items()} or None,
                )
                for item in survey.items
            ],
        ),
        "checkins": [
            CheckinRoundOut(
                round=r.round,
                plans=FigureOut.of(r.plans),
                answered=FigureOut.of(r.answered),
                answered_rate=FigureOut.of(r.answered_rate),
                kept=FigureOut.of(r.kept),
                kept_rate=FigureOut.of(r.kept_rate),
            )
            for r in row.rounds
        ],
        "retention": RetentionOut(
            n=FigureOut.of(row.retention.n),
            pre_mean=FigureOut.of(row.retention.pre),
            post_mean=FigureOut.of(row.retention.post),
            later_mean=FigureOut.of(row.retention.later),
        ),
    }


def followup_view(session: Session, query: FollowupQuery, *, k: int) -> FollowupOut:
    """The survey, the check-ins and the retention check of the filtered cohorts, in total
    and per group: the KPK page's figures (figures only, never a text a person wrote)."""
    f = reports.parse_filter(
        session,
        region=query.region,
        province=query.province,
        cohort=query.cohort,
        period=query.period,
    )
    group_by = reports.parse_group_by(query.group_by)
    report = reports.followup(session, f=f, k=k, group_by=group_by, locale=query.lang)
    return FollowupOut(
        **_view(f, report.check, k=k, lang=query.lang),
        group_by=query.group_by,
        total=FollowupFiguresOut(**_followup_figures(report.total, query.lang)),
        groups=[
            FollowupGroupOut(key=g.key, label=g.label, **_followup_figures(g, query.lang))
            for g in report.groups
        ],
    )
