"""Group commits decided on cached aggregates while nothing else writes to the log
(aggregates.log_head): a command on a cached platform reads nothing from the store, and whatever
another writer records (on the same platform, on another one, on an aggregate the command only
reads) is seen: the write, or for a refusal a read of the log's head, shows the log moved, and the
command is decided again on the store's state."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from aggregates.application import RegistryApp
from aggregates.errors import InvalidInput
from aggregates.log_head import LogMoved
from aggregates.programme import Driver, Programme, act
from aggregates.store import StoreConfig
from aggregates.values import ChangeKind, Role

POLICY = "长科发〔2021〕36号"
NEW = "具身智能"


def _changed(driver: Driver, n: int) -> None:
    driver.programme.change(driver.pid, ChangeKind.GOALS, f"目标{n}", description=f"调整{n}",
                            reported_on="2023-01-06", decided_on="2023-01-06")


@pytest.fixture
def two_apps(tmp_path: Path):
    """Two applications on one file, as two processes would be."""
    url = f"sqlite:///{tmp_path / 'events.sqlite3'}"
    first, second = RegistryApp(StoreConfig(url)), RegistryApp(StoreConfig(url))
    yield first, second
    first.close()
    second.close()


def _count_reads(app: RegistryApp, monkeypatch) -> list[object]:
    reads: list[object] = []
    original = type(app.recorder).select_events

    def select_events(recorder, originator_id, **kwargs):
        reads.append(originator_id)
        return original(recorder, originator_id, **kwargs)

    monkeypatch.setattr(app.recorder, "select_events", select_events.__get__(app.recorder))
    return reads


def test_a_command_on_a_cached_platform_reads_nothing_from_the_store(two_apps, monkeypatch) -> None:
    app, _ = two_apps
    driver = Driver(app).to("under_construction")
    version = app.get_platform(driver.pid).version
    reads = _count_reads(app, monkeypatch)
    _changed(driver, 1)
    assert reads == []  # reported and decided, both on the copy the previous command saved
    assert app.get_platform(driver.pid).version == version + 2
    assert [c["new_value"] for c in app.get_platform(driver.pid).changes.values()] == ["目标1"]


def test_another_writers_event_on_the_same_platform_is_decided_on(two_apps, caplog) -> None:
    first, second = two_apps
    driver = Driver(first).to("under_construction")
    version = first.get_platform(driver.pid).version
    _changed(Driver(second, pid=driver.pid), 1)
    with caplog.at_level(logging.INFO, logger="aggregates.committer"):
        _changed(driver, 2)
    assert "log moved under a group" in caplog.text
    platform = second.get_platform(driver.pid)
    assert platform.version == version + 4
    assert [c["new_value"] for c in platform.changes.values()] == ["目标1", "目标2"]


def test_another_writers_event_elsewhere_makes_the_group_decide_again(two_apps, caplog) -> None:
    """A write to another aggregate does not conflict with the group's, but the group decided on
    copies the log may have outdated: its write is refused and it is decided again."""
    first, second = two_apps
    driver = Driver(first).to("under_construction")
    Driver(second).to("applied")
    with caplog.at_level(logging.INFO, logger="aggregates.committer"):
        _changed(driver, 1)
    assert "log moved under a group" in caplog.text
    assert [c["new_value"] for c in first.get_platform(driver.pid).changes.values()] == ["目标1"]
    assert first.committer._known.head == first.recorder.log_head()  # known again from that write on


def test_a_refusal_decided_on_an_outdated_copy_is_decided_again(two_apps) -> None:
    """The first application knows no subfield was admitted; the second admits one; an application
    in it through the first is not refused on what the first knew, but recorded."""
    first, second = two_apps
    Driver(first).to("applied")
    with pytest.raises(InvalidInput):
        Programme(first).apply(NEW)  # refused on the store's state: nothing admitted yet
    second.admit_subfield(act(Role.BUREAU, "2022-02-15", "长科发〔2022〕8号"), name=NEW, reasons="增列")
    pid = Programme(first).apply(NEW)
    assert first.get_platform(pid).subfield == NEW


def test_a_write_that_does_not_follow_the_head_it_names_is_rolled_back(two_apps) -> None:
    first, second = two_apps
    driver = Driver(first).to("under_construction")
    head, stored = first.recorder.log_head(), len(first.recorder.select_events(driver.pid))
    Driver(second).to("applied")
    platform = first.get_platform(driver.pid)
    platform.report_change(ChangeKind.GOALS, "调整", "目标",
                           act(Role.APPLICANT, "2023-01-06", who=driver.programme.applicants[driver.pid]))
    with pytest.raises(LogMoved):
        first.committer._save([platform], head)
    assert len(first.recorder.select_events(driver.pid)) == stored  # rolled back, seal and all
    assert first.recorder.log_head() == second.recorder.log_head()
