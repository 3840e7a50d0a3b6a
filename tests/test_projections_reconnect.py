"""`platforms projections run` on PostgreSQL survives the loss of its connections: its backends
(events, read models, LISTEN) are terminated while commands arrive and while it idles, and it
reconnects, resumes from its stored positions and ends with read models equal to a rebuild.

Only this test's runner is terminated: it runs with an application_name of its own
(``PGAPPNAME``), and the kill filters on it, so other sessions on the server are untouched.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from aggregates.application import RegistryApp
from aggregates.programme import Driver
from aggregates.store import StoreConfig
from audit.reconcile import reconcile_read_models
from projections.db import make_engine
from projections.runner import max_position, read_positions
from support import terminate_backends, wait_until

ROOT = Path(__file__).resolve().parents[1]
SUBFIELDS = ["智能芯片", "智能传感器", "智能算力", "智能终端"]


@pytest.mark.postgres
def test_runner_reconnects_after_its_backends_are_terminated_and_matches_a_rebuild(
        postgres_url: str, tmp_path: Path) -> None:
    from support import drop_schema, fresh_schema, migrated

    url, schema = fresh_schema(postgres_url)
    name = f"runner-{uuid.uuid4().hex[:10]}"
    app = RegistryApp(StoreConfig(migrated(url)))
    engine = make_engine(StoreConfig(url))
    proc = None
    try:
        Driver(app, subfield=SUBFIELDS[0]).to("applied")
        env = {**os.environ, "PLATFORMS_DATABASE_URL": url, "PLATFORMS_VAR_DIR": str(tmp_path / "var"),
               "PGAPPNAME": name, "PYTHONPATH": str(ROOT / "src")}
        proc = subprocess.Popen([sys.executable, "-c", "from api.cli import app; app()", "projections", "run",
                                 "--poll", "0.1"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

        def applied_everything() -> bool:
            with engine.connect() as conn:
                return min(read_positions(conn).values()) >= max_position(app)

        wait_until(applied_everything, 60)
        killed = 0
        for i in range(8):  # commands arrive while the runner's connections are cut under it
            Driver(app, subfield=SUBFIELDS[i % len(SUBFIELDS)]).to("reviewed")
            killed += terminate_backends(url, name)
        wait_until(applied_everything, 60)
        killed += terminate_backends(url, name)  # and while it idles
        time.sleep(0.5)
        Driver(app, subfield=SUBFIELDS[1]).to("accepted")
        wait_until(applied_everything, 60)
        assert proc.poll() is None, "the runner exited"
        assert killed > 0
        report = reconcile_read_models(app, engine)
        assert report["ok"], report
        proc.send_signal(signal.SIGTERM)
        text = proc.communicate(timeout=30)[0].decode(errors="replace")
        assert proc.returncode == 0, text
        assert "connection lost" in text and "reconnected" in text, text
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        engine.dispose()
        app.close()
        drop_schema(postgres_url, schema)
