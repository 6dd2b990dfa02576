"""Load benchmarks, reported as ratios measured in one run on this machine (DESIGN §7).

    .venv/bin/python benchmarks/run.py [--seconds 10] [--connections 32] [--compare DIR]

Needs wrk (apt-get install wrk). Starts its own servers on loopback ports, with a fresh SQLite
database (migrated, curriculum synced, demo seeded), one uvicorn worker with uvloop and
httptools: the lesson page, the learning map, the quiz page, the answer POST and /healthz under
load and with one client, beside a bare Starlette route returning a page of the lesson's size
(the limit). ``--compare DIR`` measures another copy of the code in the same run. Writes the
sections "Pages under load" and "Roster import" of benchmarks/results.md.
"""

from __future__ import annotations

import argparse
import json
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

from benchmarks.common import (
    PRODUCTION_SERVER,
    RESULTS,
    ROOT,
    code_state,
    cpu_model,
    cpu_seconds,
    load_averages,
    now_stamp,
    nproc,
    production_env,
    replace_section,
    run_cli,
    server,
)


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
    threads: int = 2,
    base: str | None = None,
) -> dict:
    """wrk's figures for ``url``; with ``base`` (a server of ``common.server``), also the
    server's CPU milliseconds per request."""
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for key, value in (headers or {}).items():
        args += ["-H", f"{key}: {value}"]
    if script:
        args += ["-s", script]
    cpu = cpu_seconds(base) if base else 0.0
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(base) - cpu if base else 0.0
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "cpu_ms": 1000 * cpu / requests if base and requests else None,
        "rps": rps,
        "p50_ms": _latency(out, "50%"),
        "p99_ms": _latency(out, "99%"),
        "errors": int(non2xx.group(1)) if non2xx else 0,
    }


def tail_latency(results: dict, connections: int) -> str:
    """Why the p99 at ``connections`` connections is what it is, in this run's figures."""
    lesson, one = results["lesson"], results["lesson_one"]
    app = lesson.get("app_ms") or {}
    text = (
        f"The p99 at {connections} connections is waiting, not work. One worker holding "
        f"{connections} requests serves them one after another, so each waits for about "
        f"{connections} requests' time (Little's law: {connections} / {lesson['rps']:.0f} req/s "
        f"= {1000 * connections / lesson['rps']:.0f} ms for the lesson page, its median under "
        f"load {lesson['p50_ms']:.0f} ms). Its p99 ({lesson['p99_ms']:.0f} ms) is the few "
        "requests a saturated worker reads late: "
    )
    if app:
        text += (
            f"the application's own time for the same requests (its access log, from the "
            f"request's arrival in the application to the response) is {app['p50']:.1f} ms "
            f"median and {app['p99']:.1f} ms p99, so the rest of the tail is spent before the "
            "application sees the request, in the server's queue of connections. "
        )
    return text + (
        f"With one client there is no queue: median {one['p50_ms']:.2f} ms, p99 "
        f"{one['p99_ms']:.2f} ms. A site is sized so that it runs below its limit (README, "
        '"Sizing"): there a participant sees the one-client figures, and each worker more '
        "(one per core) shortens the queue."
    )


def _latency(out: str, percentile: str) -> float:
    """A percentile of wrk's latency distribution, in milliseconds."""
    found = re.search(rf"{percentile}\s+([\d.]+)(us|ms|s)\b", out)
    return float(found.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]


PAGES = [
    # (key, what the table calls it, its target share of the limit)
    ("lesson", "lesson page, signed in", "≥ 0.20"),
    ("map", "learning map (`/learn`)", ""),
    ("quiz", "quiz page, an attempt in progress (`/learn/quizzes/pre-test`)", ""),
    ("answer", "quiz answer POST (htmx save)", "≥ 0.10"),
    ("health", "`/healthz` (two small reads, JSON)", ""),
    (
        "floor",
        "`/healthz` with a session cookie: what every signed-in page costs before its own work "
        "(middleware, routing, the session lookup, CSRF and input checks)",
        "",
    ),
]


