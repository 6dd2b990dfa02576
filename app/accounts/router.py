from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from app.accounts import service
from app.accounts.deps import require_user
from app.accounts.models import CurrentUser, LoginFailure, Role, User
from app.i18n import LOCALES
from app.web import cookie_name, gettext_for, redirect, render, set_cookie

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
async def home(request: Request) -> Response:
    user = request.state.user
    if user is None:
        return redirect(request, "/login")
    return redirect(request, home_url(user))


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:  # noqa: A002
    if request.state.user is not None:
        return redirect(request, home_url(request.state.user))
    return render(request, "accounts/login.html", {"next": safe_next(next) or "", "username": ""})


@router.post("/login")
async def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    next: str = Form(""),  # noqa: A002
) -> Response:
    _ = gettext_for(request).gettext
    state = request.app.state
    settings = state.settings
    username = username.strip().lower()
    context = {"next": safe_next(next) or "", "username": username[:64]}
    if not username or not password:
        context["error"] = _("Fill in your username and password.")
        return render(request, "accounts/login.html", context, status_code=422)
    if len(username) > 64 or len(password) > service.MAX_PASSWORD:
        context["error"] = _("The username or password is too long.")
        return render(request, "accounts/login.html", context, status_code=422)
    address = request.client.host if request.client else "unknown"
    now = state.clock()
    try:
        with state.db.write() as session:
            service.throttle_check(
                session, username=username, address=address, settings=settings, now=now
            )
            user = service.user_by_username(session, username=username)
            ok = (
                user is not None
                and user.is_active
                and service.verify_password(user.password_hash, password, settings)
            )
            if not ok:
                service.throttle_record_failure(
                    session, username=username, address=address, now=now
                )
            else:
                service.throttle_clear(session, username=username)
                if request.state.session_token:
                    service.session_end(session, token=request.state.session_token)
                token = _new_session(request, session, user, now)
    except service.Throttled as exc:
        return _throttled(request, "accounts/login.html", context, exc)
    if not ok:
        context["error"] = _("The username or password is not right.")
        return render(request, "accounts/login.html", context, status_code=401)
    return _signed_in(request, safe_next(next) or home_url(user), token)


def _new_session(request: Request, session, user: CurrentUser, now) -> str:  # noqa: ANN001
    return service.session_create(
        session,
        user=user,
        settings=request.app.state.settings,
        now=now,
        user_agent=request.headers.get("user-agent"),
    )


def _signed_in(request: Request, url: str, token: str) -> Response:
    settings = request.app.state.settings
    response = redirect(request, url)
    set_cookie(response, settings, "kb_session", token, max_age=settings.session_days * 86400)
    return response


def _throttled(request: Request, template: str, context: dict, exc: service.Throttled) -> Response:
    context["error"] = gettext_for(request).gettext(
        "Too many failed attempts. Wait a few minutes, then try again."
    )
    return render(
        request, template, context, status_code=429, headers={"Retry-After": str(exc.retry_after)}
    )


@router.post("/logout")
async def logout(request: Request) -> Response:
    state = request.app.state
    if request.state.session_token:
        with state.db.write() as session:
            service.session_end(session, token=request.state.session_token)
    response = redirect(request, "/login")
    response.delete_cookie(
        cookie_name(state.settings, "kb_session"),
        path="/",
        secure=state.settings.production,
        httponly=True,
        samesite="lax",
    )
    return response


@router.post("/language")
async def set_language(
    request: Request,
    locale: str = Form(...),
    next: str = Form("/"),  # noqa: A002
) -> Response:
    if locale not in LOCALES:
        locale = request.app.state.settings.default_locale
    user = request.state.user
    if user is not None:
        with request.app.state.db.write() as session:
            service.user_set_locale(session, user_id=user.id, locale=locale)
    response = redirect(request, safe_next(next) or "/")
    response.set_cookie(
        "lang",
        locale,
        max_age=365 * 86400,
        path="/",
        samesite="lax",
        httponly=True,
        secure=request.app.state.settings.production,
    )
    return response


