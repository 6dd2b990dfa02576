"""Web plumbing shared by every domain: templates, htmx detection, rendering, redirects,
CSRF protection, errors and security headers."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from fastapi import HTTPException, Request
from fastapi.concurrency import iterate_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from markupsafe import Markup
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import i18n
from app.config import ROOT, Settings
from app.db import Database
from app.errors import AppError
from app.static_files import static_url

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class SecurityHeadersMiddleware:
    """Adds the security headers to every response (a plain ASGI middleware: no overhead)."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.headers = list(SECURITY_HEADERS)
        if hsts:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + self.headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Fragments:
    """Parts of pages that depend only on what their key names (e.g. a lesson's body: the
    lesson, the content version, the locale), rendered once and kept. In a template::

        {% call fragment("lesson-body", lesson.id, content_version, locale) %}…{% endcall %}

    The body is rendered on the first request for a key; later requests reuse its HTML. The
    key must name everything the body reads: nothing about the person or the request may be
    inside, but for the form token given as ``token=csrf_token`` (a part with forms): it is
    kept as a slot and each request's own token is put in its place. ``keep=False`` renders
    the body without keeping it (while it shows something of this request only, such as a
    refusal). At most ``size`` bodies are kept (the least recently used go first)."""

    SLOT = "\x00token\x00"

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._kept: OrderedDict[tuple[Any, ...], str] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(
        self, *key: Any, caller: Callable[[], str], token: str = "", keep: bool = True
    ) -> Markup:
        if not keep:
            return Markup(caller())  # noqa: S704 — the template's own escaped output
        html = self._kept.get(key)
        if html is None:
            html = str(caller())
            if token:
                html = html.replace(token, self.SLOT)
            with self._lock:
                self._kept[key] = html
                while len(self._kept) > self.size:
                    self._kept.popitem(last=False)
        if token:
            html = html.replace(self.SLOT, token)
        return Markup(html)  # noqa: S704 — the template's own escaped output

    def __len__(self) -> int:
        return len(self._kept)


def make_templates(settings: Settings) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(ROOT / "templates")),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        auto_reload=settings.env == "development",
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # null translations until the context replaces them per request
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]  # set by ext.i18n
    env.globals["language_names"] = i18n.LANGUAGE_NAMES
    env.globals["local_date"] = lambda value: i18n.local(value, settings.timezone).date()
    env.globals["one_day"] = timedelta(days=1)
    env.globals["static_url"] = static_url
    env.globals["fragment"] = Fragments()
    return env


# ---------------------------------------------------------------- cookies and CSRF


def cookie_name(settings: Settings, name: str) -> str:
    return f"__Host-{name}" if settings.production else name


def set_cookie(
    response: Response, settings: Settings, name: str, value: str, *, max_age: int | None = None
) -> None:
    response.set_cookie(
        cookie_name(settings, name),
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.production,
    )


