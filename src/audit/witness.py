"""The witness: another office checks that the registry shows one log, only ever appended to.

Why: a signed checkpoint binds the registry to a log, but the registry could sign two different
logs and show each to different people (a split view), or sign a log that drops or rewrites
history it signed before. A witness run by another office (the finance office, the municipal
audit bureau) on its own machine fetches each new checkpoint, checks it extends the last one it
cosigned, and only then cosigns it (c2sp.org/tlog-cosignature). A reader who sees that office's
cosignature knows the office saw the same tree head, and that it was consistent with everything
the office saw before. What it refuses, it reports, with the registry's own signed notes as
evidence.

One round (:meth:`Witness.once`):

1. ``GET /api/v1/audit/checkpoint`` with ``Accept: text/plain``: the C2SP signed note;
2. the note's text is a checkpoint (c2sp.org/tlog-checkpoint) of the expected origin, and it
   carries a valid signature by the log's key, which the witness was given (``--log-key``,
   pinned, never fetched);
3. against the last tree head it cosigned (its state file): a smaller size is a rollback, the
   same size with another root a fork; a larger size needs a consistency proof
   (``GET /api/v1/audit/proofs/consistency``, public) that this witness verifies itself
   (RFC 9162 §2.1.4.2, :func:`audit.merkle.verify_consistency`); the first round trusts the
   first checkpoint it sees;
4. cosign (Ed25519 cosignature/v1, the witness's own key) and ``POST /api/v1/audit/cosignatures``;
   once the registry holds it, the state file is replaced (written whole to a temporary file,
   synced, renamed) with this tree head.

A refusal (bad signature, other origin, rollback, fork, failing proof) leaves the state as it
was, logs an ERROR record with ``extra`` fields, and writes the refused note beside the last
cosigned one into an evidence file next to the state file. A failure (registry unreachable, an
HTTP error, the registry refusing the cosignature) also leaves the state as it was.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import stat
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from . import note
from .merkle import verify_consistency

__all__ = ["Outcome", "Witness", "WitnessState", "create_witness_key", "load_log_key", "load_witness_key"]

log = logging.getLogger(__name__)

API = "/api/v1"


class _Refusal(Exception):
    """The log showed something a witness must not cosign."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


class _Failure(Exception):
    """The round could not be completed (nothing about the log is concluded)."""


