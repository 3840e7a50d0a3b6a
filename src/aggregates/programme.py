"""The one driver of the procedure: platforms taken through ``RegistryApp``'s commands, step by
step, as the API would take them (长科发〔2021〕36号 Art. 8-9, 11 and 13).

``platforms demo`` loads its programme with it (:mod:`api.demo`), the tests take platforms to the
stage they need with it, and the benchmarks generate their logs with it. Every step is a command
of the application service, so every rule applies and nothing is written behind the domain's
back; a refused step raises what the command raises.

Each step has defaults a caller may override: the business dates of a :class:`Round` (by
default a 2022 round: applied 2022-03-01, publicity from 2022-09-29 across National Day, last
day 2022-10-10, notice 2022-10-11, task book from 2022-11-01, acceptance in December 2023), the
actors of a cast, and documents (文号) of the kind each act needs. Dates lie in the past and
never run backwards within a platform (docs/DOMAIN.md, "Time rules").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date
from decimal import Decimal
from itertools import count
from typing import Any
from uuid import UUID

from .application import CommandResult, RegistryApp
from .credit_code import with_check_character
from .platform import Platform
from .values import Act, ChangeKind, RevocationGround, Role, TerminationGround

# The stages of the procedure a platform passes on its way to the grant, in order (docs/API.md's
# status vocabulary without the ends).
STAGES = ("applied", "accepted", "reviewed", "inspected", "approved", "in_publicity", "notified",
          "under_construction", "acceptance_applied", "qualified", "recognized", "funded")

# Platform names, host units' codes and batch references differ within a process.
_serial = count(1)


def credit_code(n: int | None = None) -> str:
    """A valid unified social credit code of an enterprise (登记管理部门 9) in Changsha; a new one
    on each call without ``n``."""
    n = next(_serial) if n is None else n
    return with_check_character(f"9143010{n:08d}AB")


def expert_affiliation(i: int) -> str:
    """A valid code of a public institution (事业单位, 12…), never a host unit's."""
    return with_check_character(f"1243000{i:08d}EX")


def host_unit(name: str = "长沙某智能科技有限公司", code: str | None = None,
              certificate: str = "GR202143000123", valid_until: date = date(2027, 12, 31)) -> dict[str, Any]:
    """A host unit (依托单位) that meets Art. 7(1): a high-tech enterprise with its certificate."""
    return {"name": name, "credit_code": code or credit_code(),
            "high_tech_certificate": {"number": certificate, "valid_until": valid_until}}


def application(subfield: str = "智能芯片", code: str | None = None, **overrides: Any) -> dict[str, Any]:
    """The body of an application that meets Art. 6 and 7; ``overrides`` replace its fields."""
    body: dict[str, Any] = dict(
        name=f"平台{next(_serial)}",
        subfield=subfield,
        host_unit=host_unit(code=code),
        co_builders=[],
        commitments="持续投入资金、人才与基础设施",
        achievements=[{"title": "智能芯片中试线", "stage": "pilot"}],
        basic_conditions={"technical_strength": "领先", "open_sharing": "开放接口", "service_mechanism": "运营团队"},
    )
    body.update(overrides)
    return body


def as_date(day: date | str) -> date:
    return day if isinstance(day, date) else date.fromisoformat(day)


def act(role: Role, on: date | str, *refs: str, who: str | None = None, recorded_on: date | None = None) -> Act:
    """An act of ``role`` on ``on``; the actor is ``who``, else the role's first (``bureau-1``).
    It is recorded on ``recorded_on``, by default its own day: a programme is driven as it
    happened, day by day, so no clock decides what it may record."""
    day = as_date(on)
    return Act(who or f"{role.value}-1", role, day, tuple(refs), recorded_on=recorded_on or day)


