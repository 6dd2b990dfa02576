"""A small world for calling services directly as the wrong person: two cohorts, each with
its facilitator and one couple."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from app.accounts.models import CurrentUser, User
from app.cohorts.models import Cohort
from app.config import Settings
from app.db import Database
from tests.factories import actor, make_cohort, make_couple, make_user

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
