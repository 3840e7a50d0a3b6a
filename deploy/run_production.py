"""Start the production layout on this machine (`make run-production`): the PostgreSQL store
migrated, then, under supervisord (deploy/supervisord.conf), the API with several worker
processes and the projection runner that also signs the audit checkpoints.
It waits until ``/readyz`` answers 200, prints where the service is, and stays in the
foreground; Ctrl-C or SIGTERM stops everything gracefully (requests in flight are answered, the
runner stops between batches) and it exits with supervisord's status.

The store is ``PLATFORMS_DATABASE_URL`` (default: the local server's ``test`` database, schema
``registry``); the token signing key is ``PLATFORMS_SECRET_KEY``, or one made once into
``secret.key`` (0600) in the var directory (``PLATFORMS_VAR_DIR``, default ``var/production``),
never in the repository. The other PLATFORMS_* settings pass through (README, "Running").

    python deploy/run_production.py [--host 127.0.0.1] [--port 8000] [--workers 2]

This launcher only prepares and hands over: supervisord starts, watches, restarts and stops the
processes. supervisord runs in a session of its own, so that Ctrl-C at the terminal reaches this
launcher alone, which asks supervisord to stop the programs in order (the API first, then the
runner).
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "deploy" / "supervisord.conf"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test?schema=registry"
SECRET_CHARS = 48  # the key made when none is given: 64 URL-safe characters (the service needs >= 32)
READY_SECONDS = 180


def secret_key(path: Path) -> str:
    """The token signing key kept in ``path``, made (0600, readable by its owner only) the
    first time."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_urlsafe(SECRET_CHARS))
    return path.read_text(encoding="ascii").strip()


def environment(args: argparse.Namespace, base: dict[str, str]) -> dict[str, str]:
    """The programs' environment: the caller's, production mode, the store, the key, this
    checkout's code first on the path, and what deploy/supervisord.conf expands."""
    var_dir = Path(base.get("PLATFORMS_VAR_DIR") or ROOT / "var" / "production").resolve()
    env = dict(base)
    env.setdefault("PLATFORMS_DATABASE_URL", DEFAULT_URL)
    env["PLATFORMS_MODE"] = "production"
    env["PLATFORMS_VAR_DIR"] = str(var_dir)
    if not env.get("PLATFORMS_SECRET_KEY"):
        env["PLATFORMS_SECRET_KEY"] = secret_key(var_dir / "secret.key")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), base.get("PYTHONPATH")]))
    env |= {"REGISTRY_PYTHON": sys.executable, "REGISTRY_HOST": args.host, "REGISTRY_PORT": str(args.port),
            "REGISTRY_WORKERS": str(args.workers), "REGISTRY_RUN_DIR": str(var_dir)}
    (var_dir / "log").mkdir(parents=True, exist_ok=True)
    return env


def local(host: str) -> str:
    """The address this machine reaches a server listening on ``host`` at."""
    return {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)


def url_of(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def wait_ready(url: str, supervisor: subprocess.Popen, say: object) -> bool:
    """Poll ``url`` (``/readyz``) until it answers 200, for at most READY_SECONDS; False if
    supervisord ended first or time ran out."""
    import httpx

    deadline = time.monotonic() + READY_SECONDS
    last = "not answering yet"
    while time.monotonic() < deadline and supervisor.poll() is None:
        try:
            answer = httpx.get(url, timeout=5)
            if answer.status_code == 200:
                return True
            last = f"{answer.status_code} {answer.json().get('status', '')}"
        except (httpx.HTTPError, ValueError) as exc:
            last = exc.__class__.__name__
        say.update(f"waiting for {url}: {last}")  # type: ignore[attr-defined]
        time.sleep(0.5)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="interface the API listens on")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2, help="API worker processes (at least 2)")
    args = parser.parse_args(argv)
    if args.workers < 2:
        parser.error("--workers must be at least 2 (one worker is `make run`)")

    from rich.console import Console

    console = Console(stderr=True)
    env = environment(args, dict(os.environ))
    if not env["PLATFORMS_DATABASE_URL"].startswith("postgresql"):
        console.print("[red]the production layout runs on PostgreSQL:[/] set PLATFORMS_DATABASE_URL="
                      "postgresql+psycopg://...")
        return 2
    migrated = subprocess.run([sys.executable, "-m", "api.cli", "migrate"], env=env, cwd=ROOT)
    if migrated.returncode != 0:
        return migrated.returncode

    supervisor = subprocess.Popen([sys.executable, "-m", "supervisor.supervisord", "-n", "-c", str(CONFIG)],
                                  env=env, cwd=ROOT, start_new_session=True)
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            console.print(f"{signal.Signals(signum).name}: stopping (requests in flight are answered first)")
            supervisor.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    root = url_of(local(args.host), args.port)
    with console.status("starting the API and the projection runner") as status:
        ready = wait_ready(f"{root}/api/v1/readyz", supervisor, status)
    var_dir = env["REGISTRY_RUN_DIR"]
    if ready and not stopping:
        console.print(f"serving on {url_of(args.host, args.port)} (production, {args.workers} API workers, one "
                      f"projection runner signing checkpoints); store {masked(env['PLATFORMS_DATABASE_URL'])}\n"
                      f"logs in {var_dir}/log; processes: supervisorctl -s unix://{var_dir}/supervisor.sock status\n"
                      "Ctrl-C stops everything", soft_wrap=True, markup=False, highlight=False)
    elif not stopping:
        console.print(f"[red]not ready within {READY_SECONDS} s;[/] see {var_dir}/log; stopping", soft_wrap=True)
        stop(signal.SIGTERM, None)
    while True:
        try:
            code = supervisor.wait()
            break
        except KeyboardInterrupt:  # pragma: no cover - the handler above replaces Python's
            continue
    return code if ready else 1


def masked(url: str) -> str:
    from aggregates.store import StoreConfig

    return StoreConfig(url).masked


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main())
