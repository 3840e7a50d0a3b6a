"""Metrics benchmark: what the request timing behind ``GET /metrics`` costs the hot path.

The demo programme (``platforms demo``) on SQLite, in two variants of the application built by
the same ``create_app``: as shipped, and, as the baseline, with the metrics middleware
(:class:`api.metrics.RequestMetrics`) taken out. Two reads: ``GET /api/v1/healthz``, the
cheapest route, where the middleware's share is largest, and a signed-in read,
``GET /api/v1/platforms/{id}`` as the bureau.

1. In process (the target): each request is sent straight to the ASGI application, one at a
   time, in blocks of ``--requests`` that alternate between the variants (``--blocks`` each);
   the figure is the process's CPU time per request (all its threads, so the endpoint's thread
   pool too), median over the blocks. CPU time, not the clock's, so that other work on the
   machine moves the figures less. Target: with the middleware, at least 0.9 of the baseline's
   requests per CPU-second (median of the ratios of neighbouring blocks). Beside it, the
   middleware's own cost, around an application that answers at once.
2. Through uvicorn and wrk at 32 connections (as ``bench_api.py``), each variant serving in turn
   ``--rounds`` times, alternately, after a warm-up of the same load: requests/s and p99,
   reported beside each other (a busy machine moves these by more than the middleware costs).

Also timed, one at a time over HTTP: a scrape of ``/metrics`` (it reads the log position, the
read models' positions and the latest checkpoint). Exit 1 when the target is missed.

    python bench/bench_metrics.py [--requests 200] [--blocks 20] [--seconds 10] [--warmup 3] [--rounds 2]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
PYTHON = sys.executable
TARGET_RATIO = 0.9


def serve(port: int, variant: str) -> None:
    """Serve the application of the environment's settings, with or without the metrics
    middleware, as `platforms serve` does (one worker, no access log of uvicorn's own)."""
    import uvicorn

    from api.allocator import tune_allocator
    from api.app import create_app
    from api.metrics import RequestMetrics

    tune_allocator()
    app = create_app()
    if variant == "without":
        # The middleware stack is built at the first request: taking the entry out before then
        # serves the same application without it.
        app.user_middleware = [m for m in app.user_middleware if m.cls is not RequestMetrics]
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, proxy_headers=False)


def in_process(work: Path, requests: int, blocks: int) -> dict[str, dict[str, list[float]]]:
    """CPU µs per request of each read, per block, for each variant, the requests sent straight
    to the ASGI applications (no server, no network)."""
    import asyncio

    from api.app import create_app
    from api.auth import issue_token
    from api.bootstrap import build_container
    from api.logging import configure
    from api.metrics import RequestMetrics
    from api.settings import Settings

    # The request log is written as the server writes it (JSON lines), to nowhere; the log
    # handlers keep writing there until the benchmark ends, so it stays open.
    sink = open(os.devnull, "w")
    terminal, sys.stderr = sys.stderr, sink
    try:
        configure()
    finally:
        sys.stderr = terminal
    container = build_container(Settings.from_env(var_dir=work / "var",
                                                  database_url=f"sqlite:///{work / 'var' / 'events.sqlite3'}"))
    # Not started: no runner or integrity watch thread spends CPU time beside the requests
    # (the demo's read models are built already).
    try:
        shipped = create_app(container)
        baseline = create_app(container)
        baseline.user_middleware = [m for m in baseline.user_middleware if m.cls is not RequestMetrics]
        account = container.users.get("bureau")
        token = issue_token(container.settings.secret_key, account.username, account.role, account.credit_code, 60,
                            version=account.token_version)[0]
        live = asyncio.run(_json(shipped, "/api/v1/publicity-list"))["items"][0]["platforms"][0]["id"]
        # As the server does once started (api.app): what lives as long as the process is out of
        # the cyclic collector's sight, so that its full collections, which the middleware's few
        # allocations may bring forward, do not walk the whole heap.
        gc.freeze()
        reads = {"GET /api/v1/healthz": ("/api/v1/healthz", []),
                 "GET /api/v1/platforms/{id}, bureau": (f"/api/v1/platforms/{live}",
                                                         [(b"authorization", f"Bearer {token}".encode())])}

        async def block(app, path: str, headers: list, count: int) -> float:  # noqa: ANN001
            async def receive() -> dict:
                return {"type": "http.request", "body": b"", "more_body": False}

            statuses = []

            async def send(message: dict) -> None:
                if message["type"] == "http.response.start":
                    statuses.append(message["status"])

            started = time.process_time()
            for _ in range(count):
                scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                         "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
                         "root_path": "", "headers": [(b"host", b"bench"), *headers],
                         "client": ("127.0.0.1", 40000), "server": ("bench", 80), "state": {}}
                await app(scope, receive, send)
            spent = time.process_time() - started
            assert set(statuses) == {200}, statuses[:3]
            return spent / count * 1e6

        figures: dict[str, dict[str, list[float]]] = {}

        async def run() -> None:
            for name, (path, headers) in reads.items():
                for app in (shipped, baseline):  # warm-up: caches, the middleware stacks
                    await block(app, path, headers, requests)
                for b in range(blocks):
                    order = (("with", shipped), ("without", baseline)) if b % 2 == 0 else \
                        (("without", baseline), ("with", shipped))
                    for variant, app in order:
                        figures.setdefault(name, {}).setdefault(variant, []).append(
                            await block(app, path, headers, requests))

        asyncio.run(run())
        return figures
    finally:
        container.close()