@dataclass(frozen=True)
class WitnessState:
    """The last tree head this witness cosigned, and the log-signed note it came in."""

    origin: str
    size: int
    root: str  # base64, as in the checkpoint text
    note: str
    cosigned_at: int

    @classmethod
    def load(cls, path: Path) -> WitnessState | None:
        """The state at ``path``; None when there is none yet. Raises ``ValueError`` when the file
        cannot be trusted (a witness that forgot what it cosigned must not carry on)."""
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            state = cls(str(data["origin"]), int(data["size"]), str(data["root"]), str(data["note"]),
                        int(data["cosigned_at"]))
            if len(base64.b64decode(state.root, validate=True)) != 32:
                raise ValueError("the root is not 32 bytes")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"witness state {path} is unreadable: {exc}") from None
        return state

    def save(self, path: Path) -> None:
        """Replace the state file atomically: a crash leaves the old state or the new, never half."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, json.dumps(asdict(self), ensure_ascii=False, indent=2).encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


@dataclass(frozen=True)
class Outcome:
    """What one round did: ``cosigned``, ``up_to_date``, ``no_checkpoint`` (all fine), ``refused``
    (the log misbehaved: ``code`` says how) or ``failed`` (the round could not be completed)."""

    status: str
    detail: str
    code: str = ""
    size: int | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("cosigned", "up_to_date", "no_checkpoint")


class Witness:
    """Cosigns the checkpoints of the log at ``client``'s base URL (an ``httpx.Client``: a real one,
    or a FastAPI ``TestClient`` driving the registry in-process)."""

    def __init__(self, client: httpx.Client, log_key: Ed25519PublicKey, name: str, key: Ed25519PrivateKey,
                 state_path: Path, origin: str | None = None, clock: Callable[[], float] = time.time) -> None:
        self.client, self.log_key, self.name, self.key = client, log_key, name, key
        self.state_path, self.origin, self.clock = Path(state_path), origin, clock

    def once(self) -> Outcome:
        """One round: fetch, check, cosign, submit (see the module docstring)."""
        try:
            state = WitnessState.load(self.state_path)
        except ValueError as exc:
            return self._failed(str(exc))
        signed: str | None = None
        try:
            signed = self._fetch_note()
            if signed is None:
                return Outcome("no_checkpoint", "the registry has not signed a checkpoint yet")
            checkpoint, text = self._open(signed, state)
            root_b64 = base64.b64encode(checkpoint.root).decode("ascii")
            if state is not None and (checkpoint.size, root_b64) == (state.size, state.root):
                return Outcome("up_to_date", f"already cosigned size {checkpoint.size}", size=checkpoint.size)
            self._check_consistency(checkpoint, state)
            self._cosign(checkpoint, text, signed)
        except _Refusal as exc:
            return self._refuse(exc, state, signed)
        except _Failure as exc:
            return self._failed(str(exc))
        log.info("witness cosigned size %s", checkpoint.size, extra={
            "outcome": "cosigned", "origin": checkpoint.origin, "size": checkpoint.size, "root": root_b64})
        return Outcome("cosigned", f"cosigned size {checkpoint.size}", size=checkpoint.size)

    def run(self, interval: float, sleep: Callable[[float], None] = time.sleep,
            report: Callable[[Outcome], None] = lambda outcome: None) -> None:
        """Rounds every ``interval`` seconds, for ever; a refusal or failure is reported each time
        and the state stays as it was."""
        while True:
            report(self.once())
            sleep(interval)

    # ------------------------------------------------------------------ the round's steps
    def _get(self, path: str, **kw: Any) -> httpx.Response:
        try:
            return self.client.get(API + path, **kw)
        except httpx.HTTPError as exc:
            raise _Failure(f"cannot reach the registry ({path}): {exc.__class__.__name__}: {exc}") from None

    def _fetch_note(self) -> str | None:
        r = self._get("/audit/checkpoint", headers={"Accept": "text/plain"})
        if r.status_code == 404 and _problem_code(r) == "no_checkpoint":
            return None
        if r.status_code != 200 or not r.headers.get("content-type", "").startswith("text/plain"):
            raise _Failure(f"GET /audit/checkpoint answered {r.status_code} {_problem_code(r) or ''}: "
                           f"{_problem_detail(r)}")
        return r.text

    def _open(self, signed: str, state: WitnessState | None) -> tuple[note.Checkpoint, str]:
        try:
            text, _ = note.parse_note(signed)
            checkpoint = note.parse_checkpoint(text)
        except note.NoteError as exc:
            raise _Refusal("malformed_checkpoint", f"the registry served no valid checkpoint note: {exc}") from None
        expected = self.origin or (state.origin if state else None)
        if expected is not None and checkpoint.origin != expected:
            raise _Refusal("origin_mismatch", f"the checkpoint is of log {checkpoint.origin!r}, not {expected!r}")
        try:
            note.open_note(signed, [note.VerifierKey.ed25519(checkpoint.origin, self.log_key)])
        except note.NoteError as exc:
            raise _Refusal("bad_log_signature", f"the checkpoint of size {checkpoint.size} is not signed by the "
                           f"log's pinned key: {exc}") from None
        return checkpoint, text

    def _check_consistency(self, checkpoint: note.Checkpoint, state: WitnessState | None) -> None:
        if state is None:
            return
        old_root = base64.b64decode(state.root)
        if checkpoint.size < state.size:
            raise _Refusal("rollback", f"the log shrank: size {checkpoint.size} after size {state.size} was cosigned")
        if checkpoint.size == state.size:
            raise _Refusal("fork", f"two checkpoints of size {checkpoint.size} with different roots: "
                           f"{checkpoint.root.hex()} now, {old_root.hex()} cosigned before")
        r = self._get("/audit/proofs/consistency", params={"old_size": state.size, "new_size": checkpoint.size})
        if r.status_code != 200:
            raise _Failure(f"no consistency proof from {state.size} to {checkpoint.size}: HTTP {r.status_code} "
                           f"{_problem_code(r) or ''}: {_problem_detail(r)}")
        try:
            proof = [bytes.fromhex(h) for h in r.json()["proof"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise _Refusal("inconsistent", f"the consistency proof from {state.size} to {checkpoint.size} "
                           f"is malformed: {exc!r}") from None
        if not verify_consistency(state.size, checkpoint.size, old_root, checkpoint.root, proof):
            raise _Refusal("inconsistent", f"the root of size {checkpoint.size} ({checkpoint.root.hex()}) is not "
                           f"an append-only extension of the cosigned size {state.size} ({old_root.hex()})")

    def _cosign(self, checkpoint: note.Checkpoint, text: str, signed: str) -> None:
        timestamp = int(self.clock())
        line = note.cosign(text, self.name, self.key, timestamp).line()
        try:
            r = self.client.post(API + "/audit/cosignatures", json={"checkpoint": text, "cosignature": line})
        except httpx.HTTPError as exc:
            raise _Failure(f"cannot deliver the cosignature: {exc.__class__.__name__}: {exc}") from None
        if r.status_code not in (200, 201):
            raise _Failure(f"the registry did not accept the cosignature: HTTP {r.status_code} "
                           f"{_problem_code(r) or ''}: {_problem_detail(r)}")
        log_signed = _without_cosignatures(signed, checkpoint.origin)
        WitnessState(checkpoint.origin, checkpoint.size, base64.b64encode(checkpoint.root).decode("ascii"),
                     log_signed, timestamp).save(self.state_path)

    # ------------------------------------------------------------------ reporting
    def _refuse(self, exc: _Refusal, state: WitnessState | None, signed: str | None) -> Outcome:
        evidence = self._write_evidence(exc, state, signed) if signed else None
        log.error("witness refused the checkpoint: %s", exc.detail, extra={
            "outcome": "refused", "reason": exc.code, "detail": exc.detail,
            "last_size": state.size if state else None, "last_root": state.root if state else None,
            "evidence": str(evidence) if evidence else None})
        detail = exc.detail + (f" (evidence: {evidence})" if evidence else "")
        return Outcome("refused", detail, exc.code)

    def _failed(self, detail: str) -> Outcome:
        log.error("witness round failed: %s", detail, extra={"outcome": "failed", "detail": detail})
        return Outcome("failed", detail)

    def _write_evidence(self, exc: _Refusal, state: WitnessState | None, signed: str) -> Path:
        """The refused note (as served) and the last cosigned one, in a file named after the
        refused note's hash, written once."""
        folder = self.state_path.with_name(self.state_path.name + ".evidence")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{exc.code}-{hashlib.sha256(signed.encode('utf-8')).hexdigest()[:16]}.txt"
        if not path.exists():
            body = (f"refused: {exc.code}\n{exc.detail}\n\n--- note served by the registry\n{signed}\n"
                    f"--- last note this witness cosigned\n{state.note if state else '(none)'}\n")
            path.write_text(body, encoding="utf-8")
        return path


