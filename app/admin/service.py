"""Administration: regions, organizations, cohorts, facilitators. Every change is audited."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import Row, delete, select
from sqlmodel import Session, col

from app.accounts.models import CurrentUser, Role, User
from app.accounts.service import user_create, user_set_active
from app.audit import audit_record
from app.certificates.hours import JP_WORKSHOP_MAX, ROUNDINGS
from app.certificates.pdf import SIGNATURE_MAX_BYTES, signature_media_type
from app.cohorts.models import Cohort, CohortFacilitator, Organization, Region
from app.cohorts.service import cohort_by_slug
from app.config import Settings
from app.curriculum.models import ContentVersion
from app.db import saved_id
from app.errors import AppError, Forbidden, NotFound
from app.i18n import N_
from app.inputs import clean_text

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PREFIX_RE = re.compile(r"^[A-Z0-9]{2,12}$")
JP_RE = re.compile(r"^[0-9]{1,3}$")


class AdminError(AppError):
    """Input the administration refuses; ``field`` names the form field."""

    status = 422

    def __init__(self, field: str, message: str, values: dict[str, Any] | None = None) -> None:
        super().__init__(message=message, values=values, field=field)


def _admin(actor: CurrentUser) -> CurrentUser:
    if actor.role != Role.admin:
        raise Forbidden
    return actor


def _text(form: dict, name: str, *, max_len: int = 200, required: bool = True) -> str:
    """A text field, trimmed and without bidirectional overrides (``app.inputs.clean_text``:
    a name must read as what it is)."""
    value = clean_text(str(form.get(name) or "")).strip()
    if required and not value:
        raise AdminError(name, N_("This field is required."))
    if len(value) > max_len:
        raise AdminError(name, N_("This field is too long."))
    return value


def _slug(form: dict, name: str = "slug") -> str:
    value = _text(form, name, max_len=64).lower()
    if not SLUG_RE.match(value):
        raise AdminError(name, N_("Use lowercase letters, digits and dashes, e.g. tng-2025."))
    return value


def _date(form: dict, name: str) -> date:
    value = _text(form, name, max_len=10)
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise AdminError(name, N_("Enter a date like 2025-10-14.")) from exc


def _day_start(day: date, tz: tzinfo) -> datetime:
    """Midnight at the start of a day in the cohort's time zone, in UTC."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def region_create(session: Session, *, form: dict, actor: CurrentUser, now: datetime) -> Region:
    _admin(actor)
    slug = _slug(form)
    if session.execute(select(col(Region.id)).where(col(Region.slug) == slug)).first():
        raise AdminError("slug", N_("This short name is already taken."))
    region = Region(
        slug=slug, name=_text(form, "name"), province=_text(form, "province", max_len=100)
    )
    session.add(region)
    session.flush()
    audit_record(
        session, now=now, actor_id=actor.id, action="region.create", target=f"region:{slug}"
    )
    return region


def organization_create(
    session: Session, *, form: dict, actor: CurrentUser, now: datetime
) -> Organization:
    _admin(actor)
    try:
        region_id = int(form.get("region_id") or 0)
    except ValueError as exc:
        raise AdminError("region_id", N_("Choose a region.")) from exc
    region = session.get(Region, region_id)
    if region is None:
        raise AdminError("region_id", N_("Choose a region."))
    name = _text(form, "name")
    if session.execute(
        select(col(Organization.id)).where(
            col(Organization.region_id) == region_id, col(Organization.name) == name
        )
    ).first():
        raise AdminError("name", N_("This organization already exists in the region."))
    org = Organization(region_id=region_id, name=name)
    session.add(org)
    session.flush()
    audit_record(
        session,
        now=now,
        actor_id=actor.id,
        action="organization.create",
        target=f"region:{region.slug}",
        detail={"name": name},
    )
    return org


