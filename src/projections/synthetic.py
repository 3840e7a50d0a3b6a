"""A synthetic but realistic programme (模拟项目计划), driven through the application's commands.

Used by the benchmark (``bench/bench_projections.py``) and the projection tests. Cohorts of
platforms go through Art. 8-9 together on the same business dates — application in March 2022,
publicity from 2022-09-29 (the National Day window, last day 2022-10-10), task book from
2022-11-01, acceptance in late 2023 — with every kind of ending mixed in: not accepted,
inspection failed, objection upheld, withdrawn, unqualified, revoked, funded, funds recovered.
Dates are in the past and never run backwards within a platform (docs/DOMAIN.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from aggregates.application import RegistryApp
from aggregates.credit_code import with_check_character
from aggregates.errors import NotFound
from aggregates.seat import SubfieldSeat
from aggregates.values import Act, ChangeKind, RevocationGround, Role

# The outcomes a cohort cycles through (one platform each, in this order, then repeat).
OUTCOMES = ("funded", "funded", "funded", "recovered", "not_accepted", "inspection_failed", "rescinded",
            "withdrawn_approved", "unqualified", "revoked", "funded_change", "withdrawn_early")


def act(role: Role, day: str, *refs: str, who: str | None = None) -> Act:
    return Act(who or role.value, role, date.fromisoformat(day), tuple(refs))


def credit_code(n: int) -> str:
    """A valid 统一社会信用代码 for host unit number ``n``."""
    return with_check_character(f"91430100MA{n:07d}")


@dataclass
class Programme:
    """Drives cohorts of platforms; ``log`` counts what happened (for known answers)."""

    app: RegistryApp
    on_command: Callable[[], None] | None = None
    counts: dict[str, int] = field(default_factory=dict)
    host_seq: int = 0

    def _done(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1
        if self.on_command is not None:
            self.on_command()

    def apply(self, name: str, subfield: str, host_name: str, day: str = "2022-03-01") -> UUID:
        self.host_seq += 1
        r = self.app.apply(
            act(Role.APPLICANT, day), name=name, subfield=subfield,
            host_unit={"name": host_name, "credit_code": credit_code(self.host_seq),
                       "high_tech_certificate": {"number": f"GR{self.host_seq}", "valid_until": date(2025, 12, 31)}},
            commitments="continuous funding, talent and infrastructure",
            achievements=[{"title": "an AI product", "stage": "industrial"}],
            basic_conditions={"technical_strength": "strong", "open_sharing": "yes", "service_mechanism": "yes"},
        )
        self._done("apply")
        return r.aggregate_id

    def review(self, pid: UUID, passed: bool = True) -> None:
        app = self.app
        app.intake(pid, True, "complete", act(Role.SERVICE_AGENCY, "2022-03-05"))
        policy = app.policies.latest()
        for i in range(policy.min_experts):
            scores = {c.criterion: c.max_points - (i % 3) for c in policy.rubric}
            app.score(pid, scores, "ok", "91000000000000000X", act(Role.EXPERT, "2022-03-10", who=f"expert-{i}"))
        app.inspect(pid, passed, "site visit", act(Role.BUREAU, "2022-04-01"))
        self._done("review")

    def approve(self, pid: UUID, exception: str | None = None) -> None:
        self.app.approve(pid, act(Role.BUREAU, "2022-09-01"), party_group_meeting_ref="党组会〔2022〕9号",
                         vice_mayor_approval_ref="副市长批〔2022〕3号", funding_plan_ref=f"资金计划-{pid.hex[:8]}",
                         subfield_exception=exception)
        self._done("approve")

    @staticmethod
    def batch_ref(index: int) -> str:
        """The publicity batch of cohort ``index``."""
        return f"长科公示〔2022〕{index + 1}号"

    def cohorts_recorded(self) -> int:
        """How many cohorts the log already holds (each publicizes one batch), so that a
        generator can resume: the first index whose batch does not exist, by bisection."""
        def exists(index: int) -> bool:
            try:
                self.app.get_batch(self.batch_ref(index))
                return True
            except NotFound:
                return False

        low, high = 0, 1
        while exists(high - 1):
            low, high = high, high * 2
        while low < high:  # the first missing index lies in [low, high)
            mid = (low + high) // 2
            if exists(mid):
                low = mid + 1
            else:
                high = mid
        return low

    def publicize(self, batch_ref: str, pids: list[UUID], start: str = "2022-09-29", day: str = "2022-09-28") -> None:
        self.app.publicize(act(Role.BUREAU, day), batch_ref=batch_ref, media="长沙晚报",
                           start_date=date.fromisoformat(start), platform_ids=pids)
        self._done("publicize")

    def object(self, pid: UUID, day: str) -> str:
        r = self.app.object(pid, act(Role.PUBLIC, day), objector_name="张三", contact="138-0000-0000",
                            content="质疑申报材料")
        self._done("object")
        return str(r.extra["objection_id"])

    def resolve(self, pid: UUID, objection_id: str, upheld: bool, day: str = "2022-10-10") -> None:
        self.app.resolve_objection(pid, objection_id, act(Role.BUREAU, day), upheld=upheld,
                                   handling_opinion="核实", vice_mayor_decision_ref="副市长批〔2022〕5号")
        self._done("resolve")

    def construct(self, pid: UUID, change: bool = False) -> None:
        app = self.app
        app.issue_notice(pid, act(Role.BUREAU, "2022-10-11", "长科发〔2022〕30号"))
        app.sign_task_book(pid, act(Role.BUREAU, "2022-11-01", f"任务书-{pid.hex[:8]}"),
                           indicators=[{"name": "开放服务次数", "target": "100"}, {"name": "专利", "target": "5"}],
                           period_start=date(2022, 11, 1))
        if change:
            r = app.report_change(pid, act(Role.APPLICANT, "2023-03-01"), kind=ChangeKind.UNIT_NAME,
                                  description="更名", new_value="新名称有限公司")
            app.decide_change(pid, str(r.extra["change_id"]), act(Role.BUREAU, "2023-03-15"), approved=True,
                              reasons="同意")
        self._done("construct")

    def accept(self, pid: UUID, qualified: bool = True) -> None:
        app = self.app
        app.apply_for_acceptance(pid, act(Role.APPLICANT, "2023-11-20"), summary="任务完成")
        app.review_acceptance(pid, act(Role.SERVICE_AGENCY, "2023-12-01"), panel=["专家甲", "专家乙", "专家丙"],
                              indicator_results=[{"name": "开放服务次数", "achieved": qualified},
                                                 {"name": "专利", "achieved": True}],
                              funds_use_compliant=True, qualified=qualified)
        self._done("accept")

    def recognize_and_fund(self, pid: UUID) -> None:
        app = self.app
        app.recognize(pid, act(Role.BUREAU, "2023-12-05", "长科发〔2023〕50号"), plaque_no=f"No.{pid.hex[:6]}")
        app.fund(pid, act(Role.FINANCE, "2023-12-10", "长财教〔2023〕77号"), amount=Decimal("1000000.00"))
        self._done("fund")

    def cohort(self, index: int, size: int = len(OUTCOMES),
               subfields: tuple[str, ...] | None = None) -> dict[str, list[UUID]]:
        """One cohort through every stage; returns platform ids by outcome."""
        app = self.app
        subfields = subfields or app.policies.latest().subfields
        out: dict[str, list[UUID]] = {}
        pids = []
        for k in range(size):
            outcome = OUTCOMES[k % len(OUTCOMES)]
            sub = subfields[(index * size + k) % len(subfields)]
            pid = self.apply(f"平台-{index}-{k}", sub, f"依托单位-{index}-{k}有限公司")
            out.setdefault(outcome, []).append(pid)
            pids.append((pid, outcome, sub))
        publicized = []
        for pid, outcome, sub in pids:
            if outcome == "not_accepted":
                app.intake(pid, False, "材料不全", act(Role.SERVICE_AGENCY, "2022-03-05"))
                continue
            if outcome == "withdrawn_early":
                app.withdraw(pid, act(Role.APPLICANT, "2022-03-03"), reasons="主动撤回")
                continue
            self.review(pid, passed=outcome != "inspection_failed")
            if outcome == "inspection_failed":
                continue
            seat = app.repository.get(_seat_id(sub)) if _seat_exists(app, sub) else None
            taken = seat is not None and seat.holder is not None
            self.approve(pid, exception="重点产业急需，经党组会研究同意" if taken else None)
            if outcome == "withdrawn_approved":
                app.withdraw(pid, act(Role.APPLICANT, "2022-09-10"), reasons="资金不足")
                continue
            publicized.append((pid, outcome))
        if publicized:
            self.publicize(self.batch_ref(index), [p for p, _ in publicized])
        for pid, outcome in publicized:
            if outcome == "rescinded":
                oid = self.object(pid, "2022-10-08")  # a make-up working day inside the window
                self.resolve(pid, oid, upheld=True)
                continue
            self.construct(pid, change=outcome == "funded_change")
            if outcome == "funded_change":
                oid = self.object(pid, "2023-04-03")  # after the window: late, recorded only
                self.resolve(pid, oid, upheld=False, day="2023-04-03")
            if outcome == "unqualified":
                self.accept(pid, qualified=False)
                continue
            if outcome == "revoked":
                app.revoke(pid, act(Role.BUREAU, "2023-06-01", "长科发〔2023〕20号"),
                           ground=RevocationGround.SERIOUS_ADVERSE_IMPACT, reasons="严重不良影响")
                continue
            self.accept(pid)
            self.recognize_and_fund(pid)
            if outcome == "recovered":
                app.recover_funds(pid, act(Role.FINANCE, "2024-03-01", "长财追〔2024〕1号"),
                                  amount=Decimal("250000.50"), reasons="部分资金未按规定使用")
        return out


def _seat_id(subfield: str) -> UUID:
    return SubfieldSeat.create_id(subfield)


def _seat_exists(app: RegistryApp, subfield: str) -> bool:
    try:
        app.repository.get(_seat_id(subfield))
    except AggregateNotFoundError:
        return False
    return True


def expected_cohort_money(outcomes: dict[str, list[UUID]]) -> dict[str, Decimal]:
    """Known answers for one cohort's ledger (Art. 8(5), 9(3), 13): what each ending commits,
    releases, disburses and recovers."""
    m = Decimal("1000000.00")
    n = {k: len(v) for k, v in outcomes.items()}
    committed = m * sum(n.get(k, 0) for k in ("funded", "recovered", "rescinded", "withdrawn_approved",
                                               "unqualified", "revoked", "funded_change"))
    released = m * sum(n.get(k, 0) for k in ("rescinded", "withdrawn_approved", "unqualified", "revoked"))
    disbursed = m * sum(n.get(k, 0) for k in ("funded", "recovered", "funded_change"))
    recovered = Decimal("250000.50") * n.get("recovered", 0)
    return {"committed": committed, "released": released, "disbursed": disbursed, "recovered": recovered,
            "outstanding_commitments": committed - released - disbursed}


__all__ = ["Programme", "OUTCOMES", "act", "credit_code", "expected_cohort_money"]
