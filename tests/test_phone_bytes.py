"""What a phone downloads: pages and assets compressed, assets at content-hashed addresses
cached for a year, and the lesson page's first visit within 30 KiB."""

from __future__ import annotations

import gzip
import re
from datetime import date, timedelta

import brotli
import pytest

from app.static_files import IMMUTABLE, STATIC_DIR, Fingerprints
from tests.conftest import login, take_quiz
from tests.factories import make_cohort, make_couple

TODAY = date(2026, 3, 2)
LESSON = "/learn/lessons/mengapa-integritas"
ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def raw_get(client, url: str, encoding: str):
    """The response and the bytes as they travel (not decoded by the client)."""
    with client.stream("GET", url, headers={"Accept-Encoding": encoding}) as response:
        return response, b"".join(response.iter_raw())


@pytest.fixture
def reader(client, synced, settings, time_machine):
    """A participant of the real curriculum who took the pre-test: the first lesson opens."""
    time_machine.move_to("2026-03-02 03:00:00+00:00", tick=False)
    cohort = make_cohort(synced, "uji", workshop_start=TODAY + timedelta(days=7))
    make_couple(synced, settings, cohort, "tng26-001")
    login(client, "tng26-001-a", "kata-sandi-uji-123")
    take_quiz(client, synced, "pre-test", right=False)
    return client


def without_tokens(html: str) -> str:
    return re.sub(r"[A-Za-z0-9_-]{32,}", "", html)


def test_pages_travel_compressed_as_the_browser_accepts(reader):
    plain, plain_raw = raw_get(reader, LESSON, "identity")
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    for encoding, decode in (("br", brotli.decompress), ("gzip", gzip.decompress)):
        response, raw = raw_get(reader, LESSON, encoding)
        assert response.headers["content-encoding"] == encoding
        assert "accept-encoding" in response.headers["vary"].lower()
        assert len(raw) < len(plain_raw) / 2
        assert without_tokens(decode(raw).decode()) == without_tokens(plain_raw.decode())


def test_assets_have_hashed_addresses_cached_for_a_year(reader):
    page = reader.get(LESSON).text
    assets = ASSET.findall(page)
    assert any(a.endswith(".css") for a in assets) and any(a.endswith(".js") for a in assets)
    for url in assets:
        assert re.search(r"\.[0-9a-f]{12}\.\w+$", url), url
        response = reader.get(url)
        assert response.status_code == 200
        assert response.headers["cache-control"] == IMMUTABLE
        plain = re.sub(r"\.[0-9a-f]{12}(\.\w+)$", r"\1", url)
        assert response.content == (STATIC_DIR / plain.removeprefix("/static/")).read_bytes()
        # the plain address still answers, revalidated each time
        again = reader.get(plain)
        assert again.status_code == 200 and again.headers["cache-control"] == "no-cache"
    css = next(a for a in assets if a.endswith(".css"))
    stale = re.sub(r"\.[0-9a-f]{12}\.css$", ".000000000000.css", css)
    assert reader.get(stale).status_code == 404
    assert reader.get("/static/../app/main.py").status_code == 404


def test_the_htmx_script_travels_compressed(client):
    page = client.get("/login").text
    script = next(a for a in ASSET.findall(page) if a.endswith(".js"))
    response, raw = raw_get(client, script, "br, gzip")
    assert response.headers["content-encoding"] == "br"
    assert brotli.decompress(raw) == (STATIC_DIR / "vendor/htmx-2.0.11/htmx.min.js").read_bytes()


def test_a_changed_file_gets_a_new_address(tmp_path):
    (tmp_path / "css").mkdir()
    sheet = tmp_path / "css" / "app.css"
    sheet.write_text("body { color: black }")
    prints = Fingerprints(tmp_path)
    first = prints.url("css/app.css")
    assert re.fullmatch(r"/static/css/app\.[0-9a-f]{12}\.css", first)
    assert prints.url("css/app.css") == first
    sheet.write_text("body { color: maroon; }")
    second = prints.url("css/app.css")
    assert second != first
    assert prints.original(second.removeprefix("/static/")) == ("css/app.css", True)
    assert prints.original(first.removeprefix("/static/")) == (None, True)
    assert prints.url("missing.css") == "/static/missing.css"


def test_the_lesson_pages_first_visit_is_within_30_kib(reader):
    """Everything a phone downloads on its first visit to a lesson, as it travels (brotli)."""
    _, page = raw_get(reader, LESSON, "br")
    html = brotli.decompress(page).decode()
    total = len(page)
    sizes = {"page": len(page)}
    for url in ASSET.findall(html):
        _, raw = raw_get(reader, url, "br")
        sizes[url] = len(raw)
        total += len(raw)
    assert total <= 30 * 1024, sizes


def test_text_assets_travel_precompressed_at_the_best_settings(client):
    """CSS and JavaScript are compressed once at the formats' best settings (smaller than
    the middleware's per-response level), in the encoding the client prefers among those it
    accepts; without one, or for a byte range, the file travels as it is."""
    import zstandard

    page = client.get("/login").text
    script = next(a for a in ASSET.findall(page) if a.endswith(".js"))
    source = (STATIC_DIR / "vendor/htmx-2.0.11/htmx.min.js").read_bytes()
    response, raw = raw_get(client, script, "gzip, deflate, br, zstd")
    assert response.headers["content-encoding"] == "br"
    assert brotli.decompress(raw) == source
    assert len(raw) < 0.9 * len(brotli.compress(source, quality=4))
    assert response.headers["cache-control"] == IMMUTABLE
    assert response.headers["etag"].startswith('W/"')
    assert "accept-encoding" in response.headers["vary"].lower()
    response, raw = raw_get(client, script, "zstd, gzip")
    assert response.headers["content-encoding"] == "zstd"
    assert zstandard.ZstdDecompressor().decompressobj().decompress(raw) == source
    response, raw = raw_get(client, script, "gzip, br;q=0")
    assert response.headers["content-encoding"] == "gzip" and gzip.decompress(raw) == source
    response, raw = raw_get(client, script, "identity")
    assert "content-encoding" not in response.headers and raw == source
    ranged = client.get(script, headers={"Accept-Encoding": "br", "Range": "bytes=0-99"})
    assert ranged.status_code == 206 and ranged.content == source[:100]
    # the plain address, revalidated with the weak validator, answers 304
    plain = re.sub(r"\.[0-9a-f]{12}(\.\w+)$", r"\1", script)
    first = client.get(plain, headers={"Accept-Encoding": "br"})
    etag = first.headers["etag"]
    again = client.get(plain, headers={"Accept-Encoding": "br", "If-None-Match": etag})
    assert again.status_code == 304 and again.headers["cache-control"] == "no-cache"
