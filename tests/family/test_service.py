"""Family services called directly, as the wrong person."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.curriculum.models import Module
from app.errors import NotFound
from app.family.models import FamilyReflection
from app.family.service import reflection_reply, reflections_of_cohort
from tests.authz_world import NOW, build_world


@pytest.fixture
def world(mini, settings):
    return build_world(mini, settings)


@pytest.fixture
def reflection(mini, world):
    with mini.write() as session:
        module_id = session.execute(select(Module.id).limit(1)).scalar_one()
        row = FamilyReflection(
            couple_id=world.official.couple_id,
            module_id=module_id,
            text="Kami sepakat menolak hadiah dari rekanan.",
            written_by=world.official.id,
            written_at=NOW,
        )
        session.add(row)
        session.flush()
        return row.id


@pytest.mark.parametrize("who", ["outsider", "kpk", "participant"])
def test_replying_is_refused_to_anyone_but_the_cohorts_facilitator(mini, world, reflection, who):
    with pytest.raises(NotFound), mini.write() as session:
        reflection_reply(
            session,
            actor=getattr(world, who),
            reflection_id=reflection,
            cohort_id=world.cohort.id,
            text="Balasan yang tidak boleh ada.",
            now=NOW,
        )
    with mini.read() as session:
        assert session.get(FamilyReflection, reflection).reply is None


def test_a_cohorts_reflections_are_read_only_by_its_facilitator(mini, world, reflection):
    with mini.read() as session:
        mine = reflections_of_cohort(session, actor=world.facilitator, cohort_id=world.cohort.id)
        theirs = reflections_of_cohort(session, actor=world.outsider, cohort_id=world.cohort.id)
    assert [r.reflection.id for r in mine] == [reflection]
    assert mine[0].couple_code == "UJI-001"
    assert theirs == []
