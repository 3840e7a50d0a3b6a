"""The commands of docs/API.md: one route per act of the regulation, each a thin translation to one
:class:`~aggregates.application.RegistryApp` method.

Roles are checked by dependency; the actor recorded in every event is the token's subject.
Each answers with the platform's new summary and ``position`` (read-your-writes), honours
``Idempotency-Key`` and (on platform commands) ``If-Match``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from aggregates.clock import today_in_shanghai
from aggregates.credit_code import validate_credit_code
from aggregates.values import Act, ChangeKind, RevocationGround, Role, TerminationGround
from projections.views import jsonable

from . import schemas as s
from .auth import PUBLIC, Principal
from .bootstrap import Container
from .command_threads import run_blocking
from .commands_support import (
    execute,
    idempotency_for,
    idempotency_of,
    make_act,
    note_recorded,
    paper_act,
    receipt_response,
)
from .deps import get_container, public_or_principal, require_roles
from .errors import ProblemException, problem_responses
from .page_security import client_address, limiter_for
from .parameters import IdempotencyKey, IfMatch, PlatformId
from .publicity import batch_view

router = APIRouter()

Applicant = Annotated[Principal, Depends(require_roles(Role.APPLICANT))]
Agency = Annotated[Principal, Depends(require_roles(Role.SERVICE_AGENCY))]
Expert = Annotated[Principal, Depends(require_roles(Role.EXPERT))]
# The clerks who record the paper acts of applicants, experts and the public on their behalf.
Clerk = Annotated[Principal, Depends(require_roles(Role.SERVICE_AGENCY, Role.BUREAU))]
ApplicantOrClerk = Annotated[Principal, Depends(require_roles(Role.APPLICANT, Role.SERVICE_AGENCY, Role.BUREAU))]
Bureau = Annotated[Principal, Depends(require_roles(Role.BUREAU))]
Finance = Annotated[Principal, Depends(require_roles(Role.FINANCE))]
Wired = Annotated[Container, Depends(get_container)]
ObjectionId = Annotated[str, Path(max_length=20, examples=["1"], description="异议编号 The objection's number on "
                                   "the platform (`objection_id` of its summary)")]
ChangeId = Annotated[str, Path(max_length=20, examples=["1"], description="变更编号 The major change's number on "
                               "the platform (`change_id` of the report's answer)")]

ERRORS = problem_responses(400, 401, 403, 404, 409, 412, 413, 422, 503)
CREATE_ERRORS = problem_responses(400, 401, 403, 409, 413, 422, 503)


def _platform_route(path: str, summary: str, model: type = s.CommandResponse):  # noqa: ANN202
    return router.post(path, summary=summary, response_model=model, responses=ERRORS)


# ---------------------------------------------------------------------------- Art. 8(1) 申请
@router.post("/platforms", status_code=201, summary="Apply (申请, Art. 8(1))", response_model=s.CommandResponse,
             responses=CREATE_ERRORS)
def apply(body: s.ApplyBody, request: Request, c: Wired, who: ApplicantOrClerk,
          _key: IdempotencyKey = None) -> JSONResponse:
    """申请 A host unit applies for a platform in one subfield (Art. 8(1)).

    **Who**: an applicant, for its own host unit (the credit code must be the account's, else 403
    `not_your_host_unit`), today; or the service agency or the bureau recording a paper application
    handed in at the window on the host unit's behalf (代为录入): `business_date` is the day it was
    received and `document_ref` the dossier's reference, both required (422
    `business_date_required`, `reference_required`); the host unit is the actor, the clerk its
    recorder. The credit code's check character is verified (Art. 8(1)); the application is
    governed by the policy in force on its date (Art. 15), and its subfield must be one of that
    policy's or one the bureau admitted (Art. 4).

    **Answers** 201 with the new platform's summary (`status` `applied`) and `position`.
    """
    code = validate_credit_code(body.host_unit.credit_code, "host_unit.credit_code")
    if who.role is Role.APPLICANT:
        if code != (who.credit_code or ""):
            raise ProblemException(403, "not_your_host_unit",
                                   "an applicant applies only for its own host unit (its credit code)",
                                   field="host_unit.credit_code")
        act = make_act(who, body.business_date, body.document_ref)
    else:
        if body.business_date is None:
            raise ProblemException(422, "business_date_required",
                                   "a paper application is recorded with the date it was received",
                                   field="business_date")
        act = paper_act(who, code, Role.APPLICANT, body.business_date, body.document_ref)
    host = body.host_unit.model_dump() | {"credit_code": code}
    return execute(
        c, request, body, c.app.apply, principal=who, if_match=False, status=201,
        act=act, name=body.name, subfield=body.subfield,
        host_unit=host, co_builders=[b.model_dump(exclude_none=True) for b in body.co_builders],
        commitments=body.commitments, achievements=[a.model_dump() for a in body.achievements],
        basic_conditions=body.basic_conditions.model_dump(),
    )


# ---------------------------------------------------------------------------- Art. 4 细分领域
@router.post("/subfields", status_code=201, summary="Admit a subfield by decision (增列细分领域, Art. 4)",
             response_model=s.SubfieldAdmissionResponse, responses=CREATE_ERRORS | problem_responses(404))
def admit_subfield(body: s.SubfieldAdmissionBody, request: Request, c: Wired, who: Bureau,
                   _key: IdempotencyKey = None) -> JSONResponse:
    """增列细分领域 The bureau admits a further subfield by a recorded decision (Art. 4).

    Art. 4 ends its list with "等": the bureau admits a further subfield by a decision with its
    document; from then on it is applied for like the listed ones, one platform each (Art. 5).
    **Who**: the bureau. `policy` defaults to the one in force on `business_date`.

    **Answers** 201 with `policy`, `subfield`, `document_ref`, `reasons`, `admitted_on` and
    `position`; 409 `subfield_already_listed` for a subfield the policy lists or the bureau
    admitted before (in any spelling), 404 `policy_not_found` for an unknown policy.
    """
    act = make_act(who, body.business_date, body.document_ref)
    result = c.app.admit_subfield(act, name=body.name, reasons=body.reasons, policy_ref=body.policy,
                                  idempotency=idempotency_of(request, body))
    note_recorded(request, "admit_subfield", result)
    c.notify()
    policy, subfield = str(result.extra["policy"]), str(result.extra["subfield"])
    decision = c.app.subfield_admission(policy, subfield)
    view = {"policy": policy, **jsonable(decision), "position": result.position}
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    return JSONResponse(view, status_code=201, headers=headers)


# ---------------------------------------------------------------------------- Art. 8(2)-(5)
@_platform_route("/platforms/{platform_id}/intake", "Formal review (受理, Art. 8(2))")
def intake(platform_id: PlatformId, body: s.IntakeBody, request: Request, c: Wired, who: Agency,
           _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    """受理 The service agency's formal review (Art. 8(2)): accepted, or not accepted with reasons.

    **Who**: the service agency. It checks that the application is complete, including the basic
    conditions of Art. 6 and the host unit's conditions of Art. 7; `not_accepted` ends the
    application. **Answers** 200 with the platform's summary (`status` `accepted` or
    `not_accepted`) and `position`.
    """
    return execute(c, request, body, c.app.intake, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.document_ref),
                   accepted=body.decision == "accepted", reasons=body.reasons)


@_platform_route("/platforms/{platform_id}/scores", "Expert scoring (评审, Art. 8(3))")
def score(platform_id: PlatformId, body: s.ScoresBody, request: Request, c: Wired, who: Expert,
          _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    """评审 An expert scores an application once, today, per the policy's rubric (Art. 8(3)).

    **Who**: an expert. An expert affiliated with the host unit or a co-builder must recuse (409
    `expert_conflict_of_interest`, 回避); a second score by the same expert is 409. The review is
    complete when the policy's minimum of experts has scored (`GET /policies`), its result by the
    policy's method. **Answers** 200 with the platform's summary (`review`) and `position`.
    """
    return execute(c, request, body, c.app.score, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date), scores=body.scores,
                   comment=body.comment, expert_affiliation=who.credit_code)


@_platform_route("/platforms/{platform_id}/score-sheets", "Record a review meeting's score sheets (评审, Art. 8(3))")
def score_sheets(platform_id: PlatformId, body: s.ScoreSheetsBody, request: Request, c: Wired, who: Clerk,
                 _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    """评审会评分表 A review meeting's score sheets, recorded on the experts' behalf (Art. 8(3)).

    **Who**: the service agency or the bureau, dated on the meeting's day with its reference. Each
    sheet names its expert and the expert's unit and is checked as an expert scoring online (once
    each, recusal, the rubric); all are recorded or none. **Answers** 200 with the platform's
    summary and `position`.
    """
    return execute(c, request, body, c.app.record_score_sheets, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.meeting_ref),
                   sheets=[sheet.model_dump() for sheet in body.sheets])


@_platform_route("/platforms/{platform_id}/inspection", "Site inspection (考察, Art. 8(4))")
def inspection(platform_id: PlatformId, body: s.InspectionBody, request: Request, c: Wired, who: Bureau,
               _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    """考察 The bureau's site inspection (Art. 8(4)): passed, or failed (the application ends).

    **Who**: the bureau, after the expert review is complete. **Answers** 200 with the platform's
    summary (`status` `inspected`, or `rejected` when it failed) and `position`.
    """
    return execute(c, request, body, c.app.inspect, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.document_ref),
                   passed=body.passed, findings=body.findings)


@_platform_route("/platforms/{platform_id}/approval", "Approval (审定, Art. 8(5), Art. 5)")
def approval(platform_id: PlatformId, body: s.ApprovalBody, request: Request, c: Wired, who: Bureau,
             _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    """审定 The approval (Art. 8(5)): party-group meeting, vice-mayor, funding plan.

    **Who**: the bureau, after a passed inspection. The platform then holds its subfield: a second
    platform in a held subfield is refused (409 `subfield_taken`, Art. 5) unless
    `subfield_exception` records the written justification (原则上). The funding plan commits the
    policy's grant in the funding ledger. **Answers** 200 with the platform's summary (`status`
    `approved`) and `position`.
    """
    return execute(c, request, body, c.app.approve, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.party_group_meeting_ref,
                                body.vice_mayor_approval_ref, body.funding_plan_ref),
                   party_group_meeting_ref=body.party_group_meeting_ref,
                   vice_mayor_approval_ref=body.vice_mayor_approval_ref, funding_plan_ref=body.funding_plan_ref,
                   subfield_exception=body.subfield_exception)


# ---------------------------------------------------------------------------- Art. 8(6) 公示
@router.post("/publicity-batches", status_code=201, summary="Publicize a batch (公示, Art. 8(6))",
             response_model=s.PublicityBatchResponse, responses=CREATE_ERRORS | problem_responses(404))
def publicize(body: s.PublicityBatchBody, request: Request, c: Wired, who: Bureau,
              _key: IdempotencyKey = None) -> JSONResponse:
    """公示 The bureau publishes a batch of approved platforms in the media (Art. 8(6)).

    **Who**: the bureau. Each platform's window is computed from the official working-day calendar:
    5 working days from `start_date` (or the next working day), holidays and make-up working days
    (调休) included; a year whose schedule is not loaded leaves the end pending. **Answers** 201
    with the batch as the publicity list shows it, and `position`.
    """
    ids = list(body.platform_ids)
    act, idempotency = make_act(who, body.business_date, body.batch_ref), idempotency_of(request, body)
    result = c.app.publicize(act, batch_ref=body.batch_ref, media=body.media, start_date=body.start_date,
                             platform_ids=ids, idempotency=idempotency)
    note_recorded(request, "publicize", result)
    c.notify()
    view = batch_view(c.app, result.aggregate_id, today_in_shanghai())
    view["position"] = result.position
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    return JSONResponse(view, status_code=201, headers=headers)


@router.post("/platforms/{platform_id}/objections", summary="Object during publicity (异议, Art. 8(6))",
             response_model=s.ObjectionResponse | s.ObjectionReceipt, responses=ERRORS | problem_responses(429))
async def objection(platform_id: PlatformId, body: s.ObjectionBody, request: Request,
                    who: Annotated[Principal, Depends(public_or_principal)],
                    _key: IdempotencyKey = None) -> JSONResponse:
    """异议 Anyone objects to a publicized platform (Art. 8(6)).

    **Who**: anyone, without an account (the public, at most a few objections per address: 429
    with `Retry-After`), objecting today (Asia/Shanghai); or the bureau recording a paper objection
    on the objector's behalf with `business_date` the day it was received (postmark or stamp). An
    objection received outside the window is recorded with `admissible: false` and does not block
    the notice; one recorded after the notice is flagged until resolved.
    **Answers** 200: to the public the receipt (`objection_id`, `admissible`, `received_on`,
    `position`), never the platform's file; to the bureau the platform's summary with
    `objection_id` and `admissible`.
    """
    # The one write open to anyone, and the hottest; the container is read from the app, not
    # solved as one more dependency.
    c: Container = request.app.state.container
    if who.role is Role.BUREAU or not (c.app.committer.queues_commands and c.settings.is_sqlite):
        # The bureau's paper objection (answered with the platform's file, read from the store)
        # and PostgreSQL (no group commit; its rate limit counts in the store): the blocking part
        # is handed to a command thread (api.command_threads), cheaper for the event loop than a
        # plain def route.
        return await run_blocking(_objection, platform_id, body, request, c, who)
    # The public on SQLite: nothing here blocks (the rate limit counts in memory, the key's
    # scope is a hash) and the command is awaited in its group commit, no thread waiting for it.
    act = _public_act(request)
    command = c.app.object_command(platform_id, act, objector_name=body.objector_name, contact=body.contact,
                                   content=body.content, idempotency=idempotency_for(c, request, body, PUBLIC))
    result = await c.app.committer.run_async(command)
    note_recorded(request, "object", result)
    return receipt_response(c, result, act)


def _objection(platform_id: UUID, body: s.ObjectionBody, request: Request, c: Container,
               who: Principal) -> JSONResponse:
    if who.role is Role.BUREAU:
        act = paper_act(who, PUBLIC.actor_id, Role.PUBLIC, body.business_date)
    else:
        # Whoever else objects does so as a member of the public: the token's identity is not
        # recorded (the host unit reads its history), and the answer is the receipt alone.
        who = PUBLIC
        act = _public_act(request)
    return execute(c, request, body, c.app.object, principal=who, platform_id=platform_id,
                   if_match=False, owner_only=False, act=act,
                   objector_name=body.objector_name, contact=body.contact, content=body.content,
                   receipt_only=who.role is Role.PUBLIC)


def _public_act(request: Request) -> Act:
    """An objection of the public, today, within the per-address limit of the public page's form:
    objections are the one write open to anyone, so one address cannot flood the bureau's queue."""
    wait = limiter_for(request).hit(client_address(request))
    if wait is not None:
        raise ProblemException(429, "rate_limited", f"too many objections from this address; retry in "
                               f"{int(wait)} s", headers={"Retry-After": str(int(wait))},
                               params={"seconds": int(wait)})
    return make_act(PUBLIC, None)


