"""The couples roster a facilitator uploads (CSV or XLSX): reading, checking, normalizing.

Pure functions, no database and no web. Bad input never raises: every problem found in the
file is reported as a ``RosterProblem`` (row numbers as a spreadsheet shows them, header = 1),
and only the rows without problems come back as ``RosterRow``. Messages are English message
ids marked with ``N_()``; they are translated where they are shown, with ``values``.

Reading costs what the file holds, never what it declares: an XLSX's parts are counted before
anything parses them (size, zip bomb, XML elements), its first sheet is read by the cells it
stores (not by its declared dimension), a CSV's empty lines are stepped over in bulk, and
reading stops at the first limit passed, with one problem that names it.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from rapidfuzz import fuzz, process

from app.config import Settings
from app.i18n import N_
from app.inputs import clean_text

__all__ = [
    "COLUMNS",
    "MAX_BYTES",
    "MAX_CELL",
    "MAX_COLUMNS",
    "MAX_ROWS",
    "ORGANIZATION_SUGGESTION_CUTOFF",
    "OrganizationMatch",
    "RosterParse",
    "RosterProblem",
    "RosterRow",
    "match_organizations",
    "normalize_phone",
    "parse_roster",
    "template_csv",
]

COLUMNS = (
    "organisasi",
    "nama_pejabat",
    "nip",
    "jabatan",
    "kontak_pejabat",
    "nama_pasangan",
    "kontak_pasangan",
)
MIB = 1024 * 1024
# The defaults of the limits the settings set (APP_MAX_UPLOAD_BYTES, APP_MAX_ROSTER_ROWS):
# ``parse_roster`` takes the configured ones as arguments.
MAX_BYTES: int = Settings.model_fields["max_upload_bytes"].default
MAX_ROWS: int = Settings.model_fields["max_roster_rows"].default
MAX_TEXT = 200  # the length of names, organization, position and contacts in the database

# What the reading of a file may cost, whatever the file says about itself. A roster has
# seven columns and short cells; every limit is far above what a real one needs.
MAX_COLUMNS = 50  # a non-blank cell further right is refused
MAX_CELL = 32767  # characters of one cell: the most a spreadsheet cell holds
MAX_LINE = 65536  # characters of one CSV record (a line, or more with quoted line breaks)
CSV_RECORDS_PER_ROW = 10  # records parsed (blank ones that cannot be skipped at once too)
# An XLSX is a zip of XML parts: at most this many parts, this size unpacked in all, no part
# above XLSX_RATIO_FROM bytes unpacking to more than MAX_XLSX_RATIO times its packed size
# (XML packs about 5 to 20 times), and at most _xlsx_elements(max_rows) XML elements.
MAX_XLSX_PARTS = 1000
MAX_XLSX_UNPACKED = 50 * MIB
MAX_XLSX_RATIO = 100
XLSX_RATIO_FROM = MIB
XLSX_BASE_ELEMENTS = 20_000
XLSX_ELEMENTS_PER_ROW = 50

NIP_DIGITS = 18
PHONE_MIN, PHONE_MAX = 8, 13  # digits of the national number after +62

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls

REQUIRED = {
    "organisasi": N_("The organization is empty."),
    "nama_pejabat": N_("The official's name is empty."),
    "nama_pasangan": N_("The spouse's name is empty; every row is one couple."),
}
TEXT_COLUMNS = ("organisasi", "nama_pejabat", "jabatan", "nama_pasangan")
CONTACT_COLUMNS = ("kontak_pejabat", "kontak_pasangan")

MSG_EMPTY = N_("The file is empty.")
MSG_TOO_BIG = N_("The file is larger than %(max)s MB; split the roster into smaller files.")
MSG_XLS = N_("Old Excel .xls files are not supported; save the file as XLSX or CSV.")
MSG_BAD_XLSX = N_("This file cannot be read as an XLSX workbook; save it again as XLSX or CSV.")
MSG_XLSX_UNPACKED = N_(
    "This XLSX file is larger than %(max)s MB once unpacked; save only the roster sheet, as "
    "XLSX or CSV."
)
MSG_XLSX_RATIO = N_(
    "A part of this XLSX file unpacks to more than %(max)s times its packed size, which a "
    "spreadsheet never writes; save the roster again as XLSX or CSV."
)
MSG_XLSX_PARTS = N_(
    "This XLSX file has more than %(max)s parts (sheets, images and others); save only the "
    "roster sheet, as XLSX or CSV."
)
MSG_XLSX_ELEMENTS = N_(
    "This XLSX file holds more than %(max)s cells, texts and other elements, far more than a "
    "roster of %(rows)s couples needs (empty formatted rows count too); copy only the roster "
    "into a new workbook, or save it as CSV."
)
MSG_BAD_CSV = N_("This file cannot be read as CSV; save it again as CSV (UTF-8) or XLSX.")
MSG_LINE_TOO_LONG = N_(
    "This row of the CSV file is longer than %(max)s characters; check that the file is the "
    "roster, saved as CSV."
)
MSG_TOO_MANY_LINES = N_(
    "The file has more than %(max)s rows, empty ones included; delete the empty rows under "
    "the roster and save it again."
)
MSG_TOO_MANY_COLUMNS = N_(
    "This row has a cell in column %(column)s, beyond the %(max)s columns a roster may have; "
    "delete the cells right of the roster."
)
MSG_CELL_TOO_LONG = N_(
    "A cell in this row has %(length)s characters; a cell may have at most %(max)s."
)
MSG_TOO_MANY = N_("The roster has more than %(max)s couples; split it into smaller files.")
MSG_NO_ROWS = N_("The file has a header row but no couples under it.")
MSG_MISSING_COLUMN = N_("The header has no column %(column)s; use the header row of the template.")
MSG_DOUBLE_COLUMN = N_("The column %(column)s appears more than once in the header.")
MSG_FORMULA = N_("This cell starts like a spreadsheet formula (%(start)s); remove that character.")
MSG_TOO_LONG = N_("Too long: %(length)s characters, at most %(max)s.")
MSG_NIP_CHARS = N_("The NIP may contain only digits: %(value)s")
MSG_NIP_LENGTH = N_("The NIP must have 18 digits; this one has %(count)s.")
MSG_NIP_NUMBER = N_(
    "This NIP was stored as a number and lost its last digits; format the nip column as text "
    "and type the NIP again."
)
MSG_CONTACT = N_("Not a phone number or e-mail address: %(value)s")
MSG_FOREIGN_PHONE = N_("Only Indonesian phone numbers (+62…) are accepted: %(value)s")
MSG_SAME_NIP = N_("Same NIP as row %(first)s.")
MSG_SAME_OFFICIAL = N_("Same official as row %(first)s (same name and organization).")
MSG_SAME_OFFICIAL_CONTACT = N_("Same official's contact as row %(first)s.")
MSG_SAME_SPOUSE_CONTACT = N_("Same spouse's contact as row %(first)s.")
MSG_UNKNOWN_ORG = N_('Unknown organization "%(name)s". Did you mean "%(suggestion)s"?')
MSG_UNKNOWN_ORG_NO_MATCH = N_(
    'Unknown organization "%(name)s": no organization of this region has a similar name.'
)


@dataclass(frozen=True)
class RosterRow:
    row: int  # row number as a spreadsheet shows it (header = row 1)
    organization: str
    official_name: str
    nip: str | None  # 18 digits, or None
    position: str | None  # column "jabatan"
    official_contact: str | None  # normalized phone "+62…" or lower-cased e-mail
    spouse_name: str
    spouse_contact: str | None


@dataclass(frozen=True)
class RosterProblem:
    row: int  # spreadsheet row number (1 = header)
    column: str | None  # the template column name, or None for the whole row or file
    message: str  # English message id with %(name)s placeholders
    values: dict = field(default_factory=dict)


@dataclass
class RosterParse:
    rows: list[RosterRow] = field(default_factory=list)
    problems: list[RosterProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# ---------------------------------------------------------------- phones and e-mail

_PHONE_TEXT = re.compile(r"\+?[0-9 ().\-]+")
_EMAIL = re.compile(
    r"[A-Za-z0-9_%+'\-]+(?:\.[A-Za-z0-9_%+'\-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}"
)


def normalize_phone(text: str) -> str | None:
    """An Indonesian phone number as ``+62`` and the national number without its leading 0
    ("0812 3456 789", "+62 812-3456-789", "62812345678", "(0812) 3456-789" all give
    "+628123456789"), or None when the text is not one. A mobile number that lost its leading
    0 in a spreadsheet ("812345678") is accepted too."""
    text = text.strip()
    if not _PHONE_TEXT.fullmatch(text):
        return None
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        if not digits.startswith("62"):
            return None
        national = digits[2:].removeprefix("0")  # "+62 (0)812…"
    elif digits.startswith("0062"):
        national = digits[4:].removeprefix("0")
    elif digits.startswith("00"):
        return None
    elif digits.startswith("0"):
        national = digits[1:]
    elif digits.startswith("62"):
        national = digits[2:].removeprefix("0")
    elif digits.startswith("8"):
        national = digits
    else:
        return None
    if not PHONE_MIN <= len(national) <= PHONE_MAX or national.startswith("0"):
        return None
    return "+62" + national


def normalize_contact(text: str) -> str | None:
    """A phone number as ``+62…`` or an e-mail address in lower case; None if it is neither
    (the roster's contact columns, and a participant correcting their own)."""
    return normalize_phone(text) or _normalize_email(text)


def _normalize_email(text: str) -> str | None:
    if len(text) > MAX_TEXT or not _EMAIL.fullmatch(text):
        return None
    return text.lower()


# ---------------------------------------------------------------- reading the file


class _Unreadable(Exception):
    """The file cannot be read on: carries the one problem to report, on row 1 when it is
    about the file as a whole, else on the row where reading stopped."""

    def __init__(self, message: str, values: dict | None = None, *, row: int = 1) -> None:
        super().__init__(message)
        self.problem = RosterProblem(row=row, column=None, message=message, values=values or {})


def _column_letter(index: int) -> str:
    """A column as a spreadsheet names it (1 = A, 27 = AA), however far right it is."""
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _check_cell(number: int, column: int, text: str) -> None:
    """Refuse a non-blank cell right of MAX_COLUMNS or longer than MAX_CELL (column from 1)."""
    if column > MAX_COLUMNS:
        raise _Unreadable(
            MSG_TOO_MANY_COLUMNS,
            {"column": _column_letter(column), "max": MAX_COLUMNS},
            row=number,
        )
    if len(text) > MAX_CELL:
        raise _Unreadable(MSG_CELL_TOO_LONG, {"length": len(text), "max": MAX_CELL}, row=number)


@dataclass
class _Table:
    """The header (first non-blank row), up to ``max_rows`` + 1 non-blank data rows, each with
    its spreadsheet row number, and the (row, index) of cells holding a number that lost
    digits."""

    max_rows: int
    header: tuple[int, list[str]] | None = None
    body: list[tuple[int, list[str]]] = field(default_factory=list)
    lossy: set[tuple[int, int]] = field(default_factory=set)

    def collect(self, rows: Iterable[tuple[int, list[str]]]) -> _Table:
        for number, cells in rows:
            if all(not cell.strip() for cell in cells):
                continue  # a blank row: skipped, but it keeps its number
            if self.header is None:
                self.header = (number, cells)
                continue
            self.body.append((number, cells))
            if len(self.body) > self.max_rows:
                break  # one more than allowed is enough to say "too many"; read no further
        return self


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")  # Excel's "Unicode text"
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")  # cp1252 leaves five bytes undefined; latin-1 never fails


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)?")


