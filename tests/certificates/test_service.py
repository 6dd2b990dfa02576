"""Certificate services called directly: revocation is an administrator's, issuing follows
the rule of completion."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.accounts.models import AuditLog
from app.certificates.models import Certificate
from app.certificates.service import certificate_revoke, issue_if_complete
from app.errors import Forbidden
from tests.authz_world import NOW, build_world
from tests.factories import actor, make_user


@pytest.fixture
def world(db, settings):
    return build_world(db, settings)


@pytest.fixture
def certificate(db, world):
    with db.write() as session:
        session.add(Certificate(user_id=world.official.id, code="KB-UJI0000001", issued_at=NOW))
    return "KB-UJI0000001"


@pytest.mark.parametrize("who", ["facilitator", "kpk", "participant"])
def test_revoking_is_refused_to_anyone_but_an_administrator(db, world, certificate, who):
    with pytest.raises(Forbidden), db.write() as session:
        certificate_revoke(
            session, actor=getattr(world, who), code=certificate, reason="uji", now=NOW
        )
    with db.read() as session:
        assert session.execute(select(Certificate.revoked_at)).scalar_one() is None


def test_an_administrator_revokes_and_it_is_audited(db, settings, world, certificate):
    admin = actor(make_user(db, settings, "kepala-admin", "admin"))
    with db.write() as session:
        certificate_revoke(
            session, actor=admin, code=" kb-uji0000001 ", reason="salah nama", now=NOW
        )
    with db.read() as session:
        assert session.execute(select(Certificate.revoked_at)).scalar_one() == NOW
        log = session.execute(
            select(AuditLog).where(AuditLog.action == "certificate.revoke")
        ).scalar_one()
    assert log.detail == {"reason": "salah nama"} and log.actor_id == admin.id


def test_nothing_is_issued_to_a_couple_that_is_not_complete(mini, world):
    with mini.write() as session:
        assert issue_if_complete(session, couple_id=world.official.couple_id, now=NOW) == 0
    with mini.read() as session:
        assert session.execute(select(Certificate)).first() is None
