"""The verifier: recompute every hash from the stored bytes and say whether the log is intact.

One streaming pass over the event table checks, for **every** row (memory: one chain tip per
stream plus O(log n) Merkle hashes):

* **Hash chain**: the row's chain hash is SHA-256 over ``topic "\\n" id-hex "\\n" version "\\n"``
  and its exact stored state bytes (:mod:`aggregates.hashing`); the next event of the stream
  must record it as its ``prev_hash`` (the first, :data:`~aggregates.hashing.GENESIS`). No JSON
  is decoded: ``prev_hash`` is read from the stored bytes, where the transcoder writes it as
  ``"prev_hash":"<64 hex>"`` (compact JSON, the first occurrence of that key, near the start).
  Only a row where that fails (key missing, not 64 hex digits, other spacing) is parsed with
  :mod:`json`, to tell a malformed field from a mismatch.
* **Versions**: each stream's versions run 1, 2, 3... in log order, without gaps.
* **The log seal** (:mod:`aggregates.log_seal`, checked by :mod:`audit.seal_check`), read in the
  same snapshot: every stored row hashes to what its write sealed, every sealed event is there,
  every stored event is sealed, and the seal rows follow on without a gap; so a deletion or a
  change anywhere (the last event of a stream, the last row of the log) is reported at its own
  position.
* **Merkle root**: the RFC 9162 leaf of each row (:mod:`audit.rows`) is folded into a streaming
  root, compared with every stored signed checkpoint when the scan reaches its size; a
  checkpoint larger than the log means events were removed at the end.
* **Checkpoints**: each must carry a valid Ed25519 signature under the *pinned* public key, or
  under a key retired by a rotation, for what that key signed before it was retired.
* **Back-dating**: an event after the latest checkpoint recorded well before it was signed was
  appended behind its back.

A long log may be scanned in parts by several processes (``workers``, :mod:`audit.verify_split`),
which only ever conclude that the log is intact; anything else is left to the one pass, which
names it. The report is the same either way.

``deep=True`` adds one thing the bytes cannot show: that the application can still *read* every
event. Each row is decoded through the application's mapper (topic resolution, transcodings,
upcasting), and the decoded ``prev_hash`` is compared with the one read from the bytes. An
intact row is exactly what the writer encoded, so this fails only if the code changed (a
renamed or removed event class, a broken upcaster) or a row is corrupt.

How a changed byte is reported (docs/AUDIT.md): at the altered row (``position``), found when
its successor's ``prev_hash`` no longer matches (``detected_at``). If the change falls in the
row's own ``prev_hash`` so that it is no longer 64 hex digits, the row is reported by itself
(``bad_prev_hash``); if it is still 64 hex digits, both links around the row break and the row
is reported once. Rows that cannot be read are findings, never crashes.
"""

from __future__ import annotations

import hashlib
import json
import re
from binascii import hexlify
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, cast
from uuid import UUID

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from eventsourcing.persistence import StoredEvent

from aggregates.event_table import event_table
from aggregates.event_table.base import BATCH, as_bytes
from aggregates.hashing import GENESIS

from .checkpoint_store import load_checkpoints
from .keys import RetiredKey, parse_retired
from .merkle import EMPTY_ROOT
from .rows import ID_HEX, PREV_HASH_KEY, chain_digest, id_text, iter_rows, recorded_at
from .seal_check import SealCheck
from .signing import SignedCheckpoint, key_id_of, verify_checkpoint
from .verify_split import split_scan

__all__ = ["Failure", "VerifyReport", "verify_log", "read_prev_hash"]

MAX_FAILURES = 100
_HEX64 = re.compile(r"[0-9a-f]{64}")
_ALTERED = "altered"  # tip marker: this row is already reported as altered
_BLOCKED = b"\x00never in a state\x00"
_SEAL_CODES = frozenset({"event_missing", "event_altered", "event_unsealed", "seal_broken", "seal_missing"})