class _LineTooLong(Exception):
    """A record of a CSV file is longer than MAX_LINE characters."""


class _CsvLines:
    """The physical lines of a CSV text, handed to ``csv.reader`` one by one as it asks.

    Between two records, a run of blank lines (spaces, tabs and delimiters only: what a
    spreadsheet writes under its data) is stepped over in one scan and only counted, so a file
    of millions of empty lines costs no more than reading it once; and the lines of one record
    may have at most MAX_LINE characters together, refused before the reader splits them into
    fields. The reader asks for a record's next line only while the record is open,
    so the caller says when a record is complete with ``record_done()``."""

    def __init__(self, text: str, delimiter: str) -> None:
        self.text = text
        self.pos = 0
        # Blanks and line breaks, as far as they go (one character class: a plain scan).
        self.blanks = re.compile(rf"[ \t\r\n{re.escape(delimiter)}]*")
        self.at_record_start = True
        self.number = 0  # row number of the last complete record
        self.skipped = 0  # blank lines stepped over since then
        self.length = 0  # characters of the record being read

    def __iter__(self) -> _CsvLines:
        return self

    def __next__(self) -> str:
        if self.at_record_start:
            self.at_record_start = False
            self.length = 0
            start, text = self.pos, self.text
            run = self.blanks.match(text, start)
            end = run.end() if run else start
            # up to the run's last line break: only whole blank lines ("\r\n" ends with "\n")
            end = max(text.rfind("\n", start, end), text.rfind("\r", start, end)) + 1
            if end > 0:
                breaks = text.count("\n", start, end) + text.count("\r", start, end)
                self.skipped += breaks - text.count("\r\n", start, end)
                self.pos = end
        if self.pos >= len(self.text):
            raise StopIteration
        line = _LINE.match(self.text, self.pos)
        assert line is not None  # the pattern matches anywhere
        self.pos = line.end()
        self.length += line.end() - line.start()
        if self.length > MAX_LINE:
            raise _LineTooLong
        return line.group()

    def record_done(self) -> int:
        """The row number of the record just read (blank lines before it count as rows)."""
        self.number += self.skipped + 1
        self.skipped = 0
        self.at_record_start = True
        return self.number


