"""Merkle tree over the event log, exactly as Certificate Transparency defines it.

Why a Merkle tree: auditors must be able to prove that no stored event was
altered, removed or reordered after the fact.  A signed root commits to every
event at once; an *inclusion proof* shows one event is in a committed log with
O(log n) hashes, and a *consistency proof* shows a later log is an append-only
extension of an earlier one, so a checkpoint published yesterday still binds
today's log.

Why RFC 9162 section 2.1 (identical to RFC 6962 section 2.1) rather than a
home-grown scheme: the construction is public, has independent
implementations and known test vectors, so an outside auditor can check our
proofs without trusting our code.  Concretely:

* leaf hash  = SHA-256(0x00 || leaf bytes)
* node hash  = SHA-256(0x01 || left || right)
  (the distinct prefixes stop a leaf from being passed off as an inner node,
  the second-preimage attack on naive Merkle trees)
* MTH({})    = SHA-256("")                      (the empty tree)
* MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n])) with k the largest power of two
  smaller than n; there is no padding or leaf duplication.

Proof generators take the full list of leaf hashes and raise ``ValueError`` on
impossible requests (they run on trusted data).  Verifiers run on untrusted
input and therefore return ``False`` for anything malformed and never raise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "StreamingRoot",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """Hash one serialized event as a leaf: SHA-256(0x00 || data)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash two child hashes into their parent: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


class StreamingRoot:
    """Incremental tree root that holds only O(log n) hashes.

    The verifier re-derives the root of the whole event log (a million events
    or more) while reading it once from the store, so it must not keep every
    leaf in memory.  The log of ``size`` leaves decomposes uniquely into
    perfect subtrees whose sizes are the set bits of ``size``, largest first;
    we keep one hash per set bit.  Appending a leaf merges equal-sized
    subtrees exactly like a binary counter carries, and the root folds the
    subtrees right to left, which is precisely the RFC's "split at the largest
    power of two" recursion unrolled.
    """

    __slots__ = ("_size", "_stack")

    def __init__(self) -> None:
        self._size = 0
        self._stack: list[bytes] = []

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    def append(self, leaf_hash: bytes) -> None:
        """Add the next leaf (already leaf-hashed) to the right of the tree."""
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"leaf hash must be {HASH_SIZE} bytes")
        self._stack.append(bytes(leaf_hash))
        self._size += 1
        # Each trailing zero bit of the new size is a carry: two perfect
        # subtrees of equal size have become one twice as large.
        carries = self._size
        while carries & 1 == 0:
            right = self._stack.pop()
            self._stack[-1] = node_hash(self._stack[-1], right)
            carries >>= 1

    def root(self) -> bytes:
        """Return MTH of all leaves appended so far (SHA-256("") if none)."""
        if not self._stack:
            return EMPTY_ROOT
        acc = self._stack[-1]
        for subtree in reversed(self._stack[:-1]):
            acc = node_hash(subtree, acc)
        return acc