def _sign(settings: Settings, purpose: str, value: str) -> str:
    key = settings.secret().encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The token a form must send back: bound to the sign-in session, or to an anonymous
    cookie before sign-in (set on the response by ``render``)."""
    state = request.state
    if getattr(state, "csrf", None):
        return state.csrf
    settings: Settings = request.app.state.settings
    session_token = getattr(state, "session_token", None)
    if session_token:
        state.csrf = _sign(settings, "session", session_token)
        return state.csrf
    anon = request.cookies.get(cookie_name(settings, "kb_anon"))
    if not anon or len(anon) > 100:
        anon = secrets.token_urlsafe(24)
        state.new_anon = anon
    state.csrf = _sign(settings, "anon", anon)
    return state.csrf


async def check_csrf(request: Request) -> None:
    if request.method not in UNSAFE_METHODS:
        return
    sent = request.headers.get("x-csrf-token")
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            try:
                form = await request.form()
            except Exception:  # noqa: BLE001 — an unreadable body is simply a missing token
                form = FormData()
            value = form.get("csrf_token")
            sent = value if isinstance(value, str) else None
    settings: Settings = request.app.state.settings
    # Signed in, only the session's own token counts: the anonymous one a page gave before
    # sign-in (perhaps to someone else, on a shared computer) no longer does.
    expected = None
    if getattr(request.state, "session_token", None):
        expected = _sign(settings, "session", request.state.session_token)
    else:
        anon = request.cookies.get(cookie_name(settings, "kb_anon"))
        if anon:
            expected = _sign(settings, "anon", anon)
    if not sent or expected is None or not hmac.compare_digest(sent, expected):
        raise HTTPException(status_code=403, detail="csrf")


def renew_anonymous_token(response: Response, settings: Settings) -> None:
    """At sign-in: a new anonymous cookie, so the token of the forms shown before sign-in
    stops working for good (also after this session signs out)."""
    set_cookie(response, settings, "kb_anon", secrets.token_urlsafe(24))


# ---------------------------------------------------------------- rendering


def is_htmx(request: Request) -> bool:
    """A request made by htmx for a fragment (not a boosted page, not a history restore)."""
    headers = request.headers
    return (
        headers.get("hx-request") == "true"
        and headers.get("hx-boosted") != "true"
        and headers.get("hx-history-restore-request") != "true"
    )


def gettext_for(request: Request):
    return i18n.translations(getattr(request.state, "locale", "id"))


@lru_cache
def template_gettext(locale: str) -> tuple:
    """Jinja "newstyle" gettext for a language: ``_("Hello, %(name)s", name=...)`` with the
    values escaped."""
    tr = i18n.translations(locale)

    @pass_context
    def gettext(ctx, message: str, **variables: Any) -> str:
        rv = tr.gettext(message)
        if ctx.eval_ctx.autoescape:
            rv = Markup(rv)  # noqa: S704 — our own catalog text; the values are escaped
        return rv % variables if variables or "%" in rv else rv

    @pass_context
    def ngettext(ctx, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        rv = tr.ngettext(singular, plural, num)
        if ctx.eval_ctx.autoescape:
            rv = Markup(rv)  # noqa: S704 — our own catalog text; the values are escaped
        return rv % variables

    return gettext, ngettext


def template_context(request: Request, context: dict[str, Any]) -> dict[str, Any]:
    settings: Settings = request.app.state.settings
    locale = getattr(request.state, "locale", settings.default_locale)
    gettext, ngettext = template_gettext(locale)
    tz = settings.timezone
    base = {
        "request": request,
        "user": getattr(request.state, "user", None),
        "locale": locale,
        "gettext": gettext,
        "ngettext": ngettext,
        "_": gettext,
        "csrf_token": csrf_token(request),
        "pick": lambda text: i18n.pick(text, locale),
        "fmt_date": lambda value: i18n.fmt_date(value, locale, tz),
        "fmt_date_range": lambda start, end: i18n.fmt_date_range(start, end, locale),
        "fmt_datetime": lambda value: i18n.fmt_datetime(value, locale, tz),
        "fmt_ago": lambda value, now: i18n.fmt_ago(value, now, locale),
        "fmt_percent": lambda value, digits=0: i18n.fmt_percent(value, locale, digits),
        "htmx": is_htmx(request),
        "settings": settings,
    }
    base.update(context)
    return base


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    env: Environment = request.app.state.templates
    html = env.get_template(template).render(template_context(request, context or {}))
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    response.headers["Vary"] = "HX-Request, Cookie"
    response.headers.setdefault("Cache-Control", "no-store")
    new_anon = getattr(request.state, "new_anon", None)
    if new_anon:
        set_cookie(response, request.app.state.settings, "kb_anon", new_anon)
    return response


def message_text(request: Request, exc: AppError) -> str:
    """The error's message in the reader's language, its values filled in (dates as the
    reader writes them)."""
    locale = getattr(request.state, "locale", "id")
    tz = request.app.state.settings.timezone
    values = {
        k: i18n.fmt_date(v, locale, tz) if isinstance(v, date | datetime) else v
        for k, v in exc.values.items()
    }
    text = gettext_for(request).gettext(exc.message)
    return text % values if values else text


def form_error(
    request: Request, template: str, context: dict[str, Any], exc: AppError
) -> HTMLResponse:
    """The form again, with the refusal's message beside the field it is about."""
    context = {**context, "error": message_text(request, exc), "field": exc.field}
    return render(request, template, context, status_code=exc.status, headers=exc.headers)


def change_or_refuse(
    request: Request,
    db: Database,
    change: Callable[[Session], object],
    *,
    refused: type[AppError],
    page: Callable[[], tuple[str, dict[str, Any]]],
    url: str,
) -> Response:
    """A change in its own transaction, then on to ``url``; refused by its rules (``refused``),
    the form's page again (``page()``: its template and context) with why."""
    try:
        with db.write() as write:
            change(write)
    except refused as exc:
        template, context = page()
        return form_error(request, template, context, exc)
    return redirect(request, url)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def safe_next(value: str | None) -> str | None:
    """Only a local path may be a redirect target (after sign-in, after a form)."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")) and len(value) < 500:
        return value
    return None


def local_path(value: str | None, default: str) -> str:
    return safe_next(value) or default


def redirect(request: Request, url: str) -> Response:
    """After a POST: a 303 for plain forms, an ``HX-Redirect`` for htmx."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def download(name: str, body: Iterator[bytes], kind: str) -> StreamingResponse:
    """An export (``kind`` csv or xlsx) streamed from a worker thread, never kept by a cache."""
    return StreamingResponse(
        iterate_in_threadpool(body),
        media_type=EXPORT_TYPES[kind],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
