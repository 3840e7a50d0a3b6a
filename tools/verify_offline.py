#!/usr/bin/env python3
"""Offline verifier for platform-registry log exports, checkpoints and Merkle proofs.

Meant for outside auditors: it needs only the Python standard library and
the ``cryptography`` package, and deliberately does not import the registry's
own code, so checking the registry does not mean trusting the registry.  The
few hash routines it needs are re-stated here from RFC 9162 section 2.1
(identical to RFC 6962 2.1):

    leaf hash = SHA-256(0x00 || event bytes)
    node hash = SHA-256(0x01 || left || right)

Usage (prints ``OK ...`` and exits 0, or ``FAILED: reason`` and exits 1)::

    verify_offline.py export      --export log.jsonl --public-key key.pem \\
                                  [--public-key retired.pem ...]
    verify_offline.py checkpoint  --checkpoint cp.json --public-key key.pem
    verify_offline.py inclusion   --leaf-hash HEX --index I --size N \\
                                  --proof proof.json --root HEX
    verify_offline.py consistency --old-size M --new-size N --old-root HEX \\
                                  --new-root HEX --proof proof.json
    verify_offline.py chain       --export log.jsonl \\
                                  [--checkpoint cp.json --public-key key.pem]

Inputs:

* ``log.jsonl``: ``GET /api/v1/audit/export`` or ``platforms audit export``,
  JSON Lines, each line an object with a ``kind``: a ``header`` (``format``,
  ``size``: the rows that follow, ``checkpoints``: how many checkpoint lines
  follow), the ``checkpoint`` lines (as ``cp.json`` below), one ``event`` line
  per stored row in log order, and a ``trailer`` (``size``, ``root``: the
  Merkle root of all the rows), written last so that a cut download lacks it.
  Of a row the tool uses ``position``, ``id_hex``, ``sequence``, ``topic`` and
  ``state_b64`` (the exact stored bytes) and checks the ``hash``,
  ``leaf_hash`` and ``prev_hash`` the export claims against what it recomputes.
* ``cp.json``: ``{"size": int, "root": hex, "signed_at": str, "key_id": hex,
  "signature": base64}``.  The Ed25519 signature covers the UTF-8 text
  ``"platform-registry checkpoint v1\\n<size>\\n<root base64>\\n<signed_at>\\n"``;
  ``key_id`` must equal the first 8 bytes of SHA-256 of the raw public key.
* ``key.pem``: the registry's Ed25519 public key (SubjectPublicKeyInfo PEM),
  obtained from the operator through a channel you trust; the tool never takes
  a key from the evidence it checks. After the registry rotated its key, give
  ``--public-key`` once more for each retired key (the operator's retired keys'
  file holds their PEMs): each checkpoint is checked under the key it names.
* ``proof.json``: a JSON array of hex-encoded 32-byte hashes, ordered from the
  leaf (or old tree) upwards; an object with a ``"proof"`` array is accepted.

``export`` and ``chain`` recompute, for every exported row::

    chain hash = leaf hash = SHA-256(0x00 || topic "\\n" id_hex "\\n" version "\\n" state bytes)

and check each stream's versions run 1, 2, 3... and that each event's
``prev_hash`` (the top-level key of its stored JSON; 64 zeros for version 1)
is the chain hash of its predecessor. ``export`` also checks every checkpoint
line's signature under the given key and the Merkle root of the first
``size`` rows against it, and the trailer: the export is complete and is the
log the key signed, up to its latest checkpoint. ``chain`` checks only the
rows, and with ``--checkpoint`` a checkpoint you hold yourself.

Take sizes and roots from a checkpoint whose signature you have verified: a
Merkle proof on its own does not pin down the tree size.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
CHECKPOINT_HEADER = "platform-registry checkpoint v1"


class Failure(Exception):
    """A reason the evidence does not verify."""


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> bool:
    """RFC 9162 2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> bool:
    """RFC 9162 2.1.4.2, plus the trivial cases old == new and old == 0."""
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


def parse_hash(text: str, what: str) -> bytes:
    try:
        value = bytes.fromhex(text.strip())
    except ValueError:
        raise Failure(f"{what} is not hex") from None
    if len(value) != HASH_SIZE:
        raise Failure(f"{what} must be {HASH_SIZE} bytes, got {len(value)}")
    return value


