"""Profile the lesson page and the quiz answer POST inside the process (no network), many
iterations, production settings, a fresh SQLite database with the demo:

    .venv/bin/python benchmarks/profile_requests.py [--n 2000] [--top 30] [--what lesson|answer]

Prints the mean time per request and the functions that take the most time (cProfile,
sorted by cumulative time), so the cost of a request can be found before it is changed.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import production_env, run_cli


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--what", choices=["lesson", "answer"], default="lesson")
    parser.add_argument("--sort", default="cumulative", help="pstats order: cumulative, tottime…")
    parser.add_argument("--time-only", action="store_true", help="no profiler: plain timing")
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="profile-"))
    env = production_env(work, f"sqlite:///{work / 'profile.db'}", "profile-secret-" + "z" * 32)
    for args in (["migrate"], ["content", "sync"], ["seed-demo"]):
        run_cli(env, *args)
    os.environ.update(env)

    import httpx

    from app.config import Settings
    from app.main import create_app

    app = create_app(Settings())

    async def run() -> None:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="https://testserver") as client,
        ):
            username = "tng24-001a" if opts.what == "lesson" else "sari"
            page = await client.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            await client.post(
                "/login",
                data={"username": username, "password": "demo-integritas", "csrf_token": token},
            )
            if opts.what == "lesson":
                learn = (await client.get("/learn")).text
                url = re.findall(r'href="(/learn/lessons/[^"]+)"', learn)[-1]

                async def one() -> None:
                    response = await client.get(url)
                    assert response.status_code == 200

            else:
                form = (await client.get("/learn/quizzes/pre-test")).text
                token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
                await client.post("/learn/quizzes/pre-test/start", data={"csrf_token": token})
                form = (await client.get("/learn/quizzes/pre-test")).text
                attempt = re.search(r'name="attempt_id" value="(\d+)"', form).group(1)
                qid, cid = re.search(r'name="q(\d+)" value="(\d+)"', form).groups()
                body = f"attempt_id={attempt}&q{qid}={cid}"
                headers = {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "HX-Request": "true",
                    "X-CSRF-Token": token,
                }

                async def one() -> None:
                    response = await client.post(
                        "/learn/quizzes/pre-test/save", content=body, headers=headers
                    )
                    assert response.status_code == 200, response.status_code

            for _ in range(200):  # warm up
                await one()
            start, cpu = time.perf_counter(), time.process_time()
            for _ in range(opts.n):
                await one()
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
            print(
                f"{opts.what}: {1000 * elapsed / opts.n:.3f} ms per request, "
                f"{1000 * cpu / opts.n:.3f} ms of CPU (not profiled)"
            )
            if opts.time_only:
                return
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(opts.n):
                await one()
            profiler.disable()
            profiler.dump_stats(str(work / "profile.pstats"))
            print(f"profile written to {work / 'profile.pstats'}")
            pstats.Stats(profiler).sort_stats(opts.sort).print_stats(opts.top)

    asyncio.run(run())


if __name__ == "__main__":
    main()
