"""The Platform aggregate (开放创新平台): one platform's life under 长科发〔2021〕36号.

Each public method is a command: it checks the rule of the article it cites, then records one
fact by calling an ``@event`` method. The ``@event`` methods only change state, so replaying the
stored events rebuilds the platform exactly, whatever today's date or policy files say.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from .credit_code import normalise_credit_code, validate_credit_code
from .errors import InvalidInput, NotFound, RuleViolation
from .policy import Policy
from .publicity_window import PublicityWindow, WindowState
from .recorded import RecordedAggregate
from .task_book import TaskBook, default_period_end
from .values import HOLDING, Act, ChangeKind, RevocationGround, Role, ScoreSheet, Stage, Status, TerminationGround

T = "platform-registry/Platform"
ZERO = Decimal("0.00")


class Platform(RecordedAggregate):
    """A platform from its application (申请) to its recognition (认定), funding or end."""

    TOPIC = T
    # An objection record is replaced whole when resolved, never changed in place, so a copy
    # handed to a command shares the records (RecordedAggregate.replaced_records).
    replaced_records = frozenset({"objections"})
    # Objections and score sheets keep the day they were received or signed, whenever a clerk
    # records them (docs/DOMAIN.md, "Time rules"): they do not hold later decisions' dates.
    received_submissions = frozenset({"Objected", "Scored"})

    class Event(RecordedAggregate.Event):
        TOPIC = f"{T}/Event"

    # Records that platforms applied for before these events existed lack: class defaults (not
    # annotated, which would make them constructor fields), so old snapshots still load.
    acceptance_missed = None  # type: dict[str, Any] | None  # Art. 9(1): the missed deadline
    late_acceptance = None  # type: dict[str, Any] | None  # the bureau's admission of a late application
    termination = None  # type: dict[str, Any] | None  # the ground and document of a termination

    # ------------------------------------------------------------------ Art. 8(1) 申请
    @classmethod
    def apply(
        cls,
        *,
        policy: Policy,
        name: str,
        subfield: str,
        host_unit: dict[str, Any],
        co_builders: list[dict[str, Any]],
        commitments: str,
        achievements: list[dict[str, str]],
        basic_conditions: dict[str, str],
        act: Act,
        admitted_subfields: tuple[str, ...] = (),
    ) -> Platform:
        """Art. 8(1): a host unit applies in its own name, identified by its unified social credit
        code (as are its co-builders: checked, and kept in one spelling); Art. 4 (the subfield
        must be one of the policy's, or one the bureau admitted under it by a recorded decision,
        ``admitted_subfields``: the article's "等"), Art. 6 (the basic conditions are recorded), Art. 7(1) (a
        high-tech enterprise with a certificate valid on the application date, committing
        continuous support) and Art. 7(2) (at least one achievement at pilot or industrial
        stage). A paper application handed in at the window is recorded by a clerk on the host
        unit's behalf, dated on the day it was received, and names its dossier (收件登记号)."""
        ref = policy.policy
        if act.recorded_by is not None and not act.document_refs:
            raise InvalidInput("reference_required",
                               "a paper application recorded on the host unit's behalf names its dossier "
                               "reference (Art. 8(1))", "document_ref")
        host_unit = {**host_unit, "credit_code": validate_credit_code(
            str(host_unit.get("credit_code", "")), "host_unit.credit_code")}
        co_builders = [
            {**builder, "credit_code": validate_credit_code(str(builder["credit_code"]),
                                                            f"co_builders[{i}].credit_code")}
            if builder.get("credit_code") else dict(builder)
            for i, builder in enumerate(co_builders)
        ]
        subfield = policy.canonical_subfield(subfield, admitted_subfields)
        certificate = host_unit.get("high_tech_certificate") or {}
        valid_until = certificate.get("valid_until")
        if not certificate.get("number") or valid_until is None:
            raise RuleViolation(
                "high_tech_certificate_missing",
                "the host unit must be a high-tech enterprise (高新技术企业) with a certificate",
                "Art. 7(1)",
                ref,
            )
        if valid_until < act.business_date:
            raise RuleViolation(
                "high_tech_certificate_expired",
                f"the high-tech enterprise certificate expired on {valid_until}, before the "
                f"application date {act.business_date}",
                "Art. 7(1)",
                ref, params={"valid_until": valid_until, "business_date": act.business_date},
            )
        if not commitments.strip():
            raise RuleViolation(
                "commitments_missing",
                "the host unit must commit continuous funding, talent and infrastructure",
                "Art. 7(1)",
                ref,
            )
        if not any(a.get("stage") in {s.value for s in Stage} for a in achievements):
            raise RuleViolation(
                "achievement_missing",
                "the host unit needs an AI achievement at pilot (中试) or industrial (产业化) stage",
                "Art. 7(2)",
                ref,
            )
        return cls._create_recorded(
            cls.Applied,  # type: ignore[attr-defined]  # the event class @event makes
            act=act,
            policy_ref=ref,
            name=name,
            subfield=subfield,
            host_unit=host_unit,
            co_builders=co_builders,
            commitments=commitments,
            achievements=achievements,
            basic_conditions=basic_conditions,
        )

    @event("Applied", topic=f"{T}/Applied")
    def __init__(
        self,
        policy_ref: str,
        name: str,
        subfield: str,
        host_unit: dict[str, Any],
        co_builders: list[dict[str, Any]],
        commitments: str,
        achievements: list[dict[str, str]],
        basic_conditions: dict[str, str],
        act: Act,
    ) -> None:
        self.policy_ref = policy_ref
        self.name = name
        self.subfield = subfield
        self.host_unit = dict(host_unit)
        self.co_builders = list(co_builders)
        self.commitments = commitments
        self.achievements = list(achievements)
        self.basic_conditions = dict(basic_conditions)
        self.principal: str | None = None
        self.goals: str | None = None
        self.budget: str | None = None
        self.status = Status.APPLIED.value
        self.stage_dates: dict[str, date] = {Status.APPLIED.value: act.business_date}
        self.intake_reasons: str | None = None
        self.scores: dict[str, dict[str, Any]] = {}
        self.review_result: Decimal | None = None
        self.review_method: str | None = None
        self.review_experts = 0
        self.inspection: dict[str, Any] | None = None
        self.approval: dict[str, Any] | None = None
        self.committed = ZERO
        self.publicity: dict[str, Any] | None = None
        self.objections: dict[str, dict[str, Any]] = {}
        self.notice_ref: str | None = None
        self.task_book: dict[str, Any] | None = None
        self.changes: dict[str, dict[str, Any]] = {}
        self.acceptance: dict[str, Any] | None = None
        self.recognition: dict[str, Any] | None = None
        self.disbursed = ZERO
        self.recovered = ZERO
        self.end_reason: str | None = None

    # ------------------------------------------------------------------ helpers
    @property
    def stage(self) -> Status:
        return Status(self.status)

    @property
    def host_credit_code(self) -> str:
        return str(self.host_unit["credit_code"])

    @property
    def holds_subfield(self) -> bool:
        """Art. 5: a platform holds its subfield from approval (审定) until it ends."""
        return self.stage in HOLDING

    @property
    def publicity_window(self) -> PublicityWindow | None:
        """Art. 8(6): the window as recorded at publicity (pending days stay ``None`` here; the
        rules count them once the calendar can, :class:`aggregates.rules.Rules`)."""
        return None if self.publicity is None else PublicityWindow.of(self.publicity)

    @property
    def signed_task_book(self) -> TaskBook | None:
        """Art. 8(7): the task book, once signed, with approved indicator changes (Art. 11)."""
        return None if self.task_book is None else TaskBook.of(self.task_book)

    def visible_to(self, role: Role, credit_code: str | None) -> bool:
        """Whether a reader in ``role`` (an applicant bound to ``credit_code``) may know of this
        platform: see :func:`visible_to`."""
        return visible_to(role, credit_code, self.host_credit_code, self.publicity is not None)

    def conflicts_with(self, credit_code: str) -> bool:
        """Art. 8(3) recusal (回避): whether an expert of the unit ``credit_code`` is affiliated with
        this platform's host unit or one of its co-builders."""
        conflicted = {self.host_credit_code} | {
            str(c.get("credit_code")) for c in self.co_builders if c.get("credit_code")
        }
        return normalise_credit_code(credit_code) in conflicted

    @property
    def outstanding_commitment(self) -> Decimal:
        """The funding plan's amount still committed and neither disbursed nor released."""
        return ZERO if self.disbursed else self.committed

    def _require(self, allowed: Iterable[Status], article: str, what: str) -> None:
        allowed = tuple(allowed)
        if self.stage not in allowed:
            names = ", ".join(s.value for s in allowed)
            raise RuleViolation(
                "wrong_stage",
                f"cannot {what}: the platform is '{self.status}', it must be {names}",
                article,
                self.policy_ref, params={"status": self.status},
            )

    def _enter(self, status: Status, act: Act) -> None:
        self.status = status.value
        self.stage_dates[status.value] = act.business_date

    # ------------------------------------------------------------------ Art. 8(2) 受理
    def review_formally(self, accepted: bool, reasons: str, act: Act) -> None:
        """Art. 8(2): the service agency's formal review (形式审查) accepts the application or
        does not, with reasons. Acceptance needs the Art. 6 basic conditions on file."""
        self.check_act(act)
        self._require([Status.APPLIED], "Art. 8(2)", "record the formal review")
        if accepted:
            missing = [k for k in ("technical_strength", "open_sharing", "service_mechanism")
                       if not str(self.basic_conditions.get(k, "")).strip()]
            if missing:
                raise RuleViolation(
                    "basic_conditions_missing",
                    f"the application lacks the basic conditions {', '.join(missing)}",
                    "Art. 6",
                    self.policy_ref, params={"missing": missing},
                )
            self._accepted(reasons=reasons, act=act)
        else:
            if not reasons.strip():
                raise InvalidInput("reasons_required", "a refusal must give reasons", "reasons")
            self._not_accepted(reasons=reasons, act=act)

    @event("Accepted", topic=f"{T}/Accepted")
    def _accepted(self, reasons: str, act: Act) -> None:
        self.intake_reasons = reasons
        self._enter(Status.ACCEPTED, act)

    @event("NotAccepted", topic=f"{T}/NotAccepted")
    def _not_accepted(self, reasons: str, act: Act) -> None:
        self.intake_reasons = reasons
        self.end_reason = reasons
        self._enter(Status.NOT_ACCEPTED, act)

    # ------------------------------------------------------------------ Art. 8(3) 评审
    def score(
        self, policy: Policy, expert_affiliation: str | None, scores: dict[str, Any], comment: str, act: Act
    ) -> None:
        """Art. 8(3): each expert scores once against the policy's rubric; an expert from the
        host unit or a co-builder must recuse (回避). The review completes when the policy's
        minimum number of experts has scored; the result follows the policy's method."""
        self._record_sheet(policy, ScoreSheet(act, expert_affiliation, scores, comment), "")
        self._complete_review_if_due(policy, act)

    def score_meeting(self, policy: Policy, sheets: Sequence[ScoreSheet]) -> None:
        """Art. 8(3): a review meeting's score sheets (评审会评分表), recorded by a clerk on the
        experts' behalf, each dated on the meeting's day. Each names its expert and the expert's
        unit, and is checked exactly as an expert scoring online (once each, recusal, rubric);
        the review then completes on every sheet of the meeting if they reach the minimum."""
        if not sheets:
            raise InvalidInput("sheets_required", "a review meeting records at least one score sheet", "sheets")
        for i, sheet in enumerate(sheets):
            self._record_sheet(policy, sheet, f"sheets[{i}].")
        self._complete_review_if_due(policy, sheets[-1].act)

    def _record_sheet(self, policy: Policy, sheet: ScoreSheet, field: str) -> None:
        act = sheet.act
        self.check_act(act)
        self._require([Status.ACCEPTED], "Art. 8(3)", "score")
        if act.actor_id in self.scores:
            raise RuleViolation(
                "already_scored", f"expert {act.actor_id} has already scored this application",
                "Art. 8(3)", self.policy_ref, params={"expert": act.actor_id},
            )
        affiliation, name = sheet.affiliation, None
        if act.recorded_by is not None:
            # A sheet keyed in by a clerk names whom it records: the expert and the expert's unit,
            # on which the recusal below turns, as the account's unit does online.
            name = (sheet.expert_name or "").strip()
            if not name:
                raise InvalidInput("expert_name_required", "a paper score sheet names its expert",
                                   f"{field}expert_name")
            affiliation = validate_credit_code(affiliation or "", f"{field}affiliation")
        if affiliation and self.conflicts_with(affiliation):
            raise RuleViolation(
                "expert_conflict_of_interest",
                f"the expert {act.actor_id} is affiliated with the host unit or a co-builder and must "
                "recuse (回避)",
                "Art. 8(3)",
                self.policy_ref, params={"expert": act.actor_id},
            )
        checked = policy.validate_scores(sheet.scores)
        total = sum(checked.values(), Decimal("0"))
        self._scored(scores=checked, total=total, comment=sheet.comment, act=act, expert_name=name,
                     affiliation=normalise_credit_code(affiliation) if affiliation else None)

    def _complete_review_if_due(self, policy: Policy, act: Act) -> None:
        if len(self.scores) < policy.min_experts:
            return
        totals = [s["total"] for s in self.scores.values()]
        # Dated on the latest sheet's day, whichever sheet was keyed in last: the inspection that
        # depends on the review may not precede any of them.
        latest = max(s["scored_on"] for s in self.scores.values())
        done = act if latest == act.business_date else replace(act, business_date=latest)
        self._review_completed(experts=len(totals), method=policy.scoring_method, result=policy.result(totals),
                               act=done)

    @event("Scored", topic=f"{T}/Scored")
    def _scored(self, scores: dict[str, Decimal], total: Decimal, comment: str, act: Act,
                expert_name: str | None = None, affiliation: str | None = None) -> None:
        # The expert's unit is kept as the recusal saw it, the name as a paper sheet gives it
        # (online the account names the expert); events stored before these fields lack them.
        self.scores[act.actor_id] = {"scores": dict(scores), "total": total, "comment": comment,
                                     "scored_on": act.business_date}

    @event("ReviewCompleted", topic=f"{T}/ReviewCompleted")
    def _review_completed(self, experts: int, method: str, result: Decimal, act: Act) -> None:
        self.review_result = result
        self.review_method = method
        self.review_experts = experts
        self._enter(Status.REVIEWED, act)

    # ------------------------------------------------------------------ Art. 8(4) 考察
    def inspect(self, passed: bool, findings: str, act: Act) -> None:
        """Art. 8(4): the bureau inspects on site after the expert review; a failed inspection
        ends the application (rejected)."""
        self.check_act(act)
        self._require([Status.REVIEWED], "Art. 8(4)", "record the inspection")
        self._inspected(passed=passed, findings=findings, act=act)

    @event("Inspected", topic=f"{T}/Inspected")
    def _inspected(self, passed: bool, findings: str, act: Act) -> None:
        self.inspection = {"passed": passed, "findings": findings, "date": act.business_date}
        if passed:
            self._enter(Status.INSPECTED, act)
        else:
            self.end_reason = "inspection failed"
            self._enter(Status.REJECTED, act)

    # ------------------------------------------------------------------ Art. 8(5) 审定
    def approve(
        self,
        policy: Policy,
        party_group_meeting_ref: str,
        vice_mayor_approval_ref: str,
        funding_plan_ref: str,
        subfield_exception: str | None,
        act: Act,
    ) -> None:
        """Art. 8(5): adopted by the bureau's party-group meeting with a funding plan agreed
        with finance, and approved by the vice-mayor in charge. The plan commits the policy's
        amount (Art. 9(3)). Art. 5 (one per subfield) is checked on the subfield's seat."""
        self.check_act(act)
        self._require([Status.INSPECTED], "Art. 8(5)", "approve")
        for field, value in (("party_group_meeting_ref", party_group_meeting_ref),
                             ("vice_mayor_approval_ref", vice_mayor_approval_ref),
                             ("funding_plan_ref", funding_plan_ref)):
            if not value.strip():
                raise InvalidInput("reference_required", f"{field} is required (Art. 8(5))", field)
        self._approved(
            party_group_meeting_ref=party_group_meeting_ref,
            vice_mayor_approval_ref=vice_mayor_approval_ref,
            funding_plan_ref=funding_plan_ref,
            subfield_exception=subfield_exception,
            funding_committed=policy.funding_amount,
            act=act,
        )

    @event("Approved", topic=f"{T}/Approved")
    def _approved(
        self,
        party_group_meeting_ref: str,
        vice_mayor_approval_ref: str,
        funding_plan_ref: str,
        subfield_exception: str | None,
        funding_committed: Decimal,
        act: Act,
    ) -> None:
        self.approval = {
            "party_group_meeting_ref": party_group_meeting_ref,
            "vice_mayor_approval_ref": vice_mayor_approval_ref,
            "funding_plan_ref": funding_plan_ref,
            "subfield_exception": subfield_exception,
        }
        self.committed = funding_committed
        self._enter(Status.APPROVED, act)

    # ------------------------------------------------------------------ Art. 8(6) 公示
    def publicize(self, batch_id: UUID, batch_ref: str, media: str, window: PublicityWindow, act: Act) -> None:
        """Art. 8(6): the approved list is publicized in the media for 5 working days."""
        self.check_act(act)
        self._require([Status.APPROVED], "Art. 8(6)", "publicize")
        if window.start_date < self.stage_dates[Status.APPROVED.value]:
            raise RuleViolation(
                "publicity_before_approval", "publicity cannot start before the approval date",
                "Art. 8(6)", self.policy_ref,
            )
        self._publicized(batch_id=batch_id, batch_ref=batch_ref, media=media, start_date=window.start_date,
                         first_day=window.first_day, last_day=window.last_day, act=act)

    @event("Publicized", topic=f"{T}/Publicized")
    def _publicized(
        self, batch_id: UUID, batch_ref: str, media: str, start_date: date,
        first_day: date | None, last_day: date | None, act: Act,
    ) -> None:
        self.publicity = {"batch_id": batch_id, "batch_ref": batch_ref, "media": media,
                          "start_date": start_date, "first_day": first_day, "last_day": last_day}
        self._enter(Status.IN_PUBLICITY, act)

    def object(self, window: PublicityWindow, objector_name: str, contact: str, content: str, act: Act) -> str:
        """Art. 8(6): anyone may object, from the day the list is published (a rest day too)
        through the ``window``'s last day (counted as far as the day received needs it).
        Admissibility is judged on the day the objection was received (``act.business_date``:
        the server's day online, the postmark or stamp on paper), whenever a clerk records it.
        One received outside the window, or once the platform had ended, is still recorded for
        the auditors but marked inadmissible and blocks nothing. An admissible one recorded after
        the notice is flagged to the bureau (``after_notice``) and must be resolved
        (:attr:`flagged_objections`). Returns the objection's id."""
        # Not held to the decisions recorded before it (check_act): it keeps its receipt date.
        if self.publicity is None:
            raise RuleViolation(
                "not_publicized", "this platform has not been publicized; there is nothing to object to",
                "Art. 8(6)", self.policy_ref,
            )
        received = act.business_date
        ended_by_then = self.stage.is_end and self.stage_dates[self.status] <= received
        admissible = window.admits(received) and not ended_by_then
        objection_id = str(len(self.objections) + 1)
        self._objected(objection_id=objection_id, objector_name=objector_name, contact=contact,
                       content=content, admissible=admissible, channel=receipt_channel(act), act=act,
                       **({"after_notice": True} if self.notice_ref is not None else {}))
        return objection_id

    class Objected(Event):
        """Art. 8(6): an objection received (异议受理), by the channel it came in (收件渠道).

        Version 2 added ``channel``; events stored in version 1 are upcast on reading, never
        rewritten (docs/EVENTS.md; the stored shape is kept in tests/data/events_v1_objected.jsonl).
        """

        TOPIC = f"{T}/Objected"
        class_version = 2

        objection_id: str
        objector_name: str
        contact: str
        content: str
        admissible: bool
        channel: str
        after_notice: bool = False

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # What was true of a version 1 objection: a clerk recorded the paper ones on the
            # objector's behalf (Act.recorded_by); the rest came in through the public form.
            state["channel"] = receipt_channel(state["act"])

    @event(Objected)
    def _objected(
        self, objection_id: str, objector_name: str, contact: str, content: str, admissible: bool, channel: str,
        act: Act, after_notice: bool = False,
    ) -> None:
        # The channel stays on the event (the platform's history shows it): no rule turns on it,
        # and the objection records of snapshots taken before it existed could not say it.
        self.objections[objection_id] = {
            "objection_id": objection_id, "objector_name": objector_name, "contact": contact,
            "content": content, "admissible": admissible, "received_on": act.business_date,
            "after_notice": after_notice,
            "outcome": None, "handling_opinion": None, "vice_mayor_decision_ref": None,
        }

    @property
    def flagged_objections(self) -> list[str]:
        """Art. 8(6): admissible objections recorded after the notice and not resolved yet,
        flagged to the bureau: they must be resolved, and until they are the platform is neither
        recognised nor funded (Art. 9(3))."""
        return [o["objection_id"] for o in self.objections.values()
                if o["admissible"] and o.get("after_notice") and o["outcome"] is None]

    def _require_flagged_objections_resolved(self, what: str) -> None:
        flagged = self.flagged_objections
        if flagged:
            raise RuleViolation(
                "objections_unresolved",
                f"cannot {what}: objections {', '.join(flagged)}, received during publicity and recorded "
                "after the notice, are not resolved yet",
                "Art. 8(6)", self.policy_ref, params={"objections": flagged},
            )

    def resolve_objection(
        self, objection_id: str, upheld: bool, handling_opinion: str, vice_mayor_decision_ref: str, act: Act
    ) -> None:
        """Art. 8(6): the bureau verifies an objection with finance and the vice-mayor decides
        on the handling opinion, never dated before the objection was received. Upheld during
        publicity, or upheld after the notice when it was received in the window and recorded
        after the notice (flagged), the approval is rescinded (the subfield is freed and the
        commitment still outstanding released)."""
        self.check_act(act)
        objection = self.objections.get(objection_id)
        if objection is None:
            raise NotFound("objection_not_found", f"no objection {objection_id} on this platform",
                params={"objection_id": objection_id})
        if objection["outcome"] is not None:
            raise RuleViolation(
                "objection_already_resolved", f"objection {objection_id} was already {objection['outcome']}",
                "Art. 8(6)", self.policy_ref, params={"objection_id": objection_id},
            )
        if act.business_date < objection["received_on"]:
            raise RuleViolation(
                "resolution_before_objection",
                f"the resolution's date {act.business_date} is before the objection was received "
                f"({objection['received_on']})", "Art. 8(6)", self.policy_ref,
                params={"business_date": act.business_date, "received_on": objection["received_on"]},
            )
        if not vice_mayor_decision_ref.strip():
            raise InvalidInput("reference_required", "vice_mayor_decision_ref is required (Art. 8(6))",
                               "vice_mayor_decision_ref")
        if upheld and self.stage.is_end:
            raise RuleViolation(
                "wrong_stage", f"the platform is '{self.status}': there is no approval left to rescind",
                "Art. 8(6)", self.policy_ref, params={"status": self.status},
            )
        flagged = objection["admissible"] and objection.get("after_notice")
        if upheld and self.stage != Status.IN_PUBLICITY and not flagged:
            raise RuleViolation(
                "objection_upheld_after_publicity",
                "the approval can only be rescinded during publicity, or on an objection received in "
                "the window and recorded after the notice; otherwise after the notice use revocation "
                "(Art. 13)",
                "Art. 8(6)", self.policy_ref,
            )
        self._objection_resolved(objection_id=objection_id, outcome="upheld" if upheld else "dismissed",
                                 handling_opinion=handling_opinion,
                                 vice_mayor_decision_ref=vice_mayor_decision_ref, act=act)
        if upheld:
            self._approval_rescinded(objection_id=objection_id, released_amount=self.outstanding_commitment,
                                     act=act)

    @event("ObjectionResolved", topic=f"{T}/ObjectionResolved")
    def _objection_resolved(
        self, objection_id: str, outcome: str, handling_opinion: str, vice_mayor_decision_ref: str, act: Act
    ) -> None:
        # Replaced, not updated in place: copies of the platform share the records.
        self.objections[objection_id] = {
            **self.objections[objection_id], "outcome": outcome, "handling_opinion": handling_opinion,
            "vice_mayor_decision_ref": vice_mayor_decision_ref, "resolved_on": act.business_date,
        }

    @event("ApprovalRescinded", topic=f"{T}/ApprovalRescinded")
    def _approval_rescinded(self, objection_id: str, released_amount: Decimal, act: Act) -> None:
        self.end_reason = f"objection {objection_id} upheld"
        self.committed -= released_amount
        self._enter(Status.REJECTED, act)

    # ------------------------------------------------------------------ Art. 8(7) 行文下达
    def issue_notice(self, window: PublicityWindow | None, act: Act) -> None:
        """Art. 8(7): bureau and finance jointly issue the notice (立项通知), only after the
        publicity ``window`` (as the calendar counts it now) has closed and every admissible
        objection has been resolved."""
        self.check_act(act)
        self._require([Status.IN_PUBLICITY], "Art. 8(7)", "issue the notice")
        if not act.document_refs:
            raise InvalidInput("reference_required", "the joint notice's document_ref is required",
                               "document_ref")
        if window is None or window.state_on(act.business_date) is not WindowState.CLOSED:
            last_day = window.last_day if window is not None else None
            raise RuleViolation(
                "publicity_window_open",
                f"the publicity window runs through {last_day or 'a day not yet computable'}; "
                "the notice can only follow its close",
                "Art. 8(7)", self.policy_ref, params={"last_day": last_day} if last_day else None,
            )
        pending = [o["objection_id"] for o in self.objections.values()
                   if o["admissible"] and o["outcome"] is None]
        if pending:
            raise RuleViolation(
                "objections_unresolved", f"objections {', '.join(pending)} are not resolved yet",
                "Art. 8(7)", self.policy_ref, params={"objections": pending},
            )
        self._notice_issued(act=act)

    @event("NoticeIssued", topic=f"{T}/NoticeIssued")
    def _notice_issued(self, act: Act) -> None:
        self.notice_ref = act.document_refs[0]
        self._enter(Status.NOTIFIED, act)

    def sign_task_book(
        self, policy: Policy, indicators: list[dict[str, str]], period_start: date,
        period_end: date | None, acceptance_due: date | None, act: Act, period_reason: str | None = None,
    ) -> None:
        """Art. 8(7) and 9(1): bureau and host unit sign the construction task book (建设任务书)
        listing the indicators; it is version 1. The execution period is one year in principle
        (原则上为1年): any other needs a recorded ``period_reason``, as a second platform in a
        subfield needs a written exception (Art. 5), and a one-year period needs none."""
        self.check_act(act)
        self._require([Status.NOTIFIED], "Art. 8(7)", "sign the task book")
        if not act.document_refs:
            raise InvalidInput("reference_required", "task_book_ref is required", "task_book_ref")
        if not indicators:
            raise InvalidInput("indicators_required", "the task book must list its indicators", "indicators")
        if period_start < self.stage_dates[Status.NOTIFIED.value]:
            raise InvalidInput("period_before_notice", "the execution period cannot start before the notice",
                               "period_start")
        end = period_end or default_period_end(period_start, policy.execution_period_months)
        if end < period_start:
            raise InvalidInput("period_end_before_start", "period_end is before period_start", "period_end")
        reason = (period_reason or "").strip() or None
        one_year = default_period_end(period_start, policy.execution_period_months)
        if end != one_year and reason is None:
            raise RuleViolation(
                "period_reason_required",
                f"the execution period {period_start}..{end} is not the one year in principle "
                f"({period_start}..{one_year}); record the reason for it (period_reason)",
                "Art. 9(1)", self.policy_ref, params={"period_start": period_start, "period_end": end},
            )
        if end == one_year and reason is not None:
            # A reason nobody needed would show auditors an Art. 9(1) departure that never was.
            raise RuleViolation(
                "period_reason_not_needed",
                f"the execution period {period_start}..{end} is the one year in principle; sign "
                "without a period reason",
                "Art. 9(1)", self.policy_ref, params={"period_start": period_start, "period_end": end},
            )
        self._task_book_signed(indicators=indicators, period_start=period_start, period_end=end,
                               acceptance_due=acceptance_due, period_reason=reason, act=act)

    @event("TaskBookSigned", topic=f"{T}/TaskBookSigned")
    def _task_book_signed(
        self, indicators: list[dict[str, str]], period_start: date, period_end: date,
        acceptance_due: date | None, act: Act, period_reason: str | None = None,
    ) -> None:
        # period_reason defaults to None: a TaskBookSigned stored before it existed had a
        # one-year period or none recorded. Each version keeps its own copy of the indicators.
        ref = act.document_refs[0]
        self.task_book = {"task_book_ref": ref, "indicators": list(indicators),
                          "period_start": period_start, "period_end": period_end,
                          "acceptance_due": acceptance_due, "period_reason": period_reason,
                          "versions": [{"version": 1, "indicators": list(indicators),
                                        "effective_from": act.business_date, "document_ref": ref,
                                        "change_id": None}]}
        self._enter(Status.UNDER_CONSTRUCTION, act)

    # ------------------------------------------------------------------ Art. 10-11 重大事项
    def report_change(self, kind: ChangeKind, description: str, new_value: Any, act: Act) -> str:
        """Art. 11: a change of unit name, principal, goals, indicators or a major budget change
        must be reported to the bureau during the project."""
        self.check_act(act)
        self._require([Status.NOTIFIED, Status.UNDER_CONSTRUCTION, Status.ACCEPTANCE_APPLIED,
                       Status.QUALIFIED, Status.RECOGNIZED, Status.FUNDED], "Art. 11", "report a major change")
        if kind == ChangeKind.INDICATORS:
            if self.acceptance is not None and self.acceptance.get("conclusion") is not None:
                raise RuleViolation(
                    "task_book_judged",
                    f"the acceptance review of {self.acceptance.get('reviewed_on')} judged task book "
                    f"version {self.acceptance.get('task_book_version', 1)}; its indicators can no "
                    "longer change",
                    "Art. 11", self.policy_ref,
                    params={"reviewed_on": self.acceptance.get("reviewed_on"),
                            "version": self.acceptance.get("task_book_version", 1)},
                )
            new_value = _indicator_list(new_value)
        elif not isinstance(new_value, str) or not new_value.strip():
            raise InvalidInput("new_value_required", "new_value must be a non-empty text", "new_value")
        change_id = str(len(self.changes) + 1)
        self._change_reported(change_id=change_id, kind=kind.value, description=description,
                              new_value=new_value, act=act)
        return change_id

    @event("MajorChangeReported", topic=f"{T}/MajorChangeReported")
    def _change_reported(self, change_id: str, kind: str, description: str, new_value: Any, act: Act) -> None:
        self.changes[change_id] = {"change_id": change_id, "kind": kind, "description": description,
                                   "new_value": new_value, "reported_on": act.business_date,
                                   "decision": None}

    def decide_change(self, change_id: str, approved: bool, reasons: str, act: Act) -> None:
        """Art. 11: the bureau decides a reported change; an approved change takes effect from
        the decision's date. An approved change of indicators makes the task book's next
        version, effective from the decision; earlier versions stay as they were."""
        self.check_act(act)
        change = self.changes.get(change_id)
        if change is None:
            raise NotFound("change_not_found", f"no major change {change_id} on this platform",
                params={"change_id": change_id})
        if change["decision"] is not None:
            raise RuleViolation("change_already_decided", f"change {change_id} was already decided",
                                "Art. 11", self.policy_ref, params={"change_id": change_id})
        if self.stage.is_end:
            raise RuleViolation("wrong_stage", f"the platform is '{self.status}'", "Art. 11", self.policy_ref,
                params={"status": self.status})
        self._change_decided(change_id=change_id, approved=approved, reasons=reasons, act=act)

    @event("MajorChangeDecided", topic=f"{T}/MajorChangeDecided")
    def _change_decided(self, change_id: str, approved: bool, reasons: str, act: Act) -> None:
        change = self.changes[change_id]
        change.update(decision="approved" if approved else "rejected", reasons=reasons,
                      decided_on=act.business_date)
        if not approved:
            return
        kind, value = ChangeKind(change["kind"]), change["new_value"]
        if kind == ChangeKind.UNIT_NAME:
            self.host_unit["name"] = value
        elif kind == ChangeKind.PRINCIPAL:
            self.principal = value
        elif kind == ChangeKind.GOALS:
            self.goals = value
        elif kind == ChangeKind.BUDGET:
            self.budget = value
        elif kind == ChangeKind.INDICATORS and self.task_book is not None:
            book = self.task_book
            # A record kept before task books had versions is version 1 as it stands.
            versions = book.setdefault("versions", [{
                "version": 1, "indicators": list(book["indicators"]), "effective_from": None,
                "document_ref": book["task_book_ref"], "change_id": None}])
            versions.append({"version": versions[-1]["version"] + 1, "indicators": list(value),
                             "effective_from": act.business_date,
                             "document_ref": act.document_refs[0] if act.document_refs else None,
                             "change_id": change_id})
            book["indicators"] = list(value)

    def _require_changes_decided(self, what: str) -> None:
        """Art. 11: a reported major change the bureau has not decided holds up the acceptance
        review, recognition and the grant: each must be judged on the platform as it stands."""
        pending = [c for c in _by_number(self.changes) if c["decision"] is None]
        if pending:
            listed = ", ".join(f"{c['change_id']} ({c['kind']}, reported {c['reported_on']})" for c in pending)
            raise RuleViolation(
                "change_pending",
                f"cannot {what}: major change {listed} is not decided yet; the bureau decides it first",
                "Art. 11", self.policy_ref, params={"changes": [c["change_id"] for c in pending]},
            )

    # ------------------------------------------------------------------ Art. 9 验收
    def apply_for_acceptance(self, summary: str, acceptance_due: date | None, act: Act) -> None:
        """Art. 9(1): the host unit applies for acceptance within one month after the execution
        period ends; early application is allowed when the tasks are done early.
        ``acceptance_due`` is the deadline from the working-day calendar (None only when the
        application is early, so that the deadline is not needed yet)."""
        self.check_act(act)
        self._require([Status.UNDER_CONSTRUCTION], "Art. 9(1)", "apply for acceptance")
        task_book = self.signed_task_book
        assert task_book is not None
        early = task_book.is_early(act.business_date)
        late = not early and acceptance_due is not None and act.business_date > acceptance_due
        if late and self.late_acceptance is None:
            raise RuleViolation(
                "acceptance_deadline_passed",
                f"the acceptance application was due by {acceptance_due} (one month after the "
                f"execution period ended on {task_book.period_end}); only the bureau can admit a late "
                "one, with its justification",
                "Art. 9(1)", self.policy_ref, params={"acceptance_due": acceptance_due},
            )
        self._acceptance_applied(summary=summary, early=early, act=act)

    @event("AcceptanceApplied", topic=f"{T}/AcceptanceApplied")
    def _acceptance_applied(self, summary: str, early: bool, act: Act) -> None:
        self.acceptance = {"summary": summary, "early": early, "applied_on": act.business_date,
                           "late_admitted": self.late_acceptance is not None}
        self._enter(Status.ACCEPTANCE_APPLIED, act)

    def record_acceptance_deadline_missed(self, acceptance_due: date, act: Act) -> None:
        """Art. 9(1): no acceptance application by ``acceptance_due`` (the deadline as the
        working-day calendar counts it) is a fact of the record, recorded once, by the deadline
        watch acting on ``act`` (its business date is the watch's today), and put to the bureau,
        which terminates the project or admits a late application. The fact is dated the day
        after the deadline, the first day it was missed; only where the platform's record
        already holds a later act is it dated on that act's day, for a platform's record never
        runs backwards (the event keeps the deadline itself)."""
        self._require([Status.UNDER_CONSTRUCTION], "Art. 9(1)", "record a missed acceptance deadline")
        if self.acceptance_missed is not None:
            raise RuleViolation(
                "acceptance_deadline_miss_recorded",
                f"the missed deadline ({self.acceptance_missed['acceptance_due']}) was already recorded on "
                f"{self.acceptance_missed['missed_on']}",
                "Art. 9(1)", self.policy_ref, params={"missed_on": self.acceptance_missed["missed_on"]},
            )
        day_after = acceptance_due + timedelta(days=1)
        if act.business_date < day_after:
            raise RuleViolation(
                "acceptance_deadline_not_passed",
                f"the acceptance application is due by {acceptance_due}; on {act.business_date} it is not missed",
                "Art. 9(1)", self.policy_ref,
                params={"acceptance_due": acceptance_due, "business_date": act.business_date},
            )
        previous = self.last_business_date
        missed_on = max(day_after, previous) if previous is not None else day_after
        dated = Act(act.actor_id, act.role, missed_on, act.document_refs, recorded_on=act.recorded_on)
        self.check_act(dated)
        self._acceptance_deadline_missed(acceptance_due=acceptance_due, act=dated)

    @event("AcceptanceDeadlineMissed", topic=f"{T}/AcceptanceDeadlineMissed")
    def _acceptance_deadline_missed(self, acceptance_due: date, act: Act) -> None:
        self.acceptance_missed = {"acceptance_due": acceptance_due, "missed_on": act.business_date}
        if self.task_book is not None and self.task_book["acceptance_due"] is None:
            # Pending when the task book was signed; counted since (its year's schedule loaded).
            self.task_book["acceptance_due"] = acceptance_due

    def admit_late_acceptance(self, justification: str, act: Act) -> None:
        """Art. 9(1): after a recorded missed deadline the bureau may admit the host unit's late
        acceptance application instead of terminating, recording why; the application then
        goes to the acceptance review as any other (Art. 9(2))."""
        self.check_act(act)
        self._require([Status.UNDER_CONSTRUCTION], "Art. 9(1)", "admit a late acceptance application")
        if self.acceptance_missed is None:
            raise RuleViolation(
                "acceptance_deadline_not_missed",
                "no missed acceptance deadline is recorded for this platform; an application in time "
                "needs no admission",
                "Art. 9(1)", self.policy_ref,
            )
        if self.late_acceptance is not None:
            raise RuleViolation(
                "late_acceptance_already_admitted",
                f"a late acceptance application was already admitted on {self.late_acceptance['admitted_on']}",
                "Art. 9(1)", self.policy_ref, params={"admitted_on": self.late_acceptance["admitted_on"]},
            )
        if not justification.strip():
            raise InvalidInput("justification_required", "admitting a late application needs its justification",
                               "justification")
        self._late_acceptance_admitted(justification=justification, act=act)

    @event("LateAcceptanceAdmitted", topic=f"{T}/LateAcceptanceAdmitted")
    def _late_acceptance_admitted(self, justification: str, act: Act) -> None:
        self.late_acceptance = {"justification": justification, "admitted_on": act.business_date,
                                "document_ref": act.document_refs[0] if act.document_refs else None}

    def review_acceptance(
        self, panel: list[str], indicator_results: list[dict[str, Any]], funds_use_compliant: bool,
        qualified: bool, act: Act, justification: str | None = None,
    ) -> None:
        """Art. 9(2)-(3): the service agency convenes an on-site expert meeting; the task book, in
        the version in effect (recorded as the version judged), is the basis, and no major change
        may be pending (Art. 11). The panel concludes: the indicators inform it, so a "qualified"
        conclusion with indicators not achieved stands with the panel's written ``justification``
        (needed then, and only then); compliant use of the construction funds is required.
        Unqualified terminates the project with no money."""
        self.check_act(act)
        self._require([Status.ACCEPTANCE_APPLIED], "Art. 9(2)", "record the acceptance review")
        self._require_changes_decided("record the acceptance review")
        if not panel:
            raise InvalidInput("panel_required", "the acceptance panel must name its experts", "panel")
        task_book = self.signed_task_book
        assert task_book is not None
        expected = task_book.indicator_names
        given = {str(r.get("name")) for r in indicator_results}
        if given != expected:
            missing, unknown = sorted(expected - given), sorted(given - expected)
            raise RuleViolation(
                "indicator_results_mismatch",
                f"the results must cover exactly the task book's indicators (missing: {missing}, "
                f"unknown: {unknown})",
                "Art. 9(3)", self.policy_ref, params={"missing": missing, "unknown": unknown},
            )
        missed = [str(r["name"]) for r in indicator_results if not r.get("achieved")]
        if qualified and not funds_use_compliant:
            raise RuleViolation(
                "qualified_contradicts_results",
                "a qualified conclusion needs compliant use of the construction funds",
                "Art. 9(3)", self.policy_ref,
            )
        reason = (justification or "").strip() or None
        if qualified and missed and reason is None:
            raise RuleViolation(
                "justification_required",
                f"a qualified conclusion with indicators not achieved ({', '.join(missed)}) needs the "
                "panel's written justification",
                "Art. 9(3)", self.policy_ref, params={"indicators": missed},
            )
        if reason is not None and not (qualified and missed):
            # Kept for the one departure it explains, so none is shown where there was none.
            raise RuleViolation(
                "justification_not_needed",
                "a justification is recorded only for a qualified conclusion with indicators not achieved",
                "Art. 9(3)", self.policy_ref,
            )
        if not qualified and not act.document_refs:
            # Unqualified terminates the project and releases its commitment: a termination always
            # names its document, and the funding ledger's release carries it.
            raise InvalidInput("reference_required", "an unqualified conclusion terminates the project and "
                               "releases its funds: the meeting's document_ref (文号) is required", "document_ref")
        results = [{"name": str(r["name"]), "achieved": bool(r.get("achieved"))} for r in indicator_results]
        self._acceptance_reviewed(panel=list(panel), indicator_results=results,
                                  funds_use_compliant=funds_use_compliant,
                                  conclusion="qualified" if qualified else "unqualified",
                                  task_book_version=task_book.version, justification=reason, act=act)
        if qualified:
            self._accepted_as_qualified(act=act)
        else:
            self._terminated(reasons="acceptance unqualified (验收不合格)",
                             released_amount=self.outstanding_commitment, act=act,
                             ground=TerminationGround.UNQUALIFIED.value)

    @event("AcceptanceReviewed", topic=f"{T}/AcceptanceReviewed")
    def _acceptance_reviewed(
        self, panel: list[str], indicator_results: list[dict[str, Any]], funds_use_compliant: bool,
        conclusion: str, act: Act, task_book_version: int = 1, justification: str | None = None,
    ) -> None:
        # The defaults decode a review stored before task books had versions (it judged the
        # only one) or conclusions needed a justification (it had none).
        assert self.acceptance is not None
        self.acceptance.update(panel=panel, indicator_results=indicator_results,
                               funds_use_compliant=funds_use_compliant, conclusion=conclusion,
                               reviewed_on=act.business_date, task_book_version=task_book_version,
                               justification=justification)

    @event("AcceptedAsQualified", topic=f"{T}/AcceptedAsQualified")
    def _accepted_as_qualified(self, act: Act) -> None:
        self._enter(Status.QUALIFIED, act)

    def recognize(self, plaque_no: str, act: Act) -> None:
        """Art. 9(3): a qualified platform is recognised by the bureau's document and awarded
        the plaque (授牌), with no major change pending (Art. 11) and its host unit still a
        high-tech enterprise on that day (Art. 7(1)): the certificate it applied with, or a
        renewed one recorded since (:meth:`renew_certificate`)."""
        self.check_act(act)
        self._require([Status.QUALIFIED], "Art. 9(3)", "recognise")
        self._require_changes_decided("recognise")
        valid_until = self.certificate_valid_until
        if valid_until is None or valid_until < act.business_date:
            raise RuleViolation(
                "high_tech_certificate_expired",
                f"the host unit's high-tech enterprise certificate expired on {valid_until}, before the "
                f"recognition date {act.business_date}; record the renewed certificate first",
                "Art. 7(1)", self.policy_ref, params={"valid_until": valid_until, "business_date": act.business_date},
            )
        self._require_flagged_objections_resolved("recognise")
        if not act.document_refs:
            raise InvalidInput("reference_required", "document_ref is required", "document_ref")
        if not plaque_no.strip():
            raise InvalidInput("plaque_no_required", "plaque_no is required", "plaque_no")
        self._recognized(plaque_no=plaque_no, act=act)

    @event("Recognized", topic=f"{T}/Recognized")
    def _recognized(self, plaque_no: str, act: Act) -> None:
        self.recognition = {"document_ref": act.document_refs[0], "plaque_no": plaque_no,
                            "recognized_on": act.business_date}
        self._enter(Status.RECOGNIZED, act)

    def fund(self, policy: Policy, amount: Decimal | None, act: Act) -> None:
        """Art. 9(3): bureau and finance jointly grant the host unit the policy's amount
        (1,000,000 yuan under 长科发〔2021〕36号), once."""
        self.check_act(act)
        if self.disbursed > ZERO:
            raise RuleViolation("already_funded", "the construction grant has already been paid (once only)",
                                "Art. 9(3)", self.policy_ref)
        self._require([Status.RECOGNIZED], "Art. 9(3)", "fund")
        self._require_changes_decided("pay the grant")
        self._require_flagged_objections_resolved("fund")
        if not act.document_refs:
            raise InvalidInput("reference_required", "joint_document_ref is required", "joint_document_ref")
        due = policy.funding_amount
        if amount is not None and amount != due:
            raise RuleViolation("funding_amount_mismatch",
                                f"the grant is {due} yuan under {policy.policy}, not {amount}",
                                "Art. 9(3)", self.policy_ref,
                                    params={"policy": policy.policy, "due": due, "amount": amount})
        self._funded(amount=due, act=act)

    @event("Funded", topic=f"{T}/Funded")
    def _funded(self, amount: Decimal, act: Act) -> None:
        self.disbursed = amount
        self._enter(Status.FUNDED, act)

    def recover_funds(self, amount: Decimal, reasons: str, act: Act) -> None:
        """Art. 13 (and the city's project-fund rules): money returned by the host unit is a
        separate act recorded by finance with its own document, up to what was disbursed."""
        self.check_act(act)
        if not act.document_refs:
            raise InvalidInput("reference_required", "document_ref is required", "document_ref")
        if amount <= ZERO:
            raise InvalidInput("amount_not_positive", "amount must be positive", "amount")
        remaining = self.disbursed - self.recovered
        if amount > remaining:
            raise RuleViolation("recovery_exceeds_disbursed",
                                f"only {remaining} yuan of the grant is unrecovered", "Art. 13", self.policy_ref,
                                    params={"remaining": remaining})
        self._funds_recovered(amount=amount, reasons=reasons, act=act)

    @event("FundsRecovered", topic=f"{T}/FundsRecovered")
    def _funds_recovered(self, amount: Decimal, reasons: str, act: Act) -> None:
        self.recovered += amount

    # ------------------------------------------------------------------ Art. 7(1) 高新证书
    @property
    def certificate_valid_until(self) -> date | None:
        """Art. 7(1): the last day of the host unit's current high-tech enterprise certificate."""
        certificate = self.host_unit.get("high_tech_certificate") or {}
        valid_until = certificate.get("valid_until")
        return valid_until if isinstance(valid_until, date) else None

    def renew_certificate(self, number: str, valid_until: date, act: Act) -> None:
        """Art. 7(1): the bureau records the host unit's renewed high-tech enterprise certificate
        (高新技术企业证书), valid on the day it is recorded and beyond the one it replaces; the
        conditions of Art. 7 are checked again at recognition (:meth:`recognize`)."""
        self.check_act(act)
        if self.stage.is_end:
            raise RuleViolation("wrong_stage", f"the platform is '{self.status}'", "Art. 7(1)", self.policy_ref,
                params={"status": self.status})
        if not number.strip():
            raise InvalidInput("certificate_number_required", "the certificate's number is required", "number")
        if valid_until < act.business_date:
            raise RuleViolation(
                "high_tech_certificate_expired",
                f"the certificate expired on {valid_until}, before {act.business_date}",
                "Art. 7(1)", self.policy_ref, params={"valid_until": valid_until, "business_date": act.business_date},
            )
        current = self.certificate_valid_until
        if current is not None and valid_until <= current:
            raise RuleViolation(
                "certificate_not_renewed",
                f"the certificate on file is valid until {current}; a renewed one runs beyond it",
                "Art. 7(1)", self.policy_ref, params={"current": current},
            )
        self._certificate_renewed(certificate={"number": number.strip(), "valid_until": valid_until}, act=act)

    @event("HighTechCertificateRenewed", topic=f"{T}/HighTechCertificateRenewed")
    def _certificate_renewed(self, certificate: dict[str, Any], act: Act) -> None:
        self.host_unit = {**self.host_unit, "high_tech_certificate": dict(certificate)}

    # ------------------------------------------------------------------ ends
    def withdraw(self, reasons: str, act: Act) -> None:
        """The host unit withdraws its application or project before the acceptance review; after
        the approval (Art. 8(5)) this releases the committed funds, and the withdrawal names its
        document (文号), which the funding ledger's release carries."""
        self.check_act(act)
        self._require([Status.APPLIED, Status.ACCEPTED, Status.REVIEWED, Status.INSPECTED, Status.APPROVED,
                       Status.IN_PUBLICITY, Status.NOTIFIED, Status.UNDER_CONSTRUCTION,
                       Status.ACCEPTANCE_APPLIED], "Art. 8", "withdraw")
        if self.outstanding_commitment and not act.document_refs:
            # The funding ledger's release carries it (资金台账: every release with its document).
            raise InvalidInput("reference_required", "a withdrawal after approval releases the committed funds: "
                               "its document_ref (文号 of the withdrawal letter) is required", "document_ref")
        self._withdrawn(reasons=reasons, released_amount=self.outstanding_commitment, act=act)

    @event("Withdrawn", topic=f"{T}/Withdrawn")
    def _withdrawn(self, reasons: str, released_amount: Decimal, act: Act) -> None:
        self.end_reason = reasons
        self.committed -= released_amount
        self._enter(Status.WITHDRAWN, act)

    def terminate(self, ground: TerminationGround, reasons: str, act: Act) -> None:
        """Art. 9: the bureau terminates a project after the notice and before its acceptance
        review, on a ground of the closed list (:class:`TerminationGround`) backed by its
        document (文号), which the funding ledger's release carries. A missed acceptance deadline
        is a ground only once it is recorded (:meth:`record_acceptance_deadline_missed`), and
        an unqualified acceptance is recorded by the review itself (Art. 9(3))."""
        self.check_act(act)
        self._require([Status.NOTIFIED, Status.UNDER_CONSTRUCTION, Status.ACCEPTANCE_APPLIED],
                      "Art. 9(1)", "terminate")
        if not act.document_refs:
            raise InvalidInput("reference_required", "a termination needs its document_ref (文号)", "document_ref")
        if not reasons.strip():
            raise InvalidInput("reasons_required", "a termination must give reasons", "reasons")
        if ground is TerminationGround.UNQUALIFIED:
            raise RuleViolation("ground_not_available",
                                "an unqualified acceptance terminates the project by the acceptance review itself",
                                "Art. 9(3)", self.policy_ref)
        if ground is TerminationGround.ACCEPTANCE_DEADLINE_MISSED and (
                self.acceptance_missed is None or self.stage is not Status.UNDER_CONSTRUCTION):
            raise RuleViolation("acceptance_deadline_not_missed",
                                "no missed acceptance deadline is recorded for this platform (the deadline "
                                "watch records it the day after the deadline)",
                                "Art. 9(1)", self.policy_ref)
        if ground is TerminationGround.TASK_BOOK_NOT_SIGNED and self.stage is not Status.NOTIFIED:
            raise RuleViolation("ground_not_available", "the task book is signed", "Art. 8(7)", self.policy_ref)
        self._terminated(reasons=reasons, released_amount=self.outstanding_commitment, act=act,
                         ground=ground.value)

    @event("Terminated", topic=f"{T}/Terminated")
    def _terminated(self, reasons: str, released_amount: Decimal, act: Act, ground: str | None = None) -> None:
        # ``ground`` was added later: a termination recorded before it has none (not recorded).
        self.end_reason = reasons
        self.committed -= released_amount
        self.termination = {"ground": ground, "reasons": reasons, "terminated_on": act.business_date,
                            "document_ref": act.document_refs[0] if act.document_refs else None}
        self._enter(Status.TERMINATED, act)

    def revoke(self, ground: RevocationGround, reasons: str, act: Act) -> None:
        """Art. 13: the bureau revokes a platform that can no longer fulfil the host unit's
        duties or has caused serious adverse social impact. Final; frees the subfield; does not
        by itself recover money (see :meth:`recover_funds`)."""
        self.check_act(act)
        self._require([Status.NOTIFIED, Status.UNDER_CONSTRUCTION, Status.ACCEPTANCE_APPLIED,
                       Status.QUALIFIED, Status.RECOGNIZED, Status.FUNDED], "Art. 13", "revoke")
        if not act.document_refs:
            raise InvalidInput("reference_required", "document_ref is required", "document_ref")
        self._revoked(ground=ground.value, reasons=reasons, released_amount=self.outstanding_commitment, act=act)

    @event("Revoked", topic=f"{T}/Revoked")
    def _revoked(self, ground: str, reasons: str, released_amount: Decimal, act: Act) -> None:
        self.end_reason = f"{ground}: {reasons}"
        self.committed -= released_amount
        self._enter(Status.REVOKED, act)