@dataclass(frozen=True)
class Round:
    """The business dates of one round of the procedure (Art. 8-9)."""

    applied: date = date(2022, 3, 1)
    accepted: date = date(2022, 3, 10)
    scored: date = date(2022, 4, 15)
    inspected: date = date(2022, 5, 20)
    approved: date = date(2022, 9, 1)
    publicized: date = date(2022, 9, 28)  # the bureau's decision; the window starts the next day
    publicity_start: date = date(2022, 9, 29)  # five working days across National Day: to 2022-10-10
    notified: date = date(2022, 10, 11)
    task_book: date = date(2022, 11, 1)  # the one-year execution period starts that day
    acceptance_applied: date = date(2023, 11, 20)  # before the due date, 2023-11-30
    acceptance_reviewed: date = date(2023, 12, 1)
    recognized: date = date(2023, 12, 10)
    funded: date = date(2023, 12, 20)

    def shifted(self, years: int) -> Round:
        """The same round ``years`` later (or earlier), e.g. under a later policy version."""
        return replace(self, **{f.name: _shift(getattr(self, f.name), years) for f in fields(self)})


def _shift(day: date, years: int) -> date:
    return day.replace(year=day.year + years)


ROUND_2022 = Round()
INDICATORS = ({"name": "开放接口数", "target": "≥20"}, {"name": "服务企业数", "target": "≥50"})
PANEL = ("专家甲", "专家乙", "专家丙")
# The documents the driver gives the acts that release committed funds when a test names none.
WITHDRAWAL_REF = "撤回函〔2022〕1号"
UNQUALIFIED_REF = "验收会议纪要〔2023〕1号"