def _read_csv(data: bytes, max_rows: int) -> _Table:
    text = _decode(data)
    if "\x00" in text:
        raise _Unreadable(MSG_BAD_CSV)
    lines = re.split(r"\r\n|\r|\n", text[:65536])
    first_line = next((line for line in lines if line.strip(" \t,;")), "")  # the header's
    delimiter = max((",", ";", "\t"), key=first_line.count)
    source = _CsvLines(text, delimiter)
    # A spreadsheet shows one record (even with a quoted line break inside) as one row.
    reader = csv.reader(source, delimiter=delimiter)
    # Records the reader parses, blank ones it could not step over included ("","",…).
    max_records = CSV_RECORDS_PER_ROW * (max_rows + 1)

    def rows() -> Iterator[tuple[int, list[str]]]:
        for records, cells in enumerate(reader, start=1):
            number = source.record_done()
            if records > max_records:
                raise _Unreadable(MSG_TOO_MANY_LINES, {"max": max_records}, row=number)
            if len(cells) > MAX_COLUMNS or max(map(len, cells), default=0) > MAX_CELL:
                for index, cell in enumerate(cells):
                    if cell.strip():
                        _check_cell(number, index + 1, cell)
            yield number, cells

    try:
        return _Table(max_rows).collect(rows())
    except _LineTooLong as exc:
        row = source.number + source.skipped + 1
        raise _Unreadable(MSG_LINE_TOO_LONG, {"max": MAX_LINE}, row=row) from exc
    except csv.Error as exc:
        raise _Unreadable(MSG_BAD_CSV) from exc


