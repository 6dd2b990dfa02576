"""Per-request context (who is signed in, which language) and role guards."""

from __future__ import annotations

from fastapi import Request

from app.accounts.models import CurrentUser, Role
from app.accounts.service import session_user
from app.i18n import LOCALES
from app.web import check_csrf, cookie_name


class LoginRequired(Exception):
    """Raised by a guard when nobody is signed in; answered with a redirect to /login."""


class Forbidden(Exception):
    """Raised by a guard when the signed-in user may not see this; answered with 403."""


async def load_context(request: Request) -> None:
    """Runs before every route: the signed-in user, the language, and the CSRF check."""
    load_identity(request)
    await check_csrf(request)


def load_identity(request: Request) -> None:
    """Who is signed in and which language they read; at most one query per request."""
    if getattr(request.state, "context_loaded", False):
        return
    request.state.context_loaded = True
    app_state = request.app.state
    settings = app_state.settings
    token = request.cookies.get(cookie_name(settings, "kb_session"))
    user = None
    if token:
        with app_state.db.reader() as reader:
            user = session_user(reader, token=token, now=app_state.clock())
    request.state.user = user
    request.state.session_token = token if user else None
    lang = request.cookies.get("lang")
    if user is not None and user.locale in LOCALES:
        request.state.locale = user.locale
    elif lang in LOCALES:
        request.state.locale = lang
    else:
        request.state.locale = settings.default_locale


async def require_user(request: Request) -> CurrentUser:
    await load_context(request)
    user = request.state.user
    if user is None:
        raise LoginRequired
    return user


def require_role(*roles: Role):  # noqa: ANN201
    allowed = {r.value for r in roles}

    async def guard(request: Request) -> CurrentUser:
        user = await require_user(request)
        if user.role not in allowed:
            raise Forbidden
        return user

    guard.__name__ = f"require_{'_'.join(sorted(allowed))}"
    return guard


require_participant = require_role(Role.participant)
require_facilitator = require_role(Role.facilitator, Role.admin)
require_kpk = require_role(Role.kpk, Role.admin)
require_admin = require_role(Role.admin)
