"""CSV and XLSX exports: typed cells, formula injection neutralized, constant memory."""

from __future__ import annotations

import csv
import io
import re
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from app.exports import (
    DATE_FORMAT,
    DATETIME_FORMAT,
    PERCENT_FORMAT,
    Column,
    csv_stream,
    export_filename,
    neutralize,
    xlsx_file,
    xlsx_stream,
)

TRIGGERS = ["=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20"]
DANGEROUS = [
    "=1+1",
    '=HYPERLINK("http://evil.example","klik")',
    "+6281234567890",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1",
    "\r=1",
    "\uff1d1+1",
    "\uff0b1",
    "\uff0d1",
    "\uff20SUM(A1)",
    " =1+1",
    "   @x",
    "\u00a0=1",  # no-break space
    "\u3000\uff1d1",  # ideographic space, full-width equals
    " \t1",  # a tab inside the leading whitespace
    "\n-1",
]
HARMLESS = ["", "Budi Santoso", "1-2", "a=b", "e-mail: budi@example.org", "Rp 5.000", "'quoted"]

COLUMNS = [
    Column("name", "Nama", "text", 30),
    Column("couple", "Pasangan", "text", 12),
    Column("lessons", "Pelajaran", "int"),
    Column("gain", "Gain", "float"),
    Column("score", "Skor", "percent"),
    Column("day", "Tanggal", "date"),
    Column("seen", "Terakhir aktif", "datetime", 18),
    Column("done", "Selesai", "bool", 8),
]


def _row(i: int = 0, **over) -> dict:
    row = {
        "name": f"Peserta {i}",
        "couple": f"TNG24-{i:03d}",
        "lessons": i,
        "gain": 0.5,
        "score": 72.5,
        "day": date(2024, 10, 14),
        "seen": datetime(2024, 10, 14, 2, 30, tzinfo=UTC),  # 09:30 WIB
        "done": True,
    }
    row.update(over)
    return row


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def _csv(columns, rows, **kw) -> list[list[str]]:
    return _csv_rows(b"".join(csv_stream(columns, rows, **kw)))


def _xlsx(columns, rows, **kw):
    buf = io.BytesIO()
    xlsx_file(columns, rows, sheet_title=kw.pop("sheet_title", "Peserta"), path_or_stream=buf, **kw)
    return openpyxl.load_workbook(io.BytesIO(buf.getvalue())).active


# --- neutralize ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", DANGEROUS)
def test_neutralize_prefixes_an_apostrophe(text):
    assert neutralize(text) == "'" + text


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_every_trigger_alone_and_after_whitespace(trigger):
    assert neutralize(trigger + "1") == "'" + trigger + "1"
    assert neutralize("  " + trigger + "1") == "'  " + trigger + "1"


@pytest.mark.parametrize("text", HARMLESS)
def test_neutralize_leaves_ordinary_text(text):
    assert neutralize(text) == text


# --- CSV ----------------------------------------------------------------------------------


def test_csv_has_a_bom_a_header_and_typed_values():
    data = b"".join(csv_stream(COLUMNS, [_row(3), _row(4, done=False)], true_text="ya"))
    assert data.startswith(b"\xef\xbb\xbfNama,Pasangan,")
    assert b"\r\n" in data
    header, first, second = _csv_rows(data)
    assert header == [c.header for c in COLUMNS]
    assert first == [
        "Peserta 3",
        "TNG24-003",
        "3",
        "0.5",
        "72.5",
        "2024-10-14",
        "2024-10-14 09:30",
        "ya",
    ]
    assert second[-1] == "0"


def test_csv_empty_cells_and_quoting():
    rows = [
        _row(name='Sari "Ayu", S.Pd.\nbaris dua', lessons=None, gain=float("nan"), score=None),
        {"name": "only a name"},
    ]
    _, first, second = _csv(COLUMNS, rows)
    assert first[0] == 'Sari "Ayu", S.Pd.\nbaris dua'
    assert first[2:5] == ["", "", ""]
    assert second == ["only a name"] + [""] * (len(COLUMNS) - 1)


def test_csv_times_in_the_given_zone_and_naive_times_as_utc():
    cols = [Column("t", "t", "datetime"), Column("d", "d", "date")]
    late = datetime(2024, 10, 14, 20, 15, tzinfo=UTC)  # already the 15th in WIB
    rows = [{"t": late, "d": late}, {"t": datetime(2024, 10, 14, 20, 15), "d": date(2024, 1, 2)}]
    _, a, b = _csv(cols, rows)
    assert a == ["2024-10-15 03:15", "2024-10-15"]
    assert b == ["2024-10-15 03:15", "2024-01-02"]
    _, a, _ = _csv(cols, rows, tz="Asia/Makassar")
    assert a == ["2024-10-15 04:15", "2024-10-15"]
    _, a, _ = _csv(cols, rows, tz=timezone(timedelta(hours=9)))
    assert a[0] == "2024-10-15 05:15"


