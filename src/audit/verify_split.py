"""The verifier's pass split over processes (分段并行校验): a long log is cut into parts of
``2**m`` events, each scanned by one process of a pool, and their summaries joined.

A split scan only ever concludes *intact*. Each part checks its rows as the one-pass scan
(:mod:`audit.verify`) does: every chain hash recomputed from the stored bytes, every link and
version within the part, every row against its seal. At the first thing that is not as the
writer left it (a row that is not a sound link, a seal that does not match, a checkpoint root
that differs, an event appended behind a checkpoint's back) it gives up, and the one-pass scan
runs and names every finding at its position. So splitting never changes a report; it only
makes a long log's OK come sooner.

How the parts are joined:

* **Merkle root**: part ``k`` holds the leaves ``k * 2**m`` to ``(k + 1) * 2**m - 1``, so a full
  part is one perfect subtree of the RFC 9162 tree, in its place; the roots of the full parts
  and the last part's stack of subtrees give the root of the whole log, and of every checkpoint's
  prefix (the parts before it, and the stack the part holding its size had at that size).
* **Chains**: a part cannot link a stream's first event in it to the stream's event before it,
  which an earlier part holds. It returns, for each stream it touches, the first event's version
  and recorded ``prev_hash`` and the last event's version and hash; the join links them in log
  order (a stream's first event ever must be version 1 with the genesis value).
* **Seal**: one snapshot (:func:`audit.rows.seal_layout`) fixes the log's extent (the last seal
  row, the number of sealed events, the highest position) and the seal rows and positions where
  parts begin. Each part reads its events by position and the seal rows holding them by ``seq``,
  and checks that they follow on and match; the join checks that the parts' seal rows follow on
  from ``seq`` 1 to the last, and that every part held exactly its number of events.

Each part reads in its own read transaction after the snapshot. Events are only appended, in
commit order on both stores (on PostgreSQL under the library's table lock), so a part's rows are
the snapshot's; rows appended meanwhile lie past the snapshot's highest position and are not
read (the next run checks them).

Processes are forked, as for a read-model rebuild: only from a process that runs nothing else
at the time (``platforms audit verify``), never from a serving process.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import re
from binascii import hexlify
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from itertools import accumulate
from typing import Any

from aggregates.event_table import SealRows, event_table
from aggregates.existing_store import reopen_in_child
from aggregates.hashing import GENESIS

from .merkle import SubtreeLevels
from .rows import ID_HEX, PREV_HASH_KEY, recorded_at, seal_layout

__all__ = ["PARALLEL_FROM", "Joined", "split_scan", "parts_for"]

log = logging.getLogger(__name__)

# Below this many events the pool's start costs more than a second core saves.
PARALLEL_FROM = 200_000
SMALLEST_PART = 1 << 12
_HEX64 = re.compile(rb"[0-9a-f]{64}")
_GENESIS = GENESIS.encode()


@dataclass(frozen=True)
class Part:
    """One part's task: the log indices ``first <= i < last`` (``full``: a whole part, one
    perfect subtree), stored at positions ``after < p <= upto``, sealed by the seal rows
    ``seqs``; the checkpoint sizes falling in it; rows from index ``beyond`` on must not be
    recorded before ``cutoff``."""

    full: bool
    first: int
    last: int
    after: int
    upto: int
    seqs: tuple[int, int]
    sizes: tuple[int, ...]
    beyond: int
    cutoff: datetime | None


@dataclass(frozen=True)
class Summary:
    """What an intact part tells the join."""

    root: bytes | None  # a full part's subtree root
    stack: list[bytes]  # a partial (last) part's subtrees, largest first
    at_sizes: dict[int, list[bytes]]  # checkpoint size -> the part's stack at that size
    heads: dict[bytes, tuple[int, bytes]]  # stream -> (first version here, its recorded prev_hash hex)
    tails: dict[bytes, tuple[int, bytes]]  # stream -> (last version here, its chain hash hex)
    seal_first: tuple[int, int]  # (seq, first_index) of the first seal row read
    seal_end: tuple[int, int]  # (seq, first_index + count) of the last
    last_position: int


@dataclass(frozen=True)
class Joined:
    """The whole intact log as the join sees it."""

    size: int
    root: bytes
    roots: dict[int, bytes]  # checkpoint size -> the Merkle root of that prefix
    streams: int
    last_position: int


def parts_for(size: int, workers: int | None) -> tuple[int, int]:
    """(processes, part size) for a log of ``size`` events: ``workers`` (default: one per CPU on
    a log of :data:`PARALLEL_FROM` events or more), about four parts each, so that the progress
    bar moves and a slow part does not hold the others back."""
    if workers is None:
        workers = (os.cpu_count() or 1) if size >= PARALLEL_FROM else 1
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return 1, size
    unit = SMALLEST_PART  # a power of two: each whole part is a perfect Merkle subtree
    while unit * 2 * 4 * workers <= size:
        unit *= 2
    return workers, unit


def split_scan(app: Any, workers: int | None, checkpoint_sizes: list[int], beyond: int, cutoff: datetime | None,
               progress: Callable[[int], None] | None = None) -> Joined | None:
    """Scan the log in parts on several processes (:func:`parts_for`); the joined summary of an
    intact log, or None: the log is short, the machine has one core, the store cannot be split
    (no seal, in memory), or anything is not intact."""
    if (workers is not None and workers < 2) or event_table(app).in_memory:
        return None
    probe = seal_layout(app, [])
    if probe is None or probe.sealed < 1:
        return None
    size = probe.sealed
    workers, unit = parts_for(size, workers)
    if workers < 2:
        return None
    starts = list(range(0, size, unit))
    layout = seal_layout(app, sorted({i for s in starts for i in (s, min(s + unit, size) - 1)}))
    if layout is None or layout.sealed != size:
        return None
    parts = []
    for first in starts:
        last = min(first + unit, size)
        end = last < size
        parts.append(Part(last - first == unit, first, last, layout.at[first][1] - 1 if first else 0,
                          layout.at[last][1] - 1 if end else layout.top,
                          (layout.at[first][0], layout.at[last - 1][0]),
                          tuple(s for s in checkpoint_sizes if first < s <= last), beyond, cutoff))
    joiner = _Join(unit, layout.seals, size)
    # An executor, not multiprocessing.Pool: a helper that dies (its connection refused at start,
    # killed) breaks the executor, which says so, where a pool waits for its answer for ever.
    pool = ProcessPoolExecutor(min(workers, len(parts)), multiprocessing.get_context("fork"), _start_worker, (app,))
    try:
        for summary in pool.map(_scan_part, parts):
            if summary is None or not joiner.add(summary):
                return None
            if progress is not None:
                progress(joiner.done)
    except BrokenProcessPool:
        log.warning("a process of the split verification died; the log is verified in one pass")
        return None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return joiner.result()


class _Join:
    def __init__(self, unit: int, seals: int, size: int) -> None:
        self.unit, self.seals, self.size = unit, seals, size
        self.full: list[bytes] = []  # the carry stack of full parts' roots (perfect subtrees)
        self.tails: dict[bytes, tuple[int, bytes]] = {}
        self.roots: dict[int, bytes] = {}
        self.seal_end = (0, 0)
        self.done = 0
        self.stack: list[bytes] = []
        self.last_position = 0

    def add(self, part: Summary) -> bool:
        """Join the next part in log order; False if it does not follow on."""
        seq, first_index = part.seal_first
        prev_seq, prev_end = self.seal_end
        # The part's first seal row is the previous part's last (one write across the cut) or
        # the next one; either way it starts where the seal so far says.
        if not ((seq == prev_seq and first_index < prev_end) or (seq == prev_seq + 1 and first_index == prev_end)):
            return False
        self.seal_end = part.seal_end
        tails = self.tails
        for oid, (version, recorded) in part.heads.items():
            before = tails.get(oid)
            if before is None:
                if version != 1 or recorded != _GENESIS:
                    return False
            elif version != before[0] + 1 or recorded != before[1]:
                return False
        tails.update(part.tails)
        for at, stack in part.at_sizes.items():
            self.roots[at] = _fold(self.full + stack)
        if part.root is not None:
            self.done += self.unit
            self._carry(part.root)
        else:
            self.stack = part.stack
            self.done = self.size
        self.last_position = part.last_position
        return True

    def _carry(self, root: bytes) -> None:
        stack = self.full
        stack.append(root)
        n = self.done // self.unit
        while not n & 1:
            right = stack.pop()
            stack[-1] = hashlib.sha256(b"\x01" + stack[-1] + right).digest()
            n >>= 1

    def result(self) -> Joined | None:
        if self.done != self.size or self.seal_end != (self.seals, self.size):
            return None
        return Joined(self.size, _fold(self.full + self.stack), self.roots, len(self.tails), self.last_position)


def _fold(stack: list[bytes]) -> bytes:
    acc = stack[-1]
    for subtree in reversed(stack[:-1]):
        acc = hashlib.sha256(b"\x01" + subtree + acc).digest()
    return acc


# ---------------------------------------------------------------------- in a pool process
_app: Any = None


def _start_worker(parent_app: Any) -> None:
    global _app
    _app = reopen_in_child(parent_app)


def _scan_part(part: Part) -> Summary | None:
    """Scan one part; its summary, or None at the first thing that is not intact."""
    with event_table(_app).snapshot() as snapshot:
        seals = snapshot.seal_rows(part.seqs)
        return _scan(part, snapshot.rows(part.after, part.upto), seals)


def _scan(part: Part, batches: Iterator[list[tuple[Any, ...]]], seals: SealRows | None) -> Summary | None:
    sha256 = hashlib.sha256
    key = PREV_HASH_KEY
    tips: dict[bytes, tuple[int, bytes]] = {}
    get = tips.get
    heads: dict[bytes, tuple[int, bytes]] = {}
    # rows from index ``beyond`` on are checked for back-dating (index counts the rows read)
    dated_after = part.beyond if part.cutoff is not None else 1 << 62
    positions: list[int] = []
    digests: list[bytes] = []
    index = part.first
    pos = part.after
    for batch in batches:
        try:  # each row's chain hash, which is its Merkle leaf hash
            leaves = [sha256(b"\x00%b\n%b\n%d\n%b" % (topic, oid, ver, state)).digest()
                      for _, oid, ver, topic, state in batch]
        except TypeError:  # a NULL or mistyped column
            return None
        for (pos, oid, ver, _topic, state), digest in zip(batch, leaves, strict=True):  # noqa: B007 - the last position is returned
            at = state.find(key)
            tip = get(oid)
            if tip is None:
                recorded = state[at + 13:at + 77]
                if at < 0 or state[at + 77:at + 78] != b'"' or not _HEX64.fullmatch(recorded) \
                        or not ID_HEX.fullmatch(oid):
                    return None
                heads[oid] = (ver, recorded)
            elif ver != tip[0] + 1 or not state.startswith(b'"prev_hash":"%b"' % tip[1], at):
                return None
            tips[oid] = (ver, hexlify(digest))
        if index + len(batch) > dated_after:
            for i, row in enumerate(batch, start=index + 1):
                stamp = recorded_at(row[4]) if i > dated_after else None
                if stamp is not None and stamp < part.cutoff:  # type: ignore[operator]
                    return None
        index += len(batch)
        digests += leaves
        positions += [row[0] for row in batch]
    if index != part.last:
        return None
    sealed = _sealed(seals, part, positions, b"".join(digests))
    if sealed is None:
        return None
    tree = SubtreeLevels(digests)
    at_sizes = {size: tree.stack(size - part.first) for size in part.sizes}
    stack = tree.stack(part.last - part.first)
    root = stack[0] if part.full else None
    return Summary(root, [] if part.full else stack, at_sizes, heads, tips, sealed[0], sealed[1], pos)


def _sealed(reader: SealRows | None, part: Part, positions: list[int],
            hashes: bytes) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Whether the part's seal rows follow on and seal exactly its rows: ((first seq, its
    first_index), (last seq, its end index)), else None. Column by column, in the interpreter's
    C code (a part has as many seal rows as writes, up to one per event)."""
    if reader is None:
        return None
    rows = [row for chunk in iter(lambda: reader.fetch(65536), []) for row in chunk]
    if not rows:
        return None
    seqs, firsts, starts, counts, leaves = list(zip(*rows, strict=True))[:5]  # the columns, as tuples
    try:
        ends = tuple(accumulate(counts, initial=firsts[0]))
        if (seqs != tuple(range(part.seqs[0], part.seqs[1] + 1)) or firsts != ends[:-1] or min(counts) < 1
                or list(map(len, leaves)) != [32 * c for c in counts]):
            return None
        if starts == tuple(accumulate(counts, initial=starts[0]))[:-1]:  # positions without gaps (SQLite)
            sealed_positions = list(range(starts[0], starts[-1] + counts[-1]))
        else:  # positions may skip numbers between writes (PostgreSQL)
            sealed_positions = [p for first, count in zip(starts, counts, strict=True)
                                for p in range(first, first + count)]
    except TypeError:  # a mistyped column
        return None
    skip, wanted = part.first - firsts[0], part.last - part.first
    if skip < 0 or ends[-1] < part.last:
        return None
    blob = b"".join(leaves)
    if sealed_positions[skip:skip + wanted] != positions or blob[32 * skip:32 * (skip + wanted)] != hashes:
        return None
    return (seqs[0], firsts[0]), (seqs[-1], ends[-1])
