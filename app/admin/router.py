from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select

from app.accounts.deps import require_admin
from app.accounts.models import CurrentUser, Role, User
from app.accounts.service import UserError, user_create, user_set_active
from app.admin import service
from app.audit import audit_record
from app.cohorts.models import Cohort, CohortFacilitator, Organization, Region
from app.cohorts.service import cohort_by_slug
from app.curriculum.models import ContentVersion
from app.i18n import N_
from app.web import gettext_for, redirect, render

router = APIRouter(prefix="/admin")


def _home_context(request: Request) -> dict:
    with request.app.state.db.read() as session:
        staff = session.execute(
            select(User.id, User.username, User.display_name, User.role, User.is_active)
            .where(User.role != Role.participant)
            .order_by(User.role, User.username)
        ).all()
        version = session.execute(
            select(ContentVersion).order_by(ContentVersion.id.desc()).limit(1)
        ).scalar_one_or_none()
        regions = session.execute(select(Region).order_by(Region.name)).scalars().all()
        orgs = session.execute(
            select(Organization.name, Region.name.label("region"))
            .join(Region, Region.id == Organization.region_id)
            .order_by(Region.name, Organization.name)
        ).all()
        cohorts = session.execute(
            select(Cohort.slug, Cohort.title, Cohort.workshop_start, Region.name.label("region"))
            .join(Region, Region.id == Cohort.region_id)
            .order_by(Cohort.workshop_start.desc())
        ).all()
    return {
        "staff": staff,
        "version": version,
        "regions": regions,
        "orgs": orgs,
        "cohorts": cohorts,
        "form": {},
        "errors": {},
    }


@router.get("")
async def admin_home(request: Request, user: CurrentUser = Depends(require_admin)) -> Response:
    return render(request, "admin/home.html", _home_context(request))


def _refused(
    request: Request,
    exc: Exception,
    form: dict,
    template: str = "admin/home.html",
    context: dict | None = None,
) -> Response:
    _ = gettext_for(request).gettext
    field = getattr(exc, "field", "form")
    message = getattr(exc, "message", str(exc))
    ctx = context if context is not None else _home_context(request)
    ctx.update({"form": form, "errors": {field: _(message)}})
    return render(request, template, ctx, status_code=422)


async def _form(request: Request) -> dict:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.post("/regions")
async def region_create(request: Request, user: CurrentUser = Depends(require_admin)) -> Response:
    form = await _form(request)
    try:
        with request.app.state.db.write() as session:
            service.region_create(session, form=form, actor_id=user.id)
    except service.AdminError as exc:
        return _refused(request, exc, form)
    return redirect(request, "/admin#regions")


@router.post("/organizations")
async def organization_create(
    request: Request, user: CurrentUser = Depends(require_admin)
) -> Response:
    form = await _form(request)
    try:
        with request.app.state.db.write() as session:
            service.organization_create(session, form=form, actor_id=user.id)
    except service.AdminError as exc:
        return _refused(request, exc, form)
    return redirect(request, "/admin#organizations")


@router.post("/cohorts")
async def cohort_create(request: Request, user: CurrentUser = Depends(require_admin)) -> Response:
    form = await _form(request)
    try:
        with request.app.state.db.write() as session:
            cohort = service.cohort_save(session, form=form, actor_id=user.id)
    except service.AdminError as exc:
        return _refused(request, exc, form)
    return redirect(request, f"/admin/cohorts/{cohort.slug}")


def _cohort_context(request: Request, slug: str) -> dict:
    with request.app.state.db.read() as session:
        cohort = cohort_by_slug(session, slug=slug)
        if cohort is None:
            raise HTTPException(status_code=404)
        regions = session.execute(select(Region).order_by(Region.name)).scalars().all()
        assigned = session.execute(
            select(User.id, User.display_name, User.username)
            .join(CohortFacilitator, CohortFacilitator.user_id == User.id)
            .where(CohortFacilitator.cohort_id == cohort.id)
        ).all()
        facilitators = session.execute(
            select(User.id, User.display_name, User.username)
            .where(User.role == Role.facilitator, User.is_active.is_(True))
            .order_by(User.display_name)
        ).all()
    taken = {row.id for row in assigned}
    return {
        "cohort": cohort,
        "regions": regions,
        "assigned": assigned,
        "facilitators": [f for f in facilitators if f.id not in taken],
        "form": {},
        "errors": {},
    }


@router.get("/cohorts/{slug}")
async def cohort_edit(
    request: Request, slug: str, user: CurrentUser = Depends(require_admin)
) -> Response:
    return render(request, "admin/cohort.html", _cohort_context(request, slug))


@router.post("/cohorts/{slug}")
async def cohort_update(
    request: Request, slug: str, user: CurrentUser = Depends(require_admin)
) -> Response:
    form = await _form(request)
    context = _cohort_context(request, slug)
    try:
        with request.app.state.db.write() as session:
            cohort = session.get(Cohort, context["cohort"].id)
            service.cohort_save(session, form=form, actor_id=user.id, cohort=cohort)
    except service.AdminError as exc:
        return _refused(request, exc, form, "admin/cohort.html", context)
    return redirect(request, f"/admin/cohorts/{slug}")


@router.post("/cohorts/{slug}/facilitators")
async def cohort_facilitators(
    request: Request, slug: str, user: CurrentUser = Depends(require_admin)
) -> Response:
    form = await _form(request)
    context = _cohort_context(request, slug)
    try:
        with request.app.state.db.write() as session:
            service.facilitator_assign(
                session,
                cohort=context["cohort"],
                user_id=int(form.get("user_id") or 0),
                actor_id=user.id,
                assign=form.get("action") != "remove",
            )
    except (service.AdminError, ValueError) as exc:
        return _refused(
            request,
            exc
            if isinstance(exc, service.AdminError)
            else service.AdminError("user_id", "Choose a facilitator account."),
            form,
            "admin/cohort.html",
            context,
        )
    return redirect(request, f"/admin/cohorts/{slug}")


@router.post("/users")
async def staff_create(request: Request, user: CurrentUser = Depends(require_admin)) -> Response:
    form = await _form(request)
    role = form.get("role", "")
    try:
        if role not in (Role.facilitator, Role.kpk, Role.admin):
            raise UserError(N_("Choose the role: facilitator, KPK or administrator."))
        with request.app.state.db.write() as session:
            created = user_create(
                session,
                username=form.get("username", ""),
                display_name=form.get("name", ""),
                role=role,
                password=form.get("password", ""),
                settings=request.app.state.settings,
            )
            audit_record(
                session,
                actor_id=user.id,
                action="user.create",
                target=f"user:{created.username}",
                detail={"role": role},
            )
    except UserError as exc:
        return _refused(request, service.AdminError("staff", str(exc)), form)
    return redirect(request, "/admin#staff")


@router.post("/users/{user_id}/active")
async def admin_set_active(
    request: Request, user_id: int, user: CurrentUser = Depends(require_admin)
) -> Response:
    form = await request.form()
    active = form.get("active") == "1"
    if user_id == user.id and not active:
        raise HTTPException(status_code=422, detail="self")
    with request.app.state.db.write() as session:
        target = session.get(User, user_id)
        if target is None:
            raise HTTPException(status_code=404)
        user_set_active(session, user_id=user_id, active=active)
        audit_record(
            session,
            actor_id=user.id,
            action="user.activate" if active else "user.deactivate",
            target=f"user:{target.username}",
        )
    return redirect(request, "/admin")
