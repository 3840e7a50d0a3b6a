"""Running and committing units of work (提交): alone with race retries, or in groups.

A command runs in a fresh :class:`~aggregates.unit_of_work.UnitOfWork` per attempt; whatever it
marked is saved in one transaction (the platform with its subfield seat, a publicity batch
with its platforms, an idempotency record with its effects). A write that loses a race to
another writer is decided again on fresh state (:class:`~aggregates.race.RaceRetry`), so the
loser gets the refusal a lone request would get. A command sent again with its
``Idempotency-Key`` is answered with the first answer.

On SQLite, which has one writer, queued commands are committed in groups
(:mod:`aggregates.group_commit`), in three steps: :meth:`Committer._prepare` decides them in
order, each on the state it would have seen alone; :meth:`Committer._save_group` saves them in
one transaction; :meth:`Committer._answer` gives each its own positions. While nothing else
writes to the log, a group is decided on the cached aggregates without reading the store, and
its write is refused if the log moved after all (:mod:`aggregates.log_head`): the group is then
decided again on the store's state. An event loop awaits a command in the same queue
(:meth:`Committer.run_async`), no thread waiting for it.

Saved aggregates replace older copies in the aggregate cache, and a due snapshot is taken from
the aggregate just saved (:meth:`Committer.take_snapshots`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Recording

from .errors import ConcurrentModification, IdempotencyKeyReused
from .event_table import event_table
from .group_commit import GroupCommit, Job, for_another_thread
from .idempotency import IdempotencyRecord
from .log_head import LOG_HEAD, KnownLog, LogMoved
from .race import RaceRetry
from .recorded import RecordedAggregate
from .store import StoreConfig
from .unit_of_work import Command, CommandResult, Decision, UnitOfWork

log = logging.getLogger(__name__)


class CommitObserver(Protocol):
    """Told how each command ended and how many commands each group commit saved together
    (the serving processes count them for their metrics, :mod:`api.metrics`)."""

    def command(self, name: str, error: BaseException | None) -> None:
        """``name`` was answered: with its result (``error`` None) or with ``error``."""

    def group_saved(self, commands: int) -> None:
        """One transaction saved ``commands`` commands of a group."""


@dataclass(frozen=True)
class _Prepared:
    """A queued command decided for its group: its unit of work and its decision."""

    job: Job[Command]
    uow: UnitOfWork
    decision: Decision


class Committer:
    """Runs each command's unit of work and saves what it marked, for one application."""

    def __init__(self, app: Application[UUID], store: StoreConfig) -> None:
        self._app = app
        self._store = store
        # SQLite has one writer and a sync per commit: queued commands are saved in groups.
        self._group: GroupCommit[Command] | None = GroupCommit(self._process_group) if store.is_sqlite else None
        self.observer: CommitObserver | None = None
        # The log as the group commits last verified it; only a recorder that checks a write
        # against it (the sealed SQLite one) lets loads skip the store.
        read_head = getattr(app.recorder, "log_head", None) if self._group is not None else None
        self._known = KnownLog(app.repository, read_head)

    def run(self, command: Command) -> CommandResult:
        """Decide ``command`` and save what it changed atomically: queued for a group commit on
        a one-writer store, else alone."""
        try:
            result = self._group.submit(command) if self._group is not None else self._alone(command)
        except BaseException as exc:
            self._observe(command, exc)
            raise
        self._observe(command, None)
        return result

    def _observe(self, command: Command, error: BaseException | None) -> None:
        """Tell the observer (the metrics) how ``command`` ended."""
        if self.observer is not None:
            self.observer.command(command.name, error)

    @property
    def queues_commands(self) -> bool:
        """Whether commands queue for group commits (SQLite), so that :meth:`run_async` may be
        awaited."""
        return self._group is not None

    async def run_async(self, command: Command) -> CommandResult:
        """:meth:`run` awaited from an event loop, where commands queue for group commits: no
        thread waits for the answer (:meth:`GroupCommit.submit_async`). The observer hears of it
        as of :meth:`run`; a caller cancelled while its command was being saved does not."""
        if self._group is None:
            raise RuntimeError("commands are awaited only where they queue for group commits")
        try:
            result = await self._group.submit_async(command)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._observe(command, exc)
            raise
        self._observe(command, None)
        return result

    def close(self) -> None:
        """Refuse further commands; those queued for a group commit fail (:class:`GroupCommitClosed`)."""
        if self._group is not None:
            self._group.close()

    def waiting(self) -> int:
        """How many commands are queued for the next group commit (0 where there is none)."""
        return self._group.waiting() if self._group is not None else 0

    # ------------------------------------------------------------------ alone
    def _alone(self, command: Command) -> CommandResult:
        """One command in its own transaction, retrying a lost race on fresh state, after a
        jittered pause, until it is decided without losing one."""
        earlier = self._replay(self._open(), command)
        if earlier is not None:
            return earlier
        retry = RaceRetry()
        while True:
            uow = self._open()
            decision = self._decide(uow, command)
            try:
                recordings = self._save(uow.saving)
            except IntegrityError:
                earlier = self._replay(self._open(), command)  # a twin with the same key won
                if earlier is not None:
                    return earlier
                log.info("write conflict", extra={"command": command.name, "attempt": retry.attempts})
                if retry.again():
                    continue
                log.warning("write conflicts until the deadline", extra={"command": command.name,
                                                                          "attempts": retry.attempts})
                raise ConcurrentModification() from None
            return self._recorded(command, decision, [r.notification.id for r in recordings])

    # ------------------------------------------------------------------ in groups
    def _process_group(self, group: list[Job[Command]]) -> None:
        """Commit queued commands together: prepare, save, answer. Decided on cached copies
        (a known log head), the group is answered only once its write, or a read of the head if
        it writes nothing, shows that the log did not move; else every command of it is left
        open, to be decided again on the store's state."""
        head = self._known.begin()
        prepared, answers = self._prepare(group)
        recordings = None
        if prepared:
            try:
                recordings = self._save_group(prepared, head)
            except LogMoved:
                log.info("log moved under a group", extra={"commands": len(group)})
                return
            if recordings is None and head is not None:
                return  # the write failed: the refusals' state was not verified, decided again
        elif head is not None and answers and not self._known.unchanged():
            return
        for job, outcome in answers:
            if isinstance(outcome, CommandResult):
                job.finish(outcome)
            else:
                job.fail(outcome)
        if recordings is not None:
            if self.observer is not None:
                self.observer.group_saved(len(prepared))
            self._answer(prepared, recordings)

    def _prepare(self, group: list[Job[Command]]) -> tuple[list[_Prepared], list[tuple[Job[Command], Any]]]:
        """Decide the queued commands in order, each in its own unit of work: those to save, and
        the answers of refusals and replays.

        A command joins the group only if it neither read nor changes an aggregate that an
        earlier command of the group changes: it then decided on exactly the state it would have
        seen after them, one by one. The first command that did is left open, with all after it,
        for the next group, which sees this group's writes."""
        prepared: list[_Prepared] = []
        answers: list[tuple[Job[Command], Any]] = []
        written: set[UUID] = set()
        for job in group:
            uow = UnitOfWork(self._app.repository, self._known.load)
            outcome: Decision | CommandResult | Exception
            try:
                earlier = self._replay(uow, job.payload)
                outcome = earlier if earlier is not None else self._decide(uow, job.payload)
            except Exception as exc:  # noqa: BLE001 - a refusal is this command's answer
                outcome = exc
            if uow.touched & written:
                break  # decided on state the group is changing: decide again after it
            if isinstance(outcome, (Exception, CommandResult)):
                answers.append((job, outcome))
            else:
                written |= uow.changes
                prepared.append(_Prepared(job, uow, outcome))
        return prepared, answers

    def _save_group(self, prepared: list[_Prepared], head: int | None) -> list[Recording[UUID]] | None:
        """Save the prepared commands in one transaction, checked against the log ``head`` their
        decisions assumed if known (:class:`LogMoved` if the log moved); None when nothing was
        written, each command then answered here. If the joint save lost a race to another
        process, each command is run again on its own, with its retries."""
        saving = [a for p in prepared for a in p.uow.saving]
        try:
            recordings = self._save(saving, head)
        except IntegrityError:
            self._known.moved()
            if head is not None:
                raise LogMoved() from None  # another writer: decided again on the store's state
            log.info("write conflict in a group", extra={"commands": len(prepared)})
            for p in prepared:
                try:
                    p.job.finish(self._alone(p.job.payload))
                except Exception as exc:  # noqa: BLE001 - this command's answer
                    p.job.fail(exc)
        except LogMoved:
            self._known.moved()
            raise
        except Exception as exc:  # noqa: BLE001 - nothing was written: every command of it fails
            self._known.moved()
            for p in prepared:
                p.job.fail(for_another_thread(exc))
        else:
            self._known.written(saving, [r.notification.id for r in recordings])
            return recordings
        return None

    def _answer(self, prepared: list[_Prepared], recordings: list[Recording[UUID]]) -> None:
        """Answer each saved command with the positions of its own events."""
        positions: dict[UUID, list[int]] = {}
        for r in recordings:
            positions.setdefault(r.domain_event.originator_id, []).append(r.notification.id)
        for p in prepared:
            at = [i for a in p.uow.saving for i in positions.get(a.id, ())]
            p.job.finish(self._recorded(p.job.payload, p.decision, at))

    # ------------------------------------------------------------------ one attempt
    def _open(self) -> UnitOfWork:
        return UnitOfWork(self._app.repository)

    @staticmethod
    def _decide(uow: UnitOfWork, command: Command) -> Decision:
        """Run the decide step; with an ``Idempotency-Key``, the record of the answer is saved
        last in the same transaction."""
        decision = command.decide(uow)
        if command.idempotency is not None:
            uow.save(IdempotencyRecord.record(
                actor_id=command.act.recorder_id, key=command.idempotency.key,
                fingerprint=command.idempotency.fingerprint, command=command.name,
                target_id=decision.target.id, target_version=decision.target.version,
                result=_jsonable(decision.extra), act=command.act))
        return decision

    def _replay(self, uow: UnitOfWork, command: Command) -> CommandResult | None:
        """The first answer to a command sent again with its ``Idempotency-Key``, or None; the
        key sent with another request is refused."""
        if command.idempotency is None:
            return None
        record = next((found for key in (command.idempotency.key, *command.idempotency.earlier_keys)
                       if (found := uow.idempotency_record(command.act.recorder_id, key)) is not None), None)
        if record is None:
            return None
        if record.fingerprint != command.idempotency.fingerprint:
            raise IdempotencyKeyReused()
        # The record was saved last in the command's transaction: its position is the position
        # the first answer reported.
        position = self.position_of(record.id, record.version)
        return CommandResult(UUID(record.target_id), record.target_version, position, dict(record.result),
                             replayed=True)

    @staticmethod
    def _recorded(command: Command, decision: Decision, positions: list[int]) -> CommandResult:
        target, position = decision.target, max(positions, default=None)
        # DEBUG: the event itself is the record, and over HTTP the request's log line carries
        # the aggregate, version and position (api.logging); this line traces the service alone.
        if log.isEnabledFor(logging.DEBUG):
            log.debug("command recorded", extra={"command": command.name, "aggregate_id": str(target.id),
                                                 "version": target.version, "position": position})
        return CommandResult(target.id, target.version, position, decision.extra)

    # ------------------------------------------------------------------ the store
    def _save(self, aggregates: list[RecordedAggregate], head: int | None = None) -> list[Recording[UUID]]:
        """The library's save (which calls :meth:`take_snapshots`), refused if it does not follow
        the log ``head`` when one is given; then the saved copies go into the aggregate cache."""
        recordings = self._app.save(*aggregates, **({LOG_HEAD: head} if head is not None else {}))
        self._cache_saved(aggregates)
        return recordings

    def _cache_saved(self, saved: list[RecordedAggregate]) -> None:
        """Put the command's saved copy in the aggregate cache in place of the older cached one.

        Fast-forwarding, the library leaves the cached aggregate at the version it was loaded at
        and decodes and replays each later event onto it at the next ``get``, though the command
        that recorded the event holds the aggregate at that version already. A copy that turns
        out stale (another thread or process saved after it) is harmless: the next ``get`` still
        fast-forwards it from the store. An aggregate not cached (a new platform, say) is cached
        too, so that its next command does not rebuild it from the store, except one-off records
        (idempotency keys), which would push platforms out of the cache."""
        cache = self._app.repository.cache
        if cache is None:
            return
        for aggregate in saved:
            try:
                cached = cache.get(aggregate.id)
            except KeyError:
                if not isinstance(aggregate, IdempotencyRecord):
                    cache.put(aggregate.id, aggregate)
                continue
            if cached.version < aggregate.version:
                cache.put(aggregate.id, aggregate)

    def take_snapshots(self, saved: Mapping[UUID, Any], events: Iterable[Any]) -> None:
        """The snapshots due after a save (every ``snapshotting_intervals`` events of a class),
        given the aggregates just saved and their events.

        When the saved aggregate stands at the snapshot's version (the usual case) it is the
        snapshot's state, so the snapshot is taken from it: the library's rebuild from the
        previous snapshot and the events since would hold up the commands queued behind the
        save. The save's events are committed by now and a snapshot only shortens later loads:
        one that fails is logged, not raised (the client would retry a recorded command, and
        act twice), and the next is due an interval later."""
        app = self._app
        for event in events:
            aggregate = saved.get(event.originator_id)
            if aggregate is None or app.snapshots is None:
                continue
            interval = app.snapshotting_intervals.get(type(aggregate))
            if interval is None or event.originator_version % interval:
                continue
            try:
                if aggregate.version == event.originator_version:
                    snapshot_class: Any = getattr(type(aggregate), "Snapshot", type(app).snapshot_class)
                    app.snapshots.put([snapshot_class.take(aggregate)])
                else:
                    app.take_snapshot(event.originator_id, event.originator_version)
            except Exception:
                log.warning("snapshot not taken", exc_info=True,
                            extra={"aggregate_id": str(event.originator_id), "version": event.originator_version})

    def position_of(self, aggregate_id: UUID, version: int) -> int | None:
        """The global log position of one stored event (for answering a replayed command)."""
        return event_table(self._app).position_of(aggregate_id, version)


def _jsonable(extra: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in extra.items() if isinstance(v, (str, int, bool, type(None)))}


__all__ = ["CommitObserver", "Committer"]
