"""Request and response bodies of docs/API.md, as pydantic models (they are also the OpenAPI schemas).

Bodies are strict (``extra="forbid"``: a misspelt field is a 422 naming it, not silently
ignored), strings are bounded (a huge string is a 422, not a huge event) and free of control
characters and bidi overrides, dates are ISO dates (not date-times) and money is a decimal string
in yuan with at most two places, in ASCII digits: every text, number and date goes through the
one set of rules of :mod:`api.inputs`. Rules of the regulation (credit-code
check character, subfields, certificate validity, score ranges...) stay in the domain, which
answers with the article it applies.

Every field has a description (the Chinese term, then English, citing the article where a rule
applies) and examples, and every model a whole example (:mod:`api.schema_examples`), so that a
client developer reads the contract in the OpenAPI document (issue 15).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from . import schema_examples as ex
from .inputs import ASCII_DECIMAL, AsciiNumber, IsoDate, line, objection_field, text

# ---------------------------------------------------------------------------- building blocks
Short = Annotated[str, line(200, min_length=1)]
Text = Annotated[str, text(4000)]
RequiredText = Annotated[str, text(4000, min_length=1)]  # not empty, not only spaces
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
        None, description="业务日期 The business date of the act (Asia/Shanghai, YYYY-MM-DD); defaults to today. "
        "May be back-dated for paper records, never in the future nor before the platform's previous act.",
        examples=["2022-05-20"])


class WithDocumentRef(CommandBody):
    document_ref: DocRef | None = Field(None, description="文号 The reference of the document backing the act, if any",
                                        examples=["长科发〔2022〕41号"])


def money(value: str) -> Decimal:
    return Decimal(value)


# ---------------------------------------------------------------------------- Art. 8(1)
class HighTechCertificate(Body):
    """高新技术企业证书 The host unit's high-tech enterprise certificate (Art. 7(1))."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.CERTIFICATE))

    number: Short = Field(description="高新技术企业证书编号 The certificate's number", examples=["GR202143000123"])
    valid_until: IsoDate = Field(description="有效期至 The last day the certificate is valid (Art. 7(1): it must still "
                                 "be valid at recognition)", examples=["2024-12-31"])


class HostUnit(Body):
    """依托单位 The host unit that applies (Art. 7)."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.HOST_UNIT))

    name: Short = Field(description="依托单位名称 The host unit's registered name", examples=[ex.HOST_NAME])
    credit_code: CreditCode = Field(description="统一社会信用代码 The host unit's unified social credit code (18 "
                                    "characters with its check character, Art. 8(1))", examples=[ex.HOST_CODE])
    high_tech_certificate: HighTechCertificate = Field(
        description="高新技术企业证书 The host unit's high-tech enterprise certificate (Art. 7(1))",
        examples=[ex.CERTIFICATE])


class CoBuilder(Body):
    """共建单位 A unit that builds the platform with the host unit."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.CO_BUILDER))

    name: Short = Field(description="共建单位名称 The co-builder's name", examples=["中南大学"])
    credit_code: CreditCode | None = Field(None, description="统一社会信用代码 The co-builder's unified social credit "
                                           "code. Optional, but without it an expert of this co-builder is not "
                                           "recused automatically (回避, Art. 8(3))",
                                           examples=[ex.CO_BUILDER_CODE])


class Achievement(Body):
    """科技成果 A result of the host unit in an AI subfield (Art. 7(2))."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.ACHIEVEMENT))

    title: Short = Field(description="成果名称 The result's title", examples=["智算调度系统"])
    stage: Literal["pilot", "industrial"] = Field(description="所处阶段 中试 (pilot) or 产业化 (industrial), Art. 7(2)",
                                                  examples=["industrial"])


class BasicConditions(Body):
    """The Art. 6 basic conditions (基本条件). The formal review (Art. 8(2)) cannot accept an
    application without all three, so each is required, and not blank, when applying: a 422 naming
    it now rather than an application that could only ever be refused (409
    ``basic_conditions_missing``)."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.BASIC_CONDITIONS))

    technical_strength: RequiredText = Field(description="技术实力和产业创新影响力 Technical strength and "
                                             "influence in the subfield (Art. 6(1))",
                                             examples=[ex.BASIC_CONDITIONS["technical_strength"]])
    open_sharing: RequiredText = Field(description="开放共享服务能力 Capability to offer open, shared services "
                                       "(Art. 6(2))", examples=[ex.BASIC_CONDITIONS["open_sharing"]])
    service_mechanism: RequiredText = Field(description="开放服务运行机制 An assessable open-service mechanism and "
                                            "organisation (Art. 6(3))",
                                            examples=[ex.BASIC_CONDITIONS["service_mechanism"]])


class ApplyBody(WithDocumentRef):
    """申请 An application (Art. 8(1)): online by the host unit, or a paper one recorded by a clerk.
    ``document_ref`` is the dossier's reference: optional for a host unit applying online, required
    (422 ``reference_required``) for a paper application recorded by the service agency or the
    bureau, which also gives ``business_date``, the day it was received (422
    ``business_date_required``)."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.APPLY))

    name: Short = Field(description="平台名称 The platform's name", examples=[ex.PLATFORM_NAME])
    subfield: Short = Field(description="细分领域 One of the subfields of the policy in force or admitted by the "
                            "bureau (Art. 4, GET /subfields)", examples=[ex.SUBFIELD])
    host_unit: HostUnit = Field(description="依托单位 The host unit (Art. 7)", examples=[ex.HOST_UNIT])
    co_builders: list[CoBuilder] = Field(
        default_factory=list, max_length=20,
        description="共建单位 The units building the platform with the host unit. A co-builder's experts must "
        "recuse (Art. 8(3)), which the registry can only check for a co-builder given with its credit_code",
        examples=[[ex.CO_BUILDER]])
    commitments: Text = Field(description="依托单位承诺 Commitment of continuous funding, talent and infrastructure "
                              "(Art. 7(1)); blank is refused (409 `commitments_missing`)",
                              examples=[ex.APPLY["commitments"]])
    achievements: list[Achievement] = Field(
        max_length=50, description="科技成果 Results in an AI subfield; one at pilot or industrial stage is needed "
        "(Art. 7(2); 409 `achievement_missing` without)", examples=[[ex.ACHIEVEMENT]])
    basic_conditions: BasicConditions = Field(
        description="基本条件 The Art. 6 basic conditions, all three required: the formal review cannot accept "
        "without them", examples=[ex.BASIC_CONDITIONS])


# ---------------------------------------------------------------------------- Art. 8(2)-(5)
class IntakeBody(WithDocumentRef):
    """受理 The service agency's formal review (Art. 8(2))."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.INTAKE))

    decision: Literal["accepted", "not_accepted"] = Field(description="受理结论 `accepted` (受理) or `not_accepted` "
                                                          "(不予受理, the application ends)", examples=["accepted"])
    reasons: Text = Field(default="", description="理由 The reasons: required (not blank) for `not_accepted` "
                          "(422 `reasons_required`); `accepted` needs the application's Art. 6 basic conditions",
                          examples=["材料齐全，予以受理"])


