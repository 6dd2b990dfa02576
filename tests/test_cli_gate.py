"""Every ``integritas`` command as an operator runs it: a subprocess on a fresh database in a
folder of its own, with good arguments and with bad ones. A good run exits 0 and does what
it says; a bad one exits non-zero with one line on standard error naming the problem; no run
ever prints a traceback.

The commands are read from the CLI's own parser, so a command added later without its cases
fails ``test_every_command_has_operator_cases``. The databases are copies of templates made
once (empty, migrated, with the curriculum synced, with a cohort), and the cases run a few at
a time: about a hundred seconds of processor time in all, under a minute on two free cores."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import typer
from sqlalchemy import func, select
from sqlmodel import col

from app import cli
from app.accounts.models import Role, User
from app.api.models import ApiToken
from app.cohorts.models import Cohort, Couple, Organization
from app.config import ROOT
from app.curriculum.models import ContentVersion
from app.db import Database, make_engine
from tests.live_server import CLI, free_port, server_env

if os.environ.get("TEST_DATABASE_URL"):
    pytest.skip("the CLI gate runs once, on SQLite files of its own", allow_module_level=True)

PASSWORD = "sandi-yang-panjang-9"
DB_FILE = "live.db"  # the name server_env gives the database of a folder
HEADER = "organisasi,nama_pejabat,nip,jabatan,kontak_pejabat,nama_pasangan,kontak_pasangan\n"
ROSTER = HEADER + "Dinas Sosial,Budi Santoso,,Kepala,,Sari Dewi,\nDinas Sosial,Joko,,,,Ani,\n"


# ---------------------------------------------------------------- the cases


def count(db: Database, model: type, *where) -> int:
    with db.read() as session:
        return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def write(name: str, content: str) -> Callable[[Database, Path], None]:
    """A preparation: a file in the case's folder."""

    def prepare(_db: Database, folder: Path) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)

    return prepare


def a_user(db: Database, _folder: Path) -> None:
    from tests.factories import SETTINGS, make_user

    make_user(db, SETTINGS, "nina", Role.admin, password=PASSWORD)


def a_token(db: Database, _folder: Path) -> None:
    from app.api.service import token_create
    from app.db import utcnow

    with db.write() as session:
        token_create(session, actor=None, name="dasbor", now=utcnow())


def a_backup(db: Database, folder: Path) -> None:
    from app.backup import backup

    backup(db.engine.url.render_as_string(hide_password=False), folder / "b.db")


@dataclass(frozen=True)
class Case:
    """One run of a command. ``says``: text that must stand on one line of the output (of
    standard error when the run is refused); ``code``: the exact exit status of a refusal;
    ``database``: the template the run starts from; ``env``: settings changed (``None``
    removes one); ``args`` may name ``{dir}`` (the case's folder), ``{port}`` (a free
    port), ``{closed}`` (a port nobody listens on) and ``{busy}`` (a port already taken)."""

    command: str
    name: str
    args: tuple[str, ...] = ()
    ok: bool = False
    says: str = ""
    code: int | None = None
    database: str = "migrated"
    stdin: str = ""
    env: Mapping[str, str | None] = field(default_factory=dict)
    prepare: Callable[[Database, Path], None] | None = None
    then: Callable[[Database], object] | None = None

    @property
    def id(self) -> str:
        return f"{self.command}: {self.name}"


NOT_MIGRATED = "run `integritas migrate` first"