def measure_app(work: Path, env: dict, opts, app_dir: Path, name: str) -> dict:
    """Each page under load (``opts.connections``) and with one client, served from the code
    in ``app_dir`` on a fresh database of the demo."""
    env = {**env, "APP_DATABASE_URL": f"sqlite:///{work / f'{name}.db'}"}
    for args in (["migrate"], ["content", "sync"], ["seed-demo"]):
        run_cli(env, *args, cwd=app_dir)
    options = ("--app-dir", str(app_dir), *PRODUCTION_SERVER)
    with server(env, work / "app.log", *options, cwd=app_dir) as app_base:
        cookie = sign_in(app_base, "tng24-001a")
        learn = httpx.get(app_base + "/learn", headers={"Cookie": cookie}).text
        lesson = re.findall(r'href="(/learn/lessons/[^"]+)"', learn)[-1]
        html = httpx.get(app_base + lesson, headers={"Cookie": cookie}).text
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
        targets = {
            "lesson": (app_base + lesson, {"headers": {"Cookie": cookie}}),
            "map": (app_base + "/learn", {"headers": {"Cookie": cookie}}),
            "quiz": (app_base + "/learn/quizzes/pre-test", {"headers": {"Cookie": quiz_cookie}}),
            "answer": (app_base + "/learn/quizzes/pre-test/save", {"script": str(lua)}),
            "health": (app_base + "/healthz", {}),
            "floor": (app_base + "/healthz", {"headers": {"Cookie": cookie}}),
        }
        results: dict = {"lesson_url": lesson, "page_bytes": len(html.encode())}
        log = work / "app.log"
        for key, (url, how) in targets.items():
            start = log.stat().st_size
            results[key] = wrk(url, opts.seconds, opts.connections, base=app_base, **how)
            results[key]["app_ms"] = app_durations(log, start)
            results[key + "_one"] = wrk(url, opts.seconds, 1, threads=1, **how)
    return results


