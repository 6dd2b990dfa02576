from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import UploadFile

from app.admin import service
from app.certificates.pdf import SIGNATURE_MAX_BYTES
from app.db import Database
from app.deps import AdminDep, DbDep, NowDep, ReadDep, SettingsDep, WriteDep
from app.errors import AppError
from app.i18n import N_
from app.inputs import upload_route
from app.web import message_text, redirect, render

router = APIRouter(prefix="/admin")


@router.get("")
async def admin_home(request: Request, user: AdminDep, session: ReadDep) -> Response:
    return render(request, "admin/home.html", vars(service.admin_home(session)))


# ---------------------------------------------------------------- the audit log

from collections.abc import Iterator  # noqa: E402

from fastapi.concurrency import iterate_in_threadpool, run_in_threadpool  # noqa: E402
from fastapi.responses import StreamingResponse  # noqa: E402

from app.exports import csv_stream, export_filename  # noqa: E402


def _audit_params(request: Request) -> dict[str, str]:
    """The audit log's filter as the URL gives it (one value per name)."""
    names = ("actor", "action", "target", "from", "to", "page")
    return {name: request.query_params.get(name, "") for name in names}


@router.get("/audit")
async def audit_log(
    request: Request, user: AdminDep, session: ReadDep, settings: SettingsDep
) -> Response:
    params = _audit_params(request)
    try:
        query = service.audit_query(params=params)
    except service.AdminError as exc:
        view = service.audit_log(session, actor=user, query=None, tz=settings.tz)
        shown = {k: "".join(c for c in v if c.isprintable()) for k, v in params.items()}
        return _refused(request, exc, shown, "admin/audit.html", view)
    view = service.audit_log(session, actor=user, query=query, tz=settings.tz)
    return render(request, "admin/audit.html", vars(view))


