"""Request and response bodies of docs/API.md, as pydantic models (they are also the OpenAPI schemas).

Bodies are strict (``extra="forbid"``: a misspelt field is a 422 naming it, not silently
ignored), strings are bounded (a huge string is a 422, not a huge event) and free of control
characters and bidi overrides, dates are ISO dates (not date-times) and money is a decimal string
in yuan with at most two places, in ASCII digits: every text, number and date goes through the
one set of rules of :mod:`api.inputs`. Rules of the regulation (credit-code
check character, subfields, certificate validity, score ranges...) stay in the domain, which
answers with the article it applies.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from .inputs import ASCII_DECIMAL, AsciiNumber, IsoDate, line, objection_field, text

# ---------------------------------------------------------------------------- building blocks
Short = Annotated[str, line(200, min_length=1)]
Text = Annotated[str, text(4000)]
LongText = Annotated[str, text(20000)]
DocRef = Annotated[str, line(120, min_length=1)]
CreditCode = Annotated[str, line(18, min_length=18)]
Money = Annotated[str, StringConstraints(strip_whitespace=True, pattern=ASCII_DECIMAL)]
Score = Annotated[float | int | str, AsciiNumber]
Criterion = Annotated[str, line(64)]
ObjectorName = Annotated[str, objection_field("objector_name")]
Contact = Annotated[str, objection_field("contact")]
ObjectionContent = Annotated[str, objection_field("content")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CommandBody(Body):
    business_date: IsoDate | None = Field(
        None, description="The business date of the act (Asia/Shanghai); defaults to today. May be "
        "back-dated for paper records, never in the future nor before the platform's previous act.")


class WithDocumentRef(CommandBody):
    document_ref: DocRef | None = Field(None, description="The 文号 backing the act, if any")


def money(value: str) -> Decimal:
    return Decimal(value)


# ---------------------------------------------------------------------------- Art. 8(1)
class HighTechCertificate(Body):
    number: Short = Field(description="高新技术企业证书编号")
    valid_until: IsoDate


class HostUnit(Body):
    name: Short
    credit_code: CreditCode = Field(description="统一社会信用代码 (18 characters, with check character)")
    high_tech_certificate: HighTechCertificate


class CoBuilder(Body):
    name: Short
    credit_code: CreditCode | None = None


class Achievement(Body):
    title: Short
    stage: Literal["pilot", "industrial"] = Field(description="中试 (pilot) or 产业化 (industrial), Art. 7(2)")


class BasicConditions(Body):
    """The Art. 6 basic conditions, checked for presence at the formal review."""

    technical_strength: Text = ""
    open_sharing: Text = ""
    service_mechanism: Text = ""


class ApplyBody(WithDocumentRef):
    name: Short
    subfield: Short = Field(description="One of the subfields of the policy in force (GET /subfields)")
    host_unit: HostUnit
    co_builders: list[CoBuilder] = Field(default_factory=list, max_length=20)
    commitments: Text = Field(description="Commitment of continuous funding, talent and infrastructure (Art. 7(1))")
    achievements: list[Achievement] = Field(max_length=50)
    basic_conditions: BasicConditions = Field(default_factory=BasicConditions)


# ---------------------------------------------------------------------------- Art. 8(2)-(5)
class IntakeBody(WithDocumentRef):
    decision: Literal["accepted", "not_accepted"]
    reasons: Text = ""


class ScoresBody(CommandBody):
    scores: dict[Criterion, Score] = Field(
        description="criterion → points, per the policy's rubric (GET /policies)", max_length=30)
    comment: Text = ""


class ScoreSheet(Body):
    """One expert's sheet as signed at the meeting."""

    expert_id: Short = Field(description="The expert's identifier: the registry account, or the expert "
                             "pool's number for an expert without one (one sheet per expert)")
    expert_name: Short = Field(description="The expert's name as on the sheet")
    affiliation: CreditCode = Field(description="The expert's unit (统一社会信用代码), checked for recusal (回避)")
    scores: dict[Criterion, Score] = Field(
        description="criterion → points, per the policy's rubric (GET /policies)", max_length=30)
    comment: Text = ""