CASES = [
    # ------------------------------------------------------------ migrate
    Case(
        "migrate",
        "an empty folder",
        ok=True,
        database="empty",
        says="Database schema is up to date.",
        then=lambda db: count(db, User) == 0,
    ),
    Case(
        "migrate",
        "a database server that cannot be reached",
        env={"APP_DATABASE_URL": "postgresql+psycopg://integritas:geheim@127.0.0.1:{closed}/x"},
        # the server is named, its password is not
        says="Cannot use the database postgresql+psycopg://integritas:***@127.0.0.1:",
    ),
    Case(
        "migrate",
        "a database URL that is not one",
        env={"APP_DATABASE_URL": "nonsense"},
        says="'nonsense' is not a database URL the application can use",
    ),
    Case(
        "migrate",
        "a SQLite file in a folder that does not exist",
        env={"APP_DATABASE_URL": "sqlite:///{dir}/missing/x.db"},
        says="does not exist: {dir}/missing",
    ),
    Case(
        "migrate",
        "a setting that is wrong",
        env={"APP_TIMEZONE": "Mars/Olympus"},
        says="APP_TIMEZONE 'Mars/Olympus' is not a known time zone",
    ),
    Case(
        "migrate",
        "an argument it does not take",
        args=("now",),
        code=2,
        says="Got unexpected extra argument(s) (now)",
    ),
    # ------------------------------------------------------------ content check
    Case("content check", "the curriculum of modules/", ok=True, says="glossary:"),
    Case(
        "content check",
        "a folder that does not exist",
        args=("{dir}/nowhere",),
        says="problem(s) found in {dir}/nowhere",
    ),
    Case(
        "content check",
        "a file that cannot be read",
        args=("{dir}/content",),
        prepare=write("content/01-satu/module.yaml", "slug: [unclosed\n"),
        says="module.yaml:2: YAML cannot be read",
    ),
    # ------------------------------------------------------------ content sync
    Case(
        "content sync",
        "the curriculum into a migrated database",
        ok=True,
        says="Content version 1 recorded",
        then=lambda db: count(db, ContentVersion) == 1,
    ),
    Case(
        "content sync",
        "a folder with a file that cannot be read",
        args=("{dir}/content",),
        prepare=write("content/01-satu/module.yaml", "slug: [unclosed\n"),
        says="nothing was synced",
        then=lambda db: count(db, ContentVersion) == 0,
    ),
    # ------------------------------------------------------------ content stats
    Case(
        "content stats",
        "a cohort nobody has answered in yet",
        args=("--cohort", "uji"),
        ok=True,
        database="cohort",
        says="Item statistics on first attempts, cohort uji",
    ),
    Case(
        "content stats",
        "a cohort that does not exist",
        args=("--cohort", "nowhere"),
        database="cohort",
        says="No cohort with the slug 'nowhere'.",
    ),
    Case(
        "content stats",
        "before the curriculum is synced",
        says="No content is synced yet: run `integritas content sync` first.",
    ),
    # ------------------------------------------------------------ retention
    Case(
        "retention run",
        "a dry run over cohorts that are all current",
        args=("--dry-run",),
        ok=True,
        database="cohort",
        says="Retention 5 years: 0 cohort(s) past it, 0 participant(s) would be pseudonymized.",
    ),
    Case(
        "retention run",
        "with a retention of one year",
        ok=True,
        database="cohort",
        env={"APP_RETENTION_YEARS": "1"},
        says="Retention 1 years: 0 cohort(s) past it, 0 participant(s) pseudonymized.",
    ),
    Case(
        "retention run",
        "a database that is not migrated",
        database="empty",
        says=NOT_MIGRATED,
    ),
    Case(
        "retention run",
        "a retention of no years",
        env={"APP_RETENTION_YEARS": "0"},
        says="APP_RETENTION_YEARS",
    ),
    Case(
        "privacy affected",
        "a staff account with no access records",
        args=("--actor", "rina"),
        ok=True,
        database="cohort",
        says="0 participant account(s) reached.",
    ),
    Case(
        "privacy affected",
        "a whole cohort",
        args=("--cohort", "uji"),
        ok=True,
        database="cohort",
        says="participant account(s) reached.",
    ),
    Case(
        "privacy affected",
        "nothing to look for",
        code=2,
        database="cohort",
        says="Name --actor, --from/--to or --cohort",
    ),
    Case(
        "privacy affected",
        "a day that is not a date",
        args=("--from", "kemarin"),
        code=2,
        database="cohort",
        says="--from 'kemarin' is not a date like 2026-12-01.",
    ),
    # ------------------------------------------------------------ backup and restore
    Case(
        "backup",
        "the database while nothing else runs",
        args=("{dir}/copy.db",),
        ok=True,
        database="synced",
        says="Backed up the database to {dir}/copy.db",
    ),
    Case(
        "backup",
        "onto a file that exists",
        args=("{dir}/copy.db",),
        prepare=write("copy.db", "an older backup"),
        says="{dir}/copy.db exists already: name a new file, or add --force.",
    ),
    Case(
        "restore",
        "a backup into a database without data",
        args=("{dir}/b.db",),
        ok=True,
        prepare=a_backup,
        says="Restored {dir}/b.db: 0 user_account, 0 quiz_attempt",
    ),
    Case(
        "restore",
        "over a database that holds data",
        args=("{dir}/b.db",),
        database="cohort",
        prepare=a_backup,
        says="The database holds data already: restoring replaces all of it. Add --force",
    ),
    Case(
        "restore",
        "a file that is no backup",
        args=("{dir}/notes.txt",),
        prepare=write("notes.txt", "not a database"),
        says="{dir}/notes.txt is not a SQLite database file, which this database needs.",
    ),
    # ------------------------------------------------------------ seed-demo
    Case(
        "seed-demo",
        "a synced database",
        ok=True,
        database="synced",
        says="Demo ready:",
        then=lambda db: count(db, User, User.username == "fasilitator") == 1,
    ),
    Case(
        "seed-demo",
        "an argument it does not take",
        args=("lagi",),
        code=2,
        says="Got unexpected extra argument(s) (lagi)",
    ),
    # ------------------------------------------------------------ seed-synthetic
    Case(
        "seed-synthetic",
        "two couples in a synced database",
        args=("--couples", "2", "--today", "2026-12-01"),
        ok=True,
        database="synced",
        says="Synthetic country ready: 2 couples",
        then=lambda db: count(db, Couple) == 2,
    ),
    Case(
        "seed-synthetic",
        "zero couples",
        args=("--couples", "0"),
        code=2,
        says="Invalid value for '--couples'",
    ),
    Case(
        "seed-synthetic",
        "a day that is not a date",
        args=("--couples", "2", "--today", "1 Desember"),
        code=2,
        database="synced",
        says="--today '1 Desember' is not a date",
    ),
    Case(
        "seed-synthetic",
        "a database with real cohorts, without --force",
        args=("--couples", "2"),
        database="cohort",
        says="--force",
        then=lambda db: count(db, Couple) == 0,
    ),
    Case(
        "seed-synthetic",
        "a database without the curriculum",
        args=("--couples", "2"),
        says="integritas content sync",
    ),
    Case(
        "seed-synthetic",
        "a --database-url that cannot be reached",
        args=(
            "--couples",
            "2",
            "--database-url",
            "postgresql+psycopg://integritas:geheim@127.0.0.1:{closed}/x",
        ),
        says="Cannot use the database postgresql+psycopg://integritas:***@127.0.0.1:",
    ),
    # ------------------------------------------------------------ create-user
    Case(
        "create-user",
        "the first account of a fresh database",
        args=("nina", "--role", "admin", "--name", "Nina Rahma", "--password-stdin"),
        stdin=PASSWORD + "\n",
        ok=True,
        says="Created admin 'nina'.",
        then=lambda db: count(db, User, User.username == "nina", User.role == "admin") == 1,
    ),
    Case(
        "create-user",
        "a wrong role",
        args=("nina", "--role", "raja", "--password-stdin"),
        stdin=PASSWORD + "\n",
        code=2,
        says="Unknown role 'raja'",
        then=lambda db: count(db, User) == 0,
    ),
    Case(
        "create-user",
        "an existing username",
        args=("nina", "--role", "kpk", "--password-stdin"),
        stdin=PASSWORD + "\n",
        prepare=a_user,
        code=2,
        says="already taken",
        then=lambda db: count(db, User, User.username == "nina", User.role == "admin") == 1,
    ),
    Case(
        "create-user",
        "a password that is too easy",
        args=("nina", "--role", "admin", "--password-stdin"),
        stdin="password123\n",
        code=2,
        says="too easy to guess",
        then=lambda db: count(db, User) == 0,
    ),
    Case(
        "create-user",
        "no password: no terminal and no --password-stdin",
        args=("nina", "--role", "admin"),
        code=2,
        says="No password was given",
    ),
    Case(
        "create-user",
        "no --role",
        args=("nina", "--password-stdin"),
        code=2,
        says="Missing option '--role'",
    ),
    Case(
        "create-user",
        "a database that is not migrated",
        args=("nina", "--role", "admin", "--password-stdin"),
        stdin=PASSWORD + "\n",
        database="empty",
        says=NOT_MIGRATED,
    ),
    # ------------------------------------------------------------ import-roster
    Case(
        "import-roster",
        "a good roster",
        args=("{dir}/roster.csv", "--cohort", "uji"),
        prepare=write("roster.csv", ROSTER),
        ok=True,
        database="cohort",
        says="Imported: 2 new couples",
        then=lambda db: count(db, Couple) == 2,
    ),
    Case(
        "import-roster",
        "a file that does not exist",
        args=("{dir}/roster.csv", "--cohort", "uji"),
        database="cohort",
        code=2,
        says="{dir}/roster.csv: file not found.",
    ),
    Case(
        "import-roster",
        "a roster without its columns",
        args=("{dir}/roster.csv", "--cohort", "uji"),
        prepare=write("roster.csv", "nama,telepon\nBudi,0812\n"),
        database="cohort",
        code=1,
        says="problem(s); nothing was imported.",
        then=lambda db: count(db, Couple) == 0,
    ),
    Case(
        "import-roster",
        "an unknown cohort",
        args=("{dir}/roster.csv", "--cohort", "tidak-ada"),
        prepare=write("roster.csv", ROSTER),
        database="cohort",
        code=2,
        says="Unknown cohort 'tidak-ada'.",
    ),
    Case(
        "import-roster",
        "no --cohort",
        args=("{dir}/roster.csv",),
        prepare=write("roster.csv", ROSTER),
        code=2,
        says="Missing option '--cohort'",
    ),
    # ------------------------------------------------------------ api-token
    Case(
        "api-token create",
        "a new name",
        args=("--name", "dasbor"),
        ok=True,
        says="Created API token 'dasbor'",
        then=lambda db: count(db, ApiToken) == 1,
    ),
    Case(
        "api-token create",
        "a name that is taken",
        args=("--name", "dasbor"),
        prepare=a_token,
        code=2,
        says="A token with this name already exists. ('dasbor')",
        then=lambda db: count(db, ApiToken) == 1,
    ),
    Case("api-token create", "no --name", code=2, says="Missing option '--name'"),
    Case("api-token list", "no tokens yet", ok=True, says="No API tokens yet."),
    Case(
        "api-token list",
        "an argument it does not take",
        args=("semua",),
        code=2,
        says="Got unexpected extra argument(s) (semua)",
    ),
    Case(
        "api-token revoke",
        "a token that exists",
        args=("dasbor",),
        prepare=a_token,
        ok=True,
        says="Revoked API token 'dasbor'.",
        then=lambda db: count(db, ApiToken, col(ApiToken.revoked_at).is_not(None)) == 1,
    ),
    Case(
        "api-token revoke",
        "a name no token has",
        args=("nope",),
        code=2,
        says="No API token is named 'nope'.",
    ),
    # ------------------------------------------------------------ serve
    Case(
        "serve",
        "a migrated database: /healthz answers, then it stops",
        args=("--port", "{port}"),
        ok=True,
        says="Application shutdown complete.",
    ),
    Case(
        "serve",
        "a trusted proxy that is not an address",
        args=("--port", "{port}"),
        env={"APP_TRUSTED_PROXIES": "127.0.0.1, nginx.local"},
        says="APP_TRUSTED_PROXIES 'nginx.local' is not an IP address or network",
    ),
    Case(
        "serve",
        "production without a secret key",
        args=("--port", "{port}"),
        env={"APP_ENV": "production", "APP_SECRET_KEY": None},
        says="APP_SECRET_KEY is not set",
    ),
    Case(
        "serve",
        "a database that is not migrated",
        args=("--port", "{port}"),
        database="empty",
        says=NOT_MIGRATED,
    ),
    Case(
        "serve",
        "a port that is taken",
        args=("--port", "{busy}"),
        says="address already in use",
    ),
    Case(
        "serve",
        "a port that is not a number",
        args=("--port", "http"),
        code=2,
        says="Invalid value for '--port'",
    ),
]


