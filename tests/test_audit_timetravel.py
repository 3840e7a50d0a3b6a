"""Time travel against the recorded states of a scenario, history entries, diff, read models
at a past position, proofs from the store, and the auditor's hash of the stored bytes = the
writer's hash of the event object, on every event type."""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import pairwise

import pytest
from freezegun import freeze_time

from aggregates.application import RegistryApp
from aggregates.hashing import event_hash
from aggregates.programme import STAGES, Driver
from aggregates.store import StoreConfig
from audit import proofs, timetravel
from audit.history import entry, log_entries
from audit.merkle import verify_consistency, verify_inclusion
from audit.rows import iter_rows, stream_rows
from projections.views import summarize


@pytest.fixture
def recorded(tmp_path):
    """A platform driven through every stage, with its summary recorded after each command."""
    app = RegistryApp(StoreConfig(f"sqlite:///{tmp_path / 'tt.sqlite3'}"))
    states: dict[int, dict] = {}
    with freeze_time("2024-01-05T03:00:00+00:00"):
        d = Driver(app)
        for stage in STAGES:
            d.to(stage)
            p = app.get_platform(d.pid)
            states[p.version] = summarize(p)
    yield app, d.pid, states
    app.close()


def test_as_of_version_matches_every_recorded_state(recorded) -> None:
    app, pid, states = recorded
    for version, summary in states.items():
        assert timetravel.as_of_version(app, pid, version) == summary


def test_as_of_date_and_instant(recorded) -> None:
    app, pid, states = recorded
    assert timetravel.as_of_date(app, pid, date(2022, 9, 30))["status"] == "in_publicity"
    assert timetravel.as_of_date(app, pid, date(2022, 10, 11))["status"] == "notified"
    last = max(states)
    assert timetravel.as_of_instant(app, pid, datetime(2024, 2, 1, tzinfo=UTC)) == states[last]
    from aggregates.errors import NotFound

    with pytest.raises(NotFound):
        timetravel.as_of_instant(app, pid, datetime(2020, 1, 1, tzinfo=UTC))


def test_diff_between_versions(recorded) -> None:
    app, pid, states = recorded
    versions = sorted(states)
    diff = timetravel.diff_versions(app, pid, versions[0], versions[1])
    assert diff["changes"]["status"] == {"from": "applied", "to": "accepted"}
    assert "name" not in diff["changes"]


def test_history_and_log_carry_integrity_fields(recorded) -> None:
    app, pid, _ = recorded
    items = [entry(row) for row in stream_rows(app, pid)]
    assert [i["sequence"] for i in items] == list(range(1, len(items) + 1))
    assert items[0]["prev_hash"] == "0" * 64
    for a, b in pairwise(items):
        assert b["prev_hash"] == a["hash"]
    first = items[0]
    assert first["type"] == "Applied" and first["role"] == "applicant" and first["business_date"] == "2022-03-01"
    positions = [e["position"] for e in log_entries(app)]
    assert positions == sorted(positions)


def test_stored_bytes_hash_equals_the_writers_hash_on_every_event_type(recorded) -> None:
    from aggregates.hashing import stored_event_hash
    from audit.verify import read_prev_hash

    app, *_ = recorded
    topics = set()
    for row in iter_rows(app):
        n = app.recorder.select_notifications(row.position, 1)[0]
        event = app.mapper.to_domain_event(n)
        assert row.state == n.state and row.id_hex == n.originator_id.hex.encode()
        assert row.chain_hash().hex() == event_hash(row.topic, event.__dict__), row.topic
        assert row.chain_hash().hex() == stored_event_hash(n.topic, n.originator_id, n.originator_version, n.state)
        assert read_prev_hash(row.state) == (event.prev_hash, "")  # read from the bytes = decoded
        topics.add(row.topic)
    assert len(topics) >= 15


def test_as_of_version_uses_the_nearest_snapshot(tmp_path, monkeypatch) -> None:
    """A version past a snapshot replays from the snapshot, not from version 1, in one load."""
    from aggregates.programme import act
    from aggregates.values import ChangeKind, Role

    app = RegistryApp(StoreConfig(f"sqlite:///{tmp_path / 'snap.sqlite3'}"))
    try:
        with freeze_time("2024-01-05T03:00:00+00:00"):
            d = Driver(app).to("under_construction")
            while app.get_platform(d.pid).version < 130:
                r = app.report_change(d.pid, act(Role.APPLICANT, "2023-01-02"), kind=ChangeKind.GOALS,
                                      description="调整", new_value="目标")
                app.decide_change(d.pid, r.extra["change_id"], act(Role.BUREAU, "2023-01-02"),
                                  approved=True, reasons="同意")
        expected = summarize(app.get_platform(d.pid, version=120))
        calls: list[dict] = []
        real = app.repository.event_store.get

        def spy(*args, **kwargs):
            calls.append(kwargs)
            return real(*args, **kwargs)

        monkeypatch.setattr(app.repository.event_store, "get", spy)
        assert timetravel.as_of_version(app, d.pid, 120) == expected
        assert len(calls) == 1 and calls[0].get("gt") == 100 and calls[0].get("lte") == 120
    finally:
        app.close()


def test_proofs_from_the_store_verify(recorded) -> None:
    app, *_ = recorded
    p = proofs.inclusion(app, position=3, size=10)
    assert verify_inclusion(bytes.fromhex(p["leaf_hash"]), p["index"], p["size"],
                            [bytes.fromhex(h) for h in p["proof"]], bytes.fromhex(p["root"]))
    c = proofs.consistency(app, 7, 20)
    assert verify_consistency(7, 20, bytes.fromhex(c["old_root"]), bytes.fromhex(c["new_root"]),
                              [bytes.fromhex(h) for h in c["proof"]])
    flipped = [bytes.fromhex(h) for h in c["proof"]]
    flipped[0] = bytes([flipped[0][0] ^ 1]) + flipped[0][1:]
    assert not verify_consistency(7, 20, bytes.fromhex(c["old_root"]), bytes.fromhex(c["new_root"]), flipped)


def test_publicity_list_at_a_past_position(recorded) -> None:
    app, pid, _ = recorded
    rows = list(iter_rows(app))
    before = next(r.position for r in rows if r.topic.endswith("/Publicized")) - 1
    assert timetravel.publicity_list_at(app, before - 1)["items"] == []
    now = timetravel.publicity_list_at(app, rows[-1].position)
    assert [p["id"] for b in now["items"] for p in b["platforms"]] == [str(pid)]
