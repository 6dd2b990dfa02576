"""Spreadsheet exports: CSV and XLSX written row by row, in constant memory.

A table is a list of ``Column`` specs and an iterable of rows (mappings from a column's ``key``
to its value). Both writers read the rows once, as they go, so a query result can be streamed
straight through without being held.

Values by column kind (what the row holds → CSV → XLSX):

- ``text``: ``str`` (anything else through ``str()``) → the text → a text cell; both
  neutralized (below);
- ``int``: ``int`` → ``17`` → a number;
- ``float``: ``float`` → ``0.4321`` (``.`` as decimal point, no exponent) → a number;
- ``percent``: a **percentage, 0–100** (``72.5``, like the quiz scores) → ``72.5`` →
  the fraction ``0.725`` formatted ``0.0%`` (Excel shows 72.5%);
- ``date``: ``date`` (a ``datetime`` is taken in ``tz``) → ``2024-10-14`` → a date formatted
  ``yyyy-mm-dd``;
- ``datetime``: an aware ``datetime`` (naive ones are UTC) → ``2024-10-14 09:30`` in ``tz`` →
  the naive wall-clock time in ``tz`` formatted ``yyyy-mm-dd hh:mm``;
- ``bool``: ``bool`` → ``true_text`` / ``false_text`` (words the caller translated) → the
  same words as text.

``None`` (and NaN, infinities) is an empty cell; a ``Decimal`` (PostgreSQL's ``avg()``) is a
float; 0 and 1 in a ``bool`` column (SQLite) are booleans; a number in a ``text`` column is
written as text (an 18-digit NIP stays exact). A ``str`` given for a number column is written
as text, and like every text — headers too — goes through ``neutralize``, which puts an
apostrophe before a text a spreadsheet would read as a formula (OWASP "CSV injection").
Numbers are never touched. Excel has no time zones, so datetimes are converted to ``tz``
(default Asia/Jakarta) and written as local wall-clock times.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import IO, Any, Literal
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

__all__ = [
    "Column",
    "Kind",
    "csv_stream",
    "export_filename",
    "neutralize",
    "xlsx_file",
    "xlsx_stream",
]

Kind = Literal["text", "int", "float", "percent", "date", "datetime", "bool"]

# What makes a spreadsheet read a cell as a formula (OWASP), with the full-width forms that
# some spreadsheet programs fold to ASCII, and the small forms (U+FE62, U+FE63, U+FE66, U+FE6B).
TRIGGERS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20\ufe62\ufe63\ufe66\ufe6b")

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
PERCENT_FORMAT = "0.0%"
XLSX_MAX_TEXT = 32_767  # characters in one Excel cell
CHUNK = 64 * 1024


def neutralize(value: str) -> str:
    """``value`` with a leading apostrophe when a spreadsheet could take it for a formula.

    That is when it starts with ``= + - @``, a tab or a carriage return (or a full-width or
    small form of ``= + - @``), also after leading whitespace — and when the leading
    whitespace itself holds a tab or a carriage return.
    """
    if not value:
        return value
    rest = value.lstrip()
    lead = value[: len(value) - len(rest)]
    if value[0] in TRIGGERS or (rest and rest[0] in TRIGGERS) or "\t" in lead or "\r" in lead:
        return "'" + value
    return value


@dataclass(frozen=True)
class Column:
    """One column: ``key`` in the row mappings, its ``header`` (already translated), what
    kind of value it holds (see the module's table), and its XLSX width in characters."""

    key: str
    header: str
    kind: Kind = "text"
    width: int = 14


def _zone(tz: str | tzinfo) -> tzinfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def _local(value: datetime, zone: tzinfo) -> datetime:
    """``value`` as a naive wall-clock time in ``zone`` (naive values are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone).replace(tzinfo=None)


def _number_text(value: float) -> str:
    """A float for CSV: plain decimal notation, no exponent, at most 6 decimals."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


Cell = str | int | float | date | datetime | None


def _cell(
    column: Column,
    value: Any,
    zone: tzinfo,
    true_text: str,
    false_text: str,
    clean: Callable[[str], str] = lambda text: text,
) -> Cell:
    """What goes in a cell, the same for both formats: ``None``, a neutralized ``str``, a
    number, a ``date``, or a naive wall-clock ``datetime`` in ``zone``. ``clean`` runs on a
    text before it is neutralized (XLSX drops the control characters it cannot hold)."""
    if value is None:
        return None
    if column.kind == "bool" and isinstance(value, int | float | Decimal):
        value = bool(value)  # SQLite gives 0 and 1
    if column.kind == "text" and not isinstance(value, str):
        value = str(value)  # an 18-digit NIP stays exact, as text
    if isinstance(value, bool):
        return neutralize(clean(true_text if value else false_text))
    if isinstance(value, Decimal):  # what PostgreSQL's avg() gives
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, int) and column.kind == "float":
        return float(value)
    if isinstance(value, float) and column.kind == "int" and value.is_integer():
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        moment = _local(value, zone)
        return moment.date() if column.kind == "date" else moment
    if isinstance(value, date):
        return value
    return neutralize(clean(value if isinstance(value, str) else str(value)))


# --- CSV ----------------------------------------------------------------------------------