def read_json(path: str, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Failure(f"cannot read {what} {path}: {exc}") from None


def read_proof(path: str) -> list[bytes]:
    data = read_json(path, "proof")
    if isinstance(data, dict):
        data = data.get("proof")
    if not isinstance(data, list) or not all(isinstance(h, str) for h in data):
        raise Failure("proof must be a JSON array of hex strings")
    return [parse_hash(h, f"proof element {i}") for i, h in enumerate(data)]


def load_public_key(path: str) -> Ed25519PublicKey:
    """The Ed25519 public key the auditor obtained from the operator, never one from the evidence."""
    try:
        public_key = serialization.load_pem_public_key(Path(path).read_bytes())
    except (OSError, ValueError, UnsupportedAlgorithm) as exc:
        raise Failure(f"cannot load public key {path}: {exc}") from None
    if not isinstance(public_key, Ed25519PublicKey):
        raise Failure("public key is not Ed25519")
    return public_key


def load_public_keys(paths: list[str]) -> list[Ed25519PublicKey]:
    """Every key given (``--public-key`` once per key: after a rotation of the registry's key,
    the current one and each retired one)."""
    return [load_public_key(path) for path in paths]


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).digest()[:8].hex()


def verify_signed(cp: object, public_keys: list[Ed25519PublicKey]) -> bytes:
    """The signed root of checkpoint ``cp`` (a JSON object) once its signature by the given key
    its ``key_id`` names holds; Failure naming what does not."""
    if not isinstance(cp, dict):
        raise Failure("checkpoint must be a JSON object")
    size, root_hex, signed_at = cp.get("size"), cp.get("root"), cp.get("signed_at")
    cp_key_id, signature_b64 = cp.get("key_id"), cp.get("signature")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise Failure("size must be a non-negative integer")
    if not isinstance(root_hex, str) or len(root_hex) != 64 or root_hex != root_hex.lower():
        raise Failure("root must be 64 lowercase hex characters")
    root = parse_hash(root_hex, "root")
    if not isinstance(signed_at, str) or not signed_at or "\n" in signed_at:
        raise Failure("signed_at must be a single-line string")
    if not isinstance(cp_key_id, str) or not isinstance(signature_b64, str):
        raise Failure("key_id and signature must be strings")
    named = [k for k in public_keys if key_id(k) == cp_key_id]
    if not named:
        given = ", ".join(key_id(k) for k in public_keys)
        raise Failure(f"checkpoint names key {cp_key_id}, the given key {'is' if len(public_keys) == 1 else 'are'} "
                      f"{given}")
    public_key = named[0]
    try:
        signature = base64.b64decode(signature_b64.encode("ascii"), validate=True)
    except ValueError:
        raise Failure("signature is not base64") from None
    if len(signature) != 64:
        raise Failure("signature must be 64 bytes")
    message = (
        f"{CHECKPOINT_HEADER}\n{size}\n{base64.b64encode(root).decode('ascii')}\n{signed_at}\n"
    ).encode()
    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        raise Failure("signature does not match the checkpoint") from None
    return root


def check_checkpoint(args: argparse.Namespace) -> str:
    cp = read_json(args.checkpoint, "checkpoint")
    verify_signed(cp, load_public_keys(args.public_key))
    return f"checkpoint size={cp['size']} root={cp['root']} signed_at={cp['signed_at']} key_id={cp['key_id']}"


def check_inclusion(args: argparse.Namespace) -> str:
    leaf = parse_hash(args.leaf_hash, "leaf hash")
    root = parse_hash(args.root, "root")
    if not verify_inclusion(leaf, args.index, args.size, read_proof(args.proof), root):
        raise Failure(f"leaf {args.index} is not proven in the tree of size {args.size}")
    return f"leaf {args.index} is included in the tree of size {args.size}"


def check_consistency(args: argparse.Namespace) -> str:
    old_root = parse_hash(args.old_root, "old root")
    new_root = parse_hash(args.new_root, "new root")
    proof = read_proof(args.proof)
    if not verify_consistency(args.old_size, args.new_size, old_root, new_root, proof):
        raise Failure(f"tree of size {args.new_size} is not proven to extend size {args.old_size}")
    return f"tree of size {args.new_size} extends the tree of size {args.old_size}"


GENESIS = "0" * 64
HEX = set("0123456789abcdef")
EXPORT_FORMAT = "platform-registry audit export v1"


