"""The ``platforms`` command line: users add, demo on an empty store, ledger export, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from api_client import HOST

runner = CliRunner()


def test_users_add(cli_env: Path) -> None:
    def add(*args: str):
        return runner.invoke(app, ["users", "add", *args, "--password-stdin"], input="long-password\n")

    r = add("alice", "--role", "applicant", "--credit-code", HOST)
    assert r.exit_code == 0, r.output
    assert add("alice", "--role", "bureau").exit_code == 1
    assert add("bob", "--role", "applicant").exit_code == 2  # an applicant needs its host unit's credit code
    assert add("carol", "--role", "wizard").exit_code == 2
    assert add("dave", "--role", "expert").exit_code == 2  # Art. 8(3): recusal needs the expert's affiliation
    assert add("public", "--role", "bureau").exit_code == 2  # the anonymous public's actor name is reserved
    assert (cli_env / "var" / "secret.key").stat().st_mode & 0o777 == 0o600


def test_production_refuses_without_secret(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLATFORMS_MODE", "production")
    r = runner.invoke(app, ["users", "list"])
    assert r.exit_code == 2 and "PLATFORMS_SECRET_KEY" in r.output


def test_demo_then_ledger_export(cli_env: Path) -> None:
    r = runner.invoke(app, ["demo", "--if-empty"])
    assert r.exit_code == 0, r.output
    assert "bureau-demo-2021" in r.output
    assert (cli_env / "var" / "policies" / "demo-2025.json").exists()
    again = runner.invoke(app, ["demo"])
    assert again.exit_code == 1  # not empty any more
    assert runner.invoke(app, ["demo", "--if-empty"]).exit_code == 0
    out = cli_env / "ledger.csv"
    r = runner.invoke(app, ["ledger", "export", "--fiscal-year", "2023", "--out", str(out)])
    assert r.exit_code == 0, r.output
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and "拨付".encode() in data
    en = cli_env / "ledger-en.csv"
    assert runner.invoke(app, ["ledger", "export", "--lang", "en", "--out", str(en)]).exit_code == 0
    assert en.read_bytes().startswith(b"\xef\xbb\xbfbusiness_date,fiscal_year,kind,")
    assert runner.invoke(app, ["ledger", "export", "--lang", "fr"]).exit_code == 2
    r = runner.invoke(app, ["projections", "rebuild"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["projections", "rebuild", "ledger", "--workers", "2"])
    assert r.exit_code == 0 and "ledger" in r.output, r.output
    assert runner.invoke(app, ["projections", "rebuild", "nonsense"]).exit_code == 2


def test_demo_serves_a_live_batch(cli_env: Path) -> None:
    """After the demo, the API shows a publicity batch open today, and the public can object."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    assert runner.invoke(app, ["demo"]).exit_code == 0
    with TestClient(create_app()) as client:
        batches = client.get("/api/v1/publicity-list", params={"open": "true"}).json()["items"]
        assert batches and batches[0]["open"] is True
        pid = batches[0]["platforms"][0]["id"]
        r = client.post(f"/api/v1/platforms/{pid}/objections",
                        json={"objector_name": "访客", "contact": "x@example.com", "content": "演示异议：申报数据有误"})
        assert r.status_code == 200 and r.json()["admissible"] is True
        token = client.post("/api/v1/auth/token", data={"username": "bureau", "password": "bureau-demo-2021"}).json()
        assert client.get("/api/v1/funding-ledger",
                          headers={"Authorization": f"Bearer {token['access_token']}"}).status_code == 200
        assert "演示" in client.get("/").text
        client.app.state.container.app.close()
