"""Static files under content-hashed addresses, cached by browsers for a year.

Templates ask ``static_url("css/app.css")`` and get ``/static/css/app.3f2a9c1b7d04.css``: the
first 12 hex digits of the file's SHA-256 before its extension. ``HashedStaticFiles`` serves
such an address with ``Cache-Control: public, max-age=31536000, immutable`` when the digits are
the file's current ones (a phone that has the page's CSS and JavaScript asks for them again
only when they changed), 404 otherwise; the plain address keeps working with
``Cache-Control: no-cache`` (revalidated by its ETag), for anything that links it directly.

The digests are read from the files when first asked and again whenever a file's size or
modification time changes, so an edited stylesheet gets a new address without a restart.

Text files (CSS, JavaScript, SVG) travel compressed at the formats' best settings (brotli 11,
zstd 19, gzip 9: a fifth smaller than what the compression middleware does per response),
compressed once per file version, off the event loop, and kept; the middleware leaves a
response that is already encoded as it is.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import threading
from pathlib import Path

import anyio.to_thread
import brotli
import zstandard
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response
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


COMPRESSIBLE = frozenset({".css", ".js", ".svg", ".json", ".txt", ".map"})
# the smallest first: brotli at 11 beats zstd at 19 on these files, and gzip is the fallback
ENCODERS = {
    "br": lambda data: brotli.compress(data, quality=11),
    "zstd": lambda data: zstandard.ZstdCompressor(level=19).compress(data),
    "gzip": lambda data: gzip.compress(data, compresslevel=9, mtime=0),
}


def accepted_encodings(header: str) -> set[str]:
    """The codings an Accept-Encoding header accepts (those without ``q=0``)."""
    accepted = set()
    for item in header.split(","):
        coding, _, params = item.partition(";")
        quality = params.strip().removeprefix("q=").strip() if "q=" in params else "1"
        try:
            if float(quality) > 0:
                accepted.add(coding.strip().lower())
        except ValueError:
            continue
    return accepted


class Precompressed:
    """Each text file compressed once per encoding and file version (size, mtime), kept."""

    def __init__(self) -> None:
        self._kept: dict[tuple[str, str], tuple[int, int, bytes]] = {}

    async def body(self, path: Path, stat: os.stat_result, encoding: str) -> bytes:
        key = (str(path), encoding)
        known = self._kept.get(key)
        if known is not None and known[:2] == (stat.st_mtime_ns, stat.st_size):
            return known[2]
        data = await anyio.to_thread.run_sync(lambda: ENCODERS[encoding](path.read_bytes()))
        self._kept[key] = (stat.st_mtime_ns, stat.st_size, data)
        return data


class HashedStaticFiles(StaticFiles):
    """``app/static`` at hashed addresses (cached for a year) and plain ones (revalidated)."""

    def __init__(self, fingerprints: Fingerprints = FINGERPRINTS) -> None:
        super().__init__(directory=str(fingerprints.root))
        self.fingerprints = fingerprints
        self.precompressed = Precompressed()

    async def get_response(self, path: str, scope: Scope) -> Response:
        relative, hashed = self.fingerprints.original(path.replace("\\", "/"))
        if relative is None:
            raise HTTPException(status_code=404)
        response = await super().get_response(relative, scope)
        if isinstance(response, FileResponse) and response.status_code == 200:
            response = await self._encoded(response, Headers(scope=scope))
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = IMMUTABLE if hashed else REVALIDATE
        return response

    async def _encoded(self, response: FileResponse, request: Headers) -> Response:
        """The file precompressed in the best encoding the client accepts (as it is when it
        accepts none, or is no text file); a byte range is served from the file as it is."""
        path = Path(response.path)
        accepted = accepted_encodings(request.get("accept-encoding", ""))
        encoding = next((e for e in ENCODERS if e in accepted), None)
        stat = response.stat_result
        if encoding is None or path.suffix not in COMPRESSIBLE or "range" in request or not stat:
            return response
        headers = {k: v for k, v in response.headers.items() if k in ("etag", "last-modified")}
        if "etag" in headers:  # the same resource, other bytes: a weak validator
            headers["etag"] = "W/" + headers["etag"].removeprefix("W/")
        headers.update({"content-encoding": encoding, "vary": "Accept-Encoding"})
        return Response(
            await self.precompressed.body(path, stat, encoding),
            media_type=response.media_type,
            headers=headers,
        )
