"""Rendered reads are reused only while the read models stand at the same positions."""

from __future__ import annotations

from aggregates.store import StoreConfig
from api.http_caching import entity_tag
from api.read_cache import RenderedReads
from projections.db import make_engine, write_transaction
from projections.runner import read_positions, write_positions
from support import migrated


def test_a_rendered_body_is_reused_until_a_read_model_moves(tmp_path):
    engine = make_engine(StoreConfig(migrated(f"sqlite:///{tmp_path / 'events.sqlite3'}")))
    reads, calls = RenderedReads(), []

    def render():
        calls.append(1)
        return {"items": [len(calls)]}

    with engine.connect() as conn:
        first = reads.tagged(conn, ("subfields",), render).body
    with engine.connect() as conn:
        assert reads.tagged(conn, ("subfields",), render).body == first and len(calls) == 1
        assert reads.tagged(conn, ("other",), render).body != first and len(calls) == 2
    with write_transaction(engine) as conn:
        write_positions(conn, {"ledger": read_positions(conn)["ledger"] + 1})
    with engine.connect() as conn:
        assert reads.tagged(conn, ("subfields",), render).body == b'{"items":[3]}'
    engine.dispose()


def test_with_the_runner_in_process_a_body_is_keyed_on_its_published_position(tmp_path):
    """A cache hit needs no database: it is current while the runner has applied nothing new;
    a client asking for a later position than the runner's never gets a cached body."""
    engine = make_engine(StoreConfig(migrated(f"sqlite:///{tmp_path / 'events.sqlite3'}")))

    class Runner:
        position = 7

    runner, reads, calls = Runner(), RenderedReads(), []
    reads.follow(runner)

    def render():
        calls.append(1)
        return {"items": [len(calls)]}

    assert reads.peek(("subfields",)) is None
    with engine.connect() as conn:
        first = reads.tagged(conn, ("subfields",), render)
    assert first.body == b'{"items":[1]}' and first.etag == entity_tag(first.body)
    assert reads.peek(("subfields",)) == first and reads.peek(("subfields",), min_position=7) == first
    assert reads.peek(("subfields",), min_position=8) is None
    with engine.connect() as conn:  # tables ahead of this runner (another process): fresh, not kept
        assert reads.tagged(conn, ("subfields",), render, min_position=8).body == b'{"items":[2]}'
    assert reads.peek(("subfields",)) == first
    runner.position = 8
    assert reads.peek(("subfields",)) is None
    with engine.connect() as conn:
        assert reads.tagged(conn, ("subfields",), render).body == b'{"items":[3]}'
    reads.follow(None)
    assert reads.peek(("subfields",)) is None  # without a runner in process: the positions table
    engine.dispose()