class SubtreeLevels:
    """Every complete node over a run of leaf hashes, level by level: ``levels[0]`` the leaves,
    ``levels[k]`` the hashes of the aligned perfect subtrees of ``2**k`` leaves. Built a level at a
    time (one list comprehension per level, where :class:`StreamingRoot` runs a loop per leaf), for
    a verifier that holds a part of the log's leaf hashes anyway; from it, the stack of perfect
    subtrees of any prefix (:meth:`stack`), the same as :class:`StreamingRoot`'s at that size."""

    __slots__ = ("levels",)

    def __init__(self, leaf_hashes: list[bytes]) -> None:
        sha256 = hashlib.sha256
        level = leaf_hashes
        self.levels = [level]
        while len(level) > 1:
            # an odd last hash has no sibling yet: it is not a complete node's child
            level = [sha256(_NODE_PREFIX + left + right).digest()
                     for left, right in zip(level[0::2], level[1::2], strict=False)]
            self.levels.append(level)

    def stack(self, size: int) -> list[bytes]:
        """The perfect subtrees of the first ``size`` leaves, largest first."""
        stack = []
        start = 0
        for k in range(size.bit_length() - 1, -1, -1):
            if size >> k & 1:
                stack.append(self.levels[k][start >> k])
                start += 1 << k
        return stack


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle Tree Hash (RFC 9162 2.1.1) of the given leaf hashes."""
    acc = StreamingRoot()
    for h in hashes:
        acc.append(h)
    return acc.root()


def _split(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (for ``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Audit path PATH(index, D[n]) of RFC 9162 2.1.3.1, ordered leaf to root.

    Iterative descent: at each level we follow the side holding ``index``
    and record the root of the other side, then reverse so the proof starts
    with the sibling nearest the leaf, as the verifier consumes it.
    """
    n = len(leaf_hashes)
    if not 0 <= index < n:
        raise ValueError(f"index {index} out of range for tree of size {n}")
    siblings: list[bytes] = []
    lo, hi, m = 0, n, index
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < k:
            siblings.append(root_from_leaf_hashes(leaf_hashes[lo + k : hi]))
            hi = lo + k
        else:
            siblings.append(root_from_leaf_hashes(leaf_hashes[lo : lo + k]))
            lo, m = lo + k, m - k
    siblings.reverse()
    return siblings


def consistency_proof(old_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Consistency proof PROOF(old_size, D[n]) of RFC 9162 2.1.4.1 (SUBPROOF).

    Empty when ``old_size`` is 0 or equals the current size: there is
    nothing to prove beyond comparing roots.
    """
    n = len(leaf_hashes)
    if not 0 <= old_size <= n:
        raise ValueError(f"old size {old_size} out of range for tree of size {n}")
    if old_size in (0, n):
        return []
    nodes: list[bytes] = []
    lo, hi, m, whole_old_tree = 0, n, old_size, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            nodes.append(root_from_leaf_hashes(leaf_hashes[lo + k : hi]))
            hi = lo + k
        else:
            nodes.append(root_from_leaf_hashes(leaf_hashes[lo : lo + k]))
            lo, m, whole_old_tree = lo + k, m - k, False
    # SUBPROOF(m, D[m], b): nothing if this subtree is the whole old tree
    # (the verifier already knows its root), else that subtree's root.
    if not whole_old_tree:
        nodes.append(root_from_leaf_hashes(leaf_hashes[lo:hi]))
    nodes.reverse()
    return nodes


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_hash(value: object) -> bool:
    return isinstance(value, (bytes, bytearray)) and len(value) == HASH_SIZE


def _is_proof(proof: object) -> bool:
    return isinstance(proof, (list, tuple)) and all(_is_hash(p) for p in proof)


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Check an audit path with the algorithm of RFC 9162 2.1.3.2.

    ``fn`` walks the leaf's position and ``sn`` the last leaf's position up
    the tree; where the leaf's node is the rightmost one and has no right
    sibling (``fn == sn`` with ``fn`` even) the level is skipped, because
    RFC 9162 trees promote such nodes unchanged.
    """
    if not (_is_hash(leaf_hash) and _is_hash(root) and _is_proof(proof)):
        return False
    if not (_is_size(index) and _is_size(size)) or index >= size:
        return False
    fn, sn = index, size - 1
    r = bytes(leaf_hash)
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
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: Sequence[bytes],
) -> bool:
    """Check a consistency proof with the algorithm of RFC 9162 2.1.4.2.

    The RFC algorithm covers ``0 < old_size < new_size``; the two edge cases
    are decided here: equal sizes need an empty proof and equal roots, and
    an old size of 0 needs an empty proof and the empty-tree root (every log
    extends the empty log, but a checkpoint claiming size 0 with any other
    root is not a valid tree head).
    """
    if not (_is_hash(old_root) and _is_hash(new_root) and _is_proof(proof)):
        return False
    if not (_is_size(old_size) and _is_size(new_size)) or old_size > new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False

    path = list(proof)
    if old_size & (old_size - 1) == 0:
        # A power-of-two old tree is itself a node of the new tree, so the
        # proof omits it and the verifier starts from the known old root.
        path.insert(0, bytes(old_root))
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
