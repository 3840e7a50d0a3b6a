"""Reading an aggregate's events from SQLite in one statement (aggregates.sqlite_reads): the same
events as the library's read, another writer's events seen by the next command, and a store
that cannot be read reported as the library's persistence error (answered 503 over HTTP)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from eventsourcing.persistence import OperationalError
from eventsourcing.sqlite import SQLiteApplicationRecorder

from aggregates.application import RegistryApp
from aggregates.programme import Driver
from aggregates.sqlite_reads import OneStatementEventReads
from aggregates.store import StoreConfig
from aggregates.values import ChangeKind


def _changed(driver: Driver, n: int) -> None:
    driver.programme.change(driver.pid, ChangeKind.GOALS, f"目标{n}", description=f"调整{n}",
                            reported_on="2023-01-06", decided_on="2023-01-06")


def test_the_same_events_as_the_library_reads(tmp_path: Path) -> None:
    app = RegistryApp(StoreConfig(f"sqlite:///{tmp_path / 'events.sqlite3'}"))
    try:
        pid = Driver(app).to("under_construction").pid
        recorder = app.recorder
        assert isinstance(recorder, OneStatementEventReads)
        version = app.get_platform(pid).version
        assert version > 6
        for args in ({}, {"gt": 3}, {"lte": 4}, {"gt": 2, "lte": 5}, {"desc": True}, {"desc": True, "limit": 1},
                     {"gt": 1, "limit": 2}, {"gt": version}):
            ours = recorder.select_events(pid, **args)
            library = SQLiteApplicationRecorder.select_events(recorder, pid, **args)
            assert ours == library, args
        assert [e.originator_version for e in recorder.select_events(pid, gt=2, lte=5)] == [3, 4, 5]
        assert [e.originator_version for e in recorder.select_events(pid, desc=True, limit=2)] == [version, version - 1]
        assert recorder.select_events(pid.hex, gt=version) == []
    finally:
        app.close()


def test_a_command_decides_on_another_writers_events(tmp_path: Path) -> None:
    """Two applications on one file (two processes, say): what one records, the other's next
    command sees, although it holds the platform in its cache."""
    url = f"sqlite:///{tmp_path / 'events.sqlite3'}"
    first, second = RegistryApp(StoreConfig(url)), RegistryApp(StoreConfig(url))
    try:
        driver = Driver(first).to("under_construction")
        cached = second.get_platform(driver.pid).version
        _changed(driver, 1)
        assert second.get_platform(driver.pid).version == cached + 2  # reported and decided
        # A command through the second application is decided on that version, and saved after it.
        other = Driver(second, pid=driver.pid)
        _changed(other, 2)
        assert first.get_platform(driver.pid).version == cached + 4
        assert [c["new_value"] for c in first.get_platform(driver.pid).changes.values()][-2:] == ["目标1", "目标2"]
    finally:
        first.close()
        second.close()


def test_an_unreadable_store_is_the_librarys_operational_error(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite3"
    app = RegistryApp(StoreConfig(f"sqlite:///{path}"))
    try:
        pid = Driver(app).to("accepted").pid
        with sqlite3.connect(path) as conn:
            conn.execute("ALTER TABLE stored_events RENAME TO moved_away")
        with pytest.raises(OperationalError, match="no such table"):
            app.recorder.select_events(pid)
    finally:
        app.close()
