"""The roster file a facilitator uploads: reading CSV and XLSX, every check, every problem."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, datetime

import hypothesis
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from app.cohorts.roster import (
    COLUMNS,
    MAX_BYTES,
    MAX_ROWS,
    ORGANIZATION_SUGGESTION_CUTOFF,
    RosterParse,
    RosterProblem,
    RosterRow,
    match_organizations,
    normalize_phone,
    parse_roster,
    template_csv,
)

HEADER = ",".join(COLUMNS)
NIP = "198501012010011001"
NIP2 = "197503122000031002"


def roster(*rows: list[str] | tuple[str, ...], delimiter: str = ",", header=COLUMNS) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def couple(**changes: str) -> list[str]:
    """One good row, with some cells changed (by template column name)."""
    cells = {
        "organisasi": "Dinas Sosial",
        "nama_pejabat": "Budi Santoso",
        "nip": "",
        "jabatan": "Kepala Dinas",
        "kontak_pejabat": "",
        "nama_pasangan": "Sari Wulandari",
        "kontak_pasangan": "",
    }
    cells.update(changes)
    return [cells[c] for c in COLUMNS]


def problems_of(parsed: RosterParse) -> list[tuple[int, str | None, str]]:
    return [(p.row, p.column, p.message % p.values) for p in parsed.problems]


def only_problem(parsed: RosterParse) -> RosterProblem:
    assert len(parsed.problems) == 1, parsed.problems
    return parsed.problems[0]


def xlsx(rows: list[list], *, first_sheet_title: str = "Peserta") -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = first_sheet_title
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def rewrite_in_zip(data: bytes, member: str, old: bytes, new: bytes) -> bytes:
    """The same workbook with some bytes of one member replaced (to write a cell the way
    another program would)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == member:
                assert old in content, content[-400:]
                content = content.replace(old, new)
            dst.writestr(info, content)
    return out.getvalue()


# ---------------------------------------------------------------- good files


def test_good_csv_with_commas():
    data = roster(
        couple(
            nip=NIP, kontak_pejabat="0812 3456 789", kontak_pasangan="Sari.Wulandari@Example.COM"
        ),
        couple(organisasi="Bappeda", nama_pejabat="Joko Widodo", jabatan="", nama_pasangan="Ani"),
    )
    parsed = parse_roster(data, "peserta.csv")
    assert parsed.ok and parsed.problems == []
    assert parsed.rows == [
        RosterRow(
            row=2,
            organization="Dinas Sosial",
            official_name="Budi Santoso",
            nip=NIP,
            position="Kepala Dinas",
            official_contact="+628123456789",
            spouse_name="Sari Wulandari",
            spouse_contact="sari.wulandari@example.com",
        ),
        RosterRow(
            row=3,
            organization="Bappeda",
            official_name="Joko Widodo",
            nip=None,
            position=None,
            official_contact=None,
            spouse_name="Ani",
            spouse_contact=None,
        ),
    ]


def test_semicolons_with_quoted_commas_and_semicolons():
    data = (
        ";".join(COLUMNS) + "\n"
        'Dinas Sosial;"Dr. H. Ma\'ruf Amin, M.Si.";;Kepala;;Siti;\n'
        '"Dinas Kesehatan; UPT Puskesmas";Budi;;;;Sari;\n'
    ).encode()
    parsed = parse_roster(data, "peserta.csv")
    assert parsed.ok, parsed.problems
    assert [(r.organization, r.official_name) for r in parsed.rows] == [
        ("Dinas Sosial", "Dr. H. Ma'ruf Amin, M.Si."),
        ("Dinas Kesehatan; UPT Puskesmas", "Budi"),
    ]


def test_utf8_bom_is_not_part_of_the_first_column():
    data = "\ufeff".encode() + roster(couple(nama_pasangan="Siti Ñurhaliza"))
    parsed = parse_roster(data)
    assert parsed.ok, parsed.problems
    assert parsed.rows[0].organization == "Dinas Sosial"
    assert parsed.rows[0].spouse_name == "Siti Ñurhaliza"


