"""The application: ``create_app()`` wires settings, database, routers, static files,
middleware and error pages."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette_compress import CompressMiddleware

from app import i18n
from app.config import Settings, get_settings
from app.db import Database, make_engine, utcnow
from app.deps import DbDep, attach, identify, load_context, load_curriculum_now
from app.edge import (
    ACCESS_LOG,
    BodyLimitMiddleware,
    HeadMiddleware,
    RequestLogMiddleware,
    RouteProbe,
)
from app.errors import AppError, LoginRequired
from app.i18n import N_
from app.metrics import CONTENT_TYPE as METRICS_TYPE
from app.metrics import Metrics
from app.migrate import current_heads, expected_heads
from app.static_files import HashedStaticFiles
from app.web import SecurityHeadersMiddleware, is_htmx, make_templates, message_text, render

log = logging.getLogger("integritas")

ERROR_PAGES = {400, 403, 404, 405, 409, 413, 422, 429, 500}


def create_app(
    settings: Settings | None = None,
    db: Database | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> FastAPI:
    settings = settings or get_settings()
    settings.secret()  # refuses to start in production without APP_SECRET_KEY
    i18n.compile_catalogs()
    if db is None:
        db = Database(make_engine(settings.resolved_database_url()))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warm_up(app)
        yield

    app = FastAPI(
        title="Keluarga Berintegritas",
        # the pages publish no schema: the API has its own, at /api/v1/openapi.json
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(load_context)],
        lifespan=lifespan,
    )
    attach(app, settings=settings, db=db, clock=clock)
    app.state.templates = make_templates(settings)

    from app.accounts.router import router as accounts_router
    from app.admin.router import router as admin_router
    from app.api.router import PREFIX as API_PREFIX
    from app.api.router import create_api
    from app.certificates.router import router as certificates_router
    from app.curriculum.router import router as curriculum_router
    from app.facilitator.router import router as facilitator_router
    from app.family.router import router as family_router
    from app.followup.router import router as followup_router
    from app.privacy.router import router as privacy_router
    from app.quizzes.router import router as quizzes_router
    from app.reports.router import router as reports_router

    heads = expected_heads()

    @app.get("/healthz", include_in_schema=False)
    async def healthz(db: DbDep) -> Response:
        """Up when the database answers; it also says whether the schema is at this code's
        migrations ("head") and which content version is synced."""
        body: dict[str, object] = {"status": "unavailable", "database": "error"}
        try:
            with db.engine.connect() as conn:
                at = current_heads(conn)
                version = conn.execute(text("SELECT max(id) FROM content_version")).scalar()
            body = {
                "status": "ok",
                "database": "ok",
                "migrations": "head" if at == heads else "behind",
                "content_version": version,
            }
        except Exception:  # noqa: BLE001 — any database failure makes the check fail
            log.exception("health check: database unreachable")
        return JSONResponse(
            body,
            status_code=200 if body["status"] == "ok" else 503,
            headers={"Cache-Control": "no-store"},
        )

    if settings.metrics:
        metrics = Metrics()

        @app.get("/metrics", include_in_schema=False)
        async def metrics_page() -> Response:
            return Response(
                metrics.exposition(),
                media_type=METRICS_TYPE,
                headers={"Cache-Control": "no-store"},
            )

    # the JSON API: an application of its own (its schema, its errors, bearer tokens only)
    api = create_api()
    attach(api, settings=settings, db=db, clock=clock)
    app.mount(API_PREFIX, api, name="api")

    app.mount("/static", HashedStaticFiles(), name="static")

    # the routers after the health check, the API and the static files (each found at once
    # by its path), the participant's hot pages first: FastAPI tries the routers in this
    # order, every route of each, twice per request (to find the router, then its route)
    app.include_router(curriculum_router)
    app.include_router(quizzes_router)
    app.include_router(accounts_router)
    app.include_router(family_router)
    app.include_router(certificates_router)
    app.include_router(facilitator_router)
    app.include_router(reports_router)
    app.include_router(admin_router)
    app.include_router(privacy_router)
    app.include_router(followup_router)

    install_error_handlers(app)
    app.add_middleware(RouteProbe)
    app.add_middleware(
        BodyLimitMiddleware,
        form_bytes=settings.max_form_bytes,
        upload_bytes=settings.max_upload_bytes,
        refuse=body_too_large,
    )
    # HTML, CSS, JavaScript, SVG and JSON travel compressed (zstd, brotli or gzip, as the
    # client accepts); inside HEAD, so a HEAD's Content-Length is the compressed one
    app.add_middleware(CompressMiddleware, minimum_size=500)
    app.add_middleware(HeadMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.production)
    app.add_middleware(RequestLogMiddleware, observe=metrics.observe if settings.metrics else None)
    _access_log_to_stderr()
    return app


def _access_log_to_stderr() -> None:
    """The access log's JSON lines on standard error (once per process), unless the
    operator's logging configuration already handles them."""
    if not ACCESS_LOG.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        ACCESS_LOG.addHandler(handler)
        ACCESS_LOG.setLevel(logging.INFO)
        ACCESS_LOG.propagate = False