@_platform_route("/platforms/{platform_id}/objections/{objection_id}/resolution",
                 "Resolve an objection (异议处理, Art. 8(6))")
def resolution(platform_id: PlatformId, objection_id: ObjectionId,
               body: s.ObjectionResolutionBody, request: Request, c: Wired, who: Bureau,
               _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    """异议处理 The bureau resolves an objection with the vice-mayor's decision (Art. 8(6)).

    **Who**: the bureau, after verifying it with finance. `upheld` rescinds the approval (the
    platform is `rejected`, its commitment released, its subfield freed); `dismissed` leaves it.
    Not dated before the objection's receipt (409 `resolution_before_objection`). **Answers** 200
    with the platform's summary and `position`.
    """
    return execute(c, request, body, c.app.resolve_objection, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.vice_mayor_decision_ref),
                   objection_id=objection_id, upheld=body.outcome == "upheld",
                   handling_opinion=body.handling_opinion, vice_mayor_decision_ref=body.vice_mayor_decision_ref)


# ---------------------------------------------------------------------------- Art. 8(7)
@_platform_route("/platforms/{platform_id}/notice", "Joint notice (行文下达, Art. 8(7))")
def notice(platform_id: PlatformId, body: s.NoticeBody, request: Request, c: Wired, who: Bureau,
           _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    """行文下达 The joint notice of the bureau and finance (Art. 8(7)).

    **Who**: the bureau, only after the publicity window has closed and every admissible objection
    is resolved (409 otherwise). **Answers** 200 with the platform's summary (`status`
    `notified`) and `position`.
    """
    return execute(c, request, body, c.app.issue_notice, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.document_ref))