def command_paths() -> list[str]:
    """Every command and sub-command the ``integritas`` parser knows, e.g. "content sync"."""

    def walk(command, prefix: tuple[str, ...]) -> Iterator[str]:
        subcommands = getattr(command, "commands", None)
        if subcommands is None:
            yield " ".join(prefix)
            return
        for name, sub in subcommands.items():
            yield from walk(sub, (*prefix, name))

    return sorted(walk(typer.main.get_command(cli.app), ()))


def test_every_command_has_operator_cases():
    paths = command_paths()
    assert {"migrate", "create-user", "serve", "content sync"} <= set(paths)
    for path in paths:
        mine = [c for c in CASES if c.command == path]
        assert mine, f"command {path} has no operator case"
        assert any(c.ok for c in mine), f"command {path} has no good case"
        assert any(not c.ok for c in mine), f"command {path} has no bad case"
    assert not {c.command for c in CASES} - set(paths), "a case names no command"
    assert len({c.id for c in CASES}) == len(CASES), "two cases have the same name"


# ---------------------------------------------------------------- running them


@dataclass
class Outcome:
    code: int | None  # None: it did not finish in time
    stdout: str
    stderr: str
    health: int | None = None  # serve: the status of /healthz while it ran
    checked: object = None  # what ``then`` found in the database afterwards
    folder: Path | None = None  # the case's own folder ({dir})


