"""Importing a past programme from its archive (档案导入): ``platforms import`` and ``POST /imports``.

An archive is a JSON-lines file, one act a line, in calendar order (docs/IMPORT.md)::

    {"act": "approval", "platform": "P1", "actor": {"id": "bureau-1", "role": "bureau"},
     "business_date": "2022-09-01", "documents": ["党组会〔2022〕12号", "…", "…"], "data": {}}

``data`` is the body of the same command in docs/API.md, without ``business_date`` (the line's)
and without its document fields, which ``documents`` fills in order (:data:`ACTS`): each line
passes the same edge validation (:mod:`api.schemas`, :mod:`api.inputs`) and the same rules of
the domain as the live command. The archive names its platforms, objections and changes by its
own keys ("P1", "O1"); the importer maps them to the ids it creates.

Whole or nothing, in two phases. First every act runs against a registry in memory with the
same policies and calendar, seeded with what the real store holds that the archive's acts read
(the seats of its subfields, Art. 5; the subfields admitted by decision, Art. 4; its batch
references): every refusal is collected with its line, code and article. Any refusal, and
nothing is written (``--dry-run`` stops here in any case). Then the acts are recorded in the
real store between an ``ImportStarted`` and an ``ImportCompleted`` of the register of archive
imports (:mod:`aggregates.archive_imports`), each with an idempotency record keyed by the
archive's SHA-256 and its line: a re-run of a completed archive answers "already imported"
and records nothing; a run interrupted midway is resumed by running the same file again (by the
same clerk), its recorded lines answered from their records, never recorded twice.

Who acted is the line's actor: the bureau's, the service agency's and finance's acts are theirs,
recorded from the paper file with their business date; an applicant's, an expert's (the score
sheets of a meeting) or the public's (a posted objection) is recorded on their behalf by the
importing clerk (``recorded_by``), as a clerk records a paper act live.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, ValidationError

from aggregates.application import CommandResult, Idempotency, RegistryApp
from aggregates.batch import PublicityBatch
from aggregates.credit_code import validate_credit_code
from aggregates.errors import DomainError, InvalidInput, RuleViolation
from aggregates.policy import subfield_key
from aggregates.seat import SubfieldSeat
from aggregates.store import StoreConfig
from aggregates.subfield_register import SubfieldRegister
from aggregates.values import SELF_DATED, Act, ChangeKind, RevocationGround, Role, TerminationGround

from . import schemas as s
from .auth import PUBLIC
from .inputs import IsoDate, line

__all__ = ["ACTS", "ArchiveRefused", "ImportSummary", "Refusal", "abandon_archive", "import_archive"]

MAX_LINE_BYTES = 1_000_000  # one act; an application with its achievements is a few kilobytes

Key = Annotated[str, line(64, min_length=1)]
RoleName = Literal["applicant", "service_agency", "expert", "bureau", "finance", "public"]


class Actor(s.Body):
    id: s.Short = Field(description="The actor's id: the account, a host unit's credit code, 'public'")
    role: RoleName


class ArchiveLine(s.Body):
    """One line of an archive: one act."""

    act: str = Field(max_length=40)
    platform: Key | None = Field(None, description="The archive's key of the platform (apply: the key it creates)")
    ref: Key | None = Field(None, description="The archive's key of the objection or change the act creates "
                            "(objection, major_change) or decides (objection_resolution, change_decision)")
    actor: Actor
    business_date: IsoDate
    documents: list[s.DocRef] = Field(default_factory=list, max_length=10)
    data: dict[str, Any] = Field(default_factory=dict)


class ArchivePublicityBody(s.CommandBody):
    """A publicity batch of the archive: its platforms by the archive's keys."""

    batch_ref: s.DocRef
    media: s.Short
    start_date: IsoDate
    platforms: list[Key] = Field(min_length=1, max_length=100)


class ArchiveAcceptanceApplicationBody(s.WithDocumentRef):
    summary: s.LongText