@dataclass(frozen=True)
class Failure:
    """One finding: where (log position, stream, version) and why. ``position`` is the row the
    finding is about (for a broken chain: the altered row); ``detected_at`` the row whose check
    revealed it."""

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
    mode: str = "full"
    size: int = 0
    root: str = ""
    checkpoints_checked: int = 0
    latest_checkpoint: dict[str, Any] | None = None
    unattested_events: int = 0
    streams: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "events_checked": self.events_checked,
            "first_failure": self.first_failure.to_dict() if self.first_failure else None,
            "failures": [f.to_dict() for f in self.failures], "failure_count": self.failure_count,
            "mode": self.mode, "size": self.size, "root": self.root, "streams": self.streams,
            "checkpoints_checked": self.checkpoints_checked, "latest_checkpoint": self.latest_checkpoint,
            "unattested_events": self.unattested_events,
        }


class _Findings:
    def __init__(self) -> None:
        self.items: list[Failure] = []
        self.count = 0

    def add(self, failure: Failure) -> None:
        self.count += 1
        if len(self.items) < MAX_FAILURES:
            self.items.append(failure)

    def in_log_order(self) -> list[Failure]:
        """The findings by position (those of no one position last), whatever the order they
        were found in: that order depends on how many rows a scan reads at once, the report must
        not. At one position the seal's statement (deleted, altered, not written by the
        application) comes first: the chain's and the decoder's findings there corroborate it."""
        return sorted(self.items, key=lambda f: (f.position is None, f.position or 0, f.code not in _SEAL_CODES))

    def first(self) -> Failure | None:
        return next(iter(self.in_log_order()), None)


def read_prev_hash(state: bytes | None) -> tuple[str | None, str]:
    """The ``prev_hash`` a stored state records, read the way the verifier reads it, and how:
    ``(hex, "")`` when well formed, else ``(None, why)``. Never raises."""
    if not state:
        return None, "the stored state is missing (NULL or empty)"
    i = state.find(PREV_HASH_KEY)
    if i >= 0:
        value = state[i + 13:i + 77]
        if state[i + 77:i + 78] == b'"' and _HEX64.fullmatch(value.decode("latin-1")):
            return value.decode("ascii"), ""
    try:
        doc = json.loads(state)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        return None, f"the stored state is not valid JSON ({type(exc).__name__}: {exc})"
    if not isinstance(doc, dict):
        return None, "the stored state is not a JSON object"
    if "prev_hash" not in doc:
        return None, "the stored state has no prev_hash"
    value = doc["prev_hash"]
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        return None, f"the stored prev_hash {str(value)[:80]!r} is not 64 lowercase hex digits"
    return value, ""


def _check_signatures(
    stored: list[tuple[int, SignedCheckpoint]], pinned: bytes | None, findings: _Findings,
    retired_raw: bytes | None = None,
) -> list[tuple[int, SignedCheckpoint]]:
    """The stored checkpoints whose signatures verify: under the pinned key, or under a retired
    key (:mod:`audit.keys`) within what it signed before its rotation. A checkpoint naming any
    other key is refused."""
    if stored and pinned is None:
        findings.add(Failure("no_pinned_key", "checkpoints are stored but no public key is pinned "
                             "(set PLATFORMS_CHECKPOINT_PUBKEY)"))
        return []
    pinned_id = ""
    if pinned is not None:
        try:
            pinned_id = key_id_of(load_pem_public_key(pinned))  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001 - a broken pin is a finding
            findings.add(Failure("bad_pinned_key", f"the pinned public key cannot be read: {exc}"))
            return []
    retired: dict[str, RetiredKey] = {}
    if retired_raw is not None:
        try:
            retired = {r.key_id: r for r in parse_retired(retired_raw) if r.key_id != pinned_id}
        except ValueError as exc:
            findings.add(Failure("bad_retired_keys", f"the retired keys' file cannot be read: {exc}"))
    valid = []
    for cp_id, cp in stored:
        old = retired.get(cp.key_id)
        what = f"checkpoint #{cp_id} (size {cp.size}, signed {cp.signed_at})"
        if old is not None:
            if not verify_checkpoint(cp, old.public_pem):
                findings.add(Failure("bad_signature", f"{what} does not carry a valid signature by the retired "
                                     f"key {old.key_id}"))
            elif not old.covers(cp):
                findings.add(Failure("retired_key_used", f"{what} is signed by key {old.key_id}, retired after "
                                     f"the checkpoint of size {old.last_size} signed {old.last_signed_at}: a "
                                     "retired key vouches for nothing after its rotation"))
            else:
                valid.append((cp_id, cp))
        elif verify_checkpoint(cp, pinned or b""):
            valid.append((cp_id, cp))
        elif cp.key_id != pinned_id:
            findings.add(Failure("key_mismatch", f"key mismatch: {what} names key {cp.key_id}, the pinned key is "
                                 f"{pinned_id}" + (f" and the retired keys {', '.join(sorted(retired))}"
                                                   if retired else "")))
        else:
            findings.add(Failure("bad_signature", f"{what} does not carry a valid signature by the pinned key"))
    return valid