class ScoreSheetsBody(Body):
    """A review meeting's score sheets (评审会评分表), recorded by the service agency or the bureau."""

    business_date: IsoDate = Field(description="The day of the meeting (Asia/Shanghai)")
    meeting_ref: DocRef = Field(description="The meeting's reference (e.g. its minutes' 文号)")
    sheets: list[ScoreSheet] = Field(min_length=1, max_length=50)


class InspectionBody(WithDocumentRef):
    passed: bool
    findings: Text = ""


class ApprovalBody(CommandBody):
    party_group_meeting_ref: DocRef
    vice_mayor_approval_ref: DocRef
    funding_plan_ref: DocRef
    subfield_exception: Text | None = Field(
        None, description="Written justification for a second platform in a held subfield (Art. 5 原则上)")


class PublicityBatchBody(CommandBody):
    batch_ref: DocRef
    media: Short
    start_date: IsoDate
    platform_ids: list[UUID] = Field(min_length=1, max_length=100)


class ObjectionBody(CommandBody):
    """The public form's rules (api.inputs): a name, a phone number or e-mail, a real text."""

    objector_name: ObjectorName
    contact: Contact = Field(description="A mobile number, a landline with its area code, "
                                                "or an e-mail address")
    content: ObjectionContent = Field(description="At least 10 characters, at most 2000")


class ObjectionResolutionBody(CommandBody):
    outcome: Literal["upheld", "dismissed"]
    handling_opinion: Text
    vice_mayor_decision_ref: DocRef


class NoticeBody(CommandBody):
    document_ref: DocRef = Field(description="文号 of the joint notice of bureau and finance")


class Indicator(Body):
    name: Short
    target: Short


class TaskBookBody(CommandBody):
    task_book_ref: DocRef
    indicators: list[Indicator] = Field(min_length=1, max_length=100)
    period_start: IsoDate
    period_end: IsoDate | None = None
    period_reason: Text | None = Field(
        None, description="Why the execution period is not one year (Art. 9(1) 原则上为1年): required "
        "for any other period, refused for a one-year one")


class MajorChangeBody(WithDocumentRef):
    kind: Literal["unit_name", "principal", "goals", "indicators", "budget"]
    description: Text
    new_value: Text | list[Indicator] = Field(
        description="The new value: text, or for `indicators` the new list of {name, target}")


class ChangeDecisionBody(WithDocumentRef):
    approved: bool
    reasons: Text = ""


class AcceptanceApplicationBody(WithDocumentRef):
    summary: LongText


class IndicatorResult(Body):
    name: Short
    achieved: bool


class AcceptanceReviewBody(WithDocumentRef):
    panel: list[Short] = Field(min_length=1, max_length=50)
    indicator_results: list[IndicatorResult] = Field(max_length=100)
    funds_use_compliant: bool
    conclusion: Literal["qualified", "unqualified"]
    justification: Text | None = Field(
        None, description="The panel's written justification of a qualified conclusion with indicators "
        "not achieved (Art. 9(3)): required then, refused otherwise")


class CertificateBody(WithDocumentRef):
    """A host unit's renewed high-tech enterprise certificate (Art. 7(1)), recorded by the bureau."""

    number: Short = Field(description="高新技术企业证书编号")
    valid_until: IsoDate


class SubfieldAdmissionBody(CommandBody):
    """The bureau's decision admitting a subfield beyond the policy's list (Art. 4 "等")."""

    name: Short = Field(description="The subfield's name as it will be applied for")
    document_ref: DocRef = Field(description="文号 of the bureau's decision")
    reasons: Text = ""
    policy: DocRef | None = Field(None, description="The policy (文号) it is admitted under; default: the one "
                                  "in force on business_date")


