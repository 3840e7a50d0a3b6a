"""The log seal (日志封存记录): what each committed write put in the log, written in the same
transaction as its events, so that removing or changing any stored event is caught where it
happened.

The per-stream hash chain (:mod:`aggregates.hashing`) catches a changed or removed event only
when a later event of the same stream links to it: the last event of a stream (a platform's
``Funded``), and the last row of the whole log, have no successor. The seal closes that gap. For
every transaction that stores events, the recorder adds one row to ``audit_log_seal``:

* ``seq``: 1, 2, 3... without gaps (one per committed write);
* ``first_index``, ``count``: the events' ordinals in the log (the Merkle leaf indices), so
  ``first_index`` of each row is ``first_index + count`` of the one before;
* ``first_position``: the log position of the first; the write's positions are contiguous;
* ``leaves``: the events' leaf hashes (32 bytes each, :func:`~aggregates.hashing.chain_bytes`),
  the same hashes the verifier recomputes from the stored rows;
* ``streams``: for each event ``"<id hex> <version> <topic>"``, one per line, so that a removed
  event can be named (which platform, which version, which kind of event);
* ``sealed_at``: when the write was sealed (UTC).

The verifier (:mod:`audit.verify`) reads the seal beside the events in one snapshot: a sealed
event missing from the log is a deletion at its position, a stored event whose hash differs
from its seal was altered, an event with no seal was written behind the application's back,
and a gap in ``seq`` or ``first_index`` means seal rows were removed. Only the last seal rows
together with their events can vanish without a trace in the store itself: that is what the
signed checkpoints and their witnesses are for (docs/AUDIT.md, "What catches what").

The recorders are the library's own, with the seal added inside their insert: on SQLite in the
same write transaction (here), on PostgreSQL after the insert under the library's
``LOCK TABLE ... IN EXCLUSIVE MODE`` (:mod:`aggregates.log_seal_postgres`, apart so that a
process on SQLite does not import psycopg), so seal rows are written in commit order.

A log written before the seal existed is sealed once, whole (:func:`seal_existing`), by the
designated signer (:mod:`audit.seal_upgrade` says when).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from .log_head import check_head
from .sqlite_reads import OneStatementEventReads
from .writable import insert_retrying_read_only

__all__ = ["INSERT", "TABLE", "SealedSQLiteRecorder", "seal_existing", "seal_rows", "sealed_events", "now",
           "stream_line"]

log = logging.getLogger(__name__)

TABLE = "audit_log_seal"
CHUNK = 1000  # events per seal row written by :func:`seal_existing`
_COLUMNS = "seq, first_index, first_position, count, leaves, streams, sealed_at"

# One statement computes the row's place from the row before, so the write needs no round trip
# to read it first (and in PostgreSQL's pipeline mode nothing waits for a result). Two scalar
# subqueries, each one index lookup: on SQLite a join with the last row as a subquery cost twice
# as much per write (92 µs against 46 µs, measured inside the lifecycle benchmark).
INSERT = (
    "INSERT INTO {table} (" + _COLUMNS + ") VALUES ("  # noqa: S608 - fixed names
    "COALESCE((SELECT MAX(seq) FROM {table}), 0) + 1, "
    "COALESCE((SELECT first_index + count FROM {table} ORDER BY seq DESC LIMIT 1), 0), "
    "{p}, {p}, {p}, {p}, {p})"
)


def stream_line(oid: bytes | str, version: int, topic: bytes | str) -> str:
    """How the seal names one event: ``"<id hex> <version> <topic>"``."""
    o = oid.decode("ascii", "replace") if isinstance(oid, bytes) else oid
    t = topic.decode("utf-8", "replace") if isinstance(topic, bytes) else topic
    return f"{o} {version} {t}"


def _hex(originator_id: UUID | str) -> str:
    return originator_id.hex if isinstance(originator_id, UUID) else UUID(str(originator_id)).hex


def seal_rows(events: Sequence[tuple[int, str, int, str, bytes]], sealed_at: str) -> list[tuple[Any, ...]]:
    """The seal rows for one write: ``events`` are ``(position, id hex, version, topic, state)``
    in position order; one row per run of contiguous positions (a write's positions are
    contiguous on both stores; a run break is sealed correctly all the same)."""
    sha256 = hashlib.sha256
    rows: list[tuple[Any, ...]] = []
    first = prev = None
    leaves: list[bytes] = []
    names: list[str] = []
    for pos, oid, ver, topic, state in events:
        if prev is not None and pos != prev + 1:
            rows.append((first, len(leaves), b"".join(leaves), "\n".join(names), sealed_at))
            first, leaves, names = None, [], []
        if first is None:
            first = pos
        leaves.append(sha256(b"\x00%b\n%b\n%d\n%b" % (topic.encode(), oid.encode(), ver, state)).digest())
        names.append(stream_line(oid, ver, topic))
        prev = pos
    if leaves:
        rows.append((first, len(leaves), b"".join(leaves), "\n".join(names), sealed_at))
    return rows


def seal_existing(cur: Any, select: str, events: str, seal: str, ph: str, expected: int, sealed_at: str) -> int:
    """Seal the ``expected`` events of table ``events`` into the empty seal table ``seal``, in
    rows of :data:`CHUNK` events; how many were sealed, 0 (and nothing written) when the log or
    its seal is not as verified. ``cur`` is a cursor returning tuples in a transaction that holds
    the writers' lock, so that no write slips in between the count and the seal; ``select``
    reads ``(position, id hex, version, topic, state)`` in log order; ``ph`` is the placeholder."""
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
    cur.executemany(f"INSERT INTO {seal} ({_COLUMNS}) VALUES ({', '.join([ph] * 7)})", out)  # noqa: S608 - fixed names
    log.warning("sealed a log written before the seal existed", extra={"events": count, "seal_rows": seq})
    return count


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def sealed_events(stored: Sequence[StoredEvent], ids: Sequence[int] | None) -> list[tuple[int, str, int, str, bytes]]:
    if ids is None or len(ids) != len(stored):
        raise RuntimeError("the event store did not report a position for every event: cannot seal the write")
    return sorted((int(i), _hex(s.originator_id), s.originator_version, s.topic, s.state)
                  for i, s in zip(ids, stored, strict=True))


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class SealedSQLiteRecorder(OneStatementEventReads):
    """The library's SQLite recorder, sealing each write in its own transaction (and reading an
    aggregate's events in one statement, :mod:`aggregates.sqlite_reads`)."""

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(),
                f"CREATE TABLE IF NOT EXISTS {TABLE} (seq INTEGER PRIMARY KEY, first_index INTEGER NOT NULL, "
                "first_position INTEGER NOT NULL, count INTEGER NOT NULL, leaves BLOB NOT NULL, "
                "streams TEXT NOT NULL, sealed_at TEXT NOT NULL)"]

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """Tried again on another connection while one opened read-only refuses it
        (:mod:`aggregates.writable`): a store made writable again is written at once."""
        return insert_retrying_read_only(self.datastore, super().insert_events, stored_events, **kwargs)

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        check_head(kwargs, ids)  # a group decided on cached copies: refused if the log moved since
        if stored_events:
            statement = INSERT.format(table=TABLE, p="?")
            for row in seal_rows(sealed_events(stored_events, ids), now()):
                c.execute(statement, row)
        return ids
