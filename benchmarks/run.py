"""Load benchmarks, reported as ratios measured in one run on this machine (DESIGN §7).

    .venv/bin/python benchmarks/run.py [--seconds 10] [--connections 32]

Needs wrk (apt-get install wrk). Starts its own servers on loopback ports, with a fresh SQLite
database (migrated, curriculum synced, demo seeded), one uvicorn worker with uvloop and
httptools. Writes benchmarks/results.md.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import PRODUCTION_SERVER, ROOT, production_env, run_cli, server


def csrf_in(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(base: str, username: str) -> str:
    """Signs in over plain HTTP on loopback with production settings (whose cookies are
    ``Secure``, so they are carried by hand) and returns the Cookie header."""
    first = httpx.get(base + "/login")
    anon = first.headers["set-cookie"].split(";", 1)[0]
    response = httpx.post(
        base + "/login",
        data={
            "username": username,
            "password": "demo-integritas",
            "csrf_token": csrf_in(first.text),
        },
        headers={"Cookie": anon},
    )
    assert response.status_code == 303, response.status_code
    session = next(
        v.split(";", 1)[0]
        for k, v in response.headers.multi_items()
        if k == "set-cookie" and "kb_session" in v
    )
    return f"{anon}; {session}"


def wrk(
    url: str,
    seconds: int,
    connections: int,
    *,
    headers: dict | None = None,
    script: str | None = None,
) -> dict:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for key, value in (headers or {}).items():
        args += ["-H", f"{key}: {value}"]
    if script:
        args += ["-s", script]
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    factor = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p99_ms": float(p99.group(1)) * factor,
        "errors": int(non2xx.group(1)) if non2xx else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    opts = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    env = production_env(work, f"sqlite:///{work / 'bench.db'}", "benchmark-secret-" + "z" * 32)
    for args in (["migrate"], ["content", "sync"], ["seed-demo"]):
        run_cli(env, *args)

    with server(env, work / "app.log", *PRODUCTION_SERVER) as app_base:
        cookie = sign_in(app_base, "tng24-001a")
        learn = httpx.get(app_base + "/learn", headers={"Cookie": cookie}).text
        lesson = re.findall(r'href="(/learn/lessons/[^"]+)"', learn)[-1]
        html = httpx.get(app_base + lesson, headers={"Cookie": cookie}).text
        page_bytes = len(html.encode())
        # a quiz answer POST needs an attempt in progress: the demo user "sari" starts the
        # pre-test (answers are saved as given, over and over, like a participant would)
        quiz_cookie = sign_in(app_base, "sari")
        quiz = httpx.Client(base_url=app_base, headers={"Cookie": quiz_cookie})
        token = csrf_in(quiz.get("/learn/quizzes/pre-test").text)
        quiz.post("/learn/quizzes/pre-test/start", data={"csrf_token": token})
        form = quiz.get("/learn/quizzes/pre-test").text
        attempt = re.search(r'name="attempt_id" value="(\d+)"', form).group(1)
        qid, cid = re.search(r'name="q(\d+)" value="(\d+)"', form).groups()
        token = csrf_in(form)
        lua = work / "answer.lua"
        lua.write_text(
            'wrk.method = "POST"\n'
            f'wrk.body = "attempt_id={attempt}&q{qid}={cid}"\n'
            'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
            'wrk.headers["HX-Request"] = "true"\n'
            f'wrk.headers["X-CSRF-Token"] = "{token}"\n'
            f'wrk.headers["Cookie"] = "{quiz_cookie}"\n'
        )
        results = {
            "lesson": wrk(
                app_base + lesson, opts.seconds, opts.connections, headers={"Cookie": cookie}
            ),
            "answer": wrk(
                app_base + "/learn/quizzes/pre-test/save",
                opts.seconds,
                opts.connections,
                script=str(lua),
            ),
        }
    bare_env = {**env, "BENCH_PAGE_BYTES": str(page_bytes)}
    with server(
        bare_env,
        work / "bare.log",
        *PRODUCTION_SERVER,
        app="benchmarks.bare:app",
        factory=False,
        path="/",
    ) as bare_base:
        results["bare"] = wrk(bare_base + "/", opts.seconds, opts.connections)

    results["import"] = import_benchmark(work)
    limit = results["bare"]["rps"]
    lines = [
        "# Benchmark results",
        "",
        f"One run on this machine ({os.cpu_count()} cores), wrk {opts.connections} connections, "
        f"{opts.seconds} s each, one uvicorn worker (uvloop, httptools), SQLite.",
        "",
        "| what | req/s | p99 ms | share of the limit | target |",
        "|---|---|---|---|---|",
        f"| bare Starlette, prerendered page of {page_bytes} bytes (the limit) | "
        f"{limit:.0f} | {results['bare']['p99_ms']:.1f} | 1.00 | |",
        f"| lesson page, signed in (`{lesson}`) | {results['lesson']['rps']:.0f} | "
        f"{results['lesson']['p99_ms']:.1f} | {results['lesson']['rps'] / limit:.2f} | "
        "≥ 0.20, p99 ≤ 20 ms |",
        f"| quiz answer POST (htmx save) | {results['answer']['rps']:.0f} | "
        f"{results['answer']['p99_ms']:.1f} | {results['answer']['rps'] / limit:.2f} | ≥ 0.10 |",
        "",
        f"Errors (non-2xx): lesson {results['lesson']['errors']}, "
        f"answer {results['answer']['errors']}.",
        "",
        "## Roster import",
        "",
        f"2,000 couples: parse {results['import']['parse']:.2f} s, parse + import into a fresh "
        f"SQLite database {results['import']['total']:.2f} s "
        f"(import/parse ratio {results['import']['total'] / results['import']['parse']:.1f}); "
        f"importing the same file again changes nothing and takes "
        f"{results['import']['again']:.2f} s.",
    ]
    (ROOT / "benchmarks" / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def import_benchmark(work: Path) -> dict:
    from datetime import UTC, datetime

    from app import migrate
    from app.cohorts.roster import parse_roster
    from app.cohorts.service import roster_import
    from app.db import Database, make_engine
    from app.demo import make_roster_csv

    url = f"sqlite:///{work / 'import.db'}"
    migrate.upgrade(url)
    db = Database(make_engine(url))
    data = make_roster_csv(2000, seed=7)
    t0 = time.perf_counter()
    parsed = parse_roster(data, "roster.csv")
    t1 = time.perf_counter()
    from app.accounts.models import CurrentUser
    from app.accounts.service import user_create
    from app.admin.service import cohort_save, region_create
    from app.config import Settings

    settings = Settings(env="test", secret_key="bench-secret-key-" + "x" * 32)
    now = datetime.now(UTC)
    with db.write() as session:
        admin = user_create(
            session,
            username="bench-admin",
            display_name="Bench Admin",
            role="admin",
            password=None,
            settings=settings,
        )
        actor = CurrentUser(admin.id, admin.username, admin.display_name, "admin", "id", None, None)
        region = region_create(
            session,
            form={"slug": "kota-uji", "name": "Kota Uji", "province": "Banten"},
            actor=actor,
            now=now,
        )
        cohort = cohort_save(
            session,
            form={
                "slug": "bench",
                "code_prefix": "BEN",
                "region_id": str(region.id),
                "title": "Bench",
                "venue": "Aula",
                "workshop_start": "2026-10-14",
                "workshop_end": "2026-10-15",
                "pre_opens": "2026-09-30",
                "post_closes": "2026-11-30",
            },
            actor=actor,
            now=now,
            tz=settings.tz,
        )
    with db.write() as session:
        result = roster_import(
            session,
            cohort=cohort,
            parsed=parsed,
            actor_id=None,
            now=datetime.now(UTC),
            activation_days=30,
            create_organizations=True,  # a fresh region: its OPDs come with the roster
        )
    t2 = time.perf_counter()
    assert result.ok and len(result.created) == 2000, result.problems[:3]
    with db.write() as session:
        again = roster_import(
            session,
            cohort=cohort,
            parsed=parse_roster(data, "roster.csv"),
            actor_id=None,
            now=datetime.now(UTC),
            activation_days=30,
        )
    t3 = time.perf_counter()
    assert again.ok and len(again.unchanged) == 2000, again.problems[:3]
    return {"parse": t1 - t0, "total": t2 - t0, "again": t3 - t2}


if __name__ == "__main__":
    main()
