"""One error type for everything the application refuses.

A service raises an ``AppError`` (or a subclass named after its domain) with the HTTP status,
an English message id (translated where it is shown) and the values the message names. The one
handler, installed by ``app.main``, renders it: the full page ``errors/<code>.html`` for a
browser, a fragment for htmx. This module imports nothing of the web layer, so services can
raise these errors without knowing how they are shown.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """A request refused with a reason the user can read.

    ``status``: the HTTP status; ``message``: an English message id (``N_``) with
    ``%(name)s`` placeholders for ``values``; ``field``: the form field it is about, if any;
    ``headers``: extra response headers (``Retry-After``)."""

    status: int = 400

    def __init__(
        self,
        status: int | None = None,
        message: str = "",
        values: dict[str, Any] | None = None,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        self.message = message
        self.values: dict[str, Any] = values or {}
        self.field = field
        self.headers = headers or {}


class Forbidden(AppError):
    """The signed-in user may not see or do this."""

    status = 403


class NotFound(AppError):
    """Nothing to show at this address (or nothing this user may know exists)."""

    status = 404


class LoginRequired(Exception):
    """Nobody is signed in; answered with a redirect to /login (not an error page)."""

    path = "/login"


class ConsentRequired(LoginRequired):
    """Signed in, but not yet agreed to the newest privacy notice: a redirect to the question
    (``/privacy/consent``), which comes back to the page afterwards."""

    path = "/privacy/consent"
