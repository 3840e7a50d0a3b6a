"""The registry accepts witness cosignatures, and only from the witnesses its operator configured.

Why: a cosignature by another office (the finance office, the municipal audit bureau) says that
office saw this tree head and checked that it extends every earlier one it saw; a reader who
trusts that office then knows the registry did not show it a different log. Anyone may send a
cosignature, but only one that verifies under a configured key is kept, so the list of
witnesses shown with a checkpoint is the operator's list, each entry proven by its signature.

``PLATFORMS_WITNESS_KEYS`` names a file with one witness a line: its verifier key (as
``platforms audit witness-key`` prints it; c2sp.org/tlog-cosignature, type 0x04; a plain
Ed25519 note key, type 0x01, is taken as the same key's cosignature key, as transparency-dev's
tools do), then, optionally, the name the public sees::

    # witnesses of the platform registry
    czj.changsha.example/witness+3f1a9c2e+BGx...=  市财政局
    sjj.changsha.example/witness+8b20d4c1+BNq...=  市审计局

Blank lines and lines starting with ``#`` are ignored. The file is read at each submission, so
adding a witness needs no restart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aggregates.errors import DomainError, InvalidInput, NotFound

from . import note
from .checkpoint_store import has_tree_head
from .cosignature_store import StoredCosignature, store_cosignature

__all__ = ["MAX_CLOCK_SKEW", "WITNESS_KEYS_ENV", "UnknownWitness", "Witness", "WitnessConfigError",
           "accept_cosignature", "configured_witnesses", "parse_witnesses"]

log = logging.getLogger(__name__)

WITNESS_KEYS_ENV = "PLATFORMS_WITNESS_KEYS"
MAX_CLOCK_SKEW = 300  # seconds a cosignature's time may run ahead of the registry's clock


class UnknownWitness(DomainError):
    """A cosignature by a key the operator has not configured."""


class WitnessConfigError(ValueError):
    """The operator's witness file is missing or malformed."""


@dataclass(frozen=True)
class Witness:
    """A configured witness: its cosignature key and the name the public sees."""

    key: note.VerifierKey
    label: str


def parse_witnesses(text: str) -> list[Witness]:
    """The witnesses listed in a ``PLATFORMS_WITNESS_KEYS`` file's ``text``."""
    witnesses: list[Witness] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        vkey, *label = line.split(None, 1)
        try:
            key = note.VerifierKey.parse(vkey)
        except note.NoteError as exc:
            raise WitnessConfigError(f"line {number}: {exc}") from None
        if key.alg == note.ALG_ED25519:
            key = note.VerifierKey(key.name, note.ALG_COSIGNATURE_V1, key.public_key)
        if any((w.key.name, w.key.key_id) == (key.name, key.key_id) for w in witnesses):
            raise WitnessConfigError(f"line {number}: {key.name}+{key.key_id:08x} is listed twice")
        witnesses.append(Witness(key, label[0].strip() if label else key.name))
    return witnesses


def configured_witnesses(path: Path | None) -> list[Witness]:
    """The witnesses listed in the file at ``path`` (``PLATFORMS_WITNESS_KEYS``), read now so the
    operator may edit the list without a restart; none when no file is named."""
    if path is None:
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WitnessConfigError(f"{WITNESS_KEYS_ENV}={path}: {exc}") from None
    return parse_witnesses(text)


def accept_cosignature(app: Any, checkpoint: str, line: str, witnesses: list[Witness],
                       now: datetime) -> tuple[StoredCosignature, bool]:
    """Verify and keep a witness's cosignature ``line`` of the checkpoint text ``checkpoint``;
    returns the stored cosignature and whether it is new (a witness's second cosignature of one
    head returns its first). Raises :class:`InvalidInput` (malformed, bad signature, time in
    the future), :class:`UnknownWitness`, or :class:`NotFound` (a head never signed here)."""
    try:
        head = note.parse_checkpoint(checkpoint)
    except note.NoteError as exc:
        raise InvalidInput("malformed_checkpoint", f"not a checkpoint text: {exc}", "checkpoint") from None
    try:
        sig = note.parse_signature_line(line)
    except note.NoteError as exc:
        raise InvalidInput("malformed_cosignature", f"not a note signature line: {exc}", "cosignature") from None
    witness = next((w for w in witnesses if (w.key.name, w.key.key_id) == (sig.name, sig.key_id)), None)
    if witness is None:
        raise UnknownWitness("unknown_witness", f"{sig.name}+{sig.key_id_hex()} is not a witness of this "
                             "registry: its operator lists witnesses in PLATFORMS_WITNESS_KEYS")
    if not witness.key.verify(checkpoint, sig):
        raise InvalidInput("bad_cosignature", f"the cosignature of {witness.label} ({sig.name}) does not "
                           "verify over this checkpoint", "cosignature")
    timestamp = note.cosignature_timestamp(sig)
    if timestamp > now.timestamp() + MAX_CLOCK_SKEW:
        raise InvalidInput("cosignature_in_future", f"the cosignature is dated {timestamp}, after now",
                           "cosignature")
    root_hex = head.root.hex()
    if not has_tree_head(app, head.origin, head.size, root_hex):
        raise NotFound("unknown_checkpoint", f"no checkpoint of {head.origin} with size {head.size} and this "
                       "root was signed here")
    stored, created = store_cosignature(app, StoredCosignature(
        head.origin, head.size, root_hex, witness.label, sig.name, sig.key_id_hex(), timestamp, sig.b64,
        now.astimezone(UTC).replace(microsecond=0).isoformat()))
    log.info("cosignature %s", "accepted" if created else "already held", extra={
        "witness": witness.label, "key_name": sig.name, "key_id": sig.key_id_hex(), "size": head.size,
        "root": root_hex, "cosigned": timestamp})
    return stored, created
