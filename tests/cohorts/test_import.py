"""Roster import into a cohort: the report, all or nothing, idempotence, access."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from app import cli
from app.accounts.models import AuditLog, User
from app.cohorts.models import ActivationCode, Cohort, Couple, Organization
from app.cohorts.roster import parse_roster
from app.cohorts.service import roster_import
from app.db import Database
from app.demo import ORGANIZATIONS, make_roster_csv
from tests.conftest import SECRET, csrf_of, login, post_form
from tests.factories import make_cohort, make_user

PW = "kata-sandi-uji-123"
HEADER = "organisasi,nama_pejabat,nip,jabatan,kontak_pejabat,nama_pasangan,kontak_pasangan\n"
NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def add_organizations(db: Database, cohort: Cohort, names: list[str] = ORGANIZATIONS) -> None:
    """The region's OPDs, as an administrator would have entered them."""
    with db.write() as session:
        session.add_all(Organization(region_id=cohort.region_id, name=name) for name in names)


@pytest.fixture
def fasi(client, mini, settings):
    user = make_user(mini, settings, "rina", "facilitator")
    add_organizations(mini, make_cohort(mini, "uji", facilitator=user))
    login(client, "rina", PW)
    return client


def upload(client, data: bytes, name="roster.csv", action="import", slug="uji", create=False):
    page = client.get(f"/facilitator/cohorts/{slug}/import")
    form = {"csrf_token": csrf_of(page.text), "action": action}
    if create:
        form["create_organizations"] = "1"
    return client.post(
        f"/facilitator/cohorts/{slug}/import",
        data=form,
        files={"file": (name, data, "text/csv")},
    )


def organizations(db) -> list[str]:
    with db.read() as session:
        return sorted(session.execute(select(Organization.name)).scalars())


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
    assert refused.status_code == 404 and count(mini, Couple) == 0


def test_cli_import_roster(tmp_path, mini, settings, monkeypatch):
    add_organizations(mini, make_cohort(mini, "uji"))
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


# ---------------------------------------------------------------- organizations of the region


def service_import(db, cohort, data: bytes, **options):
    with db.write() as session:
        return roster_import(
            session,
            cohort=cohort,
            parsed=parse_roster(data, "roster.csv"),
            actor_id=None,
            now=NOW,
            activation_days=30,
            secret=SECRET,
            **options,
        )


def test_organization_names_match_the_regions_ignoring_case_and_spaces(mini):
    cohort = make_cohort(mini, "uji")
    add_organizations(mini, cohort, ["Dinas Pendidikan"])
    result = service_import(mini, cohort, (HEADER + "dinas  PENDIDIKAN ,Budi,,,,Sari,\n").encode())
    assert result.ok and result.created == ["UJI-001"] and result.new_organizations == []
    assert organizations(mini) == ["Dinas Pendidikan"]
    with mini.read() as session:
        org = session.execute(
            select(Organization.name)
            .join(Couple, Couple.organization_id == Organization.id)
            .where(Couple.code == "UJI-001")
        ).scalar_one()
    assert org == "Dinas Pendidikan"


@pytest.mark.parametrize("dry_run", [False, True])
def test_an_unknown_organization_is_a_problem_and_nothing_is_written(mini, dry_run):
    cohort = make_cohort(mini, "uji")
    add_organizations(mini, cohort, ["Dinas Pendidikan", "Dinas Kesehatan"])
    data = (
        HEADER
        + "Dinas Kesehatan,Budi,,,,Sari,\n"
        + "Dinas Pendidkan,Joko,,,,Ani,\n"
        + "Kecamatan Ciledug,Agus,,,,Dewi,\n"
    ).encode()
    result = service_import(mini, cohort, data, dry_run=dry_run)
    assert [(p.row, p.column, p.message % p.values) for p in result.problems] == [
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
    ]
    assert result.unknown_organizations == ["Dinas Pendidkan", "Kecamatan Ciledug"]
    assert count(mini, Couple) == 0 and participants(mini) == 0
    assert organizations(mini) == ["Dinas Kesehatan", "Dinas Pendidikan"]
    with mini.read() as session:
        assert session.query(AuditLog).filter_by(action="roster.import").count() == 0


def test_unknown_organizations_are_reported_with_the_files_other_problems(mini):
    cohort = make_cohort(mini, "uji")
    add_organizations(mini, cohort, ["Dinas Pendidikan"])
    data = (
        HEADER + "Dinas Pendidkan,Budi,,,,Sari,\n" + "Dinas Pendidikan,Joko,12,,,Ani,\n"
    ).encode()
    result = service_import(mini, cohort, data)
    assert [(p.row, p.column) for p in result.problems] == [(3, "nip"), (2, "organisasi")]
    assert count(mini, Couple) == 0