def _open(path: Path) -> Database:
    return Database(make_engine(f"sqlite:///{path}"))


def _migrated(root: Path) -> Path:
    """A database as ``integritas migrate`` leaves it (the schema, the reports' summary)."""
    from app.migrate import upgrade
    from app.reports.summary import rebuild

    path = root / "migrated.db"
    upgrade(f"sqlite:///{path}")
    db = _open(path)
    with db.write() as session:
        rebuild(session)
    db.dispose()
    return path


def _with_content(root: Path, migrated: Path) -> dict[str, Path]:
    """Two more: the curriculum of modules/ synced; and a cohort "uji" besides, whose region
    has the organization "Dinas Sosial"."""
    from app.curriculum.sync import sync_content
    from tests.conftest import real_content
    from tests.factories import make_cohort

    synced = root / "synced.db"
    shutil.copyfile(migrated, synced)
    db = _open(synced)
    sync_content(db, real_content())
    db.dispose()
    with_cohort = root / "cohort.db"
    shutil.copyfile(synced, with_cohort)
    db = _open(with_cohort)
    cohort = make_cohort(db, "uji")
    with db.write() as session:
        session.add(Organization(region_id=cohort.region_id, name="Dinas Sosial"))
    assert count(db, Cohort) == 1
    db.dispose()
    return {"synced": synced, "cohort": with_cohort}


