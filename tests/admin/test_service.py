"""Administration services called directly, as someone who is not an administrator."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.admin.service import account_set_active, region_create
from app.errors import Forbidden
from tests.authz_world import NOW, build_world


@pytest.fixture
def world(db, settings):
    return build_world(db, settings)


@pytest.mark.parametrize("who", ["facilitator", "kpk", "participant"])
def test_switching_an_account_off_is_refused_to_non_administrators(db, world, who):
    with pytest.raises(Forbidden), db.write() as session:
        account_set_active(
            session, actor=getattr(world, who), user_id=world.spouse.id, active=False, now=NOW
        )
    with db.read() as session:
        assert session.execute(
            select(User.is_active).where(User.id == world.spouse.id)
        ).scalar_one()


def test_making_a_region_is_refused_to_a_facilitator(db, world):
    with pytest.raises(Forbidden), db.write() as session:
        region_create(
            session,
            form={"slug": "kota-lain", "name": "Kota Lain", "province": "Banten"},
            actor=world.facilitator,
            now=NOW,
        )
