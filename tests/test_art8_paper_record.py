"""The paper record (Art. 8): every act dated on the day it happened (received, signed at the
meeting), whenever a clerk records it, and a clerk's recording of a host unit's or an expert's
paper act on their behalf, with real 2022 dates (National Day 2022: 10-01..07 off, 10-08/09
make-up working days)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from aggregates.errors import InvalidInput, RuleViolation
from aggregates.programme import Driver, act, application, expert_affiliation
from aggregates.values import Act, Clerk, Role

VM = "副市长批〔2022〕5号"


def paper(role: Role, on: str, recorded_on: str, *refs: str, who: str = "public", by: Role = Role.BUREAU) -> Act:
    """``who``'s act of ``on`` (received that day), keyed in by a clerk of ``by`` on ``recorded_on``."""
    clerk = Act(f"{by.value}-1", by, date.fromisoformat(on), refs, recorded_on=date.fromisoformat(recorded_on))
    return clerk.on_behalf_of(who, role)


def object_(app, pid, day: str, recorded_on: str | None = None) -> dict:
    """An objection received on ``day``: online that day, or on paper keyed in on ``recorded_on``."""
    by = act(Role.PUBLIC, day, who="public") if recorded_on is None else paper(Role.PUBLIC, day, recorded_on)
    return app.object(pid, by, objector_name="张三", contact="13800138000", content="申报数据不实").extra


def resolve(app, pid, oid: str, day: str, upheld: bool = False) -> None:
    app.resolve_objection(pid, oid, act(Role.BUREAU, day, VM), upheld=upheld, handling_opinion="经核实",
                          vice_mayor_decision_ref=VM)


def types(app, pid) -> list[str]:
    return [type(e).__name__ for e in app.stream(pid)]


# ---------------------------------------------------------------- Art. 8(6): receipt dates
def test_art8_6_list_published_on_national_day_admits_objections_from_publication(memory_registry):
    drv = Driver(memory_registry).to("approved")
    memory_registry.publicize(act(Role.BUREAU, "2022-09-30", "公示-国庆"), batch_ref="公示-国庆", media="长沙晚报",
                              start_date=date(2022, 10, 1), platform_ids=[drv.pid])
    assert (drv.platform.publicity["first_day"], drv.platform.publicity["last_day"]) == (
        date(2022, 10, 8), date(2022, 10, 12))
    # Received on the day of publication (a holiday) and during the holiday, before working day 1.
    assert object_(memory_registry, drv.pid, "2022-10-01") == {"objection_id": "1", "admissible": True}
    assert object_(memory_registry, drv.pid, "2022-10-03") == {"objection_id": "2", "admissible": True}
    with pytest.raises(RuleViolation) as err:
        memory_registry.issue_notice(drv.pid, act(Role.BUREAU, "2022-10-13", "长科发〔2022〕50号"))
    assert (err.value.code, err.value.article) == ("objections_unresolved", "Art. 8(7)")
    assert "1, 2" in err.value.message
    resolve(memory_registry, drv.pid, "1", "2022-10-13")
    resolve(memory_registry, drv.pid, "2", "2022-10-13")
    memory_registry.issue_notice(drv.pid, act(Role.BUREAU, "2022-10-13", "长科发〔2022〕50号"))
    assert drv.platform.status == "notified"


def test_art8_6_an_objection_received_before_publication_is_recorded_as_inadmissible(memory_registry):
    drv = Driver(memory_registry).to("approved")
    memory_registry.publicize(act(Role.BUREAU, "2022-09-30", "公示-国庆"), batch_ref="公示-国庆", media="长沙晚报",
                              start_date=date(2022, 10, 1), platform_ids=[drv.pid])
    assert object_(memory_registry, drv.pid, "2022-09-30")["admissible"] is False