# ---------------------------------------------------------------------------- refusals and answers
@dataclass(frozen=True)
class Refusal:
    """Why one line of the archive cannot be recorded."""

    line: int
    code: str
    message: str
    article: str | None = None
    field: str | None = None
    act: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class ArchiveRefused(Exception):
    """An archive refused, with its summary: every refusal found and nothing recorded, or (outcome
    ``interrupted``) the refusal that stopped the recording, the import left open."""

    def __init__(self, summary: ImportSummary) -> None:
        super().__init__(f"{len(summary.refusals)} refusal(s)")
        self.summary = summary


@dataclass
class ImportSummary:
    """What an import did (or a dry run would do)."""

    archive_sha256: str
    lines: int
    # imported; resumed (an interrupted import finished); already_imported (nothing recorded);
    # valid (a dry run found no refusal); refused (nothing recorded); interrupted (the store
    # changed between the phases: the import stays open, to be resumed by running it again)
    outcome: Literal["imported", "resumed", "already_imported", "valid", "refused", "interrupted"]
    platforms: int = 0
    batches: int = 0
    events: int = 0  # the domain events the archive's acts record (counted in the validation)
    recorded: int = 0  # acts recorded by this run
    already_recorded: int = 0  # acts an interrupted run had recorded, answered from their records
    refusals: list[Refusal] = field(default_factory=list)
    platform_ids: dict[str, str] = field(default_factory=dict)
    position: int | None = None

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "refusals"}
        data["refusals"] = [r.as_dict() for r in self.refusals]
        return data


# ---------------------------------------------------------------------------- the acts
@dataclass
class _Run:
    """One pass over the archive on one registry: the archive's keys → the ids it created."""

    app: RegistryApp
    clerk: Act  # the importing clerk's act of today, whose day and role date and sign the rest
    sha: str | None  # the archive's hash: acts carry idempotency keys (the real store only)
    platforms: dict[str, UUID] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # objections and changes
    batches: dict[str, UUID] = field(default_factory=dict)
    replayed: int = 0
    recorded: int = 0


@dataclass(frozen=True)
class ActSpec:
    """An act of the archive: its command body, who may do it, the body's document fields that
    the line's ``documents`` fill (in order), and the call."""

    body: type[BaseModel]
    roles: frozenset[Role]
    documents: tuple[str, ...]
    call: Callable[[_Run, ArchiveLine, Any, Act, dict[str, Any]], CommandResult]


def _pid(run: _Run, ln: ArchiveLine) -> UUID:
    if ln.platform is None:
        raise InvalidInput("platform_required", f"the act {ln.act} names its platform's key", "platform")
    pid = run.platforms.get(ln.platform)
    if pid is None:
        raise InvalidInput("unknown_platform", f"no platform {ln.platform!r} applied earlier in the archive",
                           "platform")
    return pid


def _ref(run: _Run, ln: ArchiveLine, what: Literal["objection", "change"]) -> str:
    if ln.ref is None or ln.ref not in run.refs:
        raise InvalidInput("unknown_objection" if what == "objection" else "unknown_change",
                           f"no {what} {ln.ref!r} recorded earlier in the archive", "ref")
    return run.refs[ln.ref]


def _keep_ref(run: _Run, ln: ArchiveLine, value: str) -> None:
    if ln.ref is not None:
        run.refs[ln.ref] = value


def _apply(run: _Run, ln: ArchiveLine, b: s.ApplyBody, act: Act, kw: dict[str, Any]) -> CommandResult:
    if ln.platform is None:
        raise InvalidInput("platform_required", "an application names the archive's key of its platform",
                           "platform")
    if ln.platform in run.platforms:
        raise InvalidInput("platform_key_taken", f"the archive applied for {ln.platform!r} already", "platform")
    code = validate_credit_code(b.host_unit.credit_code, "host_unit.credit_code")
    if act.actor_id != code:
        raise InvalidInput("not_your_host_unit", "the applicant is the host unit: its id is the host unit's "
                           "credit code", "actor.id")
    result = run.app.apply(act, name=b.name, subfield=b.subfield, host_unit=b.host_unit.model_dump() | {
        "credit_code": code}, co_builders=[c.model_dump(exclude_none=True) for c in b.co_builders],
        commitments=b.commitments, achievements=[a.model_dump() for a in b.achievements],
        basic_conditions=b.basic_conditions.model_dump(), **kw)
    run.platforms[ln.platform] = result.aggregate_id
    return result


