"""Value types of the domain: who acted, in what role, on what business date, on what authority."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

from .errors import InvalidInput


class Role(str, Enum):
    """The roles of docs/DOMAIN.md ("Who uses it")."""

    APPLICANT = "applicant"  # 依托单位 host unit
    SERVICE_AGENCY = "service_agency"  # 科技服务机构
    EXPERT = "expert"  # 评审专家
    BUREAU = "bureau"  # 市科技局
    FINANCE = "finance"  # 市财政局
    PUBLIC = "public"  # 社会公众
    AUDITOR = "auditor"  # 审计
    SYSTEM = "system"  # the registry itself (e.g. loading the demo programme)


class Status(str, Enum):
    """A platform's stage, exactly the status vocabulary of docs/API.md."""

    APPLIED = "applied"
    ACCEPTED = "accepted"
    REVIEWED = "reviewed"
    INSPECTED = "inspected"
    APPROVED = "approved"
    IN_PUBLICITY = "in_publicity"
    NOTIFIED = "notified"
    UNDER_CONSTRUCTION = "under_construction"
    ACCEPTANCE_APPLIED = "acceptance_applied"
    QUALIFIED = "qualified"
    RECOGNIZED = "recognized"
    FUNDED = "funded"
    NOT_ACCEPTED = "not_accepted"
    REJECTED = "rejected"
    TERMINATED = "terminated"
    WITHDRAWN = "withdrawn"
    REVOKED = "revoked"

    @property
    def is_end(self) -> bool:
        return self in ENDS


ENDS = frozenset(
    {Status.NOT_ACCEPTED, Status.REJECTED, Status.TERMINATED, Status.WITHDRAWN, Status.REVOKED}
)

# From approval (审定) on, a platform holds its subfield (Art. 5).
HOLDING = frozenset(
    {
        Status.APPROVED,
        Status.IN_PUBLICITY,
        Status.NOTIFIED,
        Status.UNDER_CONSTRUCTION,
        Status.ACCEPTANCE_APPLIED,
        Status.QUALIFIED,
        Status.RECOGNIZED,
        Status.FUNDED,
    }
)


class ChangeKind(str, Enum):
    """Major changes that must be reported (Art. 11)."""

    UNIT_NAME = "unit_name"  # 单位名称变更
    PRINCIPAL = "principal"  # 主要负责人调整
    GOALS = "goals"  # 建设目标与内容调整
    INDICATORS = "indicators"  # 平台考核指标调整
    BUDGET = "budget"  # 重大资金预算调整


class RevocationGround(str, Enum):
    """The two grounds of Art. 13."""

    CANNOT_FULFIL_DUTIES = "cannot_fulfil_duties"  # 无法继续履行依托单位职责
    SERIOUS_ADVERSE_IMPACT = "serious_adverse_impact"  # 产生严重社会不良影响


class TerminationGround(str, Enum):
    """The grounds on which a project is terminated (终止), a closed list: Art. 9 and the city's
    project rules (《长沙市科技项目管理办法》) it refers to. Every termination names one."""

    ACCEPTANCE_DEADLINE_MISSED = "acceptance_deadline_missed"  # 执行期满一个月内未提出验收申请, Art. 9(1)
    UNQUALIFIED = "unqualified"  # 验收不合格, Art. 9(3): recorded by the acceptance review itself
    TASK_BOOK_NOT_SIGNED = "task_book_not_signed"  # 立项后未签订建设任务书, Art. 8(7)
    CONDITIONS_LOST = "conditions_lost"  # 依托单位不再具备认定条件, Art. 6-7
    HOST_UNIT_REQUEST = "host_unit_request"  # 依托单位书面申请终止
    FORCE_MAJEURE = "force_majeure"  # 不可抗力致使项目无法继续实施


class Stage(str, Enum):
    """Stage of an R&D achievement required by Art. 7(2): pilot (中试) or industrial (产业化)."""

    PILOT = "pilot"
    INDUSTRIAL = "industrial"


# Those who act for themselves online act today (docs/DOMAIN.md, "What every event carries"):
# an applicant dating its own application could choose its governing policy (Art. 15) or slip
# past the acceptance deadline (Art. 9(1)). Only the clerks of the bureau, the service agency and
# finance record past acts, from the paper files.
SELF_DATED = frozenset({Role.APPLICANT, Role.EXPERT, Role.PUBLIC})

# The clerks who record the paper acts of those above on their behalf (代为录入): an application
# handed in at the service window, a review meeting's score sheets, a posted objection.
RECORDING_CLERKS = frozenset({Role.SERVICE_AGENCY, Role.BUREAU})


