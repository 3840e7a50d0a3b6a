"""Reading stored events (aggregates/hashing.ChainMapper, aggregates/transcodings): every event a
programme records, and every event stored in an older shape, reads back exactly as the
library's own mapper and JSON decoder read it (README, "Performance": rebuild, which replaced
both on the read path)."""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.persistence import JSONTranscoder, Mapper, MapperDeserialisationError, StoredEvent

from aggregates.hashing import STORED_HASH, ChainMapper, stored_event_hash
from aggregates.programme import Programme
from cohorts import cohort
from test_event_evolution import store_v1_rows


def library_reading(app: Any) -> Mapper:
    """The library's mapper over the library's JSON decoder, with the registry's transcodings."""
    transcoder = JSONTranscoder()
    transcoder.types, transcoder.names = app.mapper.transcoder.types, app.mapper.transcoder.names
    return Mapper(transcoder=transcoder)


def stored_events(app: Any) -> list[StoredEvent]:
    return [StoredEvent(n.originator_id, n.originator_version, n.topic, bytes(n.state))
            for n in app.recorder.select_notifications(start=1, limit=100_000)]


def test_every_recorded_event_reads_back_as_the_librarys_mapper_reads_it(registry) -> None:
    pid = store_v1_rows(registry)  # objections stored in their first shape, upcast on reading
    cohort(Programme(registry), 7)  # and every kind of ending: each event type of the procedure
    library, ours = library_reading(registry), registry.mapper
    assert isinstance(ours, ChainMapper)
    rows = stored_events(registry)
    topics = {row.topic for row in rows}
    assert {"platform-registry/Platform/Objected", "platform-registry/Platform/Funded",
            "platform-registry/Platform/Terminated", "platform-registry/SubfieldSeat/Occupied"} <= topics
    upcast = 0
    for row in rows:
        expected, got = library.to_domain_event(row), ours.to_domain_event(row)
        assert type(got) is type(expected)
        if getattr(type(got), "class_version", 1) > 1:
            # the stored row's own hash, which the next event names (test_event_evolution)
            assert got.__dict__.pop(STORED_HASH) == stored_event_hash(row.topic, row.originator_id,
                                                                      row.originator_version, row.state)
            upcast += row.originator_id == pid
        assert got.__dict__ == expected.__dict__ and list(got.__dict__) == list(expected.__dict__)
    assert upcast == 2  # the fixture's two version-1 objections went through the upcaster


def test_an_unreadable_stored_event_is_refused_as_the_library_refuses_it(registry) -> None:
    cohort(Programme(registry), 7, size=1)
    row = stored_events(registry)[0]
    broken = StoredEvent(row.originator_id, row.originator_version, row.topic, row.state[:-5])
    with pytest.raises(MapperDeserialisationError) as ours:
        registry.mapper.to_domain_event(broken)
    with pytest.raises(MapperDeserialisationError) as library:
        library_reading(registry).to_domain_event(broken)
    assert str(ours.value).split(": ")[0] == str(library.value).split(": ")[0]
    assert row.topic in str(ours.value) and str(row.originator_id) in str(ours.value)
