"""The cohort report PDF, read back with pypdfium2: what a facilitator would see and search."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from app.facilitator.report import (
    AttendanceDay,
    CohortReport,
    FunnelStep,
    GainRow,
    QuizRow,
    cohort_report_pdf,
)
from app.i18n import translations

A4_PT = (595, 842)

FOLLOW_UP = [
    "12 pasangan belum mengerjakan post-test",
    "4 peserta menunggu tambahan kesempatan kuis",
    "3 refleksi keluarga belum dikonfirmasi pasangan",
]
VALUES = [
    ("Jujur", 60.0, 85.0),
    ("Peduli", 55.0, 72.5),
    ("Mandiri", 48.0, 70.0),
    ("Disiplin", 52.0, 80.0),
    ("Tanggung jawab", 50.0, 79.0),
    ("Kerja keras", 58.0, 74.0),
    ("Sederhana", 45.0, 77.0),
    ("Berani", 40.0, 66.0),
    ("Adil", 62.0, 84.0),
]


def _report(**over) -> CohortReport:
    report = CohortReport(
        cohort_title="Bimtek Keluarga Berintegritas Kota Tangerang",
        region="Kota Tangerang",
        venue="Aula Akhlakul Karimah, Puspemkot Tangerang",
        workshop_start=date(2024, 10, 14),
        workshop_end=date(2024, 10, 15),
        pre_opens=datetime(2024, 10, 1, 1, 0, tzinfo=UTC),
        post_closes=datetime(2024, 11, 15, 16, 59, tzinfo=UTC),  # 23:59 WIB
        facilitators=["Dr. Wawan Wardiana", "Ñoño Pérez"],
        generated_at=datetime(2026, 12, 1, 2, 30, tzinfo=UTC),
        couples=40,
        participants=80,
        funnel=[
            FunnelStep("Diaktivasi", 78, 78 / 80),
            FunnelStep("Pre-test selesai", 74, 74 / 80),
            FunnelStep("Modul 1 lulus", 66, 66 / 80),
            FunnelStep("Modul 2 lulus", 60, 60 / 80),
            FunnelStep("Hadir di Bimtek", 71, 71 / 80),
            FunnelStep("Modul 3 lulus", 52, 52 / 80),
            FunnelStep("Post-test selesai", 50, 50 / 80),
            FunnelStep("Pakta ditandatangani", 44, 44 / 80),
            FunnelStep("Bersertifikat", 42, 42 / 80),
        ],
        attendance=[
            AttendanceDay(date(2024, 10, 14), 72, 80),
            AttendanceDay(date(2024, 10, 15), 69, 80),
        ],
        gain_overall=GainRow("Semua", 48, 54.25, 78.5, 0.5306, 0.4871),
        gain_by_module=[
            GainRow("Modul 1: Mengenal korupsi dan gratifikasi", 48, 58.3, 81.2, 0.549, 0.512),
            GainRow("Modul 2: Konflik kepentingan dalam keluarga", 48, 50.1, 74.9, 0.497, 0.45),
            GainRow("Modul 3: Rencana aksi keluarga", 47, 55.0, 79.0, 0.533, None),
        ],
        gain_by_value=[
            GainRow(v, 48, pre, post, (post - pre) / (100 - pre), (post - pre) / (100 - pre) - 0.02)
            for v, pre, post in VALUES
        ],
        only_pre=26,
        quizzes=[
            QuizRow("Kuis Modul 1", 70, 66, 66 / 70, 82.4),
            QuizRow("Kuis Modul 2", 64, 60, 60 / 64, 78.9),
            QuizRow("Kuis Modul 3", 55, 52, 52 / 55, 80.1),
        ],
        reflections_confirmed=25,
        pledges_signed=22,
        certificates_issued=42,
        certificates_revoked=1,
        follow_up=FOLLOW_UP,
    )
    return replace(report, **over)


def _empty() -> CohortReport:
    return CohortReport(
        cohort_title="Bimtek Keluarga Berintegritas Kota Serang",
        region="Kota Serang",
        venue="Pendopo",
        workshop_start=date(2026, 12, 8),
        workshop_end=date(2026, 12, 9),
        pre_opens=None,
        post_closes=None,
        facilitators=[],
        generated_at=datetime(2026, 12, 1, 2, 30, tzinfo=UTC),
    )


@pytest.fixture(scope="module")
def pdfium():
    return pytest.importorskip("pypdfium2", reason="pypdfium2 renders the PDFs back")


def _texts(pdfium, data: bytes) -> list[str]:
    """Each page's text, all runs of whitespace (line breaks too) made single spaces."""
    out = []
    for page in pdfium.PdfDocument(data):
        textpage = page.get_textpage()
        try:
            out.append(" ".join(textpage.get_text_range().split()))
        finally:
            textpage.close()
    return out


@pytest.fixture(scope="module")
def report_pdf() -> bytes:
    return cohort_report_pdf(_report(), locale="id", tz="Asia/Jakarta")


def test_is_an_a4_portrait_pdf_with_the_shipped_font(report_pdf, pdfium):
    assert report_pdf.startswith(b"%PDF-") and report_pdf.rstrip().endswith(b"%%EOF")
    doc = pdfium.PdfDocument(report_pdf)
    assert len(doc) >= 2
    for page in doc:
        assert tuple(round(v) for v in page.get_size()) == A4_PT
    assert doc.get_metadata_dict()["Title"] == "Keluarga Berintegritas"
    assert b"DejaVuSans" in report_pdf
    assert len(report_pdf) < 300_000


