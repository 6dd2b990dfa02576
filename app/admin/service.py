"""Administration: regions, organizations, cohorts, facilitators. Every change is audited."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import delete, select
from sqlmodel import Session

from app.accounts.models import Role, User
from app.audit import audit_record
from app.cohorts.models import Cohort, CohortFacilitator, Organization, Region
from app.i18n import N_

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PREFIX_RE = re.compile(r"^[A-Z0-9]{2,12}$")
WIB = timedelta(hours=7)


class AdminError(ValueError):
    """Input the administration refuses; ``field`` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


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


def _wib_start(day: date) -> datetime:
    return datetime.combine(day, time(0)).replace(tzinfo=UTC) - WIB


def region_create(session: Session, *, form: dict, actor_id: int) -> Region:
    slug = _slug(form)
    if session.execute(select(Region.id).where(Region.slug == slug)).first():
        raise AdminError("slug", N_("This short name is already taken."))
    region = Region(
        slug=slug, name=_text(form, "name"), province=_text(form, "province", max_len=100)
    )
    session.add(region)
    session.flush()
    audit_record(session, actor_id=actor_id, action="region.create", target=f"region:{slug}")
    return region


def organization_create(session: Session, *, form: dict, actor_id: int) -> Organization:
    try:
        region_id = int(form.get("region_id") or 0)
    except ValueError as exc:
        raise AdminError("region_id", N_("Choose a region.")) from exc
    region = session.get(Region, region_id)
    if region is None:
        raise AdminError("region_id", N_("Choose a region."))
    name = _text(form, "name")
    if session.execute(
        select(Organization.id).where(
            Organization.region_id == region_id, Organization.name == name
        )
    ).first():
        raise AdminError("name", N_("This organization already exists in the region."))
    org = Organization(region_id=region_id, name=name)
    session.add(org)
    session.flush()
    audit_record(
        session,
        actor_id=actor_id,
        action="organization.create",
        target=f"region:{region.slug}",
        detail={"name": name},
    )
    return org


def cohort_save(
    session: Session, *, form: dict, actor_id: int, cohort: Cohort | None = None
) -> Cohort:
    """Create a cohort, or change one; dates are checked against each other."""
    slug = cohort.slug if cohort else _slug(form)
    if cohort is None and session.execute(select(Cohort.id).where(Cohort.slug == slug)).first():
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
    values = {
        "code_prefix": prefix,
        "region_id": region.id,
        "title": _text(form, "title"),
        "venue": _text(form, "venue"),
        "workshop_start": start,
        "workshop_end": end,
        "pre_opens": _wib_start(opens),
        "post_closes": _wib_start(closes + timedelta(days=1)),
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
        actor_id=actor_id,
        action=action,
        target=f"cohort:{slug}",
        detail={k: str(v) for k, v in values.items()},
    )
    return cohort


def facilitator_assign(
    session: Session, *, cohort: Cohort, user_id: int, actor_id: int, assign: bool
) -> None:
    user = session.get(User, user_id)
    if user is None or user.role != Role.facilitator:
        raise AdminError("user_id", N_("Choose a facilitator account."))
    link = session.get(CohortFacilitator, (cohort.id, user.id))
    if assign and link is None:
        session.add(CohortFacilitator(cohort_id=cohort.id, user_id=user.id))
    elif not assign and link is not None:
        session.execute(
            delete(CohortFacilitator).where(
                CohortFacilitator.cohort_id == cohort.id, CohortFacilitator.user_id == user.id
            )
        )
    audit_record(
        session,
        actor_id=actor_id,
        action="cohort.facilitator.add" if assign else "cohort.facilitator.remove",
        target=f"cohort:{cohort.slug}",
        detail={"user": user.username},
    )
