"""The printable PDFs: activation card sheets and the certificate.

The PDFs are rendered back to images with pypdfium2, and their QR codes read with zxing-cpp,
so these tests check what a phone camera would see, not just that a file was written.
"""

from __future__ import annotations

import io

import pytest

from app.certificates.pdf import Card, activation_cards_pdf, certificate_pdf, qr_png, qr_svg
from tests.conftest import SECRET

BASE = "https://belajar.example.org"
COHORT = "Angkatan Tangerang 2024 — Kementerian Keuangan"
TITLE = "Keluarga Berintegritas: akun Anda"
INSTRUCTIONS = (
    f"Pindai kode QR atau buka {BASE}/activate lalu masukkan kodenya. "
    "Kemudian pilih kata sandi Anda sendiri."
)
NAMES = [
    "Ñoño Pérez",
    "Dr. H. Ma'ruf, M.Si.",
    "Siti Nurhaliza",
    "Ir. Bambang Sutrisno Wicaksono Adiningrat, S.T., M.T.",
    "Ayu",
    "I Gusti Ayu Ngurah Made Rai",
    "Yohanes O'Brien Situmorang",
    "Cut Nyak Dhien Maharani",
    "Zulkifli",
]
LONG_NAME = (
    "Prof. Dr. Ir. Raden Mas Haji Muhammad Ma'ruf Ñoño Pérez Wicaksono Adiningrat " * 6
    + "Kusumawardhani" * 8
).strip()

A4_PT = (595, 842)  # A4 in points, rounded
DPI = 200


def _cards() -> list[Card]:
    cards = []
    for i, name in enumerate(NAMES, start=1):
        code = f"K7P{i}-9QXM"
        cards.append(
            Card(
                name=name,
                couple_code=f"TNG24-{i:03d}",
                role_label="Pejabat" if i % 2 else "Pasangan",
                code=code,
                url=f"{BASE}/activate?code={code}",
                username=f"tng24-{i:03d}{'a' if i % 2 else 'b'}",
                valid_until="Berlaku sampai 13 November 2024.",
            )
        )
    return cards


def _certificate(name: str = "Dr. H. Ma'ruf Ñoño Pérez, M.Si.") -> bytes:
    return certificate_pdf(**_certificate_kwargs(name))


def _certificate_kwargs(name: str = "Dr. H. Ma'ruf Ñoño Pérez, M.Si.") -> dict:
    return dict(
        name=name,
        cohort=COHORT,
        date_text="15 Oktober 2024",
        code="KB-7Q2M-X9TA",
        verify_url=f"{BASE}/verify/KB-7Q2M-X9TA",
        heading="Sertifikat Keluarga Berintegritas",
        body=(
            "telah menyelesaikan program belajar Keluarga Berintegritas bersama keluarganya, "
            "dan menandatangani Pakta Integritas Keluarga."
        ),
        verify_label="Periksa keabsahan sertifikat ini:",
    )


@pytest.fixture(scope="module")
def card_sheet() -> bytes:
    return activation_cards_pdf(
        _cards(),
        title=TITLE,
        instructions=INSTRUCTIONS,
        cohort=COHORT,
        username_label="Nama pengguna",
    )


@pytest.fixture(scope="module")
def certificate() -> bytes:
    return _certificate()


@pytest.fixture(scope="module")
def pdfium():
    return pytest.importorskip(
        "pypdfium2", reason="pypdfium2 is needed to render the PDFs (pip install pypdfium2)"
    )


@pytest.fixture(scope="module")
def zxing():
    return pytest.importorskip(
        "zxingcpp", reason="zxing-cpp is needed to read the QR codes (pip install zxing-cpp)"
    )


def _pages(pdfium, data: bytes) -> list:
    return list(pdfium.PdfDocument(data))


def _image(page):
    return page.render(scale=DPI / 72).to_pil().convert("L")