def _csv_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def csv_stream(
    columns: Sequence[Column],
    rows: Iterable[Mapping[str, Any]],
    *,
    tz: str | tzinfo = "Asia/Jakarta",
    true_text: str = "1",
    false_text: str = "0",
    batch: int = 200,
) -> Iterator[bytes]:
    """The table as CSV: UTF-8 with a BOM (so Excel reads the accents), ``,`` between fields,
    CRLF line ends, a header row. Yields one chunk per ``batch`` rows; memory stays constant.

    ``true_text``/``false_text`` are the words for booleans, already translated by the caller.
    """
    zone = _zone(tz)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([neutralize(c.header) for c in columns])
    yield ("\ufeff" + buf.getvalue()).encode()
    buf.seek(0)
    buf.truncate()
    pending = 0
    for row in rows:
        writer.writerow(
            [_csv_text(_cell(c, row.get(c.key), zone, true_text, false_text)) for c in columns]
        )
        pending += 1
        if pending >= batch:
            yield buf.getvalue().encode()
            buf.seek(0)
            buf.truncate()
            pending = 0
    if pending:
        yield buf.getvalue().encode()


# --- XLSX ---------------------------------------------------------------------------------

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="EEEBE6")
_HEADER_ALIGN = Alignment(vertical="top", wrap_text=True)
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")


def _sheet_title(title: str) -> str:
    """A valid worksheet name: no ``[]:*?/\\``, no leading/trailing apostrophe, ≤ 31 chars."""
    clean = _SHEET_TITLE_BAD.sub(" ", ILLEGAL_CHARACTERS_RE.sub("", title))
    clean = " ".join(clean.split()).strip("'")
    return (clean[:31].strip() or "Sheet") if clean else "Sheet"


def _xlsx_text(value: str) -> str:
    return neutralize(_xlsx_clean(value))


def _xlsx_clean(text: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", text)[: XLSX_MAX_TEXT - 1]  # room for the apostrophe


def _xlsx_value(
    column: Column, value: Any, zone: tzinfo, true_text: str, false_text: str
) -> tuple[Cell, str | None]:
    """The cell value and its number format (None: General)."""
    cell = _cell(column, value, zone, true_text, false_text, clean=_xlsx_clean)
    if isinstance(cell, datetime):
        return cell, DATETIME_FORMAT
    if isinstance(cell, date):
        return cell, DATE_FORMAT
    if column.kind == "percent" and isinstance(cell, int | float):
        return cell / 100, PERCENT_FORMAT
    return cell, None


def xlsx_file(
    columns: Sequence[Column],
    rows: Iterable[Mapping[str, Any]],
    *,
    sheet_title: str,
    path_or_stream: str | os.PathLike[str] | IO[bytes],
    tz: str | tzinfo = "Asia/Jakarta",
    true_text: str = "1",
    false_text: str = "0",
    freeze_columns: int = 1,
) -> None:
    """Write the table as an XLSX workbook of one sheet to a path or a binary stream.

    openpyxl's write-only mode sends each row to a temporary file as it comes, so memory
    stays constant whatever the number of rows. The header is bold on a tinted band, the
    panes are frozen below it and right of the first ``freeze_columns`` columns, the header
    carries an autofilter, and each column gets its spec's width.
    """
    zone = _zone(tz)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_sheet_title(sheet_title))
    for index, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    freeze_columns = max(0, min(freeze_columns, len(columns)))
    ws.freeze_panes = f"{get_column_letter(freeze_columns + 1)}2"

    header = []
    for column in columns:
        cell = WriteOnlyCell(ws, value=_xlsx_text(column.header))
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = _HEADER_ALIGN
        header.append(cell)
    ws.append(header)

    count = 0
    for row in rows:
        cells: list[Any] = []
        for column in columns:
            value, number_format = _xlsx_value(
                column, row.get(column.key), zone, true_text, false_text
            )
            if number_format is None:
                # a plain value; strings never start with "=", so openpyxl writes no formula
                cells.append(value)
            else:
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = number_format
                cells.append(cell)
        ws.append(cells)
        count += 1
    if columns:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"
    wb.save(path_or_stream)


def xlsx_stream(
    columns: Sequence[Column],
    rows: Iterable[Mapping[str, Any]],
    *,
    sheet_title: str,
    tz: str | tzinfo = "Asia/Jakarta",
    true_text: str = "1",
    false_text: str = "0",
    freeze_columns: int = 1,
    chunk_size: int = CHUNK,
) -> Iterator[bytes]:
    """``xlsx_file`` into a temporary file (in memory up to 1 MiB, then on disk), yielded in
    chunks and removed afterwards, also when the consumer stops early.

    Nothing runs until the first chunk is asked for: a server hands this iterator to a
    streaming response that iterates it in a worker thread. The whole workbook is built
    before the first chunk (a zip file is only complete at its end).
    """
    with tempfile.SpooledTemporaryFile(max_size=1024 * 1024) as tmp:
        xlsx_file(
            columns,
            rows,
            sheet_title=sheet_title,
            path_or_stream=tmp,
            tz=tz,
            true_text=true_text,
            false_text=false_text,
            freeze_columns=freeze_columns,
        )
        tmp.seek(0)
        while chunk := tmp.read(chunk_size):
            yield chunk


# --- file names ---------------------------------------------------------------------------


def _slug(text: str, limit: int = 40) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].strip("-")


def export_filename(slug: str, what: str, filter_label: str | None, day: date, ext: str) -> str:
    """``tng-2024-peserta-behind-2026-12-01.xlsx``: lowercase ASCII letters, digits and ``-``
    only (safe in a ``Content-Disposition`` header and on every file system)."""
    parts = [_slug(slug), _slug(what), _slug(filter_label or ""), day.isoformat()]
    extension = _slug(ext.lstrip("."), 8) or "dat"
    return "-".join(part for part in parts if part) + "." + extension


def text_columns(rows: Sequence[Sequence[str]]) -> list[str]:
    """A table as aligned plain-text lines (for the terminal): columns padded to their widest
    cell, two spaces apart."""
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
