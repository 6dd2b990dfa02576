"""Crash safety (DESIGN §8: "answers are saved as they are given, so a lost connection loses
nothing"): a burst of answer saves to a real server, the server killed with SIGKILL in the
middle of it, restarted on the same database — and every save it acknowledged is there.

On SQLite the database is a file in WAL mode (the commits a crash leaves live only in the
``-wal`` file); on PostgreSQL (``TEST_DATABASE_URL``) a database of its own next to the test
one, so the suite's tables and their summary check are untouched."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

import app.models  # noqa: F401 — every table, for the factories and the summary check
from app import migrate
from app.config import Settings
from app.curriculum.sync import sync_content
from app.db import Database, make_engine
from tests.conftest import csrf_of, drop_pg_database, real_content
from tests.factories import PASSWORD, make_cohort, make_couple
from tests.live_server import server_env
from tests.server_proc import ServerProcess, server_process

PG_URL = os.environ.get("TEST_DATABASE_URL")
QUIZ = "/learn/quizzes/pre-test"
KILL_AFTER = 20  # acknowledged saves before the SIGKILL
CONCURRENCY = 6  # saves in flight at once
CHECKED_RE = re.compile(r'name="q(\d+)" value="(\d+)" checked')
CHOICE_RE = re.compile(r'name="q(\d+)" value="(\d+)"')
ATTEMPT_RE = re.compile(r'name="attempt_id" value="(\d+)"')
SAVED = 'class="small saved"'  # the "Saved ✓" htmx puts beside the question


@pytest.fixture
def server_database_url(tmp_path: Path) -> Iterator[str]:
    """The server's own database: a SQLite file, or a fresh PostgreSQL database named after
    the test one (``…_crash``), dropped afterwards."""
    if not PG_URL or not PG_URL.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'live.db'}"
        return
    base, _, name = PG_URL.rpartition("/")
    own = f"{name.split('?')[0]}_crash"
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    try:
        drop_pg_database(admin, own)
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{own}"'))
        yield f"{base}/{own}"
    finally:
        drop_pg_database(admin, own)
        admin.dispose()


@dataclass
class Learner:
    """A participant's browser: its cookies, the pre-test attempt it has open and the first
    choice of each question (what it will answer)."""

    username: str
    client: httpx.Client
    csrf: str = ""
    attempt_id: str = ""
    choices: dict[str, str] = field(default_factory=dict)

    def save(self, question: str, choice: str) -> dict[str, str]:
        """The form of one answer, as htmx posts it when a choice changes."""
        return {"csrf_token": self.csrf, "attempt_id": self.attempt_id, f"q{question}": choice}


@dataclass
class Save:
    learner: Learner
    question: str
    choice: str
    acknowledged: bool = False


def seed(url: str, settings: Settings) -> list[str]:
    """Migrate, sync the curriculum and make a cohort with a couple that has not started:
    the usernames of the two participants (whose pre-test is open)."""
    migrate.upgrade(url)
    database = Database(make_engine(url))
    try:
        sync_content(database, real_content())
        cohort = make_cohort(database, "crash")
        official, spouse = make_couple(database, settings, cohort, "krs-001")
    finally:
        database.dispose()
    return [official.username, spouse.username]


def open_attempt(learner: Learner) -> None:
    """Sign in as a browser does and start the pre-test; note the attempt and its choices."""
    c = learner.client
    page = c.get("/login")
    signed_in = c.post(
        "/login",
        data={"username": learner.username, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
    )
    assert signed_in.status_code == 303, signed_in.text
    started = c.post(QUIZ + "/start", data={"csrf_token": csrf_of(c.get(QUIZ).text)})
    assert started.status_code == 303, started.text
    form = c.get(QUIZ)
    assert form.status_code == 200, form.text
    attempt = ATTEMPT_RE.search(form.text)
    assert attempt, "the pre-test page shows no attempt in progress"
    learner.attempt_id = attempt.group(1)
    learner.csrf = csrf_of(form.text)
    for question, choice in CHOICE_RE.findall(form.text):
        learner.choices.setdefault(question, choice)
    assert not CHECKED_RE.search(form.text), "a new attempt has answers already"


async def burst(saves: list[Save], server: ServerProcess) -> int:
    """Send the saves, ``CONCURRENCY`` at a time, as htmx sends them (each browser's own
    cookies); SIGKILL the server once ``KILL_AFTER`` are acknowledged. A save is acknowledged
    by a 2xx answer; after the kill nothing new is sent. Returns how many were sent."""
    gate = asyncio.Semaphore(CONCURRENCY)
    browsers = {
        id(s.learner): httpx.AsyncClient(
            base_url=s.learner.client.base_url, cookies=s.learner.client.cookies, timeout=60
        )
        for s in saves
    }
    acknowledged = 0
    sent = 0
    killed = False

    async def one(save: Save) -> None:
        nonlocal acknowledged, sent, killed
        async with gate:
            if killed:
                return
            sent += 1
            try:
                response = await browsers[id(save.learner)].post(
                    QUIZ + "/save",
                    data=save.learner.save(save.question, save.choice),
                    headers={"HX-Request": "true"},
                )
            except httpx.HTTPError:
                return  # refused or cut off by the kill: not acknowledged
            assert 200 <= response.status_code < 300, (
                f"a save was answered {response.status_code}: {response.text}"
            )
            assert SAVED in response.text, response.text
            save.acknowledged = True
            acknowledged += 1
            if acknowledged == KILL_AFTER:
                killed = True
                server.kill()  # blocks the loop until the process is gone: nothing is sent

    try:
        await asyncio.gather(*(one(s) for s in saves))
    finally:
        for browser in browsers.values():
            await browser.aclose()
    return sent


def stored_answers(learner: Learner) -> dict[str, set[str]]:
    """The answers the attempt page shows checked, question by question."""
    page = learner.client.get(QUIZ)
    assert page.status_code == 200, page.text
    attempt = ATTEMPT_RE.search(page.text)
    assert attempt and attempt.group(1) == learner.attempt_id, "the attempt is not open"
    shown: dict[str, set[str]] = {}
    for question, choice in CHECKED_RE.findall(page.text):
        shown.setdefault(question, set()).add(choice)
    return shown


def summary_problems(url: str) -> list[str]:
    """The reports' summary of the server's database against a recomputation."""
    from app.reports.summary import summary_differences

    database = Database(make_engine(url))
    try:
        with database.read() as session:
            return summary_differences(session)
    finally:
        database.dispose()


def crash_and_restart(server: ServerProcess, usernames: list[str], url: str) -> None:
    base = server.start()
    learners = [Learner(name, httpx.Client(base_url=base, timeout=60)) for name in usernames]
    try:
        for learner in learners:
            open_attempt(learner)
        # each (participant, question) is answered once, so what the page shows after the
        # crash names the save that stored it; the two participants' saves interleave
        saves = [
            Save(learner, question, choice)
            for pair in zip(*(list(lr.choices.items()) for lr in learners), strict=True)
            for learner, (question, choice) in zip(learners, pair, strict=True)
        ]
        assert len(saves) >= 50
        sent = asyncio.run(burst(saves, server))
        acknowledged = [s for s in saves if s.acknowledged]
        assert len(acknowledged) >= KILL_AFTER  # answers already on the wire count too
        assert sent < len(saves), "the burst ended before the kill"
        assert server.proc is None, "the server was not killed"
        if url.startswith("sqlite"):
            wal = Path(url.removeprefix("sqlite:///") + "-wal")
            assert wal.exists() and wal.stat().st_size > 0, "no WAL left by the crash"

        base = server.start()  # the same database, a new process and port
        for learner in learners:
            learner.client.base_url = httpx.URL(base)  # the same session cookie
            shown = stored_answers(learner)
            mine = [s for s in saves if s.learner is learner]
            for s in mine:
                if s.acknowledged:
                    assert shown.get(s.question) == {s.choice}, (
                        f"{learner.username}: the acknowledged answer to question "
                        f"{s.question} is lost after the crash"
                    )
            sent_by_me = {(s.question, s.choice) for s in mine}
            for question, choices in shown.items():
                assert {(question, c) for c in choices} <= sent_by_me, (
                    f"{learner.username}: question {question} shows an answer never sent"
                )
        # the restarted server goes on saving, with the session and token of before
        learner = learners[0]
        unsaved = next(s for s in saves if s.learner is learner and not s.acknowledged)
        again = learner.client.post(
            QUIZ + "/save",
            data=learner.save(unsaved.question, unsaved.choice),
            headers={"HX-Request": "true"},
        )
        assert again.status_code == 200 and SAVED in again.text, again.text
        assert stored_answers(learner).get(unsaved.question) == {unsaved.choice}
    finally:
        for learner in learners:
            learner.client.close()


def test_every_acknowledged_save_survives_sigkill(tmp_path: Path, server_database_url: str):
    url = server_database_url
    settings = Settings(env="test", database_url=url, secret_key="crash-secret-" + "k" * 32)
    usernames = seed(url, settings)
    env = {**server_env(tmp_path, "crash"), "APP_DATABASE_URL": url}
    with server_process(env, tmp_path / "server.log") as server:
        try:
            crash_and_restart(server, usernames, url)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- server output:\n{server.output()[-4000:]}") from exc
    assert summary_problems(url) == []
