"""Rebuilding read models from the beginning of the log (读模型重建).

``platforms projections rebuild [NAME]`` replays the whole log into shadow tables
(``<table>__new``), then swaps them in, with the model's position, in one transaction: readers
see the old model or the new one, never a half-built one. The event store is only read; a
schema change of a read model is a code change plus a rebuild, never a hand migration.

A long log is replayed by several processes at once (``workers``, default: one per CPU for logs
of :data:`PARALLEL_FROM` events or more). Each reads the whole log but decodes and projects only
the events of its share of the aggregates (by id), so each process replays its aggregates in
order, exactly as one process would. No read model needs two platforms at once: a platform's
rows come from its own events, a seat's from its own, and every process follows every publicity
batch (few events), whose rows one of them writes. All write into the same shadow tables, each
row by exactly one process; the swap, and the events recorded meanwhile, are the parent's.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.application import Application

from aggregates.event_table import event_table
from aggregates.existing_store import reopen_in_child

from .db import make_engine, write_transaction
from .failures import clear as clear_failures
from .projector import IGNORED_TOPIC_PREFIXES, Projector
from .runner import log_batches, max_position, read_positions, write_positions
from .tables import MODEL_TABLES, MODELS, SHADOW, build_metadata, create_indexes

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

# Below this many events a second process costs more (its start, a second read of the log) than
# it saves.
PARALLEL_FROM = 50_000
BATCH_TOPIC = b"platform-registry/PublicityBatch/"


class _StoredRow(NamedTuple):
    """A stored event as the projector and the mapper read it (a notification's fields): a
    tuple, since making the library's frozen ``Notification`` cost a replay more than a
    microsecond per event."""

    id: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes


def _check_names(names: Iterable[str] | None) -> tuple[str, ...]:
    if not names:
        return MODELS
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        raise ValueError(f"unknown read model(s) {', '.join(unknown)}; known: {', '.join(MODELS)}")
    return tuple(m for m in MODELS if m in set(names))


def rebuild(
    app: Application, engine: sa.Engine, names: list[str] | None = None, progress: Progress | None = None,
    read_chunk: int = 5000, flush_every: int = 20000, cache_size: int | None = 4096, workers: int | None = None,
) -> dict[str, int]:
    """Rebuild ``names`` (default: every model) from position 0 and swap them in. Returns the
    position each rebuilt model stands at. ``progress(done, total)`` is called as it goes.
    ``workers``: processes replaying the log (default: one per CPU, on a long log)."""
    models = _check_names(names)
    shadow_md, shadow = build_metadata(SHADOW, models)
    with write_transaction(engine) as conn:
        # Leftovers of an interrupted rebuild are worthless: start clean.
        shadow_md.drop_all(conn, checkfirst=True)
        shadow_md.create_all(conn)
    end = max_position(app)
    parts = _parts(app, end, workers)
    helpers = [_start_helper(app, models, part, parts, end, read_chunk, flush_every, cache_size)
               for part in range(1, parts)]
    projector = Projector(app, models, cache_size=cache_size)
    projector.bind(shadow)
    try:
        position = _replay(app, engine, projector, end, 0, parts, read_chunk, flush_every, progress)
    except BaseException:
        for helper in helpers:
            helper.terminate()
        raise
    finally:
        for helper in helpers:
            helper.join()
    failed = [h.exitcode for h in helpers if h.exitcode != 0]
    if failed:
        raise RuntimeError(f"a rebuild process failed (exit codes {failed}); the live read models are untouched")
    with write_transaction(engine) as conn:
        # Lock the positions first: a runner mid-batch finishes before the swap, and one that
        # starts later waits for it, then reads the rebuilt models' positions.
        read_positions(conn, models, lock=True)
        # Events committed while we were replaying, of every aggregate: apply them inside the
        # swap transaction (an aggregate another process replayed is loaded from the store).
        for notifications in log_batches(app, position, read_chunk):
            for n in notifications:
                projector.process_notification(n)
            position = notifications[-1].id
        projector.flush(conn)
        for model in models:
            for table in MODEL_TABLES[model]:
                conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table}"'))
                conn.execute(sa.text(f'ALTER TABLE "{table}{SHADOW}" RENAME TO "{table}"'))
                if conn.dialect.name == "postgresql":
                    # Constraint indexes keep their names across a table rename, and index
                    # names are unique per schema: give the primary key its live name back.
                    conn.execute(sa.text(f'ALTER INDEX "{table}{SHADOW}_pkey" RENAME TO "{table}_pkey"'))
            create_indexes(conn, list(MODEL_TABLES[model]))
        write_positions(conn, {m: position for m in models})
        clear_failures(conn, models)  # rebuilt from the whole log: past any event a runner stopped at
    if progress is not None:
        progress(position, max(end, position))
    log.info("read models rebuilt", extra={"models": list(models), "position": position, "processes": parts,
                                           "cache_misses": projector.cache_misses})
    return {m: position for m in models}


def _parts(app: Application, end: int, workers: int | None) -> int:
    """How many processes replay the log: forking is how a helper gets the application, so
    only where the platform forks, and only for a store another process can open."""
    if event_table(app).in_memory or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if workers is None:
        workers = (os.cpu_count() or 1) if end >= PARALLEL_FROM else 1
    return max(1, workers)


def _replay(
    app: Application, engine: sa.Engine, projector: Projector, end: int, part: int, parts: int,
    read_chunk: int, flush_every: int, progress: Progress | None,
) -> int:
    """Project this process's share of the log up to position ``end`` into the shadow tables,
    committing every ``flush_every`` events; returns the last position read.

    The log is read as stored rows (the event table's raw reader: one consistent snapshot, ids
    and topics as bytes), so the rows of other processes' aggregates cost a comparison, not a
    decoded event. Every process follows the publicity batches (the publicity list needs each
    platform's batch); only the first writes their rows."""
    position = since_flush = 0
    batch_rows = () if part else None
    ignored = tuple(prefix.encode() for prefix in IGNORED_TOPIC_PREFIXES)
    # Per aggregate, its id parsed once for all its events, or None where another process
    # replays it: a platform has some thirty events, and parsing a UUID costs more than the
    # lookup (README, "Performance": rebuild).
    owned: dict[bytes, UUID | None] = {}
    topics: dict[bytes, str] = {}
    with event_table(app).snapshot() as snapshot, _collected_at_flushes():
        for rows in snapshot.rows(0, end, batch=read_chunk):
            for pos, oid, version, topic, state in rows:
                if topic.startswith(ignored):
                    continue
                is_batch = topic.startswith(BATCH_TOPIC)
                try:
                    uid = owned[oid]
                except KeyError:
                    mine = is_batch or parts == 1 or int(oid, 16) % parts == part
                    uid = owned[oid] = UUID(hex=oid.decode()) if mine else None
                if uid is None:
                    continue
                name = topics.get(topic)
                if name is None:
                    name = topics[topic] = topic.decode()
                n = _StoredRow(pos, uid, version, name, state)
                projector.process_notification(n, batch_rows if is_batch else None)
                since_flush += 1
            position = rows[-1][0]
            if since_flush >= flush_every:
                # Rendered before the write lock, which the other processes wait for meanwhile:
                # rendered under it, they waited 0.4 s in a 200,000-event rebuild (README).
                projector.render()
                with write_transaction(engine) as conn:
                    projector.flush(conn)
                since_flush = 0
                gc.collect(1)
            if progress is not None:
                progress(position, end)
    projector.render()
    with write_transaction(engine) as conn:
        projector.flush(conn)
    return end


@contextmanager
def _collected_at_flushes() -> Iterator[None]:
    """The cyclic garbage collector off while replaying, and the young generations collected at
    each flush instead. A replay allocates some twenty objects per event and keeps most of them
    (the aggregate copies): the automatic collector traversed each several times as it aged,
    0.5-0.9 s of CPU in 200,000 events (README, "Performance": rebuild), where one young
    collection per flush traverses each object once and still frees any cycle a batch made."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _start_helper(app: Application, models: tuple[str, ...], part: int, parts: int, end: int, read_chunk: int,
                  flush_every: int, cache_size: int | None) -> multiprocessing.process.BaseProcess:
    helper = multiprocessing.get_context("fork").Process(
        target=_helper_main, args=(app, models, part, parts, end, read_chunk, flush_every, cache_size),
        name=f"rebuild-{part}-of-{parts}", daemon=True)
    helper.start()
    return helper


def _helper_main(parent_app: Any, models: tuple[str, ...], part: int, parts: int, end: int, read_chunk: int,
                 flush_every: int, cache_size: int | None) -> None:
    """A forked helper, on the parent's store opened afresh (it only reads the store)."""
    app = reopen_in_child(parent_app)
    engine = make_engine(app.store)
    try:
        projector = Projector(app, models, cache_size=cache_size)
        projector.bind(build_metadata(SHADOW, models)[1])
        _replay(app, engine, projector, end, part, parts, read_chunk, flush_every, None)
    finally:
        engine.dispose()
        app.close()


__all__ = ["rebuild"]
