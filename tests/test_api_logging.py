"""Log lines are JSON, and a standard-library record keeps the fields passed as ``extra=``."""

from __future__ import annotations

import json
import logging

from api.logging import stdlib_json_formatter


def test_command_log_lines_carry_the_command_aggregate_and_position() -> None:
    record = logging.LogRecord("aggregates.application", logging.INFO, __file__, 1, "command recorded", None, None)
    record.__dict__.update(command="object", aggregate_id="c78b3360-81e9-4b67-8cb8-cdd99ef58895", position=7)
    line = json.loads(stdlib_json_formatter().format(record))
    assert line["event"] == "command recorded" and line["level"] == "info"
    assert (line["command"], line["position"]) == ("object", 7)
    assert line["aggregate_id"] == "c78b3360-81e9-4b67-8cb8-cdd99ef58895" and line["timestamp"].endswith("Z")


class _Lines:
    """Stands in for the request log's structlog logger and keeps its lines."""

    def __init__(self) -> None:
        self.lines: list[dict] = []

    def info(self, event: str, **fields: object) -> None:
        self.lines.append({"event": event, **fields})


def test_a_commands_request_line_says_what_it_recorded(tmp_path, monkeypatch) -> None:
    """One line per request; a command's line names the command, the aggregate, its new version
    and the log position, so an operator can match a client's report to the event."""
    import api.logging
    from api_client import make_api, to_in_publicity

    lines = _Lines()
    monkeypatch.setattr(api.logging.structlog, "get_logger", lambda *a, **k: lines)
    client_api, container = make_api("sqlite:///" + str(tmp_path / "events.sqlite3"), tmp_path)
    try:
        with client_api.client:
            pid, _ = to_in_publicity(client_api)
            body = {"objector_name": "市民", "contact": "13800000000", "content": "对申报数据有疑问，请核实"}
            answer = client_api.post(f"/platforms/{pid}/objections", None, body).json()
            client_api.get("/publicity-list", None)
    finally:
        container.close()
    objection = [ln for ln in lines.lines if ln["path"].endswith("/objections")][-1]
    assert objection["event"] == "request" and objection["status"] == 200 and objection["method"] == "POST"
    assert (objection["command"], objection["aggregate_id"]) == ("object", pid)
    assert objection["position"] == answer["position"] and objection["version"] > 1
    batch = [ln for ln in lines.lines if ln["path"].endswith("/publicity-batches")][-1]
    assert batch["command"] == "publicize" and batch["status"] == 201 and batch["position"] > 0
    read = [ln for ln in lines.lines if ln["path"].endswith("/publicity-list")][-1]
    assert "position" not in read and "command" not in read
    # Every line names the client's address (the test client's, as the server sees it).
    assert {ln["client"] for ln in lines.lines} == {"testclient"}
