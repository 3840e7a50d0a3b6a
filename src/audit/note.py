"""C2SP signed notes, transparency-log checkpoints and witness cosignatures, byte for byte.

Why a standard format: a checkpoint in the registry's own JSON can only be checked with the
registry's own tools. The same tree head as a C2SP signed note can be checked, and cosigned, by
any transparency-log verifier or witness (golang.org/x/mod/sumdb/note, transparency-dev,
Sigsum...). This module holds the formats and nothing else: no I/O and no registry code, so
that tools (and the witness of another office) can use it alone, with ``cryptography``.

Implements
----------
* **signed-note** (https://c2sp.org/signed-note): UTF-8 text without control characters other
  than LF; the text ends in LF; a blank line; then one or more signature lines
  ``"— " <key name> " " base64(key ID || signature) LF`` (U+2014 EM DASH, a space). Key names
  are non-empty, without Unicode spaces or ``+``. The key ID is the first four bytes, big-endian,
  of ``SHA-256(key name || 0x0A || signature type || public key)``. Type ``0x01`` is Ed25519
  (RFC 8032) over the text. Verifiers ignore signatures from unknown keys and reject a note whose
  known key's signature fails (as ``note.Open`` does); at most 100 signature lines.
* **tlog-checkpoint** (https://c2sp.org/tlog-checkpoint): the text is ``origin LF size LF
  base64(root) LF`` then optional non-empty extension lines; size in decimal without leading
  zeros; root the 32-byte RFC 6962/9162 Merkle root in standard base64.
* **tlog-cosignature** (https://c2sp.org/tlog-cosignature), Ed25519 ``cosignature/v1``, type
  ``0x04``: the signature is ``u64 timestamp (big-endian) || Ed25519 signature`` over
  ``"cosignature/v1" LF "time " <timestamp decimal> LF`` followed by the whole checkpoint text.
* **keys** as golang.org/x/mod/sumdb/note writes them: verifier key
  ``<name>+<key ID, 8 lowercase hex>+base64(type || 32-byte public key)`` and signer key
  ``PRIVATE+KEY+<name>+<key ID>+base64(type || 32-byte Ed25519 seed)``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = ["ALG_COSIGNATURE_V1", "ALG_ED25519", "MAX_SIGNATURES", "Checkpoint", "NoteError", "NoteSignature",
           "VerifierKey", "checkpoint_text", "cosign", "cosignature_message", "cosignature_timestamp",
           "encode_signer_key", "format_note", "key_id", "open_note", "parse_checkpoint", "parse_note",
           "parse_signature_line", "parse_signer_key", "sign_ed25519", "valid_name"]

ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
MAX_SIGNATURES = 100
_DASH = "\u2014 "
_ED25519_SIG = 64
_ED25519_KEY = 32
_U63 = (1 << 63) - 1
_SIZE = re.compile(r"0|[1-9][0-9]{0,18}")


class NoteError(ValueError):
    """A note, checkpoint, signature line or key that is malformed, or a note that does not verify."""


def valid_name(name: str) -> bool:
    """A key name (and a checkpoint origin): non-empty, no Unicode spaces, no ``+``, no control
    characters."""
    return (isinstance(name, str) and name != "" and "+" not in name
            and not any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name))


def key_id(name: str, alg: int, public_key: bytes) -> int:
    """``SHA-256(name || 0x0A || alg || public key)[:4]`` as a big-endian integer."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([alg]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _b64decode(text: str) -> bytes:
    """Strict standard base64 (RFC 4648 §4): valid characters and padding, canonical."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError) as exc:
        raise NoteError(f"not standard base64: {text[:40]!r}") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise NoteError(f"not canonical base64: {text[:40]!r}")
    return raw


def _public_raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes_raw()


# ---------------------------------------------------------------------------- signed notes
@dataclass(frozen=True)
class NoteSignature:
    """One signature line: the key's name, its 32-bit key ID and the signature bytes after it."""

    name: str
    key_id: int
    signature: bytes

    @property
    def b64(self) -> str:
        """``base64(key ID || signature)``, the line's second field."""
        return base64.b64encode(self.key_id.to_bytes(4, "big") + self.signature).decode("ascii")

    def line(self) -> str:
        """``"— <name> <base64>\\n"``."""
        return f"{_DASH}{self.name} {self.b64}\n"

    def key_id_hex(self) -> str:
        return f"{self.key_id:08x}"


def parse_signature_line(line: str) -> NoteSignature:
    """One signature line, with or without its final LF."""
    if not isinstance(line, str):
        raise NoteError("a signature line is text")
    text = line[:-1] if line.endswith("\n") else line
    if "\n" in text or not text.startswith(_DASH):
        raise NoteError("a signature line is '— <key name> <base64>' on one line")
    name, sep, b64 = text[len(_DASH):].partition(" ")
    if not sep or not valid_name(name) or not b64:
        raise NoteError("a signature line is '— <key name> <base64>' with a valid key name")
    raw = _b64decode(b64)
    if len(raw) < 5:
        raise NoteError("a signature holds a 4-byte key ID and at least one byte")
    return NoteSignature(name, int.from_bytes(raw[:4], "big"), raw[4:])