@dataclass(frozen=True)
class Clerk:
    """The clerk who recorded someone else's paper act (代为录入): the account and its role. The
    act itself stays the actor's (the host unit, the expert, the objector), dated on the day it
    happened (received, signed at the meeting), not on the day it was keyed in."""

    actor_id: str
    role: Role

    def to_dict(self) -> dict[str, str]:
        return {"actor_id": self.actor_id, "role": self.role.value}


@dataclass(frozen=True)
class Act:
    """Who did something, in what role, on which business date (Asia/Shanghai), backed by which
    documents (文号). Every event carries one.

    ``recorded_on`` is today in Asia/Shanghai as whoever records the act (the API, the command
    line, the programme driver) tells it: the domain never reads a clock. It is not stored (the
    event's timestamp keeps the instant it was recorded), so an act decoded from the log has
    ``None``. An act is dated by the rules of docs/DOMAIN.md ("Time rules") as it is made."""

    actor_id: str
    role: Role
    business_date: date
    document_refs: tuple[str, ...] = field(default=())
    recorded_on: date | None = field(kw_only=True, compare=False, repr=False)
    recorded_by: Clerk | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        today = self.recorded_on
        if today is None:  # only the log's decoder makes an act without its day (from_dict)
            raise ValueError("an act is recorded on a day: pass recorded_on, today in Asia/Shanghai")
        if self.business_date > today:
            raise InvalidInput("business_date_in_future",
                               f"business date {self.business_date} is after today ({today}, Asia/Shanghai)",
                               "business_date", params={"business_date": self.business_date, "today": today})
        recorder = self.recorded_by
        if recorder is not None:
            # A clerk keys in the paper act of someone who acts for themselves online; a clerk's
            # own acts are recorded as the clerk's, and nobody records on a clerk's behalf.
            if recorder.role not in RECORDING_CLERKS or self.role not in SELF_DATED:
                raise InvalidInput("recording_on_behalf_not_allowed",
                                   f"a {recorder.role.value} cannot record a {self.role.value}'s act on its "
                                   "behalf; the service agency and the bureau record the paper acts of "
                                   "applicants, experts and the public", "recorded_by")
        elif self.business_date != today and self.role in SELF_DATED:
            raise InvalidInput("business_date_not_today",
                               f"a {self.role.value} acts on today's date ({today}, Asia/Shanghai); only the "
                               "bureau, the service agency and finance record past acts from paper files",
                               "business_date", params={"today": today})

    @property
    def recorder_id(self) -> str:
        """Who recorded the act: the clerk who keyed it in on the actor's behalf, or the actor.
        Their ``Idempotency-Key``s are theirs: two clerks' keys never meet in one host unit's."""
        return self.actor_id if self.recorded_by is None else self.recorded_by.actor_id

    def on_behalf_of(self, actor_id: str, role: Role) -> Act:
        """The paper act of ``actor_id`` in ``role`` that this clerk's act records on its behalf
        (代为录入): the same day and documents, recorded by this act's actor."""
        return Act(actor_id, role, self.business_date, self.document_refs, recorded_on=self.recorded_on,
                   recorded_by=Clerk(self.actor_id, self.role))

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "actor_id": self.actor_id,
            "role": self.role.value,
            "business_date": self.business_date.isoformat(),
            "document_refs": list(self.document_refs),
        }
        # Only when there is one: an act without a recorder encodes, and so hashes, exactly as
        # every act stored before recorders existed (the hash chain re-encodes decoded events).
        if self.recorded_by is not None:
            data["recorded_by"] = self.recorded_by.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Act:
        # Decoded once per stored event (every load, every rebuild): fill the frozen instance
        # directly rather than through the dataclass's per-field frozen __setattr__.
        act = object.__new__(cls)
        act.__dict__.update(
            actor_id=str(data["actor_id"]),
            role=_ROLES[data["role"]],
            business_date=date.fromisoformat(str(data["business_date"])),
            document_refs=tuple(str(r) for r in data.get("document_refs", ()) or ()),
            recorded_on=None,
            recorded_by=_recorder(data.get("recorded_by")),
        )
        return act


def _recorder(data: Any) -> Clerk | None:
    """The stored recorder of an act (absent from every act stored before recorders existed)."""
    if not data:
        return None
    return Clerk(str(data["actor_id"]), _ROLES[data["role"]])


_ROLES: dict[object, Role] = {r.value: r for r in Role}  # Role is a str enum: a member looks itself up too


@dataclass(frozen=True)
class ScoreSheet:
    """One expert's score sheet (评分表, Art. 8(3)): scored online by the expert, or signed at a
    review meeting and recorded by a clerk (``act.recorded_by``), which then names the expert
    (``expert_name``) and the expert's unit (``affiliation``, a credit code) for the recusal check."""

    act: Act
    affiliation: str | None
    scores: dict[str, Any]
    comment: str = ""
    expert_name: str | None = None