def test_quoted_newlines_count_as_one_spreadsheet_row():
    data = (
        HEADER + "\r\n"
        'Dinas Sosial,Budi,,"Kepala Dinas\r\nmerangkap Plt. Sekretaris",,Sari,\r\n'
        "Bappeda,,,,,Ani,\r\n"
    ).encode()
    parsed = parse_roster(data)
    assert parsed.rows[0].position == "Kepala Dinas\r\nmerangkap Plt. Sekretaris"
    # the record with a line break inside is row 2; the next one is row 3, as a spreadsheet
    # shows it
    assert problems_of(parsed) == [(3, "nama_pejabat", "The official's name is empty.")]


def test_blank_lines_are_skipped_but_keep_their_row_numbers():
    data = (
        HEADER + "\n"
        "Dinas Sosial,Budi,,,,Sari,\n"
        "\n"
        "   ,  ,\t, , , , \n"
        ",,,,,,\n"
        "Dinas Kesehatan,Joko,,,,,\n"
        "Bappeda,Agus,,,,Dewi,\n"
    ).encode()
    parsed = parse_roster(data)
    assert [r.row for r in parsed.rows] == [2, 7]
    assert [(p.row, p.column) for p in parsed.problems] == [(6, "nama_pasangan")]


def test_blank_lines_before_the_header():
    data = ("\n ; \n" + ";".join(COLUMNS) + "\nDinas Sosial;Budi;;;;;\n").encode()
    parsed = parse_roster(data)
    assert [(p.row, p.column) for p in parsed.problems] == [(4, "nama_pasangan")]


def test_cp1252_file_with_accents():
    # "’" and "€" are where cp1252 differs from latin-1
    text = HEADER + "\r\nDinas Pariwisata,Ñoño Pérez,,Kepala Bidang €,,Zoë Ma’ruf-Siregar,\r\n"
    data = text.encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    parsed = parse_roster(data, "peserta.csv")
    assert parsed.ok, parsed.problems
    assert parsed.rows[0].official_name == "Ñoño Pérez"
    assert parsed.rows[0].spouse_name == "Zoë Ma’ruf-Siregar"
    assert parsed.rows[0].position == "Kepala Bidang €"


def test_header_is_case_insensitive_in_any_order_with_extra_columns():
    header = ["No", " NAMA_PASANGAN ", "Organisasi", "nip", "Nama_Pejabat", "JABATAN"]
    header += ["kontak_pasangan", "Kontak_Pejabat", "catatan"]
    data = roster(
        ["1", "Sari", "Dinas Sosial", NIP, "Budi", "Kepala", "", "budi@example.go.id", "hadir"],
        header=header,
    )
    parsed = parse_roster(data)
    assert parsed.ok, parsed.problems
    row = parsed.rows[0]
    assert (row.organization, row.official_name, row.spouse_name) == (
        "Dinas Sosial",
        "Budi",
        "Sari",
    )
    assert (row.nip, row.position, row.official_contact) == (NIP, "Kepala", "budi@example.go.id")


def test_tab_separated_text_in_utf16_as_excel_saves_unicode_text():
    text = "\t".join(COLUMNS) + "\r\nDinas Sosial\tBudi\t\t\t\tSiti Ñurhaliza\t\r\n"
    parsed = parse_roster(text.encode("utf-16"))
    assert parsed.ok, parsed.problems
    assert parsed.rows[0].spouse_name == "Siti Ñurhaliza"


def test_names_are_kept_exactly_only_outer_spaces_trimmed():
    names = [
        "Dr. H. Ma'ruf Amin, M.Si.",
        "Ñoño Pérez",
        "Prof. Dr. Ir. Raden Ajeng  Kartini, S.H., M.Hum.",
        "I Gusti Ngurah Rai",
        "Hj. Siti 'Aisyah",
        "Nguyễn Thị Minh Khai",
    ]
    rows = [
        couple(
            organisasi=f'  Dinas ke-{i}, Bidang "A" ',
            nama_pejabat=f"  {name}\t",
            nama_pasangan=f" {name} (istri) ",
        )
        for i, name in enumerate(names)
    ]
    parsed = parse_roster(roster(*rows))
    assert parsed.ok, parsed.problems
    assert [r.official_name for r in parsed.rows] == names
    assert [r.spouse_name for r in parsed.rows] == [f"{n} (istri)" for n in names]
    assert parsed.rows[0].organization == 'Dinas ke-0, Bidang "A"'


