"""Roster import into a cohort: the report, all or nothing, idempotence, access."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from app import cli
from app.accounts.models import AuditLog, User
from app.cohorts.models import ActivationCode, Couple
from app.demo import make_roster_csv
from tests.conftest import csrf_of, login
from tests.factories import make_cohort, make_user

PW = "kata-sandi-uji-123"
HEADER = "organisasi,nama_pejabat,nip,jabatan,kontak_pejabat,nama_pasangan,kontak_pasangan\n"


@pytest.fixture
def fasi(client, mini, settings):
    user = make_user(mini, settings, "rina", "facilitator")
    make_cohort(mini, "uji", facilitator=user)
    login(client, "rina", PW)
    return client


def upload(client, data: bytes, name="roster.csv", action="import", slug="uji"):
    page = client.get(f"/facilitator/cohorts/{slug}/import")
    return client.post(
        f"/facilitator/cohorts/{slug}/import",
        data={"csrf_token": csrf_of(page.text), "action": action},
        files={"file": (name, data, "text/csv")},
    )


def count(db, model):
    with db.read() as session:
        return session.execute(select(func.count()).select_from(model)).scalar()


def participants(db):
    with db.read() as session:
        return session.execute(
            select(func.count()).select_from(User).where(User.role == "participant")
        ).scalar()


def test_import_creates_couples_with_codes_and_is_idempotent(fasi, mini):
    data = (
        HEADER + 'Dinas Sosial,"Dr. H. Ma\'ruf Amin, M.Si.",,Kepala Dinas,'
        "0812 3456 789,Siti Ñurhaliza,+62 813-1111-2222\n"
    ).encode()
    response = upload(fasi, data)
    assert response.status_code == 200
    assert "1 pasangan baru" in response.text
    with mini.read() as session:
        users = (
            session.execute(select(User).where(User.couple_id.is_not(None)).order_by(User.username))
            .scalars()
            .all()
        )
        assert [u.display_name for u in users] == ["Dr. H. Ma'ruf Amin, M.Si.", "Siti Ñurhaliza"]
        assert [u.contact for u in users] == ["+628123456789", "+6281311112222"]
        assert [u.username for u in users] == ["uji-001a", "uji-001b"]
        assert all(u.password_hash is None for u in users)
        assert session.query(ActivationCode).count() == 2
        assert session.query(AuditLog).filter_by(action="roster.import").count() == 1
    again = upload(fasi, data)
    assert "0 pasangan baru" in again.text and "1 tidak berubah" in again.text
    assert count(mini, Couple) == 1 and count(mini, ActivationCode) == 2


def test_a_bad_row_writes_nothing_and_the_report_names_rows(fasi, mini):
    data = (
        HEADER
        + "Dinas Sosial,Budi,,Kepala,0812 3456 789,Sari,\n"
        + "\n"
        + "Dinas Kesehatan,=SUM(A1),,Kepala,,Ani,\n"
        + "Dinas Kesehatan,Joko,123,Kepala,,,\n"
    ).encode()
    response = upload(fasi, data)
    assert response.status_code == 422
    assert "Tidak ada yang diimpor" in response.text
    text = response.text
    assert ">4<" in text and ">5<" in text  # spreadsheet row numbers (blank row 3 counted)
    assert "nama_pasangan" in text and "nip" in text
    assert count(mini, Couple) == 0 and participants(mini) == 0


def test_dry_run_reports_and_writes_nothing(fasi, mini):
    response = upload(fasi, make_roster_csv(5, seed=3), action="check")
    assert response.status_code == 200
    assert "5 pasangan baru" in response.text and "Belum ada yang disimpan" in response.text
    assert count(mini, Couple) == 0


def test_a_couple_already_in_another_cohort_is_refused(fasi, mini, settings):
    data = make_roster_csv(3, seed=5)
    upload(fasi, data)
    fasi_user = (
        mini.read().__enter__().execute(select(User).where(User.username == "rina")).scalar_one()
    )
    make_cohort(mini, "kedua", facilitator=fasi_user)
    response = upload(fasi, data, slug="kedua")
    assert response.status_code == 422
    assert "sudah terdaftar di angkatan lain" in response.text
    assert count(mini, Couple) == 3


def test_xlsx_upload(fasi, mini):
    import io

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(HEADER.strip().split(","))
    ws.append(
        [
            "Inspektorat",
            "Ir. Agus Salim",
            "198501012010011001",
            "Inspektur",
            "agus@example.go.id",
            "Dewi Lestari",
            "0812 9999 8888",
        ]
    )
    buf = io.BytesIO()
    wb.save(buf)
    response = upload(fasi, buf.getvalue(), name="peserta.xlsx")
    assert response.status_code == 200, response.text[-2000:]
    with mini.read() as session:
        official = session.execute(select(User).where(User.username == "uji-001a")).scalar_one()
    assert official.nip == "198501012010011001" and official.contact == "agus@example.go.id"


def test_import_needs_a_file_and_an_own_cohort(fasi, mini, settings, make_client):
    page = fasi.get("/facilitator/cohorts/uji/import")
    assert "Unduh templat" in page.text
    empty = fasi.post(
        "/facilitator/cohorts/uji/import",
        data={"csrf_token": csrf_of(page.text), "action": "import"},
    )
    assert empty.status_code == 422 and "Pilih dulu berkas" in empty.text
    template = fasi.get("/facilitator/roster-template.csv")
    assert template.status_code == 200 and "nama_pasangan" in template.text
    make_user(mini, settings, "lain", "facilitator")
    other = make_client()
    login(other, "lain", PW)
    refused = upload(other, make_roster_csv(1))
    assert refused.status_code == 403 and count(mini, Couple) == 0


def test_cli_import_roster(tmp_path, mini, settings, monkeypatch):
    make_cohort(mini, "uji")
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    monkeypatch.setattr(cli, "_database", lambda: mini)
    good = tmp_path / "good.csv"
    good.write_bytes(make_roster_csv(4, seed=1))
    runner = CliRunner()
    dry = runner.invoke(cli.app, ["import-roster", str(good), "--cohort", "uji", "--dry-run"])
    assert dry.exit_code == 0 and "Would import: 4 new couples" in dry.output
    assert count(mini, Couple) == 0
    done = runner.invoke(cli.app, ["import-roster", str(good), "--cohort", "uji"])
    assert done.exit_code == 0 and "Imported: 4 new couples" in done.output
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "Dinas,Budi,12,,,,\n")
    result = runner.invoke(cli.app, ["import-roster", str(bad), "--cohort", "uji"])
    assert result.exit_code == 1
    assert "bad.csv:2 [nip]" in result.output and "nothing was imported" in result.output
    unknown = runner.invoke(cli.app, ["import-roster", str(good), "--cohort", "tidak-ada"])
    assert unknown.exit_code == 2 and "Unknown cohort" in unknown.output
    missing = runner.invoke(cli.app, ["import-roster", str(tmp_path / "x.csv"), "--cohort", "uji"])
    assert missing.exit_code == 2


def test_two_thousand_rows(fasi, mini):
    roster = make_roster_csv(2000, seed=9)
    response = upload(fasi, roster)
    assert response.status_code == 200
    assert count(mini, Couple) == 2000 and participants(mini) == 4000
    with mini.read() as session:
        codes = session.execute(select(ActivationCode.user_id)).scalars().all()
    assert len(codes) == 4000 and len(set(codes)) == 4000  # one code per participant
    again = upload(fasi, roster)
    assert "0 pasangan baru, 0 diperbarui, 2000 tidak berubah" in again.text
    assert count(mini, Couple) == 2000 and count(mini, ActivationCode) == 4000
