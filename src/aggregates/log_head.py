"""Deciding a group of commands on cached aggregates without reading the store, while nothing
else was written to the log (SQLite's group commit, :mod:`aggregates.committer`).

A cached aggregate is brought up to date before each command by reading the events stored after
it (the library's fast-forward): one read per aggregate loaded, though on SQLite almost every
write to the log is this process's own group commit, which knows what it wrote. Here the process
keeps the log's head (the last position) as it last verified it, and for each aggregate the last
version the log held then (0: none). While the head is known, a load whose cached copy stands at
that version is that copy, read nowhere; any other load reads the store as before.

Nothing is taken on trust: the group's write names the head its decisions assumed, and the
recorder refuses it, in its own transaction, unless the write's first position is the one after
that head (:func:`check_head`; a rowid table gives a new row the position after the largest, and
log rows are never deleted), that is, unless nothing else was written since. A refused write
raises :class:`LogMoved`: the group's commands are all decided again, in order, on the store's
state, as before this module (each load reads the store, and the head read before the loads is
known again if the write then follows it directly). A group that writes nothing is answered only
once one read of the head shows the log unchanged. So a command is never decided, refused or
answered on a copy older than the log it is written to.

Which copy sits in the cache does not matter (a reader thread may put there a copy it rebuilt
from an older read): a copy is used only when its version is the version the log held, and an
aggregate's copies at one version hold the same events.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository

# The keyword a write names the head its decisions assumed with (passed down by the library's
# ``Application.save`` to the recorder's insert).
LOG_HEAD = "log_head"
# Aggregates whose last version is remembered at most (then forgotten: later loads read the store).
MAX_REMEMBERED = 100_000


class LogMoved(Exception):
    """The log changed after the head a group's decisions assumed: its write was rolled back."""


def check_head(kwargs: dict[str, Any], ids: Sequence[int] | None) -> None:
    """Inside the write's transaction, after its inserts: refuse it (:class:`LogMoved`, which rolls
    the transaction back) if it names a head and its first position does not follow it."""
    head = kwargs.get(LOG_HEAD)
    if head is not None and ids and ids[0] != head + 1:
        raise LogMoved()


class KnownLog:
    """The log as this process last verified it: its head and the aggregates' last versions then.
    Used by the one thread leading a group commit at a time (:mod:`aggregates.group_commit`)."""

    def __init__(self, repository: Repository[UUID], read_head: Callable[[], int] | None) -> None:
        """``read_head`` reads the log's head from the store; None where the store's writes cannot
        be checked, and then every load reads the store."""
        self._repository = repository
        cache, fastforward = repository.cache, repository.fastforward
        self._read_head = read_head if cache is not None and fastforward else None
        self.head: int | None = None
        self._versions: dict[UUID, int] = {}
        # While the head is not known: the head read before the group's loads, and what they read.
        self._start: int | None = None
        self._seen: dict[UUID, int] = {}

    def begin(self) -> int | None:
        """Start deciding a group: the head its write must follow, or None (not known: the group's
        loads read the store, and its write is not checked)."""
        if self.head is None and self._read_head is not None:
            self._start, self._seen = self._read_head(), {}
        return self.head

    def load(self, aggregate_id: UUID) -> Any:
        """A command's own copy of the aggregate, or None if there is none."""
        if self._read_head is None:
            return _found(self._repository, aggregate_id)
        if self.head is not None:
            known = self._versions.get(aggregate_id)
            if known == 0:
                return None
            if known is not None:
                cached = _cached(self._repository, aggregate_id)
                if cached is not None and cached.version == known:
                    return copy.deepcopy(cached)
        aggregate = _found(self._repository, aggregate_id)
        self._note(aggregate_id, aggregate.version if aggregate is not None else 0)
        return aggregate

    def unchanged(self) -> bool:
        """For a group that writes nothing: whether the log is still at the head it assumed (else
        the head is forgotten, and the group is to be decided again)."""
        if self.head is not None and self._read_head is not None and self._read_head() == self.head:
            return True
        self.moved()
        return False

    def written(self, aggregates: Iterable[Any], ids: Sequence[int]) -> None:
        """After a group's write of ``aggregates`` at positions ``ids``: checked against the known
        head, or, were it not known, directly after the head read before the group's loads."""
        if not ids:
            return
        if self.head is None:
            if self._start is None or ids[0] != self._start + 1:
                return  # another write came between: still not known
            self._versions = self._seen
        elif ids[0] != self.head + 1:  # the recorder checks this; were the write not checked after all
            self.moved()
            return
        self._seen, self._start = {}, None
        self.head = max(ids)
        for aggregate in aggregates:
            self._versions[aggregate.id] = aggregate.version

    def moved(self) -> None:
        """Forget the head (another writer moved the log, or a write failed)."""
        self.head, self._start = None, None
        self._versions, self._seen = {}, {}

    def _note(self, aggregate_id: UUID, version: int) -> None:
        versions = self._versions if self.head is not None else self._seen
        if len(versions) >= MAX_REMEMBERED:
            versions.clear()
        versions[aggregate_id] = version


def _found(repository: Repository[UUID], aggregate_id: UUID) -> Any:
    """The library's load (fast-forwarding a cached copy), or None."""
    try:
        return repository.get(aggregate_id)
    except AggregateNotFoundError:
        return None


def _cached(repository: Repository[UUID], aggregate_id: UUID) -> Any:
    cache = repository.cache
    if cache is None:
        return None
    try:
        return cache.get(aggregate_id)
    except KeyError:
        return None


__all__ = ["LOG_HEAD", "KnownLog", "LogMoved", "check_head"]