def _cell_text(value: object) -> tuple[str, bool]:
    """A cell's value as text, and whether it is a number that lost digits (a spreadsheet
    keeps 15 significant digits, an 18-digit NIP typed as a number does not survive)."""
    if value is None:
        return "", False
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), False
    if isinstance(value, int):
        return str(value), False
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            # repr keeps the digits the spreadsheet stored, not the float's binary noise
            return str(int(Decimal(repr(value)))), abs(value) >= 1e15
        return repr(value), False
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat(), False
        return value.isoformat(sep=" "), False
    if isinstance(value, date | time):
        return value.isoformat(), False
    return str(value), False


def _xlsx_elements(max_rows: int) -> int:
    """The XML elements an XLSX file may hold in all. A roster needs about 22 a row in seven
    columns (the row; each cell and its value, or its inline string and text) or 29 with a
    shared string per cell, and a few thousand for the styles, theme and the rest; reading an
    element costs openpyxl a few microseconds."""
    return XLSX_BASE_ELEMENTS + XLSX_ELEMENTS_PER_ROW * (max_rows + 1)


def _check_archive(data: bytes, max_rows: int) -> None:
    """Refuse an XLSX (a zip of XML) whose parts would take long to read, before anything
    parses them: too many parts, too large unpacked in all, a part packed far more tightly
    than XML ever is (a zip bomb), or more XML elements than a roster has. The declared sizes
    can be trusted: ``zipfile`` unpacks no more than a part declares and then checks its CRC.
    Openpyxl reads the shared strings and styles in full and the first lines of every sheet
    when it opens a workbook; counting the elements (``<`` not followed by ``/``) of every part
    first, at the speed of unpacking, bounds all of that work and the reading of the sheet."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
            if len(parts) > MAX_XLSX_PARTS:
                raise _Unreadable(MSG_XLSX_PARTS, {"max": MAX_XLSX_PARTS})
            if sum(part.file_size for part in parts) > MAX_XLSX_UNPACKED:
                raise _Unreadable(MSG_XLSX_UNPACKED, {"max": _megabytes(MAX_XLSX_UNPACKED)})
            for part in parts:
                if part.file_size > XLSX_RATIO_FROM and part.file_size > MAX_XLSX_RATIO * max(
                    part.compress_size, 1
                ):
                    raise _Unreadable(MSG_XLSX_RATIO, {"max": MAX_XLSX_RATIO})
            budget = _xlsx_elements(max_rows)
            elements = 0
            for part in parts:
                with archive.open(part) as stream:
                    tail = b""  # the last byte of the chunk before, for a "</" cut in two
                    while chunk := stream.read(65536):
                        elements += chunk.count(b"<") - chunk.count(b"</")
                        if tail == b"<" and chunk[:1] == b"/":
                            elements -= 1
                        if elements > budget:
                            raise _Unreadable(MSG_XLSX_ELEMENTS, {"max": budget, "rows": max_rows})
                        tail = chunk[-1:]
    except _Unreadable:
        raise
    except Exception as exc:  # a damaged zip raises many kinds (BadZipFile, zlib.error, …)
        raise _Unreadable(MSG_BAD_XLSX) from exc


def _sheet_rows(workbook: Any, sheet: Any) -> Iterator[tuple[int, list[dict]]]:
    """The rows a worksheet stores, as (row number, cells), in the file's order.

    The cells actually present, never the sheet's declared dimension: openpyxl's read-only
    ``iter_rows`` pads every row to the declared width and yields an empty row for every
    missing row number, so a few kilobytes declaring ``A1:XFD1048576`` mean billions of empty
    cells (even after ``reset_dimensions()``, a real cell in row 1,048,576 means a million
    padding rows). Openpyxl's own sheet parser, which ``iter_rows`` uses underneath, yields only
    the rows stored, each cell with its column and its value converted as ``iter_rows`` would
    (numbers, dates by their style, shared and inline strings, formulas as "=…" text). Its
    work is bounded by the element count ``_check_archive`` allowed."""
    from openpyxl.worksheet._reader import WorkSheetParser

    with sheet._get_source() as source:
        parser = WorkSheetParser(
            source,
            sheet._shared_strings,
            data_only=False,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        yield from parser.parse()


def _read_xlsx(data: bytes, max_rows: int) -> _Table:
    _check_archive(data, max_rows)

    from openpyxl import load_workbook

    table = _Table(max_rows)

    def rows(workbook: Any, sheet: Any) -> Iterator[tuple[int, list[str]]]:
        for number, stored in _sheet_rows(workbook, sheet):
            cells: list[str] = []
            for cell in stored:
                text, lossy = _cell_text(cell["value"])
                if not text.strip():
                    continue  # an empty (perhaps only formatted) cell, wherever it is
                column = cell["column"]
                _check_cell(number, column, text)
                if len(cells) < column:
                    cells.extend([""] * (column - len(cells)))
                cells[column - 1] = text
                if lossy:
                    table.lossy.add((number, column - 1))
            yield number, cells

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
            try:
                if workbook.worksheets:  # only the first sheet is the roster
                    table.collect(rows(workbook, workbook.worksheets[0]))
            finally:
                workbook.close()
    except _Unreadable:
        raise
    except Exception as exc:  # openpyxl raises many kinds on a damaged workbook
        raise _Unreadable(MSG_BAD_XLSX) from exc
    return table


def _megabytes(size: int) -> int | str:
    """A size in MB as a message shows it: 5, or 1.5 for a limit set to a fraction."""
    return size // MIB if size % MIB == 0 else f"{size / MIB:.3g}"


def _read(
    data: bytes, filename: str, *, max_bytes: int, max_rows: int
) -> tuple[_Table, tuple[int, list[str]]]:
    """The table and its header (number, cells). Raises _Unreadable."""
    if len(data) > max_bytes:
        raise _Unreadable(MSG_TOO_BIG, {"max": _megabytes(max_bytes)})
    if not data.strip():
        raise _Unreadable(MSG_EMPTY)
    if data.startswith(ZIP_MAGIC) or filename.lower().endswith(".xlsx"):
        table = _read_xlsx(data, max_rows)
    elif data.startswith(OLE_MAGIC):
        raise _Unreadable(MSG_XLS)
    else:
        table = _read_csv(data, max_rows)
    if table.header is None:
        raise _Unreadable(MSG_EMPTY)
    return table, table.header


def _header(header: tuple[int, list[str]]) -> tuple[dict[str, int], list[RosterProblem]]:
    """Where each template column is; a problem for each missing (or repeated) one."""
    number, cells = header
    names = [cell.strip().casefold() for cell in cells]
    index: dict[str, int] = {}
    problems = []
    for column in COLUMNS:
        where = [i for i, name in enumerate(names) if name == column]
        if not where:
            problems.append(RosterProblem(number, column, MSG_MISSING_COLUMN, {"column": column}))
        elif len(where) > 1:
            problems.append(RosterProblem(number, column, MSG_DOUBLE_COLUMN, {"column": column}))
        else:
            index[column] = where[0]
    return index, problems


# ---------------------------------------------------------------- checking the rows


def _same(text: str) -> str:
    return " ".join(text.split()).casefold()


def _shown(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _looks_like_formula(text: str, column: str) -> bool:
    """A cell a spreadsheet would run: "=…", or "+", "-", "@" and then not a phone number."""
    if text.startswith("="):
        return True
    if text[:1] not in ("+", "-", "@"):
        return False
    if column in CONTACT_COLUMNS and _PHONE_TEXT.fullmatch(text):
        return False  # only digits and phone punctuation: refused as a contact, with a hint
    return normalize_phone(text) is None


@dataclass
class _Seen:
    """The first row of each NIP, official and contact, to report repeats."""

    nip: dict[str, int] = field(default_factory=dict)
    official: dict[tuple[str, str], list[tuple[int, str | None]]] = field(default_factory=dict)
    contact: dict[str, dict[str, int]] = field(
        default_factory=lambda: {column: {} for column in CONTACT_COLUMNS}
    )


class _RowCheck:
    """The checks of one data row; ``problems`` is empty when the row is good."""

    def __init__(self, number: int, cells: list[str], index: dict[str, int]) -> None:
        self.number = number
        self.problems: list[RosterProblem] = []
        self.value: dict[str, str | None] = {}
        for column in COLUMNS:
            i = index[column]
            text = cells[i] if i < len(cells) else ""
            if not text.isascii():
                # without bidirectional overrides: invisible, they would make a name (and the
                # report quoting a refused cell) read as something else
                text = clean_text(text)
            text = text.strip()
            if text == "-":  # a common way to write "nothing here"
                text = ""
            self.value[column] = text

    def problem(self, column: str | None, message: str, **values: str | int) -> None:
        self.problems.append(RosterProblem(self.number, column, message, values))
        if column is not None:
            self.value[column] = None  # refused: no further checks on it

    def run(
        self, lossy: set[tuple[int, int]], index: dict[str, int], seen: _Seen
    ) -> RosterRow | None:
        for column in COLUMNS:
            text = self.value[column]
            if text and _looks_like_formula(text, column):
                self.problem(column, MSG_FORMULA, start=text[0])
            elif column == "nip" and (self.number, index[column]) in lossy:
                self.problem(column, MSG_NIP_NUMBER)
        for column in TEXT_COLUMNS:
            text = self.value[column]
            if text is None:
                continue
            if not text and column in REQUIRED:
                self.problem(column, REQUIRED[column])
            elif len(text) > MAX_TEXT:
                self.problem(column, MSG_TOO_LONG, length=len(text), max=MAX_TEXT)
        nip = self._nip(seen)
        official_contact = self._contact("kontak_pejabat", seen)
        spouse_contact = self._contact("kontak_pasangan", seen)
        organization, official = self.value["organisasi"], self.value["nama_pejabat"]
        if organization and official:
            # Two namesakes in one organization are told apart only by two different NIPs.
            earlier = seen.official.setdefault((_same(organization), _same(official)), [])
            same = [row for row, other in earlier if not (nip and other and nip != other)]
            if same:
                self.problem("nama_pejabat", MSG_SAME_OFFICIAL, first=same[0])
            else:
                earlier.append((self.number, nip))
        if self.problems:
            return None
        return RosterRow(
            row=self.number,
            organization=self._kept("organisasi"),
            official_name=self._kept("nama_pejabat"),
            nip=nip,
            position=self.value["jabatan"] or None,
            official_contact=official_contact,
            spouse_name=self._kept("nama_pasangan"),
            spouse_contact=spouse_contact,
        )

    def _kept(self, column: str) -> str:
        """The text of a cell that passed its checks (only a refused cell is ``None``)."""
        text = self.value[column]
        if text is None:
            raise RuntimeError(f"row {self.number}: column {column} was refused without a problem")
        return text

    def _nip(self, seen: _Seen) -> str | None:
        text = self.value["nip"]
        if not text:
            return None
        digits = "".join(text.split())
        if not (digits.isascii() and digits.isdigit()):
            if re.fullmatch(r"\d(?:[.,]\d+)?[eE]\+?\d+", digits):
                self.problem("nip", MSG_NIP_NUMBER)  # "1,98501E+17": a spreadsheet's CSV
            else:
                self.problem("nip", MSG_NIP_CHARS, value=_shown(text))
            return None
        if len(digits) != NIP_DIGITS:
            self.problem("nip", MSG_NIP_LENGTH, count=len(digits))
            return None
        if digits in seen.nip:
            self.problem("nip", MSG_SAME_NIP, first=seen.nip[digits])
        else:
            seen.nip[digits] = self.number
        return digits

    def _contact(self, column: str, seen: _Seen) -> str | None:
        text = self.value[column]
        if not text:
            return None
        normalized = normalize_contact(text)
        if normalized is None:
            foreign = (
                text.startswith("+")
                and _PHONE_TEXT.fullmatch(text)
                and not re.sub(r"\D", "", text).startswith("62")
            )
            self.problem(column, MSG_FOREIGN_PHONE if foreign else MSG_CONTACT, value=_shown(text))
            return None
        first = seen.contact[column]
        if normalized in first:
            same = (
                MSG_SAME_OFFICIAL_CONTACT if column == "kontak_pejabat" else MSG_SAME_SPOUSE_CONTACT
            )
            self.problem(column, same, first=first[normalized])
        else:
            first[normalized] = self.number
        return normalized


def _sorted(problems: list[RosterProblem]) -> list[RosterProblem]:
    return sorted(problems, key=lambda p: (p.row, p.column or ""))


def parse_roster(
    data: bytes, filename: str = "", *, max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS
) -> RosterParse:
    """Read and check a roster: CSV (, ; or tab — UTF-8 with or without BOM, UTF-16 with BOM,
    else cp1252) or XLSX (the first worksheet). At most ``max_bytes`` bytes and ``max_rows``
    couples (the settings ``max_upload_bytes`` and ``max_roster_rows``); reading stops at the
    first limit a file goes beyond (see MAX_COLUMNS and those after it), with one problem that
    names the limit. Otherwise every problem is collected; rows come back only when they have
    none. Never raises on bad input."""
    try:
        table, header = _read(data, filename, max_bytes=max_bytes, max_rows=max_rows)
    except _Unreadable as exc:
        return RosterParse(rows=[], problems=[exc.problem])
    index, problems = _header(header)
    if problems:
        return RosterParse(rows=[], problems=_sorted(problems))
    if len(table.body) > max_rows:
        return RosterParse(
            rows=[], problems=[RosterProblem(1, None, MSG_TOO_MANY, {"max": max_rows})]
        )
    if not table.body:
        return RosterParse(rows=[], problems=[RosterProblem(header[0], None, MSG_NO_ROWS, {})])
    rows: list[RosterRow] = []
    seen = _Seen()
    for number, cells in table.body:
        check = _RowCheck(number, cells, index)
        row = check.run(table.lossy, index, seen)
        problems.extend(check.problems)
        if row is not None:
            rows.append(row)
    return RosterParse(rows=rows, problems=_sorted(problems))


# ---------------------------------------------------------------- organizations

# How alike an unknown organization name must be to a known one to be suggested: the
# normalized Indel similarity of rapidfuzz (``fuzz.ratio``, 0–100) of the two names, both
# case-folded with their whitespace collapsed. At 80 a typo or a missing word is suggested
# ("Dinas Pendidkan" → "Dinas Pendidikan" scores 97, "Badan Pendapatan" → "Badan Pendapatan
# Daerah" 82), another agency of the same kind is not ("Dinas Pertanian" → "Dinas Pendidikan"
# scores 77).
ORGANIZATION_SUGGESTION_CUTOFF = 80.0


@dataclass
class OrganizationMatch:
    """The organizations of a roster against those known in the cohort's region."""

    new: list[str] = field(default_factory=list)  # to create: one spelling each, file order
    unknown: list[str] = field(default_factory=list)  # refused (not created), file order
    problems: list[RosterProblem] = field(default_factory=list)