def test_art8_6_paper_objection_recorded_after_a_late_online_one_is_admissible_on_its_receipt_date(
        memory_registry):
    drv = Driver(memory_registry).to("in_publicity")  # window 2022-09-29 .. 10-10
    assert object_(memory_registry, drv.pid, "2022-10-11")["admissible"] is False  # online, a day late
    # The letter stamped on the last day reaches the clerk's desk the day after.
    assert object_(memory_registry, drv.pid, "2022-10-10", recorded_on="2022-10-11") == {
        "objection_id": "2", "admissible": True}
    objection = drv.platform.objections["2"]
    assert objection["received_on"] == date(2022, 10, 10)
    with pytest.raises(RuleViolation) as err:
        memory_registry.issue_notice(drv.pid, act(Role.BUREAU, "2022-10-11", "长科发〔2022〕50号"))
    assert err.value.code == "objections_unresolved"
    # Its resolution is a decision: never dated before the objection was received.
    with pytest.raises(RuleViolation) as err:
        resolve(memory_registry, drv.pid, "2", "2022-10-09")
    assert (err.value.code, err.value.article) == ("resolution_before_objection", "Art. 8(6)")
    resolve(memory_registry, drv.pid, "2", "2022-10-11")
    memory_registry.issue_notice(drv.pid, act(Role.BUREAU, "2022-10-11", "长科发〔2022〕50号"))
    assert drv.platform.status == "notified"


def test_art8_6_batch_entered_by_a_clerk_after_its_start_date_admits_objections_received_before(
        memory_registry):
    drv = Driver(memory_registry).to("approved")
    # The list went up in the paper on 2022-09-29; the clerk enters the batch on 10-08.
    memory_registry.publicize(act(Role.BUREAU, "2022-10-08", "公示-补录"), batch_ref="公示-补录", media="长沙晚报",
                              start_date=date(2022, 9, 29), platform_ids=[drv.pid])
    assert drv.platform.publicity["last_day"] == date(2022, 10, 10)
    assert object_(memory_registry, drv.pid, "2022-09-30", recorded_on="2022-10-09")["admissible"] is True
    assert object_(memory_registry, drv.pid, "2022-10-09")["admissible"] is True
    # Decisions still follow the decisions before them: not before the batch was entered.
    with pytest.raises(RuleViolation) as err:
        resolve(memory_registry, drv.pid, "1", "2022-10-07")
    assert err.value.code == "business_date_before_previous"


def test_art8_6_admissible_objection_recorded_after_the_notice_is_flagged_and_upheld_rescinds(memory_registry):
    drv = Driver(memory_registry).to("notified")  # notice 2022-10-11
    # A letter stamped 10-10 (inside the window) is keyed in on 10-14, after the notice.
    assert object_(memory_registry, drv.pid, "2022-10-10", recorded_on="2022-10-14") == {
        "objection_id": "1", "admissible": True}
    platform = drv.platform
    assert platform.objections["1"]["after_notice"] is True and platform.flagged_objections == ["1"]
    resolve(memory_registry, drv.pid, "1", "2022-10-20", upheld=True)
    platform = drv.platform
    assert platform.status == "rejected" and platform.flagged_objections == []
    assert platform.committed == Decimal("0.00")
    assert types(memory_registry, drv.pid)[-2:] == ["ObjectionResolved", "ApprovalRescinded"]
    rescinded = list(memory_registry.stream(drv.pid))[-1]
    assert rescinded.released_amount == Decimal("1000000.00")
    Driver(memory_registry, subfield=platform.subfield).to("approved")  # the subfield is free again


def test_art8_6_flagged_objection_holds_up_recognition_until_resolved(memory_registry):
    drv = Driver(memory_registry).to("notified")
    object_(memory_registry, drv.pid, "2022-10-10", recorded_on="2022-10-14")
    drv.to("qualified")
    with pytest.raises(RuleViolation) as err:
        memory_registry.recognize(drv.pid, act(Role.BUREAU, "2023-12-10", "长科发〔2023〕80号"), plaque_no="CS-1")
    assert (err.value.code, err.value.article) == ("objections_unresolved", "Art. 8(6)")
    resolve(memory_registry, drv.pid, "1", "2023-12-05")
    drv.to("funded")
    assert drv.platform.status == "funded"


def test_art8_6_late_objection_recorded_after_the_notice_is_not_flagged_and_cannot_rescind(memory_registry):
    drv = Driver(memory_registry).to("notified")
    assert object_(memory_registry, drv.pid, "2022-10-12")["admissible"] is False
    assert drv.platform.flagged_objections == []
    with pytest.raises(RuleViolation) as err:
        resolve(memory_registry, drv.pid, "1", "2022-10-20", upheld=True)
    assert err.value.code == "objection_upheld_after_publicity"


