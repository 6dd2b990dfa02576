"""Languages: gettext catalogs for Indonesian (default) and English, dates in WIB.

Message ids are English; the ``id`` catalog carries the Indonesian text. Catalogs are compiled
from the ``.po`` files when the application starts (and by ``make``), never committed as ``.mo``.
"""

from __future__ import annotations

import math
import os
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import NumberPattern, parse_pattern
from babel.support import NullTranslations, Translations

TRANSLATIONS = Path(__file__).parent / "translations"
LOCALES = ("id", "en")
LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}


def N_(message: str) -> str:  # noqa: N802
    """Marks a message for translation where it is defined; it is translated where shown."""
    return message


def compile_catalogs(directory: Path = TRANSLATIONS) -> list[Path]:
    """Compile every ``messages.po`` whose ``.mo`` is missing or older. Returns what it wrote."""
    written = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as f:
            catalog = read_po(f, locale=po_path.parent.parent.name)
        tmp = mo_path.with_suffix(f".mo.{os.getpid()}.tmp")  # two processes may compile at once
        with tmp.open("wb") as f:
            write_mo(f, catalog)
        tmp.replace(mo_path)
        written.append(mo_path)
    return written


@lru_cache
def translations(locale: str) -> NullTranslations:
    if locale not in LOCALES:
        locale = LOCALES[0]
    return Translations.load(str(TRANSLATIONS), [locale], domain="messages")


def pick(text: dict | str | None, locale: str) -> str:
    """A bilingual content text ({"id": …, "en": …}) in the reader's language, else Indonesian."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    return text.get(locale) or text.get("id") or ""


def local(dt: datetime, tz: str) -> datetime:
    return dt.astimezone(ZoneInfo(tz))


def fmt_date(value: date | datetime | None, locale: str, tz: str = "Asia/Jakarta") -> str:
    """``14 Oktober 2024`` in Indonesian, ``14 October 2024`` in English."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local(value, tz).date()
    return _day(value, locale)


@lru_cache(maxsize=4096)
def _day(value: date, locale: str) -> str:
    """A day in words, formatted once (Babel takes ~40 µs per call; pages show few days)."""
    return format_date(value, format="d MMMM y", locale=locale)


def fmt_date_range(start: date, end: date, locale: str) -> str:
    """``14–15 Oktober 2024``, ``31 Oktober – 1 November 2024``, or one day."""
    if start == end:
        return fmt_date(start, locale)
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}\u2013{fmt_date(end, locale)}"
    if start.year == end.year:
        first = format_date(start, format="d MMMM", locale=locale)
        return f"{first} \u2013 {fmt_date(end, locale)}"
    return f"{fmt_date(start, locale)} \u2013 {fmt_date(end, locale)}"


def fmt_datetime(value: datetime | None, locale: str, tz: str = "Asia/Jakarta") -> str:
    """``14 Oktober 2024 09.30 WIB``."""
    if value is None:
        return ""
    return format_datetime(local(value, tz), "d MMMM y HH.mm", locale=locale) + (
        " WIB" if tz == "Asia/Jakarta" else ""
    )


def fmt_ago(value: datetime | None, now: datetime, locale: str) -> str:
    """``3 hari yang lalu`` / ``3 days ago``; empty for None."""
    if value is None:
        return ""
    seconds = (value - now).total_seconds()
    size = abs(seconds)
    if size >= 60 and size % 30:
        # from a minute on, Babel's words can change only at multiples of 30 seconds (a unit
        # is used from one whole unit on and rounded at half of one: minute, hour, day, week,
        # month of 30 days and year of 365 are whole minutes): between two of them, one call
        # for the middle serves every moment
        seconds = math.copysign(size // 30 * 30 + 15, seconds)
    return _ago(seconds, locale)


@lru_cache(maxsize=4096)
def _ago(seconds: float, locale: str) -> str:
    """Babel takes ~100 µs per call; a facilitator's list shows a hundred of them."""
    return format_timedelta(
        timedelta(seconds=seconds),
        granularity="minute",
        threshold=1.0,
        add_direction=True,
        locale=locale,
    )


def fmt_percent(value: float | None, locale: str, digits: int = 0) -> str:
    """A share (0..1) as ``42%`` (``42,5%`` in Indonesian with ``digits=1``); "–" for None."""
    if value is None:
        return "–"
    return fmt_number(value, "#,##0" + ("." + "0" * digits if digits else "") + "%", locale)


def fmt_number(value: float, pattern: str, locale: str) -> str:
    """``value`` in a CLDR number ``pattern`` (``#,##0.0``, ``0.00``, ``#,##0%``…) as
    Babel's ``format_decimal`` writes it, with the pattern and the locale parsed once (a KPK
    page writes thousands of numbers)."""
    parsed, loc = _number_pattern(pattern, locale)
    return parsed.apply(value, loc, decimal_quantization=True, numbering_system="latn")


@lru_cache(maxsize=128)
def _number_pattern(pattern: str, locale: str) -> tuple[NumberPattern, Locale]:
    return parse_pattern(pattern), Locale.parse(locale)
