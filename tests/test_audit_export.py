"""``GET /api/v1/audit/export`` on SQLite and PostgreSQL: who may download it, what its lines hold,
that it is one snapshot of the log, that the CLI writes the same, and that tools/verify_offline.py
accepts it with the public key alone and names the position of a row altered in the database."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from aggregates.event_table import event_table
from aggregates.programme import Driver
from api_client import Api, download_export
from audit.checkpoint_store import load_checkpoints
from audit.history import EXPORT_FORMAT, export_chunks, export_lines
from audit.rows import iter_rows
from audit.verify import verify_log
from support import checkpoint_keys

TOOL = Path(__file__).resolve().parents[1] / "tools" / "verify_offline.py"
# Every field an export row carried before the export had a header: clients may read any of them.
ROW_FIELDS = {"position", "platform_id", "aggregate", "sequence", "type", "topic", "recorded_at", "business_date",
              "actor", "role", "document_refs", "data", "hash", "prev_hash", "leaf_hash", "id_hex", "state_b64"}


def objects(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def run_tool(export: Path, public_key: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(TOOL), "export", "--export", str(export), "--public-key",
                           str(public_key)], capture_output=True, text=True, timeout=120)


def test_the_auditor_downloads_the_log_as_json_lines(export_site: Api) -> None:
    r = download_export(export_site)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/x-ndjson")
    assert r.headers["content-disposition"].startswith('attachment; filename="platform-registry-log-')
    assert r.headers["content-disposition"].endswith('.jsonl"')
    assert r.text.endswith("\n")
    header, *body, trailer = objects(r.text)
    app = export_site.container.app
    count, _ = event_table(app).log_size()
    assert header["kind"] == "header" and header["format"] == EXPORT_FORMAT and header["size"] == count
    checkpoints = [o for o in body if o["kind"] == "checkpoint"]
    events = [o for o in body if o["kind"] == "event"]
    assert body == checkpoints + events  # the checkpoints come first
    assert checkpoints == [{"kind": "checkpoint", **cp.to_dict()} for _, cp in load_checkpoints(app)]
    assert header["checkpoints"] == 2 and checkpoints[0]["size"] < checkpoints[1]["size"] < count
    assert len(events) == count and all(ROW_FIELDS <= set(e) for e in events)
    assert [e["position"] for e in events] == sorted(e["position"] for e in events)
    report = verify_log(app, public_key_pem=checkpoint_keys().pinned_public_key())
    assert trailer == {"kind": "trailer", "size": count, "root": report.root}
    assert download_export(export_site, "bureau").status_code == 200


def test_only_auditors_and_the_bureau_may_download_it(export_site: Api) -> None:
    for user, status in [(None, 401), ("applicant", 403), ("finance", 403), ("service_agency", 403)]:
        r = download_export(export_site, user)
        assert r.status_code == status, (user, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["status"] == status


def test_the_offline_tool_verifies_the_download(export_site: Api, tmp_path: Path) -> None:
    export = tmp_path / "log.jsonl"
    export.write_bytes(download_export(export_site).content)
    result = run_tool(export, checkpoint_keys().pinned)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 signed checkpoint(s) verified and matched" in result.stdout


def _tamper(app: Any, position: int, state: bytes) -> None:
    """Change one stored row behind the application's back, as someone with database access could."""
    if app.store.is_sqlite:
        conn = sqlite3.connect(app.store.sqlite_path)
        with conn:
            conn.execute(f"UPDATE {app.recorder.events_table_name} SET state=? WHERE rowid=?", (state, position))
        conn.close()
        return
    table = f'"{app.recorder.datastore.schema}".{app.recorder.events_table_name}'
    with app.recorder.datastore.transaction(commit=True) as cur:
        cur.execute(f"UPDATE {table} SET state=%s WHERE notification_id=%s", (state, position))


def test_a_row_altered_in_the_database_fails_offline_at_its_position(export_site: Api, tmp_path: Path) -> None:
    app = export_site.container.app
    row = next(r for r in iter_rows(app) if r.version == 3)  # the first platform's Scored event, not its last
    assert b'"actor_id":"expert-0"' in row.state
    _tamper(app, row.position, row.state.replace(b'"actor_id":"expert-0"', b'"actor_id":"expert-9"'))
    export = tmp_path / "log.jsonl"
    export.write_bytes(download_export(export_site).content)
    result = run_tool(export, checkpoint_keys().pinned)
    assert result.returncode == 1, result.stdout
    assert result.stdout.startswith("FAILED")
    assert f"of the event before it at position {row.position}" in result.stdout
    assert "Merkle root" in result.stdout  # both checkpoints cover the altered row


def test_the_export_is_one_snapshot_while_writes_go_on(export_site: Api) -> None:
    app = export_site.container.app
    before, _ = event_table(app).log_size()
    lines = export_lines(app)
    header = json.loads(next(lines))
    Driver(app, subfield="智能传感器").to("applied")  # lands after the snapshot was taken
    rest = [json.loads(line) for line in lines]
    assert event_table(app).log_size()[0] > before == header["size"] == rest[-1]["size"]
    assert sum(o["kind"] == "event" for o in rest) == before


def test_each_chunk_may_be_read_on_another_thread(export_site: Api) -> None:
    """Starlette reads a streamed body one chunk at a time on whichever worker thread is free."""
    chunks = export_chunks(export_site.container.app, chunk_bytes=256)
    read: list[bytes] = []

    def next_chunk() -> None:
        read.append(next(chunks, b"<end>"))

    while read[-1:] != [b"<end>"]:
        before = len(read)
        worker = threading.Thread(target=next_chunk)
        worker.start()
        worker.join()
        assert len(read) == before + 1, "reading the next chunk on a new thread failed"
    assert len(read) > 10
    streamed = objects(b"".join(read[:-1]).decode("utf-8"))
    assert streamed[1:] == objects(download_export(export_site).text)[1:]


def test_the_cli_writes_the_same_export(export_site: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from api.cli import app as cli

    monkeypatch.setenv("PLATFORMS_DATABASE_URL", export_site.container.settings.database_url)
    out = tmp_path / "cli.jsonl"
    r = CliRunner().invoke(cli, ["audit", "export", "--out", str(out)])
    assert r.exit_code == 0, r.output
    from_cli, from_api = objects(out.read_text(encoding="utf-8")), objects(download_export(export_site).text)
    for document in (from_cli, from_api):
        document[0].pop("exported_at")
    assert from_cli == from_api
    assert run_tool(out, checkpoint_keys().pinned).returncode == 0
