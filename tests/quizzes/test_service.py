"""Quiz services called directly, as the wrong person."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.curriculum.service import CurriculumCache
from app.errors import NotFound
from app.quizzes.models import ExtraAttempts
from app.quizzes.service import extra_attempt_grant
from tests.authz_world import NOW, build_world


@pytest.fixture
def world(mini, settings):
    return build_world(mini, settings)


def quiz(db, slug="kuis-satu"):
    with db.read() as session:
        return CurriculumCache().get(session).quizzes[slug]


@pytest.mark.parametrize("who", ["outsider", "kpk", "participant"])
def test_extra_attempt_grant_refuses_anyone_but_the_cohorts_facilitator(mini, world, who):
    acting = getattr(world, who)
    with pytest.raises(NotFound), mini.write() as session:
        extra_attempt_grant(
            session, actor=acting, user_id=world.official.id, quiz=quiz(mini), now=NOW
        )
    with mini.read() as session:
        assert session.execute(select(ExtraAttempts)).first() is None


def test_extra_attempt_grant_names_the_cohort_it_acts_in(mini, world):
    """A facilitator of the participant's cohort, asked through another cohort's page, is
    refused too: the participant must be in the cohort named."""
    with pytest.raises(NotFound), mini.write() as session:
        extra_attempt_grant(
            session,
            actor=world.facilitator,
            user_id=world.official.id,
            quiz=quiz(mini),
            now=NOW,
            cohort_id=world.other_cohort.id,
        )