@pytest.mark.parametrize("text", DANGEROUS)
def test_csv_neutralizes_every_text_cell(text):
    cols = [Column("a", text, "text"), Column("n", "n", "int")]
    header, row = _csv(cols, [{"a": text, "n": -5}])
    assert header[0] == "'" + text
    assert row[0] == "'" + text


def test_csv_numbers_are_never_neutralized_but_texts_in_number_columns_are():
    cols = [Column("n", "n", "int"), Column("f", "f", "float"), Column("p", "p", "percent")]
    _, numbers, texts = _csv(
        cols, [{"n": -5, "f": -0.25, "p": -10}, {"n": "-5", "f": "=1", "p": "+1"}]
    )
    assert numbers == ["-5", "-0.25", "-10"]
    assert texts == ["'-5", "'=1", "'+1"]


def test_values_from_the_database_decimal_sqlite_booleans_and_long_numbers_as_text():
    cols = [Column("p", "p", "percent"), Column("b", "b", "bool"), Column("nip", "NIP", "text")]
    rows = [{"p": Decimal("72.50"), "b": 1, "nip": 198403152010012003}, {"b": 0}]
    _, a, b = _csv(cols, rows, true_text="ya", false_text="tidak")
    assert a == ["72.5", "ya", "198403152010012003"] and b == ["", "tidak", ""]
    ws = _xlsx(cols, rows, true_text="ya", false_text="tidak")
    p, flag, nip = next(ws.iter_rows(min_row=2, max_row=2))
    assert p.value == pytest.approx(0.725) and flag.value == "ya"
    assert nip.value == "198403152010012003" and nip.data_type == "s"


def test_csv_float_text_has_no_exponent_and_no_float_noise():
    cols = [Column("f", "f", "float")]
    _, a, b, c = _csv(cols, [{"f": 0.1 + 0.2}, {"f": 1e-9}, {"f": 1234567.5}])
    assert (a, b, c) == (["0.3"], ["0"], ["1234567.5"])


def test_csv_streams_in_small_chunks():
    chunks = list(csv_stream(COLUMNS, (_row(i) for i in range(1000)), batch=100))
    assert len(chunks) == 11  # the header, then one chunk per 100 rows
    assert chunks[0].startswith(b"\xef\xbb\xbf")
    assert not any(c.startswith(b"\xef\xbb\xbf") for c in chunks[1:])


# --- XLSX ---------------------------------------------------------------------------------


def test_xlsx_cells_are_typed_and_formatted():
    ws = _xlsx(COLUMNS, [_row(3), _row(4, done=False, lessons=None)], true_text="ya")
    header = [c for c in next(ws.iter_rows(min_row=1, max_row=1))]
    assert [c.value for c in header] == [c.header for c in COLUMNS]
    assert all(c.font.b for c in header)
    name, couple, lessons, gain, score, day, seen, done = next(ws.iter_rows(min_row=2, max_row=2))
    assert (name.value, couple.value) == ("Peserta 3", "TNG24-003")
    assert lessons.value == 3 and isinstance(lessons.value, int) and lessons.data_type == "n"
    assert gain.value == 0.5 and gain.data_type == "n"
    assert score.value == pytest.approx(0.725) and score.number_format == PERCENT_FORMAT
    assert score.number_format.endswith("%")
    assert isinstance(day.value, datetime) and day.value == datetime(2024, 10, 14)
    assert day.number_format == DATE_FORMAT and day.is_date
    assert seen.value == datetime(2024, 10, 14, 9, 30)  # naive, in WIB
    assert seen.number_format == DATETIME_FORMAT and seen.is_date
    assert done.value == "ya"
    assert not name.font.b
    row3 = next(ws.iter_rows(min_row=3, max_row=3))
    assert row3[2].value is None and row3[7].value == "0"


def test_xlsx_sheet_layout():
    ws = _xlsx(COLUMNS, [_row(i) for i in range(5)], sheet_title="Peserta: tng/2024 [x]")
    assert ws.title == "Peserta tng 2024 x"
    assert ws.freeze_panes == "B2"
    assert ws.auto_filter.ref == "A1:H6"
    widths = [ws.column_dimensions[letter].width for letter in "ABCDEFGH"]
    assert widths == [float(c.width) for c in COLUMNS]
    assert ws.max_row == 6
    ws = _xlsx(COLUMNS, [], sheet_title="x" * 40, freeze_columns=2)
    assert ws.freeze_panes == "C2"
    assert len(ws.title) <= 31
    assert ws.auto_filter.ref == "A1:H1"
    ws = _xlsx(COLUMNS, [], sheet_title="x", freeze_columns=0)
    assert ws.freeze_panes == "A2"


@pytest.mark.parametrize("text", DANGEROUS)
def test_xlsx_neutralizes_every_text_cell(text):
    cols = [Column("a", text, "text"), Column("n", "n", "int")]
    ws = _xlsx(cols, [{"a": text, "n": -5}])
    (h, _), (a, n) = ws.iter_rows(min_row=1, max_row=2)
    # openpyxl drops a lone leading \r when reading back; what matters is the apostrophe
    assert str(h.value).startswith("'") and str(a.value).startswith("'")
    assert a.data_type == "s"  # text, never a formula
    assert n.value == -5 and n.data_type == "n"


