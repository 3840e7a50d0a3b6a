"""The unit of work (工作单元) of one command: what it reads, what it changes, what it answers.

A command's decide step is handed a :class:`UnitOfWork` and nothing else to read aggregates
with: it loads through it (:meth:`~UnitOfWork.platform`, :meth:`~UnitOfWork.seat`,
:meth:`~UnitOfWork.subfield_register`...), calls
the domain, marks what it changed with :meth:`~UnitOfWork.save`, and returns its
:class:`Decision`. So every aggregate a command decided on is known, by construction, to the
group commit that checks whether the command saw the state it would have seen alone
(:mod:`aggregates.committer`), which also does the writing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository

from .archive_imports import ArchiveImports
from .errors import NotFound, StaleVersion
from .idempotency import IdempotencyRecord
from .platform import Platform
from .recorded import RecordedAggregate
from .seat import SubfieldSeat
from .subfield_register import SubfieldRegister
from .values import Act


@dataclass(frozen=True)
class Idempotency:
    """An ``Idempotency-Key`` with the fingerprint of the request it came with, and the keys the
    same request was stored under before (an anonymous caller's key is a keyed hash, which a
    rotation of the secret key changes): a retry finds its first answer under any of them."""

    key: str
    fingerprint: str
    earlier_keys: tuple[str, ...] = ()


@dataclass
class CommandResult:
    """What a command did: the aggregate it acted on, its new version, the log position after
    the write, and command-specific extras (``objection_id``, ``change_id``...)."""

    aggregate_id: UUID
    version: int
    position: int | None
    extra: dict[str, Any] = field(default_factory=dict)
    replayed: bool = False


@dataclass(frozen=True)
class Decision:
    """What a decide step returns: the aggregate the answer names (its id and new version) and
    what else the answer reports."""

    target: RecordedAggregate
    extra: dict[str, Any] = field(default_factory=dict)


class UnitOfWork:
    """One attempt at one command: the aggregates it read and those it will save together."""

    def __init__(self, repository: Repository[UUID], load: Callable[[UUID], Any] | None = None) -> None:
        """Loads through ``repository``, or through ``load`` (an aggregate's own copy, or None if
        there is none) where the committer knows a cheaper way (:mod:`aggregates.log_head`)."""
        self._repository = repository
        self._load = load
        self._read: set[UUID] = set()
        self._saving: dict[UUID, RecordedAggregate] = {}

    def platform(self, platform_id: UUID, expected_version: int | None = None) -> Platform:
        """The platform to act on, refused (412) if the client's ``If-Match`` version is stale."""
        platform = self._find(platform_id)
        if not isinstance(platform, Platform):
            raise NotFound("platform_not_found", f"no platform {platform_id}", params={"platform_id": platform_id})
        if expected_version is not None and platform.version != expected_version:
            raise StaleVersion(expected_version, platform.version)
        return platform

    def seat(self, subfield: str, act: Act) -> SubfieldSeat:
        """The subfield's seat (Art. 5), opened by ``act`` if no platform ever took it."""
        seat = self._find(SubfieldSeat.create_id(subfield))
        return seat if seat is not None else SubfieldSeat.open(subfield, act)

    def subfield_register(self, policy_ref: str, act: Act) -> SubfieldRegister:
        """The subfields admitted under the policy (Art. 4), opened by ``act`` if none ever was."""
        register = self._find(SubfieldRegister.create_id(policy_ref))
        return register if register is not None else SubfieldRegister.open(policy_ref, act)

    def archive_imports(self, act: Act) -> ArchiveImports:
        """The register of archive imports, opened by ``act`` if nothing was ever imported."""
        register = self._find(ArchiveImports.create_id())
        return register if register is not None else ArchiveImports.open(act)

    def exists(self, aggregate_id: UUID) -> bool:
        return self._find(aggregate_id) is not None

    def idempotency_record(self, actor_id: str, key: str) -> IdempotencyRecord | None:
        """The record an earlier command with this caller's key left, if any."""
        return self._find(IdempotencyRecord.create_id(actor_id, key))

    def save(self, *aggregates: RecordedAggregate) -> None:
        """Mark ``aggregates`` to be saved, in this order, in the command's one transaction."""
        for aggregate in aggregates:
            self._saving[aggregate.id] = aggregate

    @property
    def saving(self) -> list[RecordedAggregate]:
        return list(self._saving.values())

    @property
    def changes(self) -> set[UUID]:
        """The ids of the aggregates it saves."""
        return set(self._saving)

    @property
    def touched(self) -> set[UUID]:
        """The ids of the aggregates it read or saves: the state it decided on."""
        return self._read | self._saving.keys()

    def _find(self, aggregate_id: UUID) -> Any:
        self._read.add(aggregate_id)
        if self._load is not None:
            return self._load(aggregate_id)
        return find(self._repository, aggregate_id)


# A command's decide step: given its unit of work, loads, calls the domain, marks what to save.
Decide = Callable[[UnitOfWork], Decision]


@dataclass(frozen=True)
class Command:
    """A command to run: its name (in logs and idempotency records), who acts, the caller's
    ``Idempotency-Key`` if any, and its decide step, run again on fresh state after a lost race."""

    name: str
    act: Act
    idempotency: Idempotency | None
    decide: Decide


def find(repository: Repository[UUID], aggregate_id: UUID, version: int | None = None) -> Any:
    """The aggregate with this id (as of ``version``), or None if there is none."""
    try:
        return repository.get(aggregate_id, version=version)
    except AggregateNotFoundError:
        return None


__all__ = ["Command", "CommandResult", "Decide", "Decision", "Idempotency", "UnitOfWork", "find"]