class _Scan:
    """State and slow paths of one verification pass; the hot loop lives in :meth:`run`."""

    seal: SealCheck

    def __init__(self, app: Any, deep: bool, valid: list[tuple[int, SignedCheckpoint]],
                 findings: _Findings, grace_seconds: int) -> None:
        self.app = app
        self.deep = deep
        self.findings = findings
        self.valid = valid
        self.latest = max(valid, key=lambda item: (item[1].size, item[0]))[1] if valid else None
        self.cutoff = None
        if self.latest is not None:
            try:
                self.cutoff = datetime.fromisoformat(self.latest.signed_at) - timedelta(seconds=grace_seconds)
            except ValueError:
                self.cutoff = None
        self.by_size: dict[int, list[tuple[int, SignedCheckpoint]]] = {}
        for cp_id, cp in valid:
            self.by_size.setdefault(cp.size, []).append((cp_id, cp))
        # tips: stream id (bytes) -> (version, position, needle); needle is
        # b'"prev_hash":"<this row's chain hash>"', what the next event's state must contain.
        # marks (rare): stream id -> _ALTERED or a pending break; such a tip's needle is
        # _BLOCKED, which no state contains, so the next event takes the slow path.
        self.tips: dict[bytes, tuple[Any, ...]] = {}
        self.marks: dict[bytes, Any] = {}
        self.size = 0
        self.root = EMPTY_ROOT
        self.last_position = 0
        self.streams = 0
        self.sealed = 0  # events the seal accounts for
        self.flagged: set[int] = set()  # positions the seal shows deleted, altered or unsealed
        # rows past the latest checkpoint are also checked for back-dating
        self.beyond = self.latest.size if self.latest is not None and self.cutoff is not None else 1 << 62

    # ------------------------------------------------------------------ split over processes
    def split(self, workers: int | None, progress: Callable[[int], None] | None) -> bool:
        """Scan a long log in parts on several processes (:mod:`audit.verify_split`). True if it
        shows the log intact, its figures then this scan's; False if the log is short, the
        machine has one core, or anything is not intact: :meth:`run` then names it."""
        if any(cp.root_hex != EMPTY_ROOT.hex() for _, cp in self.by_size.get(0, [])):
            return False
        joined = split_scan(self.app, workers, sorted(s for s in self.by_size if s > 0), self.beyond, self.cutoff,
                            progress)
        if joined is None or any(cp.root_hex != joined.roots[size].hex() for size, cps in self.by_size.items()
                                 if size in joined.roots for _, cp in cps):
            return False
        self.size = self.sealed = joined.size
        self.root, self.last_position, self.streams = joined.root, joined.last_position, joined.streams
        return True

    # ------------------------------------------------------------------ the hot loop
    def run(self, progress: Callable[[int], None] | None, batch: int = BATCH) -> None:
        sha256 = hashlib.sha256
        tips = self.tips
        get = tips.get
        stack: list[bytes] = []
        pop = stack.pop
        push = stack.append
        size = 0
        key = PREV_HASH_KEY
        sizes = sorted(s for s in self.by_size if s > 0)
        if 0 in self.by_size:
            self._compare(0, EMPTY_ROOT, None)
        sizes.append(-1)
        next_cp = sizes.pop(0)
        slow = self._slow
        odd = self._odd
        deep = self.deep
        beyond = self.beyond
        pos = 0
        table = event_table(self.app)
        with table.snapshot() as snapshot:  # the seal rows are read in the events' snapshot
            seal = self.seal = SealCheck(snapshot.seal_rows(), self._seal_finding, not table.in_memory)
            for rows in snapshot.rows(batch=batch):
                start = size
                digests: list[bytes] = []
                keep = digests.append
                for pos, oid, ver, topic, state in rows:
                    try:
                        h = sha256(b"\x00%b\n%b\n%d\n" % (topic, oid, ver))
                        h.update(state)
                        digest = h.digest()
                    except TypeError:  # a NULL or mistyped column: hashed as documented, reported
                        oid, ver, topic, state, digest = odd(pos, oid, ver, topic, state)
                    push(digest)  # the chain hash is the row's RFC 9162 leaf hash
                    keep(digest)
                    size += 1
                    n = size
                    while not n & 1:
                        right = pop()
                        stack[-1] = sha256(b"\x01" + stack[-1] + right).digest()
                        n >>= 1
                    tip = get(oid)
                    needle = b'"prev_hash":"%b"' % hexlify(digest)
                    if tip is not None and ver == tip[0] + 1 and state.startswith(tip[2], state.find(key)):
                        tips[oid] = (ver, pos, needle)
                    else:
                        slow(pos, oid, ver, state, tip, needle)
                    if size == next_cp:
                        self._compare(size, self._root(stack), pos)
                        next_cp = sizes.pop(0)
                seal.check([row[0] for row in rows], digests)
                if deep or size > beyond:
                    self._batch_checks(rows, start, beyond)
                if progress is not None:
                    progress(size)
                # Dropped before the next batch is fetched, so that at most one batch of rows is
                # ever held: the peak is what a long-lived process keeps (see verify_log's batch).
                del rows, digests, keep
            seal.finish(pos)
        self.size = size
        self.root = self._root(stack)
        self.last_position = pos
        self.streams, self.sealed, self.flagged = len(tips), seal.sealed, seal.flagged
        self.finish_pending()

    @staticmethod
    def _root(stack: list[bytes]) -> bytes:
        if not stack:
            return EMPTY_ROOT
        acc = stack[-1]
        for subtree in reversed(stack[:-1]):
            acc = hashlib.sha256(b"\x01" + subtree + acc).digest()
        return acc

    # ------------------------------------------------------------------ slow paths (rare)
    def _seal_finding(self, code: str, reason: str, position: int | None, pid: str | None, version: int | None,
                      detected_at: int | None) -> None:
        self.findings.add(Failure(code, reason, position, pid, version, detected_at))

    def _odd(self, pos: int, oid: Any, ver: Any, topic: Any, state: Any) -> tuple[Any, ...]:
        missing = [name for name, value in (("originator_id", oid), ("originator_version", ver),
                                             ("topic", topic), ("state", state)) if value is None]
        bad = [name for name, value, kind in (("originator_id", oid, bytes), ("originator_version", ver, int),
                                               ("topic", topic, bytes), ("state", state, bytes))
               if value is not None and not isinstance(value, kind)]
        oid_b = as_bytes(oid) or b""
        if bad or [m for m in missing if m != "state"]:  # a NULL state alone is reported as undecodable
            what = "; ".join(filter(None, [f"NULL {', '.join(missing)}" if missing else "",
                                           f"unexpected type in {', '.join(bad)}" if bad else ""]))
            self.findings.add(Failure("malformed_row", f"the stored row is malformed: {what}", pos, id_text(oid_b),
                                      ver if isinstance(ver, int) else None, pos))
        digest = chain_digest(topic, oid_b, ver, state)
        version = ver if isinstance(ver, int) and not isinstance(ver, bool) else 0
        return oid_b, version, topic, as_bytes(state) or b"", digest

    def _slow(self, pos: int, oid: bytes, ver: Any, state: bytes, tip: tuple[Any, ...] | None,
              needle: bytes) -> None:
        """Everything that is not an intact link: a new stream, a version out of line, a
        mismatched or malformed prev_hash, a pending break. Records the row as the new tip."""
        mark = self._judge(pos, oid, ver, state, tip, self.marks.pop(oid, None))
        if mark is None:
            self.tips[oid] = (ver, pos, needle)
        else:
            self.tips[oid] = (ver, pos, _BLOCKED, needle)
            self.marks[oid] = mark

    def _judge(self, pos: int, oid: bytes, ver: Any, state: bytes, tip: tuple[Any, ...] | None,
               pending: Any) -> Any:
        """Judge one row; returns the new tip's mark (None for a sound row)."""
        if (tip is None and pending is None and ver == 1 and read_prev_hash(state)[0] == GENESIS
                and ID_HEX.fullmatch(oid)):
            return None  # a new stream, as it should begin (the common case: no finding to name)
        pid = id_text(oid)
        add = self.findings.add
        if tip is None and not ID_HEX.fullmatch(oid):
            add(Failure("bad_originator_id", f"stream id {oid[:80]!r} is not 32 lowercase hex digits: the "
                        "application would not find this row in its stream", pos, pid, ver, pos))
        expected_version = 1 if tip is None else tip[0] + 1
        if ver != expected_version:
            add(_version_failure(pos, pid, ver, expected_version, tip))
            if isinstance(pending, tuple):
                add(pending[0])
            return None  # resynchronise on the stored order; links across a hole are not checked
        recorded, why = read_prev_hash(state)
        expected = GENESIS if tip is None else tip[-1][13:77].decode()
        if recorded is None:
            if isinstance(pending, tuple):
                add(pending[0])
            if not state:
                add(Failure("undecodable", f"version {ver} at position {pos}: {why}", pos, pid, ver, pos))
            else:
                add(Failure("bad_prev_hash", f"version {ver} at position {pos} was altered: {why}",
                            pos, pid, ver, pos))
            return _ALTERED
        if recorded == expected:
            if isinstance(pending, tuple):
                add(pending[0])  # the break before the previous row stands: that predecessor was altered
            return None
        # A well-formed prev_hash that does not match the predecessor's hash.
        if pending == _ALTERED:
            return None  # expected: the predecessor is already reported as altered
        if isinstance(pending, tuple):
            # Both links around the previous row broke: that row itself was altered (its
            # prev_hash field, or its bytes and its predecessor's alike).
            prev_v, prev_pos = tip[0], tip[1]  # type: ignore[index]
            add(Failure(
                "chain_broken",
                f"version {prev_v} at position {prev_pos} was altered: its recorded prev_hash does not match "
                f"the stored event before it, and its own hash no longer matches the prev_hash recorded by "
                f"version {ver} at position {pos}", prev_pos, pid, prev_v, pos))
            return None
        if tip is None:
            add(Failure("chain_broken", f"version 1 at position {pos} records prev_hash {recorded[:16]}..., "
                        "not the genesis value (64 zeros): it was altered", pos, pid, ver, pos))
            return _ALTERED
        at, prev_v = tip[1], tip[0]
        return (Failure(
            "chain_broken",
            f"version {ver} at position {pos} records prev_hash {recorded[:16]}..., but the stored event before "
            f"it (version {prev_v}, position {at}) hashes to {expected[:16]}...: that event was altered",
            at, pid, prev_v, pos),)

    def finish_pending(self) -> None:
        for mark in self.marks.values():
            if isinstance(mark, tuple):
                # No later event to tell which side changed: the predecessor, or this last
                # event's own prev_hash.
                failure = mark[0]
                self.findings.add(replace(failure, reason=(
                    f"{failure.reason}, or the prev_hash of the stream's last event (position "
                    f"{failure.detected_at}) was")))

    def _batch_checks(self, batch: list[tuple[Any, ...]], start: int, beyond: int) -> None:
        """Per-row checks that are not on the hot path: deep decoding, back-dating."""
        for index, (pos, oid, ver, topic, state) in enumerate(batch, start=start):
            if not (isinstance(oid, bytes) and isinstance(topic, bytes) and isinstance(state, bytes)):
                continue  # already reported as malformed_row
            if self.deep:
                self._decode(pos, oid, ver, topic, state)
            if index >= beyond:
                self._check_backdated(pos, oid, ver, state)

    def _compare(self, size: int, root: bytes, pos: int | None) -> None:
        # The root covers every row up to here: the row the scan stands on is where the mismatch
        # showed (detected_at), not what it is about; the seal and the chains name the rows.
        current = root.hex()
        for cp_id, cp in self.by_size[size]:
            if cp.root_hex != current:
                self.findings.add(Failure(
                    "checkpoint_mismatch",
                    f"the first {size} events have Merkle root {current}, but checkpoint #{cp_id} signed "
                    f"{cp.signed_at} says {cp.root_hex}: a covered event was altered, removed, inserted "
                    f"or reordered", None, None, None, pos))

    def _decode(self, pos: int, oid: bytes, ver: Any, topic: Any, state: bytes) -> None:
        try:
            event = self.app.mapper.to_domain_event(
                StoredEvent(UUID(hex=oid.decode("ascii")), ver, topic.decode("utf-8"), state))
        except Exception as exc:  # noqa: BLE001 - any decoding error is a finding
            self.findings.add(Failure("undecodable", f"the application cannot decode the stored event: "
                                      f"{type(exc).__name__}: {exc}", pos, id_text(oid), ver, pos))
            return
        recorded, _ = read_prev_hash(state)
        decoded = getattr(event, "prev_hash", None)
        if recorded is not None and decoded != recorded:
            self.findings.add(Failure(
                "prev_hash_ambiguous", f"the prev_hash read from the bytes ({recorded[:16]}...) is not the one "
                f"the application decodes ({str(decoded)[:16]}...)", pos, id_text(oid), ver, pos))

    def _check_backdated(self, pos: int, oid: bytes, ver: Any, state: bytes) -> None:
        stamp = recorded_at(state)
        if stamp is not None and stamp < self.cutoff:  # type: ignore[operator]
            self.findings.add(Failure(
                "uncovered_backdated",
                f"recorded at {stamp.isoformat()}, before the latest checkpoint was signed, yet not covered "
                f"by it: appended behind the checkpoint's back", pos, id_text(oid), ver))