@_platform_route("/platforms/{platform_id}/task-book", "Sign the task book (建设任务书, Art. 8(7), 9(1))")
def task_book(platform_id: PlatformId, body: s.TaskBookBody, request: Request, c: Wired, who: Bureau,
              _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    """建设任务书 The bureau and the host unit sign the construction task book (Art. 8(7), 9(1)).

    **Who**: the bureau, after the notice. The execution period is one year from `period_start`
    in principle (Art. 9(1)); another period needs `period_reason` (409 without it, and 409 with
    one for a one-year period). The acceptance application's deadline follows from the period.
    **Answers** 200 with the platform's summary (`status` `under_construction`, `task_book`) and
    `position`.
    """
    return execute(c, request, body, c.app.sign_task_book, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.task_book_ref),
                   indicators=[i.model_dump() for i in body.indicators], period_start=body.period_start,
                   period_end=body.period_end, period_reason=body.period_reason)


# ---------------------------------------------------------------------------- Art. 10-11
@_platform_route("/platforms/{platform_id}/major-changes", "Report a major change (重大变更, Art. 11)",
                 s.ChangeResponse)
def major_change(platform_id: PlatformId, body: s.MajorChangeBody, request: Request, c: Wired, who: Applicant,
                 _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    """重大变更 The host unit reports a major change (Art. 10-11).

    **Who**: the platform's applicant, today. Unit name, principal person, goals or content,
    indicators, or a major budget change; until the bureau decides, the acceptance review,
    recognition and funding wait (409 `change_pending`, Art. 11). A change of indicators after the
    acceptance review is 409 `task_book_judged`. **Answers** 200 with the platform's summary,
    `change_id` and `position`.
    """
    value = body.new_value if isinstance(body.new_value, str) else [i.model_dump() for i in body.new_value]
    return execute(c, request, body, c.app.report_change, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.document_ref), kind=ChangeKind(body.kind),
                   description=body.description, new_value=value)