def match_organizations(
    rows: Iterable[RosterRow], known: Iterable[str], *, create: bool
) -> OrganizationMatch:
    """Match each row's organization to a known name, ignoring case and runs of whitespace
    ("dinas  PENDIDIKAN " is "Dinas Pendidikan"). An unknown name is to be created when
    ``create`` is set (once, with its whitespace collapsed, however many rows name it);
    otherwise it is a problem on the row's ``organisasi`` cell that suggests the closest
    known name (at least ``ORGANIZATION_SUGGESTION_CUTOFF`` alike)."""
    names = {_same(name): name for name in known}
    result = OrganizationMatch()
    seen: dict[str, str | None] = {}  # normalized unknown name -> its suggestion
    for row in rows:
        key = _same(row.organization)
        if key in names:
            continue
        if create:
            if key not in seen:
                seen[key] = None
                result.new.append(" ".join(row.organization.split()))
            continue
        if key not in seen:
            best = process.extractOne(
                key,
                {name: norm for norm, name in names.items()},
                scorer=fuzz.ratio,
                processor=None,
                score_cutoff=ORGANIZATION_SUGGESTION_CUTOFF,
            )
            seen[key] = best[2] if best else None
            result.unknown.append(" ".join(row.organization.split()))
        suggestion = seen[key]
        shown = _shown(" ".join(row.organization.split()))
        if suggestion is None:
            result.problems.append(
                RosterProblem(row.row, "organisasi", MSG_UNKNOWN_ORG_NO_MATCH, {"name": shown})
            )
        else:
            result.problems.append(
                RosterProblem(
                    row.row,
                    "organisasi",
                    MSG_UNKNOWN_ORG,
                    {"name": shown, "suggestion": suggestion},
                )
            )
    return result


# ---------------------------------------------------------------- the template


def template_csv() -> bytes:
    """The roster template to download: UTF-8 with BOM (so spreadsheets read the accents),
    the header and two example couples, one official with a NIP and one without."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerow(
        [
            "Dinas Pendidikan dan Kebudayaan",
            "Drs. H. Ahmad Fauzi, M.Pd.",
            "197503122000031002",
            "Kepala Dinas",
            "0812 3456 7890",
            "Hj. Siti Rahmawati",
            "siti.rahmawati@example.com",
        ]
    )
    writer.writerow(
        [
            "Badan Perencanaan Pembangunan Daerah",
            "Ir. Bambang Sutrisno, M.T.",
            "",
            "Sekretaris",
            "bambang.sutrisno@example.go.id",
            "Rina Kartika Sari",
            "+62 813-2222-3333",
        ]
    )
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")