def _version_failure(pos: int, pid: str, ver: Any, expected: int, tip: tuple[Any, ...] | None) -> Failure:
    if not isinstance(ver, int) or ver < expected:
        why = (f"version {ver} appears after version {tip[0] if tip else None} at position "
               f"{tip[1] if tip else None}: events reordered or duplicated")
        code = "version_order"
    else:
        why = (f"version {ver} where version {expected} was expected: version(s) "
               f"{expected}..{ver - 1} missing (deleted) or moved")
        code = "version_gap"
    return Failure(code, why, pos, pid, ver if isinstance(ver, int) else None, pos)


def _attribute_links(findings: _Findings, flagged: set[int]) -> None:
    """A broken link blames the event before it unless the seal shows that event intact: then the
    event that records the wrong ``prev_hash`` (forged, or its own ``prev_hash`` altered) is the
    one reported."""
    for i, failure in enumerate(findings.items):
        if (failure.code == "chain_broken" and failure.position not in flagged
                and failure.detected_at is not None and failure.detected_at in flagged):
            at = failure.detected_at
            findings.items[i] = replace(
                failure, position=at, version=failure.version + 1 if failure.version is not None else None,
                reason=f"the event at position {at} records a prev_hash that does not match the event before it in "
                       f"its stream (position {failure.position}, which its seal shows intact): the event at "
                       f"position {at} was altered or forged")