# ---------------------------------------------------------------- Art. 8(1): a paper application
def test_art8_1_paper_application_recorded_on_behalf_keeps_its_receipt_date_and_both_names(memory_registry):
    code = application()["host_unit"]["credit_code"]
    by = paper(Role.APPLICANT, "2022-03-01", "2022-06-01", "收件〔2022〕001号", who=code, by=Role.SERVICE_AGENCY)
    pid = memory_registry.apply(by, **application(code=code)).aggregate_id
    platform = memory_registry.get_platform(pid)
    assert platform.stage_dates["applied"] == date(2022, 3, 1)
    assert platform.policy_ref == "长科发〔2021〕36号"  # bound by the receipt date (Art. 15)
    applied = next(iter(memory_registry.stream(pid)))
    assert (applied.act.actor_id, applied.act.role) == (code, Role.APPLICANT)
    assert applied.act.recorded_by == Clerk("service_agency-1", Role.SERVICE_AGENCY)
    assert applied.act.document_refs == ("收件〔2022〕001号",)


def test_art8_1_paper_application_names_its_dossier(memory_registry):
    with pytest.raises(InvalidInput) as err:
        memory_registry.apply(paper(Role.APPLICANT, "2022-03-01", "2022-06-01", who="x"), **application())
    assert (err.value.code, err.value.field) == ("reference_required", "document_ref")


def test_art8_1_an_applicant_acting_for_itself_still_acts_today():
    with pytest.raises(InvalidInput) as err:
        Act("applicant-1", Role.APPLICANT, date(2022, 3, 1), recorded_on=date(2022, 6, 1))
    assert err.value.code == "business_date_not_today"


def test_art8_only_the_agency_and_the_bureau_record_on_behalf_of_those_who_act_for_themselves():
    finance = Act("finance-1", Role.FINANCE, date(2022, 3, 1), recorded_on=date(2022, 6, 1))
    with pytest.raises(InvalidInput) as err:
        finance.on_behalf_of("x", Role.APPLICANT)
    assert err.value.code == "recording_on_behalf_not_allowed"
    bureau = Act("bureau-1", Role.BUREAU, date(2022, 3, 1), recorded_on=date(2022, 6, 1))
    with pytest.raises(InvalidInput):
        bureau.on_behalf_of("finance-1", Role.FINANCE)  # a clerk's own acts are the clerk's


def test_art8_an_act_recorded_on_behalf_is_stored_and_decoded_with_its_recorder_and_old_acts_without():
    by = paper(Role.EXPERT, "2022-04-15", "2022-05-01", "评审会〔2022〕3号", who="expert-7")
    stored = by.to_dict()
    assert stored["recorded_by"] == {"actor_id": "bureau-1", "role": "bureau"}
    assert Act.from_dict(stored).recorded_by == Clerk("bureau-1", Role.BUREAU)
    own = act(Role.BUREAU, "2022-04-15").to_dict()
    assert "recorded_by" not in own  # encoded (and hashed) exactly as before recorders existed
    assert Act.from_dict(own).recorded_by is None


# ---------------------------------------------------------------- Art. 8(3): a meeting's score sheets
def sheets(app, pid, n: int, affiliations: list[str] | None = None) -> list[dict]:
    policy = app.policy_of(app.get_platform(pid))
    marks = {c.criterion: c.max_points - 2 for c in policy.rubric}
    codes = affiliations or [expert_affiliation(i) for i in range(n)]
    return [{"expert_id": f"专家库-{i}", "expert_name": f"专家{i}", "affiliation": codes[i], "scores": marks,
             "comment": "同意"} for i in range(n)]


def meeting(role: Role, on: str, recorded_on: str, ref: str | None = "评审会〔2022〕3号") -> Act:
    return Act(f"{role.value}-1", role, date.fromisoformat(on), (ref,) if ref else (),
               recorded_on=date.fromisoformat(recorded_on))


