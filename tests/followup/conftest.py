"""Fixtures of the follow-up tests: a cohort whose workshop is on 9–10 March 2026, and a
couple of it signed in."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import login
from tests.factories import make_cohort, make_couple, make_user
from tests.followup.test_participant import PW, TODAY


@pytest.fixture
def couple(mini, settings, time_machine):
    time_machine.move_to("2026-03-02 03:00:00+00:00", tick=False)
    fasi = make_user(mini, settings, "rina", "facilitator")
    cohort = make_cohort(mini, "uji", workshop_start=TODAY + timedelta(days=7), facilitator=fasi)
    return cohort, make_couple(mini, settings, cohort, "tng26-001")


@pytest.fixture
def pair(couple, make_client):
    a, b = make_client(), make_client()
    login(a, "tng26-001-a", PW)
    login(b, "tng26-001-b", PW)
    return a, b
