"""Drive platforms through the procedure in tests: one call per stage, explicit business dates.

Dates follow a realistic 2022 round: applied 2022-03-01, publicity from 2022-09-29 (the
National Day window, last day 2022-10-10), notice 2022-10-11, task book from 2022-11-01.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from itertools import count
from typing import Any
from uuid import UUID

from aggregates.application import RegistryApp
from aggregates.credit_code import with_check_character
from aggregates.values import Act, Role

_serial = count(1)


def d(iso: str) -> date:
    return date.fromisoformat(iso)


def act(role: Role, on: str, *refs: str, who: str | None = None) -> Act:
    return Act(who or f"{role.value}-1", role, d(on), tuple(refs))


def credit_code(n: int | None = None) -> str:
    """A valid code of an enterprise (登记管理部门 9) in Changsha, unique per call."""
    n = next(_serial) if n is None else n
    return with_check_character(f"9143010{n:08d}AB")


def expert_affiliation(i: int) -> str:
    """A valid code of a public institution (事业单位, 12…), never a host unit's."""
    return with_check_character(f"1243000{i:08d}EX")


def application(subfield: str = "智能芯片", code: str | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = dict(
        name=f"平台{next(_serial)}",
        subfield=subfield,
        host_unit={
            "name": "长沙某智能科技有限公司",
            "credit_code": code or credit_code(),
            "high_tech_certificate": {"number": "GR202143000123", "valid_until": d("2027-12-31")},
        },
        co_builders=[],
        commitments="持续投入资金、人才与基础设施",
        achievements=[{"title": "智能芯片中试线", "stage": "pilot"}],
        basic_conditions={"technical_strength": "领先", "open_sharing": "开放接口", "service_mechanism": "运营团队"},
    )
    body.update(overrides)
    return body


STAGES = [
    "applied", "accepted", "reviewed", "inspected", "approved", "in_publicity", "notified",
    "under_construction", "acceptance_applied", "qualified", "recognized", "funded",
]


@dataclass
class Driver:
    """Takes one platform stage by stage with the dates of a 2022 round."""

    app: RegistryApp
    subfield: str = "智能芯片"
    pid: UUID | None = None
    batch_ref: str = field(default_factory=lambda: f"公示-2022-{next(_serial)}")
    last: Any = None
    years: int = 0  # shift every date of the 2022 round by this many years

    def d(self, iso: str) -> date:
        day = d(iso)
        return day.replace(year=day.year + self.years)

    def act(self, role: Role, on: str, *refs: str, who: str | None = None) -> Act:
        return Act(who or f"{role.value}-1", role, self.d(on), tuple(refs))

    def to(self, stage: str, exception: str | None = None, **application_overrides: Any) -> Driver:
        """Take the platform to ``stage``; ``application_overrides`` shape the application,
        ``exception`` is the Art. 5 justification recorded at approval."""
        for step in STAGES[: STAGES.index(stage) + 1]:
            if self.pid is not None:
                status = self.app.get_platform(self.pid).status
                if status not in STAGES:
                    raise AssertionError(f"the platform ended as {status}; cannot drive it to {stage}")
                if STAGES.index(status) >= STAGES.index(step):
                    continue
            if step == "applied":
                self._applied(**application_overrides)
            elif step == "approved":
                self._approved(exception)
            else:
                getattr(self, f"_{step}")()
        return self

    def _applied(self, **kw: Any) -> None:
        self.last = self.app.apply(self.act(Role.APPLICANT, "2022-03-01"), **application(self.subfield, **kw))
        self.pid = self.last.aggregate_id

    def _accepted(self) -> None:
        self.last = self.app.intake(self.pid, True, "材料齐全", self.act(Role.SERVICE_AGENCY, "2022-03-10"))

    def _reviewed(self) -> None:
        policy = self.app.policies.get(self.app.get_platform(self.pid).policy_ref)
        for i in range(policy.min_experts):
            scores = {c.criterion: c.max_points - i for c in policy.rubric}
            self.last = self.app.score(self.pid, scores, "良好", expert_affiliation(i),
                                       self.act(Role.EXPERT, "2022-04-15", who=f"expert-{i}"))

    def _inspected(self) -> None:
        self.last = self.app.inspect(self.pid, True, "现场考察通过", self.act(Role.BUREAU, "2022-05-20"))

    def _approved(self, exception: str | None = None) -> None:
        self.last = self.app.approve(
            self.pid, self.act(Role.BUREAU, "2022-09-01"), party_group_meeting_ref="党组会〔2022〕12号",
            vice_mayor_approval_ref="副市长审定〔2022〕3号", funding_plan_ref="资金安排〔2022〕7号",
            subfield_exception=exception)

    def _in_publicity(self) -> None:
        self.last = self.app.publicize(self.act(Role.BUREAU, "2022-09-28"), batch_ref=self.batch_ref, media="长沙晚报",
                                       start_date=self.d("2022-09-29"), platform_ids=[self.pid])

    def _notified(self) -> None:
        self.last = self.app.issue_notice(self.pid, self.act(Role.BUREAU, "2022-10-11", "长科发〔2022〕50号"))

    def _under_construction(self) -> None:
        self.last = self.app.sign_task_book(self.pid, self.act(Role.BUREAU, "2022-11-01", "任务书2022-01"),
                                            indicators=[{"name": "开放接口数", "target": "≥20"},
                                                        {"name": "服务企业数", "target": "≥50"}],
                                            period_start=self.d("2022-11-01"))

    def _acceptance_applied(self) -> None:
        self.last = self.app.apply_for_acceptance(self.pid, self.act(Role.APPLICANT, "2023-11-20"), summary="任务完成")

    def _qualified(self) -> None:
        self.last = self.app.review_acceptance(
            self.pid, self.act(Role.SERVICE_AGENCY, "2023-12-01"), panel=["专家甲", "专家乙", "专家丙"],
            indicator_results=[{"name": "开放接口数", "achieved": True}, {"name": "服务企业数", "achieved": True}],
            funds_use_compliant=True, qualified=True)

    def _recognized(self) -> None:
        self.last = self.app.recognize(self.pid, self.act(Role.BUREAU, "2023-12-10", "长科发〔2023〕80号"),
                                       plaque_no="CS-AI-2023-01")

    def _funded(self) -> None:
        self.last = self.app.fund(self.pid, self.act(Role.FINANCE, "2023-12-20", "长财教〔2023〕99号"))

    @property
    def platform(self) -> Any:
        return self.app.get_platform(self.pid)
