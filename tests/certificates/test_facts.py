"""What a certificate states, on the PDF and at /verify: the cohort's workshop, organizers
and signatory for both partners; the training hours (JP) for the official only."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime

import pytest
from PIL import Image
from sqlalchemy import update

from app.certificates.models import Certificate
from app.cohorts.models import Cohort
from tests.conftest import login, post_form
from tests.factories import PASSWORD, make_cohort, make_couple

ISSUED = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
JP_LINE = re.compile(r"\d+ JP \(")
ORGANIZERS = "Pemerintah Kota Uji dan Komisi Pemberantasan Korupsi"


def _signature_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (300, 100), "white").save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def couple(mini, settings):
    """A couple of cohort ``uji`` (workshop 14–15 October 2026, 16 JP rounded up: the fixture
    lessons take 3 + 4 + 5 = 12 minutes, 1 JP up, 0 to the nearest) with a certificate each."""
    cohort = make_cohort(mini, "uji", workshop_start=date(2026, 10, 14))
    official, spouse = make_couple(mini, settings, cohort, "tng26-001")
    with mini.write() as session:
        session.execute(
            update(Cohort).values(
                jp_workshop=16,
                jp_rounding="up",
                venue="Aula Kantor Wali Kota Uji",
                organizers=ORGANIZERS,
                signatory_title="Sekretaris Daerah Kota Uji",
                signatory_name="Nama Contoh, S.H.",
                signature_image=_signature_png(),
                signature_type="image/png",
            )
        )
        session.add(Certificate(user_id=official.id, code="KB-OFFICIAL01", issued_at=ISSUED))
        session.add(Certificate(user_id=spouse.id, code="KB-SPOUSE0001", issued_at=ISSUED))
    return official, spouse


@pytest.fixture
def pdfium():
    return pytest.importorskip("pypdfium2")


def _pdf_text(pdfium, data: bytes) -> str:
    doc = pdfium.PdfDocument(data)
    assert len(doc) == 1  # one page, whatever it states
    textpage = doc[0].get_textpage()
    try:
        return " ".join(textpage.get_text_range().split())
    finally:
        textpage.close()


def _certificate_text(make_client, pdfium, username: str, locale: str = "en") -> str:
    client = make_client()
    login(client, username, PASSWORD)
    post_form(client, "/language", {"locale": locale, "next": "/family"})
    response = client.get("/family/certificate.pdf")
    assert response.status_code == 200, response.text
    return _pdf_text(pdfium, response.content)


def test_the_officials_certificate_states_the_jp_and_the_spouses_does_not(
    couple, make_client, pdfium
):
    official = _certificate_text(make_client, pdfium, "tng26-001-a")
    spouse = _certificate_text(make_client, pdfium, "tng26-001-b")
    assert "17 JP (workshop 16 JP + e-learning 1 JP)" in official
    assert JP_LINE.search(official)
    assert JP_LINE.search(spouse) is None and " JP" not in spouse
    for text, name in ((official, "tng26-001 a"), (spouse, "tng26-001 b")):
        assert name in text
        assert "Angkatan uji" in text
        assert "14–15 October 2026" in text and "Aula Kantor Wali Kota Uji" in text
        assert ORGANIZERS in text
        assert "Sekretaris Daerah Kota Uji" in text and "Nama Contoh, S.H." in text
        assert "Reserved for an electronic signature" in text
        assert "1 March 2026" in text  # the day it was issued


def test_in_indonesian_the_facts_are_there_too(couple, make_client, pdfium):
    official = _certificate_text(make_client, pdfium, "tng26-001-a", locale="id")
    spouse = _certificate_text(make_client, pdfium, "tng26-001-b", locale="id")
    assert "14–15 Oktober 2026" in official and "17 JP (" in official
    assert "14–15 Oktober 2026" in spouse and JP_LINE.search(spouse) is None


@pytest.mark.parametrize(("rounding", "expected"), [("down", 16), ("nearest", 16), ("up", 17)])
def test_the_cohorts_rounding_decides_the_elearning_jp(
    couple, mini, make_client, pdfium, client, rounding, expected
):
    with mini.write() as session:
        session.execute(update(Cohort).values(jp_rounding=rounding))
    text = _certificate_text(make_client, pdfium, "tng26-001-a")
    elearning = expected - 16
    assert f"{expected} JP (workshop 16 JP + e-learning {elearning} JP)" in text
    client.cookies.set("lang", "en")
    page = client.get("/verify/KB-OFFICIAL01").text
    assert f"{expected} JP (workshop 16 JP + e-learning {elearning} JP)" in page


def test_verify_shows_the_facts_and_the_jp_only_for_the_official(couple, client):
    client.cookies.set("lang", "en")
    official = client.get("/verify/KB-OFFICIAL01")
    spouse = client.get("/verify/kb-spouse0001")
    assert official.status_code == spouse.status_code == 200
    assert "17 JP (workshop 16 JP + e-learning 1 JP)" in official.text
    assert "Training hours" in official.text
    assert JP_LINE.search(spouse.text) is None and "Training hours" not in spouse.text
    for page in (official.text, spouse.text):
        assert "Angkatan uji" in page
        assert "14–15 October 2026" in page and "Aula Kantor Wali Kota Uji" in page
        assert ORGANIZERS in page
        assert "Nama Contoh, S.H., Sekretaris Daerah Kota Uji" in page


def test_a_cohort_without_organizers_or_signatory_still_gives_a_certificate(
    mini, settings, make_client, pdfium, client
):
    cohort = make_cohort(mini, "uji", workshop_start=date(2026, 10, 14))
    official, _ = make_couple(mini, settings, cohort, "tng26-002")
    with mini.write() as session:
        session.add(Certificate(user_id=official.id, code="KB-PLAIN00001", issued_at=ISSUED))
    text = _certificate_text(make_client, pdfium, "tng26-002-a")
    # no workshop JP set and 12 minutes of lessons, to the nearest JP: 0 + 0
    assert "0 JP (workshop 0 JP + e-learning 0 JP)" in text
    assert "Organized by" not in text
    client.cookies.set("lang", "en")
    page = client.get("/verify/KB-PLAIN00001").text
    assert "Organizers" not in page and "Signed by" not in page


def test_a_certificate_keeps_the_elearning_minutes_it_was_issued_with(couple, mini, client):
    """The lessons may change after a certificate is given: its JP come from the minutes it
    keeps. (One issued before the minutes were kept, as the fixture's, follows the lessons.)"""

    def jp(code: str) -> str:
        post_form(client, "/language", {"locale": "en", "next": f"/verify/{code}"}, page="/login")
        page = client.get(f"/verify/{code}").text
        found = JP_LINE.search(page)
        assert found, page
        return page[found.start() : found.start() + 40]

    assert jp("KB-OFFICIAL01").startswith("17 JP (")  # 16 + today's 12 minutes, rounded up
    with mini.write() as session:
        session.execute(
            update(Certificate)
            .where(Certificate.code == "KB-OFFICIAL01")
            .values(elearning_minutes=100)
        )
    assert jp("KB-OFFICIAL01").startswith("19 JP (")  # 100 minutes kept: 3 JP up