def _certificate_facts(form: dict) -> dict[str, Any]:
    """What the cohort's certificates state, from the fields the form has: a field it does
    not have keeps its value (a new cohort: the default)."""
    values: dict[str, Any] = {}
    if "jp_workshop" in form:
        raw = str(form.get("jp_workshop") or "").strip()
        if not JP_RE.match(raw) or int(raw) > JP_WORKSHOP_MAX:
            raise AdminError(
                "jp_workshop",
                N_("Enter the workshop's JP as a whole number from 0 to 200."),
            )
        values["jp_workshop"] = int(raw)
    if "jp_rounding" in form:
        rounding = str(form.get("jp_rounding") or "")
        if rounding not in ROUNDINGS:
            raise AdminError("jp_rounding", N_("Choose how the e-learning JP are rounded."))
        values["jp_rounding"] = rounding
    if "organizers" in form:
        values["organizers"] = _text(form, "organizers", required=False)
    for name in ("signatory_title", "signatory_name"):
        if name in form:
            values[name] = _text(form, name, required=False) or None
    return values


CHECKIN_FIELDS = {
    "checkin_first_days": (7, 180),
    "checkin_second_days": (14, 365),
    "checkin_open_days": (7, 60),
}


def _checkin_days(form: dict) -> dict[str, int]:
    """The cohort's check-ins after the workshop, from the fields the form has: days after
    its last day (the second after the first closes) and how long each stays open."""
    values: dict[str, int] = {}
    for name, (low, high) in CHECKIN_FIELDS.items():
        if name not in form:
            continue
        raw = str(form.get(name) or "").strip()
        if not JP_RE.match(raw) or not low <= int(raw) <= high:
            raise AdminError(
                name,
                N_("Enter a whole number of days from %(low)s to %(high)s."),
                {"low": low, "high": high},
            )
        values[name] = int(raw)
    return values


def _signature(data: bytes) -> tuple[bytes, str]:
    """An uploaded signature image and its media type: a PNG or JPEG of at most 200 KB that
    the certificate can draw."""
    if len(data) > SIGNATURE_MAX_BYTES:
        raise AdminError("signature", N_("The signature image may be at most 200 KB."))
    media_type = signature_media_type(data)
    if media_type is None:
        raise AdminError(
            "signature", N_("The signature must be a PNG or JPEG image that can be opened.")
        )
    return data, media_type


def cohort_save(
    session: Session,
    *,
    form: dict,
    actor: CurrentUser,
    now: datetime,
    tz: tzinfo,
    cohort: Cohort | None = None,
    signature: bytes | None = None,
) -> Cohort:
    """Create a cohort, or change one; dates are checked against each other and read in the
    cohort's time zone. ``signature``: the bytes of an uploaded signature image, which
    replaces the saved one; without one, the form's ``remove_signature`` removes it."""
    _admin(actor)
    slug = cohort.slug if cohort else _slug(form)
    if (
        cohort is None
        and session.execute(select(col(Cohort.id)).where(col(Cohort.slug) == slug)).first()
    ):
        raise AdminError("slug", N_("This short name is already taken."))
    prefix = _text(form, "code_prefix", max_len=12).upper()
    if not PREFIX_RE.match(prefix):
        raise AdminError("code_prefix", N_("2–12 capital letters or digits, e.g. TNG25."))
    try:
        region = session.get(Region, int(form.get("region_id") or 0))
    except ValueError:
        region = None
    if region is None:
        raise AdminError("region_id", N_("Choose a region."))
    start, end = _date(form, "workshop_start"), _date(form, "workshop_end")
    opens, closes = _date(form, "pre_opens"), _date(form, "post_closes")
    if end < start:
        raise AdminError("workshop_end", N_("The workshop cannot end before it starts."))
    if opens > start:
        raise AdminError("pre_opens", N_("The learning must open before the workshop."))
    if closes <= end:
        raise AdminError("post_closes", N_("The learning must close after the workshop."))
    checkins = _checkin_days(form)
    first = checkins.get("checkin_first_days", cohort.checkin_first_days if cohort else 30)
    second = checkins.get("checkin_second_days", cohort.checkin_second_days if cohort else 90)
    open_days = checkins.get("checkin_open_days", cohort.checkin_open_days if cohort else 21)
    if second < first + open_days:
        raise AdminError(
            "checkin_second_days",
            N_("The second check-in opens after the first one closes (day %(day)s or later)."),
            {"day": first + open_days},
        )
    values: dict[str, Any] = {
        "code_prefix": prefix,
        "region_id": region.id,
        "title": _text(form, "title"),
        "venue": _text(form, "venue"),
        "workshop_start": start,
        "workshop_end": end,
        "pre_opens": _day_start(opens, tz),
        "post_closes": _day_start(closes + timedelta(days=1), tz),
        **_certificate_facts(form),
        **checkins,
    }
    detail = {k: str(v) for k, v in values.items()}
    if signature is not None:
        values["signature_image"], values["signature_type"] = _signature(signature)
        detail["signature"] = f"{values['signature_type']}, {len(signature)} bytes"
    elif cohort is not None and form.get("remove_signature") == "1" and cohort.signature_type:
        values["signature_image"] = values["signature_type"] = None
        detail["signature"] = "removed"
    if cohort is None:
        cohort = Cohort(slug=slug, **values)
        action = "cohort.create"
    else:
        for key, value in values.items():
            setattr(cohort, key, value)
        action = "cohort.update"
    session.add(cohort)
    session.flush()
    audit_record(
        session,
        now=now,
        actor_id=actor.id,
        action=action,
        target=f"cohort:{slug}",
        detail=detail,
    )
    return cohort