def _decode(zxing, image) -> list[str]:
    found = zxing.read_barcodes(image, formats=zxing.BarcodeFormat.QRCode)
    return [barcode.text for barcode in found]


def _text(page) -> str:
    """The page's text with all runs of whitespace (line breaks too) made single spaces."""
    textpage = page.get_textpage()
    try:
        return " ".join(textpage.get_text_range().split())
    finally:
        textpage.close()


# --- QR helpers ---------------------------------------------------------------------------


def test_qr_png_is_a_png_of_the_url(zxing):
    from PIL import Image

    url = f"{BASE}/activate?code=K7P2-9QXM"
    data = qr_png(url)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert _decode(zxing, Image.open(io.BytesIO(data))) == [url]
    assert len(qr_png(url, scale=4)) < len(data)


def test_qr_svg_is_inline_svg():
    svg = qr_svg(f"{BASE}/activate?code=K7P2-9QXM")
    assert svg.startswith("<svg ")
    assert "<?xml" not in svg
    assert "viewBox=" in svg
    assert svg.rstrip().endswith("</svg>")


# --- activation cards ---------------------------------------------------------------------


def test_documents_are_pdf_files(card_sheet, certificate):
    for data in (card_sheet, certificate):
        assert data.startswith(b"%PDF-")
        assert data.rstrip().endswith(b"%%EOF")
        assert b"DejaVuSans" in data  # the shipped Unicode font is embedded
        assert len(data) < 200_000  # the fonts are subset


def test_card_sheet_is_a_two_page_a4_pdf(card_sheet, pdfium):
    assert card_sheet.startswith(b"%PDF-")
    assert card_sheet.rstrip().endswith(b"%%EOF")
    doc = pdfium.PdfDocument(card_sheet)
    assert len(doc) == 2  # 8 cards on the first page, 1 on the second
    for page in doc:
        assert tuple(round(v) for v in page.get_size()) == A4_PT
    meta = doc.get_metadata_dict()
    assert meta["Title"] == "Keluarga Berintegritas"
    assert meta["Creator"] == "Keluarga Berintegritas"


def test_every_card_has_its_own_readable_qr_code(card_sheet, pdfium, zxing):
    cards = _cards()
    decoded = []
    for page in _pages(pdfium, card_sheet):
        image = _image(page)
        cell_w, cell_h = image.width / 2, image.height / 4
        for i in range(8):
            col, row = i % 2, i // 2
            box = (col * cell_w, row * cell_h, (col + 1) * cell_w, (row + 1) * cell_h)
            decoded.extend(_decode(zxing, image.crop(tuple(round(v) for v in box))))
    assert decoded == [card.url for card in cards]


def test_card_sheet_text_keeps_accents_and_apostrophes(card_sheet, pdfium):
    first, second = (_text(page) for page in _pages(pdfium, card_sheet))
    assert "Ñoño Pérez" in first
    assert "Dr. H. Ma'ruf, M.Si." in first
    assert "Yohanes O'Brien Situmorang" in first
    for card in _cards()[:8]:
        assert card.name in first
        assert card.code in first
        assert f"{card.couple_code} · {card.role_label}" in first
        assert f"Nama pengguna: {card.username}" in first
    assert first.count("Berlaku sampai 13 November 2024.") == 8
    assert "Zulkifli" in second and "K7P9-9QXM" in second
    assert "Ñoño" not in second
    for text in (first, second):
        assert COHORT in text
        assert TITLE in text
        assert "Kemudian pilih kata sandi Anda sendiri." in text


