"""Cohorts, couples and who may see them."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlmodel import Session

from app.accounts.models import Role, User
from app.cohorts.models import Cohort, CohortFacilitator, Couple, Region


def cohorts_visible_to(*, user: User) -> Select:
    """The cohorts a user may manage: a facilitator's own, every cohort for an admin."""
    query = select(Cohort.id)
    if user.role == Role.admin:
        return query
    if user.role == Role.facilitator:
        return query.join(CohortFacilitator, CohortFacilitator.cohort_id == Cohort.id).where(
            CohortFacilitator.user_id == user.id
        )
    return query.where(False)


def cohort_list_for(session: Session, *, user: User) -> list[dict]:
    """The cohorts a facilitator (or admin) may see, with their size, in one query."""
    visible = cohorts_visible_to(user=user).subquery()
    participants = (
        select(Couple.cohort_id, func.count(User.id).label("participants"))
        .join(User, User.couple_id == Couple.id)
        .group_by(Couple.cohort_id)
        .subquery()
    )
    couples = (
        select(Couple.cohort_id, func.count(Couple.id).label("couples"))
        .group_by(Couple.cohort_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Cohort.id,
            Cohort.slug,
            Cohort.title,
            Cohort.venue,
            Cohort.workshop_start,
            Cohort.workshop_end,
            Region.name.label("region"),
            func.coalesce(couples.c.couples, 0).label("couples"),
            func.coalesce(participants.c.participants, 0).label("participants"),
        )
        .join(Region, Region.id == Cohort.region_id)
        .join(visible, visible.c.id == Cohort.id)
        .outerjoin(couples, couples.c.cohort_id == Cohort.id)
        .outerjoin(participants, participants.c.cohort_id == Cohort.id)
        .order_by(Cohort.workshop_start.desc())
    ).mappings()
    return [dict(r) for r in rows]


def cohort_by_slug(session: Session, *, slug: str) -> Cohort | None:
    return session.execute(select(Cohort).where(Cohort.slug == slug)).scalar_one_or_none()
