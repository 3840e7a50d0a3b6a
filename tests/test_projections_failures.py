"""No event may stall a projection (投影不得停滞): text that PostgreSQL cannot store (NUL) is
stored safely in read-model rows, and an event a model cannot apply stops that model, with the
position, the event and the reason in /readyz, the log (ERROR) and `platforms projections
status`, instead of being retried forever."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from aggregates.programme import Driver, credit_code
from api.cli import app as cli
from api_client import make_api
from projections.db import make_engine
from projections.pending import NUL_STAND_IN
from projections.projector import Projector
from projections.rebuild import rebuild
from projections.runner import ReadModelRunner
from support import dump_tables


def _nul_platform(registry) -> Driver:
    """Written through the application layer, below the API's input rules, as an event already
    in the log (from before those rules) would be."""
    host = {"name": "长沙\x00某科技有限公司", "credit_code": credit_code(),
            "high_tech_certificate": {"number": "GR\x00202143000123", "valid_until": date(2027, 12, 31)}}
    return Driver(registry, batch_ref="公示\x00-2022").to("in_publicity", name="星河\x00平台", host_unit=host)


def test_nul_in_the_log_is_projected_without_stalling_on_either_store(registry, store_url: str) -> None:
    drv = _nul_platform(registry)
    engine = make_engine(registry.store)
    try:
        runner = ReadModelRunner(registry, engine)
        head = registry.recorder.max_notification_id()
        assert runner.catch_up() == head
        assert all(m["lag"] == 0 and "failure" not in m for m in runner.status())
        kept = "\x00" if engine.dialect.name == "sqlite" else NUL_STAND_IN  # PostgreSQL text has no NUL
        with engine.connect() as conn:
            name, host = conn.execute(sa.text("SELECT name, host_name FROM rm_platforms")).one()
            batch_ref = conn.execute(sa.text("SELECT batch_ref FROM rm_publicity_batches")).scalar_one()
            entry = conn.execute(sa.text("SELECT name FROM rm_publicity_entries")).scalar_one()
            ledger = conn.execute(sa.text("SELECT host_name FROM rm_ledger_entries")).scalar_one()
        assert (name, host, batch_ref, entry, ledger) == (f"星河{kept}平台", f"长沙{kept}某科技有限公司",
                                                          f"公示{kept}-2022", f"星河{kept}平台",
                                                          f"长沙{kept}某科技有限公司")
        assert registry.get_platform(drv.pid).name == "星河\x00平台"  # the event itself is untouched
        followed = dump_tables(engine)
        rebuild(registry, engine)  # a rebuild passes the same events
        assert dump_tables(engine) == followed
    finally:
        engine.dispose()


@pytest.fixture
def wired(store_url: str, tmp_path: Path):
    api, container = make_api(store_url, tmp_path)
    yield api, container
    container.close()


def test_an_event_a_model_cannot_apply_stops_that_model_and_says_where_and_why(
        wired, store_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    api, container = wired
    registry = container.app
    Driver(registry).to("approved")
    bad = Driver(registry, subfield="智能算力")
    bad.to("applied")
    position = bad.last.position
    bad.to("approved")
    attempts = []
    original = Projector._platform_event

    def refuses(self, p, event, name, pos, before_status, active):
        if pos == position and "deadlines" in active:
            attempts.append(pos)
            raise ValueError("a row this model cannot hold")
        return original(self, p, event, name, pos, before_status, active)

    monkeypatch.setattr(Projector, "_platform_event", refuses)
    runner = ReadModelRunner(registry, container.engine)
    with caplog.at_level(logging.ERROR, logger="projections.failures"):
        runner.catch_up()
        tried = len(attempts)  # the batch, the event alone, the event for each model alone
        runner.catch_up()
        assert len(attempts) == tried  # stopped: not retried
    head = registry.recorder.max_notification_id()
    status = {m["name"]: m for m in runner.status()}
    assert status["deadlines"]["position"] == position - 1
    failure = status["deadlines"]["failure"]
    assert failure["position"] == position and "Platform/Applied" in failure["event"]
    assert str(bad.pid) in failure["event"] and "ValueError: a row this model cannot hold" == failure["reason"]
    assert all(m["position"] == head and "failure" not in m for n, m in status.items() if n != "deadlines")
    assert [r.levelno for r in caplog.records] == [logging.ERROR] and "deadlines" in caplog.records[0].getMessage()

    ready = api.client.get("/api/v1/readyz")
    assert ready.status_code == 503 and ready.json()["status"] == "stalled"
    assert ready.json()["projections"]["stalled"]["deadlines"]["position"] == position

    monkeypatch.setenv("PLATFORMS_DATABASE_URL", store_url)
    r = CliRunner().invoke(cli, ["projections", "status"])
    assert r.exit_code == 1, r.output
    assert f"deadlines: at position {position - 1}" in r.output and f"STOPPED at position {position}" in r.output
    assert "ValueError: a row this model cannot hold" in r.output

    # The cause fixed, a runner started again resumes from the stored position and clears it.
    monkeypatch.setattr(Projector, "_platform_event", original)
    assert ReadModelRunner(registry, container.engine).catch_up() == head
    assert api.client.get("/api/v1/readyz").json()["status"] == "ready"
    r = CliRunner().invoke(cli, ["projections", "status"])
    assert r.exit_code == 0 and "STOPPED" not in r.output