def test_a_lone_dash_means_empty():
    parsed = parse_roster(
        roster(couple(nip="-", jabatan="-", kontak_pejabat="-", kontak_pasangan=" - "))
    )
    assert parsed.ok, parsed.problems
    row = parsed.rows[0]
    assert (row.nip, row.position, row.official_contact, row.spouse_contact) == (None,) * 4
    missing = parse_roster(roster(couple(nama_pasangan="-")))
    assert problems_of(missing) == [
        (2, "nama_pasangan", "The spouse's name is empty; every row is one couple.")
    ]


def test_two_thousand_generated_rows():
    rows = [
        couple(
            organisasi=f"Dinas {i % 37}",
            nama_pejabat=f"Pejabat Nomor {i}, S.E.",
            nip=f"19800101200501{i:04d}" if i % 3 else "",
            kontak_pejabat=f"0812 {i:04d} 1234",
            nama_pasangan=f"Pasangan Nomor {i}",
            kontak_pasangan=f"pasangan{i}@example.com",
        )
        for i in range(2000)
    ]
    parsed = parse_roster(b"\xef\xbb\xbf" + roster(*rows, delimiter=";"))
    assert parsed.ok, parsed.problems[:5]
    assert len(parsed.rows) == 2000
    assert parsed.rows[-1].row == 2001
    assert parsed.rows[-1].official_contact == "+6281219991234"
    assert parsed.rows[1].nip == "198001012005010001"


def test_template_parses_without_problems():
    data = template_csv()
    assert data.startswith(b"\xef\xbb\xbf")
    first_line = data[3:].decode("utf-8").splitlines()[0]
    assert first_line == HEADER
    parsed = parse_roster(data, "template-peserta.csv")
    assert parsed.ok, parsed.problems
    assert len(parsed.rows) == 2
    assert [bool(r.nip) for r in parsed.rows] == [True, False]
    assert all(r.official_contact and r.spouse_contact for r in parsed.rows)


# ---------------------------------------------------------------- XLSX


def test_xlsx_first_sheet_with_numbers_dates_and_a_nip_stored_exactly():
    header = list(COLUMNS) + ["tanggal"]
    wb = Workbook()
    first = wb.active
    first.title = "Peserta"
    first.append(header)
    first.append(
        ["Inspektorat", "Ir. Agus Salim", 5, None, 81299998888, "Dewi", None, date(2024, 10, 14)]
    )
    first.append([])
    first.append(["Bappeda", "Budi", None, datetime(2024, 10, 14), None, "Sari", 2.0])
    other = wb.create_sheet("Catatan")
    other.append(["bukan", "daftar"])
    wb.active = 1  # the roster is still read from the first worksheet
    buf = io.BytesIO()
    wb.save(buf)
    # As other programs may: the NIP number written in full (openpyxl, like Excel, keeps only
    # 16 digits), the phone number as a float in scientific notation
    sheet = "xl/worksheets/sheet1.xml"
    data = rewrite_in_zip(buf.getvalue(), sheet, b"<v>5</v>", f"<v>{NIP}</v>".encode())
    data = rewrite_in_zip(data, sheet, b"<v>81299998888</v>", b"<v>8.1299998888E10</v>")
    parsed = parse_roster(data, "peserta.xlsx")
    assert [(p.row, p.column) for p in parsed.problems] == [(4, "kontak_pasangan")]
    assert parsed.problems[0].values == {"value": "2"}  # a whole float has no ".0"
    assert parsed.rows == [
        RosterRow(
            row=2,
            organization="Inspektorat",
            official_name="Ir. Agus Salim",
            nip=NIP,
            position=None,
            official_contact="+6281299998888",  # the leading 0 a spreadsheet dropped
            spouse_name="Dewi",
            spouse_contact=None,
        )
    ]


def test_xlsx_dates_become_iso_text():
    data = xlsx(
        [
            list(COLUMNS),
            ["Bappeda", "Budi", "", date(2024, 10, 14), "", "Sari"],
            ["Bappeda", "Joko", "", datetime(2024, 10, 14, 8, 30), "", "Ani"],
        ]
    )
    parsed = parse_roster(data, "peserta.xlsx")
    assert parsed.ok, parsed.problems
    assert [r.position for r in parsed.rows] == ["2024-10-14", "2024-10-14 08:30:00"]


