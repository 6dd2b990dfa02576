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
from app.cohorts.models import Cohort, CohortFacilitator, Organization, Region
from app.cohorts.service import cohort_by_slug
from app.config import Settings
from app.curriculum.models import ContentVersion
from app.db import saved_id
from app.errors import AppError, Forbidden, NotFound
from app.i18n import N_

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PREFIX_RE = re.compile(r"^[A-Z0-9]{2,12}$")


class AdminError(AppError):
    """Input the administration refuses; ``field`` names the form field."""

    status = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message=message, field=field)


def _admin(actor: CurrentUser) -> CurrentUser:
    if actor.role != Role.admin:
        raise Forbidden
    return actor


def _text(form: dict, name: str, *, max_len: int = 200, required: bool = True) -> str:
    value = str(form.get(name) or "").strip()
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


def cohort_save(
    session: Session,
    *,
    form: dict,
    actor: CurrentUser,
    now: datetime,
    tz: tzinfo,
    cohort: Cohort | None = None,
) -> Cohort:
    """Create a cohort, or change one; dates are checked against each other and read in the
    cohort's time zone."""
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
    values: dict[str, Any] = {
        "code_prefix": prefix,
        "region_id": region.id,
        "title": _text(form, "title"),
        "venue": _text(form, "venue"),
        "workshop_start": start,
        "workshop_end": end,
        "pre_opens": _day_start(opens, tz),
        "post_closes": _day_start(closes + timedelta(days=1), tz),
    }
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
        detail={k: str(v) for k, v in values.items()},
    )
    return cohort


def cohort_update(
    session: Session, *, slug: str, form: dict, actor: CurrentUser, now: datetime, tz: tzinfo
) -> Cohort:
    """Change a cohort's title, venue, prefix, region and dates (see ``cohort_save``)."""
    cohort = cohort_by_slug(session, slug=slug)
    if cohort is None:
        raise NotFound(message=N_("This cohort does not exist."))
    return cohort_save(session, form=form, actor=actor, now=now, tz=tz, cohort=cohort)


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
            display_name=form.get("name", ""),
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
