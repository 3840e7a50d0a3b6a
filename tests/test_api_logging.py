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


def test_request_lines_name_the_client_address_and_the_actor(tmp_path, monkeypatch) -> None:
    """The actor is the signed-in account (token or workbench session) once the account has
    accepted it, else "public"; the client is the address the server decided."""
    from fastapi.testclient import TestClient

    import api.logging
    from api_client import make_api
    from staff_client import Staff

    lines = _Lines()
    monkeypatch.setattr(api.logging.structlog, "get_logger", lambda *a, **k: lines)
    client_api, container = make_api("sqlite:///" + str(tmp_path / "events.sqlite3"), tmp_path)
    try:
        with client_api.client:
            visitor = TestClient(client_api.client.app, client=("198.51.100.7", 1234))
            visitor.get("/api/v1/publicity-list")
            visitor.get("/api/v1/platforms", headers=client_api.headers("bureau"))
            visitor.get("/api/v1/platforms", headers={"Authorization": "Bearer forged.token.here"})
            staff = Staff(client_api)
            staff.sign_in("finance")
            staff.get("/staff/")
    finally:
        container.close()
    public, bureau, forged = lines.lines[:3]
    assert (public["client"], public["actor"]) == ("198.51.100.7", "public")
    assert (bureau["client"], bureau["actor"], bureau["status"]) == ("198.51.100.7", "bureau", 200)
    assert (forged["actor"], forged["status"]) == ("public", 401)  # an unverified subject is never logged
    workbench = [ln for ln in lines.lines if ln["path"] == "/staff/"][-1]
    assert workbench["actor"] == "finance"


def test_log_level_and_format_are_configured(capsys) -> None:
    """PLATFORMS_LOG_LEVEL drops lines below it; PLATFORMS_LOG_FORMAT=console writes the console
    layout instead of JSON, for structlog's loggers and the standard library's alike."""
    import structlog

    import api.logging

    saved, root = structlog.get_config(), logging.getLogger()
    handlers, level, configured = root.handlers[:], root.level, api.logging._configured
    try:
        api.logging.configure("WARNING", "console")
        structlog.get_logger("t").info("below the level", client="198.51.100.7")
        structlog.get_logger("t").warning("at the level", client="198.51.100.7")
        logging.getLogger("t.stdlib").info("stdlib below")
        logging.getLogger("t.stdlib").error("stdlib above")
        console = capsys.readouterr().err
        api.logging.configure("DEBUG", "json")
        structlog.get_logger("t").debug("debug line", client="198.51.100.7")
        as_json = capsys.readouterr().err
    finally:
        structlog.configure(**saved)
        root.handlers[:], api.logging._configured = handlers, configured
        root.setLevel(level)
    assert "below the level" not in console and "stdlib below" not in console
    assert "at the level" in console and "client=198.51.100.7" in console and "stdlib above" in console
    assert not console.lstrip().startswith("{")
    line = json.loads(as_json.strip().splitlines()[-1])
    assert (line["event"], line["level"], line["client"]) == ("debug line", "debug", "198.51.100.7")


def _serve_and_read_log(tmp_path, **env: str) -> str:
    """Two requests through `platforms serve` (a named proxy at 127.0.0.1 reporting the visitor
    203.0.113.5) and what the server logged."""
    import httpx

    from support import serving

    tmp_path.mkdir(parents=True, exist_ok=True)
    log = tmp_path / "serve.log"
    with serving(tmp_path, log=log, PLATFORMS_TRUSTED_PROXIES="127.0.0.1", **env) as (base, _):
        for _ in range(2):
            assert httpx.get(f"{base}/api/v1/publicity-list", headers={"X-Forwarded-For": "203.0.113.5"},
                             timeout=30).status_code == 200
    return log.read_text(encoding="utf-8")


def test_a_served_request_line_names_the_proxied_client_as_json(tmp_path) -> None:
    lines = [json.loads(ln) for ln in _serve_and_read_log(tmp_path).splitlines() if ln.startswith("{")]
    requests = [ln for ln in lines if ln.get("event") == "request" and ln["path"] == "/api/v1/publicity-list"]
    assert len(requests) == 2
    assert all((ln["client"], ln["actor"], ln["level"]) == ("203.0.113.5", "public", "info") for ln in requests)


def test_a_served_process_follows_the_log_level_and_format_settings(tmp_path) -> None:
    console = _serve_and_read_log(tmp_path / "console", PLATFORMS_LOG_FORMAT="console")
    lines = [ln for ln in console.splitlines() if "path=/api/v1/publicity-list" in ln]
    assert len(lines) == 2 and all("client=203.0.113.5" in ln and not ln.startswith("{") for ln in lines)
    quiet = _serve_and_read_log(tmp_path / "quiet", PLATFORMS_LOG_LEVEL="warning")
    assert "publicity-list" not in quiet
