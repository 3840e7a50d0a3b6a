"""Rendered reads are reused only while the read models stand at the same positions."""

from __future__ import annotations

from aggregates.store import StoreConfig
from api.read_cache import RenderedReads
from projections.db import make_engine, write_transaction
from projections.runner import read_positions, write_positions
from projections.tables import ensure_schema


def test_a_rendered_body_is_reused_until_a_read_model_moves(tmp_path):
    engine = make_engine(StoreConfig(f"sqlite:///{tmp_path / 'events.sqlite3'}"))
    ensure_schema(engine)
    reads, calls = RenderedReads(), []

    def render():
        calls.append(1)
        return {"items": [len(calls)]}

    with engine.connect() as conn:
        first = reads.body(conn, ("subfields",), render)
    with engine.connect() as conn:
        assert reads.body(conn, ("subfields",), render) == first and len(calls) == 1
        assert reads.body(conn, ("other",), render) != first and len(calls) == 2
    with write_transaction(engine) as conn:
        write_positions(conn, {"ledger": read_positions(conn)["ledger"] + 1})
    with engine.connect() as conn:
        assert reads.body(conn, ("subfields",), render) == b'{"items":[3]}'
    engine.dispose()
