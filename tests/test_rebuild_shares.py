"""How a rebuild's processes share the log (projections/rebuild.py, the event table's
``share_rows``): the database hands each process the rows of its aggregates and every publicity
batch's rows, so every row is replayed by exactly one process, whatever the store; a row whose
id cannot be placed is handed on rather than dropped, so a damaged log fails the rebuild loudly."""

from __future__ import annotations

import sqlite3
from collections import Counter

import pytest
from freezegun import freeze_time

from aggregates.event_table import event_table
from aggregates.event_table.base import share_of
from aggregates.programme import Programme
from cohorts import cohort
from projections.db import make_engine
from projections.rebuild import BATCH_TOPIC, rebuild

NOW = "2026-06-01T02:00:00Z"


def shares(app, parts: int) -> list[list[tuple]]:
    with event_table(app).snapshot() as snapshot:
        end = snapshot.top()
        return [[tuple(row[:4]) for rows in snapshot.share_rows(end, part, parts, BATCH_TOPIC, batch=50)
                 for row in rows] for part in range(parts)]


@pytest.mark.parametrize("parts", [2, 3])
def test_every_row_goes_to_one_process_and_batches_to_all(registry, parts: int) -> None:
    """On SQLite and PostgreSQL, where the database picks the rows."""
    assert_shared_exactly_once(registry, parts)


def test_a_store_in_memory_shares_its_rows_the_same_way(memory_registry) -> None:
    assert_shared_exactly_once(memory_registry, 2)


def assert_shared_exactly_once(registry, parts: int) -> None:
    with freeze_time(NOW):
        cohort(Programme(registry), 1)
    with event_table(registry).snapshot() as snapshot:
        everything = [tuple(row[:4]) for rows in snapshot.rows(0, snapshot.top()) for row in rows]
    given = shares(registry, parts)
    batch_rows = [row for row in everything if row[3].startswith(BATCH_TOPIC)]
    assert batch_rows and all(set(batch_rows) <= set(share) for share in given)
    seen = Counter(row for share in given for row in share if not row[3].startswith(BATCH_TOPIC))
    assert set(seen) == set(everything) - set(batch_rows) and set(seen.values()) == {1}
    for part, share in enumerate(given):
        assert share == sorted(share)  # in log order
        assert all(share_of(row[1], parts) == part for row in share if not row[3].startswith(BATCH_TOPIC))
        assert len(share) < len(everything)  # the others' rows are not fetched


def test_a_row_whose_id_cannot_be_placed_is_handed_on_and_fails_the_rebuild(tmp_path) -> None:
    from aggregates.application import RegistryApp
    from aggregates.store import StoreConfig

    app = RegistryApp(store=StoreConfig(f"sqlite:///{tmp_path / 'store.sqlite3'}"))
    try:
        with freeze_time(NOW):
            cohort(Programme(app), 1, size=2)
        conn = sqlite3.connect(app.store.sqlite_path)
        with conn:  # a damaged id: not 32 hex digits
            conn.execute(f"UPDATE {app.recorder.events_table_name} SET originator_id = 'not-an-id-zz' "
                         "WHERE rowid = (SELECT MAX(rowid) FROM "
                         f"{app.recorder.events_table_name} WHERE topic LIKE '%/Platform/%')")
        conn.close()
        given = shares(app, 2)
        damaged = [row for share in given for row in share if row[1] == b"not-an-id-zz"]
        assert len(damaged) == 2  # both processes get it: neither drops it unseen
        engine = make_engine(app.store)
        try:
            with pytest.raises(ValueError):
                rebuild(app, engine, workers=1)
        finally:
            engine.dispose()
    finally:
        app.close()