async def _json(app, path: str) -> dict:  # noqa: ANN001
    """One GET straight to the ASGI application, its JSON body."""
    body = bytearray()

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    await app({"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
               "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
               "headers": [(b"host", b"bench")], "client": ("127.0.0.1", 40000), "server": ("bench", 80),
               "state": {}}, receive, send)
    return json.loads(body)


def middleware_alone(requests: int = 100_000) -> tuple[float, float]:
    """CPU µs per request of an ASGI application that answers at once, without and with the
    metrics middleware around it: the middleware's own cost, apart from any noise of the reads."""
    import asyncio

    from api.metrics import RequestMetrics

    class Route:
        path = "/bench"

    route = Route()

    async def answer(scope: dict, receive: object, send) -> None:  # noqa: ANN001
        scope["route"] = route
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def nothing(message: dict) -> None:
        return None

    async def timed(app) -> float:  # noqa: ANN001
        started = time.process_time()
        for _ in range(requests):
            await app({"type": "http", "method": "GET", "path": "/bench", "path_params": {}}, None, nothing)
        return (time.process_time() - started) / requests * 1e6

    async def run() -> tuple[float, float]:
        wrapped = RequestMetrics(answer)
        bare, with_ = [], []
        for _ in range(5):
            bare.append(await timed(answer))
            with_.append(await timed(wrapped))
        return statistics.median(bare), statistics.median(with_)

    return asyncio.run(run())


