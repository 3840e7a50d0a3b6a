"""Large programme stores for the benchmarks, made from a seed generated through the commands.

Writing a million events through the commands takes hours on a shared two-core machine (one
core-millisecond or more per event: each command loads, decides, hashes, seals and commits).
A rebuild's cost depends on how many events of which kinds it replays, not on who wrote them, so
the large stores are copies of a seed programme (``tests/cohorts.py`` through the commands):

* :func:`replicate` writes the seed's stored events again and again, each copy with every
  aggregate id replaced by a fresh one (in the rows and wherever a state names an id: a batch's
  platforms, a seat's holder, a platform's batch), until the log holds ``events`` events, then
  seals the log as a store written before the seal existed is sealed. Each copy is a programme of
  its own (its own platforms, batches and seats), so the read models grow as with generated
  cohorts. The events' ``prev_hash`` are the seed's: the copies' hash chains do not verify, so
  such a store is for rebuild and read benchmarks only, never for ``audit verify``.
* :func:`copy_to_postgres` copies a SQLite programme row for row (events, snapshots and seal)
  into a PostgreSQL schema, so both stores are measured on the same log.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from datetime import UTC, datetime

from aggregates.application import RegistryApp
from aggregates.event_table import event_table
from aggregates.store import StoreConfig

# An id as a state names it: 32 hex digits (``uuid_hex``) or the dashed form (a ``str(UUID)``).
_ID = re.compile(rb"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")
_NAMESPACE = uuid.UUID("6f1c3b9e-5d0a-4c1e-9a57-0b3f0c2d8e41")
_CHUNK = 20_000


def replicate(seed_url: str, url: str, events: int) -> int:
    """Fill the SQLite store ``url`` (created here) with copies of the events of the SQLite
    store ``seed_url`` until it holds exactly ``events`` events; returns that count."""
    seed = sqlite3.connect(f"file:{StoreConfig(seed_url).sqlite_path}?mode=ro", uri=True)
    rows = seed.execute("SELECT originator_id, originator_version, topic, state FROM stored_events "
                        "ORDER BY rowid").fetchall()
    seed.close()
    ids = {oid.encode() for oid, _, _, _ in rows}
    app = RegistryApp(StoreConfig(url))  # the tables, as the application makes them
    path = app.store.sqlite_path
    app.close()
    out = sqlite3.connect(path)
    written, copy = 0, 0
    while written < events:
        fresh = {old: uuid.uuid5(_NAMESPACE, f"{copy}:{old.decode()}") for old in ids}

        def renamed(match: re.Match[bytes], fresh: dict[bytes, uuid.UUID] = fresh) -> bytes:
            text = match.group(0)
            new = fresh.get(text.replace(b"-", b""))
            if new is None:
                return text  # not an aggregate's id
            return (str(new) if len(text) == 36 else new.hex).encode()

        batch = []
        for oid, version, topic, state in rows[: events - written]:
            batch.append((fresh[oid.encode()].hex, version, topic, _ID.sub(renamed, bytes(state))))
            if len(batch) == _CHUNK:
                out.executemany("INSERT INTO stored_events VALUES (?, ?, ?, ?)", batch)
                batch.clear()
        out.executemany("INSERT INTO stored_events VALUES (?, ?, ?, ?)", batch)
        out.commit()
        written += min(len(rows), events - written)
        copy += 1
    out.execute("DELETE FROM audit_log_seal")  # none yet: sealed whole below
    out.commit()
    out.close()
    app = RegistryApp(StoreConfig(url))
    try:
        event_table(app).seal_unsealed(written, datetime.now(UTC).isoformat(timespec="microseconds"))
    finally:
        app.close()
    return written


def copy_to_postgres(sqlite_url: str, pg_url: str) -> int:
    """Copy the events, snapshots and seal of the SQLite store ``sqlite_url`` into the (empty)
    PostgreSQL store ``pg_url``; returns the number of events."""
    import psycopg
    from psycopg.sql import SQL, Identifier

    app = RegistryApp(StoreConfig(pg_url))  # the tables, as the application makes them
    events_table = app.recorder.events_table_name
    snapshots_table = events_table.replace("_events", "_snapshots")
    app.close()
    env = StoreConfig(pg_url).eventsourcing_env()
    schema = env["POSTGRES_SCHEMA"]
    source = sqlite3.connect(f"file:{StoreConfig(sqlite_url).sqlite_path}?mode=ro", uri=True)
    n = 0
    with psycopg.connect(host=env["POSTGRES_HOST"], port=int(env["POSTGRES_PORT"]), user=env["POSTGRES_USER"],
                         dbname=env["POSTGRES_DBNAME"]) as conn:
        with conn.cursor() as cur:
            with cur.copy(SQL("COPY {} (notification_id, originator_id, originator_version, topic, state) "
                              "FROM STDIN").format(Identifier(schema, events_table))) as copy:
                for pos, oid, version, topic, state in source.execute(
                        "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events "
                        "ORDER BY rowid"):
                    copy.write_row((pos, uuid.UUID(hex=oid), version, topic, state))
                    n += 1
            with cur.copy(SQL("COPY {} (originator_id, originator_version, topic, state) FROM STDIN").format(
                    Identifier(schema, snapshots_table))) as copy:
                for oid, version, topic, state in source.execute(
                        "SELECT originator_id, originator_version, topic, state FROM stored_snapshots"):
                    copy.write_row((uuid.UUID(hex=oid), version, topic, state))
            with cur.copy(SQL("COPY {} (seq, first_index, first_position, count, leaves, streams, sealed_at) "
                              "FROM STDIN").format(Identifier(schema, "audit_log_seal"))) as copy:
                for row in source.execute("SELECT seq, first_index, first_position, count, leaves, streams, "
                                          "sealed_at FROM audit_log_seal ORDER BY seq"):
                    copy.write_row(row)
            cur.execute(SQL("SELECT setval(pg_get_serial_sequence({}, 'notification_id'), %s)").format(
                psycopg.sql.Literal(f"{schema}.{events_table}")), [n])
    source.close()
    return n


__all__ = ["replicate", "copy_to_postgres"]
