"""What a roster file may cost to read: the cells actually stored (never a declared dimension),
the size, the zip, the rows, the columns and the length of a cell, each limit refused with a
message that names it, on the row where it applies, and nothing written."""

from __future__ import annotations

import csv
import functools
import hashlib
import html
import io
import re
import time
import zipfile

import hypothesis
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlmodel import col

from app.accounts.models import User
from app.cohorts import roster
from app.cohorts.models import ActivationCode, Couple, Organization
from app.cohorts.roster import (
    COLUMNS,
    MAX_BYTES,
    MAX_CELL,
    MAX_COLUMNS,
    MAX_ROWS,
    RosterParse,
    RosterProblem,
    parse_roster,
)
from app.demo import ORGANIZATIONS
from app.i18n import translations
from tests.conftest import csrf_of, login
from tests.factories import make_cohort, make_user

PW = "kata-sandi-uji-123"
SHEET = "xl/worksheets/sheet1.xml"


def couple(number: int = 0, **changes: str) -> list[str]:
    """One good row (by template column name), different for each ``number``."""
    cells = {
        "organisasi": "Dinas Sosial",
        "nama_pejabat": f"Budi Santoso {number}",
        "nip": "",
        "jabatan": "Kepala Dinas",
        "kontak_pejabat": "",
        "nama_pasangan": f"Sari Wulandari {number}",
        "kontak_pasangan": "",
    }
    cells.update(changes)
    return [cells[c] for c in COLUMNS]