def test_xlsx_numbers_never_neutralized_texts_in_number_columns_are():
    cols = [Column("n", "n", "int"), Column("p", "p", "percent")]
    ws = _xlsx(cols, [{"n": -5, "p": -10}, {"n": "-5", "p": "=1"}])
    (n1, p1), (n2, p2) = ws.iter_rows(min_row=2, max_row=3)
    assert n1.value == -5 and p1.value == pytest.approx(-0.1)
    assert n2.value == "'-5" and p2.value == "'=1"
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_xlsx_drops_control_characters_and_overlong_text():
    cols = [Column("a", "a\x00b", "text")]
    ws = _xlsx(cols, [{"a": "x\x01y\x1fz\tok"}, {"a": "y" * 40_000}])
    assert ws["A1"].value == "ab"
    assert ws["A2"].value == "xyz\tok"
    assert 32_000 < len(ws["A3"].value) <= 32_767
    ws = _xlsx(cols, [{"a": "=" + "y" * 40_000}])
    assert len(ws["A2"].value) <= 32_767 and ws["A2"].value.startswith("'=")


def test_xlsx_date_in_a_datetime_value_and_other_zones():
    cols = [Column("d", "d", "date"), Column("t", "t", "datetime")]
    late = datetime(2024, 10, 14, 20, 15, tzinfo=UTC)
    ws = _xlsx(cols, [{"d": late, "t": late}], tz=ZoneInfo("Asia/Jayapura"))
    d, t = next(ws.iter_rows(min_row=2, max_row=2))
    assert d.value == datetime(2024, 10, 15) and t.value == datetime(2024, 10, 15, 5, 15)


def test_xlsx_stream_yields_the_same_workbook_in_chunks_and_starts_lazily():
    consumed = []

    def rows() -> Iterator[dict]:
        for i in range(300):
            consumed.append(i)
            yield _row(i, name=f"Peserta {i} " + "x" * 200)

    stream = xlsx_stream(COLUMNS, rows(), sheet_title="Peserta", chunk_size=4096)
    assert consumed == []  # nothing happens before the first chunk is asked for
    chunks = list(stream)
    assert len(consumed) == 300
    assert len(chunks) > 1 and all(len(c) <= 4096 for c in chunks)
    ws = openpyxl.load_workbook(io.BytesIO(b"".join(chunks))).active
    assert ws.max_row == 301 and ws["C301"].value == 299


def test_xlsx_stream_can_be_abandoned():
    stream = xlsx_stream(COLUMNS, (_row(i) for i in range(10)), sheet_title="x", chunk_size=100)
    assert next(stream).startswith(b"PK")
    stream.close()  # closes and removes the temporary file


# --- constant memory ----------------------------------------------------------------------


def _rows(n: int) -> Iterator[dict]:
    start = datetime(2024, 10, 1, tzinfo=UTC)
    for i in range(n):
        yield _row(
            i,
            name=f"Peserta nomor {i} dengan nama yang cukup panjang",
            score=i % 100 + 0.5,
            seen=start + timedelta(minutes=i),
            done=i % 2 == 0,
        )


def _peak(run) -> int:
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _drain(chunks) -> int:
    return sum(len(c) for c in chunks)


@pytest.mark.parametrize(
    "export",
    [
        lambda n: _drain(csv_stream(COLUMNS, _rows(n))),
        lambda n: _drain(xlsx_stream(COLUMNS, _rows(n), sheet_title="Peserta")),
    ],
    ids=["csv_stream", "xlsx_stream"],
)
def test_memory_does_not_grow_with_the_number_of_rows(export):
    export(50)  # warm up imports and caches
    small = _peak(lambda: export(500))
    large = _peak(lambda: export(5000))
    # 10x the rows: holding them (or their cells) would take ~10x the memory
    assert large < 2.5 * small, (small, large)
    held = _peak(lambda: list(_rows(5000)))
    assert large < held  # less than merely holding the rows would take


# --- file names ---------------------------------------------------------------------------


def test_export_filename():
    day = date(2026, 12, 1)
    assert export_filename("tng-2024", "peserta", "behind", day, "xlsx") == (
        "tng-2024-peserta-behind-2026-12-01.xlsx"
    )
    assert export_filename("tng-2024", "peserta", None, day, ".csv") == (
        "tng-2024-peserta-2026-12-01.csv"
    )
    name = export_filename("TNG 2024", "Hasil Kuis", 'Tertinggal / "Modul 2" — Ñoño', day, "xlsx")
    assert name == "tng-2024-hasil-kuis-tertinggal-modul-2-nono-2026-12-01.xlsx"
    evil = export_filename("../../etc", "a\r\nSet-Cookie: x", "<script>", day, "x/../sh")
    assert evil.isascii() and "/" not in evil and "\r" not in evil and " " not in evil
    assert re.fullmatch(r"[a-z0-9-]+\.[a-z0-9-]+", evil)
    assert not evil.startswith(".") and ".." not in evil