def scrape_ms(base: str, count: int = 20) -> float:
    import httpx

    times = []
    with httpx.Client() as client:
        for _ in range(count + 3):
            started = time.perf_counter()
            assert client.get(f"{base}/metrics").status_code == 200
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times[3:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per in-process block")
    parser.add_argument("--blocks", type=int, default=20, help="in-process blocks per variant, alternately")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=2, help="times each variant serves, alternately")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args()  # `make bench` passes its arguments to every script
    if args.serve:
        serve(int(args.serve[0]), args.serve[1])
        return 0

    import httpx

    from bench_api import free_port, run_client, wait_ready

    work = Path(tempfile.mkdtemp(prefix="bench-metrics-"))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PLATFORMS_")},
           "PLATFORMS_DATABASE_URL": f"sqlite:///{work / 'var' / 'events.sqlite3'}",
           "PLATFORMS_MODE": "development", "PLATFORMS_VAR_DIR": str(work / "var"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))}
    print(f"store: {work}/var; loading the demo ...", flush=True)
    subprocess.run([PYTHON, "-m", "api.cli", "demo"], cwd=work, env=env, check=True, capture_output=True)
    print(f"in process: {args.blocks} blocks of {args.requests} requests per variant and read ...", flush=True)
    cpu = in_process(work, args.requests, args.blocks)
    bare, wrapped = middleware_alone()

    results: dict[tuple[str, str], list[dict]] = {}
    scrapes: list[float] = []
    for round_ in range(args.rounds):
        for variant in ("with", "without") if round_ % 2 == 0 else ("without", "with"):
            port = free_port()
            server = subprocess.Popen([PYTHON, __file__, "--serve", str(port), variant], cwd=work, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                root = f"http://127.0.0.1:{port}/api/v1"
                wait_ready(f"{root}/readyz")
                bureau = httpx.post(f"{root}/auth/token",
                                    data={"username": "bureau", "password": "bureau-demo-2021"}).json()["access_token"]
                live = httpx.get(f"{root}/publicity-list").json()["items"][0]["platforms"][0]["id"]
                plans = [("GET /api/v1/healthz", f"{root}/healthz", {}),
                         ("GET /api/v1/platforms/{id}, bureau", f"{root}/platforms/{live}",
                          {"Authorization": f"Bearer {bureau}"})]
                for name, url, headers in plans:
                    print(f"  round {round_ + 1}, {variant} metrics: {name} ...", flush=True)
                    if args.warmup > 0:
                        run_client(url, args.warmup, args.concurrency, "GET", headers)
                    results.setdefault((name, variant), []).append(
                        run_client(url, args.seconds, args.concurrency, "GET", headers))
                if variant == "with":
                    scrapes.append(scrape_ms(f"http://127.0.0.1:{port}"))
            finally:
                server.terminate()
                server.wait(timeout=20)

    print(f"\nIn process, one request at a time, {args.blocks} alternating blocks of {args.requests} per variant; "
          "CPU µs per request (median of blocks)")
    print(f"{'read':38} {'with':>8} {'without (baseline)':>19} {'cost µs':>8} {'req/CPU-s ratio':>16}  verdict")
    missed = 0
    for name, variants in cpu.items():
        with_, without = statistics.median(variants["with"]), statistics.median(variants["without"])
        # Each block with the middleware beside the block without it that ran next to it.
        ratio = statistics.median(b / w for w, b in zip(variants["with"], variants["without"], strict=True))
        ok = ratio >= TARGET_RATIO
        missed += not ok
        print(f"{name:38} {with_:8.1f} {without:19.1f} {with_ - without:8.1f} {ratio:16.2f}  "
              f"{'ok' if ok else f'MISS (< {TARGET_RATIO})'}")

    print(f"the middleware alone, around an application that answers at once: {wrapped - bare:.1f} µs per request "
          f"({bare:.1f} µs without it, {wrapped:.1f} with it)")

    print(f"\nThrough uvicorn, wrk, {args.concurrency} connections, {args.seconds:.0f} s each after "
          f"{args.warmup:.0f} s of warm-up, {args.rounds} rounds per variant, alternately; SQLite, 1 worker")
    print(f"{'read':38} {'with: req/s':>12} {'p99 ms':>7}   {'without (baseline)':>18} {'p99 ms':>7}  {'ratio':>5}"
          "  rounds")
    for name in dict.fromkeys(n for n, _ in results):
        with_runs, without_runs = results[(name, "with")], results[(name, "without")]
        ratios = [w["rps"] / b["rps"] for w, b in zip(with_runs, without_runs, strict=True)]
        print(f"{name:38} {statistics.median(r['rps'] for r in with_runs):12.0f} "
              f"{statistics.median(r['p99_ms'] for r in with_runs):7.1f}   "
              f"{statistics.median(r['rps'] for r in without_runs):18.0f} "
              f"{statistics.median(r['p99_ms'] for r in without_runs):7.1f}  {statistics.median(ratios):5.2f}  "
              f"{', '.join(f'{r:.2f}' for r in ratios)}")
    if scrapes:
        print(f"GET /metrics over HTTP, one at a time: median {statistics.median(scrapes):.2f} ms")
    print(f"target: with the metrics middleware ≥ {TARGET_RATIO} of the baseline's requests per CPU-second")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
