"""What happens to every request before it reaches a route, as plain ASGI middleware:

- ``BodyLimitMiddleware``: a request body larger than its limit is answered 413 before
  any of it reaches the application (nothing is parsed or spooled to disk). A form may be
  ``APP_MAX_FORM_BYTES`` (64 KB); a route that takes a file upload (marked with
  ``app.inputs.upload_route``) ``APP_MAX_UPLOAD_BYTES`` (5 MB). A declared
  ``Content-Length`` over the limit is refused without reading; a body sent in chunks is
  counted as it arrives. Bodies are at most this small, so the accepted one is kept in
  memory and handed on whole.
- ``HeadMiddleware``: ``HEAD`` is answered wherever ``GET`` is — the same status and
  headers, no body.
- ``RequestLogMiddleware`` (outermost) with ``RouteProbe`` (innermost): every request gets an
  id (a proxy's ``X-Request-ID`` when it looks like one, else a new one), answered in
  ``X-Request-ID`` and shown on error pages, and one JSON line in the log ``integritas.access``:
  time, id, method, the route's template (``/learn/lessons/{slug}``, never the path a person
  typed), status, duration and bytes sent. No query string, address, cookie or user: nothing
  personal. With ``APP_METRICS=true`` the same figures feed ``/metrics``.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.requests import Request
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.inputs import upload_fields

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


Refuse = Callable[[Request, int], Any]


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, form_bytes: int, upload_bytes: int, refuse: Refuse) -> None:
        self.app = app
        self.form_bytes = form_bytes
        self.upload_bytes = upload_bytes
        self.refuse = refuse  # (request, limit) → the 413 response
        self._uploads: list[re.Pattern[str]] | None = None  # the upload routes' paths

    def _limit(self, scope: Scope) -> int:
        if self._uploads is None:  # at the first request, when every route is in place
            self._uploads = [
                compile_path(route.path)[0]
                for route in iter_route_contexts(scope["app"].routes)
                if route.path and upload_fields(route)
            ]
        path = scope["path"]
        upload = any(pattern.match(path) for pattern in self._uploads)
        return self.upload_bytes if upload else self.form_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        try:
            declared = int(dict(scope["headers"]).get(b"content-length", b"0") or 0)
        except ValueError:
            declared = 0
        try:
            if declared > limit:
                raise BodyTooLarge(limit)
            body = await self._read(receive, limit)
        except BodyTooLarge as exc:
            response = await self.refuse(Request(scope), exc.limit)
            response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return

        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _read(receive: Receive, limit: int) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


class HeadMiddleware:
    """``HEAD`` runs the ``GET`` route and sends its status and headers without the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)


# ---------------------------------------------------------------- request ids and the access log

ACCESS_LOG = logging.getLogger("integritas.access")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_INFO = "integritas.request"  # the scope key both middlewares share (a shallow copy keeps it)


class RequestLogMiddleware:
    """An id per request, and one JSON line per request once it is answered."""

    def __init__(self, app: ASGIApp, observe: Callable[[str, str, int, float], None] | None = None):
        self.app = app
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"").decode(
            "latin-1"
        )
        request_id = given if REQUEST_ID.match(given) else secrets.token_hex(8)
        info: dict[str, Any] = {"id": request_id, "route": None}
        scope[_INFO] = info
        scope.setdefault("state", {})["request_id"] = request_id
        answer = {"status": 500, "bytes": 0}
        started = time.perf_counter()

        async def send_logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                message = {
                    **message,
                    "headers": [
                        *message.get("headers", []),
                        (b"x-request-id", request_id.encode()),
                    ],
                }
            elif message["type"] == "http.response.body":
                answer["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_logged)
        finally:
            seconds = time.perf_counter() - started
            route = info["route"] or "(no route)"
            ACCESS_LOG.info(
                json.dumps(
                    {
                        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                        "request_id": request_id,
                        "method": scope["method"],
                        "route": route,
                        "status": answer["status"],
                        "duration_ms": round(seconds * 1000, 1),
                        "bytes": answer["bytes"],
                    }
                )
            )
            if self.observe is not None:
                self.observe(scope["method"], route, answer["status"], seconds)


class RouteProbe:
    """Innermost: after the router answered, note which route it chose (its template)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            info = scope.get(_INFO)
            route = getattr(scope.get("route"), "path", None)
            root = scope.get("root_path", "")
            if info is not None:
                if route is not None:
                    info["route"] = f"{root}{route}"
                elif root:  # a mounted app without routes of its own (the static files)
                    info["route"] = f"{root}/{{path}}"