def test_xlsx_nip_typed_as_a_number_that_lost_digits_is_refused():
    data = xlsx([list(COLUMNS), ["Inspektorat", "Agus", int(NIP), "", "", "Dewi", ""]])
    assert b"1.98501012010011e+17" in zipfile.ZipFile(io.BytesIO(data)).read(
        "xl/worksheets/sheet1.xml"
    )
    parsed = parse_roster(data, "peserta.xlsx")
    problem = only_problem(parsed)
    assert (problem.row, problem.column) == (2, "nip")
    assert "lost its last digits" in problem.message
    assert parsed.rows == []


def test_xlsx_nip_as_text_and_header_in_another_order():
    header = ["nama_pasangan", "organisasi", "NIP", "nama_pejabat", "jabatan"]
    header += ["kontak_pasangan", "kontak_pejabat"]
    data = xlsx([header, ["Dewi", "Inspektorat", NIP, "Agus", "Inspektur", "", "+6281299998888"]])
    parsed = parse_roster(data, "PESERTA.XLSX")
    assert parsed.ok, parsed.problems
    assert (parsed.rows[0].nip, parsed.rows[0].official_contact) == (NIP, "+6281299998888")


def test_xlsx_is_recognized_by_its_bytes_whatever_the_name():
    data = xlsx([list(COLUMNS), couple()])
    assert parse_roster(data, "peserta.csv").ok
    assert parse_roster(data).rows[0].official_name == "Budi Santoso"


def test_xlsx_formula_cells_are_refused():
    data = xlsx([list(COLUMNS), couple(nama_pejabat='=HYPERLINK("http://x","klik")')])
    parsed = parse_roster(data, "peserta.xlsx")
    assert [(p.row, p.column, p.values) for p in parsed.problems] == [
        (2, "nama_pejabat", {"start": "="})
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04 not really a zip",
        b"just some text",  # named .xlsx
        b"PK\x03\x04" + b"\x00" * 200,
    ],
)
def test_corrupt_xlsx(data):
    problem = only_problem(parse_roster(data, "peserta.xlsx"))
    assert (problem.row, problem.column) == (1, None)
    assert "cannot be read as an XLSX" in problem.message