def cohort_update(
    session: Session,
    *,
    slug: str,
    form: dict,
    actor: CurrentUser,
    now: datetime,
    tz: tzinfo,
    signature: bytes | None = None,
) -> Cohort:
    """Change a cohort's title, venue, prefix, region, dates and what its certificates state
    (see ``cohort_save``)."""
    cohort = cohort_by_slug(session, slug=slug)
    if cohort is None:
        raise NotFound(message=N_("This cohort does not exist."))
    return cohort_save(
        session, form=form, actor=actor, now=now, tz=tz, cohort=cohort, signature=signature
    )


def facilitator_assign(
    session: Session,
    *,
    cohort: Cohort,
    user_id: int,
    actor: CurrentUser,
    now: datetime,
    assign: bool,
) -> None:
    _admin(actor)
    user = session.get(User, user_id)
    if user is None or user.role != Role.facilitator:
        raise AdminError("user_id", N_("Choose a facilitator account."))
    link = session.get(CohortFacilitator, (cohort.id, user.id))
    if assign and link is None:
        session.add(CohortFacilitator(cohort_id=saved_id(cohort), user_id=saved_id(user)))
    elif not assign and link is not None:
        session.execute(
            delete(CohortFacilitator).where(
                col(CohortFacilitator.cohort_id) == cohort.id,
                col(CohortFacilitator.user_id) == user.id,
            )
        )
    audit_record(
        session,
        now=now,
        actor_id=actor.id,
        action="cohort.facilitator.add" if assign else "cohort.facilitator.remove",
        target=f"cohort:{cohort.slug}",
        detail={"user": user.username},
    )


def staff_create(
    session: Session, *, actor: CurrentUser, form: dict, settings: Settings, now: datetime
) -> User:
    """A facilitator, KPK or administrator account; audit-logged."""
    _admin(actor)
    role = form.get("role", "")
    if role not in (Role.facilitator, Role.kpk, Role.admin):
        raise AdminError("staff", N_("Choose the role: facilitator, KPK or administrator."))
    try:
        created = user_create(
            session,
            username=form.get("username", ""),
            display_name=clean_text(str(form.get("name", ""))),
            role=role,
            password=form.get("password", ""),
            settings=settings,
        )
    except AppError as exc:
        raise AdminError("staff", exc.message) from exc
    audit_record(
        session,
        now=now,
        actor_id=actor.id,
        action="user.create",
        target=f"user:{created.username}",
        detail={"role": role},
    )
    return created


def account_set_active(
    session: Session, *, actor: CurrentUser, user_id: int, active: bool, now: datetime
) -> None:
    """Switch an account on or off (off ends its sessions); never one's own off."""
    _admin(actor)
    if user_id == actor.id and not active:
        raise AppError(422, N_("You cannot switch off your own account."))
    target = session.get(User, user_id)
    if target is None:
        raise NotFound(message=N_("This account does not exist."))
    user_set_active(session, user_id=user_id, active=active)
    audit_record(
        session,
        now=now,
        actor_id=actor.id,
        action="user.activate" if active else "user.deactivate",
        target=f"user:{target.username}",
    )


