"""The log as auditors read it: one entry per stored event, with who, when, on what authority,
the data, and the integrity fields (chain hash, ``prev_hash``, Merkle leaf hash, and the exact
stored bytes).

Entries are built from the stored rows: ``hash`` and ``leaf_hash`` are recomputed from the stored
bytes exactly as the verifier does, ``prev_hash`` is read from them the same way, and the export
carries the bytes themselves (``state_b64``) so an auditor can recompute every hash offline
(tools/verify_offline.py ``export``). The readable fields come from plain JSON decoding of the
state, typed values shown in their stored text form. A row that cannot be decoded is still
listed, with ``error`` instead of data: an export must never hide a row.

The export (``GET /audit/export``, ``platforms audit export``; one code path, :func:`export_lines`)
is JSON Lines, every line an object with a ``kind``, in this order:

* ``header``: ``format`` (:data:`EXPORT_FORMAT`), ``exported_at``, ``size`` (the rows that follow)
  and ``checkpoints`` (how many checkpoint lines follow);
* ``checkpoint``: each stored signed checkpoint with ``size`` at most the exported size, oldest
  first, as ``GET /audit/checkpoint`` publishes it (``size, root, signed_at, key_id, signature``);
  they come before the rows so a reader can compare the Merkle root at each signed size in one
  pass;
* ``event``: one per stored row in log order (:func:`entry` with the stored bytes);
* ``trailer``: ``size`` and ``root``, the count of the rows and the Merkle root over all of
  them. It is written last, so a download cut short lacks it; a reader trusts no export
  without it.

All of it comes from one snapshot of the log (:meth:`aggregates.event_table.EventTable.snapshot`),
streamed a batch at a time: memory stays bounded whatever the size of the log.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Generator, Iterator
from datetime import UTC, datetime
from typing import IO, Any

from aggregates.event_table import event_table

from .checkpoint_store import load_checkpoints
from .merkle import StreamingRoot
from .rows import StoredRow, iter_rows
from .signing import format_signed_at
from .verify import read_prev_hash

__all__ = ["entry", "log_entries", "export_lines", "export_chunks", "export_jsonl",
           "decode_state", "EXPORT_FORMAT"]

EXPORT_FORMAT = "platform-registry audit export v1"
# Rows read per round trip while exporting: a few MB of state in memory at most.
_EXPORT_BATCH = 2000

_ENVELOPE = {"originator_id", "originator_version", "timestamp", "act", "prev_hash", "originator_topic",
             "class_version"}


def _plain(d: dict[str, Any]) -> Any:
    # A typed value {"_type_": name, "_data_": data} is shown as its stored data.
    if len(d) == 2 and "_type_" in d and "_data_" in d:
        return d["_data_"]
    return d


_decoder = json.JSONDecoder(object_hook=_plain)


def decode_state(state: bytes | None) -> dict[str, Any]:
    """The stored JSON of an event with typed values in their stored text form; raises
    ValueError if it is missing or not a JSON object."""
    if not state:
        raise ValueError("the stored state is missing")
    doc = _decoder.decode(state.decode("utf-8"))
    if not isinstance(doc, dict):
        raise ValueError("the stored state is not a JSON object")
    return doc


def entry(row: StoredRow, with_bytes: bool = False) -> dict[str, Any]:
    """One log entry (``GET /audit/log`` item; history items are the same)."""
    topic = row.topic or ""
    parts = topic.split("/")
    digest = row.chain_hash()
    base: dict[str, Any] = {
        "position": row.position,
        "platform_id": row.originator_id,
        "aggregate": parts[-2] if len(parts) >= 3 else None,
        "sequence": row.version,
        "type": parts[-1] if parts else None,
        "topic": topic,
        "hash": digest.hex(),
        "prev_hash": read_prev_hash(row.state)[0],
        "leaf_hash": digest.hex(),
    }
    if with_bytes:
        base["id_hex"] = row.id_hex.decode("utf-8", "backslashreplace")
        base["state_b64"] = base64.b64encode(row.state or b"").decode("ascii")
    try:
        doc = decode_state(row.state)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        return {**base, "error": f"undecodable: {exc}"}
    act = doc.get("act")
    if not isinstance(act, dict):
        act = {}
    stamp = doc.get("timestamp")
    return {
        **base,
        "recorded_at": stamp if isinstance(stamp, str) else None,
        "business_date": act.get("business_date"),
        "actor": act.get("actor_id"),
        "role": act.get("role"),
        "recorded_by": act.get("recorded_by"),
        "document_refs": act.get("document_refs", []),
        "data": {k: v for k, v in doc.items() if k not in _ENVELOPE},
    }


def log_entries(app: Any, after: int = 0, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The global log in order from position ``after`` (exclusive)."""
    for row in iter_rows(app, after=after, limit=limit):
        yield entry(row)


def _line(item: dict[str, Any]) -> str:
    return json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n"


def export_lines(app: Any, progress: Callable[[int], None] | None = None) -> Iterator[str]:
    """The export (see the module docstring), one JSON line with its LF at a time, all from one
    snapshot of the log; ``progress`` is told the rows written so far after each batch."""
    with event_table(app).snapshot() as snapshot:
        size, batches = snapshot.count(), snapshot.rows(batch=_EXPORT_BATCH)
        # Checkpoints are read after the snapshot is open: a checkpoint stored meanwhile still
        # covers a prefix of these rows if its size is at most theirs, so it belongs here too.
        covered = [cp for _, cp in load_checkpoints(app) if cp.size <= size]
        yield _line({"kind": "header", "format": EXPORT_FORMAT, "size": size, "checkpoints": len(covered),
                     "exported_at": format_signed_at(datetime.now(UTC))})
        for cp in covered:
            yield _line({"kind": "checkpoint", **cp.to_dict()})
        tree = StreamingRoot()
        for batch in batches:
            for raw in batch:
                item = entry(StoredRow.from_raw(raw), with_bytes=True)
                tree.append(bytes.fromhex(item["leaf_hash"]))
                yield _line({"kind": "event", **item})
            if progress is not None:
                progress(tree.size)
        yield _line({"kind": "trailer", "size": tree.size, "root": tree.root().hex()})


def export_chunks(app: Any, chunk_bytes: int = 1 << 16) -> Generator[bytes, None, None]:
    """The export as UTF-8 in chunks of about ``chunk_bytes``, for an HTTP stream: each chunk
    costs the server a hop to a worker thread, so lines are sent together rather than one by one."""
    pending: list[str] = []
    held = 0
    for line in export_lines(app):
        pending.append(line)
        held += len(line)
        if held >= chunk_bytes:
            yield "".join(pending).encode("utf-8")
            pending, held = [], 0
    yield "".join(pending).encode("utf-8")


def export_jsonl(app: Any, out: IO[str], progress: Callable[[int], None] | None = None) -> int:
    """Write the export to ``out``; returns the number of rows written."""
    written = 0

    def note(rows: int) -> None:
        nonlocal written
        written = rows
        if progress is not None:
            progress(rows)

    for line in export_lines(app, note):
        out.write(line)
    return written
