"""Cohort services called directly, as the wrong person."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.accounts.models import AuditLog
from app.cohorts.models import ActivationCode
from app.cohorts.service import (
    ResetUnconfirmed,
    activation_issue,
    activation_reissue,
    code_hash,
    cohort_for,
    participant_for,
)
from app.errors import NotFound
from tests.authz_world import NOW, build_world
from tests.conftest import SECRET


@pytest.fixture
def world(db, settings):
    return build_world(db, settings)


@pytest.mark.parametrize("who", ["outsider", "kpk", "participant"])
def test_reissuing_a_code_is_refused_to_anyone_but_the_cohorts_facilitator(db, world, who):
    with db.write() as session:
        code = activation_issue(session, user_id=world.official.id, now=NOW, days=30, secret=SECRET)
    with pytest.raises(NotFound), db.write() as session:
        activation_reissue(
            session,
            actor=getattr(world, who),
            cohort=world.cohort,
            user_id=world.official.id,
            now=NOW,
            days=30,
            secret=SECRET,
        )
    with db.read() as session:
        live = session.execute(
            select(ActivationCode.code_hash).where(ActivationCode.retired_at.is_(None))
        ).scalars()
        assert list(live) == [
            code_hash(code, SECRET)
        ]  # the card in the participant's hand still works
        assert (
            session.execute(select(AuditLog).where(AuditLog.action == "activation.reissue")).first()
            is None
        )


def test_the_cohorts_facilitator_reissues_and_it_is_audited(db, world):
    with db.write() as session:
        participant = activation_reissue(
            session,
            actor=world.facilitator,
            cohort=world.cohort,
            user_id=world.official.id,
            now=NOW,
            days=30,
            secret=SECRET,
            reset_confirmed=True,  # the official already uses the account
        )
    assert participant.id == world.official.id
    with db.read() as session:
        log = session.execute(
            select(AuditLog).where(AuditLog.action == "activation.reissue")
        ).scalar_one()
    assert (log.actor_id, log.at) == (world.facilitator.id, NOW)
    assert log.detail == {"cohort": "uji", "reset": True}


def test_a_password_reset_by_code_needs_the_facilitators_confirmation(db, world):
    with pytest.raises(ResetUnconfirmed) as refused, db.write() as session:
        activation_reissue(
            session,
            actor=world.facilitator,
            cohort=world.cohort,
            user_id=world.official.id,
            now=NOW,
            days=30,
            secret=SECRET,
        )
    assert (refused.value.user_id, refused.value.username) == (
        world.official.id,
        world.official.username,
    )
    with db.read() as session:
        assert session.execute(select(ActivationCode)).first() is None
        assert (
            session.execute(select(AuditLog).where(AuditLog.action == "activation.reissue")).first()
            is None
        )


def test_cohorts_and_participants_are_scoped_to_the_actor(db, world):
    with db.read() as session:
        assert cohort_for(session, user=world.facilitator, slug="uji").id == world.cohort.id
        with pytest.raises(NotFound):  # the same answer as for a cohort that does not exist
            cohort_for(session, user=world.outsider, slug="uji")
        with pytest.raises(NotFound):
            cohort_for(session, user=world.facilitator, slug="tidak-ada")
        assert participant_for(session, actor=world.facilitator, user_id=world.spouse.id)
        with pytest.raises(NotFound):
            participant_for(session, actor=world.outsider, user_id=world.spouse.id)
