"""A small world for calling services directly as the wrong person: two cohorts, each with
its facilitator and one couple; and the same world over HTTP (``build_site``), with every
identity of the route gate signed in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.accounts.models import CurrentUser, User
from app.api.service import token_create
from app.certificates.models import Certificate
from app.cohorts.models import Cohort, Couple
from app.cohorts.service import activation_issue
from app.config import Settings
from app.curriculum.models import Choice, Question
from app.db import Database, saved_id, utcnow
from app.family.models import FamilyReflection
from app.privacy.models import ErasureRequest
from tests.conftest import ATTEMPT_RE, complete, csrf_of, open_quiz, post_form, take_quiz
from tests.factories import PASSWORD, _administrator, actor, make_cohort, make_couple, make_user

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


@dataclass
class World:
    cohort: Cohort
    other_cohort: Cohort
    facilitator: CurrentUser  # facilitates ``cohort``
    outsider: CurrentUser  # facilitates ``other_cohort`` only
    kpk: CurrentUser
    official: User
    spouse: User

    @property
    def participant(self) -> CurrentUser:
        return actor(self.official)


def build_world(db: Database, settings: Settings) -> World:
    rina = make_user(db, settings, "rina", "facilitator")
    dewi = make_user(db, settings, "dewi", "facilitator")
    kpk = make_user(db, settings, "analis", "kpk")
    cohort = make_cohort(db, "uji", facilitator=rina)
    other = make_cohort(db, "lain", facilitator=dewi)
    official, spouse = make_couple(db, settings, cohort, "uji-001")
    return World(cohort, other, actor(rina), actor(dewi), actor(kpk), official, spouse)


# ---------------------------------------------------------------- the same world over HTTP


@dataclass
class SiteWorld:
    """The world above with every identity of the route gate signed in to its own client
    (``tests/gates/route_table.py`` names them), and the values its requests are made with.

    ``subject``: cohort ``uji`` and its couple UJI-001, whose official (the ``participant``)
    has taken the pre-test, finished module 1's lessons, failed its quiz once and holds an open
    second attempt, and wrote the module's family reflection; his ``partner`` has taken the
    pre-test; both hold a certificate. ``stranger``: the same names in cohort ``lain``, where
    couple LAIN-001 (its official is ``other_participant``) is as far and wrote its own
    reflection."""

    world: World
    clients: dict[str, TestClient]
    usernames: dict[str, str]
    api_token: str
    subject: dict[str, str] = field(default_factory=dict)
    stranger: dict[str, str] = field(default_factory=dict)
    # the CSRF token the sign-in page gave each identity before it signed in
    anonymous_tokens: dict[str, str] = field(default_factory=dict)
    # identity -> (its cookies when the token was read, the token)
    _tokens: dict[str, tuple[tuple[str | None, ...], str]] = field(default_factory=dict)

    def sign_in(self, identity: str) -> None:
        """Sign the identity's client in through the sign-in form (again, after a route
        signed it out); ``anonymous`` and ``token`` stay as they are."""
        if identity not in self.usernames:
            return
        client = self.clients[identity]
        page = client.get("/login")
        self.anonymous_tokens[identity] = csrf_of(page.text)
        response = client.post(
            "/login",
            data={
                "username": self.usernames[identity],
                "password": PASSWORD,
                "csrf_token": self.anonymous_tokens[identity],
            },
            follow_redirects=False,
        )
        assert response.status_code == 303, (identity, response.text[:500])

    def csrf(self, identity: str) -> str:
        """The CSRF token of the identity's current session (signed in or anonymous), read
        from a page again whenever its cookies have changed."""
        client = self.clients[identity]

        def cookies() -> tuple[str | None, ...]:
            return client.cookies.get("kb_session"), client.cookies.get("kb_anon")

        known = self._tokens.get(identity)
        if known is None or known[0] != cookies():
            page = client.get("/account" if identity in self.usernames else "/login")
            self._tokens[identity] = (cookies(), csrf_of(page.text))
        return self._tokens[identity][1]


def build_site(
    db: Database, settings: Settings, make_client: Callable[[], TestClient]
) -> SiteWorld:
    """Needs the fixture curriculum (``mini``): lessons ``awal``, ``kedua``, quizzes
    ``pre-test``, ``kuis-satu``."""
    world = build_world(db, settings)
    other_official, other_spouse = make_couple(db, settings, world.other_cohort, "lain-001")
    spare = make_user(db, settings, "cadangan", "kpk")
    # a participant whose data an administrator is asked to erase (by letter)
    to_erase, _ = make_couple(db, settings, world.other_cohort, "lain-002")
    admin = _administrator(db)
    now = utcnow()
    with db.write() as session:
        erasure = ErasureRequest(
            user_id=saved_id(to_erase),
            source="letter",
            received_at=now,
            due_at=now + timedelta(hours=72),
            note="Surat 1/2026",
        )
        session.add(erasure)
        session.flush()
        erasure_id = saved_id(erasure)
        _, api_token = token_create(session, actor=admin, name="gerbang", now=now)
        spare_token, _ = token_create(session, actor=admin, name="cadangan", now=now)
        activation_code = activation_issue(
            session,
            user_id=saved_id(other_spouse),
            now=now,
            days=settings.activation_days,
            secret=settings.secret(),
        )
        for user, code in (
            (world.official, "KB-UJI0000001"),
            (world.spouse, "KB-UJI0000002"),
            (other_spouse, "KB-LAIN000001"),
        ):
            session.add(Certificate(user_id=saved_id(user), code=code, issued_at=now))
    usernames = {
        "participant": world.official.username,
        "partner": world.spouse.username,
        "other_participant": other_official.username,
        "facilitator": "rina",
        "other_facilitator": "dewi",
        "kpk": "analis",
        "admin": admin.username,
    }
    clients = {identity: make_client() for identity in (*usernames, "anonymous", "token")}
    clients["token"].headers["Authorization"] = f"Bearer {api_token}"
    site = SiteWorld(world, clients, usernames, api_token)
    for identity in usernames:
        site.sign_in(identity)

    participant, partner, other = (
        clients[i] for i in ("participant", "partner", "other_participant")
    )
    for client in (participant, partner, other):
        assert take_quiz(client, db, "pre-test", right=0.5).status_code == 303
    for client in (participant, other):
        for lesson in ("awal", "kedua"):
            assert complete(client, lesson).status_code == 303
        reflection = post_form(
            client, "/family/reflections/satu", {"text": "Kami belajar."}, page="/family"
        )
        assert reflection.status_code == 303, reflection.text[:500]
    assert take_quiz(participant, db, "kuis-satu", right=False).status_code == 303
    attempt_id = ATTEMPT_RE.search(open_quiz(participant, "kuis-satu"))
    assert attempt_id is not None

    with db.read() as session:
        check = session.execute(select(Question.id).where(Question.slug == "s-c-1")).scalar_one()
        choice = (
            session.execute(
                select(Choice.id).where(Choice.question_id == check).order_by(Choice.id)
            )
            .scalars()
            .first()
        )
        reflections = dict(
            session.execute(
                select(Couple.code, FamilyReflection.id).join(
                    Couple, Couple.id == FamilyReflection.couple_id
                )
            ).all()
        )
        facilitator_id = session.execute(
            select(User.id).where(User.username == "rina")
        ).scalar_one()
    start = world.cohort.workshop_start  # as ``make_cohort`` made it
    common = {
        "password": PASSWORD,
        "activation_code": activation_code,
        "lesson": "awal",
        "check_id": str(check),
        "check_choice": str(choice),
        "taken_quiz": "pre-test",
        "open_quiz": "kuis-satu",
        "attempt_id": attempt_id.group(1),
        "module": "satu",
        "certificate": "KB-UJI0000001",
        "spare_certificate": "KB-LAIN000001",
        "workshop_day": start.isoformat(),
        "workshop_end": (start + timedelta(days=1)).isoformat(),
        "pre_opens": (start - timedelta(days=30)).isoformat(),
        "post_closes": (start + timedelta(days=60)).isoformat(),
        "region_id": str(world.cohort.region_id),
        "facilitator_id": str(facilitator_id),
        "spare_user_id": str(spare.id),
        "spare_token_id": str(spare_token.id),
        "erasure_id": str(erasure_id),
        "spare_participant": to_erase.username,
    }
    site.subject = {
        **common,
        "cohort": world.cohort.slug,
        "participant_id": str(world.official.id),
        "couple_code": "UJI-001",
        "reflection_id": str(reflections["UJI-001"]),
    }
    site.stranger = {
        **common,
        "cohort": world.other_cohort.slug,
        "participant_id": str(other_official.id),
        "couple_code": "LAIN-001",
        "reflection_id": str(reflections["LAIN-001"]),
    }
    return site
