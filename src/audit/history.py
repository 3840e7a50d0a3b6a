"""The log as auditors read it: one entry per stored event, with who, when, on what authority,
the data, and the integrity fields (chain hash, ``prev_hash``, Merkle leaf hash, and the exact
stored bytes).

Entries are built from the stored rows: ``hash`` and ``leaf_hash`` are recomputed from the stored
bytes exactly as the verifier does, ``prev_hash`` is read from them the same way, and the export
carries the bytes themselves (``state_b64``) so an auditor can recompute every hash offline
(tools/verify_offline.py ``chain``). The readable fields come from plain JSON decoding of the
state, typed values shown in their stored text form. A row that cannot be decoded is still
listed, with ``error`` instead of data: an export must never hide a row.
"""

from __future__ import annotations

import base64
import json
from typing import IO, Any, Callable, Iterator
from uuid import UUID

from aggregates.errors import NotFound

from .rows import StoredRow, iter_rows, stream_rows
from .verify import read_prev_hash

__all__ = ["entry", "log_entries", "platform_history", "export_jsonl", "decode_state"]

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
    act = doc.get("act") if isinstance(doc.get("act"), dict) else {}
    stamp = doc.get("timestamp")
    return {
        **base,
        "recorded_at": stamp if isinstance(stamp, str) else None,
        "business_date": act.get("business_date"),
        "actor": act.get("actor_id"),
        "role": act.get("role"),
        "document_refs": act.get("document_refs", []),
        "data": {k: v for k, v in doc.items() if k not in _ENVELOPE},
    }


def log_entries(app: Any, after: int = 0, limit: int | None = None,
                with_bytes: bool = False) -> Iterator[dict[str, Any]]:
    """The global log in order from position ``after`` (exclusive)."""
    for row in iter_rows(app, after=after, limit=limit):
        yield entry(row, with_bytes)


def platform_history(app: Any, platform_id: UUID) -> list[dict[str, Any]]:
    """Every event of one stream in version order, with log positions; NotFound if none."""
    rows = stream_rows(app, platform_id)
    if not rows:
        raise NotFound("platform_not_found", f"no platform {platform_id}")
    return [entry(row) for row in rows]


def export_jsonl(app: Any, out: IO[str], progress: Callable[[int], None] | None = None) -> int:
    """Write the whole log as JSON Lines (one entry per line, UTF-8, with ``id_hex`` and
    ``state_b64``: the exact stored bytes); returns the count."""
    count = 0
    for item in log_entries(app, with_bytes=True):
        out.write(json.dumps(item, ensure_ascii=False, sort_keys=True))
        out.write("\n")
        count += 1
        if progress is not None and count % 10000 == 0:
            progress(count)
    if progress is not None:
        progress(count)
    return count