@_platform_route("/platforms/{platform_id}/major-changes/{change_id}/decision",
                 "Decide a major change (变更决定, Art. 11)")
def change_decision(platform_id: PlatformId, change_id: ChangeId,
                    body: s.ChangeDecisionBody, request: Request, c: Wired, who: Bureau,
                    _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    """变更决定 The bureau decides a reported major change (Art. 11).

    **Who**: the bureau. An approved change takes effect from its decision; an approved change of
    content or indicators makes a new task book version. **Answers** 200 with the platform's
    summary and `position`.
    """
    return execute(c, request, body, c.app.decide_change, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.document_ref), change_id=change_id,
                   approved=body.approved, reasons=body.reasons)


# ---------------------------------------------------------------------------- Art. 9 验收
@_platform_route("/platforms/{platform_id}/acceptance-application", "Apply for acceptance (验收申请, Art. 9(1))")
def acceptance_application(platform_id: PlatformId, body: s.AcceptanceApplicationBody, request: Request,
                           c: Wired, who: Applicant, _key: IdempotencyKey = None,
                           _if: IfMatch = None) -> JSONResponse:
    """验收申请 The host unit applies for acceptance (Art. 9(1)).

    **Who**: the platform's applicant, today: within one month after the execution period ends, or
    early when the tasks are done early. After the deadline it is 409 `acceptance_deadline_passed`
    unless the bureau has admitted a late application. **Answers** 200 with the platform's
    summary (`status` `acceptance_applied`) and `position`.
    """
    return execute(c, request, body, c.app.apply_for_acceptance, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.document_ref), summary=body.summary)


