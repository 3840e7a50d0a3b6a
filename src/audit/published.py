"""What the registry publishes about each checkpoint: its JSON (``GET /audit/checkpoint``,
``GET /audit/checkpoints``, the public page) and its C2SP signed note.

The note is the checkpoint text (c2sp.org/tlog-checkpoint: origin, size, base64 root), a blank
line, the log's own signature line, then one cosignature line per witness that cosigned this
tree head (c2sp.org/tlog-cosignature), oldest first: the form standard verifiers and witnesses
read. A checkpoint stored before notes existed has ``origin``, ``note`` null and no
cosignatures.
"""

from __future__ import annotations

import logging
from typing import Any

from . import note
from .checkpoint_store import StoredCheckpoint, checkpoints_after, latest_stored
from .cosignature_store import StoredCosignature, cosignatures_for

__all__ = ["latest_view", "recent_views", "signed_note", "views_after"]

log = logging.getLogger(__name__)


def signed_note(stored: StoredCheckpoint, cosignatures: list[StoredCosignature]) -> str | None:
    """The checkpoint as a signed note with its cosignatures, or None when it has no note (or
    its stored fields no longer form one: the verifier reports such rows)."""
    if stored.origin is None or stored.note_signature is None:
        return None
    cp = stored.checkpoint
    try:
        text = note.checkpoint_text(stored.origin, cp.size, bytes.fromhex(cp.root_hex))
        own = note.parse_signature_line(f"\u2014 {stored.origin} {stored.note_signature}")
        return note.format_note(text, [own, *(c.note_signature() for c in cosignatures)])
    except (note.NoteError, ValueError) as exc:
        log.warning("checkpoint #%s is stored with fields that form no note: %s", stored.id, exc,
                    extra={"checkpoint_id": stored.id})
        return None


def _view(stored: StoredCheckpoint, cosignatures: list[StoredCosignature]) -> dict[str, Any]:
    return {"id": stored.id, **stored.checkpoint.to_dict(), "origin": stored.origin,
            "note": signed_note(stored, cosignatures), "cosignatures": [c.to_dict() for c in cosignatures]}


def _head(stored: StoredCheckpoint) -> tuple[str, int, str] | None:
    if stored.origin is None or stored.note_signature is None:
        return None
    return (stored.origin, stored.checkpoint.size, stored.checkpoint.root_hex)


def _views(app: Any, stored: list[StoredCheckpoint]) -> list[dict[str, Any]]:
    heads = {s.id: _head(s) for s in stored}
    wanted = [h for h in heads.values() if h is not None]
    found: dict[Any, list[StoredCosignature]] = cosignatures_for(app, wanted) if wanted else {}
    return [_view(s, found.get(heads[s.id], [])) for s in stored]


def latest_view(app: Any) -> dict[str, Any] | None:
    """The latest checkpoint as published, or None when none has been signed."""
    stored = latest_stored(app)
    return _views(app, [stored])[0] if stored is not None else None


def views_after(app: Any, after: int, limit: int) -> list[dict[str, Any]]:
    """Published checkpoints with ``id > after``, oldest first, at most ``limit``."""
    return _views(app, checkpoints_after(app, after, limit))


def recent_views(app: Any, count: int) -> list[dict[str, Any]]:
    """The latest ``count`` published checkpoints (fewer where ids skipped), newest first."""
    latest = latest_stored(app)
    if latest is None:
        return []
    return list(reversed(_views(app, checkpoints_after(app, max(0, latest.id - count), count))))
