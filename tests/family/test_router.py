"""The family space: reflections, the pledge, certificates and their public check."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.certificates.models import Certificate
from app.family.models import FamilyReflection, PledgeSignature
from tests.conftest import complete, csrf_of, login, post_form, take_quiz
from tests.factories import make_cohort, make_couple, make_user

PW = "kata-sandi-uji-123"
TODAY = date(2026, 3, 2)


@pytest.fixture
def couple(mini, settings, time_machine):
    time_machine.move_to("2026-03-02 03:00:00+00:00", tick=False)
    fasi = make_user(mini, settings, "rina", "facilitator")
    cohort = make_cohort(mini, "uji", workshop_start=TODAY + timedelta(days=7), facilitator=fasi)
    return cohort, make_couple(mini, settings, cohort, "tng26-001")


@pytest.fixture
def pair(couple, make_client):
    a, b = make_client(), make_client()
    login(a, "tng26-001-a", PW)
    login(b, "tng26-001-b", PW)
    return a, b


def finish_everything(client, db, time_machine):
    take_quiz(client, db, "pre-test", right=0.5)
    complete(client, "awal")
    complete(client, "kedua")
    take_quiz(client, db, "kuis-satu")
    time_machine.move_to("2026-03-11 03:00:00+00:00", tick=False)
    complete(client, "ketiga")
    take_quiz(client, db, "kuis-dua")
    take_quiz(client, db, "post-test")


def write(client, slug, text):
    return post_form(client, f"/family/reflections/{slug}", {"text": text}, page="/family")


def test_family_page_shows_both_partners(pair):
    a, _ = pair
    page = a.get("/family")
    assert page.status_code == 200
    assert "Ruang keluarga" in page.text and "tng26-001 b" in page.text
    assert "Apa yang kita pelajari?" in page.text  # the module's discussion prompt


def test_reflection_written_by_one_confirmed_by_the_other(pair, mini):
    a, b = pair
    for who in (a, b):
        take_quiz(who, mini, "pre-test", right=0.5)
    early = write(a, "satu", "Kami sepakat jujur soal penghasilan.")
    assert early.status_code == 409 and "Selesaikan dulu pelajaran" in early.text
    complete(a, "awal")
    complete(a, "kedua")
    assert write(a, "satu", "Kami sepakat jujur soal penghasilan.").status_code == 303
    own = post_form(a, "/family/reflections/satu/confirm", page="/family")
    assert own.status_code == 409 and "tidak bisa menyetujui tulisan sendiri" in own.text
    page = b.get("/family").text
    assert "Kami sepakat jujur soal penghasilan." in page and "Saya setuju" in page
    assert post_form(b, "/family/reflections/satu/confirm", page="/family").status_code == 303
    with mini.read() as session:
        row = session.execute(select(FamilyReflection)).scalar_one()
        assert row.confirmed_by is not None
    # an edit needs the other partner to confirm again
    complete(b, "awal")
    complete(b, "kedua")
    write(b, "satu", "Kami sepakat jujur dan hidup sederhana.")
    with mini.read() as session:
        row = session.execute(select(FamilyReflection)).scalar_one()
        assert row.confirmed_at is None and row.text.endswith("hidup sederhana.")


def test_reflection_input_is_checked(pair, mini):
    a, _ = pair
    take_quiz(a, mini, "pre-test")
    complete(a, "awal")
    complete(a, "kedua")
    assert write(a, "satu", "   ").status_code == 422
    assert write(a, "satu", "x" * 5001).status_code == 422
    assert write(a, "tidak-ada", "teks").status_code == 404
    page = write(a, "satu", "<script>alert(1)</script>")
    assert page.status_code == 303
    assert "<script>alert(1)</script>" not in a.get("/family").text


def test_another_couple_never_sees_or_touches_our_reflection(
    pair, mini, settings, couple, make_client
):
    a, _ = pair
    cohort, _ = couple
    make_couple(mini, settings, cohort, "tng26-002")
    other = make_client()
    login(other, "tng26-002-a", PW)
    take_quiz(a, mini, "pre-test")
    complete(a, "awal")
    complete(a, "kedua")
    write(a, "satu", "Rahasia keluarga kami.")
    assert "Rahasia keluarga kami." not in other.get("/family").text
    confirm = post_form(other, "/family/reflections/satu/confirm", page="/family")
    assert confirm.status_code == 409  # their own couple has nothing to confirm
    with mini.read() as session:
        row = session.execute(select(FamilyReflection)).scalar_one()
        assert row.confirmed_at is None
        reflection_id = row.id
    # a facilitator of another cohort cannot reply to it, even with its id
    make_user(mini, settings, "fasi-lain", "facilitator")
    make_cohort(mini, "lain", facilitator=None)
    stranger = make_client()
    login(stranger, "fasi-lain", PW)
    reply = post_form(
        stranger,
        f"/facilitator/cohorts/uji/reflections/{reflection_id}/reply",
        {"text": "Bagus"},
        page="/facilitator",
    )
    assert reply.status_code == 404


def test_facilitator_replies_to_a_reflection(pair, mini, make_client):
    a, _ = pair
    take_quiz(a, mini, "pre-test")
    complete(a, "awal")
    complete(a, "kedua")
    write(a, "satu", "Kami belajar banyak.")
    with mini.read() as session:
        reflection_id = session.execute(select(FamilyReflection.id)).scalar_one()
    fasi = make_client()
    login(fasi, "rina", PW)
    page = fasi.get("/facilitator/cohorts/uji/reflections")
    assert "Kami belajar banyak." in page.text
    response = post_form(
        fasi,
        f"/facilitator/cohorts/uji/reflections/{reflection_id}/reply",
        {"text": "Terima kasih, terus semangat!"},
        page="/facilitator/cohorts/uji/reflections",
    )
    assert response.status_code == 303
    assert "Terima kasih, terus semangat!" in a.get("/family").text


def test_pledge_after_the_post_test_once_and_for_good(pair, mini, time_machine):
    a, _ = pair
    early = post_form(a, "/family/pledge", page="/family")
    assert early.status_code == 409 and "setelah tes akhir" in early.text
    finish_everything(a, mini, time_machine)
    assert post_form(a, "/family/pledge", page="/family").status_code == 303
    assert post_form(a, "/family/pledge", page="/family").status_code == 303  # no second row
    with mini.read() as session:
        assert session.query(PledgeSignature).count() == 1
    page = a.get("/family")
    assert "menandatangani pada" in page.text
    assert (
        a.delete("/family/pledge", headers={"X-CSRF-Token": csrf_of(page.text)}).status_code == 405
    )  # no way to unsign


def test_certificates_when_the_couple_is_complete_and_their_check(
    pair, mini, time_machine, settings, client
):
    a, b = pair
    finish_everything(a, mini, time_machine)
    time_machine.move_to("2026-03-02 03:00:00+00:00", tick=False)
    finish_everything(b, mini, time_machine)
    write(a, "satu", "Refleksi modul satu.")
    write(a, "dua", "Refleksi modul dua.")
    for slug in ("satu", "dua"):
        post_form(b, f"/family/reflections/{slug}/confirm", page="/family")
    post_form(a, "/family/pledge", page="/family")
    with mini.read() as session:
        assert session.query(Certificate).count() == 0  # one signature is missing
    post_form(b, "/family/pledge", page="/family")
    with mini.read() as session:
        certificates = session.execute(select(Certificate)).scalars().all()
    assert len(certificates) == 2
    # each keeps the e-learning's minutes of the day it was issued (the fixture's 3 + 4 + 5)
    assert [c.elearning_minutes for c in certificates] == [12, 12]
    page = a.get("/family").text
    assert "Unduh sertifikat saya" in page
    pdf = a.get("/family/certificate.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    mine = next(c for c in certificates if c.code in page)
    check = client.get(f"/verify/{mine.code}")
    assert check.status_code == 200 and "Sah." in check.text
    assert "tng26-001 a" in check.text and "Angkatan uji" in check.text
    assert "kontak" not in check.text.lower() and "tng26-001-a" not in check.text
    unknown = client.get("/verify/KB-TIDAKADA00")
    assert unknown.status_code == 404
    assert "Tidak ditemukan." in unknown.text and "KB-TIDAKADA00" in unknown.text
    assert "tng26-001 a" not in unknown.text
    assert f"http://testserver/verify/{mine.code}</a>" in page
    # an admin revokes it
    make_user(mini, settings, "boss")
    admin = client
    login(admin, "boss", PW)
    post_form(
        admin, "/admin/certificates/revoke", {"code": mine.code, "reason": "uji"}, page="/admin"
    )
    assert "Dicabut." in admin.get(f"/verify/{mine.code}").text
    assert a.get("/family/certificate.pdf").status_code == 404


def test_a_revoked_certificate_says_so_instead_of_offering_the_download(
    pair, mini, settings, make_client, time_machine
):
    a, _ = pair
    with mini.read() as session:
        official = session.execute(select(User).where(User.username == "tng26-001-a")).scalar_one()
    with mini.write() as session:
        session.add(
            Certificate(
                user_id=official.id,
                code="KB-UJI0000001",
                issued_at=datetime(2026, 3, 1, 3, 0, tzinfo=UTC),
            )
        )
    assert "/family/certificate.pdf" in a.get("/family").text
    make_user(mini, settings, "boss")
    admin = make_client()
    login(admin, "boss", PW)
    time_machine.move_to("2026-03-02 18:30:00+00:00", tick=False)  # 3 March in Jakarta
    post_form(
        admin,
        "/admin/certificates/revoke",
        {"code": "KB-UJI0000001", "reason": "Kehadiran <b>tidak</b> sesuai"},
        page="/admin",
    )
    post_form(a, "/language", {"locale": "en", "next": "/family"})
    page = a.get("/family")
    assert page.status_code == 200
    text = page.text
    assert "Your certificate was revoked on 3 March 2026." in text
    assert "Kehadiran &lt;b&gt;tidak&lt;/b&gt; sesuai" in text  # the reason, escaped
    assert "contact your facilitator: Rina." in text
    assert "/family/certificate.pdf" not in text and "Congratulations" not in text
    assert a.get("/family/certificate.pdf").status_code == 404