def recorded_prev_hash(state: bytes) -> str | None:
    """The top-level ``prev_hash`` of an event's stored JSON, as the application reads it; None
    if the state is not a JSON object or the value is missing or not 64 lowercase hex digits."""
    try:
        doc = json.loads(state)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    value = doc.get("prev_hash") if isinstance(doc, dict) else None
    if isinstance(value, str) and len(value) == 64 and set(value) <= HEX:
        return value
    return None


def read_objects(path: str) -> Iterator[tuple[int, dict]]:
    """Each non-blank line of a JSON Lines file as (line number, object), read one at a time."""
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise Failure(f"cannot read export {path}: {exc}") from None
    with handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except (ValueError, UnicodeDecodeError, RecursionError) as exc:
                raise Failure(f"line {lineno}: not JSON ({exc})") from None
            if not isinstance(item, dict):
                raise Failure(f"line {lineno}: not a JSON object")
            yield lineno, item


def parse_row(lineno: int, item: dict) -> tuple[int, str, int, str, bytes]:
    """(position, id_hex, sequence, topic, stored bytes) of an exported row."""
    try:
        position, id_hex, version = item["position"], item["id_hex"], item["sequence"]
        topic, state = item["topic"], base64.b64decode(item["state_b64"], validate=True)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (position, version)):
            raise ValueError("position and sequence must be integers")
        if not isinstance(id_hex, str) or not isinstance(topic, str):
            raise ValueError("id_hex and topic must be strings")
    except (ValueError, KeyError, TypeError) as exc:
        raise Failure(f"line {lineno}: not an export row ({type(exc).__name__}: {exc})") from None
    return position, id_hex, version, topic, state


class Rows:
    """Every check of the exported rows, in one pass in log order with bounded memory (one chain
    tip per stream and O(log n) Merkle hashes): each row's hash recomputed from its stored bytes
    and compared with what the export claims, each stream's versions 1, 2, 3... and prev_hash
    links, positions increasing, and the Merkle root at every size a signed root is expected."""

    def __init__(self) -> None:
        self.tips: dict[str, tuple[int, str, int]] = {}  # stream -> (version, hash hex, position)
        self.subtrees: list[tuple[int, bytes]] = []  # (height, hash) of perfect subtrees, left to right
        self.count = 0
        self.last_position: int | None = None
        self.expected: dict[int, list[tuple[str, str]]] = {}  # size -> [(what, signed root hex)]
        self.problems: list[str] = []

    def expect_root(self, size: int, root_hex: str, what: str) -> None:
        """Compare the root of the first ``size`` rows with ``root_hex`` once they have passed."""
        self.expected.setdefault(size, []).append((what, root_hex))

    def add(self, lineno: int, item: dict) -> None:
        position, id_hex, version, topic, state = parse_row(lineno, item)
        where = f"position {position} (stream {id_hex}, version {version})"
        if self.last_position is not None and position <= self.last_position:
            self.problems.append(f"{where}: positions must increase, it follows position {self.last_position}")
        self.last_position = position
        digest = hashlib.sha256(b"\x00" + f"{topic}\n{id_hex}\n{version}\n".encode() + state).digest()
        recorded = recorded_prev_hash(state)
        self._claims(where, item, digest.hex(), recorded)
        self._link(where, id_hex, version, recorded)
        self.tips[id_hex] = (version, digest.hex(), position)
        self._append(digest)  # the event hash is the row's RFC 9162 leaf hash
        for what, root_hex in self.expected.pop(self.count, []):
            self._compare(what, root_hex, f"up to position {position}")

    def _claims(self, where: str, item: dict, digest_hex: str, recorded: str | None) -> None:
        for field in ("hash", "leaf_hash"):
            if item.get(field) not in (None, digest_hex):
                self.problems.append(f"{where}: the export claims {field} {item.get(field)}, "
                                     f"the stored bytes hash to {digest_hex}")
        if "prev_hash" in item and recorded is not None and item["prev_hash"] != recorded:
            self.problems.append(f"{where}: the export claims prev_hash {item['prev_hash']}, "
                                 f"the stored JSON records {recorded}")

    def _link(self, where: str, id_hex: str, version: int, recorded: str | None) -> None:
        previous = self.tips.get(id_hex)
        expected_version = 1 if previous is None else previous[0] + 1
        if version != expected_version:
            self.problems.append(f"{where}: version {expected_version} was expected (missing or reordered events)")
        elif recorded is None:
            self.problems.append(f"{where}: no well-formed prev_hash in the stored bytes")
        elif previous is None and recorded != GENESIS:
            self.problems.append(f"{where}: the first event of a stream must have prev_hash {GENESIS}")
        elif previous is not None and recorded != previous[1]:
            self.problems.append(f"{where}: prev_hash {recorded[:16]}... is not the hash {previous[1][:16]}... "
                                 f"of the event before it at position {previous[2]} (one of the two was altered)")

    def _append(self, leaf: bytes) -> None:
        node, height = leaf, 0
        while self.subtrees and self.subtrees[-1][0] == height:
            node = node_hash(self.subtrees.pop()[1], node)
            height += 1
        self.subtrees.append((height, node))
        self.count += 1

    def root(self) -> bytes:
        """RFC 9162 MTH of the rows so far: the perfect subtrees folded right to left."""
        if not self.subtrees:
            return EMPTY_ROOT
        acc = self.subtrees[-1][1]
        for _, subtree in reversed(self.subtrees[:-1]):
            acc = node_hash(subtree, acc)
        return acc

    def _compare(self, what: str, root_hex: str, where: str) -> None:
        root = self.root().hex()
        if root != root_hex:
            self.problems.append(f"{what}: the first {self.count} rows ({where}) have Merkle root {root}, "
                                 f"the signed root is {root_hex}")

    def finish(self) -> None:
        """Judge the signed roots the rows never reached: size 0 (the empty tree) or beyond them."""
        for size, wanted in sorted(self.expected.items()):
            for what, root_hex in wanted:
                if size == 0:
                    self._compare(what, root_hex, "none of them")
                else:
                    self.problems.append(f"{what} covers {size} rows, the export holds only {self.count}")
        self.expected.clear()

    def verdict(self, detail: str) -> str:
        if self.problems:
            more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
            raise Failure("; ".join(self.problems[:5]) + more)
        return detail


