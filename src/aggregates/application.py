"""The application service: one method per command of docs/API.md.

Each command loads the aggregates it needs, calls the domain, and saves every changed
aggregate in one transaction (the platform with its subfield seat, a publicity batch with its
platforms, an idempotency record with its effects). A write that loses a race to another
writer is retried on fresh state, so the rules are checked again and the loser gets the
refusal a single request would get. On SQLite, which has one writer, commands that arrive
together are saved in one transaction (group commit, :mod:`aggregates.group_commit`), each
decided on the state it would have seen alone.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, project_aggregate
from eventsourcing.persistence import IntegrityError, Transcoder

from .batch import PublicityBatch
from .calendar import WorkingDayCalendar
from .credit_code import validate_credit_code
from .errors import (
    CalendarNotLoaded,
    ConcurrentModification,
    IdempotencyKeyReused,
    InvalidInput,
    NotFound,
    RuleViolation,
    StaleVersion,
)
from .event_table import event_table
from .group_commit import GroupCommit, Job, for_another_thread
from .idempotency import IdempotencyRecord
from .platform import Platform, default_period_end
from .policy import Policy, PolicyRegistry
from .race import RaceRetry
from .recorded import RecordedAggregate
from .seat import SubfieldSeat
from .store import StoreConfig
from .transcodings import make_transcoder
from .values import Act, ChangeKind, RevocationGround

log = logging.getLogger(__name__)

# Years a task book's execution period may fall in (beyond them date arithmetic would overflow).
PLAUSIBLE_YEARS = (2000, 2100)


@dataclass(frozen=True)
class Idempotency:
    """An ``Idempotency-Key`` with the fingerprint of the request it came with."""

    key: str
    fingerprint: str


# A command's decision: returns the target aggregate, every aggregate to save, and extras.
Work = Callable[[], tuple[RecordedAggregate, list[RecordedAggregate], dict[str, Any]]]


@dataclass(frozen=True)
class _Command:
    """A command to run: alone, or queued for a group commit."""

    command: str
    work: Work
    act: Act
    idempotency: Idempotency | None


@dataclass
class CommandResult:
    """What a command did: the aggregate it acted on, its new version, the log position after
    the write, and command-specific extras (``objection_id``, ``change_id``...)."""

    aggregate_id: UUID
    version: int
    position: int | None
    extra: dict[str, Any] = field(default_factory=dict)
    replayed: bool = False


class RegistryApp(Application[UUID]):
    """The platform registry (开放创新平台认定管理) on the event store."""

    name = "Registry"
    # A snapshot every 50 events bounds any load, as of any version, to replaying 49 events.
    snapshotting_intervals = {Platform: 50}

    def __init__(
        self,
        store: StoreConfig | None = None,
        policies: PolicyRegistry | None = None,
        calendar: WorkingDayCalendar | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.store = store or StoreConfig.from_env()
        self.policies = policies or PolicyRegistry.from_env()
        self.calendar = calendar or WorkingDayCalendar.from_env()
        # Cache aggregates between commands; the library fast-forwards a cached aggregate with
        # any newer stored events before use, so other processes' writes are never missed.
        settings = {"AGGREGATE_CACHE_MAXSIZE": os.environ.get("PLATFORMS_AGGREGATE_CACHE", "5000")}
        super().__init__(env={**settings, **self.store.eventsourcing_env(), **(env or {})})
        self._saving = threading.local()  # the aggregates this thread's command is saving
        self._reads = threading.local()  # the aggregates a command in a group commit read
        # SQLite has one writer and a sync per commit: queued commands are saved in groups.
        self._group: GroupCommit[_Command] | None = GroupCommit(self._process_group) if self.store.is_sqlite else None

    def construct_transcoder(self) -> Transcoder:
        # The same encoding the hash chain hashes (aggregates.hashing).
        return make_transcoder()

    # ------------------------------------------------------------------ plumbing
    def get_platform(self, platform_id: UUID, version: int | None = None) -> Platform:
        return self._get(Platform, platform_id, version, "platform_not_found", "platform")

    def get_batch(self, batch_ref: str) -> PublicityBatch:
        return self._get(PublicityBatch, PublicityBatch.create_id(batch_ref), None, "batch_not_found",
                         "publicity batch")

    def _get(self, cls: type, aggregate_id: UUID, version: int | None, code: str, what: str) -> Any:
        try:
            aggregate = self._load(aggregate_id, version)
        except AggregateNotFoundError:
            raise NotFound(code, f"no {what} {aggregate_id}") from None
        if not isinstance(aggregate, cls):
            raise NotFound(code, f"no {what} {aggregate_id}")
        return aggregate

    def policy_of(self, platform: Platform) -> Policy:
        return self.policies.get(platform.policy_ref)

    def _seat(self, subfield: str, act: Act) -> SubfieldSeat:
        try:
            return self._load(SubfieldSeat.create_id(subfield))
        except AggregateNotFoundError:
            return SubfieldSeat.open(subfield, act)

    def subfield_held(self, subfield: str) -> bool:
        """Whether a platform holds ``subfield``'s seat now (Art. 5: one platform per subfield)."""
        try:
            return self._load(SubfieldSeat.create_id(subfield)).holder is not None
        except AggregateNotFoundError:
            return False

    def commands_waiting(self) -> int:
        """How many commands are queued for the next group commit (0 where there is none)."""
        return self._group.waiting() if self._group is not None else 0

    def _load(self, aggregate_id: UUID, version: int | None = None) -> Any:
        """Every read of a command goes through here, so that a group commit knows which
        aggregates each command decided on (see :meth:`_process_group`)."""
        reads = getattr(self._reads, "ids", None)
        if reads is not None:
            reads.add(aggregate_id)
        return self.repository.get(aggregate_id, version=version)

    def _run(self, command: str, work: Work, act: Act, idempotency: Idempotency | None) -> CommandResult:
        """Run ``work`` and save atomically: queued for a group commit on a one-writer store,
        else alone."""
        queued = _Command(command, work, act, idempotency)
        if self._group is not None:
            return self._group.submit(queued)
        return self._run_alone(queued)

    def _run_alone(self, c: _Command) -> CommandResult:
        """One command in its own transaction, retrying a lost race on fresh state, after a jittered
        pause, until it is decided without losing one (:class:`RaceRetry`)."""
        if c.idempotency is not None:
            earlier = self._replay(c.act.actor_id, c.idempotency)
            if earlier is not None:
                return earlier
        retry = RaceRetry()
        while True:
            target, changed, extra = c.work()
            to_save = self._with_record(c, target, changed, extra)
            try:
                recordings = self.save(*to_save)
            except IntegrityError:
                if c.idempotency is not None:
                    earlier = self._replay(c.act.actor_id, c.idempotency)
                    if earlier is not None:
                        return earlier
                log.info("write conflict", extra={"command": c.command, "attempt": retry.attempts})
                if retry.again():
                    continue
                log.warning("write conflicts until the deadline", extra={"command": c.command,
                                                                          "attempts": retry.attempts})
                raise ConcurrentModification() from None
            return self._recorded(c.command, target, extra, [r.notification.id for r in recordings])

    def _process_group(self, group: list[Job[_Command]]) -> None:
        """Run queued commands in order and save them in one transaction (group commit).

        A command joins the group only if it neither read nor changes an aggregate that an
        earlier command of the group changes: it then decided on exactly the state it would
        have seen after them, one by one. The first command that did is left, with all after
        it, for the next group, which sees the group's writes. If the joint save loses a race to
        another process, each command is run again on its own, with its retries."""
        prepared: list[tuple[Job[_Command], RecordedAggregate, list[RecordedAggregate], dict[str, Any]]] = []
        written: set[UUID] = set()
        for job in group:
            c = job.payload
            reads: set[UUID] = set()
            self._reads.ids = reads
            earlier = error = None
            try:
                earlier = self._replay(c.act.actor_id, c.idempotency) if c.idempotency is not None else None
                if earlier is None:
                    target, changed, extra = c.work()
                    to_save = self._with_record(c, target, changed, extra)
            except Exception as exc:  # noqa: BLE001 - a refusal is this command's answer
                error = exc
            finally:
                self._reads.ids = None
            ids = {a.id for a in to_save} if earlier is None and error is None else set()
            if (reads | ids) & written:
                break  # decided on state the group is changing: decide again after it
            if error is not None:
                job.fail(error)
            elif earlier is not None:
                job.finish(earlier)
            else:
                written |= ids
                prepared.append((job, target, to_save, extra))
        if not prepared:
            return
        aggregates = [a for _, _, to_save, _ in prepared for a in to_save]
        try:
            recordings = self.save(*aggregates)
        except IntegrityError:
            log.info("write conflict in a group", extra={"commands": len(prepared)})
            for job, _, _, _ in prepared:
                c = job.payload
                try:
                    job.finish(self._run_alone(c))
                except Exception as exc:  # noqa: BLE001
                    job.fail(exc)
            return
        except Exception as exc:  # noqa: BLE001 - nothing was written: every command of it fails
            for job, _, _, _ in prepared:
                job.fail(for_another_thread(exc))
            return
        positions: dict[UUID, list[int]] = {}
        for r in recordings:
            positions.setdefault(r.domain_event.originator_id, []).append(r.notification.id)
        for job, target, to_save, extra in prepared:
            at = [i for a in to_save for i in positions.get(a.id, ())]
            job.finish(self._recorded(job.payload.command, target, extra, at))

    @staticmethod
    def _with_record(c: _Command, target: RecordedAggregate, changed: list[RecordedAggregate],
                     extra: dict[str, Any]) -> list[RecordedAggregate]:
        """The aggregates a command saves: those it changed, and its idempotency record."""
        if c.idempotency is None:
            return list(changed)
        return [*changed, IdempotencyRecord.record(
            actor_id=c.act.actor_id, key=c.idempotency.key, fingerprint=c.idempotency.fingerprint,
            command=c.command, target_id=target.id, target_version=target.version, result=_jsonable(extra),
            act=c.act)]

    @staticmethod
    def _recorded(command: str, target: RecordedAggregate, extra: dict[str, Any],
                  positions: list[int]) -> CommandResult:
        position = max(positions, default=None)
        # DEBUG: the event itself is the record, and over HTTP the request's log line carries
        # the aggregate, version and position (api.logging); this line traces the service alone.
        log.debug("command recorded", extra={"command": command, "aggregate_id": str(target.id),
                                             "version": target.version, "position": position})
        return CommandResult(target.id, target.version, position, extra)

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """The library's save, noting the aggregates being saved for :meth:`take_snapshot`, and
        then putting the saved copies in the cache (:meth:`_cache_saved`)."""
        self._saving.aggregates = {a.id: a for a in objs}
        try:
            recordings = super().save(*objs, **kwargs)
        finally:
            self._saving.aggregates = {}
        self._cache_saved(objs)
        return recordings

    def _cache_saved(self, saved: tuple[RecordedAggregate, ...]) -> None:
        """Put the command's saved copy in the aggregate cache in place of the older cached one.

        Fast-forwarding, the library leaves the cached aggregate at the version it was loaded at
        and decodes and replays each later event onto it at the next ``get``, though the command
        that recorded the event holds the aggregate at that version already. A copy that turns
        out stale (another thread or process saved after it) is harmless: the next ``get`` still
        fast-forwards it from the store. Only aggregates already cached are replaced, so that
        one-off records (idempotency keys) do not push platforms out of the cache."""
        cache = self.repository.cache
        if cache is None:
            return
        for aggregate in saved:
            try:
                cached = cache.get(aggregate.id)
            except KeyError:
                continue
            if cached.version < aggregate.version:
                cache.put(aggregate.id, aggregate)

    def take_snapshot(self, aggregate_id: Any, version: int | None = None,
                      projector_func: Callable[..., Any] = project_aggregate) -> None:
        """Every 50th event of a platform the library takes a snapshot inside the save. When the
        command's own aggregate stands at that version (the usual case) it is the snapshot's
        state, so it is taken from it rather than rebuilt from the previous snapshot and the
        events since: that rebuild, while the commands queued behind it waited, held them all up."""
        saving = getattr(self._saving, "aggregates", None)
        if not saving:  # asked for directly, not by a save: failures are the caller's to see
            super().take_snapshot(aggregate_id, version, projector_func)
            return
        try:
            saved = saving.get(aggregate_id)
            if saved is None or version is None or saved.version != version or self.snapshots is None:
                super().take_snapshot(aggregate_id, version, projector_func)
            else:
                snapshot_class = getattr(type(saved), "Snapshot", type(self).snapshot_class)
                if snapshot_class is None:
                    raise TypeError(f"{type(saved).__name__} has no snapshot class")
                self.snapshots.put([snapshot_class.take(saved)])
        except Exception:
            # The command's events are committed by now, and a snapshot only shortens later
            # loads: failing to take one must not answer a recorded command with an error (the
            # client would retry it, and act twice). The next is due 50 events later
            # (``snapshotting_intervals``).
            log.warning("snapshot not taken", exc_info=True,
                        extra={"aggregate_id": str(aggregate_id), "version": version})

    def _replay(self, actor_id: str, idempotency: Idempotency) -> CommandResult | None:
        try:
            record = self._load(IdempotencyRecord.create_id(actor_id, idempotency.key))
        except AggregateNotFoundError:
            return None
        if record.fingerprint != idempotency.fingerprint:
            raise IdempotencyKeyReused()
        # The record was saved last in the command's transaction: its position is the position
        # the first answer reported.
        position = self.position_of(record.id, record.version)
        return CommandResult(UUID(record.target_id), record.target_version, position, dict(record.result),
                             replayed=True)

    def position_of(self, aggregate_id: UUID, version: int) -> int | None:
        """The global log position of one stored event (for answering a replayed command)."""
        return event_table(self).position_of(aggregate_id, version)

    def _platform_at(self, platform_id: UUID, expected_version: int | None) -> Platform:
        """The platform to act on, refused (412) if the client's ``If-Match`` version is stale."""
        platform = self.get_platform(platform_id)
        if expected_version is not None and platform.version != expected_version:
            raise StaleVersion(expected_version, platform.version)
        return platform

    def _platform_command(
        self,
        command: str,
        platform_id: UUID,
        act: Act,
        decide: Callable[[Platform], Any],
        idempotency: Idempotency | None = None,
        expected_version: int | None = None,
        extra_key: str | None = None,
        returns_extras: bool = False,
    ) -> CommandResult:
        """Load the platform, check ``If-Match``, apply the domain decision, and free the
        subfield when the platform ends while holding it (Art. 5)."""

        def work() -> tuple[RecordedAggregate, list[RecordedAggregate], dict[str, Any]]:
            platform = self._platform_at(platform_id, expected_version)
            was_holding = platform.holds_subfield
            outcome = decide(platform)
            changed: list[RecordedAggregate] = [platform]
            if was_holding and platform.stage.is_end:
                seat = self._seat(platform.subfield, act)
                seat.release(platform.id, act)
                changed.append(seat)
            # A decision's result is reported under extra_key, or is itself the extras when the
            # command says so (returns_extras); otherwise it is not reported.
            extra = {extra_key: outcome} if extra_key else dict(outcome) if returns_extras else {}
            return platform, changed, extra

        return self._run(command, work, act, idempotency)

    # ------------------------------------------------------------------ Art. 8(1) 申请
    def apply(
        self,
        act: Act,
        *,
        name: str,
        subfield: str,
        host_unit: dict[str, Any],
        co_builders: list[dict[str, Any]] | None = None,
        commitments: str,
        achievements: list[dict[str, str]],
        basic_conditions: dict[str, str] | None = None,
        idempotency: Idempotency | None = None,
    ) -> CommandResult:
        """Art. 8(1), bound to the policy in force on the application date (Art. 15)."""
        policy = self.policies.in_force(act.business_date)
        host = dict(host_unit)
        host["credit_code"] = validate_credit_code(str(host.get("credit_code", "")), "host_unit.credit_code")
        builders = []
        for i, builder in enumerate(co_builders or []):
            builder = dict(builder)
            if builder.get("credit_code"):
                builder["credit_code"] = validate_credit_code(
                    str(builder["credit_code"]), f"co_builders[{i}].credit_code")
            builders.append(builder)

        def work() -> tuple[RecordedAggregate, list[RecordedAggregate], dict[str, Any]]:
            platform = Platform.apply(
                policy=policy, name=name, subfield=subfield, host_unit=host, co_builders=builders,
                commitments=commitments, achievements=list(achievements),
                basic_conditions=dict(basic_conditions or {}), act=act,
            )
            return platform, [platform], {}

        return self._run("apply", work, act, idempotency)

    # ------------------------------------------------------------------ Art. 8(2)-(5)
    def intake(self, platform_id: UUID, accepted: bool, reasons: str, act: Act, **kw: Any) -> CommandResult:
        return self._platform_command("intake", platform_id, act,
                                      lambda p: p.review_formally(accepted, reasons, act), **kw)

    def score(
        self, platform_id: UUID, scores: dict[str, Any], comment: str, expert_affiliation: str | None,
        act: Act, **kw: Any,
    ) -> CommandResult:
        return self._platform_command(
            "score", platform_id, act,
            lambda p: p.score(self.policy_of(p), expert_affiliation, scores, comment, act), **kw)

    def inspect(self, platform_id: UUID, passed: bool, findings: str, act: Act, **kw: Any) -> CommandResult:
        return self._platform_command("inspect", platform_id, act,
                                      lambda p: p.inspect(passed, findings, act), **kw)

    def approve(
        self, platform_id: UUID, act: Act, *, party_group_meeting_ref: str, vice_mayor_approval_ref: str,
        funding_plan_ref: str, subfield_exception: str | None = None,
        idempotency: Idempotency | None = None, expected_version: int | None = None,
    ) -> CommandResult:
        """Art. 8(5) with Art. 5: the platform and its subfield seat are saved together."""

        def work() -> tuple[RecordedAggregate, list[RecordedAggregate], dict[str, Any]]:
            platform = self._platform_at(platform_id, expected_version)
            policy = self.policy_of(platform)
            platform.approve(policy, party_group_meeting_ref, vice_mayor_approval_ref, funding_plan_ref,
                             subfield_exception, act)
            seat = self._seat(platform.subfield, act)
            seat.occupy(platform.id, subfield_exception, policy.policy, act)
            return platform, [platform, seat], {}

        return self._run("approve", work, act, idempotency)

    # ------------------------------------------------------------------ Art. 8(6) 公示
    def publicity_window(self, policy: Policy, start_date: date) -> tuple[date | None, date | None]:
        """The window's first and last day, or (None, None) while the schedule of a year it
        reaches is not loaded (shown as pending, never guessed)."""
        try:
            return self.calendar.publicity_window(
                start_date, policy.publicity_working_days, policy.publicity_start_day_counts)
        except CalendarNotLoaded:
            return None, None

    def publicize(
        self, act: Act, *, batch_ref: str, media: str, start_date: date, platform_ids: list[UUID],
        idempotency: Idempotency | None = None,
    ) -> CommandResult:
        """Art. 8(6): one batch, saved with every platform it lists."""
        if not platform_ids:
            raise InvalidInput("platform_ids_required", "a batch lists at least one platform", "platform_ids")
        if len(set(platform_ids)) != len(platform_ids):
            raise InvalidInput("duplicate_platform", "a platform is listed twice", "platform_ids")
        if "/" in batch_ref or batch_ref in {".", ".."}:
            # The batch's public page is /publicity/{batch_ref}: a ref that cannot be one path
            # segment would be published with a page and an objection form nobody can reach.
            raise InvalidInput("batch_ref_not_a_path_segment",
                               "a batch reference may not contain '/' nor be '.' or '..'", "batch_ref")

        def work() -> tuple[RecordedAggregate, list[RecordedAggregate], dict[str, Any]]:
            # Checked on the state each attempt sees: a rival that took the reference first makes
            # the retry answer this, as a lone request would, not a write conflict.
            if self._exists(PublicityBatch.create_id(batch_ref)):
                raise RuleViolation("batch_ref_taken", f"publicity batch {batch_ref} already exists", "Art. 8(6)")
            platforms = [self.get_platform(pid) for pid in platform_ids]
            policies = {p.policy_ref: self.policy_of(p) for p in platforms}
            rules = {(p.publicity_working_days, p.publicity_start_day_counts) for p in policies.values()}
            if len(rules) > 1:
                raise RuleViolation("mixed_publicity_rules",
                                    "platforms under policies with different publicity rules need separate batches",
                                    "Art. 8(6)")
            policy = next(iter(policies.values()))
            first_day, last_day = self.publicity_window(policy, start_date)
            batch = PublicityBatch.publish(
                batch_ref=batch_ref, media=media, start_date=start_date, first_day=first_day,
                last_day=last_day, working_days=policy.publicity_working_days, platform_ids=platform_ids,
                act=act,
            )
            for platform in platforms:
                platform.publicize(batch.id, batch_ref, media, start_date, first_day, last_day, act)
            return batch, [batch, *platforms], {}

        return self._run("publicize", work, act, idempotency)

    def _exists(self, aggregate_id: UUID) -> bool:
        try:
            self._load(aggregate_id)
        except AggregateNotFoundError:
            return False
        return True

    def _window_of(self, platform: Platform) -> tuple[date, date]:
        """The platform's publicity window, computed now if it was pending; raises
        :class:`CalendarNotLoaded` naming the missing year if it still cannot be."""
        publicity = platform.publicity
        if publicity is None:
            raise RuleViolation("not_publicized", "this platform has not been publicized", "Art. 8(6)",
                                platform.policy_ref)
        if publicity["last_day"] is not None:
            return publicity["first_day"], publicity["last_day"]
        policy = self.policy_of(platform)
        return self.calendar.publicity_window(
            publicity["start_date"], policy.publicity_working_days, policy.publicity_start_day_counts)

    def _window_for_objection(self, platform: Platform, received: date) -> tuple[date, date]:
        """The window as far as an objection received on ``received`` needs it. While the last
        day is pending (its year's schedule is not loaded), the working days from the first day
        to ``received`` still tell whether it came in time; only when ``received`` itself lies in
        an unloaded year is the objection refused, naming that year."""
        try:
            return self._window_of(platform)
        except CalendarNotLoaded:
            assert platform.publicity is not None
            policy = self.policy_of(platform)
            first = self.calendar.window_first_day(platform.publicity["start_date"], policy.publicity_start_day_counts)
            within = first <= received and (
                self.calendar.working_days_between(first, received) <= policy.publicity_working_days)
            # Enough for the decision: inside the window up to ``received``, or closed before it.
            return first, received if within else received - timedelta(days=1)

    def object(
        self, platform_id: UUID, act: Act, *, objector_name: str, contact: str, content: str,
        idempotency: Idempotency | None = None,
    ) -> CommandResult:
        def decide(p: Platform) -> dict[str, Any]:
            first, last = self._window_for_objection(p, act.business_date)
            objection_id = p.object(first, last, objector_name, contact, content, act)
            return {"objection_id": objection_id, "admissible": p.objections[objection_id]["admissible"]}

        return self._platform_command("object", platform_id, act, decide, idempotency, returns_extras=True)

    def resolve_objection(
        self, platform_id: UUID, objection_id: str, act: Act, *, upheld: bool, handling_opinion: str,
        vice_mayor_decision_ref: str, **kw: Any,
    ) -> CommandResult:
        return self._platform_command(
            "resolve_objection", platform_id, act,
            lambda p: p.resolve_objection(objection_id, upheld, handling_opinion, vice_mayor_decision_ref, act),
            **kw)

    # ------------------------------------------------------------------ Art. 8(7) 行文下达
    def issue_notice(self, platform_id: UUID, act: Act, **kw: Any) -> CommandResult:
        def decide(p: Platform) -> None:
            p.issue_notice(self._window_of(p)[1] if p.publicity else None, act)

        return self._platform_command("issue_notice", platform_id, act, decide, **kw)

    def acceptance_due(self, policy: Policy, period_end: date) -> date | None:
        """Art. 9(1) deadline, or None (pending) while its year's schedule is not loaded."""
        try:
            return self.calendar.acceptance_deadline(period_end, policy.acceptance_window_months)
        except CalendarNotLoaded:
            return None

    def sign_task_book(
        self, platform_id: UUID, act: Act, *, indicators: list[dict[str, str]], period_start: date,
        period_end: date | None = None, **kw: Any,
    ) -> CommandResult:
        for name, value in (("period_start", period_start), ("period_end", period_end)):
            if value is not None and not PLAUSIBLE_YEARS[0] <= value.year <= PLAUSIBLE_YEARS[1]:
                raise InvalidInput("date_out_of_range", f"{name} {value} is not a plausible execution period", name)

        def decide(p: Platform) -> None:
            policy = self.policy_of(p)
            end = period_end or default_period_end(period_start, policy.execution_period_months)
            p.sign_task_book(policy, indicators, period_start, end, self.acceptance_due(policy, end), act)

        return self._platform_command("sign_task_book", platform_id, act, decide, **kw)

    # ------------------------------------------------------------------ Art. 11
    def report_change(
        self, platform_id: UUID, act: Act, *, kind: ChangeKind, description: str, new_value: Any, **kw: Any,
    ) -> CommandResult:
        return self._platform_command("report_change", platform_id, act,
                                      lambda p: p.report_change(kind, description, new_value, act),
                                      extra_key="change_id", **kw)

    def decide_change(
        self, platform_id: UUID, change_id: str, act: Act, *, approved: bool, reasons: str, **kw: Any,
    ) -> CommandResult:
        return self._platform_command("decide_change", platform_id, act,
                                      lambda p: p.decide_change(change_id, approved, reasons, act), **kw)

    # ------------------------------------------------------------------ Art. 9 验收
    def apply_for_acceptance(self, platform_id: UUID, act: Act, *, summary: str, **kw: Any) -> CommandResult:
        def decide(p: Platform) -> None:
            due = p.task_book["acceptance_due"] if p.task_book else None
            if p.task_book is not None and due is None and act.business_date > p.task_book["period_end"]:
                # Needed now: compute it, or refuse naming the year whose schedule is missing.
                due = self.calendar.acceptance_deadline(
                    p.task_book["period_end"], self.policy_of(p).acceptance_window_months)
            p.apply_for_acceptance(summary, due, act)

        return self._platform_command("apply_for_acceptance", platform_id, act, decide, **kw)

    def review_acceptance(
        self, platform_id: UUID, act: Act, *, panel: list[str], indicator_results: list[dict[str, Any]],
        funds_use_compliant: bool, qualified: bool, **kw: Any,
    ) -> CommandResult:
        return self._platform_command(
            "review_acceptance", platform_id, act,
            lambda p: p.review_acceptance(panel, indicator_results, funds_use_compliant, qualified, act), **kw)

    def recognize(self, platform_id: UUID, act: Act, *, plaque_no: str, **kw: Any) -> CommandResult:
        return self._platform_command("recognize", platform_id, act, lambda p: p.recognize(plaque_no, act), **kw)

    def fund(self, platform_id: UUID, act: Act, *, amount: Decimal | None = None, **kw: Any) -> CommandResult:
        return self._platform_command("fund", platform_id, act,
                                      lambda p: p.fund(self.policy_of(p), amount, act), **kw)

    def recover_funds(self, platform_id: UUID, act: Act, *, amount: Decimal, reasons: str, **kw: Any) -> CommandResult:
        return self._platform_command("recover_funds", platform_id, act,
                                      lambda p: p.recover_funds(amount, reasons, act), **kw)

    # ------------------------------------------------------------------ ends
    def revoke(self, platform_id: UUID, act: Act, *, ground: RevocationGround, reasons: str,
               **kw: Any) -> CommandResult:
        return self._platform_command("revoke", platform_id, act, lambda p: p.revoke(ground, reasons, act), **kw)

    def withdraw(self, platform_id: UUID, act: Act, *, reasons: str, **kw: Any) -> CommandResult:
        return self._platform_command("withdraw", platform_id, act, lambda p: p.withdraw(reasons, act), **kw)

    def terminate(self, platform_id: UUID, act: Act, *, reasons: str, **kw: Any) -> CommandResult:
        return self._platform_command("terminate", platform_id, act, lambda p: p.terminate(reasons, act), **kw)

    # ------------------------------------------------------------------ reading the log
    def stream(self, aggregate_id: UUID) -> Iterator[Any]:
        """Every event of one aggregate, in order."""
        return iter(self.events.get(aggregate_id))


def _jsonable(extra: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in extra.items() if isinstance(v, (str, int, bool, type(None)))}