def test_truncated_xlsx():
    data = xlsx([list(COLUMNS), couple()])
    problem = only_problem(parse_roster(data[: len(data) // 2], "peserta.xlsx"))
    assert (problem.row, problem.column) == (1, None)
    assert "cannot be read as an XLSX" in problem.message


def test_zip_that_is_not_a_workbook():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("readme.txt", "hello")
    problem = only_problem(parse_roster(buf.getvalue(), "peserta.xlsx"))
    assert "cannot be read as an XLSX" in problem.message


def test_xlsx_too_large_once_unpacked(monkeypatch):
    from app.cohorts import roster as module

    data = xlsx([list(COLUMNS), couple()])
    monkeypatch.setattr(module, "MAX_XLSX_UNPACKED", 2000)
    problem = only_problem(parse_roster(data, "peserta.xlsx"))
    assert (problem.row, problem.column) == (1, None)
    assert "once unpacked" in problem.message % problem.values


def test_old_xls_is_refused_with_a_clear_message():
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512
    problem = only_problem(parse_roster(data, "peserta.xls"))
    assert (problem.row, problem.column) == (1, None)
    assert ".xls" in problem.message


def test_empty_xlsx():
    problem = only_problem(parse_roster(xlsx([]), "peserta.xlsx"))
    assert (problem.row, problem.column, problem.message) == (1, None, "The file is empty.")


# ---------------------------------------------------------------- formulas and phones


@pytest.mark.parametrize(
    ("cell", "column", "start"),
    [
        ("=SUM(A1)", "nama_pejabat", "="),
        ("@cmd", "organisasi", "@"),
        ("+cmd", "jabatan", "+"),
        ("-2+3", "nama_pasangan", "-"),
        ("=1+1", "nip", "="),
        ("+cmd|' /C calc'!A0", "kontak_pejabat", "+"),
        ("@SUM(1)", "kontak_pasangan", "@"),
        ("  =SUM(A1)", "jabatan", "="),
    ],
)
def test_formula_cells_are_refused(cell, column, start):
    parsed = parse_roster(roster(couple(**{column: cell})))
    problem = only_problem(parsed)
    assert (problem.row, problem.column, problem.values) == (2, column, {"start": start})
    assert problem.message == (
        "This cell starts like a spreadsheet formula (%(start)s); remove that character."
    )
    assert parsed.rows == []


def test_phones_that_start_like_formulas_are_accepted():
    parsed = parse_roster(
        roster(couple(kontak_pejabat="+62 812-3456-789", kontak_pasangan="0812 3456 789"))
    )
    assert parsed.ok, parsed.problems
    assert parsed.rows[0].official_contact == "+628123456789"
    assert parsed.rows[0].spouse_contact == "+628123456789"


@pytest.mark.parametrize(
    "text",
    [
        "+62 812-3456-789",
        "0812 3456 789",
        "(0812) 3456-789",
        "+628123456789",
        "628123456789",
        "0812.3456.789",
        " 0812-3456-789 ",
        "+62 (0)812 3456 789",
        "0062 812 3456 789",
        "8123456789",  # a spreadsheet dropped the 0
    ],
)
def test_normalize_phone_accepts_indonesian_numbers(text):
    assert normalize_phone(text) == "+628123456789"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("62812345678", "+62812345678"),
        ("021-5550123", "+62215550123"),
        ("(021) 555 0123", "+62215550123"),
        ("0812 3456 7890 12", "+628123456789012"),
    ],
)
def test_normalize_phone_other_lengths(text, expected):
    assert normalize_phone(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "-",
        "+",
        "0812",
        "0812 345",  # too short
        "0812 3456 7890 1234",  # too long
        "+1 555 123 4567",
        "+6",
        "0000 1234 5678",
        "00 1 555 123 4567",
        "1234567890",
        "0812 3456 789 ext 2",
        "-2+3",
        "+cmd",
        "budi@example.com",
        "0812/3456/789",
        "０８１２３４５６７８９",  # full-width digits
    ],
)
def test_normalize_phone_refuses_everything_else(text):
    assert normalize_phone(text) is None


@given(st.text(max_size=40))
@hypothesis.settings(max_examples=300, deadline=None)
def test_normalize_phone_never_raises_and_gives_plus_62(text):
    result = normalize_phone(text)
    assert result is None or re.fullmatch(r"\+62[1-9][0-9]{7,12}", result)


# ---------------------------------------------------------------- cell checks


def test_a_missing_spouse():
    parsed = parse_roster(roster(couple(), couple(nama_pejabat="Joko", nama_pasangan="  ")))
    assert problems_of(parsed) == [
        (3, "nama_pasangan", "The spouse's name is empty; every row is one couple.")
    ]
    assert [r.row for r in parsed.rows] == [2]
    assert not parsed.ok


def test_required_organization_and_official_name():
    parsed = parse_roster(roster(couple(organisasi="", nama_pejabat="")))
    assert problems_of(parsed) == [
        (2, "nama_pejabat", "The official's name is empty."),
        (2, "organisasi", "The organization is empty."),
    ]


@pytest.mark.parametrize("nip", ["12345", "1985010120100110011", "19850101201001100"])
def test_wrong_nip_length(nip):
    problem = only_problem(parse_roster(roster(couple(nip=nip))))
    assert (problem.row, problem.column) == (2, "nip")
    assert problem.values == {"count": len(nip)}
    assert (
        problem.message % problem.values == f"The NIP must have 18 digits; this one has {len(nip)}."
    )


def test_nip_with_spaces_is_accepted_and_letters_are_not():
    parsed = parse_roster(
        roster(
            couple(nip="19850101 201001 1 001"),
            couple(nama_pejabat="Joko", nip="1985-0101-2010-0110-01"),
            couple(nama_pejabat="Agus", nip="NIP 198501012010011002"),
            couple(nama_pejabat="Eko", nip="1,98501E+17"),
            couple(nama_pejabat="Dedi", nip="١٩٨٥٠١٠١٢٠١٠٠١١٠٠٣"),  # Arabic-Indic digits
        )
    )
    assert parsed.rows[0].nip == NIP
    assert [(p.row, p.column) for p in parsed.problems] == [(r, "nip") for r in (3, 4, 5, 6)]
    assert parsed.problems[0].values == {"value": "1985-0101-2010-0110-01"}
    assert "lost its last digits" in parsed.problems[2].message