@dataclass
class Programme:
    """Drives platforms through the procedure, one command per call.

    ``cast`` names the actor of each role (default ``bureau-1`` and so on); the applicant of a
    platform is whoever applied for it. ``experts`` are (actor, affiliation) pairs, as many as the
    policy's minimum are asked (default ``expert-0``… of public institutions). ``on_command`` is
    told every command's result, after it was written. :meth:`to` takes a platform to a stage
    from wherever it stands; :meth:`advance` takes one step without asking.
    """

    app: RegistryApp
    round: Round = ROUND_2022
    cast: Mapping[Role, str] = field(default_factory=dict)
    experts: Sequence[tuple[str, str | None]] | None = None
    on_command: Callable[[CommandResult], None] | None = None
    last: CommandResult | None = field(default=None, init=False)  # the latest command's result
    applicants: dict[UUID, str] = field(default_factory=dict, init=False)  # who applied for each platform

    def act(self, role: Role, on: date | str, *refs: str, who: str | None = None) -> Act:
        return act(role, on, *refs, who=who or self.cast.get(role))

    def _done(self, result: CommandResult) -> CommandResult:
        self.last = result
        if self.on_command is not None:
            self.on_command(result)
        return result

    def _applicant(self, pid: UUID, on: date | str, who: str | None, *refs: str) -> Act:
        return self.act(Role.APPLICANT, on, *refs, who=who or self.applicants.get(pid))

    # ---------------------------------------------------------------- Art. 8
    def apply(self, subfield: str = "智能芯片", *, on: date | str | None = None, who: str | None = None,
              **body: Any) -> UUID:
        """Art. 8(1): an application in ``subfield``; ``body`` overrides :func:`application`'s fields."""
        by = self.act(Role.APPLICANT, on or self.round.applied, who=who)
        pid = self._done(self.app.apply(by, **application(subfield, **body))).aggregate_id
        self.applicants[pid] = by.actor_id
        return pid

    def intake(self, pid: UUID, accepted: bool = True, reasons: str = "材料齐全", *,
               on: date | str | None = None) -> None:
        self._done(self.app.intake(pid, accepted, reasons, self.act(Role.SERVICE_AGENCY, on or self.round.accepted)))

    def score(self, pid: UUID, *, on: date | str | None = None, strength: float = 1.0, opinion: str = "良好") -> None:
        """Art. 8(3): the policy's minimum of experts score; ``strength`` scales every criterion's
        maximum, and each expert marks 0-2 points below the others."""
        policy = self.app.policy_of(self.app.get_platform(pid))
        experts = self.experts or [(f"expert-{i}", expert_affiliation(i)) for i in range(policy.min_experts)]
        for i, (expert, affiliation) in enumerate(experts[:policy.min_experts]):
            marks = {c.criterion: max(0, round(c.max_points * strength - i % 3)) for c in policy.rubric}
            self._done(self.app.score(pid, marks, opinion, affiliation,
                                      self.act(Role.EXPERT, on or self.round.scored, who=expert)))

    def inspect(self, pid: UUID, passed: bool = True, findings: str = "现场考察通过", *,
                on: date | str | None = None) -> None:
        self._done(self.app.inspect(pid, passed, findings, self.act(Role.BUREAU, on or self.round.inspected)))

    def approve(self, pid: UUID, *, on: date | str | None = None, exception: str | None = None,
                party_group_meeting_ref: str = "党组会〔2022〕12号",
                vice_mayor_approval_ref: str = "副市长审定〔2022〕3号",
                funding_plan_ref: str = "资金安排〔2022〕7号") -> None:
        """Art. 8(5); ``exception`` is the written Art. 5 exception for a held subfield."""
        self._done(self.app.approve(
            pid, self.act(Role.BUREAU, on or self.round.approved, party_group_meeting_ref),
            party_group_meeting_ref=party_group_meeting_ref, vice_mayor_approval_ref=vice_mayor_approval_ref,
            funding_plan_ref=funding_plan_ref, subfield_exception=exception))

    def publicize(self, pids: Sequence[UUID], batch_ref: str | None = None, *, on: date | str | None = None,
                  start: date | str | None = None, media: str = "长沙晚报") -> str:
        """Art. 8(6): one batch listing ``pids``; returns its reference."""
        start_date = as_date(start or self.round.publicity_start)
        batch_ref = batch_ref or f"公示-{start_date.year}-{next(_serial)}"
        self._done(self.app.publicize(self.act(Role.BUREAU, on or self.round.publicized, batch_ref),
                                      batch_ref=batch_ref, media=media, start_date=start_date,
                                      platform_ids=list(pids)))
        return batch_ref

    def object(self, pid: UUID, *, on: date | str, content: str = "质疑申报材料", objector_name: str = "张三",
               contact: str = "138-0000-0000") -> str:
        """Art. 8(6): a member of the public objects; returns the objection's id."""
        result = self._done(self.app.object(pid, self.act(Role.PUBLIC, on), objector_name=objector_name,
                                            contact=contact, content=content))
        return str(result.extra["objection_id"])

    def resolve(self, pid: UUID, objection_id: str, *, upheld: bool, on: date | str,
                handling_opinion: str = "经核实", vice_mayor_decision_ref: str = "副市长批〔2022〕5号") -> None:
        self._done(self.app.resolve_objection(
            pid, objection_id, self.act(Role.BUREAU, on, vice_mayor_decision_ref), upheld=upheld,
            handling_opinion=handling_opinion, vice_mayor_decision_ref=vice_mayor_decision_ref))

    def notify(self, pid: UUID, *, on: date | str | None = None, ref: str = "长科发〔2022〕50号") -> None:
        """Art. 8(7): the joint notice, once the window has closed."""
        self._done(self.app.issue_notice(pid, self.act(Role.BUREAU, on or self.round.notified, ref)))

    def sign_task_book(self, pid: UUID, *, on: date | str | None = None, ref: str = "任务书2022-01",
                       indicators: Sequence[dict[str, str]] = INDICATORS) -> None:
        """Art. 8(7), 9(1): the task book; the execution period starts on the day it is signed."""
        day = as_date(on or self.round.task_book)
        self._done(self.app.sign_task_book(pid, self.act(Role.BUREAU, day, ref), indicators=list(indicators),
                                           period_start=day))

    # ---------------------------------------------------------------- Art. 11
    def change(self, pid: UUID, kind: ChangeKind, new_value: Any, *, reported_on: date | str,
               decided_on: date | str, description: str = "变更", approved: bool = True,
               reasons: str = "同意") -> str:
        """Art. 11: the host unit reports a major change and the bureau decides it; returns its id."""
        reported = self._done(self.app.report_change(pid, self._applicant(pid, reported_on, None), kind=kind,
                                                     description=description, new_value=new_value))
        change_id = str(reported.extra["change_id"])
        self._done(self.app.decide_change(pid, change_id, self.act(Role.BUREAU, decided_on), approved=approved,
                                          reasons=reasons))
        return change_id

    # ---------------------------------------------------------------- Art. 9
    def apply_for_acceptance(self, pid: UUID, *, on: date | str | None = None, summary: str = "任务完成") -> None:
        self._done(self.app.apply_for_acceptance(
            pid, self._applicant(pid, on or self.round.acceptance_applied, None), summary=summary))

    def record_missed_deadline(self, pid: UUID, *, today: date | str) -> None:
        """Art. 9(1): the deadline watch, running on ``today``, records that ``pid`` missed its
        acceptance deadline (dated the day after it)."""
        self._done(self.app.record_acceptance_deadline_missed(pid, today=as_date(today)))

    def admit_late_acceptance(self, pid: UUID, *, on: date | str, justification: str, ref: str | None = None) -> None:
        """Art. 9(1): the bureau admits a late acceptance application, with its justification."""
        refs = (ref,) if ref else ()
        self._done(self.app.admit_late_acceptance(pid, self.act(Role.BUREAU, on, *refs), justification=justification))

    def review_acceptance(self, pid: UUID, qualified: bool = True, *, on: date | str | None = None,
                          panel: Sequence[str] = PANEL, ref: str | None = None) -> None:
        """Art. 9(2)-(3): the meeting's results cover the task book's indicators, every one
        achieved when ``qualified``, the last one missed when not (then with the meeting's
        document, ``ref`` or a default one: an unqualified conclusion releases the funds)."""
        book = self.app.get_platform(pid).task_book or {}
        names = [str(i["name"]) for i in book.get("indicators", ())]
        results = [{"name": n, "achieved": qualified or k < len(names) - 1} for k, n in enumerate(names)]
        refs = (ref,) if ref else () if qualified else (UNQUALIFIED_REF,)
        self._done(self.app.review_acceptance(
            pid, self.act(Role.SERVICE_AGENCY, on or self.round.acceptance_reviewed, *refs), panel=list(panel),
            indicator_results=results, funds_use_compliant=True, qualified=qualified))

    def recognize(self, pid: UUID, *, on: date | str | None = None, ref: str = "长科发〔2023〕80号",
                  plaque_no: str | None = None) -> None:
        day = as_date(on or self.round.recognized)
        self._done(self.app.recognize(pid, self.act(Role.BUREAU, day, ref),
                                      plaque_no=plaque_no or f"CS-AI-{day.year}-{pid.hex[:6]}"))

    def fund(self, pid: UUID, *, on: date | str | None = None, ref: str = "长财教〔2023〕99号",
             amount: Decimal | None = None) -> None:
        """Art. 9(3): the grant, at the policy's amount unless ``amount`` says otherwise."""
        self._done(self.app.fund(pid, self.act(Role.FINANCE, on or self.round.funded, ref), amount=amount))

    # ---------------------------------------------------------------- ends (Art. 8, 9, 13)
    def withdraw(self, pid: UUID, *, on: date | str, reasons: str = "主动撤回", ref: str | None = None) -> None:
        """The host unit withdraws; after the approval with its letter's document (``ref`` or a
        default one), which the funding ledger's release carries."""
        if ref is None and self.app.get_platform(pid).outstanding_commitment:
            ref = WITHDRAWAL_REF
        refs = (ref,) if ref else ()
        self._done(self.app.withdraw(pid, self._applicant(pid, on, None, *refs), reasons=reasons))

    def terminate(self, pid: UUID, *, on: date | str, ref: str, reasons: str,
                  ground: TerminationGround = TerminationGround.ACCEPTANCE_DEADLINE_MISSED) -> None:
        self._done(self.app.terminate(pid, self.act(Role.BUREAU, on, ref), ground=ground, reasons=reasons))

    def revoke(self, pid: UUID, *, on: date | str, ref: str, reasons: str,
               ground: RevocationGround = RevocationGround.SERIOUS_ADVERSE_IMPACT) -> None:
        self._done(self.app.revoke(pid, self.act(Role.BUREAU, on, ref), ground=ground, reasons=reasons))

    def recover(self, pid: UUID, amount: Decimal, *, on: date | str, ref: str, reasons: str) -> None:
        """Art. 13: money the host unit returns, recorded by finance."""
        self._done(self.app.recover_funds(pid, self.act(Role.FINANCE, on, ref), amount=amount, reasons=reasons))

    # ---------------------------------------------------------------- whole stages
    def advance(self, pid: UUID, stage: str, *, batch_ref: str | None = None, exception: str | None = None) -> None:
        """The command (or the experts' scores) that takes ``pid`` into ``stage`` from the stage
        before it, on the round's dates, without asking where it stands."""
        if stage == "approved":
            self.approve(pid, exception=exception)
        elif stage == "in_publicity":
            self.publicize([pid], batch_ref)
        elif stage == "qualified":
            self.review_acceptance(pid)
        else:
            getattr(self, _STEP[stage])(pid)

    def to(self, stage: str, pid: UUID | None = None, *, subfield: str = "智能芯片", batch_ref: str | None = None,
           exception: str | None = None, **body: Any) -> UUID:
        """Take ``pid`` (or a new application in ``subfield``, ``body`` overriding its fields) to
        ``stage`` from wherever it stands; ``exception`` is the Art. 5 exception at approval."""
        if pid is None:
            pid = self.apply(subfield, **body)
        target = STAGES.index(stage)
        while True:
            status = self.app.get_platform(pid).status
            if status not in STAGES:
                raise ValueError(f"the platform ended as {status}; it cannot be taken to {stage}")
            at = STAGES.index(status)
            if at >= target:
                return pid
            self.advance(pid, STAGES[at + 1], batch_ref=batch_ref, exception=exception)


