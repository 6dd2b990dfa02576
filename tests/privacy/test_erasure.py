"""Withdrawal and erasure (UU No. 27 Tahun 2022): a withdrawal stops the processing and opens
a request due in 3 × 24 hours, listed for the administrator and the cohort's facilitator; the
administrator's one action removes every identifying field from every table (the whole
database is searched) while KPK's aggregates stay equal and the partner keeps working;
retention pseudonymizes exactly the expired cohorts, and its dry run changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from app import cli
from app.accounts.models import AuditLog, User
from app.certificates.models import Certificate
from app.cohorts.models import Cohort, Couple
from app.curriculum.service import CONTENT_VERSION, load_curriculum
from app.db import metadata
from app.demo import seed_demo
from app.family.models import FamilyReflection
from app.privacy.models import ConsentRecord, ErasureRequest
from app.reports import service as reports
from app.reports.models import participant_summary
from tests.conftest import csrf_of, login
from tests.factories import PASSWORD, make_user

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


@pytest.fixture
def demo(mini, settings, time_machine):
    time_machine.move_to(NOW, tick=False)
    seed_demo(mini, settings)
    return mini


def finisher(db) -> tuple[User, User]:
    """A historic participant with a certificate, a NIP, a phone and a reflection of their
    own, and their partner."""
    with db.read() as session:
        person = (
            session.execute(
                select(User)
                .where(
                    User.id.in_(select(Certificate.user_id)),
                    User.id.in_(select(FamilyReflection.written_by)),
                    User.nip.is_not(None),
                    User.contact.like("+62%"),
                )
                .order_by(User.username)
            )
            .scalars()
            .first()
        )
        assert person is not None
        partner = session.execute(
            select(User).where(User.couple_id == person.couple_id, User.id != person.id)
        ).scalar_one()
        return person, partner


def dump(db) -> str:
    """Every row of every table, as text."""
    with db.read() as session:
        return "\n".join(
            repr(row)
            for table in metadata.sorted_tables
            for row in session.execute(select(table)).all()
        )


def aggregates(db, settings) -> tuple:
    with db.read() as session:
        curriculum = load_curriculum(session, session.execute(CONTENT_VERSION).scalar_one())
        f = reports.parse_filter(session)
        summary = session.execute(
            select(participant_summary).order_by(participant_summary.c.user_id)
        ).all()
        return (
            reports.funnel(session, f=f, curriculum=curriculum, k=5, group_by="cohort"),
            reports.gain(session, f=f, curriculum=curriculum, k=5, group_by="cohort"),
            summary,
        )


def withdraw(client) -> None:
    page = client.get("/account/data")
    refused = client.post(
        "/account/data/withdraw", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert refused.status_code == 422 and "Centang kotak" in refused.text
    done = client.post(
        "/account/data/withdraw",
        data={"csrf_token": csrf_of(page.text), "understood": "yes"},
        follow_redirects=False,
    )
    assert done.status_code == 303


def test_withdrawal_opens_a_request_and_stops_the_processing(demo, settings, make_client):
    person, _ = finisher(demo)
    client = make_client()
    login(client, person.username)
    withdraw(client)
    with demo.read() as session:
        request = session.execute(select(ErasureRequest)).scalar_one()
        assert request.user_id == person.id and request.status == "open"
        assert (request.due_at - request.received_at).total_seconds() == 72 * 3600
        assert session.get(User, person.id).consent_version is None
        actions = (
            session.execute(select(ConsentRecord.action).where(ConsentRecord.user_id == person.id))
            .scalars()
            .all()
        )
        assert actions[-1] == "withdrawn"
    # learning waits for a consent; their own data stay open to them, with the deadline
    assert client.get("/learn", follow_redirects=False).status_code == 303
    mine = client.get("/account/data")
    assert mine.status_code == 200 and "paling lambat" in mine.text
    # the cohort's facilitator sees it with the time left, without a name; a participant not
    staff = make_client()
    login(staff, "fasilitator")
    listed = staff.get("/privacy/requests")
    assert listed.status_code == 200 and "72 jam" in listed.text
    assert person.display_name not in listed.text and person.username not in listed.text
    assert "Hapus sekarang" not in listed.text  # only an administrator carries it out
    make_user(demo, settings, "fasilitator-lain", "facilitator")  # of no cohort
    elsewhere = make_client()
    login(elsewhere, "fasilitator-lain", PASSWORD)
    assert "Tidak ada permintaan." in elsewhere.get("/privacy/requests").text
    assert client.get("/privacy/requests", follow_redirects=False).status_code in (303, 403)
    # agreeing again before it is carried out cancels it
    question = client.get("/privacy/consent")
    assert "Anda telah menarik persetujuan" in question.text
    client.post(
        "/privacy/consent",
        data={"csrf_token": csrf_of(question.text), "version": "1", "consent": "yes"},
    )
    with demo.read() as session:
        assert session.execute(select(ErasureRequest.status)).scalar_one() == "cancelled"
    assert client.get("/learn").status_code == 200


def test_erasure_removes_every_identifying_field_and_keeps_the_aggregates(
    demo, settings, make_client
):
    person, partner = finisher(demo)
    with demo.read() as session:
        own_texts = (
            session.execute(
                select(FamilyReflection.text).where(FamilyReflection.written_by == person.id)
            )
            .scalars()
            .all()
        )
    identifying = [person.display_name, person.username, person.nip, person.contact]
    assert all(identifying) and all(w in dump(demo) for w in identifying)
    assert own_texts
    before = aggregates(demo, settings)
    client = make_client()
    login(client, person.username)
    withdraw(client)
    admin = make_client()
    login(admin, "admin")
    page = admin.get("/privacy/requests")
    assert "Hapus sekarang" in page.text
    with demo.read() as session:
        request_id = session.execute(select(ErasureRequest.id)).scalar_one()
    erased = admin.post(
        f"/privacy/requests/{request_id}/erase",
        data={"csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert erased.status_code == 303
    everything = dump(demo)
    for word in identifying:
        assert word not in everything, word
    assert aggregates(demo, settings) == before
    with demo.read() as session:
        # (the demo's families share their wording: the texts are checked row by row)
        assert session.execute(
            select(FamilyReflection.text, FamilyReflection.reply).where(
                FamilyReflection.written_by == person.id
            )
        ).all() == [("", None)] * len(own_texts)
        user = session.get(User, person.id)
        assert user.username == f"dihapus-{person.id}" and user.erased_at is not None
        assert not user.is_active and user.password_hash == "!erased"
        assert (
            session.execute(
                select(Certificate.revoked_at).where(Certificate.user_id == person.id)
            ).scalar_one()
            is not None
        )
        entry = session.execute(
            select(AuditLog).where(AuditLog.action == "privacy.erased")
        ).scalar_one()
        assert entry.target == f"user:{person.id}" and entry.detail["source"] == "participant"
        assert session.get(ErasureRequest, request_id).status == "done"
    # signed out and unable to sign in again; the partner keeps working
    assert client.get("/account/data", follow_redirects=False).status_code == 303
    assert login(make_client(), person.username).status_code == 401
    other = make_client()
    login(other, partner.username)
    learn = other.get("/learn")
    assert learn.status_code == 200 and "Pasangan Anda telah menghapus datanya" in learn.text
    assert other.get("/family").status_code == 200
    # a closed request cannot be carried out again
    again = admin.post(
        f"/privacy/requests/{request_id}/erase", data={"csrf_token": csrf_of(page.text)}
    )
    assert again.status_code == 409


def test_a_request_by_letter(demo, make_client):
    person, _ = finisher(demo)
    admin = make_client()
    login(admin, "admin")
    page = admin.get("/privacy/requests")
    token = csrf_of(page.text)
    empty = admin.post("/privacy/requests", data={"csrf_token": token, "username": person.username})
    assert empty.status_code == 422 and "surat" in empty.text
    unknown = admin.post(
        "/privacy/requests", data={"csrf_token": token, "username": "tidak-ada", "note": "Surat 1"}
    )
    assert unknown.status_code == 422
    made = admin.post(
        "/privacy/requests",
        data={"csrf_token": token, "username": person.username, "note": "Surat 12/2026"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    with demo.read() as session:
        request = session.execute(select(ErasureRequest)).scalar_one()
        assert request.source == "letter" and request.note == "Surat 12/2026"


def test_retention_dry_run_changes_nothing_and_the_run_erases_exactly_the_expired(
    demo, settings, monkeypatch, time_machine
):
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    monkeypatch.setattr(cli, "_database", lambda: demo)
    settings.retention_years = 1  # tng-2024's learning closed in December 2024
    runner = CliRunner()
    before = dump(demo)
    dry = runner.invoke(cli.app, ["retention", "run", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "1 cohort(s) past it, 80 participant(s) would be pseudonymized" in dry.output
    assert "tng-2024: 80" in dry.output
    assert dump(demo) == before
    aggregates_before = aggregates(demo, settings)
    run = runner.invoke(cli.app, ["retention", "run"])
    assert run.exit_code == 0 and "80 participant(s) pseudonymized" in run.output
    with demo.read() as session:
        rows = session.execute(
            select(Cohort.slug, User.erased_at)
            .join(Couple, Couple.cohort_id == Cohort.id)
            .join(User, User.couple_id == Couple.id)
        ).all()
    assert {slug for slug, erased in rows if erased is not None} == {"tng-2024"}
    assert all(erased is None for slug, erased in rows if slug != "tng-2024")
    assert aggregates(demo, settings) == aggregates_before
    again = runner.invoke(cli.app, ["retention", "run"])
    assert "0 participant(s) pseudonymized" in again.output
