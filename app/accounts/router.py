from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from app.accounts import service
from app.accounts.models import CurrentUser, Role, User
from app.cohorts.service import normalize_code
from app.config import Settings
from app.db import Database
from app.deps import CurrentUserDep, DbDep, NowDep, SettingsDep, UserDep
from app.errors import AppError
from app.i18n import LOCALES
from app.privacy.service import notice_shown
from app.web import (
    client_address,
    cookie_name,
    form_error,
    redirect,
    render,
    renew_anonymous_token,
    safe_next,
    set_cookie,
)

router = APIRouter()

HOMES = {
    Role.participant: "/learn",
    Role.facilitator: "/facilitator",
    Role.kpk: "/kpk",
    Role.admin: "/admin",
}


def home_url(user: CurrentUser) -> str:
    return HOMES.get(Role(user.role), "/")


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


DEVICE_DAYS = 365  # how long a browser stays a known device of the accounts it signed in to


def device_cookie_sent(request: Request, settings: Settings) -> str | None:
    return request.cookies.get(cookie_name(settings, "kb_device"))


def _signed_in(
    request: Request, settings: Settings, url: str, result: service.SignedIn
) -> Response:
    response = redirect(request, url)
    assert result.token is not None
    set_cookie(
        response, settings, "kb_session", result.token, max_age=settings.session_days * 86400
    )
    if result.device:
        set_cookie(response, settings, "kb_device", result.device, max_age=DEVICE_DAYS * 86400)
    renew_anonymous_token(response, settings)
    return response


async def _sign_in_answer(
    request: Request,
    settings: Settings,
    template: str,
    context: dict[str, Any],
    attempt: Callable[[], service.SignedIn],
    target: Callable[[User], str],
) -> Response:
    """Run a sign-in, an activation or a password change: signed in with a fresh session
    cookie, or the form again with the refusal (its values, e.g. the username of an
    activation, shown beside it). It runs in a worker thread: checking a password (argon2)
    takes tens of milliseconds of CPU, and a room of sixty people signing in at once must not
    stop every other page meanwhile."""
    try:
        result = await run_in_threadpool(attempt)
    except AppError as exc:
        return form_error(request, template, {**context, **exc.values}, exc)
    if result.refused is not None or result.user is None or result.token is None:
        return form_error(request, template, context, result.refused or AppError())
    return _signed_in(request, settings, target(result.user), result)


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
    return await _sign_in_answer(
        request,
        settings,
        "accounts/login.html",
        context,
        lambda: service.sign_in(
            db,
            username=username,
            password=password,
            address=client_address(request),
            user_agent=request.headers.get("user-agent"),
            previous_token=request.state.session_token,
            settings=settings,
            now=now,
            device_cookie_sent=device_cookie_sent(request, settings),
        ),
        lambda user: safe_next(next) or HOMES[Role(user.role)],
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
    return await _sign_in_answer(
        request,
        settings,
        "accounts/account.html",
        {"home": home_url(user)},
        lambda: service.password_change(
            db,
            user=user,
            current=current,
            password=password,
            again=password2,
            address=client_address(request),
            user_agent=request.headers.get("user-agent"),
            settings=settings,
            now=now,
            device_cookie_sent=device_cookie_sent(request, settings),
        ),
        lambda _user: "/account?changed=1",
    )


def _activate_context(
    request: Request, db: Database, settings: Settings, code: str
) -> dict[str, Any]:
    """The activation form's values, and the privacy notice to agree to."""
    with db.read() as session:
        notice = notice_shown(
            session,
            locale=request.state.locale,
            years=settings.retention_years,
            k=settings.min_cell_size,
        )
    return {"code": code, "notice": notice}


@router.get("/activate")
async def activate_form(
    request: Request, db: DbDep, settings: SettingsDep, code: str = ""
) -> Response:
    return render(
        request,
        "accounts/activate.html",
        _activate_context(request, db, settings, normalize_code(code)[:20]),
    )


@router.post("/activate")
async def activate(
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    now: NowDep,
    code: str = Form(""),
    password: str = Form(""),
    password2: str = Form(""),
    consent: str = Form(""),
) -> Response:
    return await _sign_in_answer(
        request,
        settings,
        "accounts/activate.html",
        _activate_context(request, db, settings, code.strip()[:20]),
        lambda: service.activate(
            db,
            code=code,
            password=password,
            again=password2,
            address=client_address(request),
            user_agent=request.headers.get("user-agent"),
            settings=settings,
            now=now,
            consent=consent == "yes",
            device_cookie_sent=device_cookie_sent(request, settings),
        ),
        lambda user: HOMES[Role(user.role)],
    )