class ScoresBody(CommandBody):
    """评分 An expert's own scores (Art. 8(3)), given today."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.SCORING))

    scores: dict[Criterion, Score] = Field(
        description="评分 criterion → points, per the policy's rubric (GET /policies; Art. 6-7)", max_length=30,
        examples=[ex.SCORES])
    comment: Text = Field(default="", description="评审意见 The expert's comment", examples=[ex.SCORING["comment"]])


class ScoreSheet(Body):
    """One expert's sheet as signed at the meeting."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.SCORE_SHEET))

    expert_id: Short = Field(description="专家编号 The expert's identifier: the registry account, or the expert "
                             "pool's number for an expert without one (one sheet per expert)", examples=["expert1"])
    expert_name: Short = Field(description="专家姓名 The expert's name as on the sheet", examples=["张伟"])
    affiliation: CreditCode = Field(description="所在单位统一社会信用代码 The expert's unit, checked for recusal "
                                    "(回避, Art. 8(3))", examples=[ex.EXPERT_CODE])
    scores: dict[Criterion, Score] = Field(
        description="评分 criterion → points, per the policy's rubric (GET /policies)", max_length=30,
        examples=[ex.SCORES])
    comment: Text = Field(default="", description="评审意见 The expert's comment", examples=[ex.SCORE_SHEET["comment"]])


class ScoreSheetsBody(Body):
    """A review meeting's score sheets (评审会评分表), recorded by the service agency or the bureau."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.SCORE_SHEETS))

    business_date: IsoDate = Field(description="评审会日期 The day of the meeting (Asia/Shanghai)",
                                   examples=["2022-03-10"])
    meeting_ref: DocRef = Field(description="会议文号 The meeting's reference (e.g. its minutes' 文号)",
                                examples=["评审会议纪要〔2022〕3号"])
    sheets: list[ScoreSheet] = Field(min_length=1, max_length=50, description="评分表 The signed sheets, one per "
                                     "expert; all are recorded or none", examples=[[ex.SCORE_SHEET]])


class InspectionBody(WithDocumentRef):
    """考察 The bureau's site inspection (Art. 8(4))."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.INSPECTION))

    passed: bool = Field(description="考察结论 Passed; false ends the application (rejected)", examples=[True])
    findings: Text = Field(default="", description="考察意见 The inspection's findings",
                           examples=["现场考察情况与申报材料相符"])


class ApprovalBody(CommandBody):
    """审定 The approval (Art. 8(5)), with the funding plan; the subfield is then held (Art. 5)."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.APPROVAL))

    party_group_meeting_ref: DocRef = Field(description="局党组会议文号 The bureau's party-group meeting that "
                                            "adopted it (Art. 8(5))", examples=["局党组会议纪要〔2022〕1号"])
    vice_mayor_approval_ref: DocRef = Field(description="分管副市长审批文号 The vice-mayor's approval (Art. 8(5))",
                                            examples=["市政府分管副市长批示〔2022〕1号"])
    funding_plan_ref: DocRef = Field(description="资金计划文号 The funding plan adopted with finance (Art. 8(5)); "
                                     "it commits the grant in the ledger", examples=["长财教〔2022〕1号"])
    subfield_exception: Text | None = Field(
        None, description="例外说明 Written justification for a second platform in a held subfield (Art. 5 原则上)",
        examples=["该领域产业规模大、需求集中，经局党组会议研究同意增设第二家平台"])


class PublicityBatchBody(CommandBody):
    """公示 A publicity batch (Art. 8(6)): approved platforms published in the media."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.PUBLICITY_BATCH))

    batch_ref: DocRef = Field(description="公示文号 The batch's reference", examples=[ex.BATCH_REF])
    media: Short = Field(description="公示媒体 Where it is published", examples=[ex.MEDIA])
    start_date: IsoDate = Field(description="公示开始日期 The first day of publication; the 5 working days count "
                                "from it (or the next working day, Art. 8(6))", examples=["2022-06-06"])
    platform_ids: list[UUID] = Field(min_length=1, max_length=100, description="平台编号 The approved platforms "
                                     "published", examples=[[ex.PLATFORM_ID, ex.SECOND_PLATFORM_ID]])


class ObjectionBody(CommandBody):
    """The public form's rules (api.inputs): a name, a phone number or e-mail, a real text."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.OBJECTION))

    objector_name: ObjectorName = Field(description="异议人 The objector's name or unit (at most 50 characters); "
                                        "never shown to the public", examples=["李明"])
    contact: Contact = Field(description="联系方式 A mobile number, a landline with its area code, "
                                         "or an e-mail address", examples=["0731-88888888", "liming@example.com"])
    content: ObjectionContent = Field(description="异议内容 The facts and reasons, at least 10 characters, at most "
                                      "2000 (Art. 8(6))", examples=[ex.OBJECTION["content"]])


class ObjectionResolutionBody(CommandBody):
    """异议处理 The bureau's resolution of an objection, with the vice-mayor's decision (Art. 8(6))."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.OBJECTION_RESOLUTION))

    outcome: Literal["upheld", "dismissed"] = Field(description="处理结果 `upheld` (异议成立: the approval is "
                                                    "rescinded) or `dismissed` (不成立)", examples=["dismissed"])
    handling_opinion: Text = Field(description="处理意见 The handling opinion verified with finance",
                                   examples=[ex.OBJECTION_RESOLUTION["handling_opinion"]])
    vice_mayor_decision_ref: DocRef = Field(description="分管副市长决定文号 The vice-mayor's decision",
                                            examples=["副市长批示〔2022〕17号"])


class NoticeBody(CommandBody):
    """行文下达 The joint notice of the bureau and finance (Art. 8(7))."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.NOTICE))

    document_ref: DocRef = Field(description="文号 of the joint notice of bureau and finance",
                                 examples=["长科发〔2022〕41号"])


class Indicator(Body):
    """考核指标 An indicator of the task book and its target."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.INDICATORS[0]))

    name: Short = Field(description="指标名称 The indicator", examples=["开放服务企业数"])
    target: Short = Field(description="目标值 Its target", examples=["≥200家"])


