"""``integritas backup`` / ``restore``: a backup of a running site under writes holds every
answer acknowledged before it began; restoring refuses what it should; PostgreSQL round trip."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from app.backup import BackupError, backup, restore
from tests.conftest import csrf_of, login, scratch_pg_database
from tests.e2e.browser import demo_server
from tests.live_server import run_cli

PG_URL = os.environ.get("TEST_DATABASE_URL")


def _finished_participants(db_file: Path, n: int) -> list[str]:
    """Participants of the historic demo cohort who hold a certificate: every lesson is open."""
    with sqlite3.connect(db_file) as conn:
        rows = conn.execute(
            "SELECT u.username FROM user_account u JOIN certificate c ON c.user_id = u.id "
            "ORDER BY u.username LIMIT ?",
            (n,),
        ).fetchall()
    return [r[0] for r in rows]


def _checks(db_file: Path) -> list[tuple[int, str, int]]:
    """(question id, lesson slug, a choice id) of every current lesson check."""
    with sqlite3.connect(db_file) as conn:
        return conn.execute(
            "SELECT q.id, l.slug, min(c.id) FROM question q JOIN lesson l ON l.id = q.lesson_id "
            "JOIN choice c ON c.question_id = q.id WHERE q.current = 1 AND q.pool = 'check' "
            "GROUP BY q.id, l.slug ORDER BY q.id"
        ).fetchall()


def _tries(db_file: Path, usernames: list[str]) -> Counter[tuple[str, int]]:
    """How many answers each (participant, check) has recorded (a check takes any number)."""
    with sqlite3.connect(db_file) as conn:
        rows = conn.execute(
            "SELECT u.username, a.question_id, a.tries FROM check_answer a "
            "JOIN user_account u ON u.id = a.user_id"
        ).fetchall()
    return Counter({(r[0], r[1]): r[2] for r in rows if r[0] in usernames})


@pytest.mark.skipif(bool(PG_URL), reason="the live site's backup runs once, on SQLite")
def test_a_backup_of_a_running_site_holds_every_answer_acknowledged_before_it(tmp_path):
    with demo_server(tmp_path / "site", "backup-test") as (base, env):
        db_file = Path(env["APP_DATABASE_URL"].removeprefix("sqlite:///"))
        people = _finished_participants(db_file, 2)
        checks = _checks(db_file)
        assert len(people) == 2 and len(checks) > 40
        before = _tries(db_file, people)
        acknowledged: list[tuple[float, str, int]] = []
        stop = threading.Event()
        errors: list[str] = []

        def answer_all(username: str) -> None:
            with httpx.Client(base_url=base, timeout=30) as client:
                assert login(client, username).status_code == 303
                page = client.get(f"/learn/lessons/{checks[0][1]}").text
                token = csrf_of(page)
                for question_id, lesson, choice in checks:
                    if stop.is_set():
                        return
                    response = client.post(
                        f"/learn/lessons/{lesson}/checks/{question_id}",
                        data={"choice": str(choice), "csrf_token": token},
                    )
                    # the plain form's answer: saved, then back to the lesson at this check
                    if response.status_code == 303 and f"#check-{question_id}" in (
                        response.headers.get("location", "")
                    ):
                        acknowledged.append((time.monotonic(), username, question_id))
                    else:
                        errors.append(f"{username} {question_id}: {response.status_code}")

        writers = [threading.Thread(target=answer_all, args=(u,)) for u in people]
        for w in writers:
            w.start()
        try:
            deadline = time.monotonic() + 60
            while len(acknowledged) < 10 and time.monotonic() < deadline:
                time.sleep(0.05)
            started = time.monotonic()
            run_cli(env, "backup", str(tmp_path / "site.backup"))
            finished = time.monotonic()
        finally:
            stop.set()
            for w in writers:
                w.join(timeout=60)
        assert errors == []
        due = Counter((u, q) for t, u, q in acknowledged if t < started)
        every = Counter((u, q) for _, u, q in acknowledged)
        during = [a for a in acknowledged if started <= a[0] < finished]
        assert sum(due.values()) >= 10

    fresh = tmp_path / "restored.db"
    restored_env = {**env, "APP_DATABASE_URL": f"sqlite:///{fresh}"}
    said = run_cli(restored_env, "restore", str(tmp_path / "site.backup"))
    assert said.startswith(f"Restored {tmp_path / 'site.backup'}: ")
    restored = _tries(fresh, people)
    # every answer acknowledged before the backup began is in it, and none that never was
    for key in every:
        assert before[key] + due[key] <= restored[key] <= before[key] + every[key], key
    with sqlite3.connect(fresh) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    # the writes went on while the backup ran (it did not stop the site)
    assert during or finished - started < 0.5


def _sqlite(path: Path) -> str:
    return f"sqlite:///{path}"


def _with_rows(path: Path) -> str:
    url = _sqlite(path)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('x')"))
        for table in ("user_account", "quiz_attempt", "check_answer", "lesson_progress"):
            conn.execute(text(f"CREATE TABLE {table} (id INTEGER)"))
        conn.execute(text("INSERT INTO user_account VALUES (1)"))
    engine.dispose()
    return url


def test_backup_and_restore_refuse_what_they_should(tmp_path):
    site = _with_rows(tmp_path / "site.db")
    target = tmp_path / "copy.db"
    assert "Backed up the database to" in backup(site, target).message
    with pytest.raises(BackupError, match="exists already: name a new file, or add --force"):
        backup(site, target)
    with pytest.raises(BackupError, match="The folder .* does not exist"):
        backup(site, tmp_path / "nowhere" / "copy.db")
    with pytest.raises(BackupError, match="There is no database at"):
        backup(_sqlite(tmp_path / "missing.db"), tmp_path / "x.db")
    assert not (tmp_path / "x.db.part").exists()

    with pytest.raises(BackupError, match="holds data already: .* Add --force"):
        restore(site, target)
    assert "1 user_account" in restore(site, target, force=True).message
    (tmp_path / "notes.txt").write_text("not a backup")
    with pytest.raises(BackupError, match="is not a SQLite database file"):
        restore(_sqlite(tmp_path / "new.db"), tmp_path / "notes.txt")
    with pytest.raises(BackupError, match="There is no backup file at"):
        restore(_sqlite(tmp_path / "new.db"), tmp_path / "gone.db")
    empty_sqlite = tmp_path / "empty-but-sqlite.db"
    sqlite3.connect(empty_sqlite).close()
    with pytest.raises(BackupError, match="is not a SQLite database file|not an intact backup"):
        restore(_sqlite(tmp_path / "new.db"), empty_sqlite)
    restored = restore(_sqlite(tmp_path / "new.db"), target)
    assert restored.message.endswith(
        "1 user_account, 0 quiz_attempt, 0 check_answer, 0 lesson_progress; schema revision x."
    )


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (TEST_DATABASE_URL)")
def test_postgresql_backup_restores_into_another_database(tmp_path, db, settings):
    from tests.factories import make_cohort, make_couple

    cohort = make_cohort(db, "uji")
    make_couple(db, settings, cohort, "x1")
    dump = tmp_path / "site.dump"
    assert "Backed up" in backup(PG_URL, dump).message
    assert dump.read_bytes().startswith(b"PGDMP")
    with scratch_pg_database("integritas_restore_test") as fresh:
        with db.read() as session:
            users = session.execute(text("SELECT count(*) FROM user_account")).scalar()
        done = restore(fresh, dump)
        assert f": {users} user_account, 0 quiz_attempt" in done.message
        with pytest.raises(BackupError, match="holds data already"):
            restore(fresh, dump)
        with pytest.raises(BackupError, match="is not a pg_dump custom-format file"):
            restore(fresh, Path(__file__))
