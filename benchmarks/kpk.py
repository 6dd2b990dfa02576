"""KPK analytics on a synthetic country (DESIGN §7: every KPK page and API answer ≤ 100 ms at
100,000 couples, on SQLite and on PostgreSQL):

    .venv/bin/python benchmarks/kpk.py [--couples 100000] [--database-url URL] [--reuse]
        [--runs 20] [--no-http] [--no-write]

1. The database: ``integritas migrate``, ``integritas content sync`` and
   ``integritas seed-synthetic --couples N`` (timed: the seeding includes the rebuild of the
   reports' summary, timed on its own by the command). SQLite (the default,
   ``sqlite:///<tmp>/kpk-bench.db``): the file is made again. PostgreSQL: the database must
   exist and be empty (``createdb``). ``--reuse`` takes a database seeded before (with the same
   ``--couples``) as it is.
2. In process: each KPK measure (``app.reports.service`` ``funnel``, ``gain``, ``trend``,
   ``comparison``) as the pages and the API call it — one read session, the filter parsed
   from its parameters, the measure — with no filter, ``group_by=region``, the largest region,
   that region and its largest OPD, and ``group_by=organization`` within the region (trend
   and comparison take no ``group_by``: the filters only). ``--runs`` timed calls after 3
   warm-ups: median and p95; SQL statements of one more call.
3. Over HTTP, the application under uvicorn (one worker, production settings) on a free
   loopback port: ``/kpk``, ``/kpk?region=…`` and ``/kpk/cohorts/{slug}`` (the largest
   cohort) signed in as the synthetic KPK analyst, and ``/api/v1/funnel``, ``gain``,
   ``trend``, ``comparison`` with the variants above and a bearer token
   (``integritas api-token create``; one token per endpoint, since each token may make 120
   requests a minute). A route that answers 404 is reported as not yet available.

A measure or page above the target gets its slowest statements (with the application function
that sent them) and a cProfile of its calls. Prints the tables and writes them into the
section "KPK analytics at …k couples" of benchmarks/results.md (a subsection per database;
the rest of the section is kept).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    ROOT,
    code_state,
    load_averages,
    now_stamp,
    nproc,
    p95,
    production_env,
    replace_section,
    run_cli,
    server,
)

TARGET_MS = 100.0
WARMUPS = 3
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
DEFAULT_URL = f"sqlite:///{Path(tempfile.gettempdir()) / 'kpk-bench.db'}"


def cpu_reference() -> float:
    """ms for a fixed pure-Python loop: how fast this machine runs Python right now (a
    shared machine's speed varies between runs, whatever its load average says)."""
    start = time.perf_counter()
    total = 0
    for i in range(2_000_000):
        total += i * i
    return 1000 * (time.perf_counter() - start)


def section_title(couples: int) -> str:
    size = f"{couples // 1000}k" if couples % 1000 == 0 else f"{couples:,}"
    return f"## KPK analytics at {size} couples"


def database_name(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgresql") else "SQLite"


# ---------------------------------------------------------------- the database


def cli_env(url: str, work: Path) -> dict[str, str]:
    return production_env(work, url, "kpk-bench-" + secrets.token_urlsafe(32))


def sqlite_path(url: str) -> Path | None:
    prefix = "sqlite:///"
    return Path(url[len(prefix) :]) if url.startswith(prefix) else None


def prepare(url: str, couples: int, env: dict[str, str], *, reuse: bool) -> dict[str, Any]:
    """The seeded database; what its making took (nothing when reused)."""
    from sqlalchemy import inspect

    from app.db import make_engine

    if reuse:
        return {}
    path = sqlite_path(url)
    if path is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
    else:
        engine = make_engine(url)
        tables = inspect(engine).get_table_names()
        engine.dispose()
        if tables:
            raise SystemExit(
                f"{url.rsplit('/', 1)[-1]} is not empty ({len(tables)} tables): give an empty "
                "database (dropdb, createdb), or --reuse to measure the one that is there."
            )
    made: dict[str, Any] = {}
    _, made["migrate"] = run_cli(env, "migrate")
    _, made["content sync"] = run_cli(env, "content", "sync")
    print(f"migrated and synced in {made['migrate'] + made['content sync']:.1f} s", flush=True)
    out, made["seed"] = run_cli(env, "seed-synthetic", "--couples", str(couples))
    found = re.search(r"Report summary rebuilt: ([\d,]+) participants in ([\d.]+) s", out)
    made["rebuild"] = float(found.group(2)) if found else None
    made["output"] = out
    print(out, flush=True)
    return made


def data_counts(db) -> dict[str, int]:
    from sqlalchemy import func, select

    from app.db import metadata

    with db.read() as session:
        return {
            name: session.execute(
                select(func.count()).select_from(metadata.tables[name])
            ).scalar_one()
            for name in (
                "couple",
                "user_account",
                "attempt_item",
                "participant_summary",
                "report_cohort",
                "report_opd",
            )
        }


def choose_targets(db) -> dict[str, Any]:
    """The largest region (by participants), its largest OPD, the largest cohort."""
    from sqlalchemy import func, select

    from app.cohorts.models import Cohort, Organization, Region
    from app.reports.models import report_cohort, report_opd

    with db.read() as session:
        region = session.execute(
            select(Region.slug, Region.name, func.sum(report_cohort.c.people).label("n"))
            .join(Cohort, Cohort.region_id == Region.id)
            .join(report_cohort, report_cohort.c.cohort_id == Cohort.id)
            .group_by(Region.slug, Region.name)
            .order_by(func.sum(report_cohort.c.people).desc(), Region.slug)
        ).first()
        if region is None:
            raise SystemExit("the summary is empty: was the database seeded (and rebuilt)?")
        organization = session.execute(
            select(Organization.id, Organization.name, func.sum(report_opd.c.people))
            .join(Region, Region.id == Organization.region_id)
            .join(report_opd, report_opd.c.organization_id == Organization.id)
            .where(Region.slug == region.slug)
            .group_by(Organization.id, Organization.name)
            .order_by(func.sum(report_opd.c.people).desc(), Organization.id)
        ).first()
        cohort = session.execute(
            select(Cohort.slug, func.sum(report_cohort.c.people))
            .join(report_cohort, report_cohort.c.cohort_id == Cohort.id)
            .group_by(Cohort.slug)
            .order_by(func.sum(report_cohort.c.people).desc(), Cohort.slug)
        ).first()
    assert organization is not None and cohort is not None
    return {
        "region": region.slug,
        "region_name": region.name,
        "region_people": int(region.n),
        "organization": organization[0],
        "organization_name": organization[1],
        "organization_people": int(organization[2]),
        "cohort": cohort[0],
        "cohort_people": int(cohort[1]),
    }


# ---------------------------------------------------------------- timing


def timed(call: Callable[[], Any], runs: int) -> dict[str, Any]:
    """``runs`` timed calls after the warm-ups (ms)."""
    first = 0.0
    for i in range(WARMUPS):
        start = time.perf_counter()
        call()
        if i == 0:
            first = 1000 * (time.perf_counter() - start)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(1000 * (time.perf_counter() - start))
    return {
        "first": first,
        "median": statistics.median(times),
        "p95": p95(times),
        "runs": runs,
    }


@contextmanager
def statements(engine) -> Iterator[list[tuple[float, str]]]:
    """The statements sent meanwhile: (ms until the cursor's execute returned, the
    application function that sent it)."""
    from sqlalchemy import event

    found: list[tuple[float, str]] = []

    def before(conn, cursor, statement, *args) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def after(conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")):
            return
        caller = "?"
        for frame in reversed(traceback.extract_stack(limit=40)):
            if frame.filename.startswith(str(ROOT / "app")) and not frame.filename.endswith(
                "app/db.py"
            ):
                caller = f"{Path(frame.filename).relative_to(ROOT)}:{frame.lineno} {frame.name}"
                break
        found.append((1000 * (time.perf_counter() - conn.info["bench_started"]), caller))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def profile(call: Callable[[], Any], n: int = 10) -> dict[str, Any]:
    """cProfile of ``n`` calls: the application's functions by cumulative time per call, and
    the time per call in the database driver."""
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    for _ in range(n):
        call()
    profiler.disable()
    elapsed = time.perf_counter() - start
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    own, driver = [], 0.0
    for (filename, line, name), (_, calls, _tot, cum, _) in stats.stats.items():  # type: ignore[attr-defined]
        if filename == "~" and ("sqlite3." in name or "psycopg" in name):
            driver += cum
        if "psycopg/" in filename and name in ("execute", "fetchall", "_fetch_gen"):
            driver = max(driver, cum)
        if filename.startswith(str(ROOT / "app")):
            own.append((f"{Path(filename).relative_to(ROOT)}:{line} {name}", calls // n, cum))
    own.sort(key=lambda r: -r[2])
    return {
        "ms": 1000 * elapsed / n,
        "driver_ms": 1000 * driver / n,
        "own": [(w, c, 1000 * cum / n) for w, c, cum in own[:12]],
    }


# ---------------------------------------------------------------- in process


def variants(t: dict[str, Any]) -> list[tuple[str, dict[str, Any], str | None]]:
    region, org = t["region"], t["organization"]
    return [
        ("no filter", {}, None),
        ("group_by=region", {}, "region"),
        (f"region={region}", {"region": region}, None),
        (f"region={region}, organization={org}", {"region": region, "organization": org}, None),
        (f"group_by=organization, region={region}", {"region": region}, "organization"),
    ]


def measure_calls(db, settings, targets) -> list[dict[str, Any]]:
    """Each measure and variant as a callable that does what a request does."""
    from app.curriculum.service import CurriculumCache
    from app.db import utcnow
    from app.reports import service

    with db.read() as session:
        curriculum = CurriculumCache().get(session)
    k, tz = settings.min_cell_size, settings.tz
    calls = []
    for name, params, group_by in variants(targets):
        for measure in ("funnel", "gain", "trend", "comparison"):
            if group_by is not None and measure in ("trend", "comparison"):
                continue

            def call(measure=measure, params=params, group_by=group_by) -> Any:
                with db.read() as session:
                    f = service.parse_filter(session, **params)
                    if measure == "funnel":
                        return service.funnel(
                            session, f=f, curriculum=curriculum, k=k, group_by=group_by
                        )
                    if measure == "gain":
                        return service.gain(
                            session, f=f, curriculum=curriculum, k=k, group_by=group_by
                        )
                    if measure == "trend":
                        return service.trend(session, f=f, k=k, interval="quarter")
                    return service.comparison(session, f=f, k=k, now=utcnow(), tz=tz)

            calls.append({"measure": measure, "variant": name, "call": call})
    return calls


def bench_in_process(db, settings, targets, runs: int) -> list[dict[str, Any]]:
    rows = []
    for item in measure_calls(db, settings, targets):
        r = timed(item["call"], runs)
        with statements(db.engine) as sent:
            item["call"]()
        r["statements"] = len(sent)
        r["sql_ms"] = sum(t for t, _ in sent)
        rows.append({**item, **r})
        print(
            f"{item['measure']:11} {item['variant']:55} median {r['median']:8.1f} ms, "
            f"p95 {r['p95']:8.1f} ms (first {r['first']:7.1f}), {r['statements']} statements "
            f"({r['sql_ms']:.1f} ms)",
            flush=True,
        )
    return rows


def explain_slow(db, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For the slowest call of each measure above the target: its statements, and a
    profile."""
    slow = {}
    for r in rows:
        if r["median"] > TARGET_MS and (
            r["measure"] not in slow or r["median"] > slow[r["measure"]]["median"]
        ):
            slow[r["measure"]] = r
    found = []
    for r in slow.values():
        with statements(db.engine) as sent:
            r["call"]()
        prof = profile(r["call"])
        found.append(
            {
                "measure": r["measure"],
                "variant": r["variant"],
                "statements": sorted(sent, reverse=True),
                "profile": prof,
            }
        )
        print(f"\n{r['measure']} ({r['variant']}): slowest statements", sorted(sent)[-5:][::-1])
        print(f"  {prof['ms']:.1f} ms per call profiled, {prof['driver_ms']:.1f} ms in the driver")
        for where, calls, cum in prof["own"]:
            print(f"  {cum:8.1f} ms cum {calls:6} calls  {where}")
    return found


# ---------------------------------------------------------------- over HTTP


class Browser:
    """Cookies kept by hand: production cookies are ``Secure`` (``__Host-``), which a client
    does not send back over plain http on the loopback."""

    def __init__(self, base: str) -> None:
        import httpx

        self.client = httpx.Client(base_url=base, timeout=120)
        self.cookies: dict[str, str] = {}

    def _keep(self, response) -> None:
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]

    def get(self, url: str, **kwargs):
        response = self.client.get(url, headers=self._headers(), **kwargs)
        self._keep(response)
        return response

    def post(self, url: str, **kwargs):
        response = self.client.post(url, headers=self._headers(), **kwargs)
        self._keep(response)
        return response

    def _headers(self) -> dict[str, str]:
        if not self.cookies:
            return {}
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}


def sign_in(browser: Browser, username: str, password: str) -> None:
    page = browser.get("/login")
    token = CSRF_RE.search(page.text)
    if token is None:
        raise SystemExit(f"no sign-in form at /login ({page.status_code})")
    response = browser.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    if response.status_code not in (302, 303):
        raise SystemExit(f"signing in as {username} failed ({response.status_code})")


def time_url(get: Callable[[], Any], runs: int) -> dict[str, Any]:
    """A URL timed as ``timed`` does, unless it does not answer 200 (then its status)."""
    first = get()
    if first.status_code != 200:
        return {"status": first.status_code, "body": first.text[:300]}
    sizes = []

    def call() -> None:
        response = get()
        if response.status_code != 200:
            raise RuntimeError(f"{response.status_code}: {response.text[:200]}")
        sizes.append(len(response.content))

    r = timed(call, runs)
    return {"status": 200, **r, "bytes": sizes[-1]}


def api_tokens(env: dict[str, str], names: list[str]) -> dict[str, str]:
    stamp = datetime.now().strftime("%Y%m%d%H%M%S")
    return {
        name: run_cli(env, "api-token", "create", "--name", f"bench-{stamp}-{name}")[0].strip()
        for name in names
    }


def bench_http(env: dict[str, str], targets: dict[str, Any], runs: int) -> list[dict[str, Any]]:
    from app.synthetic import SYNTHETIC_PASSWORD, SYNTHETIC_PREFIX

    endpoints = ("funnel", "gain", "trend", "comparison")
    calls = [
        (endpoint, name, {**params, **({"group_by": group_by} if group_by else {})})
        for endpoint in endpoints
        for name, params, group_by in variants(targets)
        if group_by is None or endpoint in ("funnel", "gain")
    ]
    # one token per endpoint and variant: a token may make 120 requests a minute
    tokens = api_tokens(env, [f"{i}-{c[0]}" for i, c in enumerate(calls)])
    rows = []
    with server(env, Path(env["APP_DATA_DIR"]) / "server.log", "--no-access-log") as base:
        browser = Browser(base)
        sign_in(browser, f"{SYNTHETIC_PREFIX}kpk", SYNTHETIC_PASSWORD)
        pages = [
            ("/kpk", "/kpk"),
            (f"/kpk?region={targets['region']}", f"/kpk?region={targets['region']}"),
            ("/kpk/cohorts/{slug}", f"/kpk/cohorts/{targets['cohort']}"),
        ]
        for label, url in pages:
            r = time_url(lambda url=url: browser.get(url), runs)
            rows.append({"kind": "page", "what": label, "url": url, **r})
            report_http(rows[-1])
        import httpx

        missing: set[str] = set()
        for i, (endpoint, name, query) in enumerate(calls):
            url = f"/api/v1/{endpoint}"
            if endpoint in missing:
                continue
            client = httpx.Client(
                base_url=base,
                timeout=120,
                headers={"Authorization": f"Bearer {tokens[f'{i}-{endpoint}']}"},
            )
            r = time_url(
                lambda client=client, url=url, query=query: client.get(url, params=query), runs
            )
            client.close()
            rows.append({"kind": "api", "what": f"{url} ({name})", "url": url, **r})
            report_http(rows[-1])
            if r["status"] == 404:
                missing.add(endpoint)  # the route is not there: its other variants neither
        browser.client.close()
    return rows


def report_http(r: dict[str, Any]) -> None:
    if r["status"] != 200:
        print(f"{r['what']:70} {r['status']} {r.get('body', '')[:120]!r}", flush=True)
        return
    print(
        f"{r['what']:70} median {r['median']:8.1f} ms, p95 {r['p95']:8.1f} ms "
        f"(first {r['first']:7.1f}), {r['bytes'] / 1024:.0f} KiB",
        flush=True,
    )


# ---------------------------------------------------------------- report


def fmt(r: dict[str, Any]) -> str:
    over = " **over**" if r["median"] > TARGET_MS or r["p95"] > TARGET_MS else ""
    return f"{r['median']:.1f} | {r['p95']:.1f}{over}"


def subsection(opts, made, counts, targets, rows, http, slow, load, began, reference) -> str:
    name = database_name(opts.database_url)
    lines = [
        f"### {name}",
        "",
        f"{now_stamp()}; nproc {nproc()}, Python {platform.python_version()}, {code_state()}; "
        f"{load_averages(load)} (the machine is shared: other work slows it). "
        "Command: `.venv/bin/python benchmarks/kpk.py --couples "
        f"{opts.couples}"
        + (" --database-url …" if opts.database_url != DEFAULT_URL else "")
        + (" --reuse" if opts.reuse else "")
        + f"`; it took {(time.perf_counter() - began) / 60:.1f} min. CPU reference (a fixed "
        "Python loop, lower is faster; it varies between runs on this shared machine): "
        + " / ".join(f"{r:.0f} ms" for r in reference)
        + " at the start, after the in-process measures and at the end.",
        "",
    ]
    if made:
        rebuild = f"{made['rebuild']:.0f} s" if made.get("rebuild") is not None else "?"
        lines.append(
            f"Seeding (`integritas seed-synthetic --couples {opts.couples}`): "
            f"{made['seed']:.0f} s wall time, of which the rebuild of the reports' summary "
            f"{rebuild} (migrate and content sync before it: "
            f"{made['migrate'] + made['content sync']:.0f} s)."
        )
    else:
        lines.append("Seeding: not measured (`--reuse` of a database seeded before).")
    lines += [
        "",
        "Data: "
        + ", ".join(f"{v:,} {k}" for k, v in counts.items())
        + f". Filters: the largest region `{targets['region']}` ({targets['region_name']}, "
        f"{targets['region_people']:,} participants), its largest OPD "
        f"{targets['organization']} ({targets['organization_name']}, "
        f"{targets['organization_people']:,}), the largest cohort `{targets['cohort']}` "
        f"({targets['cohort_people']:,}).",
        "",
        f"In process (`app.reports.service`, a read session and `parse_filter` per call as a "
        f"request does): {opts.runs} calls after {WARMUPS} warm-ups; SQL statements of one "
        "more call.",
        "",
        "| measure | variant | median ms | p95 ms | first ms | statements | SQL ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['measure']} | {r['variant']} | {fmt(r)} | {r['first']:.0f} "
            f"| {r['statements']} | {r['sql_ms']:.1f} |"
        )
    if http is not None:
        lines += [
            "",
            f"Over HTTP (uvicorn, one worker, production settings, loopback; {opts.runs} "
            f"requests after {WARMUPS} warm-ups, keep-alive):",
            "",
            "| request | median ms | p95 ms | first ms | KiB |",
            "|---|---|---|---|---|",
        ]
        for r in http:
            what = r["what"].replace(targets["cohort"], "{slug}")
            if r["status"] == 200:
                lines.append(
                    f"| `{what}` | {fmt(r)} | {r['first']:.0f} | {r['bytes'] / 1024:.0f} |"
                )
            elif r["status"] == 404:
                lines.append(f"| `{what}` | not yet available (404) | | | |")
            else:
                lines.append(f"| `{what}` | answered {r['status']} | | | |")
    over = [r for r in rows if r["median"] > TARGET_MS or r["p95"] > TARGET_MS]
    over_http = [
        r for r in (http or []) if r["status"] == 200 and max(r["median"], r["p95"]) > TARGET_MS
    ]
    lines += [
        "",
        f"Against the target (≤ {TARGET_MS:.0f} ms): "
        + (
            "every in-process measure meets it, p95 included"
            if not over
            else f"{len(over)} of {len(rows)} in-process calls miss it (median or p95)"
        )
        + (
            ""
            if http is None
            else "; over HTTP "
            + (
                "every answered request meets it"
                if not over_http
                else ", ".join(
                    f"`{r['what']}` (median {r['median']:.0f} ms, p95 {r['p95']:.0f} ms)"
                    for r in over_http
                )
                + " miss it"
            )
        )
        + ".",
    ]
    for s in slow:
        prof = s["profile"]
        lines += [
            "",
            f"Slowest {s['measure']} ({s['variant']}): its statements "
            + "; ".join(f"{t:.1f} ms from `{c}`" for t, c in s["statements"][:4])
            + f" ({sum(t for t, _ in s['statements']):.0f} ms for all "
            f"{len(s['statements'])}); profiled {prof['ms']:.0f} ms per call, "
            f"{prof['driver_ms']:.0f} ms in the driver; "
            + "; ".join(f"`{w}` {cum:.0f} ms" for w, _, cum in prof["own"][:5])
            + ".",
        ]
    return "\n".join(lines) + "\n"


def write_results(title: str, name: str, text: str) -> None:
    """Replace this database's subsection of the section (made when missing)."""

    def rewrite(section: str) -> str:
        head = f"### {name}\n"
        if head in section:
            s = section.index(head)
            nxt = min(
                (
                    i
                    for i in (section.find("\n### ", s + 1), section.find("\n## ", s + 1))
                    if i >= 0
                ),
                default=len(section) - 1,
            )
            rest = section[nxt + 1 :]
            return section[:s] + text.rstrip("\n") + ("\n\n" + rest if rest.strip() else "\n")
        subsections = section.find("\n### ")
        if name == "SQLite" and subsections >= 0:  # SQLite before PostgreSQL
            return section[: subsections + 1] + text + "\n" + section[subsections + 1 :]
        return section.rstrip("\n") + "\n\n" + text

    replace_section(title, rewrite)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--couples", type=int, default=100_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument(
        "--reuse", action="store_true", help="measure the database as it is (seeded before)"
    )
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--no-http", action="store_true", help="in-process measures only")
    parser.add_argument("--no-write", action="store_true", help="do not touch results.md")
    opts = parser.parse_args()

    began = time.perf_counter()
    load = os.getloadavg()
    reference = [cpu_reference()]
    work = Path(tempfile.mkdtemp(prefix="kpk-bench-"))
    try:
        bench(opts, work, began=began, load=load, reference=reference)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bench(opts, work: Path, *, began: float, load: tuple, reference: list[float]) -> None:
    env = cli_env(opts.database_url, work)
    made = prepare(opts.database_url, opts.couples, env, reuse=opts.reuse)

    import app.models  # noqa: F401 — every table
    from app.config import Settings
    from app.db import Database, make_engine

    settings = Settings(
        env="production",
        database_url=opts.database_url,
        secret_key=env["APP_SECRET_KEY"],
        data_dir=work,
        content_dir=ROOT / "modules",
    )
    db = Database(make_engine(settings.resolved_database_url()))
    counts = data_counts(db)
    if counts["couple"] != opts.couples:
        raise SystemExit(f"the database has {counts['couple']:,} couples, not {opts.couples:,}")
    if counts["participant_summary"] != 2 * opts.couples:
        raise SystemExit(
            f"the reports' summary has {counts['participant_summary']:,} rows, not "
            f"{2 * opts.couples:,}: was it seeded by this version of seed-synthetic?"
        )
    targets = choose_targets(db)
    print(", ".join(f"{k} {v}" for k, v in targets.items()), flush=True)
    rows = bench_in_process(db, settings, targets, opts.runs)
    slow = explain_slow(db, rows)
    db.dispose()
    reference.append(cpu_reference())
    http = None if opts.no_http else bench_http(env, targets, opts.runs)
    reference.append(cpu_reference())
    text = subsection(opts, made, counts, targets, rows, http, slow, load, began, reference)
    print("\n" + text)
    if not opts.no_write:
        write_results(
            section_title(opts.couples), database_name(opts.database_url), text.rstrip("\n")
        )


if __name__ == "__main__":
    main()