class TaskBookBody(CommandBody):
    """建设任务书 The construction task book (Art. 8(7), Art. 9(1))."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.TASK_BOOK))

    task_book_ref: DocRef = Field(description="任务书编号 The task book's reference", examples=["建设任务书-2022-001"])
    indicators: list[Indicator] = Field(min_length=1, max_length=100, description="考核指标 The indicators the "
                                        "acceptance judges (Art. 9(2))", examples=[ex.INDICATORS])
    period_start: IsoDate = Field(description="执行期开始 The first day of the execution period",
                                  examples=["2022-07-01"])
    period_end: IsoDate | None = Field(None, description="执行期结束 Its last day; default one year (Art. 9(1): "
                                       "start + 1 year − 1 day)", examples=["2023-06-30"])
    period_reason: Text | None = Field(
        None, description="执行期说明 Why the execution period is not one year (Art. 9(1) 原则上为1年): required "
        "for any other period, refused for a one-year one", examples=["含芯片流片环节，经局务会研究执行期定为18个月"])


class MajorChangeBody(WithDocumentRef):
    """重大变更 A major change the host unit reports (Art. 10-11)."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.MAJOR_CHANGE))

    kind: Literal["unit_name", "principal", "goals", "indicators", "budget"] = Field(
        description="变更事项 Unit name, principal person, construction goals or content, assessment indicators, "
        "or a major budget change (Art. 10)", examples=["unit_name"])
    description: Text = Field(description="变更说明 What changes and why", examples=[ex.MAJOR_CHANGE["description"]])
    new_value: Text | list[Indicator] = Field(
        description="变更后内容 The new value: text, or for `indicators` the new list of {name, target}",
        examples=[ex.MAJOR_CHANGE["new_value"], ex.INDICATORS])


class ChangeDecisionBody(WithDocumentRef):
    """变更决定 The bureau's decision on a reported change (Art. 11)."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.CHANGE_DECISION))

    approved: bool = Field(description="是否同意 Approved; it takes effect from the decision (Art. 11)",
                           examples=[True])
    reasons: Text = Field(default="", description="理由 The reasons", examples=[ex.CHANGE_DECISION["reasons"]])


class AcceptanceApplicationBody(WithDocumentRef):
    """验收申请 The host unit applies for acceptance (Art. 9(1))."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.ACCEPTANCE_APPLICATION))

    summary: LongText = Field(description="建设总结 What was built: each indicator's completion and the use of the "
                              "construction funds (Art. 9(2))", examples=[ex.ACCEPTANCE_APPLICATION["summary"]])


class IndicatorResult(Body):
    """指标完成情况 Whether one indicator of the task book was achieved."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.INDICATOR_RESULTS[0]))

    name: Short = Field(description="指标名称 The indicator, as in the task book", examples=["开放服务企业数"])
    achieved: bool = Field(description="是否完成 Achieved", examples=[True])


class AcceptanceReviewBody(WithDocumentRef):
    """验收 The acceptance meeting's conclusion (Art. 9(2)-(3))."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.ACCEPTANCE_REVIEW))

    panel: list[Short] = Field(min_length=1, max_length=50, description="验收专家组 The panel's experts",
                               examples=[["张伟", "李娜", "王强"]])
    indicator_results: list[IndicatorResult] = Field(
        max_length=100, description="指标完成情况 One result per indicator of the task book's current version, no "
        "more, no fewer (409 `indicator_results_mismatch`)", examples=[ex.INDICATOR_RESULTS])
    funds_use_compliant: bool = Field(description="经费使用合规 Whether the construction funds were used as "
                                      "planned (Art. 9(2))", examples=[True])
    conclusion: Literal["qualified", "unqualified"] = Field(description="验收结论 `qualified` (合格) or "
                                                            "`unqualified` (不合格: terminated, no money, Art. 9(3))",
                                                            examples=["qualified"])
    justification: Text | None = Field(
        None, description="说明 The panel's written justification of a qualified conclusion with indicators "
        "not achieved (Art. 9(3)): required then, refused otherwise",
        examples=["行业标准已报批待发布，其余指标均超额完成，专家组一致同意验收合格"])


class CertificateBody(WithDocumentRef):
    """A host unit's renewed high-tech enterprise certificate (Art. 7(1)), recorded by the bureau."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.RENEWED_CERTIFICATE))

    number: Short = Field(description="高新技术企业证书编号 The renewed certificate's number",
                          examples=["GR202343000456"])
    valid_until: IsoDate = Field(description="有效期至 The last day it is valid", examples=["2026-12-31"])


class SubfieldAdmissionBody(CommandBody):
    """The bureau's decision admitting a subfield beyond the policy's list (Art. 4 "等")."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.SUBFIELD_ADMISSION))

    name: Short = Field(description="细分领域名称 The subfield's name as it will be applied for",
                        examples=["智能农业"])
    document_ref: DocRef = Field(description="文号 of the bureau's decision", examples=["长科发〔2022〕8号"])
    reasons: Text = Field(default="", description="理由 Why it is admitted",
                          examples=[ex.SUBFIELD_ADMISSION["reasons"]])
    policy: DocRef | None = Field(None, description="政策文号 The policy it is admitted under; default: the one "
                                  "in force on business_date (Art. 15)", examples=[ex.POLICY])


class RecognitionBody(CommandBody):
    """认定授牌 The bureau recognises a qualified platform and awards the plaque (Art. 9(3))."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.RECOGNITION))

    document_ref: DocRef = Field(description="认定文号 The recognition document", examples=["长科发〔2023〕61号"])
    plaque_no: Short = Field(description="牌匾编号 The plaque's number", examples=["CSAI-2023-01"])


class FundingBody(CommandBody):
    """拨付 Finance records the one-off construction grant (Art. 9(3))."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.FUNDING))

    joint_document_ref: DocRef = Field(description="联合发文文号 The joint document of bureau and finance",
                                       examples=["长财教〔2023〕81号"])
    amount: Money | None = Field(None, description='拨付金额 Yuan, e.g. "1000000.00"; must equal the policy\'s amount '
                                 "(Art. 9(3)); default: the policy's", examples=["1000000.00"])


class RecoveryBody(CommandBody):
    """追回 Money the host unit returned, recorded by finance with its own document (Art. 13)."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.RECOVERY))

    amount: Money = Field(description="追回金额 Yuan with at most two places, at most what was disbursed",
                          examples=["1000000.00"])
    document_ref: DocRef = Field(description="文号 of finance's recovery document", examples=["长财教〔2024〕51号"])
    reasons: Text = Field(description="理由 Why the money was returned", examples=[ex.RECOVERY["reasons"]])


class RevocationBody(CommandBody):
    """撤销 The bureau revokes a platform (Art. 13): final, and frees its subfield."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.REVOCATION))

    ground: Literal["cannot_fulfil_duties", "serious_adverse_impact"] = Field(
        description="撤销理由 `cannot_fulfil_duties` (不能履行依托单位职责) or `serious_adverse_impact` "
        "(造成严重社会不良影响), Art. 13", examples=["serious_adverse_impact"])
    document_ref: DocRef = Field(description="文号 of the revocation decision", examples=["长科发〔2024〕33号"])
    reasons: Text = Field(description="理由 The facts", examples=[ex.REVOCATION["reasons"]])