def test_bad_contact():
    parsed = parse_roster(
        roster(
            couple(kontak_pejabat="budi at example.com"),
            couple(nama_pejabat="Joko", kontak_pasangan="0812 345"),
            couple(nama_pejabat="Agus", kontak_pejabat="+1 555 123 4567"),
            couple(nama_pejabat="Eko", kontak_pasangan="0812 1111 2222, 0813 3333 4444"),
        )
    )
    assert problems_of(parsed) == [
        (2, "kontak_pejabat", "Not a phone number or e-mail address: budi at example.com"),
        (3, "kontak_pasangan", "Not a phone number or e-mail address: 0812 345"),
        (4, "kontak_pejabat", "Only Indonesian phone numbers (+62…) are accepted: +1 555 123 4567"),
        (
            5,
            "kontak_pasangan",
            "Not a phone number or e-mail address: 0812 1111 2222, 0813 3333 4444",
        ),
    ]
    assert parsed.rows == []


@pytest.mark.parametrize(
    "email",
    ["budi@example.go.id", "Budi.Santoso@Example.CO.ID", "sari+kb@mail.example.com", "o'neil@x.id"],
)
def test_email_contacts_are_lower_cased(email):
    parsed = parse_roster(roster(couple(kontak_pejabat=email)))
    assert parsed.ok, parsed.problems
    assert parsed.rows[0].official_contact == email.lower()


@pytest.mark.parametrize(
    "email", ["budi@", "@example.com", "budi@example", "bu di@example.com", "budi..s@example.com"]
)
def test_malformed_emails_are_refused(email):
    problem = only_problem(parse_roster(roster(couple(kontak_pejabat=email))))
    assert problem.column == "kontak_pejabat"


def test_too_long_names():
    long = "A" * 201
    parsed = parse_roster(
        roster(couple(nama_pejabat=long, jabatan=long), couple(organisasi="B" * 200))
    )
    assert problems_of(parsed) == [
        (2, "jabatan", "Too long: 201 characters, at most 200."),
        (2, "nama_pejabat", "Too long: 201 characters, at most 200."),
    ]
    assert parsed.rows[0].organization == "B" * 200


# ---------------------------------------------------------------- duplicates


def test_duplicate_nip():
    parsed = parse_roster(
        roster(
            couple(nip=NIP),
            couple(nama_pejabat="Joko", nip=NIP2),
            couple(nama_pejabat="Agus", nip="1985 0101 2010 0110 01"),
        )
    )
    assert problems_of(parsed) == [(4, "nip", "Same NIP as row 2.")]
    assert [r.row for r in parsed.rows] == [2, 3]


def test_same_official_twice_by_name_in_the_same_organization():
    parsed = parse_roster(
        roster(
            couple(organisasi="Dinas Sosial", nama_pejabat="Budi  Santoso"),
            couple(organisasi="Dinas Kesehatan", nama_pejabat="Budi Santoso"),  # another OPD
            couple(organisasi=" dinas sosial", nama_pejabat="BUDI SANTOSO", nama_pasangan="X"),
        )
    )
    assert problems_of(parsed) == [
        (4, "nama_pejabat", "Same official as row 2 (same name and organization).")
    ]
    assert [r.row for r in parsed.rows] == [2, 3]


def test_namesakes_with_different_nips_are_two_people():
    parsed = parse_roster(
        roster(
            couple(nama_pejabat="Ahmad Fauzi", nip=NIP),
            couple(nama_pejabat="Ahmad Fauzi", nip=NIP2),
            couple(nama_pejabat="Ahmad Fauzi"),
        )
    )
    assert problems_of(parsed) == [
        (4, "nama_pejabat", "Same official as row 2 (same name and organization).")
    ]