def test_new_organizations_are_created_only_when_asked(mini):
    cohort = make_cohort(mini, "uji")
    add_organizations(mini, cohort, ["Dinas Pendidikan"])
    data = (
        HEADER
        + "Dinas  Baru,Budi,,,,Sari,\n"
        + "DINAS BARU,Joko,,,,Ani,\n"
        + "dinas pendidikan,Agus,,,,Dewi,\n"
    ).encode()
    dry = service_import(mini, cohort, data, dry_run=True, create_organizations=True)
    assert dry.ok and dry.new_organizations == ["Dinas Baru"] and len(dry.created) == 3
    assert organizations(mini) == ["Dinas Pendidikan"] and count(mini, Couple) == 0
    done = service_import(mini, cohort, data, create_organizations=True)
    assert done.ok and done.new_organizations == ["Dinas Baru"] and len(done.created) == 3
    assert organizations(mini) == ["Dinas Baru", "Dinas Pendidikan"]
    with mini.read() as session:
        log = session.execute(
            select(AuditLog).where(AuditLog.action == "roster.import")
        ).scalar_one()
    assert log.detail["organizations_created"] == ["Dinas Baru"]
    again = service_import(mini, cohort, data)  # now they are the region's: no flag needed
    assert again.ok and again.new_organizations == [] and len(again.unchanged) == 3


def test_the_import_form_refuses_unknown_organizations_without_the_checkbox(fasi, mini):
    data = (HEADER + "Dinas Pendidkan,Budi,,,,Sari,\n" + "Dinas Pariwisata,Joko,,,,Ani,\n").encode()
    post_form(fasi, "/language", {"locale": "en"})
    page = fasi.get("/facilitator/cohorts/uji/import")
    assert 'name="create_organizations"' in page.text and "checked" not in page.text
    assert "Create new organizations" in page.text
    for action in ("check", "import"):
        response = upload(fasi, data, action=action)
        assert response.status_code == 422
        text = html.unescape(response.text)
        assert ">2</td><td>organisasi</td>" in text and ">3</td><td>organisasi</td>" in text
        assert 'Unknown organization "Dinas Pendidkan". Did you mean "Dinas Pendidikan"?' in text
        assert 'Unknown organization "Dinas Pariwisata": no organization' in text
        assert "Nothing was imported" in text
        assert 'only when you tick "Create new organizations"' in text
    assert count(mini, Couple) == 0 and "Dinas Pariwisata" not in organizations(mini)


def test_the_import_form_creates_organizations_with_the_checkbox(fasi, mini):
    post_form(fasi, "/language", {"locale": "en"})
    data = (HEADER + "Dinas Pariwisata,Joko,,,,Ani,\n" + "dinas  SOSIAL,Budi,,,,Sari,\n").encode()
    check = upload(fasi, data, action="check", create=True)
    assert check.status_code == 200
    assert "New organizations to be created: Dinas Pariwisata." in check.text
    checkbox = check.text.split('name="create_organizations"', 1)[1].split(">", 1)[0]
    assert " checked" in checkbox  # the choice is kept for the import that follows
    assert "Dinas Pariwisata" not in organizations(mini)
    response = upload(fasi, data, create=True)
    assert response.status_code == 200 and "Imported: 2 new couples" in response.text
    assert "New organizations created: Dinas Pariwisata." in response.text
    names = organizations(mini)
    assert "Dinas Pariwisata" in names and names.count("Dinas Sosial") == 1
    assert len(names) == len(ORGANIZATIONS) + 1


def test_importing_the_same_roster_again_writes_only_its_audit_line_and_reads_no_summary(
    mini, count_queries
):
    cohort = make_cohort(mini, "uji")
    add_organizations(mini, cohort)
    data = make_roster_csv(12, seed=3)
    assert len(service_import(mini, cohort, data).created) == 12
    with count_queries() as counter:
        again = service_import(mini, cohort, data)
    assert again.ok and len(again.unchanged) == 12 and again.updated == []
    writes = [
        s.split()[0:3]
        for s in counter.statements
        if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == [["INSERT", "INTO", "audit_log"]]
    # nothing changed, so the reports' summary is not even recomputed
    assert not [s for s in counter.statements if "participant_summary" in s]


NIP = "197501012000031001"


def test_a_couple_moved_to_another_organization_is_moved_in_the_report_summary(mini):
    from app.reports.models import participant_summary

    cohort = make_cohort(mini, "uji")
    add_organizations(mini, cohort, ["Dinas Pendidikan", "Dinas Kesehatan"])
    service_import(mini, cohort, f"{HEADER}Dinas Pendidikan,Budi,{NIP},,,Sari,\n".encode())
    moved = service_import(mini, cohort, f"{HEADER}Dinas Kesehatan,Budi,{NIP},,,Sari,\n".encode())
    assert moved.updated == ["UJI-001"]
    with mini.read() as session:
        kesehatan = session.execute(
            select(Organization.id).where(Organization.name == "Dinas Kesehatan")
        ).scalar_one()
        kept = session.execute(select(participant_summary.c.organization_id)).scalars().all()
    assert kept == [kesehatan, kesehatan]
