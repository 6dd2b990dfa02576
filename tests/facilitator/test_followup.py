"""The facilitator's view of the follow-ups — the page after the workshop and the cohort
report PDF: the survey's distributions and open answers only from k answers on and never with
a name, the check-ins per round, pre → post → 90 days."""

from __future__ import annotations

import re

import pytest

from app.db import saved_id
from tests.conftest import login, post_form
from tests.factories import PASSWORD, make_user
from tests.reports.followup_data import OPEN_ANSWER, add_survey, answers, build_country
from tests.reports.test_pages import section, text_of

USEFUL = "Belajar bersama sangat membantu kami"


@pytest.fixture
def staff(mini, settings, make_client):
    ids = build_country(mini, settings)
    # sedang: two more answers, one with an open answer (8 answers: shown)
    add_survey(mini, ids["sedang"], [answers(5, paling_berguna=USEFUL), answers(3)])
    make_user(mini, settings, "pengelola", "admin")
    client = make_client()
    login(client, "pengelola", PASSWORD)
    # the figures are read in English here; the Indonesian pages are the translation's tests
    post_form(client, "/language", {"locale": "en", "next": "/facilitator"}, page="/facilitator")
    return client


def test_the_page_shows_distributions_check_ins_and_what_stayed(staff):
    response = staff.get("/facilitator/cohorts/besar/evaluation")
    assert response.status_code == 200
    html = response.text
    survey = section(html, "survey")
    assert survey.count("<svg") == 9  # eight statements and the recommend question
    text = text_of(survey)
    assert "8 participants answered the survey" in text
    # every statement: 5, 5, 5, 4, 4, 3, 2, 1 — the numbers beside the bars
    assert "Strongly agree: 3" in text and "Agree: 2" in text and "Strongly disagree: 1" in text
    assert "mean 3.6 of 5" in text and "5 (62%)" in text  # 29 / 8; agreed 5 of 8
    checkins = text_of(section(html, "checkins"))
    assert "6 (100%)" in checkins and "5 (83%)" in checkins  # answered 6 of 6, kept 5 of 6
    assert " 23 (96%)" in checkins and " 1 (4%)" in checkins  # 24 marks, one "partly"
    retention = text_of(section(html, "retention"))
    assert "25.0%" in retention and "100.0%" in retention and "75.0%" in retention


def test_open_answers_are_listed_without_names(staff):
    html = staff.get("/facilitator/cohorts/sedang/evaluation").text
    survey = section(html, "survey")
    assert USEFUL in survey
    answers_list = re.search(r'<ul class="open-answers">(.*?)</ul>', survey, re.S).group(1)
    assert text_of(answers_list) == USEFUL  # the answer alone: no name, no date
    for person in ("sed-001", "Sed-001", "sed-002", "sed-003"):
        assert person not in survey


def test_fewer_than_k_answers_show_nothing_but_how_many(staff):
    html = staff.get("/facilitator/cohorts/kecil/evaluation").text
    survey = section(html, "survey")
    assert "<svg" not in survey and OPEN_ANSWER not in html
    assert "3 participants answered the survey" in text_of(survey)
    assert "at least 5" in text_of(survey)


def test_the_report_pdf_carries_the_three_sections(staff):
    pdfium = pytest.importorskip("pypdfium2")

    def texts(slug: str) -> str:
        response = staff.get(f"/facilitator/cohorts/{slug}/report.pdf")
        assert response.status_code == 200
        pdf = pdfium.PdfDocument(response.content)
        out = []
        for page in pdf:
            out.append(" ".join(page.get_textpage().get_text_range().split()))
        return " ".join(out)

    besar = texts("besar")
    for heading in (
        "How participants judged the workshop",
        "What families did afterwards",
        "What stayed",
    ):
        assert heading in besar
    assert "8 participants answered the survey" in besar
    assert "25.0 → 100.0 → 75.0" in besar
    kecil = texts("kecil")
    assert "3 participants answered the survey" in kecil and OPEN_ANSWER not in kecil
    sedang = texts("sedang")
    assert USEFUL in sedang


def test_another_facilitators_cohort_is_not_found(mini, settings, make_client):
    ids = build_country(mini, settings)
    assert saved_id  # the cohorts exist
    make_user(mini, settings, "rina", "facilitator")
    client = make_client()
    login(client, "rina", PASSWORD)
    assert ids and client.get("/facilitator/cohorts/besar/evaluation").status_code == 404
