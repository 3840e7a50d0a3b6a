"""The verifier: recompute every hash from the stored bytes and say whether the log is intact.

What is checked, in one streaming pass over the event table (memory: one chain tip per stream
plus O(log n) Merkle hashes):

* **Merkle root** (every row): the RFC 9162 leaf hash of each stored row's exact bytes
  (:func:`audit.rows.leaf_bytes`), folded into a streaming root that is compared with every
  stored signed checkpoint when the scan reaches its size. A changed byte, a deleted, swapped
  or inserted row anywhere in a checkpointed prefix changes that root.
* **Checkpoints**: each stored checkpoint must carry a valid Ed25519 signature under the
  *pinned* public key (:mod:`audit.keys`); a checkpoint larger than the log means events were
  removed at the end.
* **Versions** (every row): each stream's versions run 1, 2, 3... in log order, without gaps.
* **Hash chain**: each event's ``prev_hash`` equals the canonical hash
  (:mod:`audit.canonical`) of its predecessor in the stream.

Deep mode checks the chain of every event. The default, *anchored* mode checks the chain only
after the latest checkpoint: a checkpoint is signed only after this verifier passed
(:func:`audit.checkpoints.sign_checkpoint`), and the matching Merkle root proves the covered rows
are byte-for-byte those that passed, so decoding them again adds nothing. If anything about a
checkpoint fails, the verifier reruns in deep mode so the failure is pinpointed to an event.

Rows that cannot be decoded are findings, never crashes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from aggregates.hashing import GENESIS

from .canonical import EventCanonicaliser, UndecodableEvent
from .checkpoint_store import load_checkpoints
from .keys import pinned_public_key
from .merkle import StreamingRoot
from .rows import StoredRow, iter_rows, leaf_hash_of
from .signing import SignedCheckpoint, key_id_of, verify_checkpoint

__all__ = ["Failure", "VerifyReport", "verify_log"]

MAX_FAILURES = 100
_UNKNOWN = "?"  # a tip whose hash cannot be known (undecodable event): do not chain-check its successor


@dataclass(frozen=True)
class Failure:
    """One finding: where (log position, stream, version) and why."""

    code: str
    reason: str
    position: int | None = None
    platform_id: str | None = None
    version: int | None = None
    detected_at: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "reason": self.reason, "position": self.position,
                "platform_id": self.platform_id, "version": self.version, "detected_at": self.detected_at}


@dataclass
class VerifyReport:
    """The verifier's answer (``GET /audit/verify``)."""

    ok: bool
    events_checked: int
    first_failure: Failure | None
    failures: list[Failure] = field(default_factory=list)
    failure_count: int = 0
    mode: str = "anchored"
    size: int = 0
    root: str = ""
    checkpoints_checked: int = 0
    latest_checkpoint: dict[str, Any] | None = None
    events_chain_checked: int = 0
    unattested_events: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "events_checked": self.events_checked,
            "first_failure": self.first_failure.to_dict() if self.first_failure else None,
            "failures": [f.to_dict() for f in self.failures], "failure_count": self.failure_count,
            "mode": self.mode, "size": self.size, "root": self.root,
            "checkpoints_checked": self.checkpoints_checked, "latest_checkpoint": self.latest_checkpoint,
            "events_chain_checked": self.events_chain_checked, "unattested_events": self.unattested_events,
        }


class _Findings:
    def __init__(self) -> None:
        self.items: list[Failure] = []
        self.count = 0

    def add(self, failure: Failure) -> None:
        self.count += 1
        if len(self.items) < MAX_FAILURES:
            self.items.append(failure)

    def first(self) -> Failure | None:
        if not self.items:
            return None
        return min(self.items, key=lambda f: (f.position is None, f.position or 0))