@dataclass
class AdminHome:
    staff: list[Row[Any]]
    version: ContentVersion | None
    regions: list[Region]
    orgs: list[Row[Any]]
    cohorts: list[Row[Any]]
    form: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def admin_home(session: Session) -> AdminHome:
    """Staff accounts, the content version, regions, organizations and cohorts."""
    return AdminHome(
        staff=list(
            session.execute(
                select(
                    col(User.id),
                    col(User.username),
                    col(User.display_name),
                    col(User.role),
                    col(User.is_active),
                )
                .where(col(User.role) != Role.participant)
                .order_by(col(User.role), col(User.username))
            ).all()
        ),
        version=session.execute(
            select(ContentVersion).order_by(col(ContentVersion.id).desc()).limit(1)
        ).scalar_one_or_none(),
        regions=list(session.execute(select(Region).order_by(col(Region.name))).scalars()),
        orgs=list(
            session.execute(
                select(col(Organization.name), col(Region.name).label("region"))
                .join(Region, col(Region.id) == Organization.region_id)
                .order_by(col(Region.name), col(Organization.name))
            ).all()
        ),
        cohorts=list(
            session.execute(
                select(
                    col(Cohort.slug),
                    col(Cohort.title),
                    col(Cohort.workshop_start),
                    col(Region.name).label("region"),
                )
                .join(Region, col(Region.id) == Cohort.region_id)
                .order_by(col(Cohort.workshop_start).desc())
            ).all()
        ),
    )


# ---------------------------------------------------------------- the audit log

import json  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from urllib.parse import quote  # noqa: E402

from sqlalchemy import Select, func  # noqa: E402

from app.accounts.models import AuditLog  # noqa: E402
from app.exports import Column as ExportColumn  # noqa: E402
from app.i18n import translations  # noqa: E402

AUDIT_PAGE_SIZE = 50
AUDIT_VALUE_MAX = 80  # characters of one detail value on the page (the CSV keeps them whole)
AUDIT_FIRST_DAY, AUDIT_LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class AuditQuery:
    """What the administrator asked the audit log for, as it stands in the URL: ``actor`` a
    username or its beginning; ``action`` one action, or a prefix when it ends with ``.`` or
    ``*`` (``export.``); ``target`` a part of the target; ``start``/``end`` days in the
    application's time zone (both included)."""

    actor: str = ""
    action: str = ""
    target: str = ""
    start: date | None = None
    end: date | None = None
    page: int = 1

    @property
    def filtered(self) -> bool:
        return bool(self.actor or self.action or self.target or self.start or self.end)

    @property
    def action_prefix(self) -> str | None:
        """The prefix the action filter stands for, or None for one exact action."""
        if self.action.endswith("*"):
            return self.action.rstrip("*")
        return self.action if self.action.endswith(".") else None

    def form(self) -> dict[str, str]:
        """The filter as the form's fields hold it."""
        return {
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "from": self.start.isoformat() if self.start else "",
            "to": self.end.isoformat() if self.end else "",
        }

    def params(self, **changes: Any) -> str:
        """The query string of this filter (with ``changes``), for links and the export."""
        values: dict[str, Any] = {**self.form(), "page": self.page, **changes}
        parts = [
            f"{k}={quote(str(v))}" for k, v in values.items() if v and not (k == "page" and v == 1)
        ]
        return "?" + "&".join(parts) if parts else ""

    def label(self) -> str | None:
        """A short name of the filter for a file name ("rina-export-2026-03-01")."""
        parts = [self.actor, self.action.rstrip(".*"), self.target]
        parts += [d.isoformat() for d in (self.start, self.end) if d]
        return "-".join(p for p in parts if p) or None


def _audit_text(params: dict[str, str], name: str, max_len: int) -> str:
    value = " ".join(str(params.get(name) or "").split())
    if _CONTROL.search(value):
        raise AdminError(name, N_("This field contains characters that are not allowed."))
    if len(value) > max_len:
        raise AdminError(name, N_("This field is too long."))
    return value


def _audit_day(params: dict[str, str], name: str) -> date | None:
    value = str(params.get(name) or "").strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value) if _ISO_DAY.match(value) else None
    except ValueError:
        day = None
    if day is None or not AUDIT_FIRST_DAY <= day <= AUDIT_LAST_DAY:
        raise AdminError(name, N_("Enter a date like 2025-10-14."))
    return day


