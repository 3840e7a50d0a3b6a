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

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.responses import JSONResponse

from aggregates.clock import today_in_shanghai
from aggregates.credit_code import validate_credit_code
from aggregates.values import ChangeKind, RevocationGround, Role, TerminationGround
from projections.views import jsonable

from . import schemas as s
from .auth import PUBLIC, Principal
from .bootstrap import Container
from .commands_support import execute, idempotency_of, make_act, note_recorded, paper_act
from .deps import get_container, public_or_principal, require_roles
from .errors import ProblemException, problem_responses
from .page_security import client_address, limiter_for
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
PlatformId = Annotated[UUID, Path(description="The platform's id")]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200,
                                              description="Makes a retry return the first answer")]
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=20,
                                       description="The platform version the client saw; 412 if stale")]

ERRORS = problem_responses(400, 401, 403, 404, 409, 412, 413, 422, 503)
CREATE_ERRORS = problem_responses(400, 401, 403, 409, 413, 422, 503)


def _platform_route(path: str, summary: str, model: type = s.CommandResponse):  # noqa: ANN202
    return router.post(path, summary=summary, response_model=model, responses=ERRORS)


# ---------------------------------------------------------------------------- Art. 8(1) 申请
@router.post("/platforms", status_code=201, summary="Apply (申请, Art. 8(1))", response_model=s.CommandResponse,
             responses=CREATE_ERRORS)
def apply(body: s.ApplyBody, request: Request, c: Wired, who: ApplicantOrClerk,
          _key: IdempotencyKey = None) -> JSONResponse:
    """A host unit applies for one subfield, today; the host unit's credit code must be the
    caller's. The service agency or the bureau records a paper application handed in at the
    window on the host unit's behalf: ``business_date`` is the day it was received and
    ``document_ref`` the dossier's reference, both required; the host unit is the actor and the
    clerk its recorder."""
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
    """Art. 4 ends its list with "等": the bureau admits a further subfield by a decision with its
    document; from then on it is applied for like the listed ones, one platform each (Art. 5)."""
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
    return execute(c, request, body, c.app.intake, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.document_ref),
                   accepted=body.decision == "accepted", reasons=body.reasons)


@_platform_route("/platforms/{platform_id}/scores", "Expert scoring (评审, Art. 8(3))")
def score(platform_id: PlatformId, body: s.ScoresBody, request: Request, c: Wired, who: Expert,
          _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    """One expert scores once; an expert affiliated with the host unit or a co-builder must recuse."""
    return execute(c, request, body, c.app.score, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date), scores=body.scores,
                   comment=body.comment, expert_affiliation=who.credit_code)


@_platform_route("/platforms/{platform_id}/score-sheets", "Record a review meeting's score sheets (评审, Art. 8(3))")
def score_sheets(platform_id: PlatformId, body: s.ScoreSheetsBody, request: Request, c: Wired, who: Clerk,
                 _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    """The service agency or the bureau records the score sheets signed at a review meeting, on
    the experts' behalf, dated on the meeting's day with its reference: each names its expert and
    the expert's unit and is checked as an expert scoring online (once each, recusal, rubric);
    all are recorded or none."""
    return execute(c, request, body, c.app.record_score_sheets, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.meeting_ref),
                   sheets=[sheet.model_dump() for sheet in body.sheets])


@_platform_route("/platforms/{platform_id}/inspection", "Site inspection (考察, Art. 8(4))")
def inspection(platform_id: PlatformId, body: s.InspectionBody, request: Request, c: Wired, who: Bureau,
               _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    return execute(c, request, body, c.app.inspect, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.document_ref),
                   passed=body.passed, findings=body.findings)


