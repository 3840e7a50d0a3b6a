"""Tests for audit.merkle against RFC 9162 2.1 and the CT reference vectors.

Every optimised routine in the module is cross-checked against a naive,
literally transcribed recursive reference defined here, so a vector that was
mis-remembered could not silently agree with a buggy implementation.
"""

from __future__ import annotations

import hashlib

import pytest

from audit.merkle import (
    EMPTY_ROOT,
    StreamingRoot,
    SubtreeLevels,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

# --- naive reference, transcribed from RFC 9162 2.1 -------------------------


def _sha(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(leaves: list[bytes]) -> bytes:
    """MTH over raw leaf data, recursively."""
    n = len(leaves)
    if n == 0:
        return _sha(b"")
    if n == 1:
        return _sha(b"\x00" + leaves[0])
    k = _k(n)
    return _sha(b"\x01" + ref_mth(leaves[:k]) + ref_mth(leaves[k:]))


def ref_path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return ref_path(m, leaves[:k]) + [ref_mth(leaves[k:])]
    return ref_path(m - k, leaves[k:]) + [ref_mth(leaves[:k])]


def ref_subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if b else [ref_mth(leaves)]
    k = _k(n)
    if m <= k:
        return ref_subproof(m, leaves[:k], b) + [ref_mth(leaves[k:])]
    return ref_subproof(m - k, leaves[k:], False) + [ref_mth(leaves[:k])]


def ref_root_from_path(lh: bytes, m: int, n: int, path: list[bytes]) -> bytes | None:
    """Root implied by an audit path if its shape fits (m, n), else None."""
    if n == 1:
        return lh if not path else None
    if not path:
        return None
    k = _k(n)
    if m < k:
        sub = ref_root_from_path(lh, m, k, path[:-1])
        return None if sub is None else _sha(b"\x01" + sub + path[-1])
    sub = ref_root_from_path(lh, m - k, n - k, path[:-1])
    return None if sub is None else _sha(b"\x01" + path[-1] + sub)


def ref_consistency_roots(
    m: int, n: int, proof: list[bytes], old_root: bytes, b: bool
) -> tuple[bytes, bytes] | None:
    """(old root, new root) implied by reading ``proof`` as SUBPROOF(m, D[n], b).

    Returns None if the proof's length does not fit; ``old_root`` stands in
    for the subtree the verifier already knows (the whole old tree).
    """
    if m == n:
        if b:
            return (old_root, old_root) if not proof else None
        return (proof[0], proof[0]) if len(proof) == 1 else None
    if not proof:
        return None
    k = _k(n)
    s = proof[-1]
    if m <= k:
        sub = ref_consistency_roots(m, k, proof[:-1], old_root, b)
        return None if sub is None else (sub[0], _sha(b"\x01" + sub[1] + s))
    sub = ref_consistency_roots(m - k, n - k, proof[:-1], old_root, False)
    if sub is None:
        return None
    return _sha(b"\x01" + s + sub[0]), _sha(b"\x01" + s + sub[1])


# --- fixtures ---------------------------------------------------------------

# Leaves and roots of the Certificate Transparency reference test suites.
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
CT_ROOTS = {
    0: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
# (index, size, path) and (old, new, proof) over CT_LEAVES.
CT_INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CT_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

MAX_SIZE = 33
LEAVES = [f"event-{i}".encode() for i in range(MAX_SIZE + 8)]
HASHES = [leaf_hash(x) for x in LEAVES]
ROOTS = [ref_mth(LEAVES[:n]) for n in range(len(LEAVES) + 1)]


def _flip(h: bytes, bit: int) -> bytes:
    b = bytearray(h)
    b[bit // 8 % len(b)] ^= 1 << (bit % 8)
    return bytes(b)


def _flipped_variants(proof: list[bytes]):
    """Each proof element with, in turn, its first, last and a varying bit flipped."""
    for pos in range(len(proof)):
        for bit in (0, 255, 37 * pos + 11):
            yield proof[:pos] + [_flip(proof[pos], bit)] + proof[pos + 1 :]


# --- hashing and roots ------------------------------------------------------


def test_hash_primitives_follow_rfc_prefixes():
    assert leaf_hash(b"abc") == _sha(b"\x00abc")
    assert node_hash(b"L" * 32, b"R" * 32) == _sha(b"\x01" + b"L" * 32 + b"R" * 32)
    assert EMPTY_ROOT.hex() == CT_ROOTS[0]


def test_ct_reference_roots():
    hashes = [leaf_hash(x) for x in CT_LEAVES]
    for size, expected in CT_ROOTS.items():
        assert root_from_leaf_hashes(hashes[:size]).hex() == expected
        assert ref_mth(CT_LEAVES[:size]).hex() == expected


@pytest.mark.parametrize(("index", "size", "path"), CT_INCLUSION)
def test_ct_reference_inclusion_proofs(index, size, path):
    hashes = [leaf_hash(x) for x in CT_LEAVES[:size]]
    proof = inclusion_proof(index, hashes)
    assert [p.hex() for p in proof] == path
    assert verify_inclusion(hashes[index], index, size, proof, bytes.fromhex(CT_ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "path"), CT_CONSISTENCY)
def test_ct_reference_consistency_proofs(old, new, path):
    hashes = [leaf_hash(x) for x in CT_LEAVES[:new]]
    proof = consistency_proof(old, hashes)
    assert [p.hex() for p in proof] == path
    assert verify_consistency(
        old, new, bytes.fromhex(CT_ROOTS[old]), bytes.fromhex(CT_ROOTS[new]), proof
    )


def test_roots_match_reference_for_many_sizes():
    for n in range(len(LEAVES) + 1):
        assert root_from_leaf_hashes(HASHES[:n]) == ROOTS[n]


def test_streaming_root_matches_batch_root_and_stays_logarithmic():
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(100)]
    acc = StreamingRoot()
    assert acc.root() == root_from_leaf_hashes([]) == EMPTY_ROOT
    for n in range(1, 101):
        acc.append(hashes[n - 1])
        assert acc.size == n
        assert acc.root() == root_from_leaf_hashes(hashes[:n])
        # One retained hash per perfect subtree: popcount(n) <= log2(n) + 1.
        assert len(acc._stack) == bin(n).count("1")


def test_subtree_levels_give_every_prefix_the_streaming_stack():
    """What a split verification joins: the part's subtrees at any prefix (a checkpoint's size,
    the part's end) are those the one-pass scan holds there, so the roots agree."""
    data = [i.to_bytes(4, "big") for i in range(70)]
    hashes = [leaf_hash(d) for d in data]
    tree = SubtreeLevels(hashes)
    acc = StreamingRoot()
    assert tree.stack(0) == []
    for n in range(1, 71):
        acc.append(hashes[n - 1])
        assert tree.stack(n) == acc._stack
        folded = tree.stack(n)[-1]
        for subtree in reversed(tree.stack(n)[:-1]):
            folded = node_hash(subtree, folded)
        assert folded == ref_mth(data[:n])


def test_streaming_root_rejects_non_hash():
    with pytest.raises(ValueError):
        StreamingRoot().append(b"short")


# --- inclusion --------------------------------------------------------------


def test_every_inclusion_proof_verifies_and_matches_reference():
    for n in range(1, MAX_SIZE + 1):
        for i in range(n):
            proof = inclusion_proof(i, HASHES[:n])
            assert proof == ref_path(i, LEAVES[:n])
            assert verify_inclusion(HASHES[i], i, n, proof, ROOTS[n])


def test_corrupted_inclusion_proofs_fail():
    for n in range(1, MAX_SIZE + 1):
        root = ROOTS[n]
        for i in range(n):
            lh = HASHES[i]
            proof = inclusion_proof(i, HASHES[:n])
            for j in range(n + 3):
                if j != i:
                    assert not verify_inclusion(lh, j, n, proof, root), (n, i, j)
            assert not verify_inclusion(HASHES[i + 1], i, n, proof, root)
            assert not verify_inclusion(_flip(lh, 3), i, n, proof, root)
            for bad in _flipped_variants(proof):
                assert not verify_inclusion(lh, i, n, bad, root)
            if proof:
                assert not verify_inclusion(lh, i, n, proof[:-1], root)
                assert not verify_inclusion(lh, i, n, proof[1:], root)
            assert not verify_inclusion(lh, i, n, proof + [proof[-1] if proof else lh], root)
            assert not verify_inclusion(lh, i, n, proof + [HASHES[0]], root)
            assert not verify_inclusion(lh, i, n, proof, _flip(root, 200))
            assert not verify_inclusion(lh, i, n, proof, ROOTS[n + 1])


def test_inclusion_wrong_size_fails_unless_path_shape_coincides():
    """An audit path does not encode the tree size by itself.

    RFC 9162 trees of different sizes can share the exact same path shape
    (leaf 0 of a 3-leaf and of a 4-leaf tree both climb left, left), so a
    wrong size is only detectable when the shape differs; that is why the
    size an auditor checks against must come from a signed checkpoint.  We
    require the verifier to accept exactly what the naive definition does.
    """
    rejected = 0
    for n in range(1, MAX_SIZE + 1):
        for i in range(n):
            proof = inclusion_proof(i, HASHES[:n])
            for wrong in range(0, MAX_SIZE + 8):
                if wrong == n:
                    continue
                got = verify_inclusion(HASHES[i], i, wrong, proof, ROOTS[n])
                implied = ref_root_from_path(HASHES[i], i, wrong, proof) if i < wrong else None
                assert got == (implied == ROOTS[n]), (n, i, wrong)
                rejected += not got
    assert rejected > 0
    assert not verify_inclusion(HASHES[2], 2, 4, inclusion_proof(2, HASHES[:3]), ROOTS[3])


def test_verify_inclusion_never_raises_on_malformed_input():
    proof = inclusion_proof(1, HASHES[:4])
    root, lh = ROOTS[4], HASHES[1]
    cases = [
        (lh, 4, 4, proof, root),  # index == size
        (lh, 9, 4, proof, root),  # index > size
        (lh, -1, 4, proof, root),
        (lh, 1, 0, [], root),
        (lh, 1, -4, proof, root),
        (lh, True, 4, proof, root),
        (lh, 1.0, 4, proof, root),
        (lh, "1", 4, proof, root),
        (lh, 1, 4, None, root),
        (lh, 1, 4, [p[:31] for p in proof], root),
        (lh, 1, 4, [p + b"\x00" for p in proof], root),
        (lh, 1, 4, [p.hex() for p in proof], root),
        (lh, 1, 4, b"".join(proof), root),
        (lh[:31], 1, 4, proof, root),
        (lh, 1, 4, proof, root.hex()),
        (None, 1, 4, proof, None),
    ]
    for args in cases:
        assert verify_inclusion(*args) is False, args


def test_inclusion_proof_rejects_out_of_range_index():
    with pytest.raises(ValueError):
        inclusion_proof(3, HASHES[:3])
    with pytest.raises(ValueError):
        inclusion_proof(-1, HASHES[:3])
    with pytest.raises(ValueError):
        inclusion_proof(0, [])


# --- consistency ------------------------------------------------------------


def test_every_consistency_proof_verifies_and_matches_reference():
    for n in range(0, MAX_SIZE + 1):
        for m in range(0, n + 1):
            proof = consistency_proof(m, HASHES[:n])
            expected = [] if m in (0, n) else ref_subproof(m, LEAVES[:n], True)
            assert proof == expected, (m, n)
            assert verify_consistency(m, n, ROOTS[m], ROOTS[n], proof), (m, n)


def test_corrupted_consistency_proofs_fail():
    for n in range(1, MAX_SIZE + 1):
        for m in range(0, n + 1):
            proof = consistency_proof(m, HASHES[:n])
            old, new = ROOTS[m], ROOTS[n]
            for bad in _flipped_variants(proof):
                assert not verify_consistency(m, n, old, new, bad), (m, n)
            if proof:
                assert not verify_consistency(m, n, old, new, proof[:-1])
                assert not verify_consistency(m, n, old, new, proof[1:])
            assert not verify_consistency(m, n, old, new, proof + [HASHES[0]])
            assert not verify_consistency(m, n, old, new, [HASHES[0]] + proof)
            assert not verify_consistency(m, n, _flip(old, 9), new, proof)
            # Swapped direction: a log can never shrink.
            if m < n:
                assert not verify_consistency(n, m, new, old, proof)
            if m == 0:
                # Every log extends the empty one; only the old root can be wrong.
                continue
            assert not verify_consistency(m, n, old, _flip(new, 9), proof)
            assert not verify_consistency(m, n, old, ROOTS[n + 1], proof)
            assert not verify_consistency(m, n, ROOTS[m - 1], new, proof)


def test_consistency_wrong_sizes_fail_unless_proof_shape_coincides():
    """Wrong sizes fail exactly when the naive definition rejects them.

    As with audit paths, a consistency proof can stay valid under other
    sizes that give it the same shape, so sizes must come from signed
    checkpoints; the verifier must accept precisely what the definition does.
    """
    rejected = 0
    for n in range(1, MAX_SIZE + 1):
        for m in range(1, n):
            proof = consistency_proof(m, HASHES[:n])
            old, new = ROOTS[m], ROOTS[n]
            for m2 in range(0, MAX_SIZE + 2):
                for n2 in range(max(m2, 1), MAX_SIZE + 2):
                    if (m2, n2) == (m, n):
                        continue
                    got = verify_consistency(m2, n2, old, new, proof)
                    if m2 in (0, n2):
                        assert not got, (m, n, m2, n2)
                    else:
                        implied = ref_consistency_roots(m2, n2, proof, old, True)
                        assert got == (implied == (old, new)), (m, n, m2, n2)
                    rejected += not got
    assert rejected > 0
    assert not verify_consistency(2, 8, ROOTS[3], ROOTS[8], consistency_proof(3, HASHES[:8]))


def test_verify_consistency_edge_cases_and_malformed_input():
    proof = consistency_proof(3, HASHES[:7])
    old, new = ROOTS[3], ROOTS[7]
    assert verify_consistency(0, 7, EMPTY_ROOT, new, [])
    assert not verify_consistency(0, 7, EMPTY_ROOT, new, proof)
    assert not verify_consistency(0, 7, EMPTY_ROOT, new, [new])
    assert not verify_consistency(0, 7, old, new, [])
    assert verify_consistency(7, 7, new, new, [])
    assert not verify_consistency(7, 7, new, new, [new])
    assert not verify_consistency(7, 7, old, new, [])
    assert not verify_consistency(3, 7, old, new, [])
    assert not verify_consistency(7, 3, new, old, proof)
    cases = [
        (-1, 7, old, new, proof),
        (3, -7, old, new, proof),
        (True, 7, old, new, proof),
        (3.0, 7, old, new, proof),
        (3, 7, old, new, None),
        (3, 7, old, new, [p[:16] for p in proof]),
        (3, 7, old, new, [p.hex() for p in proof]),
        (3, 7, old[:31], new, proof),
        (3, 7, old, None, proof),
    ]
    for args in cases:
        assert verify_consistency(*args) is False, args


def test_consistency_proof_rejects_out_of_range_size():
    with pytest.raises(ValueError):
        consistency_proof(4, HASHES[:3])
    with pytest.raises(ValueError):
        consistency_proof(-1, HASHES[:3])