class ReasonsBody(WithDocumentRef):
    """撤回 The host unit withdraws its platform, with its reasons."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.WITHDRAWAL))

    reasons: Text = Field(description="理由 Why", examples=[ex.WITHDRAWAL["reasons"]])


class TerminationBody(CommandBody):
    """终止 The bureau terminates a project on a ground of the closed list (Art. 9(1))."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.TERMINATION))

    ground: Literal["acceptance_deadline_missed", "unqualified", "task_book_not_signed", "conditions_lost",
                    "host_unit_request", "force_majeure"] = Field(
        description="终止理由, a closed list: `acceptance_deadline_missed` (Art. 9(1), once the miss is recorded), "
        "`task_book_not_signed` (Art. 8(7), before the task book), `conditions_lost` (Art. 6-7), "
        "`host_unit_request`, `force_majeure`; `unqualified` is recorded by the acceptance review itself "
        "(409 `ground_not_available` here)", examples=["acceptance_deadline_missed"])
    document_ref: DocRef = Field(description="文号 of the termination decision; the ledger's release carries it",
                                 examples=["长科发〔2023〕98号"])
    reasons: Text = Field(description="理由 The facts", examples=[ex.TERMINATION["reasons"]])


class LateAcceptanceBody(WithDocumentRef):
    """逾期验收申请受理 The bureau admits an acceptance application after the missed deadline (Art. 9(1))."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.LATE_ACCEPTANCE))

    justification: Text = Field(description="说明 Why the bureau admits an acceptance application after the "
                                            "recorded missed deadline (Art. 9(1))",
                                examples=[ex.LATE_ACCEPTANCE["justification"]])


# ---------------------------------------------------------------------------- responses
class Open(BaseModel):
    """Response models describe the documented fields and allow additions (docs/API.md: extend, never drop)."""

    model_config = ConfigDict(extra="allow")


class Token(BaseModel):
    """访问令牌 A signed bearer token (OAuth2 password flow)."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.TOKEN_ANSWER))

    access_token: str = Field(description="访问令牌 The token to send as `Authorization: Bearer <token>`",
                              examples=[ex.TOKEN])
    token_type: Literal["bearer"] = Field(default="bearer", description="令牌类型 Always `bearer`", examples=["bearer"])
    expires_in: int = Field(description="有效期 Seconds until the token expires", examples=[3600])
    role: str = Field(description="角色 The account's role: applicant, service_agency, expert, bureau, finance "
                      "or auditor", examples=["bureau"])


class HostUnitOut(Open):
    """依托单位 The host unit as it stands now (after any approved change of name, Art. 10)."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.HOST_UNIT_OUT))

    name: str | None = Field(description="依托单位名称 The host unit's name", examples=[ex.HOST_NAME])
    credit_code: str | None = Field(description="统一社会信用代码 The host unit's unified social credit code "
                                    "(Art. 8(1))", examples=[ex.HOST_CODE])


class ReviewOut(Open):
    """评审结果 The expert review (Art. 8(3))."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.REVIEW))

    experts: int = Field(description="评分专家数 How many experts have scored", examples=[5])
    result: str | None = Field(description="评审得分 The result by the policy's method, two places; null until "
                               "the policy's minimum of experts has scored", examples=["88.67"])
    method: str | None = Field(description="计分方法 The policy's scoring method, e.g. `trimmed_mean` (mean after "
                               "dropping the highest and lowest)", examples=["trimmed_mean"])


class PublicityOut(Open):
    """公示 The platform's publicity batch and window (Art. 8(6))."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.PUBLICITY))

    batch_id: str = Field(description="公示批次编号 The batch's id", examples=[ex.BATCH_ID])
    batch_ref: str = Field(description="公示文号 The batch's reference", examples=[ex.BATCH_REF])
    media: str = Field(description="公示媒体 Where it was published", examples=[ex.MEDIA])
    start_date: date = Field(description="公示开始日期 The day of publication", examples=["2022-06-06"])
    first_day: date | None = Field(description="第1个工作日 The first counted working day", examples=["2022-06-06"])
    end_date: date | None = Field(description="公示截止日期 The 5th working day, the window's last; null while its "
                                  "year's holiday schedule is not loaded", examples=["2022-06-10"])


class ObjectionOut(Open):
    """异议 An objection, without the objector's identity."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.OBJECTION_OUT))

    objection_id: str = Field(description="异议编号 The objection's number on this platform", examples=["1"])
    received_on: date | None = Field(description="收到日期 The day it reached the bureau (postmark or stamp on "
                                     "paper)", examples=["2022-06-08"])
    admissible: bool = Field(description="是否在公示期内 Received inside the window (Art. 8(6)); a late one is "
                             "recorded but does not block the notice", examples=[True])
    outcome: str | None = Field(description="处理结果 `upheld`, `dismissed`, or null while unresolved",
                                examples=["dismissed"])


class TaskBookVersionOut(Open):
    """任务书版本 One version of the task book (Art. 11)."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.TASK_BOOK_VERSION))

    version: int = Field(description="版本号 1 at signing, +1 per approved change of content or indicators",
                         examples=[1])
    indicators: list[dict[str, Any]] = Field(description="考核指标 The version's indicators ({name, target})",
                                             examples=[ex.INDICATORS])
    effective_from: date | None = Field(description="生效日期 The day it takes effect", examples=["2022-07-01"])
    document_ref: str | None = Field(description="文号 The task book's or the change decision's reference",
                                     examples=["建设任务书-2022-001"])
    change_id: str | None = Field(description="变更编号 The approved change that made it; null for the signed one",
                                  examples=[None])


class TaskBookOut(Open):
    """建设任务书 The task book and its execution period (Art. 8(7), 9(1))."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.TASK_BOOK_OUT))

    task_book_ref: str = Field(description="任务书编号 The task book's reference", examples=["建设任务书-2022-001"])
    indicators: list[dict[str, Any]] = Field(description="考核指标 The indicators in force ({name, target})",
                                             examples=[ex.INDICATORS])
    period_start: date = Field(description="执行期开始 The period's first day", examples=["2022-07-01"])
    period_end: date = Field(description="执行期结束 The period's last day", examples=["2023-06-30"])
    acceptance_due: date | None = Field(description="验收申请截止日 One month after the period, moved past a rest "
                                        "day (Art. 9(1)); null while that year's schedule is not loaded",
                                        examples=["2023-07-31"])
    version: int = Field(description="当前版本 The version in force", examples=[1])
    period_reason: str | None = Field(description="执行期说明 Why the period is not one year, or null",
                                      examples=[None])
    versions: list[TaskBookVersionOut] = Field(description="版本历史 Every version, oldest first",
                                               examples=[[ex.TASK_BOOK_VERSION]])


class FundingOut(Open):
    """建设经费 The platform's money (Art. 8(5), 9(3), 13)."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.FUNDING_OUT))

    committed: str | None = Field(description="承诺金额 Committed at approval (yuan)", examples=["1000000.00"])
    disbursed: str | None = Field(description="已拨付 Disbursed at funding (yuan)", examples=["1000000.00"])
    recovered: str | None = Field(description="已追回 Returned by the host unit (yuan, Art. 13)", examples=["0.00"])


class DeadlinesOut(Open):
    """期限 The platform's deadlines."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.DEADLINES))

    publicity_end: date | None = Field(description="公示截止日期 The window's last day (Art. 8(6))",
                                       examples=["2022-06-10"])
    acceptance_due: date | None = Field(description="验收申请截止日 The last day to apply for acceptance "
                                        "(Art. 9(1))", examples=["2023-07-31"])
    acceptance_missed_on: date | None = Field(
        None, description="逾期记录日 The day the missed acceptance deadline was recorded (the day after it), or null",
        examples=[None])
    late_acceptance_admitted_on: date | None = Field(
        None, description="准予逾期申请日 The day the bureau admitted a late acceptance application, or null",
        examples=[None])