class RecognitionBody(CommandBody):
    document_ref: DocRef
    plaque_no: Short


class FundingBody(CommandBody):
    joint_document_ref: DocRef
    amount: Money | None = Field(None, description='Yuan, e.g. "1000000.00"; must equal the policy\'s amount')


class RecoveryBody(CommandBody):
    amount: Money
    document_ref: DocRef
    reasons: Text


class RevocationBody(CommandBody):
    ground: Literal["cannot_fulfil_duties", "serious_adverse_impact"]
    document_ref: DocRef
    reasons: Text


class ReasonsBody(WithDocumentRef):
    reasons: Text


class TerminationBody(CommandBody):
    ground: Literal["acceptance_deadline_missed", "unqualified", "task_book_not_signed", "conditions_lost",
                    "host_unit_request", "force_majeure"] = Field(
        description="终止理由, a closed list: `acceptance_deadline_missed` (Art. 9(1), once the miss is recorded), "
        "`task_book_not_signed` (Art. 8(7), before the task book), `conditions_lost` (Art. 6-7), "
        "`host_unit_request`, `force_majeure`; `unqualified` is recorded by the acceptance review itself "
        "(409 `ground_not_available` here)")
    document_ref: DocRef = Field(description="文号 of the termination decision; the ledger's release carries it")
    reasons: Text


class LateAcceptanceBody(WithDocumentRef):
    justification: Text = Field(description="Why the bureau admits an acceptance application after the "
                                            "recorded missed deadline (Art. 9(1))")


# ---------------------------------------------------------------------------- responses
class Open(BaseModel):
    """Response models describe the documented fields and allow additions (docs/API.md: extend, never drop)."""

    model_config = ConfigDict(extra="allow")


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    role: str


class HostUnitOut(Open):
    name: str | None
    credit_code: str | None


class ReviewOut(Open):
    experts: int
    result: str | None
    method: str | None


class PublicityOut(Open):
    batch_id: str
    batch_ref: str
    media: str
    start_date: date
    first_day: date | None
    end_date: date | None


class ObjectionOut(Open):
    objection_id: str
    received_on: date | None
    admissible: bool
    outcome: str | None


class TaskBookVersionOut(Open):
    version: int
    indicators: list[dict[str, Any]]
    effective_from: date | None
    document_ref: str | None
    change_id: str | None


class TaskBookOut(Open):
    task_book_ref: str
    indicators: list[dict[str, Any]]
    period_start: date
    period_end: date
    acceptance_due: date | None
    version: int
    period_reason: str | None
    versions: list[TaskBookVersionOut]


class FundingOut(Open):
    committed: str | None
    disbursed: str | None
    recovered: str | None


class DeadlinesOut(Open):
    publicity_end: date | None
    acceptance_due: date | None
    acceptance_missed_on: date | None = Field(
        None, description="The day the missed acceptance deadline was recorded (the day after it), or null")
    late_acceptance_admitted_on: date | None = Field(
        None, description="The day the bureau admitted a late acceptance application, or null")


class TerminationOut(Open):
    ground: str = Field(description="A TerminationBody ground, `unqualified`, or `not_recorded` for a "
                                    "termination recorded before grounds were")
    document_ref: str | None
    reasons: str | None
    terminated_on: date | None


class PlatformListItem(Open):
    id: str
    name: str
    subfield: str
    host_unit: HostUnitOut
    status: str
    version: int


class PlatformSummary(PlatformListItem):
    policy: str
    stage_dates: dict[str, date | None]
    review: ReviewOut | None
    inspection: dict[str, Any] | None
    approval: dict[str, Any] | None
    publicity: PublicityOut | None
    objections: list[ObjectionOut]
    flagged_objections: list[str] = Field(
        default_factory=list, description="Admissible objections recorded after the notice and not yet "
        "resolved (Art. 8(6)): the bureau must resolve them; they hold up recognition and funding")
    notice_ref: str | None
    task_book: TaskBookOut | None
    major_changes: list[dict[str, Any]]
    acceptance: dict[str, Any] | None
    recognition: dict[str, Any] | None
    funding: FundingOut
    end_reason: str | None
    late_acceptance: dict[str, Any] | None = None
    termination: TerminationOut | None = None
    deadlines: DeadlinesOut


