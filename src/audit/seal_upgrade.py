"""Sealing a log written before the log seal existed (an upgrade, done once).

A store whose events were all written by an earlier version of the registry has an empty seal:
the verifier reports every event as unsealed. The designated signer seals such a log at
start-up, once, and only when the log verifies in every other respect (chains, versions, every
signed checkpoint) and every one of its events is unsealed: a partly sealed log means events were
written behind the application's back, which is reported, never sealed over. The seal is
written in one transaction holding the writers' lock, after re-counting the log, so no write can
slip in between the count and the seal.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from aggregates.log_seal import TABLE, seal_rows

from .rows import store_kind
from .verify import VerifyReport

__all__ = ["needs_sealing", "seal_existing_log"]

log = logging.getLogger(__name__)

CHUNK = 1000  # events per seal row written by the upgrade


def needs_sealing(report: VerifyReport) -> bool:
    """Whether ``report`` shows an intact log none of whose events is sealed."""
    return (report.events_checked > 0 and report.failure_count == report.events_checked
            and all(f.code == "event_unsealed" for f in report.failures))


def seal_existing_log(app: Any, expected: int, sealed_at: str) -> int:
    """Seal the ``expected`` events of a log whose seal is empty; returns how many were sealed
    (0 when the log or its seal changed since it was verified: nothing is written then)."""
    kind = store_kind(app)
    table = app.recorder.events_table_name
    if kind == "sqlite":
        conn = sqlite3.connect(app.store.sqlite_path, timeout=30, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")  # the writers' lock, held until the seal is written
            done = _seal(conn.cursor(), f"SELECT rowid, originator_id, originator_version, topic, state "  # noqa: S608 - fixed names
                         f"FROM {table} ORDER BY rowid", TABLE, table, "?", expected, sealed_at)
            conn.execute("COMMIT" if done else "ROLLBACK")
            return done
        finally:
            conn.close()
    if kind == "postgres":
        schema = app.recorder.datastore.schema
        events, seal = f'"{schema}".{table}', f'"{schema}".{TABLE}'
        with app.recorder.datastore.transaction(commit=True) as cur:
            cur.execute(f"LOCK TABLE {events} IN EXCLUSIVE MODE")  # as the library's writers take it
            return _seal(_TupleCursor(cur), f"SELECT notification_id, replace(originator_id::text, '-', ''), "  # noqa: S608 - fixed names
                         f"originator_version, topic, state FROM {events} ORDER BY notification_id",
                         seal, events, "%s", expected, sealed_at)
    return 0


class _TupleCursor:
    """The library's PostgreSQL cursor hands rows over as dicts; the upgrade reads tuples."""

    def __init__(self, cur: Any) -> None:
        self.cur = cur

    def execute(self, sql: str, params: Any = ()) -> _TupleCursor:
        self.cur.execute(sql, params)
        return self

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        self.cur.executemany(sql, rows)

    def fetchone(self) -> tuple[Any, ...]:
        return tuple(self.cur.fetchone().values())

    def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        return [tuple(row.values()) for row in self.cur.fetchmany(size)]


def _seal(cur: Any, select: str, seal: str, events: str, ph: str, expected: int, sealed_at: str) -> int:
    (count,) = cur.execute(f"SELECT COUNT(*) FROM {events}").fetchone()  # noqa: S608 - fixed names
    (already,) = cur.execute(f"SELECT COUNT(*) FROM {seal}").fetchone()  # noqa: S608 - fixed names
    if count != expected or already:
        log.warning("log not sealed: it changed since it was verified",
                    extra={"events": count, "verified": expected, "seal_rows": already})
        return 0
    seq = index = 0
    out: list[tuple[Any, ...]] = []  # the seal rows: hashes and names only, never the states
    cur.execute(select)
    while rows := cur.fetchmany(CHUNK):
        chunk = [(pos, _text(oid), ver, _text(topic), bytes(state)) for pos, oid, ver, topic, state in rows]
        for first, n, leaves, names, at in seal_rows(chunk, sealed_at):
            seq += 1
            out.append((seq, index, first, n, leaves, names, at))
            index += n
    cur.executemany(f"INSERT INTO {seal} (seq, first_index, first_position, count, leaves, streams, sealed_at) "  # noqa: S608 - fixed names
                    f"VALUES ({', '.join([ph] * 7)})", out)
    log.warning("sealed a log written before the seal existed",
                extra={"events": count, "seal_rows": seq})
    return count


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