def check_chain(args: argparse.Namespace) -> str:
    """The rows of an export (its other lines are skipped), optionally against a checkpoint
    the auditor holds."""
    rows = Rows()
    if args.checkpoint:
        if not args.public_key:
            raise Failure("--checkpoint needs --public-key")
        cp = read_json(args.checkpoint, "checkpoint")
        verify_signed(cp, load_public_keys(args.public_key))
        rows.expect_root(cp["size"], cp["root"], f"the signed checkpoint of size {cp['size']}")
    for lineno, item in read_objects(args.export):
        if item.get("kind", "event") == "event":
            rows.add(lineno, item)
    rows.finish()
    detail = f"{rows.count} events in {len(rows.tips)} streams chain correctly"
    if args.checkpoint:
        detail += f"; the first {cp['size']} match the signed checkpoint root {cp['root']}"
    return rows.verdict(detail)


def read_header(objects: Iterator[tuple[int, dict]]) -> dict:
    """The export's first line, which must be its header."""
    first = next(objects, None)
    if first is None:
        raise Failure("the export is empty")
    lineno, header = first
    if header.get("kind") != "header" or header.get("format") != EXPORT_FORMAT:
        raise Failure(f"line {lineno}: not an export header of format {EXPORT_FORMAT!r}")
    if not all(type(header.get(k)) is int for k in ("size", "checkpoints")):
        raise Failure(f"line {lineno}: the header's size and checkpoints must be integers")
    return header


def expect_checkpoint(rows: Rows, lineno: int, item: dict, public_keys: list[Ed25519PublicKey]) -> bool:
    """Check one checkpoint line's signature and expect its root; False if it does not hold."""
    what = f"checkpoint (line {lineno}, size {item.get('size')}, signed {item.get('signed_at')})"
    if rows.count:
        rows.problems.append(f"{what}: checkpoints must come before the rows")
        return False
    try:
        verify_signed(item, public_keys)
    except Failure as exc:
        rows.problems.append(f"{what}: {exc}")
        return False
    rows.expect_root(item["size"], item["root"], what)
    return True


