#!/usr/bin/env python3
"""Offline verifier for platform-registry checkpoints and Merkle proofs.

Meant for outside auditors: it needs only the Python standard library and
the ``cryptography`` package, and deliberately does not import the registry's
own code, so checking the registry does not mean trusting the registry.  The
few hash routines it needs are re-stated here from RFC 9162 section 2.1
(identical to RFC 6962 2.1):

    leaf hash = SHA-256(0x00 || event bytes)
    node hash = SHA-256(0x01 || left || right)

Usage (prints ``OK ...`` and exits 0, or ``FAILED: reason`` and exits 1)::

    verify_offline.py checkpoint  --checkpoint cp.json --public-key key.pem
    verify_offline.py inclusion   --leaf-hash HEX --index I --size N \\
                                  --proof proof.json --root HEX
    verify_offline.py consistency --old-size M --new-size N --old-root HEX \\
                                  --new-root HEX --proof proof.json
    verify_offline.py chain       --export log.jsonl \\
                                  [--checkpoint cp.json --public-key key.pem]

Inputs:

* ``cp.json``: ``{"size": int, "root": hex, "signed_at": str, "key_id": hex,
  "signature": base64}``.  The Ed25519 signature covers the UTF-8 text
  ``"platform-registry checkpoint v1\\n<size>\\n<root base64>\\n<signed_at>\\n"``;
  ``key_id`` must equal the first 8 bytes of SHA-256 of the raw public key.
* ``key.pem``: the registry's Ed25519 public key (SubjectPublicKeyInfo PEM).
* ``proof.json``: a JSON array of hex-encoded 32-byte hashes, ordered from the
  leaf (or old tree) upwards; an object with a ``"proof"`` array is accepted.

* ``log.jsonl``: ``platforms audit export`` output, one event per line, in log
  order; the tool uses ``position``, ``id_hex``, ``sequence``, ``topic`` and
  ``state_b64`` (the exact stored bytes) and checks the ``hash``, ``prev_hash``
  and ``leaf_hash`` the export claims against what it recomputes.

``chain`` recomputes, for every exported row::

    chain hash = leaf hash = SHA-256(0x00 || topic "\\n" id_hex "\\n" version "\\n" state bytes)

and checks each stream's versions run 1, 2, 3... and that each event's
``prev_hash`` (read from its stored JSON; 64 zeros for version 1) is the chain
hash of its predecessor. With ``--checkpoint``, it also verifies the signed
checkpoint and that the Merkle root of the export's first ``size`` rows is the
signed root, which binds the export to the signed log.

Take sizes and roots from a checkpoint whose signature you have verified: a
Merkle proof on its own does not pin down the tree size.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from pathlib import Path

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


def read_json(path: str, what: str):
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


def check_checkpoint(args: argparse.Namespace) -> str:
    cp = read_json(args.checkpoint, "checkpoint")
    if not isinstance(cp, dict):
        raise Failure("checkpoint must be a JSON object")
    size, root_hex, signed_at = cp.get("size"), cp.get("root"), cp.get("signed_at")
    key_id, signature_b64 = cp.get("key_id"), cp.get("signature")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise Failure("size must be a non-negative integer")
    if not isinstance(root_hex, str) or len(root_hex) != 64 or root_hex != root_hex.lower():
        raise Failure("root must be 64 lowercase hex characters")
    root = parse_hash(root_hex, "root")
    if not isinstance(signed_at, str) or not signed_at or "\n" in signed_at:
        raise Failure("signed_at must be a single-line string")
    if not isinstance(key_id, str) or not isinstance(signature_b64, str):
        raise Failure("key_id and signature must be strings")
    try:
        public_key = serialization.load_pem_public_key(Path(args.public_key).read_bytes())
    except (OSError, ValueError, UnsupportedAlgorithm) as exc:
        raise Failure(f"cannot load public key {args.public_key}: {exc}") from None
    if not isinstance(public_key, Ed25519PublicKey):
        raise Failure("public key is not Ed25519")
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    expected_id = hashlib.sha256(raw).digest()[:8].hex()
    if key_id != expected_id:
        raise Failure(f"checkpoint names key {key_id}, the given key is {expected_id}")
    try:
        signature = base64.b64decode(signature_b64.encode("ascii"), validate=True)
    except ValueError:
        raise Failure("signature is not base64") from None
    if len(signature) != 64:
        raise Failure("signature must be 64 bytes")
    message = (
        f"{CHECKPOINT_HEADER}\n{size}\n{base64.b64encode(root).decode('ascii')}\n{signed_at}\n"
    ).encode("utf-8")
    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        raise Failure("signature does not match the checkpoint") from None
    return f"checkpoint size={size} root={root_hex} signed_at={signed_at} key_id={key_id}"


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


PREV_KEY = b'"prev_hash":"'
GENESIS = "0" * 64
HEX = set("0123456789abcdef")


def recorded_prev_hash(state: bytes) -> str | None:
    """The prev_hash an event's stored JSON records: the first ``"prev_hash":"`` key in the
    compact JSON, or (other spacing) the top-level key; None if missing or not 64 hex digits."""
    i = state.find(PREV_KEY)
    if i >= 0 and state[i + 77:i + 78] == b'"':
        value = state[i + 13:i + 77].decode("latin-1")
        if len(value) == 64 and set(value) <= HEX:
            return value
    try:
        doc = json.loads(state)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    value = doc.get("prev_hash") if isinstance(doc, dict) else None
    if isinstance(value, str) and len(value) == 64 and set(value) <= HEX:
        return value
    return None


def merkle_root(leaves: list[bytes]) -> bytes:
    """RFC 9162 MTH over leaf hashes (split at the largest power of two below n)."""
    if not leaves:
        return EMPTY_ROOT
    level = list(leaves)
    stack: list[tuple[int, bytes]] = []  # (height, hash) of perfect subtrees, left to right
    for leaf in level:
        node, height = leaf, 0
        while stack and stack[-1][0] == height:
            node = node_hash(stack.pop()[1], node)
            height += 1
        stack.append((height, node))
    acc = stack[-1][1]
    for _, h in reversed(stack[:-1]):
        acc = node_hash(h, acc)
    return acc


def check_chain(args: argparse.Namespace) -> str:
    tips: dict[str, tuple[int, str]] = {}
    leaves: list[bytes] = []
    problems: list[str] = []
    try:
        handle = open(args.export, "rb")
    except OSError as exc:
        raise Failure(f"cannot read export {args.export}: {exc}") from None
    with handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                position, id_hex, version = item["position"], item["id_hex"], item["sequence"]
                topic, state = item["topic"], base64.b64decode(item["state_b64"], validate=True)
                if not all(isinstance(v, int) and not isinstance(v, bool) for v in (position, version)):
                    raise ValueError("position and sequence must be integers")
                if not isinstance(id_hex, str) or not isinstance(topic, str):
                    raise ValueError("id_hex and topic must be strings")
            except (ValueError, KeyError, TypeError) as exc:
                raise Failure(f"line {lineno}: not an export row ({type(exc).__name__}: {exc})") from None
            where = f"position {position} (stream {id_hex}, version {version})"
            digest = hashlib.sha256(b"\x00" + f"{topic}\n{id_hex}\n{version}\n".encode("utf-8") + state).digest()
            leaf = digest  # the event hash is the row's RFC 9162 leaf hash
            leaves.append(leaf)
            if item.get("hash") not in (None, digest.hex()):
                problems.append(f"{where}: the export claims hash {item.get('hash')}, the bytes hash to {digest.hex()}")
            if item.get("leaf_hash") not in (None, leaf.hex()):
                problems.append(f"{where}: the export claims leaf_hash {item.get('leaf_hash')}, recomputed {leaf.hex()}")
            previous = tips.get(id_hex)
            expected_version = 1 if previous is None else previous[0] + 1
            if version != expected_version:
                problems.append(f"{where}: version {expected_version} was expected (missing or reordered events)")
            else:
                recorded = recorded_prev_hash(state)
                expected = GENESIS if previous is None else previous[1]
                if recorded is None:
                    problems.append(f"{where}: no well-formed prev_hash in the stored bytes")
                elif recorded != expected:
                    problems.append(f"{where}: prev_hash {recorded[:16]}... but the event before it hashes to "
                                    f"{expected[:16]}...")
            tips[id_hex] = (version, digest.hex())
    detail = f"{len(leaves)} events in {len(tips)} streams chain correctly"
    if args.checkpoint:
        if not args.public_key:
            raise Failure("--checkpoint needs --public-key")
        check_checkpoint(args)
        cp = read_json(args.checkpoint, "checkpoint")
        size = cp["size"]
        if size > len(leaves):
            problems.append(f"the checkpoint covers {size} events, the export holds only {len(leaves)}")
        else:
            root = merkle_root(leaves[:size]).hex()
            if root != cp["root"]:
                problems.append(f"the first {size} exported events have Merkle root {root}, the signed "
                                f"checkpoint says {cp['root']}")
            else:
                detail += f"; the first {size} match the signed checkpoint root {root}"
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise Failure("; ".join(problems[:5]) + more)
    return detail


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Verify platform-registry checkpoints and Merkle proofs offline."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("checkpoint", help="verify a signed checkpoint")
    p.add_argument("--checkpoint", required=True, help="checkpoint JSON file")
    p.add_argument("--public-key", required=True, help="Ed25519 public key PEM file")
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

    p = sub.add_parser("chain", help="recompute the hash chain (and Merkle root) of a JSON Lines export")
    p.add_argument("--export", required=True, help="``platforms audit export`` JSON Lines file")
    p.add_argument("--checkpoint", help="signed checkpoint JSON: also check the export's Merkle root")
    p.add_argument("--public-key", help="Ed25519 public key PEM file (with --checkpoint)")
    p.set_defaults(check=check_chain)
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