def test_same_official_twice_by_contact():
    parsed = parse_roster(
        roster(
            couple(kontak_pejabat="0812 3456 789", kontak_pasangan="sari@example.com"),
            couple(nama_pejabat="Joko", kontak_pejabat="+62 812-3456-789"),
            couple(nama_pejabat="Agus", kontak_pasangan="SARI@example.com"),
            couple(nama_pejabat="Eko", kontak_pejabat="eko@example.com", kontak_pasangan="-"),
        )
    )
    assert problems_of(parsed) == [
        (3, "kontak_pejabat", "Same official's contact as row 2."),
        (4, "kontak_pasangan", "Same spouse's contact as row 2."),
    ]
    assert [r.row for r in parsed.rows] == [2, 5]


def test_a_couple_may_share_one_phone():
    parsed = parse_roster(
        roster(couple(kontak_pejabat="0812 3456 789", kontak_pasangan="0812 3456 789"))
    )
    assert parsed.ok, parsed.problems


# ---------------------------------------------------------------- the file as a whole


def test_missing_header_columns_are_each_named_and_rows_are_not_checked():
    header = ["organisasi", "nama_pejabat", "jabatan", "kontak_pejabat", "nama_pasangan"]
    data = roster(["", "=SUM(A1)", "", "", ""], header=header)
    parsed = parse_roster(data)
    assert problems_of(parsed) == [
        (
            1,
            "kontak_pasangan",
            "The header has no column kontak_pasangan; use the header row of the template.",
        ),
        (1, "nip", "The header has no column nip; use the header row of the template."),
    ]
    assert parsed.rows == []


def test_a_repeated_header_column():
    parsed = parse_roster(roster(couple() + ["x"], header=list(COLUMNS) + ["NIP"]))
    assert problems_of(parsed) == [
        (1, "nip", "The column nip appears more than once in the header.")
    ]


def test_a_header_without_rows():
    problem = only_problem(parse_roster((HEADER + "\n\n").encode()))
    assert (problem.row, problem.column) == (1, None)
    assert problem.message == "The file has a header row but no couples under it."


@pytest.mark.parametrize("data", [b"", b"   \r\n\r\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\n,,,\n"])
def test_empty_file(data):
    problem = only_problem(parse_roster(data, "peserta.csv"))
    assert (problem.row, problem.column, problem.message) == (1, None, "The file is empty.")


def test_oversized_file():
    head = roster(couple())
    line = b" " * 1022 + b"\r\n"  # blank rows, 1 KiB each
    filler = line * ((MAX_BYTES - len(head)) // len(line))
    data = head + filler + b" " * (MAX_BYTES + 1 - len(head) - len(filler))
    assert len(data) == MAX_BYTES + 1
    problem = only_problem(parse_roster(data, "peserta.csv"))
    assert (problem.row, problem.column, problem.values) == (1, None, {"max": 5})
    assert "larger than" in problem.message
    assert parse_roster(data[:MAX_BYTES], "peserta.csv").ok  # the limit itself is fine


def test_too_many_rows():
    rows = [couple(nama_pejabat=f"Pejabat {i}") for i in range(MAX_ROWS + 1)]
    problem = only_problem(parse_roster(roster(*rows)))
    assert (problem.row, problem.column, problem.values) == (1, None, {"max": MAX_ROWS})
    assert parse_roster(roster(*rows[:MAX_ROWS])).ok


def test_binary_garbage_is_a_problem_not_a_crash():
    problem = only_problem(parse_roster(b"\x00\x01\x02garbage\x00", "peserta.csv"))
    assert (problem.row, problem.column) == (1, None)


def test_every_problem_is_collected_and_sorted():
    data = roster(
        couple(nip="123", kontak_pejabat="nope", nama_pasangan=""),
        couple(organisasi="=1", nama_pejabat="@x", kontak_pasangan="-1+1"),
        couple(nama_pejabat="Joko"),
    )
    parsed = parse_roster(data)
    assert [(p.row, p.column) for p in parsed.problems] == [
        (2, "kontak_pejabat"),
        (2, "nama_pasangan"),
        (2, "nip"),
        (3, "kontak_pasangan"),
        (3, "nama_pejabat"),
        (3, "organisasi"),
    ]
    assert [r.row for r in parsed.rows] == [4]
    for p in parsed.problems:
        assert isinstance(p.message, str) and isinstance(p.values, dict)
        assert all(isinstance(v, str | int) for v in p.values.values())
        p.message % p.values  # every placeholder has its value


@given(st.binary(max_size=2000), st.sampled_from(["", "a.csv", "a.xlsx", "a.xls"]))
@hypothesis.settings(max_examples=200, deadline=None)
def test_arbitrary_bytes_never_raise(data, filename):
    parsed = parse_roster(data, filename)
    assert isinstance(parsed, RosterParse)
    assert parsed.ok == (not parsed.problems)
    for p in parsed.problems:
        p.message % p.values


@given(
    st.lists(
        st.lists(
            st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=20),
            min_size=0,
            max_size=9,
        ),
        max_size=8,
    ),
    st.sampled_from([",", ";"]),
)
@hypothesis.settings(max_examples=150, deadline=None)
def test_arbitrary_cells_never_raise_and_rows_are_clean(rows, delimiter):
    parsed = parse_roster(roster(*rows, delimiter=delimiter))
    for row in parsed.rows:
        assert row.organization and row.official_name and row.spouse_name
        for text in (row.organization, row.official_name, row.spouse_name, row.position or "x"):
            assert text == text.strip() and not text.startswith("=")
            assert text[0] not in "+-@" or normalize_phone(text)
        assert row.nip is None or re.fullmatch(r"[0-9]{18}", row.nip)
    assert parsed.problems == sorted(parsed.problems, key=lambda p: (p.row, p.column or ""))


