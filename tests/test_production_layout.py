"""The production layout (`make run-production`: deploy/run_production.py and supervisord) on this
machine's PostgreSQL, in a schema of its own: two API workers and the projection runner under
load; one API worker and the runner killed (SIGKILL) mid-load and brought back by their
supervisors; then nothing lost and nothing applied twice, and a graceful stop that answers the
request in flight. The longer run with database sessions killed is `make soak`
(bench/soak.py)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
import xmlrpc.client
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from supervisor.xmlrpc import SupervisorTransport

from api_client import PASSWORD, make_api, to_in_publicity
from support import drop_schema, free_port, fresh_schema, migrated, wait_until

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[1]
LAUNCHER = ROOT / "deploy" / "run_production.py"


@dataclass
class Layout:
    url: str
    port: int
    var: Path
    process: subprocess.Popen
    platform_id: str

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def supervisor(self) -> Any:
        """supervisord's XML-RPC interface, over its socket in the var directory."""
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=SupervisorTransport(
            None, None, f"unix://{self.var}/supervisor.sock")).supervisor

    def pid(self, program: str) -> int | None:
        info = self.supervisor().getProcessInfo(program)
        return info["pid"] if info["statename"] == "RUNNING" else None

    def workers(self) -> set[int]:
        """The API worker processes uvicorn's manager keeps (not its resource tracker)."""
        manager = self.pid("platforms-api")
        if manager is None:
            return set()
        found = set()
        for task in Path(f"/proc/{manager}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in children:
                try:
                    if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                        found.add(int(child))
                except OSError:
                    pass
        return found

    def log(self, program: str) -> str:
        return (self.var / "log" / f"{program}.log").read_text(errors="replace")


@pytest.fixture
def layout(postgres_url: str, tmp_path: Path) -> Any:
    url, schema = fresh_schema(postgres_url)
    try:
        # Accounts of every role and one platform in its publicity window, written in-process.
        api, container = make_api(migrated(url), tmp_path)
        try:
            platform_id, _ = to_in_publicity(api)
        finally:
            container.close()
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PLATFORMS_", "MALLOC_", "PGAPPNAME"))}
        env |= {"PLATFORMS_DATABASE_URL": url, "PLATFORMS_VAR_DIR": str(tmp_path / "var"),
                "PLATFORMS_OBJECTION_RATE_LIMIT": "0"}  # every objection comes from 127.0.0.1
        out = open(tmp_path / "launcher.log", "wb")
        process = subprocess.Popen([sys.executable, str(LAUNCHER), "--port", str(port), "--workers", "2"],
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            found = Layout(url, port, tmp_path / "var", process, platform_id)
            wait_until(lambda: process.poll() is not None or b"serving on" in (tmp_path / "launcher.log").read_bytes(),
                       240)
            assert process.poll() is None, (tmp_path / "launcher.log").read_text(errors="replace")
            yield found
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=90)
                except subprocess.TimeoutExpired:
                    process.kill()
            out.close()
    finally:
        drop_schema(postgres_url, schema)


# ---------------------------------------------------------------------------- the load
@dataclass
class Load:
    """Clients filing public objections, each with its own Idempotency-Key and sent again with
    it until answered 2xx (a worker killed under a request drops its connection), and reading
    the platform and the publicity list in between."""

    api: str
    platform_id: str
    token: str
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    answered: dict[str, dict] = field(default_factory=dict)  # Idempotency-Key -> the 2xx answer
    unanswered: list[str] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)

    def run(self, k: int) -> None:
        with httpx.Client(base_url=self.api, timeout=30) as client:
            n = 0
            while not self.stop.is_set():
                n += 1
                self.objection(client, f"layout-{k}-{n}-{uuid.uuid4().hex[:8]}", n)
                self.request(client, "GET", f"/platforms/{self.platform_id}",
                             headers={"Authorization": f"Bearer {self.token}"})
                self.request(client, "GET", "/publicity-list")

    def request(self, client: httpx.Client, method: str, path: str, **kw: Any) -> httpx.Response | None:
        try:
            answer = client.request(method, path, **kw)
        except httpx.TransportError as exc:
            with self.lock:
                self.statuses[exc.__class__.__name__] += 1
            return None
        with self.lock:
            self.statuses[answer.status_code] += 1
        return answer

    def objection(self, client: httpx.Client, key: str, n: int) -> None:
        body = {"objector_name": f"部署测试{n:03d}", "contact": f"{key}@example.com",
                "content": f"部署测试异议 {key}：申报材料与实际情况不符，请核实。"}
        for _ in range(40):
            answer = self.request(client, "POST", f"/platforms/{self.platform_id}/objections", json=body,
                                  headers={"Idempotency-Key": key})
            if answer is not None and answer.is_success:
                with self.lock:
                    self.answered[key] = answer.json()
                return
            self.stop.wait(0.25)
        with self.lock:
            self.unanswered.append(key)

    def count(self) -> int:
        with self.lock:
            return len(self.answered)


def objections_in_log(url: str, tmp_path: Path) -> tuple[dict[int, str], dict]:
    """Every Objected event of the log by position (its objection id), and the read models
    reconciled with a rebuild from the log."""
    from api.bootstrap import build_container
    from api.settings import Settings
    from audit.reconcile import reconcile_read_models
    from projections.runner import log_batches

    settings = Settings.from_env(database_url=url, var_dir=tmp_path / "var", secret_key="x" * 40,
                                 checkpoint_signer=False, deadline_watch=False, run_projections=False)
    container = build_container(settings)
    try:
        found = {}
        for batch in log_batches(container.app):
            for n in batch:
                if n.topic.endswith("/Objected"):
                    found[n.id] = str(container.app.mapper.to_domain_event(n).objection_id)
        return found, reconcile_read_models(container.app, container.engine)
    finally:
        container.close()


