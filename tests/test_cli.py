"""The ``integritas`` command in process: what each command writes and says. Every command
run as an operator runs it (a subprocess, good and bad arguments, never a traceback) is
``tests/test_cli_gate.py``."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from app import cli
from app.accounts.models import User


@pytest.fixture
def run(settings, db, monkeypatch):
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    monkeypatch.setattr(cli, "_database", lambda: db)
    runner = CliRunner()
    return lambda *args, input=None: runner.invoke(cli.app, list(args), input=input)


def test_create_user_from_stdin(run, db):
    result = run(
        "create-user",
        "nina",
        "--role",
        "facilitator",
        "--name",
        "Nina Rahma",
        "--password-stdin",
        input="sandi-yang-panjang-9\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created facilitator 'nina'" in result.output
    with db.read() as session:
        user = session.query(User).filter_by(username="nina").one()
    assert user.display_name == "Nina Rahma"
    assert user.password_hash.startswith("$argon2id$")


def test_create_user_from_prompt(run):
    result = run(
        "create-user", "rudi", "--role", "kpk", input="sandi-yang-panjang-9\nsandi-yang-panjang-9\n"
    )
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["create-user", "x1", "--role", "admin"], "pendek\n", "at least 8 characters"),
        (["create-user", "Bad Name!", "--role", "admin"], "sandi-panjang-99\n", "Username must"),
        (["create-user", "x" * 300, "--role", "admin"], "sandi-panjang-99\n", "Username must"),
        (
            ["create-user", "x1", "--role", "admin", "--name", "n" * 300],
            "sandi-panjang-99\n",
            "Display name",
        ),
    ],
)
def test_create_user_bad_input(run, args, stdin, message):
    result = run(*args, "--password-stdin", input=stdin)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_seed_demo_is_idempotent(run, db, synced):
    from app.certificates.models import Certificate
    from app.cohorts.models import Attendance
    from app.facilitator.models import Reminder
    from app.family.models import FamilyReflection, PledgeSignature

    tables = (User, Attendance, Reminder, FamilyReflection, PledgeSignature, Certificate)
    first = run("seed-demo")
    assert first.exit_code == 0, first.output
    with db.read() as session:
        counts = tuple(session.query(t).count() for t in tables)
    second = run("seed-demo")
    assert second.exit_code == 0
    with db.read() as session:
        assert tuple(session.query(t).count() for t in tables) == counts
        assert session.query(User).filter_by(username="budi").one().partner_role == "official"
    # staff, 13 couples in tng-demo, 40 in tng-2024
    assert counts[0] == 3 + 2 * 13 + 2 * 40
    # tng-2024: two days of attendance for everyone, reminders, the finishers' family work
    users, attendance, reminders, reflections, pledges, certificates = counts
    assert attendance == 2 * 80
    assert reminders > 10 and reflections > 20 and pledges > 10 and certificates >= 10


def test_production_refuses_to_start_without_secret(settings):
    from app.config import ConfigError
    from app.main import create_app

    prod = settings.model_copy(update={"env": "production", "secret_key": None})
    with pytest.raises(ConfigError, match="APP_SECRET_KEY is not set"):
        create_app(prod)


def test_development_secret_is_made_once_and_kept(settings):
    dev = settings.model_copy(update={"env": "development", "secret_key": None})
    first = dev.secret()
    assert len(first) >= 32
    assert dev.secret() == first
    assert (dev.data_dir / "secret_key").stat().st_mode & 0o077 == 0


def test_import_roster_creates_organizations_only_with_the_flag(run, db, tmp_path):
    """``import-roster FILE --cohort SLUG [--dry-run] [--create-organizations]``: an OPD the
    cohort's region does not have is a problem (with the closest known name) unless the flag
    is given; a dry run reports the same."""
    from sqlalchemy import func, select

    from app.cohorts.models import Couple, Organization
    from tests.factories import make_cohort

    cohort = make_cohort(db, "uji")
    with db.write() as session:
        session.add(Organization(region_id=cohort.region_id, name="Dinas Pendidikan"))

    def state() -> tuple[list[str], int]:
        with db.read() as session:
            names = sorted(session.execute(select(Organization.name)).scalars())
            couples = session.execute(select(func.count()).select_from(Couple)).scalar_one()
        return names, couples

    roster = tmp_path / "opd.csv"
    roster.write_text(
        "organisasi,nama_pejabat,nip,jabatan,kontak_pejabat,nama_pasangan,kontak_pasangan\n"
        "Dinas Pendidkan,Budi,,,,Sari,\n"
        "dinas  PENDIDIKAN,Joko,,,,Ani,\n"
    )
    for extra in ([], ["--dry-run"]):
        refused = run("import-roster", str(roster), "--cohort", "uji", *extra)
        assert refused.exit_code == 1, refused.output
        assert "opd.csv:2 [organisasi]" in refused.output and "opd.csv:3" not in refused.output
        assert "Dinas Pendidkan" in refused.output and "Dinas Pendidikan" in refused.output
        assert "--create-organizations" in refused.output
        assert "nothing was imported" in refused.output and "Traceback" not in refused.output
    assert state() == (["Dinas Pendidikan"], 0)
    args = ("import-roster", str(roster), "--cohort", "uji", "--create-organizations")
    dry = run(*args, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Would import: 2 new couples" in dry.output
    assert "Would create 1 organization(s): Dinas Pendidkan" in dry.output
    assert state() == (["Dinas Pendidikan"], 0)
    done = run(*args)
    assert done.exit_code == 0, done.output
    assert "Created 1 organization(s): Dinas Pendidkan" in done.output
    assert state() == (["Dinas Pendidikan", "Dinas Pendidkan"], 2)
