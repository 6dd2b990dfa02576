"""Static files under content-hashed addresses, cached by browsers for a year.

Templates ask ``static_url("css/app.css")`` and get ``/static/css/app.3f2a9c1b7d04.css``: the
first 12 hex digits of the file's SHA-256 before its extension. ``HashedStaticFiles`` serves
such an address with ``Cache-Control: public, max-age=31536000, immutable`` when the digits are
the file's current ones (a phone that has the page's CSS and JavaScript asks for them again
only when they changed), 404 otherwise; the plain address keeps working with
``Cache-Control: no-cache`` (revalidated by its ETag), for anything that links it directly.

The digests are read from the files when first asked and again whenever a file's size or
modification time changes, so an edited stylesheet gets a new address without a restart.
"""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static"
PREFIX = "/static/"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
DIGITS = 12
_HASHED = re.compile(rf"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{{{DIGITS}}})(?P<ext>\.[A-Za-z0-9]+)$")


class Fingerprints:
    """The short content digest of each file below ``root``, kept while the file is unchanged."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._known: dict[str, tuple[int, int, str]] = {}
        # the resolved path of each existing file asked for (a page asks for the same few;
        # only existing files are kept, so a request for made-up names adds nothing)
        self._paths: dict[str, Path] = {}
        self._lock = threading.Lock()

    def _path(self, relative: str) -> Path | None:
        known = self._paths.get(relative)
        if known is not None:
            return known
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root):
            return None
        if path.is_file():
            with self._lock:
                self._paths[relative] = path
        return path

    def digest(self, relative: str) -> str | None:
        path = self._path(relative)
        if path is None:
            return None
        try:
            stat = path.stat()
        except OSError:
            return None
        known = self._known.get(relative)
        if known is not None and known[:2] == (stat.st_mtime_ns, stat.st_size):
            return known[2]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:DIGITS]
        with self._lock:
            self._known[relative] = (stat.st_mtime_ns, stat.st_size, digest)
        return digest

    def url(self, relative: str) -> str:
        """The hashed address of a file (its plain address if it does not exist)."""
        digest = self.digest(relative)
        if digest is None:
            return PREFIX + relative
        stem, dot, ext = relative.rpartition(".")
        if not dot or "/" in ext:
            return f"{PREFIX}{relative}.{digest}"
        return f"{PREFIX}{stem}.{digest}.{ext}"

    def original(self, path: str) -> tuple[str | None, bool]:
        """(the file a hashed name stands for, whether the name was hashed): a stale digest
        gives (None, True)."""
        match = _HASHED.match(path)
        if match is None:
            return path, False
        relative = match["stem"] + match["ext"]
        if self.digest(relative) == match["digest"]:
            return relative, True
        return None, True


FINGERPRINTS = Fingerprints(STATIC_DIR)


def static_url(relative: str) -> str:
    """For templates: the cache-forever address of ``app/static/<relative>``."""
    return FINGERPRINTS.url(relative)


class HashedStaticFiles(StaticFiles):
    """``app/static`` at hashed addresses (cached for a year) and plain ones (revalidated)."""

    def __init__(self, fingerprints: Fingerprints = FINGERPRINTS) -> None:
        super().__init__(directory=str(fingerprints.root))
        self.fingerprints = fingerprints

    async def get_response(self, path: str, scope: Scope) -> Response:
        relative, hashed = self.fingerprints.original(path.replace("\\", "/"))
        if relative is None:
            raise HTTPException(status_code=404)
        response = await super().get_response(relative, scope)
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = IMMUTABLE if hashed else REVALIDATE
        return response