def _publicize(run: _Run, ln: ArchiveLine, b: ArchivePublicityBody, act: Act, kw: dict[str, Any]) -> CommandResult:
    ids = []
    for i, key in enumerate(b.platforms):
        if key not in run.platforms:
            raise InvalidInput("unknown_platform", f"no platform {key!r} applied earlier in the archive",
                               f"data.platforms[{i}]")
        ids.append(run.platforms[key])
    result = run.app.publicize(act, batch_ref=b.batch_ref, media=b.media, start_date=b.start_date,
                               platform_ids=ids, **kw)
    run.batches[b.batch_ref] = result.aggregate_id
    return result


def _object(run: _Run, ln: ArchiveLine, b: s.ObjectionBody, act: Act, kw: dict[str, Any]) -> CommandResult:
    if act.actor_id != PUBLIC.actor_id:
        # As a paper objection recorded live: the objector is named in the objection, and the
        # act is the public's, never a person's id in the log.
        raise InvalidInput("public_actor", f"an objection is the act of {PUBLIC.actor_id!r}; its objector is "
                           "named in data.objector_name", "actor.id")
    result = run.app.object(_pid(run, ln), act, objector_name=b.objector_name, contact=b.contact,
                            content=b.content, **kw)
    _keep_ref(run, ln, str(result.extra["objection_id"]))
    return result


def _report_change(run: _Run, ln: ArchiveLine, b: s.MajorChangeBody, act: Act, kw: dict[str, Any]) -> CommandResult:
    value = b.new_value if isinstance(b.new_value, str) else [i.model_dump() for i in b.new_value]
    result = run.app.report_change(_pid(run, ln), act, kind=ChangeKind(b.kind), description=b.description,
                                   new_value=value, **kw)
    _keep_ref(run, ln, str(result.extra["change_id"]))
    return result


def _on(method: str, **fields: Callable[[Any], Any]) -> Callable[[_Run, ArchiveLine, Any, Act, dict[str, Any]],
                                                                   CommandResult]:
    """A command on the line's platform: ``fields`` make its arguments from the body."""

    def call(run: _Run, ln: ArchiveLine, b: Any, act: Act, kw: dict[str, Any]) -> CommandResult:
        args = {name: make(b) for name, make in fields.items()}
        return getattr(run.app, method)(_pid(run, ln), act, **args, **kw)

    return call


def _intake(run: _Run, ln: ArchiveLine, b: s.IntakeBody, act: Act, kw: dict[str, Any]) -> CommandResult:
    return run.app.intake(_pid(run, ln), b.decision == "accepted", b.reasons, act, **kw)


def _inspect(run: _Run, ln: ArchiveLine, b: s.InspectionBody, act: Act, kw: dict[str, Any]) -> CommandResult:
    return run.app.inspect(_pid(run, ln), b.passed, b.findings, act, **kw)


def _resolve(run: _Run, ln: ArchiveLine, b: s.ObjectionResolutionBody, act: Act,
             kw: dict[str, Any]) -> CommandResult:
    return run.app.resolve_objection(_pid(run, ln), _ref(run, ln, "objection"), act, upheld=b.outcome == "upheld",
                                     handling_opinion=b.handling_opinion,
                                     vice_mayor_decision_ref=b.vice_mayor_decision_ref, **kw)


def _decide_change(run: _Run, ln: ArchiveLine, b: s.ChangeDecisionBody, act: Act,
                   kw: dict[str, Any]) -> CommandResult:
    return run.app.decide_change(_pid(run, ln), _ref(run, ln, "change"), act, approved=b.approved,
                                 reasons=b.reasons, **kw)


def _admit_subfield(run: _Run, ln: ArchiveLine, b: s.SubfieldAdmissionBody, act: Act,
                    kw: dict[str, Any]) -> CommandResult:
    return run.app.admit_subfield(act, name=b.name, reasons=b.reasons, policy_ref=b.policy, **kw)