def test_killed_processes_come_back_and_nothing_is_lost(layout: Layout, tmp_path: Path):
    assert (layout.var / "secret.key").stat().st_mode & 0o777 == 0o600  # made by the launcher, owner only
    token = httpx.post(f"{layout.api}/auth/token", data={"username": "bureau", "password": PASSWORD}).json()[
        "access_token"]
    load = Load(layout.api, layout.platform_id, token)
    clients = [threading.Thread(target=load.run, args=(k,), daemon=True) for k in range(4)]
    for t in clients:
        t.start()
    try:
        wait_until(lambda: load.count() >= 10, 120)

        # One API worker killed: uvicorn's manager starts another; the other worker serves meanwhile.
        workers = wait_until(lambda: len(layout.workers()) == 2 and layout.workers(), 60)
        killed = min(workers)
        os.kill(killed, signal.SIGKILL)
        wait_until(lambda: len(layout.workers()) == 2 and killed not in layout.workers(), 120)
        done = load.count()
        wait_until(lambda: load.count() >= done + 10, 120)

        # The runner killed in the middle of its work: supervisord starts it again.
        runner = layout.pid("platforms-projections")
        assert runner is not None
        os.kill(runner, signal.SIGKILL)
        wait_until(lambda: layout.pid("platforms-projections") not in (None, runner), 120)
        done = load.count()
        wait_until(lambda: load.count() >= done + 10, 120)
    finally:
        load.stop.set()
        for t in clients:
            t.join(timeout=120)

    assert not load.unanswered
    assert not [s for s in load.statuses if isinstance(s, int) and s >= 500], load.statuses

    # The read models reach the log's head, each objection counted once.
    head = max(a["position"] for a in load.answered.values())
    ready = wait_until(lambda: (r := httpx.get(f"{layout.api}/readyz", timeout=10)).status_code == 200
                       and r.json()["projections"]["max_lag"] == 0 and r, 120)
    assert ready.json()["status"] == "ready"
    listed = httpx.get(f"{layout.api}/publicity-list", params={"min_position": head}).json()["items"]
    counted = {p["id"]: p["objections"] for b in listed for p in b["platforms"]}
    assert counted[layout.platform_id] == len(load.answered)

    # A graceful stop: a request whose body is still arriving when SIGTERM comes is answered.
    processes = {*layout.workers(), layout.pid("platforms-api"), layout.pid("platforms-projections")}
    in_flight = in_flight_objection(layout)
    layout.process.send_signal(signal.SIGTERM)
    wait_until(lambda: "Waiting for connections to close" in layout.log("platforms-api"), 60)
    answer = in_flight()
    assert answer["status"] == 200, answer
    assert layout.process.wait(timeout=90) == 0
    for pid in processes:  # all stopped (a zombie left for init to reap is stopped)
        assert not Path(f"/proc/{pid}").exists() or b"zombie" in Path(f"/proc/{pid}/status").read_bytes()

    # Every command answered 2xx is in the log, once, at or before the position it was told (the
    # log's position after its write, which may also hold its idempotency record); no other is.
    logged, reconciled = objections_in_log(layout.url, tmp_path)
    answers = [*load.answered.values(), answer["body"]]
    at = {objection: position for position, objection in logged.items()}
    assert len(at) == len(logged) == len(answers)
    for a in answers:
        assert at[a["objection_id"]] <= a["position"]
    assert reconciled["ok"], reconciled
    for program in ("platforms-api", "platforms-projections"):
        assert not crashes(layout.log(program)), layout.log(program)


# A worker that cannot get a connection when it starts exits and is replaced: the database
# server's limit, shared with whatever else uses it, not a failure of the layout.
SERVER_FULL = "too many clients already"


def crashes(log: str) -> list[str]:
    """The tracebacks in a program's log (each up to the next log line), but those of a
    PostgreSQL server out of connections."""
    found, block = [], None
    for line in log.splitlines():
        if line.startswith("Traceback (most recent call last)") and block is None:
            block = [line]
        elif block is not None and line.startswith(("{", "INFO:", "WARNING:", "ERROR:")):
            found.append("\n".join(block))
            block = None
        elif block is not None:
            block.append(line)
    if block is not None:
        found.append("\n".join(block))
    return [b for b in found if SERVER_FULL not in b]


def in_flight_objection(layout: Layout) -> Any:
    """Send an objection's headers and half of its body now; the returned function sends the
    rest and reads the answer (``{"status", "body"}``)."""
    body = json.dumps({"objector_name": "停机测试", "contact": "stop@example.com",
                       "content": "停机时仍在传输中的异议：应当被完整处理并答复。"}, ensure_ascii=False).encode()
    head = (f"POST /api/v1/platforms/{layout.platform_id}/objections HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    sock = socket.create_connection(("127.0.0.1", layout.port), timeout=60)
    sock.sendall(head + body[:20])

    def finish() -> dict:
        sock.sendall(body[20:])
        response = http.client.HTTPResponse(sock)
        response.begin()
        text = response.read()
        sock.close()
        return {"status": response.status, "body": json.loads(text)}

    return finish