@router.get("/account")
async def account(request: Request, user: CurrentUser = Depends(require_user)) -> Response:
    changed = request.query_params.get("changed") == "1"
    return render(request, "accounts/account.html", {"home": home_url(user), "changed": changed})


@router.post("/account/password")
async def password_change(
    request: Request,
    current: str = Form(""),
    password: str = Form(""),
    password2: str = Form(""),
    user: CurrentUser = Depends(require_user),
) -> Response:
    """A new password: the current one first (a wrong one counts as a failed sign-in); every
    other signed-in browser is signed out."""
    from app.audit import audit_record

    _ = gettext_for(request).gettext
    state = request.app.state
    settings = state.settings
    now = state.clock()
    address = request.client.host if request.client else "unknown"
    context = {"home": home_url(user)}
    try:
        with state.db.write() as session:
            service.throttle_check(
                session, username=user.username, address=address, settings=settings, now=now
            )
            record = session.get(User, user.id)
            if len(current) > service.MAX_PASSWORD or not service.verify_password(
                record.password_hash, current, settings
            ):
                service.throttle_record_failure(
                    session, username=user.username, address=address, now=now
                )
                context.update(error=_("Your current password is not right."), field="current")
            elif problem := service.new_password_problem(
                password, password2, username=user.username
            ):
                context.update(error=_(problem), field="password")
            else:
                service.user_set_password(
                    session,
                    user_id=user.id,
                    password_hash=service.hash_password(password, settings),
                )
                service.sessions_end_for_user(session, user_id=user.id)
                token = _new_session(request, session, user, now)
                audit_record(
                    session, actor_id=user.id, action="account.password", target=f"user:{user.id}"
                )
    except service.Throttled as exc:
        return _throttled(request, "accounts/account.html", context, exc)
    if "error" in context:
        return render(request, "accounts/account.html", context, status_code=422)
    return _signed_in(request, "/account?changed=1", token)


@router.get("/activate")
async def activate_form(request: Request, code: str = "") -> Response:
    from app.cohorts.service import normalize_code

    return render(request, "accounts/activate.html", {"code": normalize_code(code)[:20]})


@router.post("/activate")
async def activate(
    request: Request,
    code: str = Form(""),
    password: str = Form(""),
    password2: str = Form(""),
) -> Response:
    from datetime import timedelta

    from app.cohorts.service import ActivationError, activation_find, activation_use

    _ = gettext_for(request).gettext
    state = request.app.state
    settings = state.settings
    now = state.clock()
    address = request.client.host if request.client else "unknown"
    key = f"activate:{address[:100]}"
    context = {"code": code.strip()[:20]}
    try:
        with state.db.write() as session:
            service.throttle_keys(
                session,
                limits={key: settings.login_max_per_account * 2},
                window=timedelta(minutes=settings.login_window_minutes),
                now=now,
            )
            try:
                activation, user = activation_find(session, code=code, now=now)
            except ActivationError as exc:
                session.add(LoginFailure(key=key, at=now))
                context["error"] = _(exc.message)
                context["field"] = "code"
                user = None
            if user is not None:
                problem = service.new_password_problem(password, password2, username=user.username)
                if problem:
                    context["error"] = _(problem)
                    context["field"] = "password"
                    context["username"] = user.username
                else:
                    activation_use(
                        session,
                        activation=activation,
                        user=user,
                        password_hash=service.hash_password(password, settings),
                        now=now,
                    )
                    service.sessions_end_for_user(session, user_id=user.id)
                    token = _new_session(request, session, user, now)
    except service.Throttled as exc:
        return _throttled(request, "accounts/activate.html", context, exc)
    if "error" in context:
        return render(request, "accounts/activate.html", context, status_code=422)
    return _signed_in(request, home_url(user), token)
