from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from app.admin import service
from app.db import Database
from app.deps import AdminDep, DbDep, NowDep, ReadDep, SettingsDep, WriteDep
from app.errors import AppError
from app.i18n import N_
from app.web import gettext_for, redirect, render

router = APIRouter(prefix="/admin")


@router.get("")
async def admin_home(request: Request, user: AdminDep, session: ReadDep) -> Response:
    return render(request, "admin/home.html", vars(service.admin_home(session)))


def _refused(
    request: Request,
    exc: AppError,
    form: dict[str, str],
    template: str,
    context: Any,
) -> Response:
    context.form = form
    context.errors = {exc.field or "form": gettext_for(request).gettext(exc.message)}
    return render(request, template, vars(context), status_code=exc.status)


def _change(
    request: Request,
    db: Database,
    form: dict[str, str],
    change: Callable[[Session], str],
    template: str,
    context: Callable[[], Any],
) -> Response:
    """An administrative change in its own transaction, then to the page it returns; refused,
    the form again with the message beside its field."""
    try:
        with db.write() as write:
            url = change(write)
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

    return _change(
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

    return _change(
        request, db, form, change, "admin/home.html", lambda: service.admin_home(session)
    )


@router.post("/cohorts")
async def cohort_create(
    request: Request,
    user: AdminDep,
    session: ReadDep,
    db: DbDep,
    settings: SettingsDep,
    now: NowDep,
) -> Response:
    form = await _form(request)

    def change(write: Session) -> str:
        cohort = service.cohort_save(write, form=form, actor=user, now=now, tz=settings.tz)
        return f"/admin/cohorts/{cohort.slug}"

    return _change(
        request, db, form, change, "admin/home.html", lambda: service.admin_home(session)
    )


@router.get("/cohorts/{slug}")
async def cohort_edit(request: Request, slug: str, user: AdminDep, session: ReadDep) -> Response:
    return render(request, "admin/cohort.html", vars(service.cohort_admin(session, slug=slug)))


@router.post("/cohorts/{slug}")
async def cohort_update(
    request: Request,
    slug: str,
    user: AdminDep,
    session: ReadDep,
    db: DbDep,
    settings: SettingsDep,
    now: NowDep,
) -> Response:
    form = await _form(request)

    def change(write: Session) -> str:
        service.cohort_update(write, slug=slug, form=form, actor=user, now=now, tz=settings.tz)
        return f"/admin/cohorts/{slug}"

    return _change(
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

    return _change(
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

    return _change(
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
