"""National aggregates for KPK: counts only, never names."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session, col

from app.accounts.models import Role, User
from app.cohorts.models import Cohort, Couple, Organization, Region


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