def _diagnose(app: Any, findings: _Findings) -> None:
    """For each row reported altered, say whether it still decodes (one read per finding)."""
    for i, failure in enumerate(findings.items):
        if failure.code != "chain_broken" or failure.position is None:
            continue
        for row in iter_rows(app, after=failure.position - 1, upto=failure.position):
            try:
                # a NULL state is decoded too, and fails like any other damage
                app.mapper.to_domain_event(StoredEvent(UUID(row.originator_id), row.version, row.topic,
                                                       cast(bytes, row.state)))
            except Exception as exc:  # noqa: BLE001
                findings.items[i] = replace(
                    failure, code="undecodable",
                    reason=f"{failure.reason}; it no longer decodes: {type(exc).__name__}: {exc}")


def verify_log(
    app: Any,
    *,
    deep: bool = False,
    public_key_pem: bytes | None = None,
    retired_keys: bytes | None = None,
    progress: Callable[[int], None] | None = None,
    grace_seconds: int = 300,
    allow_empty: bool = False,
    workers: int | None = 1,
    batch: int = BATCH,
) -> VerifyReport:
    """Verify the whole stored log (every hash of every row, every run). ``deep`` also decodes
    every event through the application's mapper. ``public_key_pem`` is the pinned key
    (:meth:`audit.keys.CheckpointKeys.pinned_public_key`; None: none is pinned, and stored
    checkpoints are a finding); ``retired_keys`` the retired keys' file as stored
    (:meth:`audit.keys.CheckpointKeys.retired_keys`; None: there is none);
    ``progress`` is called with the number of events checked so far after each batch.

    ``allow_empty``: a log with no events is a finding (``empty_log``: there is nothing to vouch
    for, and a verifier pointed at the wrong store must not say OK), except for the integrity
    watch of a fresh deployment, which passes True.

    ``grace_seconds``: an event recorded this long before a checkpoint was signed yet not
    covered by it was appended behind the checkpoint's back (back-dated); a shorter gap is an
    ordinary write that committed while the checkpoint was being signed.

    ``workers``: processes scanning a long log in parts (:mod:`audit.verify_split`; None: one
    per CPU on a long log). The default, one, is for a caller that must not fork (a serving
    process); a split scan forks, and never changes the report, only how soon an OK comes.

    ``batch``: rows read per round trip. The default reads fast; a serving process that verifies
    in its own memory (the integrity watch on a short log) passes a small one, because its
    allocator keeps the peak of one batch's rows after they are freed: at 20,000 rows of a log
    rich in objections, the soak saw a worker step up some 3 MB at each check.
    """
    findings = _Findings()
    stored = load_checkpoints(app)
    valid = _check_signatures(stored, public_key_pem, findings, retired_keys)
    scan = _Scan(app, deep, valid, findings, grace_seconds)
    if deep or not scan.split(workers, progress):
        scan.run(progress, batch)
    count = scan.size
    if count == 0 and not allow_empty:
        findings.add(Failure("empty_log", "the store holds no events: there is nothing to verify (is this the "
                             "right store?)"))
    _attribute_links(findings, scan.flagged)
    # Sealed events missing from the log are named by the seal; a checkpoint larger than both the
    # log and the seal means the last writes went with their seal rows.
    known = max(count, scan.sealed)
    for cp_id, cp in valid:
        if cp.size > known:
            findings.add(Failure(
                "log_truncated",
                f"the log holds {count} events but checkpoint #{cp_id} signed {cp.signed_at} covers {cp.size}: "
                f"{cp.size - count} event(s) were removed (log index {count} onwards)", scan.last_position + 1))
    if findings.count:
        _diagnose(app, findings)
    latest = scan.latest
    return VerifyReport(
        ok=findings.count == 0, events_checked=count, first_failure=findings.first(), failures=findings.in_log_order(),
        failure_count=findings.count, mode="deep" if deep else "full", size=count, root=scan.root.hex(),
        checkpoints_checked=len(stored), latest_checkpoint=latest.to_dict() if latest else None,
        unattested_events=max(0, count - (latest.size if latest else 0)), streams=scan.streams,
    )
