"""The JSON API for KPK's own tools, at ``/api/v1``.

An application of its own (``create_api``), mounted by ``app.main`` at ``/api/v1``, so that

- its OpenAPI schema (``/api/v1/openapi.json``) lists the API and nothing else, and the
  readable docs (``/api/v1/docs``, the vendored Swagger UI) show only that schema; the site's
  own application publishes no schema at all;
- none of the site's per-request context runs here: no session cookie is read, so a browser
  signed in as anyone — participant, facilitator, KPK or administrator — opens nothing; the
  only key is ``Authorization: Bearer <token>`` (tokens: ``app.api.service``);
- every error is ``application/problem+json`` (RFC 9457: ``type``, ``title``, ``status``,
  ``detail``), never an HTML page: 401 with ``WWW-Authenticate: Bearer``, 404, 405, 422 with
  the parameters at fault, 429 with ``Retry-After``, 500.

Endpoints: ``regions``, ``organizations``, ``cohorts`` (places, organizations, cohorts and
counts; pages of ``items`` with ``page``, ``per_page`` ≤ 200 and ``total``).

The measures — ``funnel``, ``gain``, ``trend``, ``comparison`` (paged like the lists) and
``followup`` (the survey, the check-ins and the retention check after the workshop) — are the
KPK reports': ``app.api.service`` calls ``app.reports.service`` (the same
computation, small-cell suppression and check against differencing as the ``/kpk`` pages)
with the pages' filters (``region``, ``province``, ``organization``, ``cohort``, ``period``,
``role``), ``group_by`` (funnel, gain) or ``interval`` (trend), and ``lang`` for the labels;
k is ``settings.min_cell_size``. Every figure is ``{"value", "suppressed"}``
(``schemas.FigureOut``, through ``suppression.api_value``), never the number of people behind
it. A view whose filters single out fewer than k people still answers 200, every figure
suppressed, with ``hidden_reason`` and ``hidden_filters``; a filter value that matches nothing
is 422 naming the parameter (``ReportFilterError``). The computation runs in the thread pool,
off the event loop. Like every route on ``router``, they are authenticated and throttled.
"""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from app.api import service
from app.api.models import ApiToken
from app.api.schemas import (
    CohortPage,
    CohortQuery,
    ComparisonPage,
    ComparisonQuery,
    FollowupOut,
    FollowupQuery,
    FunnelOut,
    FunnelQuery,
    GainOut,
    GainQuery,
    OrganizationPage,
    OrganizationQuery,
    Problem,
    RegionPage,
    RegionQuery,
    TrendOut,
    TrendQuery,
)
from app.db import saved_id
from app.deps import DbDep, NowDep, ReadDep, SettingsDep
from app.errors import AppError
from app.inputs import check_inputs

PREFIX = "/api/v1"
PROBLEM = "application/problem+json"
HERE = Path(__file__).parent
SWAGGER_UI = "swagger-ui-dist-5.35.0"  # app/static/vendor/<this>

DESCRIPTION = """\
Aggregates of the Keluarga Berintegritas learning programme for KPK's own tools. No answer
carries a person's name, username, contact or free text.

**Authentication**: every request sends `Authorization: Bearer <token>`. An administrator makes
tokens on `/admin/api-tokens` or with `integritas api-token create --name NAME`; the token is
shown once. A missing, wrong or revoked token gets 401.

**Limits**: at most {rate} requests a minute per token; over that, 429 with `Retry-After`.

**Errors** are `application/problem+json` (RFC 9457).

**Lists** come in pages: `page` (from 1) and `per_page` (at most 200); the answer carries
`items`, `page`, `per_page` and `total`.
"""