# ---------------------------------------------------------------- organizations of the region

KNOWN = ["Dinas Pendidikan", "Dinas Kesehatan", "Badan Pendapatan Daerah", "Inspektorat"]


def rows_of(*organizations: str) -> list[RosterRow]:
    parsed = parse_roster(
        roster(
            *(
                couple(organisasi=org, nama_pejabat=f"Pejabat {i}")
                for i, org in enumerate(organizations)
            )
        )
    )
    assert parsed.ok, parsed.problems
    return parsed.rows


def test_organizations_match_without_regard_to_case_and_spacing():
    matched = match_organizations(
        rows_of("dinas  PENDIDIKAN ", "Dinas Pendidikan", "INSPEKTORAT"), KNOWN, create=False
    )
    assert matched.problems == [] and matched.new == [] and matched.unknown == []


def test_an_unknown_organization_names_row_column_and_the_closest_known_name():
    matched = match_organizations(
        rows_of("Dinas Pendidikan", "Dinas Pendidkan", "Kecamatan Ciledug", "dinas pendidkan"),
        KNOWN,
        create=False,
    )
    assert [(p.row, p.column, p.message % p.values) for p in matched.problems] == [
        (
            3,
            "organisasi",
            'Unknown organization "Dinas Pendidkan". Did you mean "Dinas Pendidikan"?',
        ),
        (
            4,
            "organisasi",
            'Unknown organization "Kecamatan Ciledug": no organization of this region has a '
            "similar name.",
        ),
        (
            5,
            "organisasi",
            'Unknown organization "dinas pendidkan". Did you mean "Dinas Pendidikan"?',
        ),
    ]
    assert matched.unknown == ["Dinas Pendidkan", "Kecamatan Ciledug"] and matched.new == []


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("Dinas Kesehatn", "Dinas Kesehatan"),  # a typo
        ("Badan Pendapatan", "Badan Pendapatan Daerah"),  # a word left out
        ("Inspektorat Kota", "Inspektorat"),
        ("Dinas Pertanian", None),  # another agency: below the cutoff, no suggestion
        ("Dinas", None),
    ],
)
def test_suggestions_stop_at_the_documented_cutoff(name, suggestion):
    (problem,) = match_organizations(rows_of(name), KNOWN, create=False).problems
    assert problem.values.get("suggestion") == suggestion
    assert 0 < ORGANIZATION_SUGGESTION_CUTOFF <= 100


def test_with_create_each_new_organization_is_created_once_in_its_first_spelling():
    matched = match_organizations(
        rows_of("Dinas  Baru", "DINAS BARU ", "Dinas Pendidkan", "dinas pendidikan"),
        KNOWN,
        create=True,
    )
    assert matched.problems == [] and matched.unknown == []
    assert matched.new == ["Dinas Baru", "Dinas Pendidkan"]


def test_a_region_without_organizations_suggests_nothing():
    (problem,) = match_organizations(rows_of("Dinas Sosial"), [], create=False).problems
    assert problem.values == {"name": "Dinas Sosial"}