def _check_signatures(
    stored: list[tuple[int, SignedCheckpoint]], pinned: bytes | None, findings: _Findings,
) -> list[tuple[int, SignedCheckpoint]]:
    """The stored checkpoints whose signatures verify under the pinned key."""
    if stored and pinned is None:
        findings.add(Failure("no_pinned_key", "checkpoints are stored but no public key is pinned "
                             "(set PLATFORMS_CHECKPOINT_PUBKEY)"))
        return []
    pinned_id = ""
    if pinned is not None:
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        try:
            pinned_id = key_id_of(load_pem_public_key(pinned))  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001 - a broken pin is a finding
            findings.add(Failure("bad_pinned_key", f"the pinned public key cannot be read: {exc}"))
            return []
    valid = []
    for cp_id, cp in stored:
        if verify_checkpoint(cp, pinned or b""):
            valid.append((cp_id, cp))
        elif cp.key_id != pinned_id:
            findings.add(Failure("key_mismatch", f"key mismatch: checkpoint #{cp_id} (size {cp.size}, signed "
                                 f"{cp.signed_at}) names key {cp.key_id}, the pinned key is {pinned_id}"))
        else:
            findings.add(Failure("bad_signature", f"checkpoint #{cp_id} (size {cp.size}, signed {cp.signed_at}) "
                                 "does not carry a valid signature by the pinned key"))
    return valid


def verify_log(
    app: Any,
    *,
    deep: bool = False,
    public_key_pem: bytes | None = None,
    progress: Callable[[int], None] | None = None,
    grace_seconds: int = 300,
) -> VerifyReport:
    """Verify the whole stored log. ``public_key_pem`` defaults to the pinned key; ``progress``
    is called with the number of events checked so far every 10,000 events.

    ``grace_seconds``: an event recorded this long before a checkpoint was signed yet not
    covered by it was appended behind the checkpoint's back (back-dated); a shorter gap is an
    ordinary write that committed while the checkpoint was being signed.
    """
    report = _scan(app, deep, public_key_pem, progress, grace_seconds)
    if not deep and not report.ok and any(
        f.code in {"checkpoint_mismatch", "log_truncated"} for f in report.failures
    ):
        # Pinpoint: the checkpoint says "something in this prefix changed"; the chains say what.
        report = _scan(app, True, public_key_pem, progress, grace_seconds)
    return report


def _scan(app: Any, deep: bool, public_key_pem: bytes | None, progress: Callable[[int], None] | None,
          grace_seconds: int) -> VerifyReport:
    findings = _Findings()
    stored = load_checkpoints(app)
    pinned = public_key_pem if public_key_pem is not None else pinned_public_key()
    valid = _check_signatures(stored, pinned, findings)
    by_size: dict[int, list[tuple[int, SignedCheckpoint]]] = {}
    for cp_id, cp in valid:
        by_size.setdefault(cp.size, []).append((cp_id, cp))
    latest = max(valid, key=lambda item: (item[1].size, item[0]))[1] if valid else None
    anchor = 0 if deep or latest is None else latest.size
    cutoff = None
    if latest is not None:
        try:
            cutoff = datetime.fromisoformat(latest.signed_at) - timedelta(seconds=grace_seconds)
        except ValueError:
            cutoff = None

    canon = EventCanonicaliser(app)
    root = StreamingRoot()
    tips: dict[str, list[Any]] = {}  # originator id -> [version, position, hash or None or _UNKNOWN]
    chain_checked = 0
    last_position = 0

    for row in iter_rows(app):
        index = root.size
        root.append(leaf_hash_of(row))
        last_position = row.position
        oid = row.originator_id
        tip = tips.get(oid)
        expected = 1 if tip is None else tip[0] + 1
        linked = row.version == expected
        if not linked:
            findings.add(_version_failure(row, expected, tip))
        if index >= anchor:
            chain_checked += 1
            beyond = latest is not None and index >= latest.size
            own = _check_chain(app, canon, row, tip if linked else None, linked, findings,
                               cutoff if beyond else None)
        else:
            own = None  # covered by a checkpoint: hashed lazily only if a later event needs it
        tips[oid] = [row.version, row.position, own]  # resynchronise on the stored order
        size = root.size
        if size in by_size:
            current = root.root().hex()
            for cp_id, cp in by_size[size]:
                if cp.root_hex != current:
                    findings.add(Failure(
                        "checkpoint_mismatch",
                        f"the first {size} events have Merkle root {current}, but checkpoint #{cp_id} signed "
                        f"{cp.signed_at} says {cp.root_hex}: a covered event was altered, removed, inserted "
                        f"or reordered", row.position, oid, row.version))
        if progress is not None and size % 10000 == 0:
            progress(size)

    count = root.size
    for cp_id, cp in valid:
        if cp.size > count:
            findings.add(Failure(
                "log_truncated",
                f"the log holds {count} events but checkpoint #{cp_id} signed {cp.signed_at} covers {cp.size}: "
                f"{cp.size - count} event(s) were removed (log index {count} onwards)", last_position + 1))
    if progress is not None:
        progress(count)
    return VerifyReport(
        ok=findings.count == 0, events_checked=count, first_failure=findings.first(), failures=findings.items,
        failure_count=findings.count, mode="deep" if deep else "anchored", size=count, root=root.root().hex(),
        checkpoints_checked=len(stored), latest_checkpoint=latest.to_dict() if latest else None,
        events_chain_checked=chain_checked, unattested_events=max(0, count - (latest.size if latest else 0)),
    )


