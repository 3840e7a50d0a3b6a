"""Checking the stored events against the log seal (:mod:`aggregates.log_seal`).

The verifier reads the events in position order and the seal rows in ``seq`` order in one
snapshot. Each seal row lists, for one committed write, the positions of its events (contiguous
from ``first_position``) and their leaf hashes; every stored event must be one of them with the
same hash, and every sealed event must be stored. Findings:

* ``event_missing``: a sealed event is not in the log (deleted), reported at its own position
  with its platform, version and kind, read from the seal;
* ``event_altered``: the stored event's hash differs from the hash sealed when it was written,
  reported at that row (this catches a changed last event of a stream, which no chain link can);
* ``event_unsealed``: a stored event no write sealed (inserted straight into the table);
* ``seal_broken``: ``seq`` or ``first_index`` does not follow on from the row before (seal rows
  removed, with or without their events), or a malformed seal row;
* ``seal_missing``: the store has no seal at all.

Speed: the events come in batches; for an intact batch the check is two comparisons done by the
interpreter's C code (the batch's positions with the sealed positions, the concatenated hashes
with the sealed hashes) plus a few operations per seal row. Only a batch that differs is walked
row by row to name what differs.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from itertools import accumulate
from typing import Any

from aggregates.event_table import SealRows

from .rows import id_text

__all__ = ["SealCheck"]

Add = Callable[[str, str, "int | None", "str | None", "int | None", "int | None"], None]


def _first_position(row: tuple[Any, ...]) -> int:
    return row[2] if isinstance(row[2], int) else 0


def _last_position(row: tuple[Any, ...]) -> int:
    return row[2] + row[3] - 1 if isinstance(row[2], int) and isinstance(row[3], int) else 0


def _event_name(topic: str) -> str:
    return topic.rsplit("/", 1)[-1] or topic


class SealCheck:
    """The seal side of one verification pass. ``add(code, reason, position, platform_id, version,
    detected_at)`` records a finding (:class:`audit.verify.Failure`)."""

    def __init__(self, rows: SealRows | None, add: Add, applies: bool) -> None:
        self.rows = rows
        self.add = add
        self.seq = 0  # the last seal row read
        self.sealed = 0  # events sealed by the rows read so far (the next row's first_index)
        self.end_position = 0  # the last position the rows read so far seal
        self.flagged: set[int] = set()  # positions found deleted, altered or unsealed
        # Sealed events read but not yet matched with stored rows: their positions, their
        # hashes (32 bytes each, concatenated) and the seal rows they come from (for names).
        self.positions: list[int] = []
        self.hashes = b""
        self.at = 0  # how many of them are matched already (dropped at the end of each batch)
        self.window: list[tuple[Any, ...]] = []  # the seal rows they come from
        self.exhausted = rows is None
        if rows is None and applies:
            add("seal_missing", "the store has no log seal (table audit_log_seal): deletions of the last event "
                "of a stream or of the log cannot be detected in the store; start the registry once "
                "(`platforms serve`) to seal the existing events after verifying them", None, None, None, None)

    # ------------------------------------------------------------------ reading the seal
    def _fill(self, wanted: int) -> None:
        """Read seal rows until at least ``wanted`` sealed events wait to be matched."""
        blobs = [self.hashes]
        while len(self.positions) - self.at < wanted and not self.exhausted:
            rows = self.rows.fetch(max(wanted - len(self.positions) + self.at, 64))  # type: ignore[union-attr]
            if not rows:
                self.exhausted = True
                break
            if not self._take_regular(rows, blobs):
                self._take_each(rows, blobs)
            self.window.extend(rows)
        self.hashes = b"".join(blobs)

    def _take_regular(self, rows: list[tuple[Any, ...]], blobs: list[bytes]) -> bool:
        """Take a chunk of seal rows that follow on from each other as written (the usual case),
        checked a column at a time by the interpreter's C code; False, taking nothing, otherwise."""
        seqs, firsts, positions, counts = ([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
                                           [r[3] for r in rows])
        leaves = [r[4] for r in rows]
        try:
            indices = list(accumulate(counts, initial=self.sealed))
            regular = (seqs == list(range(self.seq + 1, self.seq + 1 + len(rows))) and firsts == indices[:-1]
                       and min(counts) >= 1 and [len(leaf) for leaf in leaves] == [32 * c for c in counts])
            contiguous = regular and positions == list(accumulate(counts, initial=positions[0]))[:-1]
        except TypeError:  # a mistyped column: the row-by-row path reports it
            return False
        if not regular:
            return False
        if contiguous:
            self.positions.extend(range(positions[0], positions[-1] + counts[-1]))
        else:  # positions may skip numbers between writes (PostgreSQL)
            for first, count in zip(positions, counts, strict=True):
                self.positions.extend(range(first, first + count))
        self.seq, self.sealed = seqs[-1], indices[-1]
        self.end_position = positions[-1] + counts[-1] - 1
        blobs.extend(leaves)
        return True

    def _take_each(self, rows: list[tuple[Any, ...]], blobs: list[bytes]) -> None:
        """Take seal rows one by one, reporting those that do not follow on or are malformed."""
        for seq, first_index, first_position, count, leaves, _ in rows:
            if seq != self.seq + 1 or first_index != self.sealed:
                self._broken(seq, first_index, first_position)
            if not isinstance(count, int) or count < 1 or len(leaves) != 32 * count:
                self.add("seal_broken", f"seal row {seq} is malformed: {count!r} events but {len(leaves)} "
                         "bytes of leaf hashes", first_position, None, None, first_position)
                count = len(leaves) // 32
            self.seq = seq
            self.sealed = (first_index if isinstance(first_index, int) else self.sealed) + count
            self.end_position = first_position + count - 1
            self.positions.extend(range(first_position, first_position + count))
            blobs.append(leaves)

    def _broken(self, seq: Any, first_index: Any, first_position: Any) -> None:
        lost = first_index - self.sealed if isinstance(first_index, int) else None
        what = f"{lost} sealed event(s)" if lost else "sealed writes"
        self.add("seal_broken", f"seal row {seq} follows seal row {self.seq} and starts at log index {first_index}, "
                 f"where index {self.sealed} was expected: {what} after position {self.end_position} were removed "
                 "together with their seal rows", self.end_position + 1, None, None, first_position)

    def _compact(self) -> None:
        """Drop the matched sealed events, and the seal rows that hold none still waiting."""
        at = self.at
        del self.positions[:at]
        self.hashes = self.hashes[32 * at:]
        self.at = 0
        if not self.positions:
            self.window.clear()
        else:  # the rows whose last position is before the first waiting one
            del self.window[:bisect_left(self.window, self.positions[0], key=_last_position)]

    def _next(self) -> int | None:
        """The next sealed position waiting to be matched (None: the seal has no more)."""
        if self.at >= len(self.positions):
            self._compact()  # all matched: start the buffers afresh rather than copy them on
            self._fill(1)
        return self.positions[self.at] if self.at < len(self.positions) else None

    def _name(self, position: int) -> tuple[str | None, int | None, str]:
        """(platform id, version, event kind) of the sealed event at ``position``."""
        i = bisect_right(self.window, position, key=_first_position) - 1
        if i >= 0:
            _, _, first, count, _, streams = self.window[i]
            if isinstance(first, int) and isinstance(count, int) and position < first + count:
                text = bytes(streams).decode("utf-8", "replace") if isinstance(streams, (bytes, memoryview)) \
                    else str(streams)
                try:
                    oid, version, topic = text.split("\n")[position - first].split(" ", 2)
                    return id_text(oid.encode()), int(version), _event_name(topic)
                except (IndexError, ValueError):
                    pass
        return None, None, "?"

    # ------------------------------------------------------------------ checking
    def check(self, positions: list[int], digests: list[bytes]) -> None:
        """Check one batch of stored rows (their positions and recomputed hashes) against the seal."""
        if self.rows is None:
            return
        n, at = len(positions), self.at
        self._fill(n)
        if self.positions[at:at + n] == positions and self.hashes[32 * at:32 * (at + n)] == b"".join(digests):
            self.at += n
        else:
            for pos, digest in zip(positions, digests, strict=True):
                self._row(pos, digest)
        self._compact()

    def _row(self, pos: int, digest: bytes) -> None:
        """One stored row of a batch that differs from the seal."""
        sealed_pos = self._next()
        while sealed_pos is not None and sealed_pos < pos:
            self._missing(sealed_pos, pos)
            self.at += 1
            sealed_pos = self._next()
        if sealed_pos == pos:
            sealed = self.hashes[32 * self.at:32 * (self.at + 1)]
            if sealed != digest:
                pid, version, kind = self._name(pos)
                self.add("event_altered", f"the stored {kind} event (version {version}) at position {pos} hashes to "
                         f"{digest.hex()[:16]}..., but its write sealed {sealed.hex()[:16]}...: the event was "
                         "altered after it was written (or its seal was)", pos, pid, version, pos)
                self.flagged.add(pos)
            self.at += 1
            return
        self.add("event_unsealed", f"the event at position {pos} was not written through the application (no "
                 "seal covers it): it was inserted straight into the event table", pos, None, None, pos)
        self.flagged.add(pos)

    def _missing(self, position: int, detected_at: int | None, log_end: int | None = None) -> None:
        pid, version, kind = self._name(position)
        where = f" (the log now ends at position {log_end})" if log_end is not None else ""
        self.add("event_missing", f"the {kind} event (version {version}) of {pid}, sealed at position {position}, "
                 f"is not in the log: it was deleted{where}", position, pid, version, detected_at)
        self.flagged.add(position)

    def finish(self, log_end: int) -> None:
        """The sealed events left when the stored events ended: removed from the end of the log."""
        if self.rows is None:
            return
        sealed_pos = self._next()
        while sealed_pos is not None:
            self._missing(sealed_pos, None, log_end)
            self.at += 1
            sealed_pos = self._next()