def _problem_code(r: httpx.Response) -> str | None:
    try:
        body = r.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


def _problem_detail(r: httpx.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return r.text[:200]
    return str(body.get("detail", body))[:200] if isinstance(body, dict) else r.text[:200]


def _without_cosignatures(signed: str, origin: str) -> str:
    """The note with only the log's own signature lines (what the witness keeps as evidence)."""
    text, signatures = note.parse_note(signed)
    return note.format_note(text, [s for s in signatures if s.name == origin])


# ---------------------------------------------------------------------------- keys
def load_log_key(path: Path) -> Ed25519PublicKey:
    """The log's pinned public key (SubjectPublicKeyInfo PEM, as the operator hands it out)."""
    key = serialization.load_pem_public_key(Path(path).read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} does not hold an Ed25519 public key")
    return key


def load_witness_key(path: Path, name: str | None = None) -> tuple[str, Ed25519PrivateKey]:
    """The witness's key and name: a signer key file (``PRIVATE+KEY+<name>+...``, as
    :func:`create_witness_key` writes it; ``name``, if given, must match) or a PKCS#8 PEM
    Ed25519 key (``name`` required). A file others can read is used, with a warning."""
    path = Path(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("witness key %s has permissions %o; it should be 0600", path, mode)
    data = path.read_bytes()
    if data.startswith(b"PRIVATE+KEY+"):
        key_name, _, key = note.parse_signer_key(data.decode("ascii"))
        if name is not None and name != key_name:
            raise ValueError(f"{path} is the key of {key_name!r}, not {name!r}")
        return key_name, key
    private = serialization.load_pem_private_key(data, password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise ValueError(f"{path} holds neither a signer key nor an Ed25519 private key")
    if name is None or not note.valid_name(name):
        raise ValueError("a PEM witness key needs --name: non-empty, without spaces or '+'")
    return name, private


def create_witness_key(path: Path, name: str) -> str:
    """Create a witness key at ``path`` (0600, never overwriting) and its verifier key line at
    ``<path>.pub``; returns the verifier key line for the registry's operator."""
    if not note.valid_name(name):
        raise ValueError(f"invalid witness name {name!r}: non-empty, without spaces or '+'")
    path = Path(path)
    key = Ed25519PrivateKey.generate()
    vkey = note.VerifierKey.ed25519(name, key.public_key(), note.ALG_COSIGNATURE_V1).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (note.encode_signer_key(name, note.ALG_COSIGNATURE_V1, key) + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    path.with_name(path.name + ".pub").write_text(vkey + "\n", encoding="utf-8")
    return vkey