def audit_query(*, params: dict[str, str]) -> AuditQuery:
    """The audit log's filter from the URL's ``actor``, ``action``, ``target``, ``from``,
    ``to`` and ``page``, checked: a date that is not one, or a start after the end, is an
    ``AdminError`` (422) naming the field."""
    start, end = _audit_day(params, "from"), _audit_day(params, "to")
    if start and end and start > end:
        raise AdminError("to", N_("The end date is before the start date."))
    page = str(params.get("page") or "")
    return AuditQuery(
        actor=_audit_text(params, "actor", 64).lower(),
        action=_audit_text(params, "action", 64).lower(),
        target=_audit_text(params, "target", 200),
        start=start,
        end=end,
        page=max(1, int(page)) if page.isdigit() and len(page) < 7 else 1,
    )


def _audit_where(query: AuditQuery, tz: tzinfo) -> list[Any]:
    """The filter as SQL conditions on ``audit_log`` (joined to its actor's account)."""
    where: list[Any] = []
    if query.actor:
        where.append(col(User.username).startswith(query.actor, autoescape=True))
    prefix = query.action_prefix
    if prefix:
        where.append(col(AuditLog.action).startswith(prefix, autoescape=True))
    elif query.action:
        where.append(col(AuditLog.action) == query.action)
    if query.target:
        where.append(col(AuditLog.target).icontains(query.target, autoescape=True))
    if query.start:
        where.append(col(AuditLog.at) >= _day_start(query.start, tz))
    if query.end:
        where.append(col(AuditLog.at) < _day_start(query.end + timedelta(days=1), tz))
    return where


def _audit_rows(where: list[Any]) -> Select[Any]:
    """The entries the conditions keep, newest first, with their actor's name."""
    return (
        select(
            col(AuditLog.id),
            col(AuditLog.at),
            col(AuditLog.action),
            col(AuditLog.target),
            col(AuditLog.detail),
            col(User.username),
            col(User.display_name),
        )
        .outerjoin(User, col(User.id) == AuditLog.actor_id)
        .where(*where)
        .order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc())
    )


def _detail_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def audit_detail_pairs(detail: Any) -> list[tuple[str, str]]:
    """An entry's detail as (key, value) texts in their stored order; a detail that is not
    an object is one pair without a key."""
    if detail is None or detail == {}:
        return []
    if isinstance(detail, dict):
        return [(str(k), _detail_value(v)) for k, v in detail.items()]
    return [("", _detail_value(detail))]


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    action: str
    target: str | None
    actor_username: str | None  # None: the system (or an account that no longer exists)
    actor_name: str | None
    detail: list[tuple[str, str]]  # readable pairs, long values shortened


