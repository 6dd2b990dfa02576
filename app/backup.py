"""``integritas backup`` and ``integritas restore``: a copy of the whole database, taken while
the site runs, and putting one back.

- SQLite: SQLite's online backup API copies every page in one step under a read transaction,
  so the copy is the database as it was at one moment, whatever the site writes meanwhile
  (writers wait a moment; readers do not). Restoring copies the backup's pages into the
  database file the same way.
- PostgreSQL: ``pg_dump --format=custom`` (a consistent snapshot, taken by PostgreSQL itself)
  and ``pg_restore --clean --if-exists``; the password travels in ``PGPASSWORD``, never on the
  command line.

A backup is written next to its target as ``<name>.part`` and renamed when complete, so a
half-written file never carries the backup's name. ``restore`` refuses a database that holds
data unless told ``force`` (it replaces everything), and refuses a file that is not a backup.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url

SQLITE_HEADER = b"SQLite format 3\x00"
PG_CUSTOM_HEADER = b"PGDMP"
COUNTED = ("user_account", "quiz_attempt", "check_answer", "lesson_progress")


class BackupError(RuntimeError):
    """A backup or restore that cannot be done, with the reason in one line."""


@dataclass(frozen=True)
class Done:
    message: str


def _url(database_url: str) -> URL:
    return make_url(database_url)


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory database has nothing to back up or restore.")
    return Path(url.database)


def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size // 1024} KB"


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The server's address for pg_dump/pg_restore, and the environment with its password."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed: install PostgreSQL's client programs "
            "(Debian: apt-get install postgresql-client) of the server's major version."
        )
    return found


def _run(argv: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise BackupError(f"{Path(argv[0]).name} failed: {lines[0] if lines else done.returncode}")


def backup(database_url: str, target: Path, *, force: bool = False) -> Done:
    """Copy the database to ``target`` (refused if it exists, unless ``force``)."""
    url = _url(database_url)
    target = Path(target)
    if target.exists() and not force:
        raise BackupError(f"{target} exists already: name a new file, or add --force.")
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")
    part = target.with_name(target.name + ".part")
    if url.get_backend_name() == "sqlite":
        source = _sqlite_file(url)
        if not source.exists():
            raise BackupError(f"There is no database at {source}.")
        src = sqlite3.connect(source)
        dst = sqlite3.connect(part)
        try:
            src.backup(dst)  # every page in one step: one consistent moment
        finally:
            dst.close()
            src.close()
    elif url.get_backend_name() == "postgresql":
        address, env = _libpq(url)
        _run([_tool("pg_dump"), "--format=custom", "--file", str(part), address], env)
    else:
        raise BackupError(f"Backups of {url.get_backend_name()} databases are not supported.")
    os.replace(part, target)
    return Done(f"Backed up the database to {target} ({_size(target)}).")


def _holds_data(database_url: str) -> bool:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            tables = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
            return any(
                conn.execute(text(f'SELECT 1 FROM "{t}" LIMIT 1')).first() is not None  # noqa: S608
                for t in tables
            )
    finally:
        engine.dispose()


def _counts(database_url: str) -> str:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            revision = (
                conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                if inspect(conn).has_table("alembic_version")
                else "none recorded"
            )
            counts = [
                f"{conn.execute(text(f'SELECT count(*) FROM {t}')).scalar()} {t}"  # noqa: S608
                for t in COUNTED
            ]
    finally:
        engine.dispose()
    return f"{', '.join(counts)}; schema revision {revision}"


def restore(database_url: str, source: Path, *, force: bool = False) -> Done:
    """Replace the database's contents by the backup ``source``."""
    url = _url(database_url)
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"There is no backup file at {source}.")
    with source.open("rb") as f:
        head = f.read(16)
    backend = url.get_backend_name()
    expected = {"sqlite": SQLITE_HEADER, "postgresql": PG_CUSTOM_HEADER}.get(backend)
    if expected is None:
        raise BackupError(f"Restoring {backend} databases is not supported.")
    if not head.startswith(expected):
        kind = "a SQLite database file" if backend == "sqlite" else "a pg_dump custom-format file"
        raise BackupError(f"{source} is not {kind}, which this database needs.")
    if backend == "sqlite":
        _sqlite_file(url).parent.mkdir(parents=True, exist_ok=True)
    if _holds_data(database_url) and not force:
        raise BackupError(
            "The database holds data already: restoring replaces all of it. Add --force "
            "(and stop the site first)."
        )
    if backend == "sqlite":
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            check = src.execute("PRAGMA integrity_check").fetchone()
            has_schema = src.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'"
            ).fetchone()
            if check is None or check[0] != "ok" or has_schema is None:
                raise BackupError(f"{source} is not an intact backup of this application.")
            dst = sqlite3.connect(_sqlite_file(url))
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
    else:
        address, env = _libpq(url)
        _run(
            [
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--dbname",
                address,
                str(source),
            ],
            env,
        )
    return Done(f"Restored {source}: {_counts(database_url)}.")