@router.get("/audit.csv")
async def audit_export(
    request: Request, user: AdminDep, db: DbDep, now: NowDep, settings: SettingsDep
) -> Response:
    query = service.audit_query(params=_audit_params(request))
    locale = request.state.locale

    def start() -> service.AuditExport:
        with db.write() as write:
            return service.audit_export(
                write, actor=user, query=query, now=now, tz=settings.tz, locale=locale
            )

    export = await run_in_threadpool(start)

    def body() -> Iterator[bytes]:
        with db.read() as session:
            rows = service.audit_export_rows(session, actor=user, export=export, tz=settings.tz)
            yield from csv_stream(export.columns, rows, tz=settings.tz)

    name = export_filename("audit", "log", query.label(), now.astimezone(settings.tz).date(), "csv")
    return StreamingResponse(
        iterate_in_threadpool(body()),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


def _refused(
    request: Request,
    exc: AppError,
    form: dict[str, str],
    template: str,
    context: Any,
) -> Response:
    context.form = form
    context.errors = {exc.field or "form": message_text(request, exc)}
    return render(request, template, vars(context), status_code=exc.status)


def _in_transaction(db: Database, change: Callable[[Session], str]) -> str:
    with db.write() as write:
        return change(write)


async def _change(
    request: Request,
    db: Database,
    form: dict[str, str],
    change: Callable[[Session], str],
    template: str,
    context: Callable[[], Any],
) -> Response:
    """An administrative change in its own transaction, then to the page it returns; refused,
    the form again with the message beside its field. The transaction runs in a worker
    thread (a new staff account's password is hashed there, off the event loop)."""
    try:
        url = await run_in_threadpool(_in_transaction, db, change)
    except AppError as exc:
        return _refused(request, exc, form, template, context())
    return redirect(request, url)


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.post("/regions")
async def region_create(
    request: Request, user: AdminDep, session: ReadDep, db: DbDep, now: NowDep
) -> Response:
    form = await _form(request)

    def change(write: Session) -> str:
        service.region_create(write, form=form, actor=user, now=now)
        return "/admin#regions"

    return await _change(
        request, db, form, change, "admin/home.html", lambda: service.admin_home(session)
    )


@router.post("/organizations")
async def organization_create(
    request: Request, user: AdminDep, session: ReadDep, db: DbDep, now: NowDep
) -> Response:
    form = await _form(request)

    def change(write: Session) -> str:
        service.organization_create(write, form=form, actor=user, now=now)
        return "/admin#organizations"

    return await _change(
        request, db, form, change, "admin/home.html", lambda: service.admin_home(session)
    )


async def _cohort_form(request: Request) -> tuple[dict[str, str], bytes | None]:
    """The cohort form's text fields, and the bytes of the signature image when one was
    chosen (read up to one byte past the limit, so the service can say it is too large)."""
    form = await request.form()
    upload = form.get("signature")
    image = None
    if isinstance(upload, UploadFile) and upload.filename:
        image = await upload.read(SIGNATURE_MAX_BYTES + 1)
    return {k: v for k, v in form.items() if isinstance(v, str)}, image


# the cohort form is multipart (its signature image): an upload's body limit
@router.post("/cohorts", **upload_route("signature"))
async def cohort_create(
    request: Request,
    user: AdminDep,
    session: ReadDep,
    db: DbDep,
    settings: SettingsDep,
    now: NowDep,
) -> Response:
    form, image = await _cohort_form(request)

    def change(write: Session) -> str:
        cohort = service.cohort_save(
            write, form=form, actor=user, now=now, tz=settings.tz, signature=image
        )
        return f"/admin/cohorts/{cohort.slug}"

    return await _change(
        request, db, form, change, "admin/home.html", lambda: service.admin_home(session)
    )


@router.get("/cohorts/{slug}")
async def cohort_edit(request: Request, slug: str, user: AdminDep, session: ReadDep) -> Response:
    return render(request, "admin/cohort.html", vars(service.cohort_admin(session, slug=slug)))


@router.post("/cohorts/{slug}", **upload_route("signature"))
async def cohort_update(
    request: Request,
    slug: str,
    user: AdminDep,
    session: ReadDep,
    db: DbDep,
    settings: SettingsDep,
    now: NowDep,
) -> Response:
    form, image = await _cohort_form(request)

    def change(write: Session) -> str:
        service.cohort_update(
            write, slug=slug, form=form, actor=user, now=now, tz=settings.tz, signature=image
        )
        return f"/admin/cohorts/{slug}"

    return await _change(
        request,
        db,
        form,
        change,
        "admin/cohort.html",
        lambda: service.cohort_admin(session, slug=slug),
    )


@router.post("/cohorts/{slug}/facilitators")
async def cohort_facilitators(
    request: Request, slug: str, user: AdminDep, session: ReadDep, db: DbDep, now: NowDep
) -> Response:
    form = await _form(request)
    raw = form.get("user_id") or ""

    def change(write: Session) -> str:
        if not raw.isdigit() or len(raw) > 12:
            raise service.AdminError("user_id", N_("Choose a facilitator account."))
        cohort = service.cohort_admin(write, slug=slug).cohort
        service.facilitator_assign(
            write,
            cohort=cohort,
            user_id=int(raw),
            actor=user,
            now=now,
            assign=form.get("action") != "remove",
        )
        return f"/admin/cohorts/{slug}"

    return await _change(
        request,
        db,
        form,
        change,
        "admin/cohort.html",
        lambda: service.cohort_admin(session, slug=slug),
    )


@router.post("/users")
async def staff_create(
    request: Request,
    user: AdminDep,
    session: ReadDep,
    db: DbDep,
    settings: SettingsDep,
    now: NowDep,
) -> Response:
    form = await _form(request)

    def change(write: Session) -> str:
        service.staff_create(write, actor=user, form=form, settings=settings, now=now)
        return "/admin#staff"

    return await _change(
        request, db, form, change, "admin/home.html", lambda: service.admin_home(session)
    )


@router.post("/users/{user_id}/active")
async def admin_set_active(
    request: Request, user_id: int, user: AdminDep, session: WriteDep, now: NowDep
) -> Response:
    form = await request.form()
    service.account_set_active(
        session, actor=user, user_id=user_id, active=form.get("active") == "1", now=now
    )
    return redirect(request, "/admin")


# ---------------------------------------------------------------- API tokens

from fastapi import Path as PathParam  # noqa: E402

from app.api import service as api_service  # noqa: E402

TOKEN_ID = PathParam(ge=1, le=2**31 - 1)


@router.get("/api-tokens")
async def api_tokens(request: Request, user: AdminDep, session: ReadDep) -> Response:
    view = api_service.tokens_view(session, actor=user)
    return render(request, "admin/api_tokens.html", vars(view))


@router.post("/api-tokens")
async def api_token_create(
    request: Request, user: AdminDep, session: ReadDep, db: DbDep, now: NowDep
) -> Response:
    """A new token: its secret is on this answer and nowhere else (not stored, not cached)."""
    form = await _form(request)
    try:
        with db.write() as write:
            token, secret = api_service.token_create(
                write, actor=user, name=form.get("name", ""), now=now
            )
            view = api_service.tokens_view(write, actor=user)
    except AppError as exc:
        view = api_service.tokens_view(session, actor=user)
        return _refused(request, exc, form, "admin/api_tokens.html", view)
    view.created, view.secret = token.name, secret
    return render(request, "admin/api_tokens.html", vars(view))


@router.post("/api-tokens/{token_id}/revoke")
async def api_token_revoke(
    request: Request, user: AdminDep, session: WriteDep, now: NowDep, token_id: int = TOKEN_ID
) -> Response:
    api_service.token_revoke(session, actor=user, now=now, token_id=token_id)
    return redirect(request, "/admin/api-tokens")