@_platform_route("/platforms/{platform_id}/acceptance-review", "Acceptance meeting (验收, Art. 9(2)-(3))")
def acceptance_review(platform_id: PlatformId, body: s.AcceptanceReviewBody, request: Request, c: Wired,
                      who: Agency, _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    """验收 The acceptance meeting's conclusion (Art. 9(2)-(3)).

    **Who**: the service agency, which convenes the on-site expert meeting. The task book's current
    version is the basis: each indicator's result and the use of the funds. `qualified` with
    indicators not achieved needs `justification` (409 `justification_required`; refused where
    nothing departs); `unqualified` terminates the project without money. **Answers** 200 with the
    platform's summary (`status` `qualified` or `terminated`) and `position`.
    """
    return execute(c, request, body, c.app.review_acceptance, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.document_ref), panel=list(body.panel),
                   indicator_results=[r.model_dump() for r in body.indicator_results],
                   funds_use_compliant=body.funds_use_compliant, qualified=body.conclusion == "qualified",
                   justification=body.justification)


@_platform_route("/platforms/{platform_id}/high-tech-certificate",
                 "Record the renewed high-tech certificate (高新技术企业证书, Art. 7(1))")
def certificate(platform_id: PlatformId, body: s.CertificateBody, request: Request, c: Wired, who: Bureau,
                _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    """高新技术企业证书 The bureau records the host unit's renewed high-tech certificate (Art. 7(1)).

    **Who**: the bureau. The certificate must be valid when the platform is recognised (409
    `high_tech_certificate_expired` otherwise, Art. 7(1)). **Answers** 200 with the platform's
    summary and `position`.
    """
    return execute(c, request, body, c.app.renew_certificate, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.document_ref), number=body.number,
                   valid_until=body.valid_until)


