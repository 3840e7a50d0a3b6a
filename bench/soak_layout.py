"""Soak of the production layout (`make soak`, after bench/soak.py): `make run-production`'s
launcher (deploy/run_production.py: supervisord, two API workers, the projection runner) on a
fresh PostgreSQL schema, under minutes of public objections and signed-in reads, with one API
worker killed (SIGKILL) a quarter into every minute and the runner killed three quarters in;
uvicorn's manager and supervisord bring them back. The longer version of
tests/test_production_layout.py.

Each objection carries its own Idempotency-Key and is sent again with it until answered (a
killed worker drops the connections it held), so every one must end answered, once. At the end
it waits for the read models to reach the head, runs ``platforms audit verify`` and ``audit
reconcile``, compares the objections the publicity list counts with those answered, stops the
launcher with SIGTERM and drops the schema.

It exits 1 on a 5xx, an objection never answered, a count that differs, a failed verify or
reconcile, a kill that was not repaired within 120 s, the launcher not stopping cleanly, or a
traceback in the programs' logs.

    python bench/soak_layout.py [--minutes 5] [--threads 4] [--rate 20]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_api import free_port  # noqa: E402
from soak import DEFAULT_URL, cli, create_schema, descendants, drop_schema, readiness  # noqa: E402

PYTHON = sys.executable
LAUNCHER = ROOT / "deploy" / "run_production.py"


class Load:
    """``threads`` clients sharing ``rate`` requests/s: public objections (sent again with their
    key until answered 2xx) and the bureau's reads."""

    def __init__(self, root: str, token: str, platforms: list[str], threads: int, rate: float) -> None:
        self.root, self.token, self.platforms = root, token, platforms
        self.threads, self.interval = threads, threads / rate
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.answered: dict[str, dict] = {}
        self.unanswered: list[str] = []
        self.statuses: Counter = Counter()
        self._workers: list[threading.Thread] = []

    def send(self, client, method: str, path: str, **kw: object):  # noqa: ANN001, ANN201
        import httpx

        try:
            answer = client.request(method, path, **kw)
        except httpx.TransportError as exc:
            with self.lock:
                self.statuses[exc.__class__.__name__] += 1
            return None
        with self.lock:
            self.statuses[answer.status_code] += 1
        return answer

    def worker(self, k: int) -> None:
        import httpx

        rnd = random.Random(k)
        auth = {"Authorization": f"Bearer {self.token}"}
        due, n = time.monotonic(), 0
        with httpx.Client(base_url=self.root, timeout=30) as client:
            while not self.stop.is_set():
                n += 1
                pid = rnd.choice(self.platforms)
                if rnd.random() < 0.5:
                    key = f"layout-soak-{k}-{n}-{uuid.uuid4().hex[:8]}"
                    body = {"objector_name": f"部署浸泡{n % 1000:03d}", "contact": f"{key}@example.com",
                            "content": f"部署浸泡测试异议 {key}：申报材料与实际情况不符，请核实。"}
                    for _ in range(40):
                        answer = self.send(client, "POST", f"/platforms/{pid}/objections", json=body,
                                           headers={"Idempotency-Key": key})
                        if answer is not None and answer.is_success:
                            with self.lock:
                                self.answered[key] = answer.json() | {"platform_id": pid}
                            break
                        time.sleep(0.25)
                    else:
                        with self.lock:
                            self.unanswered.append(key)
                else:
                    self.send(client, "GET", rnd.choice([f"/platforms/{pid}", "/publicity-list", "/funding-ledger"]),
                              headers=auth)
                due += self.interval
                self.stop.wait(max(0.0, due - time.monotonic()))

    def start(self) -> None:
        self._workers = [threading.Thread(target=self.worker, args=(k,), daemon=True) for k in range(self.threads)]
        for t in self._workers:
            t.start()

    def finish(self) -> None:
        self.stop.set()
        for t in self._workers:
            t.join(timeout=120)


def supervised_pid(var: Path, program: str) -> int | None:
    import xmlrpc.client

    from supervisor.xmlrpc import SupervisorTransport

    rpc = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=SupervisorTransport(
        None, None, f"unix://{var}/supervisor.sock"))
    info = rpc.supervisor.getProcessInfo(program)
    return info["pid"] if info["statename"] == "RUNNING" else None


def api_workers(var: Path) -> set[int]:
    manager = supervised_pid(var, "platforms-api")
    if manager is None:
        return set()
    found = set()
    for pid in descendants(manager)[1:]:
        try:
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.add(pid)
        except OSError:
            pass
    return found


