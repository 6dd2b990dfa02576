"""Builders for test data, through the same service code the application uses."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from app.accounts.models import PartnerRole, Role, User
from app.accounts.service import user_create
from app.cohorts.models import Cohort, CohortFacilitator, Couple, Organization, Region
from app.config import Settings
from app.db import Database

PASSWORD = "kata-sandi-uji-123"


def make_user(
    db: Database,
    settings: Settings,
    username: str,
    role: str = Role.admin,
    password: str = PASSWORD,
    **extra,
) -> User:
    with db.write() as session:
        return user_create(
            session,
            username=username,
            display_name=username.title(),
            role=role,
            password=password,
            settings=settings,
            **extra,
        )


def make_cohort(
    db: Database,
    slug: str = "uji",
    *,
    workshop_start: date | None = None,
    facilitator: User | None = None,
) -> Cohort:
    start = workshop_start or (datetime.now(UTC).date() + timedelta(days=7))
    with db.write() as session:
        region = session.query(Region).filter_by(slug="kota-uji").one_or_none()
        if region is None:
            region = Region(slug="kota-uji", name="Kota Uji", province="Banten")
            session.add(region)
            session.flush()
        cohort = Cohort(
            slug=slug,
            code_prefix=slug.upper()[:12],
            region_id=region.id,
            title=f"Angkatan {slug}",
            venue="Aula",
            workshop_start=start,
            workshop_end=start + timedelta(days=1),
            pre_opens=datetime.combine(start - timedelta(days=30), datetime.min.time(), UTC),
            post_closes=datetime.combine(start + timedelta(days=60), datetime.min.time(), UTC),
        )
        session.add(cohort)
        session.flush()
        if facilitator is not None:
            session.add(CohortFacilitator(cohort_id=cohort.id, user_id=facilitator.id))
        return cohort


def make_couple(db: Database, settings: Settings, cohort: Cohort, code: str) -> tuple[User, User]:
    """A couple with two participant accounts: ``<code>-a`` (official) and ``<code>-b``."""
    with db.write() as session:
        org = Organization(region_id=cohort.region_id, name=f"Dinas {code}")
        session.add(org)
        session.flush()
        couple = Couple(code=code.upper(), cohort_id=cohort.id, organization_id=org.id)
        session.add(couple)
        session.flush()
        users = tuple(
            user_create(
                session,
                username=f"{code}-{s}",
                display_name=f"{code} {s}",
                role=Role.participant,
                password=PASSWORD,
                settings=settings,
                couple_id=couple.id,
                partner_role=role,
            )
            for s, role in (("a", PartnerRole.official), ("b", PartnerRole.spouse))
        )
    return users