class CommandResponse(PlatformSummary):
    position: int | None = Field(description="Event-log position after the write; pass as ?min_position= to read it")


class ObjectionResponse(CommandResponse):
    objection_id: str
    admissible: bool


class ObjectionReceipt(BaseModel):
    """What the public gets back for an objection: its number, whether it was received inside
    the window, the date it was received, and the log position. Not the platform's file."""

    objection_id: str
    admissible: bool
    received_on: date
    position: int | None


class ChangeResponse(CommandResponse):
    change_id: str


class SubfieldAdmissionResponse(Open):
    policy: str
    subfield: str
    document_ref: str
    reasons: str
    admitted_on: date
    position: int | None


class PlatformPage(Open):
    items: list[PlatformListItem]
    next_cursor: str | None


class PublicityPlatform(Open):
    id: str
    name: str
    host_unit: Any
    subfield: str
    objections: int
    late_objections: int
    outcome: Literal["upheld", "dismissed", "pending"] | None


class PublicityBatchOut(Open):
    batch_ref: str
    media: str
    start_date: date
    first_day: date | None
    end_date: date | None = Field(description="Last day of the window; null while its year's schedule is not loaded")
    pending: bool
    open: bool
    platforms: list[PublicityPlatform]


class PublicityBatchResponse(PublicityBatchOut):
    position: int | None


class PublicityPage(Open):
    items: list[PublicityBatchOut]
    next_cursor: str | None


class SubfieldOut(Open):
    name: str
    admission: dict[str, Any] | None = Field(
        None, description="For a subfield the bureau admitted beyond the policy's list (Art. 4): its "
        "`document_ref`, `reasons` and `admitted_on`")
    holder: dict[str, Any] | None
    exception_holders: list[dict[str, Any]]
    history: list[dict[str, Any]]


class SubfieldPage(Open):
    policy: str
    items: list[SubfieldOut]


class LedgerEntry(Open):
    entry_id: str
    kind: Literal["commitment", "release", "disbursement", "recovery"]
    platform_id: str
    host_unit: HostUnitOut
    amount: str
    business_date: date
    fiscal_year: int
    document_ref: str | None = Field(description="文号 of the act; null only on an entry recorded before "
                                     "releases needed one (shown as such, never filled in)")


class LedgerTotals(Open):
    """A period's flows and its balances of outstanding commitments (未拨付承诺余额)."""

    opening_balance: str = Field(description="Outstanding commitments at the start of the period")
    committed: str = Field(description="The period's commitments (a flow)")
    released: str = Field(description="The period's releases (a flow)")
    disbursed: str = Field(description="The period's disbursements (a flow)")
    recovered: str = Field(description="The period's recoveries (a flow; changes no commitment)")
    commitment_change: str = Field(description="committed − released − disbursed: the period's net change")
    closing_balance: str = Field(description="opening_balance + commitment_change: at the end of the period")
    outstanding_commitments: str = Field(description="The same balance as closing_balance (before 2026-11 "
                                         "it wrongly gave commitment_change under ?fiscal_year=)")


class LedgerYearTotals(LedgerTotals):
    fiscal_year: int


class LedgerHostTotals(LedgerTotals):
    credit_code: str
    name: str


class Ledger(Open):
    entries: list[LedgerEntry]
    totals: LedgerTotals
    by_fiscal_year: list[LedgerYearTotals]
    by_host_unit: list[LedgerHostTotals]


class YearBalanceOut(Open):
    """Outstanding commitments over a fiscal year: closing = opening + commitments − releases −
    disbursements; recoveries (money returned) beside."""

    opening_balance: str
    commitments: str
    releases: str
    disbursements: str
    recoveries: str
    closing_balance: str