def until(condition, seconds: float = 120.0) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=5)
    parser.add_argument("--threads", type=int, default=4, help="concurrent clients")
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second, all clients together")
    args = parser.parse_args()
    if args.minutes < 1:
        parser.error("--minutes must be at least 1")

    import httpx

    base = os.environ.get("PLATFORMS_BENCH_POSTGRES_URL") or DEFAULT_URL
    schema = create_schema(base)
    work = Path(tempfile.mkdtemp(prefix="soak-layout-"))
    var = work / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLATFORMS_", "PGAPPNAME"))}
    env |= {"PLATFORMS_DATABASE_URL": f"{base}?schema={schema}", "PLATFORMS_VAR_DIR": str(var),
            "PLATFORMS_OBJECTION_RATE_LIMIT": "0",  # every objection comes from 127.0.0.1
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))}
    print(f"schema {schema}, files in {work}", flush=True)
    failures: list[str] = []
    launcher = None
    kills: Counter = Counter()
    try:
        development = env | {"PLATFORMS_MODE": "development"}
        for step in (["migrate"], ["demo"]):
            done = cli(step, development, work)
            if done.returncode != 0:
                raise RuntimeError(f"platforms {step[0]} failed: {done.stderr[-2000:]}")
        password = f"soak-{uuid.uuid4().hex}"
        added = cli(["users", "add", "soak-bureau", "--role", "bureau", "--password-stdin"], development, work,
                    password + "\n")
        if added.returncode != 0:
            raise RuntimeError(f"platforms users add failed: {added.stderr[-2000:]}")

        port = free_port()
        root = f"http://127.0.0.1:{port}/api/v1"
        launcher = subprocess.Popen([PYTHON, str(LAUNCHER), "--port", str(port), "--workers", "2"], cwd=work,
                                    env=env, stdout=open(work / "launcher.log", "w"), stderr=subprocess.STDOUT)
        if not until(lambda: launcher.poll() is not None or "serving on" in (work / "launcher.log").read_text(), 240) \
                or launcher.poll() is not None:
            raise RuntimeError(f"the layout did not become ready; see {work}/launcher.log and {var}/log")
        token = httpx.post(f"{root}/auth/token", data={"username": "soak-bureau", "password": password}).json()[
            "access_token"]
        batches = httpx.get(f"{root}/publicity-list", params={"open": "true"}).json()["items"]
        platforms = [p["id"] for b in batches for p in b["platforms"]]
        before = {p["id"]: p["objections"] for b in batches for p in b["platforms"]}
        print(f"{len(platforms)} platforms in publicity; {args.minutes} min at {args.rate:g} req/s, {args.threads} "
              "clients; an API worker killed at 0:15 and the runner at 0:45 of every minute", flush=True)

        load = Load(root, token, platforms, args.threads, args.rate)
        load.start()
        for m in range(args.minutes):
            began = time.monotonic()
            time.sleep(15)
            workers = api_workers(var)
            if workers:
                victim = min(workers)
                os.kill(victim, signal.SIGKILL)
                kills["worker"] += 1
                if not until(lambda v=victim: len(api_workers(var)) == 2 and v not in api_workers(var)):
                    failures.append(f"minute {m + 1}: the killed API worker was not replaced within 120 s")
            time.sleep(max(0.0, 45 - (time.monotonic() - began)))
            runner = supervised_pid(var, "platforms-projections")
            if runner is not None:
                os.kill(runner, signal.SIGKILL)
                kills["runner"] += 1
                if not until(lambda r=runner: supervised_pid(var, "platforms-projections") not in (None, r)):
                    failures.append(f"minute {m + 1}: the killed runner was not restarted within 120 s")
            time.sleep(max(0.0, 60 - (time.monotonic() - began)))
            with load.lock:
                print(f"  minute {m + 1}: {len(load.answered)} objections answered, statuses {dict(load.statuses)}",
                      flush=True)
        load.finish()

        if not until(lambda: readiness(root) == (200, 0)):
            failures.append(f"the read models did not reach the head within 120 s (readyz {readiness(root)})")
        batches = httpx.get(f"{root}/publicity-list").json()["items"]
        counted = {p["id"]: p["objections"] for b in batches for p in b["platforms"]}
        sent = Counter(a["platform_id"] for a in load.answered.values())
        for pid in platforms:
            if counted.get(pid, 0) - before.get(pid, 0) != sent[pid]:
                failures.append(f"platform {pid}: {sent[pid]} objections answered, the publicity list counts "
                                f"{counted.get(pid, 0) - before.get(pid, 0)} more")
        for what in ("verify", "reconcile"):
            done = cli(["audit", what], development, work)
            if done.returncode != 0:
                failures.append(f"platforms audit {what} exited {done.returncode}: {done.stderr[-1000:]}")
        fives = sum(n for s, n in load.statuses.items() if isinstance(s, int) and s >= 500)
        if fives:
            failures.append(f"{fives} answer(s) were 5xx")
        if load.unanswered:
            failures.append(f"{len(load.unanswered)} objection(s) never answered")
        print(f"{len(load.answered)} objections answered; statuses {dict(load.statuses)}; killed {dict(kills)}")
    finally:
        if launcher is not None and launcher.poll() is None:
            launcher.send_signal(signal.SIGTERM)
            try:
                code = launcher.wait(timeout=90)
                if code != 0:
                    failures.append(f"the launcher exited {code} after SIGTERM")
            except subprocess.TimeoutExpired:
                launcher.kill()
                failures.append("the layout did not stop within 90 s of SIGTERM")
        drop_schema(base, schema)
        print(f"schema {schema} dropped")
        for log in sorted((var / "log").glob("platforms-*.log")):
            if "Traceback (most recent call last)" in log.read_text(errors="replace"):
                failures.append(f"a traceback in {log}")
    for f in failures:
        print(f"FAIL: {f}")
    print("layout soak OK" if not failures else f"layout soak FAILED ({len(failures)} check(s))")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
