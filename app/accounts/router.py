from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from app.accounts import service
from app.accounts.models import CurrentUser, Role
from app.cohorts.service import normalize_code
from app.deps import CurrentUserDep, DbDep, NowDep, SettingsDep, UserDep
from app.errors import AppError
from app.i18n import LOCALES
from app.web import client_address, cookie_name, form_error, redirect, render, set_cookie

router = APIRouter()

HOMES = {
    Role.participant: "/learn",
    Role.facilitator: "/facilitator",
    Role.kpk: "/kpk",
    Role.admin: "/admin",
}


def home_url(user: CurrentUser) -> str:
    return HOMES.get(Role(user.role), "/")


def safe_next(value: str | None) -> str | None:
    """Only a local path may be a redirect target after sign-in."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")) and len(value) < 500:
        return value
    return None


@router.get("/")
async def home(request: Request, user: CurrentUserDep) -> Response:
    return redirect(request, "/login" if user is None else home_url(user))


@router.get("/login")
async def login_form(
    request: Request,
    user: CurrentUserDep,
    next: str | None = None,  # noqa: A002
) -> Response:
    if user is not None:
        return redirect(request, home_url(user))
    return render(request, "accounts/login.html", {"next": safe_next(next) or "", "username": ""})


def _signed_in(request: Request, settings: SettingsDep, url: str, token: str) -> Response:
    response = redirect(request, url)
    set_cookie(response, settings, "kb_session", token, max_age=settings.session_days * 86400)
    return response


@router.post("/login")
async def login(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    now: NowDep,
    username: str = Form(""),
    password: str = Form(""),
    next: str = Form(""),  # noqa: A002
) -> Response:
    context = {"next": safe_next(next) or "", "username": username.strip().lower()[:64]}
    try:
        with db.write() as session:
            result = service.sign_in(
                session,
                username=username,
                password=password,
                address=client_address(request),
                user_agent=request.headers.get("user-agent"),
                previous_token=request.state.session_token,
                settings=settings,
                now=now,
            )
    except AppError as exc:
        return form_error(request, "accounts/login.html", context, exc)
    if result.refused is not None or result.user is None or result.token is None:
        return form_error(request, "accounts/login.html", context, result.refused or AppError())
    return _signed_in(
        request, settings, safe_next(next) or HOMES[Role(result.user.role)], result.token
    )


@router.post("/logout")
async def logout(request: Request, db: DbDep, settings: SettingsDep) -> Response:
    if request.state.session_token:
        with db.write() as session:
            service.session_end(session, token=request.state.session_token)
    response = redirect(request, "/login")
    response.delete_cookie(
        cookie_name(settings, "kb_session"),
        path="/",
        secure=settings.production,
        httponly=True,
        samesite="lax",
    )
    return response


@router.post("/language")
async def set_language(
    request: Request,
    user: CurrentUserDep,
    db: DbDep,
    settings: SettingsDep,
    locale: str = Form(...),
    next: str = Form("/"),  # noqa: A002
) -> Response:
    if locale not in LOCALES:
        locale = settings.default_locale
    if user is not None:
        with db.write() as session:
            service.user_set_locale(session, user_id=user.id, locale=locale)
    response = redirect(request, safe_next(next) or "/")
    response.set_cookie(
        "lang",
        locale,
        max_age=365 * 86400,
        path="/",
        samesite="lax",
        httponly=True,
        secure=settings.production,
    )
    return response


@router.get("/account")
async def account(request: Request, user: UserDep, changed: str = "") -> Response:
    return render(
        request, "accounts/account.html", {"home": home_url(user), "changed": changed == "1"}
    )


@router.post("/account/password")
async def password_change(
    request: Request,
    user: UserDep,
    db: DbDep,
    settings: SettingsDep,
    now: NowDep,
    current: str = Form(""),
    password: str = Form(""),
    password2: str = Form(""),
) -> Response:
    """A new password: the current one first (a wrong one counts as a failed sign-in); every
    other signed-in browser is signed out."""
    context = {"home": home_url(user)}
    try:
        with db.write() as session:
            result = service.password_change(
                session,
                user=user,
                current=current,
                password=password,
                again=password2,
                address=client_address(request),
                user_agent=request.headers.get("user-agent"),
                settings=settings,
                now=now,
            )
    except AppError as exc:
        return form_error(request, "accounts/account.html", context, exc)
    if result.refused is not None or result.token is None:
        return form_error(request, "accounts/account.html", context, result.refused or AppError())
    return _signed_in(request, settings, "/account?changed=1", result.token)


@router.get("/activate")
async def activate_form(request: Request, code: str = "") -> Response:
    return render(request, "accounts/activate.html", {"code": normalize_code(code)[:20]})


@router.post("/activate")
async def activate(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    now: NowDep,
    code: str = Form(""),
    password: str = Form(""),
    password2: str = Form(""),
) -> Response:
    context = {"code": code.strip()[:20]}
    try:
        with db.write() as session:
            result = service.activate(
                session,
                code=code,
                password=password,
                again=password2,
                address=client_address(request),
                user_agent=request.headers.get("user-agent"),
                settings=settings,
                now=now,
            )
    except AppError as exc:
        context["username"] = exc.values.get("username", "")
        return form_error(request, "accounts/activate.html", context, exc)
    if result.refused is not None or result.user is None or result.token is None:
        return form_error(request, "accounts/activate.html", context, result.refused or AppError())
    return _signed_in(request, settings, HOMES[Role(result.user.role)], result.token)
