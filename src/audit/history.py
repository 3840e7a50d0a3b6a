"""The log as auditors read it: one entry per stored event, with who, when, on what authority,
the data, and the integrity fields (chain hash, ``prev_hash``, Merkle leaf hash).

Entries are built from the stored rows through the same canonical decoding the verifier uses,
so what an auditor reads is exactly what was hashed. A row that cannot be decoded is still
listed, with ``error`` instead of data: an export must never hide a row.
"""

from __future__ import annotations

import json
from typing import IO, Any, Callable, Iterator
from uuid import UUID

from aggregates.errors import NotFound

from .canonical import EventCanonicaliser, UndecodableEvent, _dumps, _sha256
from .rows import StoredRow, iter_rows, leaf_hash_of, stream_rows

__all__ = ["entry", "log_entries", "platform_history", "export_jsonl"]

_ENVELOPE = {"originator_id", "originator_version", "timestamp", "act", "prev_hash", "topic"}


def entry(canon: EventCanonicaliser, row: StoredRow) -> dict[str, Any]:
    """One log entry (``GET /audit/log`` item; history items are the same without position)."""
    topic = row.topic or ""
    parts = topic.split("/")
    base = {
        "position": row.position,
        "platform_id": row.originator_id,
        "aggregate": parts[-2] if len(parts) >= 3 else None,
        "sequence": row.version,
        "type": parts[-1] if parts else None,
        "topic": topic,
        "leaf_hash": leaf_hash_of(row).hex(),
    }
    try:
        doc = canon.document(row)
    except UndecodableEvent as exc:
        return {**base, "error": f"undecodable: {exc}"}
    act = doc.get("act") if isinstance(doc.get("act"), dict) else {}
    return {
        **base,
        "recorded_at": doc.get("timestamp"),
        "business_date": act.get("business_date"),
        "actor": act.get("actor_id"),
        "role": act.get("role"),
        "document_refs": act.get("document_refs", []),
        "data": {k: v for k, v in doc.items() if k not in _ENVELOPE},
        "hash": _sha256(_dumps(doc).encode()).hexdigest(),
        "prev_hash": doc.get("prev_hash"),
    }


def log_entries(app: Any, after: int = 0, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The global log in order from position ``after`` (exclusive)."""
    canon = EventCanonicaliser(app)
    for row in iter_rows(app, after=after, limit=limit):
        yield entry(canon, row)


def platform_history(app: Any, platform_id: UUID) -> list[dict[str, Any]]:
    """Every event of one stream in version order, with log positions; NotFound if none."""
    rows = stream_rows(app, platform_id)
    if not rows:
        raise NotFound("platform_not_found", f"no platform {platform_id}")
    canon = EventCanonicaliser(app)
    return [entry(canon, row) for row in rows]


def export_jsonl(app: Any, out: IO[str], progress: Callable[[int], None] | None = None) -> int:
    """Write the whole log as JSON Lines (one entry per line, UTF-8); returns the count."""
    count = 0
    for item in log_entries(app):
        out.write(json.dumps(item, ensure_ascii=False, sort_keys=True))
        out.write("\n")
        count += 1
        if progress is not None and count % 10000 == 0:
            progress(count)
    if progress is not None:
        progress(count)
    return count
