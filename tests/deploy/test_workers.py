"""Two workers are one site: two separate ``integritas serve`` processes (A and B, one worker
each, on their own ports, so the test knows which one answered) over one database — a new
PostgreSQL database in the PostgreSQL phase, one SQLite file otherwise. A session made on A
is valid on B, a CSRF token from A's form is accepted by B, a content sync is seen by both
without a restart, and failed sign-ins are counted across both."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.config import ROOT, Settings
from app.db import Database, make_engine
from tests.conftest import csrf_of
from tests.deploy.processes import SECRET, cli, deploy_database, healthy, serve, site_env
from tests.factories import PASSWORD, make_cohort, make_couple

MODULE_TITLE = "Sembilan Nilai Integritas"
PER_ACCOUNT = 5  # APP_LOGIN_MAX_PER_ACCOUNT for these workers


@dataclass
class Site:
    a: str
    b: str
    env: dict[str, str]
    content: Path  # the copy of modules/ the workers' APP_CONTENT_DIR names


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("workers")
    content = folder / "modules"
    shutil.copytree(ROOT / "modules", content)
    with deploy_database(folder, "integritas_workers_test") as url, ExitStack() as stack:
        env = site_env(
            folder,
            url,
            content_dir=str(content),
            login_max_per_account=str(PER_ACCOUNT),
        )
        cli(env, "migrate")
        cli(env, "content", "sync")
        engine = make_engine(url)
        stack.callback(engine.dispose)
        db = Database(engine)
        settings = Settings(env="test", database_url=url, secret_key=SECRET)
        cohort = make_cohort(db, "dua-pekerja")
        make_couple(db, settings, cohort, "w1")
        servers = [serve(stack, env, folder / f"{n}.log", wait=False) for n in "ab"]
        for process, base in servers:
            healthy(process, base)
        (_, a), (_, b) = servers
        yield Site(a, b, env, content)


def sign_in(base: str, client: httpx.Client, username: str, password: str = PASSWORD):
    page = client.get(f"{base}/login")
    return client.post(
        f"{base}/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
    )


def browser() -> httpx.Client:
    return httpx.Client(timeout=30, follow_redirects=False)


def test_a_session_made_on_one_worker_is_valid_on_the_other(site: Site) -> None:
    with browser() as on_a, browser() as on_b:
        assert sign_in(site.a, on_a, "w1-a").status_code == 303
        assert on_b.get(f"{site.b}/learn").status_code == 303  # B: no session yet
        on_b.cookies = on_a.cookies  # the same browser, its next request reaching B
        page = on_b.get(f"{site.b}/learn")
        assert page.status_code == 200 and "Halo, w1 a" in page.text
        # signed out on B: the session is gone on A too
        assert (
            on_b.post(f"{site.b}/logout", data={"csrf_token": csrf_of(page.text)}).status_code
            == 303
        )
        assert on_a.get(f"{site.a}/learn").status_code == 303


def test_a_csrf_token_from_a_form_on_one_worker_is_accepted_by_the_other(site: Site) -> None:
    with browser() as client:
        assert sign_in(site.a, client, "w1-b").status_code == 303
        form = client.get(f"{site.a}/learn/quizzes/pre-test")
        assert form.status_code == 200
        token = csrf_of(form.text)
        forged = client.post(
            f"{site.b}/learn/quizzes/pre-test/start", data={"csrf_token": "x" * 43}
        )
        assert forged.status_code == 403
        started = client.post(f"{site.b}/learn/quizzes/pre-test/start", data={"csrf_token": token})
        assert started.status_code == 303
        quiz = client.get(f"{site.a}/learn/quizzes/pre-test")
        assert 'name="attempt_id"' in quiz.text  # the attempt B started, shown by A


def test_a_content_sync_is_seen_by_both_without_a_restart(site: Site) -> None:
    with browser() as client:
        assert sign_in(site.a, client, "w1-a").status_code == 303
        for base in (site.a, site.b):
            page = client.get(f"{base}/learn").text
            assert MODULE_TITLE in page and "(edisi baru)" not in page
        versions = {base: _content_version(base) for base in (site.a, site.b)}
        assert len(set(versions.values())) == 1

        module = site.content / "01-nilai-integritas" / "module.yaml"
        yaml = module.read_text()
        assert f"  id: {MODULE_TITLE}\n" in yaml
        module.write_text(
            yaml.replace(f"  id: {MODULE_TITLE}\n", f"  id: {MODULE_TITLE} (edisi baru)\n", 1)
        )
        cli(site.env, "content", "sync")

        for base in (site.a, site.b):
            assert _content_version(base) == versions[base] + 1
            assert f"{MODULE_TITLE} (edisi baru)" in client.get(f"{base}/learn").text


def _content_version(base: str) -> int:
    return int(httpx.get(f"{base}/healthz", timeout=10).json()["content_version"])


def test_failed_sign_ins_are_counted_across_both_workers(site: Site) -> None:
    """Wrong passwords for one account, each from a new browser, alternating between A and B:
    refused as wrong until the account's limit is reached over both, then the next try waits
    (429) on either — although neither worker alone has seen the limit."""
    bases = [site.a, site.b]
    statuses = []
    for attempt in range(PER_ACCOUNT):
        with browser() as client:
            statuses.append(
                sign_in(bases[attempt % 2], client, "w1-b", "salah-sandinya-1").status_code
            )
    assert 429 not in statuses and all(400 <= s < 500 for s in statuses), statuses
    # A has seen 3 failures, B 2: B refuses the right password now
    with browser() as client:
        blocked = sign_in(site.b, client, "w1-b")
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) > 0
    with browser() as client:
        assert sign_in(site.a, client, "w1-b").status_code == 429