class TerminationOut(Open):
    """终止 How the project was terminated (Art. 9)."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.TERMINATION_OUT))

    ground: str = Field(description="终止理由 A TerminationBody ground, `unqualified`, or `not_recorded` for a "
                                    "termination recorded before grounds were", examples=["acceptance_deadline_missed"])
    document_ref: str | None = Field(description="文号 of the termination decision", examples=["长科发〔2023〕98号"])
    reasons: str | None = Field(description="理由 The facts", examples=[ex.TERMINATION_OUT["reasons"]])
    terminated_on: date | None = Field(description="终止日期 The decision's business date", examples=["2023-12-15"])


class PlatformListItem(Open):
    """平台 A platform in a list."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.PLATFORM_ITEM))

    id: str = Field(description="平台编号 The platform's id (UUID)", examples=[ex.PLATFORM_ID])
    name: str = Field(description="平台名称 The platform's name", examples=[ex.PLATFORM_NAME])
    subfield: str = Field(description="细分领域 Its subfield (Art. 4)", examples=[ex.SUBFIELD])
    host_unit: HostUnitOut = Field(description="依托单位 The host unit", examples=[ex.HOST_UNIT_OUT])
    status: str = Field(description="状态 Its stage (docs/API.md, Status vocabulary)", examples=["funded"])
    version: int = Field(description="版本 The aggregate's version; send it as `If-Match`", examples=[18])


class PlatformSummary(PlatformListItem):
    """平台详情 The platform's summary: stages, review, task book, money and deadlines."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.PLATFORM))

    policy: str = Field(description="适用政策 The policy that governs it: the one in force on its application "
                        "date (Art. 15)", examples=[ex.POLICY])
    stage_dates: dict[str, date | None] = Field(description="各阶段日期 status → the business date it was reached",
                                                examples=[ex.PLATFORM["stage_dates"]])
    review: ReviewOut | None = Field(description="评审 The expert review (Art. 8(3)), or null before it",
                                     examples=[ex.REVIEW])
    inspection: dict[str, Any] | None = Field(description="考察 `passed`, `findings`, `date` (Art. 8(4))",
                                              examples=[ex.PLATFORM["inspection"]])
    approval: dict[str, Any] | None = Field(description="审定 The approval's references and any subfield exception "
                                            "(Art. 8(5), Art. 5)", examples=[ex.PLATFORM["approval"]])
    publicity: PublicityOut | None = Field(description="公示 Its batch and window (Art. 8(6))",
                                           examples=[ex.PUBLICITY])
    objections: list[ObjectionOut] = Field(description="异议 The objections, without identities (Art. 8(6))",
                                           examples=[[ex.OBJECTION_OUT]])
    flagged_objections: list[str] = Field(
        default_factory=list, description="待处理异议 Admissible objections recorded after the notice and not yet "
        "resolved (Art. 8(6)): the bureau must resolve them; they hold up recognition and funding", examples=[[]])
    notice_ref: str | None = Field(description="下达文号 The joint notice (Art. 8(7))", examples=["长科发〔2022〕41号"])
    task_book: TaskBookOut | None = Field(description="建设任务书 The task book (Art. 8(7))",
                                          examples=[ex.TASK_BOOK_OUT])
    major_changes: list[dict[str, Any]] = Field(description="重大变更 Reported changes and their decisions "
                                                "(Art. 10-11)", examples=[[ex.MAJOR_CHANGE_OUT]])
    acceptance: dict[str, Any] | None = Field(description="验收 The acceptance application and review, with the "
                                              "task book version judged (Art. 9)", examples=[ex.PLATFORM["acceptance"]])
    recognition: dict[str, Any] | None = Field(description="认定 `document_ref`, `plaque_no`, `recognized_on` "
                                               "(Art. 9(3))", examples=[ex.PLATFORM["recognition"]])
    funding: FundingOut = Field(description="建设经费 Committed, disbursed and recovered (yuan)",
                                examples=[ex.FUNDING_OUT])
    end_reason: str | None = Field(description="结束原因 Why the platform ended (not accepted, rejected, terminated, "
                                   "withdrawn, revoked), or null", examples=[None])
    late_acceptance: dict[str, Any] | None = Field(None, description="逾期验收 The recorded miss and the bureau's "
                                                   "admission (Art. 9(1)), or null", examples=[None])
    termination: TerminationOut | None = Field(None, description="终止 The termination, or null",
                                               examples=[ex.TERMINATION_OUT])
    deadlines: DeadlinesOut = Field(description="期限 Its deadlines", examples=[ex.DEADLINES])


class CommandResponse(PlatformSummary):
    """A command's answer: the platform's summary after the write, and the log position."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.COMMAND_ANSWER))

    position: int | None = Field(description="日志位置 Event-log position after the write; pass as ?min_position= "
                                 "to read it", examples=[188])


class ObjectionResponse(CommandResponse):
    """The bureau's answer to a paper objection: the platform's summary and the objection."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.OBJECTION_ANSWER))

    objection_id: str = Field(description="异议编号 The objection's number", examples=["1"])
    admissible: bool = Field(description="是否在公示期内 Received inside the window (Art. 8(6))", examples=[True])


class ObjectionReceipt(BaseModel):
    """What the public gets back for an objection: its number, whether it was received inside
    the window, the date it was received, and the log position. Not the platform's file."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.OBJECTION_RECEIPT))

    objection_id: str = Field(description="异议编号 The objection's number; quote it to the bureau", examples=["1"])
    admissible: bool = Field(description="是否在公示期内 Received inside the window (Art. 8(6))", examples=[True])
    received_on: date = Field(description="收到日期 Today (Asia/Shanghai), the day it was received",
                              examples=["2022-06-08"])
    position: int | None = Field(description="日志位置 The event-log position of the objection", examples=[57])


class ChangeResponse(CommandResponse):
    """The answer to a reported major change: the platform's summary and the change's id."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.CHANGE_ANSWER))

    change_id: str = Field(description="变更编号 The change's number, for the bureau's decision", examples=["1"])


class SubfieldAdmissionResponse(Open):
    """增列细分领域 The admitted subfield (Art. 4)."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.SUBFIELD_ADMISSION_ANSWER))

    policy: str = Field(description="政策文号 The policy it was admitted under", examples=[ex.POLICY])
    subfield: str = Field(description="细分领域 The subfield", examples=["智能农业"])
    document_ref: str = Field(description="文号 of the bureau's decision", examples=["长科发〔2022〕8号"])
    reasons: str = Field(description="理由 Why", examples=[ex.SUBFIELD_ADMISSION["reasons"]])
    admitted_on: date = Field(description="增列日期 The decision's business date", examples=["2022-02-15"])
    position: int | None = Field(description="日志位置 Event-log position after the write", examples=[3])