def _serve_and_stop(argv: list[str], env: dict[str, str], port: int) -> Outcome:
    """``integritas serve``: wait (bounded) for /healthz, then stop it as systemd would."""
    proc = subprocess.Popen(  # noqa: S603
        argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    health = None
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code
                break
            except httpx.HTTPError:
                time.sleep(0.2)
    finally:
        proc.terminate()
        try:
            stdout, stderr = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
    return Outcome(proc.returncode, stdout, stderr, health=health)


def _run(case: Case, folder: Path, template: Path | None, busy: int) -> Outcome:
    if template is not None:
        shutil.copyfile(template, folder / DB_FILE)
    port, closed = free_port(), free_port()
    values = {"dir": str(folder), "port": port, "closed": closed, "busy": busy}
    env = server_env(folder, "cli-gate")
    env.pop("APP_DEBUG", None)
    env.update(COLUMNS="200", NO_COLOR="1", TERM="dumb")
    for key, value in case.env.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value.format(**values)
    argv = [*CLI, *case.command.split(), *(a.format(**values) for a in case.args)]
    if case.command == "serve" and case.ok:
        return _serve_and_stop(argv, env, port)
    try:
        done = subprocess.run(  # noqa: S603
            argv, env=env, cwd=ROOT, input=case.stdin, capture_output=True, text=True, timeout=90
        )
    except subprocess.TimeoutExpired as exc:
        return Outcome(None, str(exc.stdout or ""), str(exc.stderr or ""))
    return Outcome(done.returncode, done.stdout, done.stderr)


def _cost(case: Case) -> int:
    """The longest runs first, so the last ones to finish are short: serving, then the good
    runs (they do the work), then the refusals."""
    return 0 if case.command == "serve" else 1 if case.ok else 2


@pytest.fixture(scope="module")
def outcomes(request, tmp_path_factory) -> dict[str, Outcome]:
    """Every selected case run, a few at a time, each in its own folder on a copy of its
    template (the templates with content are made while the first cases run)."""
    selected = [
        c
        for c in CASES
        if any(
            getattr(item, "callspec", None) is not None and item.callspec.params.get("case") is c
            for item in request.session.items
        )
    ]
    root = tmp_path_factory.mktemp("templates")
    migrated = _migrated(root)
    workers = min(4, (os.cpu_count() or 2) + 1)
    with socket.socket() as taken, ThreadPoolExecutor(max_workers=workers) as pool:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        later = pool.submit(_with_content, root, migrated)  # first: it never waits itself

        def template(name: str) -> Path | None:
            if name == "empty":
                return None
            return migrated if name == "migrated" else later.result()[name]

        def run(case: Case) -> Outcome:
            folder = tmp_path_factory.mktemp("case")
            start = template(case.database)
            if case.prepare is not None:
                assert start is not None, f"{case.id}: a preparation needs a database"
                shutil.copyfile(start, folder / DB_FILE)
                db = _open(folder / DB_FILE)
                case.prepare(db, folder)
                db.dispose()
                start = None  # the prepared copy is the one to run on
            outcome = _run(case, folder, start, busy)
            outcome.folder = folder
            if case.then is not None:
                db = _open(folder / DB_FILE)
                try:
                    outcome.checked = case.then(db)
                except Exception as exc:  # noqa: BLE001 — reported by the case's own test
                    outcome.checked = f"{type(exc).__name__}: {exc}"
                finally:
                    db.dispose()
            return outcome

        ordered = sorted(selected, key=_cost)
        return dict(zip((c.id for c in ordered), pool.map(run, ordered), strict=True))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_operator_case(case: Case, outcomes: dict[str, Outcome]):
    outcome = outcomes[case.id]
    shown = f"exit {outcome.code}\n--- stdout\n{outcome.stdout}\n--- stderr\n{outcome.stderr}"
    assert outcome.code is not None, "it did not finish\n" + shown
    assert "Traceback" not in outcome.stdout + outcome.stderr, shown
    assert "geheim" not in outcome.stdout + outcome.stderr, "a password was printed\n" + shown
    if case.ok:
        # serve is stopped with SIGTERM: after a clean shutdown uvicorn exits by that signal
        stopped = case.command == "serve" and outcome.code == -signal.SIGTERM
        assert outcome.code == 0 or stopped, shown
        lines = (outcome.stdout + outcome.stderr).splitlines()
    else:
        assert outcome.code != 0, shown
        if case.code is not None:
            assert outcome.code == case.code, shown
        lines = outcome.stderr.splitlines()
    says = case.says.replace("{dir}", str(outcome.folder))
    assert any(says in line for line in lines), f"no line says {says!r}\n{shown}"
    if case.command == "serve" and case.ok:
        assert outcome.health == 200, shown
    if case.then is not None:
        assert outcome.checked is True, f"the database afterwards: {outcome.checked}\n{shown}"