@_platform_route("/platforms/{platform_id}/approval", "Approval (审定, Art. 8(5), Art. 5)")
def approval(platform_id: PlatformId, body: s.ApprovalBody, request: Request, c: Wired, who: Bureau,
             _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
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
    """Publishes the batch in the media; each platform's window is computed from the calendar."""
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
def objection(platform_id: PlatformId, body: s.ObjectionBody, request: Request, c: Wired,
              who: Annotated[Principal, Depends(public_or_principal)],
              _key: IdempotencyKey = None) -> JSONResponse:
    """Anyone may object, without an account. The bureau records a paper objection on the
    objector's behalf with the date it was received (postmark or stamp); everyone else objects
    today (Asia/Shanghai). An objection received outside the window is recorded with
    ``admissible: false`` and does not block the notice."""
    if who.role is Role.BUREAU:
        act = paper_act(who, PUBLIC.actor_id, Role.PUBLIC, body.business_date)
    else:
        # Whoever else objects does so as a member of the public: the token's identity is not
        # recorded (the host unit reads its history), and the answer is the receipt alone.
        who = PUBLIC
        act = make_act(who, None)
        # The same per-address limit as the public page's form: objections are the one write
        # open to anyone, so one address cannot flood the bureau's queue.
        wait = limiter_for(request).hit(client_address(request))
        if wait is not None:
            raise ProblemException(429, "rate_limited", f"too many objections from this address; retry in "
                                   f"{int(wait)} s", headers={"Retry-After": str(int(wait))},
                                       params={"seconds": int(wait)})
    return execute(c, request, body, c.app.object, principal=who, platform_id=platform_id,
                   if_match=False, owner_only=False, act=act,
                   objector_name=body.objector_name, contact=body.contact, content=body.content,
                   receipt_only=who.role is Role.PUBLIC)


@_platform_route("/platforms/{platform_id}/objections/{objection_id}/resolution",
                 "Resolve an objection (异议处理, Art. 8(6))")
def resolution(platform_id: PlatformId, objection_id: Annotated[str, Path(max_length=20)],
               body: s.ObjectionResolutionBody, request: Request, c: Wired, who: Bureau,
               _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    return execute(c, request, body, c.app.resolve_objection, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.vice_mayor_decision_ref),
                   objection_id=objection_id, upheld=body.outcome == "upheld",
                   handling_opinion=body.handling_opinion, vice_mayor_decision_ref=body.vice_mayor_decision_ref)


# ---------------------------------------------------------------------------- Art. 8(7)
@_platform_route("/platforms/{platform_id}/notice", "Joint notice (行文下达, Art. 8(7))")
def notice(platform_id: PlatformId, body: s.NoticeBody, request: Request, c: Wired, who: Bureau,
           _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    return execute(c, request, body, c.app.issue_notice, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.document_ref))


@_platform_route("/platforms/{platform_id}/task-book", "Sign the task book (建设任务书, Art. 8(7), 9(1))")
def task_book(platform_id: PlatformId, body: s.TaskBookBody, request: Request, c: Wired, who: Bureau,
              _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    return execute(c, request, body, c.app.sign_task_book, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.task_book_ref),
                   indicators=[i.model_dump() for i in body.indicators], period_start=body.period_start,
                   period_end=body.period_end, period_reason=body.period_reason)


# ---------------------------------------------------------------------------- Art. 10-11
@_platform_route("/platforms/{platform_id}/major-changes", "Report a major change (重大变更, Art. 11)",
                 s.ChangeResponse)
def major_change(platform_id: PlatformId, body: s.MajorChangeBody, request: Request, c: Wired, who: Applicant,
                 _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    value = body.new_value if isinstance(body.new_value, str) else [i.model_dump() for i in body.new_value]
    return execute(c, request, body, c.app.report_change, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.document_ref), kind=ChangeKind(body.kind),
                   description=body.description, new_value=value)


@_platform_route("/platforms/{platform_id}/major-changes/{change_id}/decision",
                 "Decide a major change (Art. 11)")
def change_decision(platform_id: PlatformId, change_id: Annotated[str, Path(max_length=20)],
                    body: s.ChangeDecisionBody, request: Request, c: Wired, who: Bureau,
                    _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    return execute(c, request, body, c.app.decide_change, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.document_ref), change_id=change_id,
                   approved=body.approved, reasons=body.reasons)


# ---------------------------------------------------------------------------- Art. 9 验收
@_platform_route("/platforms/{platform_id}/acceptance-application", "Apply for acceptance (验收申请, Art. 9(1))")
def acceptance_application(platform_id: PlatformId, body: s.AcceptanceApplicationBody, request: Request,
                           c: Wired, who: Applicant, _key: IdempotencyKey = None,
                           _if: IfMatch = None) -> JSONResponse:
    return execute(c, request, body, c.app.apply_for_acceptance, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.document_ref), summary=body.summary)


