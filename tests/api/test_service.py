"""API tokens (create, list, revoke, authenticate), the throttle, and the lists the API
answers with — called directly, as the routes and the command line call them."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.accounts.models import AuditLog
from app.api import service
from app.api.models import ApiToken
from app.errors import Forbidden, NotFound
from tests.factories import actor, make_user

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


@pytest.fixture
def admin(db, settings):
    return actor(make_user(db, settings, "kepala", "admin"))


def test_a_token_is_shown_once_and_only_its_hash_is_kept(db, admin):
    with db.write() as session:
        token, secret = service.token_create(session, actor=admin, name="Dasbor KPK", now=NOW)
    assert secret.startswith("kbt_") and len(secret) == 4 + 43
    with db.read() as session:
        row = session.execute(select(ApiToken)).scalar_one()
        audit = session.execute(select(AuditLog)).scalars().all()
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert row.prefix == secret[:8]
    assert row.created_by == admin.id and row.created_at == NOW and row.last_used_at is None
    stored = " ".join(str(v) for v in row.model_dump().values())
    assert secret not in stored and secret[8:] not in stored
    assert [(a.action, a.target, a.actor_id) for a in audit] == [
        ("api_token.create", "api_token:Dasbor KPK", admin.id)
    ]
    assert secret not in str(audit[0].detail) and audit[0].detail["prefix"] == secret[:8]


def test_two_tokens_have_different_secrets(db, admin):
    with db.write() as session:
        _, one = service.token_create(session, actor=admin, name="satu", now=NOW)
        _, two = service.token_create(session, actor=admin, name="dua", now=NOW)
    assert one != two


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("x" * 101, "This field is too long."),
        ("tab\tdi\x00tengah", "Use letters, digits, spaces and punctuation only."),
        ("dasbor", "A token with this name already exists."),
        ("  dasbor ", "A token with this name already exists."),
    ],
)
def test_bad_names_are_refused_and_nothing_is_written(db, admin, name, message):
    with db.write() as session:
        service.token_create(session, actor=admin, name="dasbor", now=NOW)
    with pytest.raises(service.ApiTokenError) as refused, db.write() as session:
        service.token_create(session, actor=admin, name=name, now=NOW)
    assert refused.value.message == message and refused.value.field == "name"
    assert refused.value.status == 422
    with db.read() as session:
        assert len(session.execute(select(ApiToken)).all()) == 1


@pytest.mark.parametrize("role", ["participant", "facilitator", "kpk"])
def test_only_an_administrator_manages_tokens(db, settings, admin, role):
    other = actor(make_user(db, settings, f"orang-{role}", role))
    with db.write() as session:
        service.token_create(session, actor=admin, name="dasbor", now=NOW)
    with pytest.raises(Forbidden), db.write() as session:
        service.token_create(session, actor=other, name="lain", now=NOW)
    with pytest.raises(Forbidden), db.read() as session:
        service.tokens_list(session, actor=other)
    with pytest.raises(Forbidden), db.write() as session:
        service.token_revoke(session, actor=other, now=NOW, name="dasbor")


def test_list_revoke_and_authenticate(db, admin):
    with db.write() as session:
        first, first_secret = service.token_create(session, actor=admin, name="lama", now=NOW)
        _, second_secret = service.token_create(session, actor=None, name="baru", now=NOW)
    with db.write() as session:
        assert service.token_authenticate(session, secret=first_secret, now=NOW) is not None
        assert service.token_revoke(session, actor=admin, now=NOW, token_id=first.id) is True
    with db.write() as session:
        assert service.token_revoke(session, actor=None, now=NOW, name="lama") is False
        with pytest.raises(NotFound):
            service.token_revoke(session, actor=admin, now=NOW, name="tidak-ada")
    with db.read() as session:
        rows = service.tokens_list(session, actor=admin)
        assert service.token_authenticate(session, secret=first_secret, now=NOW) is None
        assert service.token_authenticate(session, secret=second_secret, now=NOW) is not None
        actions = session.execute(select(AuditLog.action)).scalars().all()
    assert [(r.name, r.active, r.created_by) for r in rows] == [
        ("baru", True, None),  # active first; made on the command line
        ("lama", False, "kepala"),
    ]
    assert rows[1].revoked_at == NOW and rows[1].last_used_at == NOW
    assert not hasattr(rows[0], "token_hash")
    assert actions.count("api_token.revoke") == 1  # revoking again logs nothing


@pytest.mark.parametrize(
    "secret",
    ["", "kbt_", "kbt_salah", "bukan-token", "kbt_" + "x" * 500, "KBT_abc"],
)
def test_wrong_secrets_authenticate_nothing(db, admin, secret):
    with db.write() as session:
        service.token_create(session, actor=admin, name="dasbor", now=NOW)
        assert service.token_authenticate(session, secret=secret, now=NOW) is None


def test_last_use_is_written_at_most_once_a_minute(db, admin):
    with db.write() as session:
        _, secret = service.token_create(session, actor=admin, name="dasbor", now=NOW)

    def last_used():
        with db.read() as session:
            return session.execute(select(ApiToken.last_used_at)).scalar_one()

    for at, expected in [
        (NOW, NOW),
        (NOW + timedelta(seconds=59), NOW),
        (NOW + timedelta(seconds=60), NOW + timedelta(seconds=60)),
        (NOW + timedelta(seconds=61), NOW + timedelta(seconds=60)),
    ]:
        with db.write() as session:
            token = service.token_authenticate(session, secret=secret, now=at)
            assert token is not None
        assert last_used() == expected


def test_the_throttle_counts_per_token_over_a_sliding_minute():
    throttle = service.TokenThrottle(3)
    seconds = [0, 10, 20]
    for s in seconds:
        assert throttle.hit(1, now=NOW + timedelta(seconds=s)) is None
    assert throttle.hit(1, now=NOW + timedelta(seconds=30)) == 30  # the first leaves at 60 s
    assert throttle.hit(2, now=NOW + timedelta(seconds=30)) is None  # another token
    assert throttle.hit(1, now=NOW + timedelta(seconds=59.5)) == 1
    assert throttle.hit(1, now=NOW + timedelta(seconds=60)) is None
    assert throttle.hit(1, now=NOW + timedelta(seconds=61)) == 9


def test_the_lists(db, world):
    with db.read() as session:
        regions = service.regions_page(session, page=1, per_page=50)
        orgs = service.organizations_page(session, region="kota-uji", page=1, per_page=2)
        none = service.organizations_page(session, region="kab-kosong", page=1, per_page=50)
        cohorts = service.cohorts_page(session, region=None, year=None, page=1, per_page=50)
        of_2025 = service.cohorts_page(session, region="kota-uji", year=2025, page=1, per_page=50)
        of_2024 = service.cohorts_page(session, region=None, year=2024, page=1, per_page=50)
        later = service.cohorts_page(session, region=None, year=None, page=2, per_page=1)
        with pytest.raises(NotFound):
            service.cohorts_page(session, region="tidak-ada", year=None, page=1, per_page=5)
    assert [(r.slug, r.organizations, r.cohorts) for r in regions.items] == [
        ("kab-kosong", 0, 0),
        ("kota-uji", 3, 2),
    ]
    assert regions.total == 2 and regions.page == 1 and regions.per_page == 50
    assert orgs.total == 3 and [o.name for o in orgs.items] == ["Dinas wrt-001", "Dinas wrt-002"]
    assert {o.region for o in orgs.items} == {"kota-uji"}
    assert none.total == 0 and none.items == []
    assert [(c.slug, c.couples) for c in cohorts.items] == [("tng-2026", 2), ("tng-2025", 1)]
    assert [c.slug for c in of_2025.items] == ["tng-2025"] and of_2025.total == 1
    assert of_2024.total == 0
    assert later.total == 2 and [c.slug for c in later.items] == ["tng-2025"]