def csv_roster(*rows: list[str], header: list[str] | tuple[str, ...] = COLUMNS) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def xlsx(rows: dict[int, list], *, more_sheets: dict[str, dict[int, list]] | None = None) -> bytes:
    """A workbook written by openpyxl: the first sheet's rows by row number (1 = header)."""
    wb = Workbook()
    sheets = [(wb.active, rows)]
    for title, other in (more_sheets or {}).items():
        sheets.append((wb.create_sheet(title), other))
    for ws, cells in sheets:
        for number, values in cells.items():
            for column, value in enumerate(values, start=1):
                ws.cell(row=number, column=column, value=value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def rewrite(data: bytes, member: str, change, *, more: dict[str, bytes] | None = None) -> bytes:
    """The same zip with one member's bytes changed by ``change``, and ``more`` members."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == member:
                content = change(content)
            dst.writestr(info.filename, content)
        for name, content in (more or {}).items():
            dst.writestr(name, content)
    return out.getvalue()


def with_rows(data: bytes, stored: bytes) -> bytes:
    """The workbook with more stored rows, written as XML, at the end of its first sheet."""
    return rewrite(data, SHEET, lambda xml: xml.replace(b"</sheetData>", stored + b"</sheetData>"))


def xml_row(number: int, cells: list[str]) -> bytes:
    """A stored row as another program may write it: inline strings, any length (openpyxl
    itself cuts a cell to the 32,767 characters a spreadsheet cell holds)."""
    out = [f'<row r="{number}">']
    for column, text in enumerate(cells, start=1):
        ref = f"{roster._column_letter(column)}{number}"
        out.append(f'<c r="{ref}" t="inlineStr"><is><t>{html.escape(text)}</t></is></c>')
    return ("".join(out) + "</row>").encode()


def unique_text(length: int) -> str:
    """Text that packs like real text (not a run of one letter, which packs a thousandfold)."""
    chunks = (hashlib.sha256(str(i).encode()).hexdigest() for i in range(length // 64 + 1))
    return "".join(chunks)[:length]


def only_problem(parsed: RosterParse) -> RosterProblem:
    assert not parsed.rows and len(parsed.problems) == 1, parsed.problems
    return parsed.problems[0]


def shown(problem: RosterProblem) -> str:
    """The message as a facilitator reads it (Indonesian, the default language)."""
    return translations("id").gettext(problem.message) % problem.values


HEADER = {1: list(COLUMNS)}


# ---------------------------------------------------------------- the declared dimension


def bomb() -> bytes:
    """The finding: data only in rows 1 and 20000, the sheet declaring A1:XFD1048576 (openpyxl
    read-only mode pads every row to the declared width, and yields every row up to it)."""
    data = xlsx({**HEADER, 20000: couple()})
    patched = rewrite(
        data,
        SHEET,
        lambda xml: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', xml),
    )
    assert b'<dimension ref="A1:XFD1048576"' in zipfile.ZipFile(io.BytesIO(patched)).read(SHEET)
    assert len(patched) < 10_000
    return patched


def test_a_sheet_declaring_a_million_rows_is_read_by_the_cells_it_stores():
    data = bomb()
    started = time.perf_counter()
    parsed = parse_roster(data, "peserta.xlsx")
    elapsed = time.perf_counter() - started
    # The one timing assertion of this file, with a generous bound: only a guard against the
    # behaviour it replaces (50 s for a sheet declaring 20,000 rows, about 40 minutes for this
    # one); reading two stored rows takes milliseconds.
    assert elapsed < 2, f"{elapsed:.1f} s"
    assert parsed.ok, parsed.problems
    assert [(r.row, r.official_name) for r in parsed.rows] == [(20000, "Budi Santoso 0")]


def test_a_cell_in_the_last_row_and_column_is_refused_by_where_it_is():
    data = with_rows(
        xlsx({**HEADER, 2: couple()}),
        b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>',
    )
    problem = only_problem(parse_roster(data, "peserta.xlsx"))
    assert (problem.row, problem.column) == (1048576, None)
    assert problem.values == {"column": "XFD", "max": MAX_COLUMNS}
    assert "XFD" in shown(problem) and "50" in shown(problem)


def test_empty_formatted_cells_far_right_and_far_down_are_not_data():
    far = b"".join(b'<row r="%d"><c r="XFD%d" s="0"/></row>' % (n, n) for n in range(3, 2000))
    data = with_rows(xlsx({**HEADER, 2: couple()}), far + b'<row r="900000"/>')
    parsed = parse_roster(data, "peserta.xlsx")
    assert parsed.ok and [r.row for r in parsed.rows] == [2]


def test_only_the_first_sheet_is_read():
    data = xlsx(
        {**HEADER, 2: couple()},
        more_sheets={"Catatan": {1: ["x"] * (MAX_COLUMNS + 5)}},
    )
    parsed = parse_roster(data, "peserta.xlsx")
    assert parsed.ok and [r.official_name for r in parsed.rows] == ["Budi Santoso 0"]


def test_the_largest_roster_allowed_is_within_every_limit():
    data = xlsx(
        {
            **HEADER,
            **{
                n: couple(
                    n,
                    nip=f"1985010120{n:08d}",
                    kontak_pejabat=f"0812{n:07d}",
                    kontak_pasangan=f"pasangan{n}@example.com",
                )
                for n in range(2, MAX_ROWS + 2)
            },
        }
    )
    parsed = parse_roster(data, "peserta.xlsx")
    assert parsed.ok, parsed.problems[:3]
    assert len(parsed.rows) == MAX_ROWS


# ---------------------------------------------------------------- the zip


def test_a_zip_bomb_is_refused_before_it_is_unpacked():
    # 20 MB of spaces between two rows (allowed in XML) pack into about 20 KB
    data = with_rows(xlsx({**HEADER, 2: couple()}), b" " * (20 * 1024 * 1024))
    assert len(data) < 100_000
    problem = only_problem(parse_roster(data, "peserta.xlsx"))
    assert (problem.row, problem.values) == (1, {"max": 100})
    assert "100" in shown(problem)


def test_an_xlsx_too_large_once_unpacked_is_refused():
    # 60 parts of just under 1 MiB: too small each to be judged by how tightly they pack
    part = b" " * (roster.XLSX_RATIO_FROM - 1)
    more = {f"xl/media/image{n}.png": part for n in range(60)}
    data = rewrite(xlsx({**HEADER, 2: couple()}), SHEET, lambda xml: xml, more=more)
    assert len(data) < 200_000
    problem = only_problem(parse_roster(data, "peserta.xlsx"))
    assert (problem.row, problem.values) == (1, {"max": 50})
    assert "50 MB" in shown(problem)


def test_an_xlsx_with_more_elements_than_a_roster_needs_is_refused():
    # 300,000 empty stored rows: 1.2 MB packed, and seconds of parsing each time
    stored = b"".join(b'<row r="%d"/>' % n for n in range(3, 300_003))
    data = with_rows(xlsx({**HEADER, 2: couple()}), stored)
    problem = only_problem(parse_roster(data, "peserta.xlsx"))
    budget = roster.XLSX_BASE_ELEMENTS + roster.XLSX_ELEMENTS_PER_ROW * (MAX_ROWS + 1)
    assert (problem.row, problem.values) == (1, {"max": budget, "rows": MAX_ROWS})
    assert str(MAX_ROWS) in shown(problem)
    # the budget follows the rows allowed
    small = only_problem(parse_roster(data, "peserta.xlsx", max_rows=10))
    assert small.values["max"] == roster.XLSX_BASE_ELEMENTS + roster.XLSX_ELEMENTS_PER_ROW * 11


def test_an_xlsx_of_too_many_parts_is_refused():
    data = xlsx({**HEADER, 2: couple()})
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
        for n in range(roster.MAX_XLSX_PARTS):
            dst.writestr(f"xl/media/image{n}.png", b"")
    problem = only_problem(parse_roster(out.getvalue(), "peserta.xlsx"))
    assert problem.values == {"max": roster.MAX_XLSX_PARTS}


# ---------------------------------------------------------------- size, rows, columns, cells


def test_a_file_over_the_size_limit_names_the_limit():
    data = csv_roster(couple()) + b"\r\n" * (1024 * 1024)
    problem = only_problem(parse_roster(data, max_bytes=1024 * 1024))
    assert (problem.row, problem.values) == (1, {"max": 1})
    assert "1 MB" in shown(problem)
    assert parse_roster(data, max_bytes=len(data)).ok
    odd = only_problem(parse_roster(data, max_bytes=1024 * 1024 + 512 * 1024 - 1))
    assert parse_roster(data).ok and odd.values == {"max": "1.5"}
    assert MAX_BYTES == 5 * 1024 * 1024  # the setting's default, APP_MAX_UPLOAD_BYTES


def test_one_couple_more_than_allowed_is_refused_and_reading_stops_there():
    rows = [couple(n) for n in range(MAX_ROWS + 1)]
    problem = only_problem(parse_roster(csv_roster(*rows)))
    assert (problem.row, problem.values) == (1, {"max": MAX_ROWS})
    assert "5000" in shown(problem)
    assert parse_roster(csv_roster(*rows[:MAX_ROWS])).ok
    # what comes after the couple too many is not read: a line that would be refused
    after = csv_roster(*rows) + b"x" * (roster.MAX_LINE + 1)
    assert only_problem(parse_roster(after)).values == {"max": MAX_ROWS}


def test_the_row_limit_is_a_parameter_for_both_formats():
    rows = [couple(n) for n in range(4)]
    for data in (csv_roster(*rows), xlsx({**HEADER, **dict(enumerate(rows, start=2))})):
        problem = only_problem(parse_roster(data, "peserta", max_rows=3))
        assert problem.values == {"max": 3}
        assert len(parse_roster(data, "peserta", max_rows=4).rows) == 4


def test_blank_rows_do_not_count_against_the_row_limit():
    blank = b",,,,,,\r\n" * 20_000 + b"\r\n" * 20_000 + b" \t \n" * 100
    data = csv_roster(couple(1)) + blank + csv_roster(couple(2), header=couple(3))
    parsed = parse_roster(data, max_rows=3)
    assert parsed.ok
    assert [r.row for r in parsed.rows] == [2, 40_103, 40_104]


def test_a_huge_cell_is_refused_with_its_row():
    big = unique_text(1024 * 1024)
    data = with_rows(xlsx({**HEADER, 2: couple()}), xml_row(3, couple(1, nama_pejabat=big)))
    problem = only_problem(parse_roster(data, "peserta.xlsx"))
    assert (problem.row, problem.column) == (3, None)
    assert problem.values == {"length": 1024 * 1024, "max": MAX_CELL}
    assert "32767" in shown(problem)


def test_a_csv_cell_or_line_too_long_is_refused_with_its_row():
    cell = csv_roster(couple(), couple(1, jabatan="x" * (MAX_CELL + 1)))
    problem = only_problem(parse_roster(cell))
    assert (problem.row, problem.values) == (3, {"length": MAX_CELL + 1, "max": MAX_CELL})
    # a 1 MB cell: its line is refused before the line is split into fields
    line = csv_roster(couple(), couple(1, jabatan=unique_text(1024 * 1024)))
    problem = only_problem(parse_roster(line))
    assert (problem.row, problem.values) == (3, {"max": roster.MAX_LINE})
    assert "65536" in shown(problem)
    # a quoted cell that never ends is one record: refused once it is too long
    unclosed = csv_roster(couple()) + b'Dinas,"Budi\r\n' + b"abc\r\n" * 20_000
    problem = only_problem(parse_roster(unclosed))
    assert (problem.row, problem.values) == (3, {"max": roster.MAX_LINE})


def test_a_cell_beyond_the_last_column_allowed_is_refused_with_its_row():
    wide = couple() + [""] * (MAX_COLUMNS - len(COLUMNS)) + ["catatan"]
    problem = only_problem(parse_roster(csv_roster(couple(1), wide)))
    assert (problem.row, problem.values) == (3, {"column": "AY", "max": MAX_COLUMNS})
    problem = only_problem(parse_roster(xlsx({**HEADER, 2: couple(1), 3: wide}), "a.xlsx"))
    assert (problem.row, problem.values) == (3, {"column": "AY", "max": MAX_COLUMNS})
    # empty cells further right (a spreadsheet writes them after a stray keystroke) are not
    trailing = csv_roster(couple(1), couple() + [""] * 500)
    assert parse_roster(trailing).ok


def test_blank_records_that_cannot_be_skipped_at_once_are_counted():
    data = csv_roster(couple()) + b'"","","","","","",""\r\n' * 60_000
    problem = only_problem(parse_roster(data))
    limit = roster.CSV_RECORDS_PER_ROW * (MAX_ROWS + 1)
    assert (problem.row, problem.values) == (limit + 1, {"max": limit})


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_the_encodings_a_spreadsheet_saves(encoding):
    text = csv_roster(couple(nama_pasangan="Siti Ñurhaliza")).decode()
    if encoding == "utf-16":
        text = text.replace(",", "\t")  # Excel's "Unicode text"
    parsed = parse_roster(text.encode(encoding))
    assert parsed.ok and parsed.rows[0].spouse_name == "Siti Ñurhaliza"


BLANK_LINES = st.lists(st.sampled_from(["\r\n", "\n", "\r", " \r\n", ",,,\n", "\t,\r"]))


@given(st.lists(st.tuples(BLANK_LINES, st.booleans()), min_size=1, max_size=8))
@hypothesis.settings(max_examples=150, deadline=None)
def test_rows_keep_the_numbers_the_csv_reader_gives_them(parts):
    """Runs of blank lines are stepped over in bulk, but every row keeps the number it has
    when each line is read one by one (quoted line breaks included)."""
    text = ",".join(COLUMNS) + "\r\n"
    for n, (blanks, quoted) in enumerate(parts):
        position = '"Kepala\r\nDinas"' if quoted else "Kepala"
        text += "".join(blanks) + f"Dinas Sosial,Budi {n},,{position},,Sari {n},\r\n"
    expected = [
        number
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline="")), start=1)
        if len(cells) > 1 and cells[1].startswith("Budi")
    ]
    parsed = parse_roster(text.encode())
    assert parsed.ok, parsed.problems
    assert [r.row for r in parsed.rows] == expected


# ---------------------------------------------------------------- names


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_bidirectional_overrides_are_removed_from_names():
    row = couple(
        organisasi="Dinas\u202e Sosial",
        nama_pejabat=f"Budi {BIDI}Santoso",
        jabatan="\u2066Kepala\u2069 Dinas",
        nama_pasangan="Sari\u202d",
        kontak_pejabat="0812\u202e3456789",
    )
    for data in (csv_roster(row), xlsx({**HEADER, 2: row})):
        parsed = parse_roster(data, "peserta")
        assert parsed.ok, parsed.problems
        got = parsed.rows[0]
        assert (got.organization, got.official_name, got.position, got.spouse_name) == (
            "Dinas Sosial",
            "Budi Santoso",
            "Kepala Dinas",
            "Sari",
        )
        assert got.official_contact == "+628123456789"


# ---------------------------------------------------------------- through the page


@pytest.fixture
def fasi(client, mini, settings):
    user = make_user(mini, settings, "rina", "facilitator")
    cohort = make_cohort(mini, "uji", facilitator=user)
    with mini.write() as session:
        session.add_all(Organization(region_id=cohort.region_id, name=n) for n in ORGANIZATIONS)
    login(client, "rina", PW)
    return client


def upload(client, data: bytes, name: str, action: str = "import"):
    page = client.get("/facilitator/cohorts/uji/import")
    return client.post(
        "/facilitator/cohorts/uji/import",
        data={"csrf_token": csrf_of(page.text), "action": action, "create_organizations": "1"},
        files={"file": (name, data, "application/octet-stream")},
    )


def stored(db) -> tuple[int, int, int, int]:
    with db.read() as session:
        return tuple(
            session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Couple, User, ActivationCode, Organization)
        )


@functools.cache
def hostile_files() -> dict[str, tuple[bytes, str, int, dict]]:
    """Each file, its name, the row the report names, and the values of its message."""
    good = {**HEADER, 2: couple()}
    return {
        "zip bomb": (
            with_rows(xlsx(good), b" " * (20 * 1024 * 1024)),
            "peserta.xlsx",
            1,
            {"max": 100},
        ),
        "elements": (
            with_rows(xlsx(good), b"".join(b'<row r="%d"/>' % n for n in range(3, 300_003))),
            "peserta.xlsx",
            1,
            {
                "max": roster.XLSX_BASE_ELEMENTS + roster.XLSX_ELEMENTS_PER_ROW * (MAX_ROWS + 1),
                "rows": MAX_ROWS,
            },
        ),
        "rows": (
            csv_roster(*(couple(n) for n in range(MAX_ROWS + 1))),
            "peserta.csv",
            1,
            {"max": MAX_ROWS},
        ),
        "huge cell": (
            with_rows(xlsx(good), xml_row(3, couple(1, nama_pasangan=unique_text(1024 * 1024)))),
            "peserta.xlsx",
            3,
            {"length": 1024 * 1024, "max": MAX_CELL},
        ),
        "columns": (
            xlsx({**good, 4: couple(2) + [None] * (MAX_COLUMNS + 10) + ["x"]}),
            "peserta.xlsx",
            4,
            {"column": "BP", "max": MAX_COLUMNS},
        ),
        "long line": (
            csv_roster(couple(), couple(1, jabatan=unique_text(1024 * 1024))),
            "peserta.csv",
            3,
            {"max": roster.MAX_LINE},
        ),
    }


@pytest.mark.parametrize(
    "case", ["zip bomb", "elements", "rows", "huge cell", "columns", "long line"]
)
def test_the_facilitator_sees_the_limit_and_nothing_is_written(fasi, mini, case):
    data, name, row, values = hostile_files()[case]
    before = stored(mini)
    response = upload(fasi, data, name)
    assert response.status_code == 422
    problem = only_problem(parse_roster(data, name))
    assert (problem.row, problem.values) == (row, values)
    page = response.text
    assert "Tidak ada yang diimpor" in page
    assert html.escape(shown(problem), quote=False) in page
    assert f'<td class="num">{row}</td>' in page
    assert stored(mini) == before


def test_the_declared_dimension_bomb_through_the_page(fasi, mini):
    before = stored(mini)
    response = upload(fasi, bomb(), "peserta.xlsx", action="check")
    assert response.status_code == 200
    assert "1 pasangan baru" in response.text and "Belum ada yang disimpan" in response.text
    assert stored(mini) == before


def test_a_file_over_the_upload_limit_is_refused_before_it_is_read(fasi, mini):
    data = csv_roster(couple()) + b"\r\n" * (MAX_BYTES // 2)
    before = stored(mini)
    response = upload(fasi, data, "peserta.csv")
    assert response.status_code == 413
    assert "5 MB" in response.text
    assert stored(mini) == before


def test_names_are_stored_without_bidirectional_overrides(fasi, mini):
    data = csv_roster(couple(nama_pejabat="Budi \u202eotnasaS", nama_pasangan="\u2067Sari\u2069"))
    response = upload(fasi, data, "peserta.csv")
    assert response.status_code == 200, response.text[-2000:]
    with mini.read() as session:
        names = session.execute(
            select(col(User.display_name))
            .where(col(User.couple_id).is_not(None))
            .order_by(col(User.username))
        ).scalars()
        assert list(names) == ["Budi otnasaS", "Sari"]
