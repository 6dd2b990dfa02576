"""Access records (UU No. 27 Tahun 2022): each staff view and export of personal data — a
couple's page, activation cards, the family reflections, the cohort's list — is recorded
(who, whose, what, when), shown in /admin/audit, and listed on the person's /account/data."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.accounts.models import AuditLog, User
from app.cohorts.models import Couple
from app.demo import seed_demo
from tests.conftest import csrf_of, login


@pytest.fixture
def demo(mini, settings, time_machine):
    time_machine.move_to("2026-11-28 10:00:00+07:00", tick=False)
    seed_demo(mini, settings)
    return mini


def entries(db, action: str) -> list[tuple[str, str | None]]:
    with db.read() as session:
        return [
            (actor, target)
            for actor, target in session.execute(
                select(User.username, AuditLog.target)
                .join(User, User.id == AuditLog.actor_id)
                .where(AuditLog.action == action)
                .order_by(AuditLog.id)
            ).all()
        ]


def test_each_staff_view_of_personal_data_is_recorded_and_shown_to_the_person(demo, make_client):
    with demo.read() as session:
        person, code = session.execute(
            select(User, Couple.code)
            .join(Couple, Couple.id == User.couple_id)
            .where(User.username == "tng24-003a")
        ).one()
        partner = session.execute(
            select(User).where(User.couple_id == person.couple_id, User.id != person.id)
        ).scalar_one()
        unactivated = (
            session.execute(select(User).where(User.username == "tngd-004b")).scalars().first()
        )
    staff = make_client()
    login(staff, "fasilitator")
    assert staff.get(f"/facilitator/cohorts/tng-2024/couples/{code}").status_code == 200
    assert entries(demo, "access.couple") == [
        ("fasilitator", f"user:{person.id}"),
        ("fasilitator", f"user:{partner.id}"),
    ]
    assert staff.get("/facilitator/cohorts/tng-2024/reflections").status_code == 200
    assert entries(demo, "access.reflections") == [("fasilitator", "cohort:tng-2024")]
    assert staff.get("/facilitator/cohorts/tng-demo/cards").status_code == 200
    assert staff.get("/facilitator/cohorts/tng-demo/cards.pdf").status_code == 200
    one = staff.get(f"/facilitator/cohorts/tng-demo/cards?participant={unactivated.id}")
    assert one.status_code == 200
    assert entries(demo, "access.cards") == [
        ("fasilitator", "cohort:tng-demo"),
        ("fasilitator", "cohort:tng-demo"),
        ("fasilitator", f"user:{unactivated.id}"),
    ]
    assert staff.get("/facilitator/cohorts/tng-2024/export.csv").status_code == 200
    assert ("fasilitator", "cohort:tng-2024") in entries(demo, "export.csv")
    # the administrator finds them in the audit log
    admin = make_client()
    login(admin, "admin")
    log = admin.get("/admin/audit?action=access.")
    assert log.status_code == 200 and "access.couple" in log.text and "access.cards" in log.text
    # the person sees who opened their data: their couple's page, the cohort's reflections
    # and list; not the cards of another cohort
    participant = make_client()
    login(participant, person.username)
    mine = participant.get("/account/data").text
    section = mine[mine.index("Siapa saja petugas") :]
    assert "Rina Fasilitator" in section
    assert "membuka halaman pasangan Anda" in section
    assert "membaca refleksi keluarga kelompok" in section
    assert "mengunduh daftar kelompok (CSV)" in section
    assert "mencetak kartu aktivasi" not in section


def test_the_facilitator_corrects_a_participants_details_with_an_audit_record(demo, make_client):
    with demo.read() as session:
        person = session.execute(select(User).where(User.username == "tng24-003a")).scalar_one()
    staff = make_client()
    login(staff, "fasilitator")
    path = f"/facilitator/cohorts/tng-2024/participants/{person.id}/details"
    form = staff.get(path)
    assert form.status_code == 200 and person.display_name in form.text
    token = csrf_of(form.text)
    base = {"csrf_token": token, "display_name": "Bapak Benar", "position": "Kepala Seksi"}
    bad = staff.post(path, data={**base, "nip": "1234", "contact": ""})
    assert bad.status_code == 422 and "18 angka" in bad.text
    with demo.read() as session:
        assert session.get(User, person.id).display_name == person.display_name
    done = staff.post(
        path,
        data={**base, "nip": "198501012010011001", "contact": "0812-1111-2222"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and "/couples/TNG24-003" in done.headers["location"]
    with demo.read() as session:
        now = session.get(User, person.id)
        assert (now.display_name, now.position, now.nip, now.contact) == (
            "Bapak Benar",
            "Kepala Seksi",
            "198501012010011001",
            "+6281211112222",
        )
        entry = session.execute(
            select(AuditLog).where(AuditLog.action == "participant.details")
        ).scalar_one()
        assert entry.target == f"user:{person.id}"
        assert entry.detail["fields"] == ["display_name", "position", "nip", "contact"]
        assert "Bapak Benar" not in repr(entry.detail)
    # a participant of another cohort than the one in the address is 404
    other = staff.get(f"/facilitator/cohorts/tng-demo/participants/{person.id}/details")
    assert other.status_code == 404


def test_whose_data_a_staff_account_reached_for_a_breach_notice(
    demo, settings, make_client, monkeypatch
):
    from typer.testing import CliRunner

    from app import cli

    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    monkeypatch.setattr(cli, "_database", lambda: demo)
    with demo.read() as session:
        person, code = session.execute(
            select(User, Couple.code)
            .join(Couple, Couple.id == User.couple_id)
            .where(User.username == "tng24-003a")
        ).one()
    staff = make_client()
    login(staff, "fasilitator")
    staff.get(f"/facilitator/cohorts/tng-2024/couples/{code}")
    runner = CliRunner()
    one = runner.invoke(cli.app, ["privacy", "affected", "--actor", "fasilitator"])
    assert one.exit_code == 0, one.output
    lines = [line.split("\t") for line in one.stdout.splitlines() if "\t" in line]
    assert sorted(line[0] for line in lines) == ["tng24-003a", "tng24-003b"]
    assert lines[0][3] == "tng-2024" and lines[0][4] == "access.couple"
    assert person.contact in one.stdout
    # the cohort's export reaches everyone in it
    staff.get("/facilitator/cohorts/tng-2024/export.csv")
    everyone = runner.invoke(
        cli.app, ["privacy", "affected", "--actor", "fasilitator", "--from", "2026-11-28"]
    )
    assert "80 participant account(s) reached." in everyone.output
    # nothing the day before; a whole cohort on its own (a lost list)
    before = runner.invoke(cli.app, ["privacy", "affected", "--to", "2026-11-27"])
    assert "0 participant account(s) reached." in before.output
    lost = runner.invoke(cli.app, ["privacy", "affected", "--cohort", "tng-demo"])
    assert "26 participant account(s) reached." in lost.output
    assert runner.invoke(cli.app, ["privacy", "affected"]).exit_code == 2
    bad = runner.invoke(cli.app, ["privacy", "affected", "--from", "kemarin"])
    assert bad.exit_code == 2 and "is not a date" in bad.output