def visible_to(role: Role, credit_code: str | None, host_credit_code: str, publicized: bool) -> bool:
    """Who may know of a platform (docs/API.md): an applicant sees its own host unit's platforms,
    and others' once publicized (Art. 8(6) makes the approved list public); every other role
    sees them all. Applicants apply in their host unit's name (Art. 8(1)), and an application is
    not public before the list is."""
    return role is not Role.APPLICANT or publicized or host_credit_code == credit_code


def receipt_channel(act: Act) -> str:
    """Art. 8(6): how an objection came in (收件渠道): ``"paper"`` when a clerk recorded it on
    the objector's behalf (a letter, a form handed in at the window), ``"online"`` when the
    objector filed it through the public form or the API."""
    return "paper" if act.recorded_by is not None else "online"


def _by_number(items: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    # Ids are "1", "2", ... "10": in number order, so change 10 follows change 9.
    return [items[k] for k in sorted(items, key=lambda k: (len(k), k))]


def _indicator_list(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value or not all(
        isinstance(i, dict) and str(i.get("name", "")).strip() for i in value
    ):
        raise InvalidInput("indicators_invalid",
                           "new_value must be a non-empty list of {name, target} indicators", "new_value")
    return [{"name": str(i["name"]), "target": str(i.get("target", ""))} for i in value]


__all__ = ["Platform", "visible_to"]
