"""Schemathesis over ``/api/v1/openapi.json``, in the suite: requests generated from the
schema — valid ones, and invalid ones (wrong types, out of bounds, bad patterns) — sent with
a valid token to the application itself (ASGI, no server). Every answer must keep to the
schema (status code, content type, headers, body) and none may be a 5xx; schemathesis also
sends each without the token, which must be refused.

A valid request is answered 200, or 404 for a region the lists do not know; the measures
answer a filter value of the right form that matches nothing in the database (a region,
province, OPD or cohort) with 422 naming it, which schemathesis's own check of valid requests
would count as a failure, so that check is made here instead.

(Schemathesis's own pytest loader, ``from_fixture``, does not run under pytest 9 yet, so the
strategies are driven with Hypothesis directly.)"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.api import service
from app.main import create_app
from app.reports.measures import INTERVALS
from app.reports.service import FOLLOWUP_GROUPS, GROUP_BY
from tests.api.conftest import create_token

MEASURES = {"/funnel", "/gain", "/trend", "/comparison", "/followup"}
LOOKED_UP = {"query.region", "query.province", "query.organization", "query.cohort"}


def accepted(path: str, response) -> bool:
    """Whether a valid request got a valid request's answer."""
    if response.status_code == 422 and path in MEASURES:
        parameters = {error["parameter"] for error in response.json()["errors"]}
        return bool(parameters) and parameters <= LOOKED_UP
    return response.status_code in (200, 404)


@pytest.fixture
def api_token(db):
    return create_token(db, "schemathesis")


@pytest.fixture
def api_schema(settings, db, world, api_token, monkeypatch):
    monkeypatch.setattr(service, "RATE_PER_MINUTE", 1_000_000)  # the fuzzer sends many
    app = create_app(settings=settings, db=db)
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_keeps_to_its_schema(api_schema, api_token, mode):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} == {
        "/regions",
        "/organizations",
        "/cohorts",
        "/funnel",
        "/gain",
        "/trend",
        "/comparison",
        "/followup",
    }
    seen: list[int] = []

    # the token as an explicit header: schemathesis never negates it, so the negative cases
    # are about the parameters (its own unauthenticated requests still go without it)
    @given(case=api_schema.as_strategy(mode, headers=api_token.headers))
    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    def check(case):
        response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
        if mode is GenerationMode.POSITIVE:
            assert accepted(case.path, response), (case.path, case.query, response.text)
        seen.append(response.status_code)

    check()
    assert 200 in seen if mode is GenerationMode.POSITIVE else 422 in seen


def test_the_measures_keep_to_their_schema_on_real_filters(api_schema, api_token, world):
    """Beside the generated requests, which seldom name a region or cohort that exists: each
    measure with the world's own filter values, every grouping and interval, a view that
    narrows too far (the cohort tng-2026 has 4 of the 6 people), checked the same way."""
    filters: list[dict[str, str]] = [
        {},
        {"lang": "en"},
        {"region": "kota-uji", "province": "Banten"},
        {"cohort": "tng-2026"},
        {"cohort": "tng-2025", "role": "spouse"},
        {"period": "2026-Q1"},
        {"organization": "1"},
        {"role": "official"},
    ]
    queries = {
        "/funnel": filters + [{"group_by": g} for g in GROUP_BY],
        "/gain": filters + [{"group_by": g, "lang": "en"} for g in GROUP_BY],
        "/trend": filters + [{"interval": i} for i in INTERVALS],
        "/comparison": filters + [{"per_page": "1", "page": "2"}],
        # the follow-ups have no OPD and no partner role
        "/followup": [q for q in filters if "organization" not in q and "role" not in q]
        + [{"group_by": g} for g in FOLLOWUP_GROUPS],
    }
    hidden = 0
    for path, cases in queries.items():
        operation = api_schema[path]["GET"]
        for query in cases:
            case = operation.Case(query=query, headers=api_token.headers)
            response = case.call_and_validate()
            assert response.status_code == 200, (path, query, response.text)
            hidden += response.json()["hidden_reason"] is not None
    assert hidden >= 4  # tng-2026 alone, on each measure