class ListEnvelope(Open):
    """Every list's envelope: a page of ``items``, the ``cursor`` of the next page (null on the
    last) and, where it is cheap to count, ``total`` (every page's items together)."""

    next_cursor: str | None = Field(description="下一页 Pass as ?cursor= for the next page; null on the last page",
                                    examples=[None])
    total: int | None = Field(None, description="总数 How many items all the pages hold (null where not counted)",
                              examples=[1])


class PlatformPage(ListEnvelope):
    """A page of platforms."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.PLATFORM_PAGE))

    items: list[PlatformListItem] = Field(description="平台 The platforms of this page", examples=[[ex.PLATFORM_ITEM]])


class PublicityPlatform(Open):
    """公示平台 A platform as the publicity list shows it: no objector's identity."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.PUBLICITY_PLATFORM))

    id: str = Field(description="平台编号 The platform's id", examples=[ex.PLATFORM_ID])
    name: str = Field(description="平台名称 The platform's name", examples=[ex.PLATFORM_NAME])
    host_unit: Any = Field(description="依托单位 The host unit (`name`, `credit_code`)", examples=[ex.HOST_UNIT_OUT])
    subfield: str = Field(description="细分领域 Its subfield", examples=[ex.SUBFIELD])
    objections: int = Field(description="异议数 Admissible objections received", examples=[1])
    late_objections: int = Field(description="逾期异议数 Objections received after the window", examples=[0])
    outcome: Literal["upheld", "dismissed", "pending"] | None = Field(
        description="异议处理结果 `upheld` (approval rescinded), `dismissed`, `pending`, or null without objections",
        examples=["dismissed"])


class PublicityBatchOut(Open):
    """公示批次 A publicity batch and its window (Art. 8(6))."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.PUBLICITY_BATCH_OUT))

    batch_ref: str = Field(description="公示文号 The batch's reference", examples=[ex.BATCH_REF])
    media: str = Field(description="公示媒体 Where it was published", examples=[ex.MEDIA])
    start_date: date = Field(description="公示开始日期 The day of publication", examples=["2022-06-06"])
    first_day: date | None = Field(description="第1个工作日 The first counted working day", examples=["2022-06-06"])
    end_date: date | None = Field(description="公示截止日期 Last day of the window; null while its year's schedule "
                                  "is not loaded", examples=["2022-06-10"])
    pending: bool = Field(description="待定 The end date waits for its year's holiday schedule", examples=[False])
    open: bool = Field(description="公示中 Objections are admissible today (Asia/Shanghai)", examples=[False])
    state: Literal["upcoming", "open", "closed"] = Field(
        description="公示状态 Where today (Asia/Shanghai) falls: `upcoming` (未开始, before the start date), `open` "
                    "(公示中, through the last day, or while the end date is pending) or `closed` (已结束)",
        examples=["closed"])
    working_days: int = Field(description="公示工作日数 The window's length in working days, as the policy in force "
                                          "set it (Art. 8(6))", examples=[5])
    published_on: date | None = Field(None, description="公示发布日 The business date the list was published",
                                      examples=["2022-06-05"])
    platforms: list[PublicityPlatform] = Field(description="公示平台 The platforms published",
                                               examples=[[ex.PUBLICITY_PLATFORM]])


class PublicityBatchResponse(PublicityBatchOut):
    """The new batch as the publicity list shows it, and the log position."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.PUBLICITY_BATCH_ANSWER))

    position: int | None = Field(description="日志位置 Event-log position after the write", examples=[52])


class PublicityPage(ListEnvelope):
    """公示名单 A page of publicity batches, newest first."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.PUBLICITY_PAGE))

    items: list[PublicityBatchOut] = Field(description="公示批次 The batches of this page",
                                           examples=[[ex.PUBLICITY_BATCH_OUT]])


class SubfieldOut(Open):
    """细分领域 A subfield, its holder and its history (Art. 4-5)."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.SUBFIELD_OUT))

    name: str = Field(description="细分领域名称 The subfield", examples=[ex.SUBFIELD])
    admission: dict[str, Any] | None = Field(
        None, description="增列决定 For a subfield the bureau admitted beyond the policy's list (Art. 4): its "
        "`document_ref`, `reasons` and `admitted_on`", examples=[None])
    holder: dict[str, Any] | None = Field(description="持有平台 The platform holding it from approval (Art. 5), or "
                                          "null", examples=[ex.HOLDER])
    exception_holders: list[dict[str, Any]] = Field(description="例外持有平台 Platforms approved in it by a "
                                                    "recorded exception (Art. 5 原则上)", examples=[[]])
    history: list[dict[str, Any]] = Field(description="持有历史 Every holder, with `from_date` and `to_date`",
                                          examples=[ex.SUBFIELD_OUT["history"]])


class SubfieldPage(ListEnvelope):
    """细分领域登记 The subfields of the latest policy, then those admitted."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.SUBFIELD_PAGE))

    policy: str = Field(description="政策文号 The latest policy version", examples=[ex.POLICY])
    items: list[SubfieldOut] = Field(description="细分领域 The subfields", examples=[[ex.SUBFIELD_OUT]])


class LedgerEvent(Open):
    """来源事件 The event a ledger entry comes from."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.LEDGER_EVENT))

    position: int = Field(description="日志位置 The event's log position", examples=[188])
    type: str = Field(description="事件类型 The event's type", examples=["Funded"])
    originator_version: int = Field(description="版本 The platform's version the event made", examples=[19])


class LedgerEntry(Open):
    """资金台账条目 One entry of the funding ledger."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.LEDGER_ENTRY))

    entry_id: str = Field(description="条目编号 The entry's id (the event's log position)", examples=["188"])
    kind: Literal["commitment", "release", "disbursement", "recovery"] = Field(
        description="类型 `commitment` (承诺, approval Art. 8(5)), `release` (释放, a project ended without money), "
        "`disbursement` (拨付, Art. 9(3)) or `recovery` (追回, Art. 13)", examples=["disbursement"])
    platform_id: str = Field(description="平台编号 The platform", examples=[ex.PLATFORM_ID])
    host_unit: HostUnitOut = Field(description="依托单位 The host unit", examples=[ex.HOST_UNIT_OUT])
    amount: str = Field(description="金额 Yuan, two places", examples=["1000000.00"])
    business_date: date = Field(description="业务日期 The act's business date", examples=["2023-09-20"])
    fiscal_year: int = Field(description="财政年度 The calendar year of the business date", examples=[2023])
    document_ref: str | None = Field(description="文号 The document backing the act; null only on an entry recorded "
                                     "before releases needed one (shown as such, never filled in)",
                                     examples=["长财教〔2023〕81号"])
    event: LedgerEvent = Field(description="事件 The event the entry comes from", examples=[ex.LEDGER_EVENT])


class LedgerTotals(Open):
    """合计 A period's flows and its balances of outstanding commitments (未拨付承诺余额), yuan with two places."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.LEDGER_TOTALS))

    opening_balance: str = Field(description="期初承诺余额 Outstanding commitments at the start of the period",
                                 examples=["1000000.00"])
    committed: str = Field(description="本期承诺 The period's commitments (a flow)", examples=["0.00"])
    released: str = Field(description="本期释放 The period's releases (a flow)", examples=["0.00"])
    disbursed: str = Field(description="本期拨付 The period's disbursements (a flow)", examples=["1000000.00"])
    recovered: str = Field(description="本期追回 The period's recoveries (a flow; changes no commitment)",
                           examples=["0.00"])
    commitment_change: str = Field(description="承诺净变动 committed − released − disbursed: the period's net change",
                                   examples=["-1000000.00"])
    closing_balance: str = Field(description="期末承诺余额 opening_balance + commitment_change: at the end of the "
                                 "period", examples=["0.00"])
    outstanding_commitments: str = Field(description="未拨付承诺余额 The same balance as closing_balance (before "
                                         "2026-11 it wrongly gave commitment_change under ?fiscal_year=)",
                                         examples=["0.00"])