def test_art8_3_review_meeting_score_sheets_recorded_by_the_agency(memory_registry):
    drv = Driver(memory_registry).to("accepted")  # accepted 2022-03-10
    pid = drv.pid
    memory_registry.record_score_sheets(pid, meeting(Role.SERVICE_AGENCY, "2022-04-15", "2022-05-20"),
                                        sheets(memory_registry, pid, 6))
    platform = drv.platform
    assert platform.status == "reviewed" and platform.review_experts == 6  # every sheet of the meeting counts
    scored = [e for e in memory_registry.stream(pid) if type(e).__name__ == "Scored"]
    assert [e.act.actor_id for e in scored] == [f"专家库-{i}" for i in range(6)]
    first = scored[0]
    assert first.act.role is Role.EXPERT and first.act.business_date == date(2022, 4, 15)
    assert first.act.recorded_by == Clerk("service_agency-1", Role.SERVICE_AGENCY)
    assert (first.expert_name, first.affiliation) == ("专家0", expert_affiliation(0))
    assert first.act.document_refs == ("评审会〔2022〕3号",)
    # The inspection depends on the review: not before the meeting.
    with pytest.raises(RuleViolation) as err:
        memory_registry.inspect(pid, True, "ok", act(Role.BUREAU, "2022-04-14"))
    assert err.value.code == "business_date_before_previous"


def test_art8_3_a_conflicted_expert_on_a_paper_sheet_must_recuse_as_online_and_nothing_is_recorded(
        memory_registry):
    drv = Driver(memory_registry).to("accepted")
    pid, host = drv.pid, drv.platform.host_credit_code
    before = drv.platform.version
    codes = [expert_affiliation(i) for i in range(4)] + [host]
    with pytest.raises(RuleViolation) as err:
        memory_registry.record_score_sheets(pid, meeting(Role.BUREAU, "2022-04-15", "2022-05-20"),
                                            sheets(memory_registry, pid, 5, codes))
    assert (err.value.code, err.value.article) == ("expert_conflict_of_interest", "Art. 8(3)")
    assert "专家库-4" in err.value.message
    assert drv.platform.version == before and drv.platform.scores == {}


def test_art8_3_paper_sheets_name_the_expert_and_a_valid_affiliation_and_the_meeting(memory_registry):
    drv = Driver(memory_registry).to("accepted")
    pid = drv.pid
    bad = sheets(memory_registry, pid, 5)
    bad[2]["affiliation"] = "91430100XXXXXXXXXX"
    with pytest.raises(InvalidInput) as err:
        memory_registry.record_score_sheets(pid, meeting(Role.SERVICE_AGENCY, "2022-04-15", "2022-05-20"), bad)
    assert (err.value.code, err.value.field) == ("invalid_credit_code", "sheets[2].affiliation")
    nameless = sheets(memory_registry, pid, 5)
    nameless[0]["expert_name"] = " "
    with pytest.raises(InvalidInput) as err:
        memory_registry.record_score_sheets(pid, meeting(Role.SERVICE_AGENCY, "2022-04-15", "2022-05-20"), nameless)
    assert err.value.field == "sheets[0].expert_name"
    with pytest.raises(InvalidInput) as err:
        memory_registry.record_score_sheets(pid, meeting(Role.SERVICE_AGENCY, "2022-04-15", "2022-05-20", None),
                                            sheets(memory_registry, pid, 5))
    assert err.value.field == "meeting_ref"


def test_art8_3_paper_sheets_are_not_dated_before_the_formal_review(memory_registry):
    drv = Driver(memory_registry).to("accepted")  # accepted 2022-03-10
    with pytest.raises(RuleViolation) as err:
        memory_registry.record_score_sheets(drv.pid, meeting(Role.SERVICE_AGENCY, "2022-03-09", "2022-05-20"),
                                            sheets(memory_registry, drv.pid, 5))
    assert err.value.code == "business_date_before_previous"


def test_art8_3_an_expert_scoring_for_themselves_still_acts_today(memory_registry):
    drv = Driver(memory_registry).to("accepted")
    with pytest.raises(InvalidInput) as err:
        Act("expert-1", Role.EXPERT, date(2022, 4, 15), recorded_on=date(2022, 5, 20))
    assert err.value.code == "business_date_not_today"
    # An online sheet of its day and a meeting's earlier paper sheets: the review is dated on the latest.
    memory_registry.score(drv.pid, sheets(memory_registry, drv.pid, 1)[0]["scores"], "好", expert_affiliation(9),
                          act(Role.EXPERT, "2022-04-20", who="expert-online"))
    memory_registry.record_score_sheets(drv.pid, meeting(Role.SERVICE_AGENCY, "2022-04-15", "2022-05-20"),
                                        sheets(memory_registry, drv.pid, 4))
    completed = list(memory_registry.stream(drv.pid))[-1]
    assert type(completed).__name__ == "ReviewCompleted" and completed.act.business_date == date(2022, 4, 20)
