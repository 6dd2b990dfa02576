"""Fixtures of the API tests: a token and its secret, a small world whose people carry
distinctive names, usernames and contacts that must never come out of the API, and a world of
learning for the measures (``measured``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest
from sqlalchemy import select, update

from app.accounts.models import User
from app.admin.service import region_create
from app.api import service
from app.cohorts.models import Cohort, Couple
from app.db import Database, utcnow
from tests.conftest import complete, login, take_quiz
from tests.factories import PASSWORD, _administrator, make_cohort, make_couple, make_user


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


# ---------------------------------------------------------------- a world of learning


@dataclass
class Measured:
    cohorts: dict[str, Cohort]
    usernames: list[str]
    names: list[str]
    organizations: dict[str, int] = field(default_factory=dict)  # couple code → OPD id


COHORTS = {  # slug → (workshop start, couples)
    "tng-2025": (date(2025, 10, 14), 5),  # 2025-Q4: 10 people
    "tng-2026a": (date(2026, 1, 20), 2),  # 2026-Q1: a group of 4
    "tng-2026b": (date(2026, 4, 21), 3),  # 2026-Q2: 6
}
NOT_ACTIVATED = ("uji-004-b", "uji-005-a", "uji-005-b")
MATCHED = ("uji-001-a", "uji-001-b", "uji-002-a", "uji-002-b", "uji-003-a")  # pre and post
ONLY_PRE = ("uji-003-b", "uji-004-a", "uji-006-a", "uji-006-b", "uji-007-a", "uji-007-b")


@pytest.fixture
def enrolled(mini, settings, time_machine) -> Measured:
    """Kota Uji (Banten) on the fixture curriculum (two modules; module 2 after the
    workshop), with three cohorts of 10, 4 and 6 participants (``COHORTS``; couples
    ``uji-001`` … ``uji-010``, each couple in an OPD of its own), each participant with a
    distinctive name. Of ``tng-2025``, three partners never activated their account
    (``NOT_ACTIVATED``: couple ``uji-005`` and the spouse of ``uji-004``). The clock stands
    at 1 September 2025."""
    time_machine.move_to("2025-09-01 03:00:00+00:00", tick=False)
    cohorts: dict[str, Cohort] = {}
    usernames: list[str] = []
    number = 0
    for slug, (start, couples) in COHORTS.items():
        cohorts[slug] = make_cohort(mini, slug, workshop_start=start)
        for _ in range(couples):
            number += 1
            official, spouse = make_couple(mini, settings, cohorts[slug], f"uji-{number:03d}")
            usernames += [official.username, spouse.username]
    names = [f"Sastrowardoyo Nurhayati {chr(65 + i)}" for i in range(len(usernames))]
    with mini.write() as session:  # through the ORM, as the application writes users
        for user in session.execute(select(User).where(User.username.in_(usernames))).scalars():
            user.display_name = names[usernames.index(user.username)]
            if user.username in NOT_ACTIVATED:
                user.password_hash = None
    with mini.read() as session:
        organizations = dict(session.execute(select(Couple.code, Couple.organization_id)).all())
    return Measured(cohorts, usernames, names, organizations)


@pytest.fixture
def measured(enrolled, mini, make_client, time_machine) -> Measured:
    """``enrolled``, and their learning, as the participants did it on the site: five of
    ``tng-2025`` took the pre-test (half right) before the workshop, passed both modules and
    took the post-test (all right) after it (``MATCHED``); two more of it and the four of
    ``tng-2026a`` took the pre-test only (``ONLY_PRE``). The clock then stands at 1 May
    2026: ``tng-2025`` and ``tng-2026a`` are closed, ``tng-2026b``'s post-test is open."""

    def person(username: str):
        client = make_client()
        assert login(client, username, PASSWORD).status_code == 303
        return client

    time_machine.move_to("2025-10-03 03:00:00+00:00", tick=False)  # before tng-2025's workshop
    for username in MATCHED + ONLY_PRE[:2]:
        client = person(username)
        assert take_quiz(client, mini, "pre-test", right=0.5).status_code == 303
        if username in MATCHED:
            complete(client, "awal")
            complete(client, "kedua")
            assert take_quiz(client, mini, "kuis-satu").status_code == 303
    time_machine.move_to("2025-10-17 03:00:00+00:00", tick=False)  # after it
    for username in MATCHED:
        client = person(username)
        complete(client, "ketiga")
        assert take_quiz(client, mini, "kuis-dua").status_code == 303
        assert take_quiz(client, mini, "post-test").status_code == 303
    time_machine.move_to("2026-01-05 03:00:00+00:00", tick=False)  # before tng-2026a's
    for username in ONLY_PRE[2:]:
        assert take_quiz(person(username), mini, "pre-test", right=0.5).status_code == 303
    time_machine.move_to("2026-05-01 03:00:00+00:00", tick=False)
    return enrolled
