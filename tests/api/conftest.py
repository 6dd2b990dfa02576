"""Fixtures of the API tests: a token and its secret, and a small world whose people carry
distinctive names, usernames and contacts that must never come out of the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import update

from app.accounts.models import User
from app.admin.service import region_create
from app.api import service
from app.db import Database, utcnow
from tests.factories import _administrator, make_cohort, make_couple, make_user


@dataclass
class Token:
    id: int
    name: str
    secret: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}


def create_token(db: Database, name: str = "dasbor-kpk") -> Token:
    with db.write() as session:
        token, secret = service.token_create(session, actor=None, name=name, now=utcnow())
        assert token.id is not None
        return Token(token.id, token.name, secret)


@pytest.fixture
def token(db) -> Token:
    return create_token(db)


NAMES = ("Wiratmaja Sukmawati", "Kusumaningrum Hadiprojo")
CONTACTS = ("+6281299887766", "sukmawati.wiratmaja@contoh.id")
NIP = "198706152010012003"
STAFF = ("fasilitator-zulkarnain", "analis-purbaningsih")
USERNAMES = ("wrt-001-a", "wrt-001-b", "wrt-002-a", "wrt-003-b", *STAFF)
PERSONAL = (*NAMES, *CONTACTS, NIP, *USERNAMES, "Fasilitator-Zulkarnain")


@pytest.fixture
def world(db, settings) -> dict:
    """Kota Uji with the cohorts ``tng-2026`` (two couples, a facilitator) and ``tng-2025``
    (one couple), and the empty region Kabupaten Kosong."""
    facilitator = make_user(db, settings, STAFF[0], "facilitator")
    make_user(db, settings, STAFF[1], "kpk")
    current = make_cohort(db, "tng-2026", workshop_start=date(2026, 3, 9), facilitator=facilitator)
    last = make_cohort(db, "tng-2025", workshop_start=date(2025, 10, 14))
    with db.write() as session:
        region_create(
            session,
            form={"slug": "kab-kosong", "name": "Kabupaten Kosong", "province": "Jawa Barat"},
            actor=_administrator(db),
            now=utcnow(),
        )
    official, spouse = make_couple(db, settings, current, "wrt-001")
    make_couple(db, settings, current, "wrt-002")
    make_couple(db, settings, last, "wrt-003")
    with db.write() as session:
        for user, name, contact in zip((official, spouse), NAMES, CONTACTS, strict=True):
            session.execute(
                update(User)
                .where(User.id == user.id)
                .values(display_name=name, contact=contact, nip=NIP)
            )
    return {"cohorts": (current, last), "users": (official, spouse)}