def size_words(size: int) -> str:
    """A byte count as a person reads it: "64 KB", "5 MB"."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    return f"{size // 1024} KB"


async def body_too_large(request: Request, limit: int) -> Response:
    """413 for a request body over its limit, saying the limit."""
    refusal = AppError(
        413, N_("What you sent is too large: at most %(limit)s."), {"limit": size_words(limit)}
    )
    return error_response(request, 413, detail=message_text(request, refusal))


def warm_up(app: FastAPI) -> None:
    """Before the first request: load the curriculum, so no participant waits for it; then
    move everything loaded so far out of the garbage collector's sight (``gc.freeze``): its
    full passes over these long-lived objects otherwise stall a request for ~90 ms now and
    then (measured on a 2-core machine; with the freeze, under 10 ms)."""
    try:
        load_curriculum_now(app)
    except Exception:  # noqa: BLE001 — a database not yet migrated is loaded on first use
        log.warning("curriculum not loaded at start-up", exc_info=True)
    gc.collect()
    gc.freeze()


def error_response(
    request: Request,
    status: int,
    reason: str | None = None,
    headers: dict[str, str] | None = None,
    detail: str | None = None,
) -> Response:
    """The error page (or the htmx fragment) for a status; ``detail`` is the refusal's own
    message, in the reader's language, shown instead of the generic one."""
    if not getattr(request.state, "context_loaded", False):
        try:
            with request.app.state.db.read() as session:
                identify(request, session)
        except Exception:  # noqa: BLE001 — an error page must render even without a database
            request.state.user = None
            request.state.locale = request.app.state.settings.default_locale
    code = status if status in ERROR_PAGES else (404 if status < 500 else 500)
    template = "errors/_fragment.html" if is_htmx(request) else f"errors/{code}.html"
    return render(
        request,
        template,
        {
            "status": status,
            "code": code,
            "reason": reason,
            "detail": detail,
            "request_id": getattr(request.state, "request_id", None),
        },
        status_code=status,
        headers=headers,
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return error_response(
            request,
            exc.status_code,
            reason=str(exc.detail or ""),
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, 422, reason="validation")

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        """Not signed in (or not agreed to the privacy notice): to the page that asks, and
        back to this one afterwards."""
        target = exc.path
        if request.method == "GET":
            target += "?next=" + quote(
                request.url.path + ("?" + request.url.query if request.url.query else ""), safe="/"
            )
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return Response(status_code=303, headers={"Location": target})

    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> Response:
        """Every refusal a service raises: its status, its message, its headers."""
        detail = message_text(request, exc) if exc.message else None
        return error_response(request, exc.status, headers=exc.headers or None, detail=detail)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        # the server drops the connection after an unhandled error: say so
        return error_response(request, 500, headers={"Connection": "close"})