class LedgerYearTotals(LedgerTotals):
    """一个财政年度 One fiscal year's flows and balances."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.LEDGER_YEAR_TOTALS))

    fiscal_year: int = Field(description="财政年度 The fiscal year (a calendar year)", examples=[2023])


class LedgerHostTotals(LedgerTotals):
    """一个依托单位 One host unit's flows and balances."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.LEDGER_HOST_TOTALS))

    credit_code: str = Field(description="统一社会信用代码 The host unit's credit code", examples=[ex.HOST_CODE])
    name: str = Field(description="依托单位名称 Its name", examples=[ex.HOST_NAME])


class Ledger(Open):
    """资金台账 The funding ledger: every entry, and the flows and balances by period, year and host unit."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.LEDGER))

    entries: list[LedgerEntry] = Field(description="条目 The entries, in log order",
                                       examples=[[ex.COMMITMENT_ENTRY, ex.LEDGER_ENTRY]])
    totals: LedgerTotals = Field(description="合计 The period's figures (every year, or ?fiscal_year=)",
                                 examples=[ex.LEDGER_TOTALS])
    by_fiscal_year: list[LedgerYearTotals] = Field(description="分年度 The figures of each fiscal year",
                                                   examples=[[ex.LEDGER_YEAR_TOTALS]])
    by_host_unit: list[LedgerHostTotals] = Field(description="分依托单位 The figures of each host unit",
                                                 examples=[[ex.LEDGER_HOST_TOTALS]])


class YearBalanceOut(Open):
    """Outstanding commitments over a fiscal year: closing = opening + commitments − releases −
    disbursements; recoveries (money returned) beside."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.YEAR_2023))

    opening_balance: str = Field(description="年初承诺余额 The previous year's closing balance (yuan)",
                                 examples=["1000000.00"])
    commitments: str = Field(description="本年承诺 The year's commitments (yuan)", examples=["0.00"])
    releases: str = Field(description="本年释放 The year's releases (yuan)", examples=["0.00"])
    disbursements: str = Field(description="本年拨付 The year's disbursements (yuan)", examples=["1000000.00"])
    recoveries: str = Field(description="本年追回 The year's recoveries, beside the balance (yuan, Art. 13)",
                            examples=["0.00"])
    closing_balance: str = Field(description="年末承诺余额 opening + commitments − releases − disbursements (yuan)",
                                 examples=["0.00"])


class PlatformYearOut(YearBalanceOut):
    """One platform's balance over a fiscal year."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.PLATFORM_YEAR))

    platform_id: str = Field(description="平台编号 The platform", examples=[ex.PLATFORM_ID])
    name: str = Field(description="平台名称 Its name as it stands now", examples=[ex.PLATFORM_NAME])
    host_unit: HostUnitOut = Field(description="依托单位 Its host unit as it stands now", examples=[ex.HOST_UNIT_OUT])


class FiscalYearOut(Open):
    """财政年度 One fiscal year of the ledger."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.FISCAL_YEAR))

    fiscal_year: int = Field(description="财政年度 The calendar year", examples=[2023])
    platforms: list[PlatformYearOut] = Field(description="平台 Platforms with an opening balance or an entry in the "
                                             "year", examples=[[ex.PLATFORM_YEAR]])
    totals: YearBalanceOut = Field(description="合计 The sums of the platforms' figures", examples=[ex.YEAR_2023])


class LedgerByYear(Open):
    """分年度资金台账 The funding ledger by fiscal year, as balances of outstanding commitments."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.LEDGER_BY_YEAR))

    fiscal_years: list[FiscalYearOut] = Field(description="财政年度 Every year from the first to the last",
                                              examples=[[ex.FISCAL_YEAR]])
    totals: YearBalanceOut = Field(description="合计 The first year's opening, the years' flows, the last year's "
                                   "closing", examples=[ex.YEAR_2023])


class HistoryEvent(Open):
    """事件 One event of a platform's history."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.HISTORY_EVENT))

    sequence: int = Field(description="序号 The event's version in the platform's stream, from 1", examples=[2])
    type: str = Field(description="事件类型 The event's name (DOMAIN.md, Event vocabulary)", examples=["Accepted"])
    recorded_at: str = Field(description="记录时间 When it was recorded (UTC instant, ISO 8601)",
                             examples=[ex.HISTORY_EVENT["recorded_at"]])
    business_date: date | None = Field(description="业务日期 The day it happened (Asia/Shanghai)",
                                       examples=["2021-12-20"])
    actor: str | None = Field(description="行为人 Who acted", examples=["agency"])
    role: str | None = Field(description="角色 The actor's role", examples=["service_agency"])
    recorded_by: dict[str, Any] | None = Field(
        None, description="代为录入人 The clerk (`actor_id`, `role`) who recorded this paper act on the actor's "
        "behalf; null when the actor recorded it", examples=[None])
    data: dict[str, Any] = Field(description="内容 The event's facts", examples=[ex.HISTORY_EVENT["data"]])
    hash: str | None = Field(description="哈希 SHA-256 of the stored event, chained (docs/AUDIT.md)",
                             examples=[ex.HASH])
    prev_hash: str | None = Field(description="前一哈希 The previous event's hash in the chain",
                                  examples=[ex.PREV_HASH])


