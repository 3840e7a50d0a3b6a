"""Rebuilding read models from the beginning of the log (读模型重建).

``platforms projections rebuild [NAME]`` replays the whole log into shadow tables
(``<table>__new``), then swaps them in, with the model's position, in one transaction: readers
see the old model or the new one, never a half-built one. The event store is only read; a
schema change of a read model is a code change plus a rebuild, never a hand migration.
"""

from __future__ import annotations

import logging
from typing import Callable, Iterable

import sqlalchemy as sa
from eventsourcing.application import Application

from .db import write_transaction
from .projector import Projector
from .runner import log_batches, max_position, read_positions, write_positions
from .tables import MODEL_TABLES, MODELS, SHADOW, build_metadata, create_indexes, ensure_schema

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


def _check_names(names: Iterable[str] | None) -> tuple[str, ...]:
    if not names:
        return MODELS
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        raise ValueError(f"unknown read model(s) {', '.join(unknown)}; known: {', '.join(MODELS)}")
    return tuple(m for m in MODELS if m in set(names))


def rebuild(
    app: Application, engine: sa.Engine, names: list[str] | None = None, progress: Progress | None = None,
    read_chunk: int = 5000, flush_every: int = 20000, cache_size: int | None = 4096,
) -> dict[str, int]:
    """Rebuild ``names`` (default: every model) from position 0 and swap them in. Returns the
    position each rebuilt model stands at. ``progress(done, total)`` is called as it goes."""
    models = _check_names(names)
    ensure_schema(engine)
    shadow_md, shadow = build_metadata(SHADOW, models)
    with write_transaction(engine) as conn:
        # Leftovers of an interrupted rebuild are worthless: start clean.
        shadow_md.drop_all(conn, checkfirst=True)
        shadow_md.create_all(conn)
    projector = Projector(app, models, cache_size=cache_size)
    projector.bind(shadow)
    total = max_position(app)
    position = 0
    done = 0
    since_flush = 0
    for notifications in log_batches(app, position, read_chunk):
        for n in notifications:
            projector.process_notification(n)
        position = notifications[-1].id
        done += len(notifications)
        since_flush += len(notifications)
        if since_flush >= flush_every:
            with write_transaction(engine) as conn:
                projector.flush(conn)
            since_flush = 0
        if progress is not None:
            total = max(total, position)
            progress(position, total)
    with write_transaction(engine) as conn:
        # Lock the positions first: a runner mid-batch finishes before the swap, and one that
        # starts later waits for it, then reads the rebuilt models' positions.
        read_positions(conn, models, lock=True)
        # Events committed while we were replaying: apply them inside the swap transaction.
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
    if progress is not None:
        progress(position, max(total, position))
    log.info("read models rebuilt", extra={"models": list(models), "position": position,
                                           "cache_misses": projector.cache_misses})
    return {m: position for m in models}


__all__ = ["rebuild"]