def _version_failure(row: StoredRow, expected: int, tip: list[Any] | None) -> Failure:
    if row.version is None or row.version < expected:
        why = (f"version {row.version} appears after version {tip[0] if tip else None} at position "
               f"{tip[1] if tip else None}: events reordered or duplicated")
        code = "version_order"
    else:
        why = (f"version {row.version} where version {expected} was expected: version(s) "
               f"{expected}..{row.version - 1} missing (deleted) or moved")
        code = "version_gap"
    return Failure(code, why, row.position, row.originator_id, row.version)


def _check_chain(app: Any, canon: EventCanonicaliser, row: StoredRow, tip: list[Any] | None, linked: bool,
                 findings: _Findings, cutoff: datetime | None) -> str:
    """Decode the row, check its ``prev_hash`` against its predecessor, return its own hash."""
    try:
        doc = canon.document(row)
    except UndecodableEvent as exc:
        findings.add(Failure("undecodable", f"the stored event cannot be decoded: {exc}",
                             row.position, row.originator_id, row.version))
        return _UNKNOWN
    from .canonical import _dumps, _sha256

    own = _sha256(_dumps(doc).encode()).hexdigest()
    if linked:
        if tip is None:
            expected = GENESIS
        else:
            if tip[2] is None:
                tip[2] = _hash_at(app, canon, tip[1])
            expected = tip[2]
        recorded = doc.get("prev_hash")
        if expected != _UNKNOWN and recorded != expected:
            at = tip[1] if tip is not None else row.position
            findings.add(Failure(
                "chain_broken",
                f"version {row.version} at position {row.position} records prev_hash {str(recorded)[:16]}..., "
                f"but the stored event before it (version {row.version - 1}, position {at}) hashes to "
                f"{expected[:16]}...: that event (or this one's prev_hash) was altered",
                at, row.originator_id, row.version - 1 if tip is not None else row.version, row.position))
    if cutoff is not None:
        _check_backdated(row, doc, cutoff, findings)
    return own


def _check_backdated(row: StoredRow, doc: dict[str, Any], cutoff: datetime, findings: _Findings) -> None:
    try:
        recorded_at = datetime.fromisoformat(str(doc.get("timestamp")))
    except ValueError:
        return
    if recorded_at < cutoff:
        findings.add(Failure(
            "uncovered_backdated",
            f"recorded at {recorded_at.isoformat()}, before the latest checkpoint was signed, yet not covered "
            f"by it: appended behind the checkpoint's back", row.position, row.originator_id, row.version))


def _hash_at(app: Any, canon: EventCanonicaliser, position: int) -> str:
    """The chain hash of the stored event at ``position`` (a checkpointed predecessor)."""
    for row in iter_rows(app, after=position - 1, upto=position):
        try:
            return canon.hash(row)
        except UndecodableEvent:
            return _UNKNOWN
    return _UNKNOWN