_STEP = {"accepted": "intake", "reviewed": "score", "inspected": "inspect", "notified": "notify",
         "under_construction": "sign_task_book", "acceptance_applied": "apply_for_acceptance",
         "recognized": "recognize", "funded": "fund"}


@dataclass
class Driver:
    """One platform taken stage by stage (``to``) by a :class:`Programme` of its own, on the
    2022 round moved by ``years``: the tests' and the benchmarks' handle on a single platform."""

    app: RegistryApp
    subfield: str = "智能芯片"
    batch_ref: str = field(default_factory=lambda: f"公示-2022-{next(_serial)}")
    years: int = 0
    pid: UUID | None = None
    programme: Programme = field(init=False)

    def __post_init__(self) -> None:
        self.programme = Programme(self.app, ROUND_2022.shifted(self.years))

    @property
    def last(self) -> CommandResult | None:
        """The result of the latest command."""
        return self.programme.last

    @property
    def platform(self) -> Platform:
        assert self.pid is not None, "the platform has not applied yet"
        return self.app.get_platform(self.pid)

    def d(self, iso: str) -> date:
        """``iso`` moved by ``years``."""
        return _shift(date.fromisoformat(iso), self.years)

    def act(self, role: Role, on: str, *refs: str, who: str | None = None) -> Act:
        return act(role, self.d(on), *refs, who=who)

    def to(self, stage: str, exception: str | None = None, **application_overrides: Any) -> Driver:
        """Take the platform to ``stage``; ``application_overrides`` shape the application,
        ``exception`` is the Art. 5 justification recorded at approval."""
        self.pid = self.programme.to(stage, self.pid, subfield=self.subfield, batch_ref=self.batch_ref,
                                     exception=exception, **application_overrides)
        return self


__all__ = ["STAGES", "ROUND_2022", "INDICATORS", "Round", "Programme", "Driver", "act", "as_date", "application",
           "credit_code", "expert_affiliation", "host_unit"]
