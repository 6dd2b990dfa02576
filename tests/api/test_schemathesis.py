"""Schemathesis over ``/api/v1/openapi.json``, in the suite: requests generated from the
schema — valid ones, and invalid ones (wrong types, out of bounds, bad patterns) — sent with
a valid token to the application itself (ASGI, no server). Every answer must keep to the
schema (status code, content type, headers, body) and none may be a 5xx; schemathesis also
sends each without the token, which must be refused.

(Schemathesis's own pytest loader, ``from_fixture``, does not run under pytest 9 yet, so the
strategies are driven with Hypothesis directly.)"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode

from app.api import service
from app.main import create_app
from tests.api.conftest import create_token


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
    assert {op.path for op in operations} == {"/regions", "/organizations", "/cohorts"}
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
        response = case.call_and_validate()
        seen.append(response.status_code)

    check()
    assert 200 in seen if mode is GenerationMode.POSITIVE else 422 in seen