BUREAU, AGENCY, FINANCE = frozenset({Role.BUREAU}), frozenset({Role.SERVICE_AGENCY}), frozenset({Role.FINANCE})
APPLICANT = frozenset({Role.APPLICANT})

# Every act an archive may hold, by the name its lines give; each mirrors one route of
# api.routes_commands (the same body, the same roles, the same act's documents).
ACTS: dict[str, ActSpec] = {
    "admit_subfield": ActSpec(s.SubfieldAdmissionBody, BUREAU, ("document_ref",), _admit_subfield),
    "apply": ActSpec(s.ApplyBody, APPLICANT, ("document_ref",), _apply),
    "intake": ActSpec(s.IntakeBody, AGENCY, ("document_ref",), _intake),
    "score_sheets": ActSpec(s.ScoreSheetsBody, frozenset({Role.SERVICE_AGENCY, Role.BUREAU}), ("meeting_ref",),
                            _on("record_score_sheets", sheets=lambda b: [x.model_dump() for x in b.sheets])),
    "inspection": ActSpec(s.InspectionBody, BUREAU, ("document_ref",), _inspect),
    "approval": ActSpec(s.ApprovalBody, BUREAU,
                        ("party_group_meeting_ref", "vice_mayor_approval_ref", "funding_plan_ref"),
                        _on("approve", party_group_meeting_ref=lambda b: b.party_group_meeting_ref,
                            vice_mayor_approval_ref=lambda b: b.vice_mayor_approval_ref,
                            funding_plan_ref=lambda b: b.funding_plan_ref,
                            subfield_exception=lambda b: b.subfield_exception)),
    "publicity": ActSpec(ArchivePublicityBody, BUREAU, ("batch_ref",), _publicize),
    "objection": ActSpec(s.ObjectionBody, frozenset({Role.PUBLIC}), (), _object),
    "objection_resolution": ActSpec(s.ObjectionResolutionBody, BUREAU, ("vice_mayor_decision_ref",), _resolve),
    "notice": ActSpec(s.NoticeBody, BUREAU, ("document_ref",), _on("issue_notice")),
    "task_book": ActSpec(s.TaskBookBody, BUREAU, ("task_book_ref",), _on(
        "sign_task_book", indicators=lambda b: [i.model_dump() for i in b.indicators],
        period_start=lambda b: b.period_start, period_end=lambda b: b.period_end,
        period_reason=lambda b: b.period_reason)),
    "major_change": ActSpec(s.MajorChangeBody, APPLICANT, ("document_ref",), _report_change),
    "change_decision": ActSpec(s.ChangeDecisionBody, BUREAU, ("document_ref",), _decide_change),
    "acceptance_application": ActSpec(ArchiveAcceptanceApplicationBody, APPLICANT, ("document_ref",),
                                      _on("apply_for_acceptance", summary=lambda b: b.summary)),
    "late_acceptance_admission": ActSpec(s.LateAcceptanceBody, BUREAU, ("document_ref",), _on(
        "admit_late_acceptance", justification=lambda b: b.justification)),
    "acceptance_review": ActSpec(s.AcceptanceReviewBody, AGENCY, ("document_ref",), _on(
        "review_acceptance", panel=lambda b: list(b.panel),
        indicator_results=lambda b: [r.model_dump() for r in b.indicator_results],
        funds_use_compliant=lambda b: b.funds_use_compliant, qualified=lambda b: b.conclusion == "qualified",
        justification=lambda b: b.justification)),
    "certificate": ActSpec(s.CertificateBody, BUREAU, ("document_ref",), _on(
        "renew_certificate", number=lambda b: b.number, valid_until=lambda b: b.valid_until)),
    "recognition": ActSpec(s.RecognitionBody, BUREAU, ("document_ref",), _on("recognize",
                                                                            plaque_no=lambda b: b.plaque_no)),
    "funding": ActSpec(s.FundingBody, FINANCE, ("joint_document_ref",), _on(
        "fund", amount=lambda b: Decimal(b.amount) if b.amount is not None else None)),
    "recovery": ActSpec(s.RecoveryBody, FINANCE, ("document_ref",), _on(
        "recover_funds", amount=lambda b: Decimal(b.amount), reasons=lambda b: b.reasons)),
    "revocation": ActSpec(s.RevocationBody, BUREAU, ("document_ref",), _on(
        "revoke", ground=lambda b: RevocationGround(b.ground), reasons=lambda b: b.reasons)),
    "withdrawal": ActSpec(s.ReasonsBody, APPLICANT, ("document_ref",), _on("withdraw", reasons=lambda b: b.reasons)),
    "termination": ActSpec(s.TerminationBody, BUREAU, ("document_ref",), _on(
        "terminate", ground=lambda b: TerminationGround(b.ground), reasons=lambda b: b.reasons)),
}