def test_card_with_a_very_long_name_stays_usable(pdfium, zxing):
    card = Card(
        name=LONG_NAME,
        couple_code="TNG24-017",
        role_label="Pasangan",
        code="ABCD-EFGH",
        url=f"{BASE}/activate?code=ABCD-EFGH",
        username="u" * 64,
        valid_until="Berlaku sampai 13 November 2024.",
    )
    data = activation_cards_pdf(
        [card],
        title=TITLE,
        instructions=INSTRUCTIONS,
        cohort=COHORT,
        username_label="Nama pengguna",
    )
    assert data.startswith(b"%PDF-")
    (page,) = _pages(pdfium, data)
    image = _image(page)
    assert _decode(zxing, image.crop((0, 0, image.width // 2, image.height // 4))) == [card.url]
    text = _text(page)
    assert "Prof. Dr. Ir. Raden Mas" in text
    assert "ABCD-EFGH" in text
    assert "TNG24-017 · Pasangan" in text
    assert "Nama pengguna: uuuuuuuu" in text and "Berlaku sampai 13 November 2024." in text
    # Nothing of the card was pushed past its cell: beyond the cut lines the page is blank.
    cell_w, cell_h = image.width // 2, image.height // 4
    beside = image.crop((cell_w + 10, 0, image.width, cell_h - 10))
    below = image.crop((0, cell_h + 10, image.width, image.height))
    assert beside.getextrema()[0] > 250
    assert below.getextrema()[0] > 250


def test_empty_card_list_still_gives_a_pdf(pdfium):
    data = activation_cards_pdf([], title=TITLE, instructions=INSTRUCTIONS, cohort=COHORT)
    assert data.startswith(b"%PDF-")
    assert len(pdfium.PdfDocument(data)) == 1


def test_cohort_cards_pdf_shows_username_and_expiry_in_the_readers_language(
    client, mini, settings, pdfium
):
    """The facilitator's PDF: each card with its username and the code's last day, as a date
    in Jakarta (the code expires at 03:00 WIB on 1 April, still 31 March in UTC)."""
    from datetime import UTC, datetime

    from app.accounts.models import User
    from app.cohorts.service import activation_issue
    from tests.conftest import login, post_form
    from tests.factories import PASSWORD, make_cohort, make_couple, make_user

    fasi = make_user(mini, settings, "rina", "facilitator")
    cohort = make_cohort(mini, "uji", facilitator=fasi)
    official, spouse = make_couple(mini, settings, cohort, "tng26-001")
    issued = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)
    with mini.write() as session:
        for person in (official, spouse):
            session.get(User, person.id).password_hash = None
            activation_issue(session, user_id=person.id, now=issued, days=30, secret=SECRET)
    login(client, "rina", PASSWORD)
    response = client.get("/facilitator/cohorts/uji/cards.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    (page,) = _pages(pdfium, response.content)
    text = _text(page)
    for person in (official, spouse):
        assert f"Nama pengguna: {person.username}" in text
    assert text.count("Berlaku sampai 1 April 2026.") == 2
    assert "31 Maret" not in text
    post_form(client, "/language", {"locale": "en", "next": "/facilitator"})
    (page,) = _pages(pdfium, client.get("/facilitator/cohorts/uji/cards.pdf").content)
    text = _text(page)
    assert f"Username: {official.username}" in text
    assert "Valid until 1 April 2026." in text


# --- certificate --------------------------------------------------------------------------


def test_certificate_is_one_landscape_a4_page(certificate, pdfium):
    assert certificate.startswith(b"%PDF-")
    doc = pdfium.PdfDocument(certificate)
    assert len(doc) == 1
    assert tuple(round(v) for v in doc[0].get_size()) == A4_PT[::-1]
    assert doc.get_metadata_dict()["Title"] == "Keluarga Berintegritas"


def test_certificate_qr_code_opens_the_verification_page(certificate, pdfium, zxing):
    (page,) = _pages(pdfium, certificate)
    assert _decode(zxing, _image(page)) == [f"{BASE}/verify/KB-7Q2M-X9TA"]


def test_certificate_text(certificate, pdfium):
    (page,) = _pages(pdfium, certificate)
    text = _text(page)
    for expected in (
        "Sertifikat Keluarga Berintegritas",
        "Dr. H. Ma'ruf Ñoño Pérez, M.Si.",
        "menandatangani Pakta Integritas Keluarga.",
        COHORT,
        "15 Oktober 2024",
        "KB-7Q2M-X9TA",
        "Periksa keabsahan sertifikat ini:",
        f"{BASE}/verify/KB-7Q2M-X9TA",
    ):
        assert expected in text


def test_certificate_with_a_very_long_name(pdfium, zxing):
    data = _certificate(name=LONG_NAME)
    assert data.startswith(b"%PDF-")
    (page,) = _pages(pdfium, data)
    assert _decode(zxing, _image(page)) == [f"{BASE}/verify/KB-7Q2M-X9TA"]
    text = _text(page)
    assert "Prof. Dr. Ir. Raden Mas" in text
    assert "15 Oktober 2024" in text
    assert "KB-7Q2M-X9TA" in text


def _signature_png() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (600, 200), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(20, 150), (200, 40), (350, 160)], fill=(20, 20, 120), width=8)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


FACTS = {
    "workshop": "Lokakarya 14–15 Oktober 2024 di Hotel Novotel Kota Tangerang",
    "organizers": "Diselenggarakan oleh Pemerintah Kota Tangerang dan Komisi Pemberantasan Korupsi",
    "signatory_title": "Sekretaris Daerah Kota Tangerang",
    "signatory_name": "Nama Contoh, S.H.",
    "esign_label": "Tempat tanda tangan elektronik",
}


@pytest.mark.parametrize("hours", ["18 JP (lokakarya 16 JP + e-learning 2 JP)", ""])
def test_certificate_with_every_fact(pdfium, zxing, hours):
    data = certificate_pdf(
        **{**_certificate_kwargs(), **FACTS}, hours=hours, signature=_signature_png()
    )
    doc = pdfium.PdfDocument(data)
    assert len(doc) == 1
    (page,) = list(doc)
    assert _decode(zxing, _image(page)) == [f"{BASE}/verify/KB-7Q2M-X9TA"]
    text = _text(page)
    for expected in (*FACTS.values(), "15 Oktober 2024", COHORT, "KB-7Q2M-X9TA"):
        assert expected in text
    assert ("JP" in text) is bool(hours)


def test_long_venue_and_organizers_wrap_and_stay_on_the_page(pdfium, zxing):
    venue = "Gedung Pusat Pemerintahan Kota Tangerang, Jalan Satria Sudirman Nomor 1, " * 3
    organizers = "Pemerintah Kota Tangerang, Komisi Pemberantasan Korupsi Republik Indonesia, " * 3
    data = certificate_pdf(
        **{
            **_certificate_kwargs(name=LONG_NAME),
            **FACTS,
            "workshop": f"Lokakarya 14–15 Oktober 2024 di {venue}",
            "organizers": f"Diselenggarakan oleh {organizers}",
        },
        hours="18 JP (lokakarya 16 JP + e-learning 2 JP)",
        signature=_signature_png(),
    )
    doc = pdfium.PdfDocument(data)
    assert len(doc) == 1
    (page,) = list(doc)
    assert _decode(zxing, _image(page)) == [f"{BASE}/verify/KB-7Q2M-X9TA"]
    text = _text(page)
    assert "Lokakarya 14–15 Oktober 2024 di Gedung Pusat" in text
    assert "Diselenggarakan oleh Pemerintah Kota Tangerang" in text
    assert "18 JP (lokakarya 16 JP + e-learning 2 JP)" in text
    assert "Nama Contoh, S.H." in text and "15 Oktober 2024" in text
    # every character of the page lies inside the certificate's inner frame (16 mm)
    textpage = page.get_textpage()
    try:
        width, height = page.get_size()
        margin = 16 / 25.4 * 72
        for i in range(textpage.count_chars()):
            left, bottom, right, top = textpage.get_charbox(i)
            if right > left:
                assert margin <= left and right <= width - margin, i
                assert margin <= bottom and top <= height - margin, i
    finally:
        textpage.close()