@_platform_route("/platforms/{platform_id}/late-acceptance-admission",
                 "Admit a late acceptance application (逾期验收申请受理, Art. 9(1))")
def late_acceptance_admission(platform_id: PlatformId, body: s.LateAcceptanceBody, request: Request, c: Wired,
                              who: Bureau, _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    """逾期验收申请受理 The bureau admits a late acceptance application (Art. 9(1)).

    **Who**: the bureau, after the missed deadline was recorded (409
    `acceptance_deadline_not_missed` before; `late_acceptance_already_admitted` a second time),
    with its justification; the host unit then applies (`/acceptance-application`). **Answers** 200
    with the platform's summary (`late_acceptance`) and `position`.
    """
    return execute(c, request, body, c.app.admit_late_acceptance, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.document_ref), justification=body.justification)


@_platform_route("/platforms/{platform_id}/recognition", "Recognise and award the plaque (授牌, Art. 9(3))")
def recognition(platform_id: PlatformId, body: s.RecognitionBody, request: Request, c: Wired, who: Bureau,
                _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    """认定授牌 The bureau recognises a qualified platform and awards the plaque (Art. 9(3)).

    **Who**: the bureau, after a qualified acceptance, with no undecided change (409
    `change_pending`), no unresolved flagged objection (409 `objections_unresolved`) and a valid
    high-tech certificate (Art. 7(1)). **Answers** 200 with the platform's summary (`status`
    `recognized`) and `position`.
    """
    return execute(c, request, body, c.app.recognize, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.document_ref), plaque_no=body.plaque_no)