def test_title_cohort_and_indonesian_dates(report_pdf, pdfium):
    _ = translations("id").gettext
    first = _texts(pdfium, report_pdf)[0]
    assert _("Keluarga Berintegritas Bimtek implementation report") in first
    assert "Bimtek Keluarga Berintegritas Kota Tangerang" in first
    assert "Kota Tangerang · Aula Akhlakul Karimah, Puspemkot Tangerang" in first
    assert "14–15 Oktober 2024" in first
    assert "1 Oktober – 15 November 2024" in first  # the learning window, in WIB
    assert "1 Desember 2026 09.30 WIB" in first  # generated at
    assert "Dr. Wawan Wardiana, Ñoño Pérez" in first


def test_funnel_numbers(report_pdf, pdfium):
    text = " ".join(_texts(pdfium, report_pdf))
    for label, value in [
        ("Diaktivasi", "78 (98%)"),
        ("Pre-test selesai", "74 (92%)"),
        ("Hadir di Bimtek", "71 (89%)"),
        ("Bersertifikat", "42 (52%)"),
    ]:
        assert f"{label} {value}" in text


def test_attendance_gain_and_quiz_numbers(report_pdf, pdfium):
    text = " ".join(_texts(pdfium, report_pdf))
    assert "14 Oktober 2024 72 80 90%" in text
    assert "15 Oktober 2024 69 80 86%" in text
    # the overall result, the module table (decimal commas) and ⟨g⟩ as a fraction
    assert "54,2 → 78,5 (⟨g⟩ 0,53)" in text
    assert "Modul 3: Rencana aksi keluarga 47 55,0 79,0 0,53 –" in text
    assert "Jujur 48 60,0 85,0 0,62 0,60" in text
    assert "Tanggung jawab 48 50,0 79,0 0,58 0,56" in text
    assert "26" in text  # took only the pre-test
    # the chart by value: its texts are in the PDF too
    assert "Peduli 55% 72,5%" in text
    assert "Kuis Modul 1 70 66 94% 82,4" in text


def test_family_certificates_and_follow_up(report_pdf, pdfium):
    _ = translations("id").gettext
    text = " ".join(_texts(pdfium, report_pdf))
    of = _("%(n)s of %(of)s couples (%(share)s)")
    assert of % {"n": 25, "of": 40, "share": "62%"} in text
    assert of % {"n": 22, "of": 40, "share": "55%"} in text
    assert _("%(n)s participants") % {"n": 42} in text
    for line in FOLLOW_UP:
        assert line in text


def test_every_page_has_its_number_in_the_footer(report_pdf, pdfium):
    _ = translations("id").gettext
    pages = _texts(pdfium, report_pdf)
    for number, text in enumerate(pages, start=1):
        footer = _("Page %(page)s of %(pages)s") % {"page": number, "pages": len(pages)}
        assert text.endswith(footer)
        assert "Bimtek Keluarga Berintegritas Kota Tangerang · 1 Desember 2026" in text


def test_english_report(pdfium):
    data = cohort_report_pdf(_report(), locale="en", tz=ZoneInfo("Asia/Jakarta"))
    text = " ".join(_texts(pdfium, data))
    assert "14–15 October 2024" in text
    assert "1 December 2026" in text
    assert "54.2 → 78.5 (⟨g⟩ 0.53)" in text
    assert "Page 1 of" in text


def test_empty_cohort_says_there_is_no_data_yet(pdfium):
    _ = translations("id").gettext
    data = cohort_report_pdf(_empty(), locale="id", tz="Asia/Jakarta")
    pages = _texts(pdfium, data)
    assert len(pages) == 1
    text = pages[0]
    assert "Bimtek Keluarga Berintegritas Kota Serang" in text
    assert "8–9 Desember 2026" in text
    assert text.count(_("No data yet.")) >= 5
    assert _("Page %(page)s of %(pages)s") % {"page": 1, "pages": 1} in text


def test_only_pre_tests_and_no_attendance_yet(pdfium):
    _ = translations("id").gettext
    report = replace(
        _empty(),
        couples=3,
        participants=6,
        funnel=[FunnelStep("Diaktivasi", 6, 1.0), FunnelStep("Pre-test selesai", 0, 0.0)],
        only_pre=4,
        attendance=[AttendanceDay(date(2026, 12, 8), 0, 0)],
        quizzes=[QuizRow("Kuis Modul 1", 0, 0, None, None)],
    )
    text = " ".join(_texts(pdfium, cohort_report_pdf(report, locale="id", tz="Asia/Jakarta")))
    assert "Diaktivasi 6 (100%)" in text
    assert "Pre-test selesai 0 (0%)" in text
    assert _("%(n)s participants took only the pre-test so far.") % {"n": 4} in text
    assert _("No data yet.") in text
    assert _("Nothing to follow up.") in text


def test_long_content_flows_over_pages(pdfium):
    many = [f"Pasangan TNG24-{i:03d}: refleksi modul 2 belum dikonfirmasi" for i in range(120)]
    long_title = "Bimtek Keluarga Berintegritas " * 8
    data = cohort_report_pdf(
        _report(follow_up=many, cohort_title=long_title.strip()), locale="id", tz="Asia/Jakarta"
    )
    pages = _texts(pdfium, data)
    assert len(pages) >= 4
    text = " ".join(pages)
    assert many[0] in text and many[-1] in text
    _ = translations("id").gettext
    assert pages[-1].endswith(
        _("Page %(page)s of %(pages)s") % {"page": len(pages), "pages": len(pages)}
    )