def _check_text(text: str) -> None:
    if not isinstance(text, str) or not text.endswith("\n"):
        raise NoteError("a note's text ends in a newline")
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise NoteError("a note holds no control characters other than newline")


def format_note(text: str, signatures: Sequence[NoteSignature]) -> str:
    """The signed note: the text, a blank line, one line per signature (at least one)."""
    _check_text(text)
    if not signatures:
        raise NoteError("a signed note has at least one signature")
    return text + "\n" + "".join(s.line() for s in signatures)


def parse_note(note: str | bytes) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its text (final newline included) and its signature lines.
    Checks the syntax only; :func:`open_note` verifies."""
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError("a note is UTF-8") from exc
    if not isinstance(note, str) or any(ord(ch) < 0x20 and ch != "\n" for ch in note):
        raise NoteError("a note holds no control characters other than newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("a note's signatures follow a blank line")
    text, block = note[: split + 1], note[split + 2:]
    if not block.endswith("\n"):
        raise NoteError("a note ends with a signature line and a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"a note holds at most {MAX_SIGNATURES} signatures")
    return text, [parse_signature_line(line) for line in lines]


def open_note(note: str | bytes, known: Sequence[VerifierKey]) -> tuple[str, list[NoteSignature]]:
    """The text of ``note`` and its signatures verified by ``known`` keys.

    As the spec and ``note.Open`` require: signatures of unknown keys (another name or key ID)
    are ignored; a signature of a known key that fails rejects the whole note; a note without
    any verified signature is rejected. Raises :class:`NoteError`.
    """
    text, signatures = parse_note(note)
    verified: list[NoteSignature] = []
    for sig in signatures:
        key = next((k for k in known if k.name == sig.name and k.key_id == sig.key_id), None)
        if key is None or sig in verified:
            continue
        if not key.verify(text, sig):
            raise NoteError(f"invalid signature for key {sig.name}+{sig.key_id_hex()}")
        verified.append(sig)
    if not verified:
        raise NoteError("the note has no signature by a known key")
    return text, verified


def sign_ed25519(text: str, name: str, private_key: Ed25519PrivateKey) -> NoteSignature:
    """An Ed25519 (type 0x01) note signature of ``text`` by key ``name``."""
    _check_text(text)
    if not valid_name(name):
        raise NoteError(f"invalid key name {name!r}")
    kid = key_id(name, ALG_ED25519, _public_raw(private_key.public_key()))
    return NoteSignature(name, kid, private_key.sign(text.encode("utf-8")))


# ---------------------------------------------------------------------------- checkpoints
@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint's text, parsed: origin, tree size, root hash, extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()


def checkpoint_text(origin: str, size: int, root: bytes, extensions: Sequence[str] = ()) -> str:
    """``origin LF size LF base64(root) LF`` (plus extension lines, each followed by LF)."""
    if not valid_name(origin):
        raise NoteError(f"invalid origin {origin!r}: non-empty, without spaces or '+'")
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= _U63:
        raise NoteError("size must be a non-negative integer")
    if not isinstance(root, (bytes, bytearray)) or len(root) != 32:
        raise NoteError("root must be 32 bytes")
    if any(not e or "\n" in e for e in extensions):
        raise NoteError("extension lines are non-empty single lines")
    lines = [origin, str(size), base64.b64encode(bytes(root)).decode("ascii"), *extensions]
    text = "".join(line + "\n" for line in lines)
    _check_text(text)
    return text


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint's text (the note text, final newline included)."""
    _check_text(text)
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("a checkpoint has an origin, a size and a root hash line")
    origin, size, root_b64, *extensions = lines
    if not origin:
        raise NoteError("the origin line is empty")
    if not _SIZE.fullmatch(size) or int(size) > _U63:
        raise NoteError(f"the size line {size[:40]!r} is not a decimal without leading zeros")
    root = _b64decode(root_b64)
    if len(root) != 32:
        raise NoteError("the root hash is not 32 bytes")
    if any(not e for e in extensions):
        raise NoteError("extension lines are non-empty")
    return Checkpoint(origin, int(size), root, tuple(extensions))


# ---------------------------------------------------------------------------- cosignatures
def cosignature_message(timestamp: int, text: str) -> bytes:
    """What an Ed25519 cosignature/v1 signs: ``cosignature/v1 LF time <t> LF`` then the text."""
    if not isinstance(timestamp, int) or isinstance(timestamp, bool) or not 0 <= timestamp <= _U63:
        raise NoteError("a cosignature timestamp is a POSIX time between 0 and 2^63-1")
    _check_text(text)
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def cosign(text: str, name: str, private_key: Ed25519PrivateKey, timestamp: int) -> NoteSignature:
    """A witness's cosignature/v1 (type 0x04) of the checkpoint ``text`` at ``timestamp``."""
    parse_checkpoint(text)
    if not valid_name(name):
        raise NoteError(f"invalid key name {name!r}")
    kid = key_id(name, ALG_COSIGNATURE_V1, _public_raw(private_key.public_key()))
    signature = private_key.sign(cosignature_message(timestamp, text))
    return NoteSignature(name, kid, timestamp.to_bytes(8, "big") + signature)


