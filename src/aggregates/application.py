"""The application service: one method per command of docs/API.md.

Each command is load, decide, save: its decide step loads the aggregates it needs through the
:class:`~aggregates.unit_of_work.UnitOfWork` it is handed (the only way it can read one), calls
the domain, and marks what it changed; the :class:`~aggregates.committer.Committer` saves that
in one transaction, retrying a lost race on fresh state, or, on SQLite, together with the
commands queued beside it. A command on one platform is built by :func:`_on_platform`, which
also frees the subfield seat of a platform that ends holding it (Art. 5). Besides the unit of
work a decide step reads only the :class:`~aggregates.rules.Rules` (policies and calendar),
taken into a local (``rules = self.rules``) so that the step holds no reference to the
application, whose repository would read around the unit of work (tests/test_unit_of_work.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.persistence import Mapper, Recording, Transcoder

from .archive_imports import ArchiveImports
from .batch import PublicityBatch
from .calendar import WorkingDayCalendar
from .committer import Committer
from .errors import InvalidInput, NotFound, RuleViolation
from .hashing import ChainMapper
from .platform import Platform
from .policy import Policy, PolicyRegistry
from .recorded import RecordedAggregate
from .rules import Rules
from .seat import SubfieldSeat
from .store import StoreConfig
from .subfield_register import SubfieldRegister
from .task_book import check_period_dates, default_period_end
from .transcodings import make_transcoder
from .unit_of_work import Command, CommandResult, Decide, Decision, Idempotency, UnitOfWork, find
from .values import Act, ChangeKind, RevocationGround, Role, ScoreSheet, TerminationGround

# Aggregates kept between commands unless the operator says otherwise (PLATFORMS_AGGREGATE_CACHE).
DEFAULT_AGGREGATE_CACHE = 5000


class RegistryApp(Application[UUID]):
    """The platform registry (开放创新平台认定管理) on the event store."""

    name = "Registry"
    # A snapshot every 50 events bounds any load, as of any version, to replaying 49 events.
    snapshotting_intervals = {Platform: 50}

    def __init__(
        self,
        store: StoreConfig,
        policies: PolicyRegistry | None = None,
        calendar: WorkingDayCalendar | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        """The registry on ``store``, applying ``policies`` and ``calendar`` (default: the bundled
        ones; the composition root passes the operator's, :mod:`api.bootstrap`). ``env`` is the
        library's settings beside the store's (``CREATE_TABLE``, ``AGGREGATE_CACHE_MAXSIZE``)."""
        self.store = store
        self.policies = policies or PolicyRegistry.load()
        self.calendar = calendar or WorkingDayCalendar()
        # Cache aggregates between commands; the library fast-forwards a cached aggregate with
        # any newer stored events before use, so other processes' writes are never missed.
        settings = {"AGGREGATE_CACHE_MAXSIZE": str(DEFAULT_AGGREGATE_CACHE)}
        super().__init__(env={**settings, **self.store.eventsourcing_env(), **(env or {})})
        self.committer = Committer(self, self.store)

    @property
    def rules(self) -> Rules:
        """The policies and calendar a command applies, as they are now (an operator may load a
        further year's schedule)."""
        return Rules(self.policies, self.calendar)

    def construct_transcoder(self) -> Transcoder:
        # The same encoding the hash chain hashes (aggregates.hashing).
        return make_transcoder()

    def construct_mapper(self) -> Mapper[UUID]:
        # Upcast events keep their stored rows' hashes, which the chain links (aggregates.hashing).
        return self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=ChainMapper)

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """The library's save; the registry's aggregates' events are collected directly, without
        the library's runtime protocol checks of each object (two ``isinstance`` checks against
        ``typing`` protocols, about 20 µs an aggregate, measured: README, "Commands near the floor")."""
        if not all(isinstance(obj, RecordedAggregate) for obj in objs):
            return super().save(*objs, **kwargs)
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for aggregate in objs:
            processing_event.events.extend(aggregate.collect_events())
            processing_event.aggregates[aggregate.id] = aggregate
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)  # the library's deprecated hook, as its save calls it
        return recordings

    def close(self) -> None:
        self.committer.close()  # first: no command is saved into a closed store
        super().close()

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        # The library's hook after each save, handed the aggregates just saved: snapshots are
        # taken from them (Committer.take_snapshots) rather than rebuilt from the store.
        self.committer.take_snapshots(processing_event.aggregates, processing_event.events)

    # ------------------------------------------------------------------ reading
    def get_platform(self, platform_id: UUID, version: int | None = None) -> Platform:
        platform = find(self.repository, platform_id, version)
        if not isinstance(platform, Platform):
            raise NotFound("platform_not_found", f"no platform {platform_id}", params={"platform_id": platform_id})
        return platform

    def get_batch(self, batch_ref: str) -> PublicityBatch:
        batch_id = PublicityBatch.create_id(batch_ref)
        batch = find(self.repository, batch_id)
        if not isinstance(batch, PublicityBatch):
            raise NotFound("batch_not_found", f"no publicity batch {batch_id}")
        return batch

    def policy_of(self, platform: Platform) -> Policy:
        return self.rules.policy_of(platform)

    def subfield_held(self, subfield: str) -> bool:
        """Whether a platform holds ``subfield``'s seat now (Art. 5: one platform per subfield)."""
        seat = find(self.repository, SubfieldSeat.create_id(subfield))
        return seat is not None and seat.holder is not None

    def admitted_subfields(self, policy_ref: str) -> tuple[str, ...]:
        """The subfields the bureau admitted under the policy (Art. 4's "等"), in order."""
        register = find(self.repository, SubfieldRegister.create_id(policy_ref))
        return register.names if isinstance(register, SubfieldRegister) else ()

    def subfield_admission(self, policy_ref: str, subfield: str) -> dict[str, Any]:
        """The bureau's decision admitting ``subfield`` under the policy (Art. 4)."""
        register = find(self.repository, SubfieldRegister.create_id(policy_ref))
        if not isinstance(register, SubfieldRegister) or subfield not in register.admitted:
            raise NotFound("subfield_not_found", f"no subfield {subfield!r} was admitted under {policy_ref}",
                           params={"subfield": subfield, "policy": policy_ref})
        return dict(register.admitted[subfield])

    def archive_import(self, archive_sha256: str) -> dict[str, Any] | None:
        """The import of the archive with this SHA-256 (started, maybe completed), or None."""
        register = find(self.repository, ArchiveImports.create_id())
        if not isinstance(register, ArchiveImports) or archive_sha256 not in register.imports:
            return None
        return dict(register.imports[archive_sha256])

    def imports_running(self) -> list[str]:
        """The archives (SHA-256) whose import was started and not completed: while one runs, no
        missed deadline is recorded (:mod:`projections.deadline_watch`)."""
        register = find(self.repository, ArchiveImports.create_id())
        return register.running if isinstance(register, ArchiveImports) else []

    def commands_waiting(self) -> int:
        """How many commands are queued for the next group commit (0 where there is none)."""
        return self.committer.waiting()

    def stream(self, aggregate_id: UUID) -> Iterator[Any]:
        """Every event of one aggregate, in order."""
        return iter(self.events.get(aggregate_id))

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
        """Art. 8(1), bound to the policy in force on the application date (Art. 15), in one of its
        subfields or one the bureau admitted under it (Art. 4)."""
        policy = self.policies.in_force(act.business_date)

        def decide(uow: UnitOfWork) -> Decision:
            admitted = uow.subfield_register(policy.policy, act).names  # read, never saved here
            platform = Platform.apply(
                policy=policy, name=name, subfield=subfield, host_unit=host_unit, co_builders=list(co_builders or []),
                commitments=commitments, achievements=list(achievements),
                basic_conditions=dict(basic_conditions or {}), act=act, admitted_subfields=admitted,
            )
            uow.save(platform)
            return Decision(platform)

        return self.committer.run(Command("apply", act, idempotency, decide))

    # ------------------------------------------------------------------ Art. 4 细分领域
    def admit_subfield(
        self, act: Act, *, name: str, reasons: str, policy_ref: str | None = None,
        idempotency: Idempotency | None = None,
    ) -> CommandResult:
        """Art. 4: the bureau admits a subfield beyond the policy's list by a recorded decision,
        under ``policy_ref`` or, by default, the policy in force on the decision's date."""
        policy = self.policies.get(policy_ref) if policy_ref else self.policies.in_force(act.business_date)

        def decide(uow: UnitOfWork) -> Decision:
            register = uow.subfield_register(policy.policy, act)
            kept = register.admit(policy, name, reasons, act)
            uow.save(register)
            return Decision(register, {"policy": policy.policy, "subfield": kept})

        return self.committer.run(Command("admit_subfield", act, idempotency, decide))

    # ------------------------------------------------------------------ archive imports (档案导入)
    def start_import(self, act: Act, *, archive_sha256: str, lines: int) -> CommandResult:
        """Record that the clerk of ``act`` starts importing an archive (nothing, when resuming
        an interrupted import of it): :mod:`aggregates.archive_imports`."""

        def decide(uow: UnitOfWork) -> Decision:
            register = uow.archive_imports(act)
            register.start(archive_sha256, lines, act)
            uow.save(register)
            return Decision(register)

        return self.committer.run(Command("start_import", act, None, decide))

    def complete_import(self, act: Act, *, archive_sha256: str, platforms: dict[str, str],
                        batches: dict[str, str], acts: int) -> CommandResult:
        """Record that the import of an archive is complete, with what it created."""

        def decide(uow: UnitOfWork) -> Decision:
            register = uow.archive_imports(act)
            register.complete(archive_sha256, platforms, batches, acts, act)
            uow.save(register)
            return Decision(register)

        return self.committer.run(Command("complete_import", act, None, decide))

    def abandon_import(self, act: Act, *, archive_sha256: str, reasons: str) -> CommandResult:
        """Record that an interrupted import will not be resumed; what it recorded stands."""

        def decide(uow: UnitOfWork) -> Decision:
            register = uow.archive_imports(act)
            register.abandon(archive_sha256, reasons, act)
            uow.save(register)
            return Decision(register)

        return self.committer.run(Command("abandon_import", act, None, decide))

    # ------------------------------------------------------------------ Art. 8(2)-(5)
    def intake(self, platform_id: UUID, accepted: bool, reasons: str, act: Act, *,
               idempotency: Idempotency | None = None, expected_version: int | None = None) -> CommandResult:
        decide = _on_platform(platform_id, expected_version, act, lambda p: p.review_formally(accepted, reasons, act))
        return self.committer.run(Command("intake", act, idempotency, decide))

    def score(
        self, platform_id: UUID, scores: dict[str, Any], comment: str, expert_affiliation: str | None, act: Act, *,
        idempotency: Idempotency | None = None, expected_version: int | None = None,
    ) -> CommandResult:
        rules = self.rules
        decide = _on_platform(platform_id, expected_version, act,
                              lambda p: p.score(rules.policy_of(p), expert_affiliation, scores, comment, act))
        return self.committer.run(Command("score", act, idempotency, decide))

    def record_score_sheets(
        self, platform_id: UUID, act: Act, sheets: list[dict[str, Any]], *,
        idempotency: Idempotency | None = None, expected_version: int | None = None,
    ) -> CommandResult:
        """Art. 8(3): a review meeting's score sheets, recorded by a clerk (``act``: the clerk's,
        dated on the meeting's day with the meeting's reference) on the experts' behalf, each
        sheet (``expert_id``, ``expert_name``, ``affiliation``, ``scores``, ``comment``) the act of
        its expert; in one transaction: the meeting's sheets are recorded together or not at all."""
        if not act.document_refs:
            raise InvalidInput("reference_required", "a review meeting's sheets name the meeting's reference",
                               "meeting_ref")
        papers = [ScoreSheet(act.on_behalf_of(str(s["expert_id"]), Role.EXPERT), s.get("affiliation"),
                             dict(s["scores"]), str(s.get("comment", "")), s.get("expert_name"))
                  for s in sheets]
        rules = self.rules
        decide = _on_platform(platform_id, expected_version, act,
                              lambda p: p.score_meeting(rules.policy_of(p), papers))
        return self.committer.run(Command("record_score_sheets", act, idempotency, decide))

    def inspect(self, platform_id: UUID, passed: bool, findings: str, act: Act, *,
                idempotency: Idempotency | None = None, expected_version: int | None = None) -> CommandResult:
        decide = _on_platform(platform_id, expected_version, act, lambda p: p.inspect(passed, findings, act))
        return self.committer.run(Command("inspect", act, idempotency, decide))

    def approve(
        self, platform_id: UUID, act: Act, *, party_group_meeting_ref: str, vice_mayor_approval_ref: str,
        funding_plan_ref: str, subfield_exception: str | None = None,
        idempotency: Idempotency | None = None, expected_version: int | None = None,
    ) -> CommandResult:
        """Art. 8(5) with Art. 5: the platform and its subfield seat are saved together."""
        rules = self.rules

        def decide(uow: UnitOfWork) -> Decision:
            platform = uow.platform(platform_id, expected_version)
            policy = rules.policy_of(platform)
            platform.approve(policy, party_group_meeting_ref, vice_mayor_approval_ref, funding_plan_ref,
                             subfield_exception, act)
            seat = uow.seat(platform.subfield, act)
            seat.occupy(platform.id, subfield_exception, policy.policy, act)
            uow.save(platform, seat)
            return Decision(platform)

        return self.committer.run(Command("approve", act, idempotency, decide))

    # ------------------------------------------------------------------ Art. 8(6) 公示
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
        rules = self.rules

        def decide(uow: UnitOfWork) -> Decision:
            # Checked on the state each attempt sees: a rival that took the reference first makes
            # the retry answer this, as a lone request would, not a write conflict.
            if uow.exists(PublicityBatch.create_id(batch_ref)):
                raise RuleViolation("batch_ref_taken", f"publicity batch {batch_ref} already exists", "Art. 8(6)",
                    params={"batch_ref": batch_ref})
            platforms = [uow.platform(pid) for pid in platform_ids]
            policies = {p.policy_ref: rules.policy_of(p) for p in platforms}
            if len({(p.publicity_working_days, p.publicity_start_day_counts) for p in policies.values()}) > 1:
                raise RuleViolation("mixed_publicity_rules",
                                    "platforms under policies with different publicity rules need separate batches",
                                    "Art. 8(6)")
            policy = next(iter(policies.values()))
            window = rules.publicity_window(policy, start_date)
            batch = PublicityBatch.publish(
                batch_ref=batch_ref, media=media, window=window, working_days=policy.publicity_working_days,
                platform_ids=platform_ids, act=act,
            )
            for platform in platforms:
                platform.publicize(batch.id, batch_ref, media, window, act)
            uow.save(batch, *platforms)
            return Decision(batch)

        return self.committer.run(Command("publicize", act, idempotency, decide))

    def object(
        self, platform_id: UUID, act: Act, *, objector_name: str, contact: str, content: str,
        idempotency: Idempotency | None = None,
    ) -> CommandResult:
        return self.committer.run(self.object_command(platform_id, act, objector_name=objector_name,
                                                      contact=contact, content=content, idempotency=idempotency))

    def object_command(
        self, platform_id: UUID, act: Act, *, objector_name: str, contact: str, content: str,
        idempotency: Idempotency | None = None,
    ) -> Command:
        """The objection of :meth:`object`, not run: for ``committer.run_async``."""
        rules = self.rules

        def change(p: Platform) -> dict[str, Any]:
            objection_id = p.object(rules.window_for_objection(p, act.business_date), objector_name, contact,
                                    content, act)
            return {"objection_id": objection_id, "admissible": p.objections[objection_id]["admissible"]}

        return Command("object", act, idempotency, _on_platform(platform_id, None, act, change))

    def resolve_objection(
        self, platform_id: UUID, objection_id: str, act: Act, *, upheld: bool, handling_opinion: str,
        vice_mayor_decision_ref: str, idempotency: Idempotency | None = None, expected_version: int | None = None,
    ) -> CommandResult:
        decide = _on_platform(platform_id, expected_version, act, lambda p: p.resolve_objection(
            objection_id, upheld, handling_opinion, vice_mayor_decision_ref, act))
        return self.committer.run(Command("resolve_objection", act, idempotency, decide))

    # ------------------------------------------------------------------ Art. 8(7) 行文下达
    def issue_notice(self, platform_id: UUID, act: Act, *, idempotency: Idempotency | None = None,
                     expected_version: int | None = None) -> CommandResult:
        rules = self.rules
        decide = _on_platform(platform_id, expected_version, act,
                              lambda p: p.issue_notice(rules.window_of(p) if p.publicity else None, act))
        return self.committer.run(Command("issue_notice", act, idempotency, decide))

    def sign_task_book(
        self, platform_id: UUID, act: Act, *, indicators: list[dict[str, str]], period_start: date,
        period_end: date | None = None, period_reason: str | None = None,
        idempotency: Idempotency | None = None, expected_version: int | None = None,
    ) -> CommandResult:
        check_period_dates(period_start, period_end)
        rules = self.rules

        def change(p: Platform) -> None:
            policy = rules.policy_of(p)
            end = period_end or default_period_end(period_start, policy.execution_period_months)
            p.sign_task_book(policy, indicators, period_start, end, rules.acceptance_due(policy, end), act,
                             period_reason=period_reason)

        decide = _on_platform(platform_id, expected_version, act, change)
        return self.committer.run(Command("sign_task_book", act, idempotency, decide))

    # ------------------------------------------------------------------ Art. 11
    def report_change(
        self, platform_id: UUID, act: Act, *, kind: ChangeKind, description: str, new_value: Any,
        idempotency: Idempotency | None = None, expected_version: int | None = None,
    ) -> CommandResult:
        decide = _on_platform(platform_id, expected_version, act, lambda p: {
            "change_id": p.report_change(kind, description, new_value, act)})
        return self.committer.run(Command("report_change", act, idempotency, decide))

    def decide_change(
        self, platform_id: UUID, change_id: str, act: Act, *, approved: bool, reasons: str,
        idempotency: Idempotency | None = None, expected_version: int | None = None,
    ) -> CommandResult:
        decide = _on_platform(platform_id, expected_version, act,
                              lambda p: p.decide_change(change_id, approved, reasons, act))
        return self.committer.run(Command("decide_change", act, idempotency, decide))

    # ------------------------------------------------------------------ Art. 9 验收
    def apply_for_acceptance(self, platform_id: UUID, act: Act, *, summary: str,
                             idempotency: Idempotency | None = None,
                             expected_version: int | None = None) -> CommandResult:
        rules = self.rules
        decide = _on_platform(platform_id, expected_version, act, lambda p: p.apply_for_acceptance(
            summary, rules.acceptance_due_for(p, act.business_date), act))
        return self.committer.run(Command("apply_for_acceptance", act, idempotency, decide))

    def record_acceptance_deadline_missed(self, platform_id: UUID, *, today: date,
                                          recorder: str = "deadline-watch") -> CommandResult:
        """Art. 9(1): record that ``platform_id`` missed its acceptance application deadline, as
        the deadline watch (``recorder``) finds it on ``today`` (Asia/Shanghai). Refused
        (``acceptance_deadline_miss_recorded``) when already recorded: a rival watch that loses
        the race to save it is decided again on the saved state and gets that refusal, so the
        miss is recorded once. A deadline that cannot be counted yet raises
        :class:`CalendarNotLoaded`."""
        rules = self.rules
        watch = Act(recorder, Role.SYSTEM, today, recorded_on=today)
        decide = _on_platform(platform_id, None, watch, lambda p: p.record_acceptance_deadline_missed(
            rules.acceptance_deadline_of(p), watch))
        return self.committer.run(Command("record_acceptance_deadline_missed", watch, None, decide))

    def admit_late_acceptance(self, platform_id: UUID, act: Act, *, justification: str,
                              idempotency: Idempotency | None = None,
                              expected_version: int | None = None) -> CommandResult:
        decide = _on_platform(platform_id, expected_version, act,
                              lambda p: p.admit_late_acceptance(justification, act))
        return self.committer.run(Command("admit_late_acceptance", act, idempotency, decide))

    def review_acceptance(
        self, platform_id: UUID, act: Act, *, panel: list[str], indicator_results: list[dict[str, Any]],
        funds_use_compliant: bool, qualified: bool, justification: str | None = None,
        idempotency: Idempotency | None = None, expected_version: int | None = None,
    ) -> CommandResult:
        decide = _on_platform(platform_id, expected_version, act, lambda p: p.review_acceptance(
            panel, indicator_results, funds_use_compliant, qualified, act, justification))
        return self.committer.run(Command("review_acceptance", act, idempotency, decide))

    def renew_certificate(self, platform_id: UUID, act: Act, *, number: str, valid_until: date,
                          idempotency: Idempotency | None = None,
                          expected_version: int | None = None) -> CommandResult:
        """Art. 7(1): the host unit's renewed high-tech enterprise certificate, recorded."""
        decide = _on_platform(platform_id, expected_version, act,
                              lambda p: p.renew_certificate(number, valid_until, act))
        return self.committer.run(Command("renew_certificate", act, idempotency, decide))

    def recognize(self, platform_id: UUID, act: Act, *, plaque_no: str, idempotency: Idempotency | None = None,
                  expected_version: int | None = None) -> CommandResult:
        decide = _on_platform(platform_id, expected_version, act, lambda p: p.recognize(plaque_no, act))
        return self.committer.run(Command("recognize", act, idempotency, decide))

    def fund(self, platform_id: UUID, act: Act, *, amount: Decimal | None = None,
             idempotency: Idempotency | None = None, expected_version: int | None = None) -> CommandResult:
        rules = self.rules
        decide = _on_platform(platform_id, expected_version, act, lambda p: p.fund(rules.policy_of(p), amount, act))
        return self.committer.run(Command("fund", act, idempotency, decide))

    def recover_funds(self, platform_id: UUID, act: Act, *, amount: Decimal, reasons: str,
                      idempotency: Idempotency | None = None, expected_version: int | None = None) -> CommandResult:
        decide = _on_platform(platform_id, expected_version, act, lambda p: p.recover_funds(amount, reasons, act))
        return self.committer.run(Command("recover_funds", act, idempotency, decide))

    # ------------------------------------------------------------------ ends
    def revoke(self, platform_id: UUID, act: Act, *, ground: RevocationGround, reasons: str,
               idempotency: Idempotency | None = None, expected_version: int | None = None) -> CommandResult:
        decide = _on_platform(platform_id, expected_version, act, lambda p: p.revoke(ground, reasons, act))
        return self.committer.run(Command("revoke", act, idempotency, decide))

    def withdraw(self, platform_id: UUID, act: Act, *, reasons: str, idempotency: Idempotency | None = None,
                 expected_version: int | None = None) -> CommandResult:
        decide = _on_platform(platform_id, expected_version, act, lambda p: p.withdraw(reasons, act))
        return self.committer.run(Command("withdraw", act, idempotency, decide))

    def terminate(self, platform_id: UUID, act: Act, *, ground: TerminationGround, reasons: str,
                  idempotency: Idempotency | None = None, expected_version: int | None = None) -> CommandResult:
        decide = _on_platform(platform_id, expected_version, act, lambda p: p.terminate(ground, reasons, act))
        return self.committer.run(Command("terminate", act, idempotency, decide))


def _on_platform(platform_id: UUID, expected_version: int | None, act: Act,
                 change: Callable[[Platform], dict[str, Any] | None]) -> Decide:
    """The decide step of a command on one platform: load it (refused with 412 on a stale
    ``If-Match`` version), apply ``change`` (whose result, if any, is the answer's extras), and
    save it; a platform that ends holding its subfield frees the seat in the same transaction
    (Art. 5)."""

    def decide(uow: UnitOfWork) -> Decision:
        platform = uow.platform(platform_id, expected_version)
        was_holding = platform.holds_subfield
        extra = change(platform) or {}
        uow.save(platform)
        if was_holding and platform.stage.is_end:
            seat = uow.seat(platform.subfield, act)
            seat.release(platform.id, act)
            uow.save(seat)
        return Decision(platform, extra)

    return decide


__all__ = ["CommandResult", "Idempotency", "RegistryApp"]