_HEADERS = {
    401: {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
}
_WHY = {
    401: "The bearer token is missing, wrong or revoked",
    404: "A region (or other filter value) that does not exist",
    422: "A parameter is invalid, or a filter value matches nothing",
    429: "Too many requests with this token",
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The error answers of an endpoint, for its OpenAPI description."""
    return {
        code: {
            "description": _WHY[code],
            "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            **({"headers": _HEADERS[code]} if code in _HEADERS else {}),
        }
        for code in codes
    }


def problem(
    status: int, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = Problem(title=HTTPStatus(status).phrase, status=status, detail=detail, **extra)
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


# ---------------------------------------------------------------- the endpoints

LISTS = "Regions, organizations and cohorts"
MEASURES = "Measures"

router = APIRouter()


@router.get(
    "/regions",
    operation_id="regions",
    tags=[LISTS],
    response_model=RegionPage,
    summary="Regions",
    responses=problems(401, 422, 429),
)
async def regions(session: ReadDep, query: Annotated[RegionQuery, Query()]) -> RegionPage:
    """Regional governments by slug, with their numbers of organizations and cohorts."""
    return service.regions_page(session, page=query.page, per_page=query.per_page)


@router.get(
    "/organizations",
    operation_id="organizations",
    tags=[LISTS],
    response_model=OrganizationPage,
    summary="Organizations (OPD)",
    responses=problems(401, 404, 422, 429),
)
async def organizations(
    session: ReadDep, query: Annotated[OrganizationQuery, Query()]
) -> OrganizationPage:
    """Organizations by region and name; only those of `region` when it is given."""
    return service.organizations_page(
        session, region=query.region, page=query.page, per_page=query.per_page
    )


@router.get(
    "/cohorts",
    operation_id="cohorts",
    tags=[LISTS],
    response_model=CohortPage,
    summary="Cohorts",
    responses=problems(401, 404, 422, 429),
)
async def cohorts(session: ReadDep, query: Annotated[CohortQuery, Query()]) -> CohortPage:
    """Cohorts, the latest workshop first, with their numbers of couples; filtered by
    region and by the year their workshop starts."""
    return service.cohorts_page(
        session, region=query.region, year=query.year, page=query.page, per_page=query.per_page
    )


FILTERS = """

**Filters**, as on the KPK pages: `region` (slug), `province`, `organization` (OPD id), `cohort`
(slug), `period` (of the workshop's start: `2024`, `2024-Q4`, `2024-10`), `role` (`official`
or `spouse`); a value that matches nothing is refused (422). Every figure is
`{"value": …, "suppressed": …}`: `value` is null when it is suppressed. When the filters would
single out fewer than `k` people against the view without one of them, every figure is
suppressed and `hidden_reason` says why."""


@router.get(
    "/funnel",
    operation_id="funnel",
    tags=[MEASURES],
    response_model=FunnelOut,
    summary="Funnel",
    description="How many of the invited reached each step, and their share; per partner "
    "role and per couple in the total; per group with `group_by`." + FILTERS,
    responses=problems(401, 422, 429),
)
async def funnel(
    session: ReadDep, settings: SettingsDep, query: Annotated[FunnelQuery, Query()]
) -> FunnelOut:
    return await run_in_threadpool(service.funnel_view, session, query, k=settings.min_cell_size)


@router.get(
    "/gain",
    operation_id="gain",
    tags=[MEASURES],
    response_model=GainOut,
    summary="Learning gain",
    description="Pre- and post-test of the matched participants (both tests taken): means, "
    "normalized gain, effect size d_z with its confidence interval; in total, per module and "
    "integrity value, per group with `group_by`." + FILTERS,
    responses=problems(401, 422, 429),
)
async def gain(
    session: ReadDep, settings: SettingsDep, query: Annotated[GainQuery, Query()]
) -> GainOut:
    return await run_in_threadpool(service.gain_view, session, query, k=settings.min_cell_size)


@router.get(
    "/trend",
    operation_id="trend",
    tags=[MEASURES],
    response_model=TrendOut,
    summary="Trend",
    description="Activation, post-test, complete couples and gain per workshop period "
    "(`interval`: month, quarter or year)." + FILTERS,
    responses=problems(401, 422, 429),
)
async def trend(
    session: ReadDep, settings: SettingsDep, query: Annotated[TrendQuery, Query()]
) -> TrendOut:
    return await run_in_threadpool(service.trend_view, session, query, k=settings.min_cell_size)


@router.get(
    "/comparison",
    operation_id="comparison",
    tags=[MEASURES],
    response_model=ComparisonPage,
    summary="Cohort comparison",
    description="One row per cohort — activation, post-test uptake, completion, gain — the "
    "cohorts that need attention first, with the reasons; in pages." + FILTERS,
    responses=problems(401, 422, 429),
)
async def comparison(
    session: ReadDep,
    settings: SettingsDep,
    now: NowDep,
    query: Annotated[ComparisonQuery, Query()],
) -> ComparisonPage:
    return await run_in_threadpool(
        service.comparison_view,
        session,
        query,
        k=settings.min_cell_size,
        now=now,
        tz=settings.tz,
    )


FOLLOWUP_FILTERS = """

**Filters**: `region` (slug), `province`, `cohort` (slug), `period` (of the workshop's start);
the follow-ups have no OPD and no partner role (the survey's answers are kept without their
author). Every figure is `{"value": …, "suppressed": …}`, suppressed as in the other
measures; when the filters would single out fewer than `k` people or respondents against the
view without one of them, every figure is suppressed and `hidden_reason` says why."""


@router.get(
    "/followup",
    operation_id="followup",
    tags=[MEASURES],
    response_model=FollowupOut,
    summary="After the workshop",
    description="The reaction survey (answers, agreed share and mean answer per statement, "
    "would recommend), the check-ins of the family action plans at about 30 and 90 days "
    "(plans, couples who answered, couples who kept every commitment) and the retention check "
    "(pre-test, post-test and 90-day means on the same items); in total and per group with "
    "`group_by` (region, province, cohort, month, quarter, year). Free-text answers are never "
    "sent." + FOLLOWUP_FILTERS,
    responses=problems(401, 422, 429),
)
async def followup(
    session: ReadDep, settings: SettingsDep, query: Annotated[FollowupQuery, Query()]
) -> FollowupOut:
    return await run_in_threadpool(service.followup_view, session, query, k=settings.min_cell_size)


# ---------------------------------------------------------------- the application

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="An API token made by an administrator (`kbt_…`).",
)


def _unauthorized(detail: str, *, invalid: bool) -> HTTPException:
    challenge = 'Bearer error="invalid_token"' if invalid else "Bearer"
    return HTTPException(401, detail, headers={"WWW-Authenticate": challenge})


def create_api(*, rate_per_minute: int | None = None) -> FastAPI:
    """The API application; ``app.main`` attaches the site's settings, database and clock
    to it and mounts it at ``/api/v1``."""
    throttle = service.TokenThrottle(rate_per_minute or service.RATE_PER_MINUTE)

    async def authenticated(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
        session: ReadDep,
        db: DbDep,
        now: NowDep,
    ) -> ApiToken:
        """The token of the request, or 401; then the throttle (429); then, at most once a
        minute, its last use is written."""
        if credentials is None:
            raise _unauthorized("Send an API token: Authorization: Bearer <token>.", invalid=False)
        secret = credentials.credentials
        token = service.token_lookup(session, secret=secret)  # the request's one read
        if token is None:
            raise _unauthorized("This API token is wrong or revoked.", invalid=True)
        wait = throttle.hit(saved_id(token), now=now)
        if wait is not None:
            raise HTTPException(
                429,
                f"At most {throttle.rate} requests a minute per token; wait {wait} s.",
                headers={"Retry-After": str(wait)},
            )
        if service.token_needs_touch(token, now=now):
            with db.write() as write:
                touched = service.token_authenticate(write, secret=secret, now=now)
            if touched is None:  # revoked in the meantime
                raise _unauthorized("This API token is wrong or revoked.", invalid=True)
        return token

    api = FastAPI(
        title="Keluarga Berintegritas API",
        version="1",
        description=DESCRIPTION.format(rate=throttle.rate),
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        servers=[{"url": PREFIX}],
        root_path_in_servers=False,
    )

    async def inputs(request: Request) -> None:
        """The input gate, the same as the pages' (``app.inputs``): after the token, before
        any endpoint; a refusal names its parameter (422)."""
        await check_inputs(request)

    api.include_router(router, dependencies=[Depends(authenticated), Depends(inputs)])

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            schema = get_openapi(
                title=api.title,
                version=api.version,
                description=api.description,
                routes=api.routes,
                servers=api.servers,
            )
            schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
                Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            )
            api.openapi_schema = schema
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way

    @api.get("/docs", include_in_schema=False)
    async def docs() -> Response:
        return FileResponse(HERE / "docs.html", media_type="text/html", headers=_DOCS_HEADERS)

    @api.get("/docs.js", include_in_schema=False)
    async def docs_js() -> Response:
        return FileResponse(HERE / "docs.js", media_type="text/javascript", headers=_DOCS_HEADERS)

    install_problem_handlers(api)
    return api


_DOCS_HEADERS = {"Cache-Control": "no-cache"}


def install_problem_handlers(api: FastAPI) -> None:
    @api.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"No such endpoint; the API is described at {PREFIX}/docs."
        return problem(exc.status_code, detail, headers=getattr(exc, "headers", None))

    @api.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {
                "parameter": ".".join(str(part) for part in error.get("loc", ())),
                "problem": str(error.get("msg", "")),
            }
            for error in exc.errors()
        ]
        return problem(422, "A parameter is invalid.", errors=errors)

    @api.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> Response:
        detail = exc.message % exc.values if exc.values else exc.message
        detail = detail or HTTPStatus(exc.status).phrase
        # an error about one parameter (an unknown filter value) names it, as a 422 does
        extra = {"errors": [{"parameter": f"query.{exc.field}", "problem": detail}]}
        return problem(
            exc.status, detail, headers=exc.headers, **(extra if exc.field is not None else {})
        )

    @api.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        # the exception goes on to the site's own handler, which logs it
        response = problem(500, "Something went wrong on our side.")
        response.headers["Connection"] = "close"  # the server drops this connection
        return response