@_platform_route("/platforms/{platform_id}/funding", "Record the construction grant (拨付建设经费, Art. 9(3))")
def funding(platform_id: PlatformId, body: s.FundingBody, request: Request, c: Wired, who: Finance,
            _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    """拨付 Finance records the one-off construction grant (Art. 9(3)).

    **Who**: finance, with the joint document of bureau and finance, once, after recognition; the
    amount is the policy's (1,000,000.00 yuan under 长科发〔2021〕36号). **Answers** 200 with the
    platform's summary (`status` `funded`, `funding`) and `position`; the ledger shows the
    disbursement.
    """
    amount = Decimal(body.amount) if body.amount is not None else None
    return execute(c, request, body, c.app.fund, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.joint_document_ref), amount=amount)


@_platform_route("/platforms/{platform_id}/recovery", "Record money returned (追回资金, Art. 13)")
def recovery(platform_id: PlatformId, body: s.RecoveryBody, request: Request, c: Wired, who: Finance,
             _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    """追回 Finance records money the host unit returned (Art. 13).

    **Who**: finance, with its own document; at most what was disbursed. A revocation does not by
    itself claw money back: this is the separate act. **Answers** 200 with the platform's summary
    (`funding.recovered`) and `position`; the ledger shows the recovery.
    """
    return execute(c, request, body, c.app.recover_funds, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.document_ref), amount=Decimal(body.amount),
                   reasons=body.reasons)


# ---------------------------------------------------------------------------- ends
@_platform_route("/platforms/{platform_id}/revocation", "Revoke (撤销, Art. 13)")
def revocation(platform_id: PlatformId, body: s.RevocationBody, request: Request, c: Wired, who: Bureau,
               _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    """撤销 The bureau revokes a platform (Art. 13).

    **Who**: the bureau, on a ground of Art. 13 (cannot fulfil the host unit's duties, or serious
    adverse social impact) with its document. Final; it frees the subfield. **Answers** 200 with the
    platform's summary (`status` `revoked`) and `position`.
    """
    return execute(c, request, body, c.app.revoke, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.document_ref),
                   ground=RevocationGround(body.ground), reasons=body.reasons)


@_platform_route("/platforms/{platform_id}/withdrawal", "Withdraw (撤回)")
def withdrawal(platform_id: PlatformId, body: s.ReasonsBody, request: Request, c: Wired, who: Applicant,
               _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    """撤回 The host unit withdraws its platform.

    **Who**: the platform's applicant, today, before the acceptance review. A commitment already made is
    released and the subfield freed (Art. 5). **Answers** 200 with the platform's summary (`status`
    `withdrawn`) and `position`.
    """
    return execute(c, request, body, c.app.withdraw, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.document_ref), reasons=body.reasons)


@_platform_route("/platforms/{platform_id}/termination", "Terminate (终止, Art. 9(1))")
def termination(platform_id: PlatformId, body: s.TerminationBody, request: Request, c: Wired, who: Bureau,
                _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    """终止 The bureau terminates a project (Art. 9(1)).

    **Who**: the bureau, on a ground of the closed list with the decision's document (文号) and
    reasons: `acceptance_deadline_missed` once the miss is recorded, `task_book_not_signed` before
    the task book, `conditions_lost`, `host_unit_request`, `force_majeure` (`unqualified` is
    recorded by the acceptance review itself). The commitment is released with the document.
    **Answers** 200 with the platform's summary (`status` `terminated`, `termination`) and
    `position`.
    """
    return execute(c, request, body, c.app.terminate, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.document_ref), ground=TerminationGround(body.ground),
                   reasons=body.reasons)


__all__ = ["router"]