class HistoryOut(ListEnvelope):
    """事件历史 Every event of a platform, in order."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.HISTORY))

    platform_id: str = Field(description="平台编号 The platform", examples=[ex.PLATFORM_ID])
    items: list[HistoryEvent] = Field(description="事件 Its events, oldest first", examples=[[ex.HISTORY_EVENT]])


class DeadlineOut(Open):
    """期限 An open deadline."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.DEADLINE))

    kind: Literal["publicity_end", "acceptance_due"] | str = Field(
        description="期限类型 `publicity_end` (公示截止, Art. 8(6)) or `acceptance_due` (验收申请截止, Art. 9(1))",
        examples=["acceptance_due"])
    platform_id: str = Field(description="平台编号 The platform", examples=[ex.PLATFORM_ID])
    platform_name: str | None = Field(description="平台名称 Its name", examples=[ex.PLATFORM_NAME])
    due_date: date | None = Field(description="截止日期 The due date; null while pending", examples=["2023-07-31"])
    pending: bool = Field(description="待定 The due date waits for its year's holiday schedule", examples=[False])
    overdue: bool = Field(description="已逾期 Today (Asia/Shanghai) is after the due date", examples=[False])
    missed_on: date | None = Field(None, description="逾期记录日 acceptance_due: the day the miss was recorded (the "
                                   "day after the deadline), awaiting the bureau's decision", examples=[None])
    late_admitted_on: date | None = Field(None, description="准予逾期申请日 acceptance_due: the day the bureau "
                                          "admitted a late application", examples=[None])


class DeadlinesPage(ListEnvelope):
    """期限 The open deadlines."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.DEADLINES_PAGE))

    items: list[DeadlineOut] = Field(description="期限 The open deadlines, soonest first", examples=[[ex.DEADLINE]])


class PolicyOut(Open):
    """政策版本 A policy version and its settings (Art. 15)."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.POLICY_OUT))

    policy: str = Field(description="政策文号 The policy's reference", examples=[ex.POLICY])
    title: str = Field(description="标题 Its title", examples=[ex.POLICY_OUT["title"]])
    demonstration: bool = Field(description="演示 A demonstration policy, not a real document", examples=[False])
    effective_from: date = Field(description="施行日期 First day in force (Art. 15)", examples=["2021-11-12"])
    effective_to: date | None = Field(description="失效日期 Last day in force, or null", examples=["2023-11-11"])
    subfields: list[str] = Field(description="细分领域 The listed subfields (Art. 4)",
                                 examples=[ex.POLICY_OUT["subfields"]])
    funding_amount: str = Field(description="资助金额 The grant on recognition (yuan, Art. 9(3))",
                                examples=["1000000.00"])
    publicity_working_days: int = Field(description="公示工作日数 The publicity window (Art. 8(6))", examples=[5])
    rubric: list[dict[str, Any]] = Field(description="评分细则 Each `criterion` and its `max_points` (Art. 6-7)",
                                         examples=[ex.POLICY_OUT["rubric"]])
    min_experts: int = Field(description="最少专家数 Experts needed to complete the review (Art. 8(3))", examples=[5])
    scoring_method: str = Field(description="计分方法 `mean` or `trimmed_mean` (Art. 8(3))",
                                examples=["trimmed_mean"])


class PolicyPage(ListEnvelope):
    """政策版本 The policy versions, oldest first."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.POLICY_PAGE))

    items: list[PolicyOut] = Field(description="政策版本 The versions of this page", examples=[[ex.POLICY_OUT]])


class Health(Open):
    """存活 The process answers."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.HEALTH))

    status: str = Field(description="状态 Always `ok`", examples=["ok"])


class Readiness(Open):
    """``status``: ``ready``, ``lagging`` (a read model too far behind), ``stalled`` (a read model
    stopped at an event it cannot apply: ``projections.stalled`` gives each one's ``position``,
    ``event``, ``reason`` and ``failed_at``), ``broken`` (the event log does not verify),
    ``not_writable`` (the event store refuses writes) or ``unavailable`` (the database does not
    answer)."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.READINESS))

    status: str = Field(description="就绪状态 `ready`, `lagging`, `stalled`, `broken`, `not_writable` or "
                        "`unavailable`", examples=["ready"])
    database: str = Field(description="数据库 `ok`, or `error: <kind>`", examples=["ok"])
    projections: dict[str, Any] = Field(description="读模型 `max_lag`, `models` (each `name`, `position`, `lag`), "
                                        "`threshold`, `stalled`", examples=[ex.PROJECTIONS])
    audit: dict[str, Any] | None = Field(None, description=(
        "完整性监测 the integrity watch: `status` intact/broken/unchecked, `checked_at`, `first_failure`, "
        "`latest_checkpoint`, `signing` (whether this process signs checkpoints)"), examples=[ex.AUDIT_WATCH])
    store: str | None = Field(None, description="事件库可写 `writable`, or `not writable: <reason>` (a probe write "
                              "to the event store did not commit)", examples=["writable"])


class Problem(Open):
    """RFC 9457 problem details; ``field``/``errors`` for malformed input, ``article``/``policy``
    when a rule of the regulation refused."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.PROBLEM))

    type: str = Field(description="问题类型 Absolute URI of the page describing `code` (its article, what to do): "
                      "{PLATFORMS_PUBLIC_BASE_URL or the request's base URL}/problems/{code}",
                      examples=["https://kjj.changsha.gov.cn/registry/problems/subfield_taken"])
    title: str = Field(description="标题 The code's title, in Chinese, or in English when Accept-Language prefers it",
                       examples=["该细分领域已有平台"])
    status: int = Field(description="状态码 The HTTP status", examples=[409])
    detail: str = Field(description="说明 This refusal's explanation, in the language of `title`; never parse it",
                        examples=[ex.PROBLEM["detail"]])
    code: str = Field(description="错误码 The machine-readable reason (GET /problems/ lists them all)",
                      examples=["subfield_taken"])
    field: str | None = Field(None, description="字段 The input at fault, dotted (e.g. `host_unit.credit_code`)",
                              examples=[None])
    errors: list[dict[str, Any]] | None = Field(None, description="校验错误 Each malformed input's `field`, "
                                                "`in`, `message` and `type`", examples=[None])
    article: str | None = Field(None, description="条款 The article of the regulation that refused",
                                examples=["Art. 5"])
    policy: str | None = Field(None, description="政策文号 The policy version applied", examples=[ex.POLICY])


StatusName = Literal["applied", "accepted", "reviewed", "inspected", "approved", "in_publicity", "notified",
                     "under_construction", "acceptance_applied", "qualified", "recognized", "funded",
                     "not_accepted", "rejected", "terminated", "withdrawn", "revoked"]


class CosignatureIn(Body):
    """A witness's cosignature of a checkpoint (c2sp.org/tlog-cosignature), as it would append
    it to the signed note."""

    model_config = ConfigDict(json_schema_extra=ex.examples(ex.COSIGNATURE))

    checkpoint: Annotated[str, text(4000, min_length=1)] = Field(
        description="检查点 the checkpoint text the witness cosigned: origin, size and base64 root, each line "
                    "ending in a newline (the signed note without its signature lines)",
        examples=[ex.CHECKPOINT_TEXT])
    cosignature: Annotated[str, text(1000, min_length=1)] = Field(
        description="见证签名 the witness's signature line, '— <key name> <base64(key ID || timestamp || "
                    "signature)>'", examples=[ex.COSIGNATURE_LINE])
