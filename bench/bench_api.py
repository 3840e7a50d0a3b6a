"""HTTP benchmark: uvicorn serving the demo programme plus a generated load, driven
from a separate process at 32 concurrent connections.

For each endpoint it prints requests/s, p50 and p99: the publicity list (and its revalidation by
``If-None-Match``, answered 304), the subfield registry,
the funding ledger, one platform, and a command (a public objection); and, in the same run, a
baseline: a bare FastAPI endpoint (also under uvicorn) returning a JSON body of the same size as
the publicity list. Each measurement follows a warm-up of the same load (``--warmup`` seconds, not
counted), so that the figures are the steady state's, not the filling of cold caches. Beside each
figure, the serving process's CPU time per request (user + system, from ``/proc``): on a machine
shared with other work, requests/s and latency follow the load average, and CPU per request much
less. Targets: reads ≥ 0.5 × baseline throughput with p99 < 50 ms; the command's p99 < 50 ms on
SQLite (issue 17; it was < 100 ms before).

    python bench/bench_api.py [--seconds 20] [--warmup 5] [--concurrency 32] [--platforms 300]
                              [--only reads|command]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not come up")


# ---------------------------------------------------------------------------- baseline server
def baseline_app(size: int):  # noqa: ANN201
    from fastapi import FastAPI

    body = {"items": [{"pad": "x" * max(0, size - 30)}], "next_cursor": None}
    app = FastAPI()

    @app.get("/baseline")
    def baseline() -> dict:
        return body

    return app


# ---------------------------------------------------------------------------- load generation
def generate_load(url: str, platforms: int) -> list[str]:
    """Extra applications under the demonstration policy, through the application service, on
    top of the demo programme: half stay applied or accepted, and up to 60 go all the way to a
    second live publicity batch (admitted to held subfields by a recorded Art. 5 exception), so
    that the command benchmark spreads its objections over many platforms, as real traffic would.
    Returns the ids of the publicized ones."""
    from datetime import timedelta

    from aggregates.application import RegistryApp
    from aggregates.clock import today_in_shanghai
    from aggregates.credit_code import with_check_character
    from aggregates.policy import PolicyRegistry
    from aggregates.programme import Programme, host_unit
    from aggregates.store import StoreConfig
    from aggregates.values import Role

    app = RegistryApp(StoreConfig(url), policies=PolicyRegistry.load(Path("var/policies")))
    # The bureau and the agency act as the demo's accounts; the experts are the benchmark's own.
    drive = Programme(app, cast={Role.BUREAU: "bureau", Role.SERVICE_AGENCY: "agency"},
                      experts=[(f"bench-expert-{e}", None) for e in range(7)])
    publicized: list = []
    day = today_in_shanghai() - timedelta(days=20)
    subfields = app.policies.latest().subfields
    for i in range(platforms):
        subfield = subfields[i % len(subfields)]
        pid = drive.apply(subfield, on=day, who=f"applicant-load-{i}", name=f"负载测试平台{i:04d}",
                          host_unit=host_unit(f"负载测试单位{i:04d}", with_check_character(f"914301{i:05d}MA4L16"),
                                              f"GR{i}", day + timedelta(days=900)),
                          commitments="持续投入", achievements=[{"title": "成果", "stage": "pilot"}],
                          basic_conditions={"technical_strength": "a", "open_sharing": "b", "service_mechanism": "c"})
        if i % 2 == 0:
            drive.intake(pid, True, "ok", on=day + timedelta(days=1))
            if len(publicized) < 60:
                drive.score(pid, on=day + timedelta(days=2), opinion="ok")
                drive.inspect(pid, True, "ok", on=day + timedelta(days=3))
                held = app.subfield_held(subfield)
                drive.approve(pid, on=day + timedelta(days=4), party_group_meeting_ref="PG",
                              vice_mayor_approval_ref="VM", funding_plan_ref="FP",
                              exception="benchmark load: a recorded exception to Art. 5" if held else None)
                publicized.append(pid)
    if publicized:
        # Same start as the demo's live batch, whose window is open today.
        start_date = app.get_batch(f"演示公示〔{today_in_shanghai().year}〕1号").start_date
        drive.publicize(publicized, "压测公示-1", on=start_date, start=start_date, media="benchmark")
    app.close()
    return [str(p) for p in publicized]



# ---------------------------------------------------------------------------- client
async def drive(url: str | list[str], seconds: float, concurrency: int, method: str, headers: dict,
                body: dict | None) -> dict:
    import httpx

    latencies: list[float] = []
    errors = 0
    statuses: dict[int, int] = {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30, headers=headers) as client:
        deadline = time.perf_counter() + seconds

        urls = [url] if isinstance(url, str) else url

        async def worker(n: int) -> None:
            nonlocal errors
            i = n
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                i += concurrency
                try:
                    r = await client.request(method, urls[i % len(urls)], json=body)
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                    if r.status_code >= 400:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        elapsed = time.perf_counter() - began
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    return {"requests": len(latencies), "rps": len(latencies) / elapsed, "p50_ms": pct(0.50), "p99_ms": pct(0.99),
            "errors": errors, "statuses": statuses}


WRK_SCRIPT = """
local paths = %(paths)s
local headers = %(headers)s
local body = %(body)s
local i = 0
request = function()
  i = i + 1
  return wrk.format("%(method)s", paths[(i %% #paths) + 1], headers, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p99_us":%%d,"errors":%%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout + e.status))
end
"""


def _lua(value: object) -> str:
    if value is None:
        return "nil"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=True)  # a JSON string literal is a valid Lua one
    if isinstance(value, list):
        return "{" + ", ".join(_lua(v) for v in value) + "}"
    return "{" + ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in dict(value).items()) + "}"  # type: ignore[arg-type]


def run_wrk(url: str | list[str], seconds: float, concurrency: int, method: str, headers: dict,
            body: dict | None) -> dict:
    """Drive the server with wrk (C, one thread per core, negligible CPU of its own)."""
    from urllib.parse import urlsplit

    urls = [url] if isinstance(url, str) else url
    parts = urlsplit(urls[0])
    headers = dict(headers)
    if body is not None:
        headers["Content-Type"] = "application/json"
    script = WRK_SCRIPT % {"paths": _lua([urlsplit(u).path for u in urls]), "headers": _lua(headers),
                           "body": _lua(json.dumps(body) if body is not None else None),  # \\uXXXX: ASCII for Lua
                           "method": method}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    out = subprocess.run(["wrk", "-t2", f"-c{concurrency}", f"-d{int(seconds)}s", "-s", f.name,
                          f"{parts.scheme}://{parts.netloc}"], capture_output=True, text=True, check=True)
    os.unlink(f.name)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    return {"requests": r["requests"], "rps": r["requests"] / (r["duration_us"] / 1e6), "p50_ms": r["p50_us"] / 1000,
            "p99_ms": r["p99_us"] / 1000, "errors": r["errors"], "statuses": {}}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc``; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_client(url: str | list[str], seconds: float, concurrency: int, method: str = "GET", headers: dict | None = None,
               body: dict | None = None) -> dict:
    """Run the load generator in a separate process (so it does not share the server's GIL):
    wrk where installed (apt-get install wrk), else an asyncio httpx client, which is itself
    CPU-bound enough on 2 cores to understate every figure."""
    if shutil.which("wrk"):
        return run_wrk(url, seconds, concurrency, method, headers or {}, body)
    spec = json.dumps({"url": url, "seconds": seconds, "concurrency": concurrency, "method": method,
                       "headers": headers or {}, "body": body})
    out = subprocess.run([PYTHON, __file__, "--client", spec], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of the same load before each measurement")
    parser.add_argument("--platforms", type=int, default=300, help="generated applications on top of the demo")
    parser.add_argument("--only", choices=("reads", "command"), help="measure only the reads or only the command "
                        "(the baseline is always measured)")
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--baseline-server", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        spec = json.loads(args.client)
        print(json.dumps(asyncio.run(drive(**spec))))
        return
    if args.baseline_server:
        import uvicorn

        port, size = args.baseline_server
        uvicorn.run(baseline_app(size), host="127.0.0.1", port=port, log_level="warning", access_log=False)
        return

    import httpx

    work = Path(tempfile.mkdtemp(prefix="bench-api-"))
    env = {**os.environ, "PLATFORMS_DATABASE_URL": f"sqlite:///{work / 'var' / 'events.sqlite3'}",
           "PLATFORMS_MODE": "development", "PLATFORMS_VAR_DIR": str(work / "var"),
           "PLATFORMS_OBJECTION_RATE_LIMIT": "0",  # the benchmark is one client address
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))}
    env.pop("PLATFORMS_POLICY_DIR", None)
    print(f"store: {work}/var; loading the demo and {args.platforms} generated applications...", flush=True)
    subprocess.run([PYTHON, "-m", "api.cli", "demo"], cwd=work, env=env, check=True, capture_output=True)
    os.chdir(work)
    os.environ.update({k: env[k] for k in ("PLATFORMS_DATABASE_URL", "PLATFORMS_VAR_DIR")})
    targets = generate_load(env["PLATFORMS_DATABASE_URL"], args.platforms)

    port, base_port = free_port(), free_port()
    server = subprocess.Popen([PYTHON, "-m", "api.cli", "serve", "--port", str(port), "--log-level", "warning"],
                              cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    baseline = None
    try:
        root = f"http://127.0.0.1:{port}/api/v1"
        wait_ready(f"{root}/readyz")
        token = httpx.post(f"{root}/auth/token", data={"username": "finance", "password": "finance-demo-2021"}).json()[
            "access_token"]
        bureau = httpx.post(f"{root}/auth/token", data={"username": "bureau", "password": "bureau-demo-2021"}).json()[
            "access_token"]
        publicity = httpx.get(f"{root}/publicity-list")
        live = publicity.json()["items"][0]["platforms"][0]["id"]
        size = len(publicity.content)
        baseline = subprocess.Popen([PYTHON, __file__, "--baseline-server", str(base_port), str(size)],
                                    env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_ready(f"http://127.0.0.1:{base_port}/baseline")
        auth = {"Authorization": f"Bearer {token}"}
        plans = [
            ("baseline (bare FastAPI, same size)", f"http://127.0.0.1:{base_port}/baseline", "GET", {}, None),
            ("GET /publicity-list", f"{root}/publicity-list", "GET", {}, None),
            # A client revalidating what it holds: 304, no body (api.http_caching).
            ("GET /publicity-list, If-None-Match: 304", f"{root}/publicity-list", "GET",
             {"If-None-Match": publicity.headers["etag"]}, None),
            ("GET /subfields", f"{root}/subfields", "GET", {}, None),
            ("GET /funding-ledger", f"{root}/funding-ledger", "GET", auth, None),
            ("GET /platforms/{id}", f"{root}/platforms/{live}", "GET", {"Authorization": f"Bearer {bureau}"}, None),
            ("POST /platforms/{id}/objections", [f"{root}/platforms/{p}/objections" for p in targets or [live]],
             "POST", {},
             {"objector_name": "压测", "contact": "bench@example.com", "content": "benchmark objection"}),
        ]
        if args.only:
            plans = plans[:1] + [p for p in plans[1:] if method_is_command(p[0]) == (args.only == "command")]
        results = []
        for name, url, method, headers, body in plans:
            print(f"  {name} ...", flush=True)
            if args.warmup > 0:
                # The same load first, not counted: caches fill (aggregates, rendered bodies,
                # verified tokens) and the figures are the steady state's.
                run_client(url, args.warmup, args.concurrency, method, headers, body)
            served_by = server.pid if url is not plans[0][1] else baseline.pid
            before = cpu_seconds(served_by)
            result = run_client(url, args.seconds, args.concurrency, method, headers, body)
            result["cpu_us"] = (cpu_seconds(served_by) - before) / max(1, result["requests"]) * 1e6
            results.append((name, result))
    finally:
        for proc in (server, baseline):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=20)
    base_rps = results[0][1]["rps"]
    client = "wrk" if shutil.which("wrk") else "httpx (install wrk for truer figures)"
    print(f"\n{args.concurrency} connections, {args.seconds:.0f} s each after {args.warmup:.0f} s of warm-up, "
          f"body ≈ {size} bytes; SQLite, 1 worker; client {client}; load average {os.getloadavg()[0]:.1f}")
    print(f"{'endpoint':40} {'req/s':>9} {'×base':>6} {'p50 ms':>8} {'p99 ms':>8} {'CPU µs/req':>10} {'errors':>7}"
          "  verdict")
    for i, (name, r) in enumerate(results):
        ratio = r["rps"] / base_rps if base_rps else float("nan")
        if i == 0:
            verdict = ""
        elif method_is_command(name):
            verdict = "ok" if r["p99_ms"] < 50 else "MISS (p99 ≥ 50 ms)"
        else:
            verdict = "ok" if ratio >= 0.5 and r["p99_ms"] < 50 else "MISS"
        print(f"{name:40} {r['rps']:9.0f} {ratio:6.2f} {r['p50_ms']:8.1f} {r['p99_ms']:8.1f} {r['cpu_us']:10.0f}"
              f" {r['errors']:7d}"
              f"  {verdict}" + (f"  statuses {r['statuses']}" if r["errors"] else ""))


def method_is_command(name: str) -> bool:
    return name.startswith("POST")


if __name__ == "__main__":
    main()