def check_trailer(rows: Rows, header: dict, trailer: dict | None, signed: int) -> None:
    """The end of the export: its trailer present and agreeing with the rows and the header."""
    at = f"position {rows.last_position}" if rows.last_position is not None else "the start"
    if trailer is None:
        rows.problems.append(f"truncated: no trailer line after {rows.count} rows (last {at})")
        return
    if trailer.get("size") != rows.count or header["size"] != rows.count:
        rows.problems.append(f"the header announced {header['size']} rows and the trailer {trailer.get('size')}, "
                             f"the export holds {rows.count} (last {at})")
    if trailer.get("root") != rows.root().hex():
        rows.problems.append(f"the trailer's root {trailer.get('root')} is not the Merkle root of the "
                             f"{rows.count} rows, {rows.root().hex()}")
    if header["checkpoints"] != signed:
        rows.problems.append(f"the header announced {header['checkpoints']} checkpoints, {signed} verified")
    if not signed:
        rows.problems.append("no signed checkpoint in the export: nothing in it is attested by the key")


def check_export(args: argparse.Namespace) -> str:
    """A whole ``GET /audit/export`` download, end to end, under the given public key."""
    public_keys = load_public_keys(args.public_key)
    objects = read_objects(args.export)
    header = read_header(objects)
    rows, signed, attested, trailer = Rows(), 0, 0, None
    for lineno, item in objects:
        kind = item.get("kind")
        if trailer is not None:
            rows.problems.append(f"line {lineno}: a {kind} line after the trailer")
        elif kind == "checkpoint":
            if expect_checkpoint(rows, lineno, item, public_keys):
                signed, attested = signed + 1, max(attested, item["size"])
        elif kind == "event":
            rows.add(lineno, item)
        elif kind == "trailer":
            trailer = item
        else:
            rows.problems.append(f"line {lineno}: unknown kind {kind!r}")
    rows.finish()
    check_trailer(rows, header, trailer, signed)
    return rows.verdict(f"{rows.count} events in {len(rows.tips)} streams chain correctly, Merkle root "
                        f"{rows.root().hex()}; {signed} signed checkpoint(s) verified and matched, the latest "
                        f"covering {attested} events ({rows.count - attested} not yet attested)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Verify platform-registry checkpoints, Merkle proofs and log exports offline."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("checkpoint", help="verify a signed checkpoint")
    p.add_argument("--checkpoint", required=True, help="checkpoint JSON file")
    p.add_argument("--public-key", required=True, action="append",
                   help="Ed25519 public key PEM file (again for each retired key)")
    p.set_defaults(check=check_checkpoint)

    p = sub.add_parser("inclusion", help="verify that an event is in a tree")
    p.add_argument("--leaf-hash", required=True, help="hex SHA-256(0x00 || event bytes)")
    p.add_argument("--index", required=True, type=int, help="0-based position of the event")
    p.add_argument("--size", required=True, type=int, help="tree size (from the checkpoint)")
    p.add_argument("--proof", required=True, help="audit path JSON file")
    p.add_argument("--root", required=True, help="hex tree root (from the checkpoint)")
    p.set_defaults(check=check_inclusion)

    p = sub.add_parser("consistency", help="verify that a tree only appended to an older one")
    p.add_argument("--old-size", required=True, type=int)
    p.add_argument("--new-size", required=True, type=int)
    p.add_argument("--old-root", required=True, help="hex root of the older tree")
    p.add_argument("--new-root", required=True, help="hex root of the newer tree")
    p.add_argument("--proof", required=True, help="consistency proof JSON file")
    p.set_defaults(check=check_consistency)

    p = sub.add_parser("chain", help="recompute the hash chain (and Merkle root) of an export's rows")
    p.add_argument("--export", required=True, help="export JSON Lines file")
    p.add_argument("--checkpoint", help="signed checkpoint JSON: also check the export's Merkle root")
    p.add_argument("--public-key", action="append",
                   help="Ed25519 public key PEM file (with --checkpoint; again for each retired key)")
    p.set_defaults(check=check_chain)

    p = sub.add_parser("export", help="verify a whole export: rows, chains, trailer, every checkpoint it carries")
    p.add_argument("--export", required=True, help="``GET /audit/export`` / ``platforms audit export`` file")
    p.add_argument("--public-key", required=True, action="append",
                   help="Ed25519 public key PEM file, obtained from the operator; after a rotation of the "
                        "registry's key, once for the current key and once for each retired key")
    p.set_defaults(check=check_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        detail = args.check(args)
    except Failure as exc:
        print(f"FAILED: {exc}")
        return 1
    print(f"OK: {detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
