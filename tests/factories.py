"""Builders for test data, through the same service code the application uses: accounts
through ``accounts.service.user_create``, regions and cohorts through the administration's
``admin.service`` (as an administrator would make them, audit records included), and
facilitators assigned the same way."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml
from sqlalchemy import select

from app.accounts.models import CurrentUser, PartnerRole, Role, User
from app.accounts.service import user_create
from app.admin.service import cohort_save, facilitator_assign, region_create
from app.cohorts.models import Cohort, Couple, Organization, Region
from app.config import Settings
from app.db import Database

PASSWORD = "kata-sandi-uji-123"
# the accounts the factories make have agreed to the privacy notice of modules/ (and of the
# fixture content: the same version), as their activation or first sign-in recorded
AGREED = yaml.safe_load(
    (Path(__file__).resolve().parent.parent / "modules" / "privacy.yaml").read_text("utf-8")
)["version"]
SETTINGS = Settings(env="test", secret_key="factory-secret-key-" + "x" * 32)


def actor(user: User) -> CurrentUser:
    """The user as a request sees them: what services take as the acting user."""
    assert user.id is not None
    return CurrentUser(
        user.id,
        user.username,
        user.display_name,
        user.role,
        user.locale,
        user.couple_id,
        user.partner_role,
        user.consent_version,
    )


def make_user(
    db: Database,
    settings: Settings,
    username: str,
    role: str = Role.admin,
    password: str = PASSWORD,
    **extra,
) -> User:
    extra.setdefault("consent_version", AGREED)
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


def _administrator(db: Database) -> CurrentUser:
    """The administrator who makes the test cohorts (one per database)."""
    with db.read() as session:
        existing = session.execute(
            select(User).where(User.username == "admin-uji")
        ).scalar_one_or_none()
    if existing is None:
        existing = make_user(db, SETTINGS, "admin-uji", Role.admin)
    return actor(existing)


def make_cohort(
    db: Database,
    slug: str = "uji",
    *,
    workshop_start: date | None = None,
    facilitator: User | None = None,
) -> Cohort:
    """A cohort in "Kota Uji" whose learning opens 30 days before the workshop (two days)
    and closes 60 days after it."""
    admin = _administrator(db)
    # "today" as the application reads it: in the cohorts' time zone, not in UTC
    start = workshop_start or (datetime.now(SETTINGS.tz).date() + timedelta(days=7))
    now = datetime.now(UTC)
    with db.write() as session:
        region = session.execute(
            select(Region).where(Region.slug == "kota-uji")
        ).scalar_one_or_none()
        if region is None:
            region = region_create(
                session,
                form={"slug": "kota-uji", "name": "Kota Uji", "province": "Banten"},
                actor=admin,
                now=now,
            )
        cohort = cohort_save(
            session,
            form={
                "slug": slug,
                "code_prefix": re.sub(r"[^A-Z0-9]", "", slug.upper())[:12].ljust(2, "X"),
                "region_id": str(region.id),
                "title": f"Angkatan {slug}",
                "venue": "Aula",
                "workshop_start": start.isoformat(),
                "workshop_end": (start + timedelta(days=1)).isoformat(),
                "pre_opens": (start - timedelta(days=30)).isoformat(),
                "post_closes": (start + timedelta(days=60)).isoformat(),
            },
            actor=admin,
            now=now,
            tz=SETTINGS.tz,
        )
        if facilitator is not None:
            facilitator_assign(
                session,
                cohort=cohort,
                user_id=facilitator.id,
                actor=admin,
                now=now,
                assign=True,
            )
        return cohort


def make_couple(db: Database, settings: Settings, cohort: Cohort, code: str) -> tuple[User, User]:
    """A couple with two participant accounts: ``<code>-a`` (official) and ``<code>-b``.
    (A roster import names accounts after the couple code; tests name them themselves.)"""
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
                consent_version=AGREED,
            )
            for s, role in (("a", PartnerRole.official), ("b", PartnerRole.spouse))
        )
    return users