def app_durations(log: Path, start: int) -> dict[str, float]:
    """The median and p99 of the application's own time per request (its JSON access lines,
    ``duration_ms``) written to ``log`` after byte ``start``: the time from the request's
    arrival in the application to its response, without the wait in the server before it."""
    with log.open("rb") as f:
        f.seek(start)
        lines = f.read().decode(errors="replace").splitlines()
    durations = sorted(
        float(json.loads(line)["duration_ms"])
        for line in lines
        if line.startswith("{") and '"duration_ms"' in line
    )
    if not durations:
        return {}
    return {
        "p50": durations[len(durations) // 2],
        "p99": durations[min(len(durations) - 1, int(len(durations) * 0.99))],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--compare",
        type=Path,
        help="another copy of the code (e.g. a `git worktree` of an earlier commit), measured "
        "in the same run with this tree's virtual environment",
    )
    opts = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    began, load = time.time(), os.getloadavg()
    env = production_env(work, f"sqlite:///{work / 'bench.db'}", "benchmark-secret-" + "z" * 32)
    results = measure_app(work, env, opts, ROOT, "bench")
    before = (
        measure_app(work, env, opts, opts.compare.resolve(), "compare") if opts.compare else None
    )
    page_bytes = results["page_bytes"]
    bare_env = {**env, "BENCH_PAGE_BYTES": str(page_bytes)}
    with server(
        bare_env,
        work / "bare.log",
        *PRODUCTION_SERVER,
        app="benchmarks.bare:app",
        factory=False,
        path="/",
    ) as bare_base:
        results["bare"] = wrk(bare_base + "/", opts.seconds, opts.connections, base=bare_base)
        results["bare_one"] = wrk(bare_base + "/", opts.seconds, 1, threads=1)
    limit = results["bare"]["rps"]

    limit_cpu = results["bare"]["cpu_ms"]

    def row(label: str, key: str, target: str, measured: dict) -> str:
        many, one = measured[key], measured[key + "_one"]
        return (
            f"| {label} | {many['rps']:.0f} | {many['p99_ms']:.1f} | {many['rps'] / limit:.2f} | "
            f"{many['cpu_ms']:.3f} | {limit_cpu / many['cpu_ms']:.2f} | "
            f"{one['p50_ms']:.2f} | {one['p99_ms']:.2f} | {target} |"
        )

    header = [
        f"| what | req/s at {opts.connections} | p99 ms at {opts.connections} | share of the "
        "limit | server CPU ms per request | share of the limit by CPU | one client: median ms "
        "| one client: p99 ms | target |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    pages = [
        row(
            f"bare Starlette, prerendered page of {page_bytes} bytes (the limit)",
            "bare",
            "",
            results,
        )
    ]
    for key, label, target in PAGES:
        label = label if key != "lesson" else f"{label} (`{results['lesson_url']}`)"
        pages.append(row(label, key, target, results))
    lines = [
        "## Pages under load",
        "",
        f"{now_stamp()}; {code_state(this_tree='this tree: ')}; {cpu_model()}, nproc {nproc()}; "
        f"{load_averages(load)}; it took {(time.time() - began) / 60:.1f} min. "
        f"Command: `.venv/bin/python benchmarks/run.py` (`make bench`).",
        "",
        f"Settings: production (`APP_ENV=production`), SQLite (WAL) on local disk, one uvicorn "
        f"worker with uvloop and httptools, no access log from uvicorn (the application's own "
        f"JSON line per request is written). wrk {wrk_version()}, {opts.seconds} s per row, "
        f"{opts.connections} connections on 2 threads, then one connection on one thread; no "
        f'`Accept-Encoding` (no compression). {versions()}. "Server CPU" is the CPU time '
        f"the server process used during the row's {opts.connections}-connection run, per "
        "request: the work a request costs, which a shared machine disturbs far less than "
        "requests per second (wrk runs on the same two cores).",
        "",
        *header,
        *pages,
        "",
        "Errors (non-2xx): "
        + ", ".join(f"{key} {results[key]['errors']}" for key, _, _ in PAGES)
        + ".",
        "",
        tail_latency(results, opts.connections),
    ]
    if before is not None:
        lines += [
            "",
            f"The same pages of {code_state(opts.compare.resolve())}, in the same run (the "
            "limit as above):",
            "",
            *header,
            *(row(label, key, target, before) for key, label, target in PAGES),
        ]
    replace_section("## Pages under load", lambda _old: "\n".join(lines))
    imported = import_benchmark(work)
    replace_section(
        "## Roster import",
        lambda _old: "\n".join(
            [
                "## Roster import",
                "",
                f"{now_stamp()}. 2,000 couples: parse {imported['parse']:.2f} s, parse + import "
                f"into a fresh SQLite database {imported['total']:.2f} s (import/parse ratio "
                f"{imported['total'] / imported['parse']:.1f}); importing the same file again "
                f"changes nothing and takes {imported['again']:.2f} s.",
            ]
        ),
    )
    print(RESULTS.read_text())


def wrk_version() -> str:
    done = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return (done.stdout + done.stderr).split()[1] if (done.stdout + done.stderr).split() else "?"


def versions() -> str:
    from importlib.metadata import version

    names = ["fastapi", "starlette", "uvicorn", "sqlalchemy", "jinja2", "starlette-compress"]
    return f"Python {sys.version.split()[0]}, " + ", ".join(f"{n} {version(n)}" for n in names)


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
            secret=settings.secret(),
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
            secret=settings.secret(),
        )
    t3 = time.perf_counter()
    assert again.ok and len(again.unchanged) == 2000, again.problems[:3]
    return {"parse": t1 - t0, "total": t2 - t0, "again": t3 - t2}


if __name__ == "__main__":
    main()