@dataclass
class AuditPage:
    query: AuditQuery
    entries: list[AuditEntry]
    total: int
    page: int
    pages: int
    actions: list[str]  # every action in the log
    families: list[str]  # their prefixes ("export."), for the action filter
    form: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def audit_log(
    session: Session, *, actor: CurrentUser, query: AuditQuery | None, tz: tzinfo
) -> AuditPage:
    """One page of the audit log (``AUDIT_PAGE_SIZE`` entries, newest first) with the number
    of entries the filter keeps and the actions to filter by: three statements, whatever the
    size of the log. ``query`` None (a refused filter): no entries, only the actions."""
    _admin(actor)
    actions = list(
        session.execute(
            select(col(AuditLog.action)).distinct().order_by(col(AuditLog.action))
        ).scalars()
    )
    families = sorted({a.split(".", 1)[0] + "." for a in actions if "." in a})
    if query is None:
        return AuditPage(AuditQuery(), [], 0, 1, 1, actions, families)
    where = _audit_where(query, tz)
    count = select(func.count()).select_from(AuditLog)
    if query.actor:
        count = count.join(User, col(User.id) == AuditLog.actor_id)
    total = session.execute(count.where(*where)).scalar_one()
    pages = max(1, -(-total // AUDIT_PAGE_SIZE))
    page = min(query.page, pages)
    rows = session.execute(
        _audit_rows(where).limit(AUDIT_PAGE_SIZE).offset((page - 1) * AUDIT_PAGE_SIZE)
    ).all()
    entries = [
        AuditEntry(
            id=row.id,
            at=row.at,
            action=row.action,
            target=row.target,
            actor_username=row.username,
            actor_name=row.display_name,
            detail=[
                (_shorten(k, 40), _shorten(v, AUDIT_VALUE_MAX))
                for k, v in audit_detail_pairs(row.detail)
            ],
        )
        for row in rows
    ]
    return AuditPage(query, entries, total, page, pages, actions, families, form=query.form())


@dataclass(frozen=True)
class AuditExport:
    query: AuditQuery
    columns: list[ExportColumn]
    rows: int
    upto: int  # the newest entry the file holds (its own record comes after)
    system: str  # the word for an entry without an actor, translated


def audit_export(
    session: Session,
    *,
    actor: CurrentUser,
    query: AuditQuery,
    now: datetime,
    tz: tzinfo,
    locale: str,
) -> AuditExport:
    """Start an export of the filtered log: count what it will hold and record the export
    itself in the log (``export.audit``), in the caller's write transaction."""
    _admin(actor)
    rows, upto = session.execute(
        select(func.count(), func.max(col(AuditLog.id)))
        .select_from(AuditLog)
        .outerjoin(User, col(User.id) == AuditLog.actor_id)
        .where(*_audit_where(query, tz))
    ).one()
    audit_record(
        session,
        now=now,
        actor_id=actor.id,
        action="export.audit",
        target="audit_log",
        detail={**{k: v for k, v in query.form().items() if v}, "rows": rows},
    )
    gettext = translations(locale).gettext
    columns = [
        ExportColumn("at", gettext("Time"), "datetime", 17),
        ExportColumn("username", gettext("Username"), "text", 16),
        ExportColumn("name", gettext("Name"), "text", 24),
        ExportColumn("action", gettext("Action"), "text", 22),
        ExportColumn("target", gettext("Target"), "text", 24),
        ExportColumn("detail", gettext("Details"), "text", 60),
    ]
    return AuditExport(query, columns, rows, upto or 0, gettext("system"))


def audit_export_rows(
    session: Session, *, actor: CurrentUser, export: AuditExport, tz: tzinfo
) -> Iterator[dict[str, Any]]:
    """The rows of an export, read in batches as they are written (constant memory): the
    entries the filter kept when the export started, newest first, details in full."""
    _admin(actor)
    where = [*_audit_where(export.query, tz), col(AuditLog.id) <= export.upto]
    result = session.execute(_audit_rows(where).execution_options(yield_per=500))
    for row in result:
        yield {
            "at": row.at,
            "username": row.username,
            "name": row.display_name if row.username is not None else export.system,
            "action": row.action,
            "target": row.target,
            "detail": "; ".join(f"{k}: {v}" if k else v for k, v in audit_detail_pairs(row.detail)),
        }


@dataclass
class CohortAdmin:
    cohort: Cohort
    regions: list[Region]
    assigned: list[Row[Any]]
    facilitators: list[Row[Any]]
    form: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def cohort_admin(session: Session, *, slug: str) -> CohortAdmin:
    """A cohort with its facilitators, and the facilitators who could be added."""
    cohort = cohort_by_slug(session, slug=slug)
    if cohort is None:
        raise NotFound(message=N_("This cohort does not exist."))
    assigned = list(
        session.execute(
            select(col(User.id), col(User.display_name), col(User.username))
            .join(CohortFacilitator, col(CohortFacilitator.user_id) == User.id)
            .where(col(CohortFacilitator.cohort_id) == cohort.id)
        ).all()
    )
    taken = {row.id for row in assigned}
    facilitators = session.execute(
        select(col(User.id), col(User.display_name), col(User.username))
        .where(col(User.role) == Role.facilitator, col(User.is_active).is_(True))
        .order_by(col(User.display_name))
    ).all()
    return CohortAdmin(
        cohort=cohort,
        regions=list(session.execute(select(Region).order_by(col(Region.name))).scalars()),
        assigned=assigned,
        facilitators=[f for f in facilitators if f.id not in taken],
    )