# ---------------------------------------------------------------------------- reading the file
@dataclass(frozen=True)
class _Parsed:
    number: int  # 1-based line number in the file
    raw: bytes
    line: ArchiveLine
    spec: ActSpec
    body: Any


def _validation_refusal(number: int, exc: ValidationError, prefix: str = "", act: str | None = None) -> Refusal:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error.get("loc", ()))
    where = f"{prefix}{where}" if where else (prefix.rstrip(".") or "line")
    return Refusal(number, "invalid_input", f"{where}: {error.get('msg', 'invalid input')}", field=where, act=act)


def parse(raw_lines: Iterable[bytes]) -> tuple[list[_Parsed], list[Refusal], int]:
    """Every line read and validated at the edge: the acts, the refusals, the count of lines.
    Blank lines are skipped (they are still counted, so refusals name the file's lines)."""
    parsed: list[_Parsed] = []
    refusals: list[Refusal] = []
    count = 0
    for number, raw in enumerate(raw_lines, start=1):
        count = number
        if not raw.strip():
            continue
        if len(raw) > MAX_LINE_BYTES:
            refusals.append(Refusal(number, "line_too_long", f"a line holds one act, at most {MAX_LINE_BYTES} bytes"))
            continue
        try:
            # A file saved by a spreadsheet or Notepad may open with a byte order mark.
            obj = json.loads(raw.decode("utf-8-sig" if number == 1 else "utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            refusals.append(Refusal(number, "malformed_json", f"the line is not one JSON object in UTF-8: {exc}"))
            continue
        try:
            ln = ArchiveLine.model_validate(obj)
        except ValidationError as exc:
            refusals.append(_validation_refusal(number, exc))
            continue
        spec = ACTS.get(ln.act)
        if spec is None:
            refusals.append(Refusal(number, "unknown_act", f"no act {ln.act!r}; expected one of: "
                                    + ", ".join(ACTS), field="act", act=ln.act))
            continue
        try:
            body = spec.body.model_validate(_body_input(ln, spec))
        except InvalidInput as exc:
            refusals.append(Refusal(number, exc.code, exc.message, field=exc.field, act=ln.act))
            continue
        except ValidationError as exc:
            refusals.append(_validation_refusal(number, exc, "data.", ln.act))
            continue
        parsed.append(_Parsed(number, raw, ln, spec, body))
    return parsed, refusals, count


def _body_input(ln: ArchiveLine, spec: ActSpec) -> dict[str, Any]:
    """The command body the line stands for: its ``data`` with the business date and, in order,
    the document fields from ``documents``."""
    if Role(ln.actor.role) not in spec.roles:
        raise InvalidInput("role_not_allowed", f"{ln.act} is an act of "
                           + " or ".join(sorted(r.value for r in spec.roles)) + f", not of {ln.actor.role}",
                           "actor.role")
    if len(ln.documents) > len(spec.documents):
        raise InvalidInput("too_many_documents", f"{ln.act} names at most {len(spec.documents)} document(s): "
                           + ", ".join(spec.documents), "documents")
    for name in ("business_date", *spec.documents):
        if name in ln.data:
            raise InvalidInput("field_of_the_line", f"{name} is given by the line ("
                               + ("business_date" if name == "business_date" else "documents") + "), not in data",
                               f"data.{name}")
    return {**ln.data, "business_date": ln.business_date.isoformat(),
            **{name: ref for name, ref in zip(spec.documents, ln.documents, strict=False)}}


# ---------------------------------------------------------------------------- running the acts
def _act_of(p: _Parsed, clerk: Act) -> Act:
    """The line's act: its actor's own past act, or, for one who acts for themselves online (a
    host unit, an expert, the public), their paper act recorded on their behalf by the clerk."""
    ln = p.line
    role = Role(ln.actor.role)
    refs = tuple(ln.documents)
    recorded_on = clerk.recorded_on
    if role in SELF_DATED:
        return Act(clerk.actor_id, clerk.role, ln.business_date, refs,
                   recorded_on=recorded_on).on_behalf_of(ln.actor.id, role)
    return Act(ln.actor.id, role, ln.business_date, refs, recorded_on=recorded_on)


def _run_line(run: _Run, p: _Parsed) -> Refusal | None:
    try:
        act = _act_of(p, run.clerk)
        kw: dict[str, Any] = {}
        if run.sha is not None:
            kw["idempotency"] = Idempotency(f"archive:{run.sha}:{p.number}", hashlib.sha256(p.raw).hexdigest())
        result = p.spec.call(run, p.line, p.body, act, kw)
    except DomainError as exc:
        return Refusal(p.number, exc.code, exc.message, getattr(exc, "article", None),
                       getattr(exc, "field", None), p.line.act)
    if result.replayed:
        run.replayed += 1
    else:
        run.recorded += 1
    return None


def _seed(memory: RegistryApp, real: RegistryApp, parsed: list[_Parsed]) -> None:
    """Copy into the memory registry what the real store holds that the archive's acts read
    besides their own platforms: the seats of its subfields (Art. 5), the registers of
    subfields admitted by decision (Art. 4), its batch references (Art. 8(6))."""
    ids: set[UUID] = {SubfieldRegister.create_id(p.policy) for p in real.policies.all()}
    for p in parsed:
        if p.line.act == "apply":
            name = p.body.subfield
            ids |= {SubfieldSeat.create_id(name), SubfieldSeat.create_id(subfield_key(name))}
            policy = real.policies.in_force(p.line.business_date) if _has_policy(real, p.line.business_date) else None
            if policy is not None:
                official = policy.listed_subfield(name, real.admitted_subfields(policy.policy))
                if official is not None:
                    ids.add(SubfieldSeat.create_id(official))
        elif p.line.act == "admit_subfield":
            ids.add(SubfieldSeat.create_id(subfield_key(p.body.name)))
        elif p.line.act == "publicity":
            ids.add(PublicityBatch.create_id(p.body.batch_ref))
    for aggregate_id in sorted(ids, key=str):
        events = list(real.events.get(aggregate_id))
        if events:
            memory.events.put(events)


def _has_policy(app: RegistryApp, day: date) -> bool:
    try:
        app.policies.in_force(day)
    except DomainError:
        return False
    return True


def _max_position(app: RegistryApp) -> int:
    return app.recorder.max_notification_id() or 0


def _validate(app: RegistryApp, parsed: list[_Parsed], clerk: Act, seeded: bool,
              progress: Callable[[int], None]) -> tuple[list[Refusal], int, _Run]:
    """Phase one: every act against a registry in memory; the refusals and the events counted."""
    memory = RegistryApp(StoreConfig("memory:"), app.policies, app.calendar)
    try:
        if seeded:
            _seed(memory, app, parsed)
        before = _max_position(memory)
        run = _Run(memory, clerk, None)
        refusals = []
        for p in parsed:
            refusal = _run_line(run, p)
            if refusal is not None:
                refusals.append(refusal)
            progress(1)
        return refusals, _max_position(memory) - before, run
    finally:
        memory.close()


def import_archive(app: RegistryApp, content: bytes, clerk: Act, *, dry_run: bool = False,
                   progress: Callable[[int], None] | None = None,
                   on_total: Callable[[int], None] | None = None) -> ImportSummary:
    """Import the archive ``content`` as the clerk of ``clerk`` (an act of the bureau, dated
    today). Returns the summary; raises :class:`ArchiveRefused` (with
    every refusal) when any line is refused, having written nothing. ``on_total`` is told the
    number of steps (each act is run twice: validated, then recorded) and ``progress`` each."""
    if clerk.role is not Role.BUREAU:
        raise InvalidInput("clerk_role_not_allowed", "archives are imported by a clerk of the bureau", "clerk")
    step = progress or (lambda _n: None)
    sha = hashlib.sha256(content).hexdigest()
    parsed, refusals, count = parse(content.splitlines())
    summary = ImportSummary(sha, count, "refused", refusals=refusals)
    if refusals:
        raise ArchiveRefused(summary)
    if not parsed:
        summary.refusals = [Refusal(0, "archive_empty", "the archive holds no act")]
        raise ArchiveRefused(summary)
    earlier = app.archive_import(sha)
    if earlier is not None and earlier["completed_on"] is not None:
        summary.outcome = "already_imported"
        summary.platform_ids = dict(earlier["platforms"])
        summary.platforms, summary.batches = len(earlier["platforms"]), len(earlier["batches"])
        summary.already_recorded = int(earlier["acts"])
        return summary
    if earlier is not None and earlier.get("abandoned_on") is not None:
        raise RuleViolation("archive_import_abandoned",
                            f"the import of this archive was abandoned on {earlier['abandoned_on']}: "
                            f"{earlier['abandon_reasons']}; what it recorded stands")
    if earlier is not None and earlier["clerk"] != clerk.actor_id:
        raise RuleViolation("archive_import_of_another_clerk",
                            f"the import of this archive was started by {earlier['clerk']} and interrupted; "
                            "the same clerk resumes it")
    if on_total is not None:
        on_total(len(parsed) * (1 if dry_run else 2))
    # A resumed import was validated against the store as it stood when it started; the seats
    # and batches it holds now are partly its own, so it is validated on its own.
    refusals, events, checked = _validate(app, parsed, clerk, seeded=earlier is None, progress=step)
    summary.refusals, summary.events = refusals, events
    summary.platforms, summary.batches = len(checked.platforms), len(checked.batches)
    if refusals:
        raise ArchiveRefused(summary)
    if dry_run:
        summary.outcome = "valid"
        return summary
    app.start_import(clerk, archive_sha256=sha, lines=len(parsed))
    run = _Run(app, clerk, sha)
    for p in parsed:
        refusal = _run_line(run, p)
        if refusal is not None:
            # The store changed between the phases (a live command took a seat, a batch
            # reference): the import stays open, and resumes from here once that is settled.
            summary.outcome, summary.refusals = "interrupted", [refusal]
            summary.recorded, summary.already_recorded = run.recorded, run.replayed
            raise ArchiveRefused(summary)
        step(1)
    done = app.complete_import(clerk, archive_sha256=sha, platforms={k: str(v) for k, v in run.platforms.items()},
                               batches={k: str(v) for k, v in run.batches.items()}, acts=len(parsed))
    summary.outcome = "resumed" if earlier is not None else "imported"
    summary.recorded, summary.already_recorded = run.recorded, run.replayed
    summary.platform_ids = {k: str(v) for k, v in run.platforms.items()}
    summary.position = done.position
    return summary


def abandon_archive(app: RegistryApp, content: bytes, clerk: Act, reasons: str) -> str:
    """Give up the interrupted import of the archive ``content`` (refused unless one is
    running): the acts it recorded stand and the deadline watch stops waiting for it. Returns
    the archive's SHA-256."""
    if clerk.role is not Role.BUREAU:
        raise InvalidInput("clerk_role_not_allowed", "archives are imported by a clerk of the bureau", "clerk")
    sha = hashlib.sha256(content).hexdigest()
    app.abandon_import(clerk, archive_sha256=sha, reasons=reasons)
    return sha