def cosignature_timestamp(sig: NoteSignature) -> int:
    """The POSIX time a cosignature/v1 carries (its first 8 bytes, big-endian)."""
    if len(sig.signature) != 8 + _ED25519_SIG:
        raise NoteError("a cosignature/v1 is an 8-byte timestamp and a 64-byte Ed25519 signature")
    return int.from_bytes(sig.signature[:8], "big")


# ---------------------------------------------------------------------------- keys
@dataclass(frozen=True)
class VerifierKey:
    """A named public key of one signature type (0x01 note signatures, 0x04 cosignatures)."""

    name: str
    alg: int
    public_key: bytes

    @property
    def key_id(self) -> int:
        return key_id(self.name, self.alg, self.public_key)

    def encode(self) -> str:
        """``<name>+<key ID hex>+base64(type || public key)``."""
        raw = base64.b64encode(bytes([self.alg]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id:08x}+{raw}"

    @classmethod
    def ed25519(cls, name: str, public_key: Ed25519PublicKey, alg: int = ALG_ED25519) -> VerifierKey:
        if not valid_name(name):
            raise NoteError(f"invalid key name {name!r}")
        if alg not in (ALG_ED25519, ALG_COSIGNATURE_V1):
            raise NoteError(f"unsupported signature type {alg:#04x}")
        return cls(name, alg, _public_raw(public_key))

    def verify(self, text: str, sig: NoteSignature) -> bool:
        """True iff ``sig`` is this key's valid signature of ``text``; never raises."""
        if sig.name != self.name or sig.key_id != self.key_id:
            return False
        try:
            public = Ed25519PublicKey.from_public_bytes(self.public_key)
            if self.alg == ALG_ED25519:
                if len(sig.signature) != _ED25519_SIG:
                    return False
                public.verify(sig.signature, text.encode("utf-8"))
            elif self.alg == ALG_COSIGNATURE_V1:
                timestamp = cosignature_timestamp(sig)
                public.verify(sig.signature[8:], cosignature_message(timestamp, text))
            else:
                return False
        except (InvalidSignature, NoteError, ValueError):
            return False
        return True

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """Parse ``<name>+<hex key ID>+<base64>``; the key ID must match."""
        name, _, rest = text.strip().partition("+")
        kid_hex, _, b64 = rest.partition("+")
        if not valid_name(name) or not re.fullmatch(r"[0-9a-f]{8}", kid_hex) or not b64:
            raise NoteError("a verifier key is '<name>+<8 hex digits>+<base64>'")
        raw = _b64decode(b64)
        if len(raw) != 1 + _ED25519_KEY or raw[0] not in (ALG_ED25519, ALG_COSIGNATURE_V1):
            raise NoteError("a verifier key here is an Ed25519 key of type 0x01 or 0x04")
        key = cls(name, raw[0], raw[1:])
        if key.key_id != int(kid_hex, 16):
            raise NoteError(f"the key ID {kid_hex} does not match the key")
        return key


def encode_signer_key(name: str, alg: int, private_key: Ed25519PrivateKey) -> str:
    """``PRIVATE+KEY+<name>+<key ID hex>+base64(type || 32-byte seed)``."""
    public = VerifierKey.ed25519(name, private_key.public_key(), alg)
    seed = base64.b64encode(bytes([alg]) + private_key.private_bytes_raw()).decode("ascii")
    return f"PRIVATE+KEY+{name}+{public.key_id:08x}+{seed}"


def parse_signer_key(text: str) -> tuple[str, int, Ed25519PrivateKey]:
    """Parse a signer key into (name, signature type, private key); the key ID must match."""
    parts = text.strip().split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise NoteError("a signer key is 'PRIVATE+KEY+<name>+<8 hex digits>+<base64>'")
    name, kid_hex, b64 = parts[2:]
    if not valid_name(name) or not re.fullmatch(r"[0-9a-f]{8}", kid_hex):
        raise NoteError("a signer key is 'PRIVATE+KEY+<name>+<8 hex digits>+<base64>'")
    raw = _b64decode(b64)
    if len(raw) != 1 + _ED25519_KEY or raw[0] not in (ALG_ED25519, ALG_COSIGNATURE_V1):
        raise NoteError("a signer key here is an Ed25519 seed of type 0x01 or 0x04")
    private = Ed25519PrivateKey.from_private_bytes(raw[1:])
    if key_id(name, raw[0], _public_raw(private.public_key())) != int(kid_hex, 16):
        raise NoteError(f"the key ID {kid_hex} does not match the key")
    return name, raw[0], private