@_platform_route("/platforms/{platform_id}/acceptance-review", "Acceptance meeting (验收, Art. 9(2)-(3))")
def acceptance_review(platform_id: PlatformId, body: s.AcceptanceReviewBody, request: Request, c: Wired,
                      who: Agency, _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    return execute(c, request, body, c.app.review_acceptance, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.document_ref), panel=list(body.panel),
                   indicator_results=[r.model_dump() for r in body.indicator_results],
                   funds_use_compliant=body.funds_use_compliant, qualified=body.conclusion == "qualified",
                   justification=body.justification)


@_platform_route("/platforms/{platform_id}/high-tech-certificate",
                 "Record the renewed high-tech certificate (高新技术企业证书, Art. 7(1))")
def certificate(platform_id: PlatformId, body: s.CertificateBody, request: Request, c: Wired, who: Bureau,
                _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    """The host unit's certificate must be valid when the platform is recognised (Art. 7(1))."""
    return execute(c, request, body, c.app.renew_certificate, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.document_ref), number=body.number,
                   valid_until=body.valid_until)


@_platform_route("/platforms/{platform_id}/late-acceptance-admission",
                 "Admit a late acceptance application (Art. 9(1))")
def late_acceptance_admission(platform_id: PlatformId, body: s.LateAcceptanceBody, request: Request, c: Wired,
                              who: Bureau, _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    """After the recorded missed deadline, the bureau admits the host unit's late application
    with its justification; the host unit then applies (`/acceptance-application`)."""
    return execute(c, request, body, c.app.admit_late_acceptance, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.document_ref), justification=body.justification)


@_platform_route("/platforms/{platform_id}/recognition", "Recognise and award the plaque (授牌, Art. 9(3))")
def recognition(platform_id: PlatformId, body: s.RecognitionBody, request: Request, c: Wired, who: Bureau,
                _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    return execute(c, request, body, c.app.recognize, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.document_ref), plaque_no=body.plaque_no)


@_platform_route("/platforms/{platform_id}/funding", "Record the construction grant (Art. 9(3))")
def funding(platform_id: PlatformId, body: s.FundingBody, request: Request, c: Wired, who: Finance,
            _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    amount = Decimal(body.amount) if body.amount is not None else None
    return execute(c, request, body, c.app.fund, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.joint_document_ref), amount=amount)


@_platform_route("/platforms/{platform_id}/recovery", "Record money returned (Art. 13)")
def recovery(platform_id: PlatformId, body: s.RecoveryBody, request: Request, c: Wired, who: Finance,
             _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    return execute(c, request, body, c.app.recover_funds, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.document_ref), amount=Decimal(body.amount),
                   reasons=body.reasons)


# ---------------------------------------------------------------------------- ends
@_platform_route("/platforms/{platform_id}/revocation", "Revoke (撤销, Art. 13)")
def revocation(platform_id: PlatformId, body: s.RevocationBody, request: Request, c: Wired, who: Bureau,
               _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    return execute(c, request, body, c.app.revoke, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.document_ref),
                   ground=RevocationGround(body.ground), reasons=body.reasons)


@_platform_route("/platforms/{platform_id}/withdrawal", "Withdraw (撤回)")
def withdrawal(platform_id: PlatformId, body: s.ReasonsBody, request: Request, c: Wired, who: Applicant,
               _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    return execute(c, request, body, c.app.withdraw, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.document_ref), reasons=body.reasons)


@_platform_route("/platforms/{platform_id}/termination", "Terminate (终止, Art. 9(1))")
def termination(platform_id: PlatformId, body: s.TerminationBody, request: Request, c: Wired, who: Bureau,
                _key: IdempotencyKey = None, _if: IfMatch = None) -> JSONResponse:
    """On a ground of the closed list, with the decision's document (文号)."""
    return execute(c, request, body, c.app.terminate, principal=who, platform_id=platform_id,
                   act=make_act(who, body.business_date, body.document_ref), ground=TerminationGround(body.ground),
                   reasons=body.reasons)


__all__ = ["router"]