class PlatformYearOut(YearBalanceOut):
    platform_id: str
    name: str
    host_unit: HostUnitOut


class FiscalYearOut(Open):
    fiscal_year: int
    platforms: list[PlatformYearOut]
    totals: YearBalanceOut


class LedgerByYear(Open):
    fiscal_years: list[FiscalYearOut]
    totals: YearBalanceOut = Field(description="The first year's opening, the years' flows, the last year's closing")


class HistoryEvent(Open):
    sequence: int
    type: str
    recorded_at: str
    business_date: date | None
    actor: str | None
    role: str | None
    recorded_by: dict[str, Any] | None = Field(
        None, description="The clerk (`actor_id`, `role`) who recorded this paper act on the actor's behalf; "
        "null when the actor recorded it")
    data: dict[str, Any]
    hash: str | None
    prev_hash: str | None


class HistoryOut(Open):
    platform_id: str
    items: list[HistoryEvent]


class DeadlineOut(Open):
    kind: Literal["publicity_end", "acceptance_due"] | str
    platform_id: str
    platform_name: str | None
    due_date: date | None
    pending: bool
    overdue: bool = Field(description="Today (Asia/Shanghai) is after the due date")
    missed_on: date | None = Field(None, description="acceptance_due: the day the miss was recorded (the day "
                                                     "after the deadline), awaiting the bureau's decision")
    late_admitted_on: date | None = Field(None, description="acceptance_due: the day the bureau admitted a "
                                                            "late application")


class DeadlinesPage(Open):
    items: list[DeadlineOut]


class PolicyOut(Open):
    policy: str
    title: str
    demonstration: bool
    effective_from: date
    effective_to: date | None
    subfields: list[str]
    funding_amount: str
    publicity_working_days: int
    rubric: list[dict[str, Any]]
    min_experts: int
    scoring_method: str


class Health(Open):
    status: str


class Readiness(Open):
    """``status``: ``ready``, ``lagging`` (a read model too far behind), ``stalled`` (a read model
    stopped at an event it cannot apply: ``projections.stalled`` gives each one's ``position``,
    ``event``, ``reason`` and ``failed_at``), ``broken`` (the event log does not verify),
    ``not_writable`` (the event store refuses writes) or ``unavailable`` (the database does not
    answer)."""

    status: str
    database: str
    projections: dict[str, Any]
    audit: dict[str, Any] | None = Field(None, description=(
        "the integrity watch: `status` intact/broken/unchecked, `checked_at`, `first_failure`, "
        "`latest_checkpoint`, `signing` (whether this process signs checkpoints)"))
    store: str | None = Field(None, description="`writable`, or `not writable: <reason>` (a probe write "
                              "to the event store did not commit)")


class Problem(Open):
    """RFC 9457 problem details; ``field``/``errors`` for malformed input, ``article``/``policy``
    when a rule of the regulation refused."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    field: str | None = None
    errors: list[dict[str, Any]] | None = None
    article: str | None = None
    policy: str | None = None


StatusName = Literal["applied", "accepted", "reviewed", "inspected", "approved", "in_publicity", "notified",
                     "under_construction", "acceptance_applied", "qualified", "recognized", "funded",
                     "not_accepted", "rejected", "terminated", "withdrawn", "revoked"]


class CosignatureIn(Body):
    """A witness's cosignature of a checkpoint (c2sp.org/tlog-cosignature), as it would append
    it to the signed note."""

    checkpoint: Annotated[str, text(4000, min_length=1)] = Field(
        description="the checkpoint text the witness cosigned: origin, size and base64 root, each line "
                    "ending in a newline (the signed note without its signature lines)")
    cosignature: Annotated[str, text(1000, min_length=1)] = Field(
        description="the witness's signature line, '— <key name> <base64(key ID || timestamp || signature)>'")
