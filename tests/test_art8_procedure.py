"""Art. 6-8: application, formal review, expert review, inspection, approval, publicity,
objections, notice and task book."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from aggregates.errors import InvalidInput, RuleViolation
from aggregates.programme import Driver, act, application, credit_code
from aggregates.values import Role


def types(app, pid):
    return [type(e).__name__ for e in app.stream(pid)]


def test_art8_full_procedure_records_one_event_per_fact(memory_registry):
    drv = Driver(memory_registry).to("funded")
    assert drv.platform.status == "funded"
    assert types(memory_registry, drv.pid) == [
        "Applied", "Accepted", "Scored", "Scored", "Scored", "Scored", "Scored", "ReviewCompleted",
        "Inspected", "Approved", "Publicized", "NoticeIssued", "TaskBookSigned", "AcceptanceApplied",
        "AcceptanceReviewed", "AcceptedAsQualified", "Recognized", "Funded",
    ]
    for event in memory_registry.stream(drv.pid):
        assert event.act.actor_id and event.act.role and event.act.business_date


def test_art8_1_invalid_credit_code_refused_with_field(memory_registry):
    body = application()
    body["host_unit"]["credit_code"] = body["host_unit"]["credit_code"][:-1] + (
        "0" if body["host_unit"]["credit_code"][-1] != "0" else "1")
    with pytest.raises(InvalidInput) as err:
        memory_registry.apply(act(Role.APPLICANT, "2022-03-01"), **body)
    assert err.value.field == "host_unit.credit_code"


def test_art4_unknown_subfield_refused(memory_registry):
    with pytest.raises(InvalidInput) as err:
        memory_registry.apply(act(Role.APPLICANT, "2022-03-01"), **application("量子计算"))
    assert err.value.code == "unknown_subfield" and err.value.field == "subfield"


def test_art4_subfield_spelling_is_normalised(memory_registry):
    r = memory_registry.apply(act(Role.APPLICANT, "2022-03-01"), **application("智能软硬件（嵌入式）"))
    assert memory_registry.get_platform(r.aggregate_id).subfield == "智能软硬件(嵌入式)"


def test_art7_1_expired_high_tech_certificate_refused(memory_registry):
    body = application()
    body["host_unit"]["high_tech_certificate"]["valid_until"] = date(2022, 2, 28)
    with pytest.raises(RuleViolation) as err:
        memory_registry.apply(act(Role.APPLICANT, "2022-03-01"), **body)
    assert (err.value.code, err.value.article) == ("high_tech_certificate_expired", "Art. 7(1)")


def test_art7_2_achievement_must_be_pilot_or_industrial(memory_registry):
    body = application(achievements=[{"title": "论文", "stage": "research"}])
    with pytest.raises(RuleViolation) as err:
        memory_registry.apply(act(Role.APPLICANT, "2022-03-01"), **body)
    assert err.value.article == "Art. 7(2)"


def test_art6_formal_review_needs_basic_conditions(memory_registry):
    r = memory_registry.apply(act(Role.APPLICANT, "2022-03-01"),
                              **application(basic_conditions={"technical_strength": "领先"}))
    with pytest.raises(RuleViolation) as err:
        memory_registry.intake(r.aggregate_id, True, "", act(Role.SERVICE_AGENCY, "2022-03-10"))
    assert err.value.article == "Art. 6" and "open_sharing" in err.value.message


def test_art8_2_not_accepted_ends_the_application_with_reasons(memory_registry):
    r = memory_registry.apply(act(Role.APPLICANT, "2022-03-01"), **application())
    with pytest.raises(InvalidInput):
        memory_registry.intake(r.aggregate_id, False, " ", act(Role.SERVICE_AGENCY, "2022-03-10"))
    memory_registry.intake(r.aggregate_id, False, "材料不全", act(Role.SERVICE_AGENCY, "2022-03-10"))
    platform = memory_registry.get_platform(r.aggregate_id)
    assert platform.status == "not_accepted" and platform.intake_reasons == "材料不全"
    with pytest.raises(RuleViolation) as err:
        memory_registry.score(r.aggregate_id, {}, "", None, act(Role.EXPERT, "2022-03-11"))
    assert err.value.code == "wrong_stage"


def test_art8_3_each_expert_scores_once(memory_registry):
    drv = Driver(memory_registry).to("accepted")
    policy = memory_registry.policies.get(drv.platform.policy_ref)
    full = {c.criterion: c.max_points for c in policy.rubric}
    memory_registry.score(drv.pid, full, "", None, act(Role.EXPERT, "2022-04-01", who="e1"))
    with pytest.raises(RuleViolation) as err:
        memory_registry.score(drv.pid, full, "", None, act(Role.EXPERT, "2022-04-01", who="e1"))
    assert (err.value.code, err.value.article) == ("already_scored", "Art. 8(3)")


def test_art8_3_expert_from_host_unit_or_co_builder_must_recuse(memory_registry):
    host, partner = credit_code(), credit_code()
    drv = Driver(memory_registry)
    drv.to("accepted", host_unit={"name": "U", "credit_code": host,
                                  "high_tech_certificate": {"number": "GR1", "valid_until": date(2025, 1, 1)}},
           co_builders=[{"name": "湖南大学", "credit_code": partner}])
    policy = memory_registry.policies.get(drv.platform.policy_ref)
    full = {c.criterion: c.max_points for c in policy.rubric}
    for affiliation in (host, partner):
        with pytest.raises(RuleViolation) as err:
            memory_registry.score(drv.pid, full, "", affiliation, act(Role.EXPERT, "2022-04-01", who="e9"))
        assert err.value.code == "expert_conflict_of_interest"
    assert drv.platform.scores == {}


def test_art8_3_scores_must_fit_the_rubric(memory_registry):
    drv = Driver(memory_registry).to("accepted")
    policy = memory_registry.policies.get(drv.platform.policy_ref)
    too_high = {c.criterion: c.max_points + 1 for c in policy.rubric}
    with pytest.raises(InvalidInput) as err:
        memory_registry.score(drv.pid, too_high, "", None, act(Role.EXPERT, "2022-04-01"))
    assert err.value.field.startswith("scores.")
    with pytest.raises(InvalidInput):
        memory_registry.score(drv.pid, {"unknown": 1}, "", None, act(Role.EXPERT, "2022-04-01"))


def test_art8_3_review_completes_at_minimum_with_trimmed_mean(memory_registry):
    drv = Driver(memory_registry).to("accepted")
    policy = memory_registry.policies.get(drv.platform.policy_ref)
    assert policy.min_experts == 5 and policy.scoring_method == "trimmed_mean"
    totals = [100, 90, 80, 70, 20]  # trimmed: (90 + 80 + 70) / 3 = 80.00
    for i, total in enumerate(totals):
        scores, left = {}, total
        for c in policy.rubric:
            scores[c.criterion] = min(c.max_points, left)
            left -= scores[c.criterion]
        assert drv.platform.status == "accepted"
        memory_registry.score(drv.pid, scores, "", None, act(Role.EXPERT, "2022-04-01", who=f"e{i}"))
    platform = drv.platform
    assert platform.status == "reviewed"
    assert platform.review_result == Decimal("80.00")


def test_art8_4_failed_inspection_rejects(memory_registry):
    drv = Driver(memory_registry).to("reviewed")
    memory_registry.inspect(drv.pid, False, "场地与申报不符", act(Role.BUREAU, "2022-05-20"))
    assert drv.platform.status == "rejected"
    with pytest.raises(RuleViolation) as err:
        memory_registry.approve(drv.pid, act(Role.BUREAU, "2022-09-01"), party_group_meeting_ref="p",
                                vice_mayor_approval_ref="v", funding_plan_ref="f")
    assert err.value.code == "wrong_stage"


def test_art8_5_approval_records_references_and_commits_the_grant(memory_registry):
    drv = Driver(memory_registry).to("inspected")
    with pytest.raises(InvalidInput) as err:
        memory_registry.approve(drv.pid, act(Role.BUREAU, "2022-09-01"), party_group_meeting_ref="",
                                vice_mayor_approval_ref="v", funding_plan_ref="f")
    assert err.value.field == "party_group_meeting_ref"
    drv.to("approved")
    assert drv.platform.approval["vice_mayor_approval_ref"] == "副市长审定〔2022〕3号"
    assert drv.platform.committed == Decimal("1000000.00")


def test_art8_6_publicity_over_national_day_2022_ends_on_10_october(memory_registry):
    drv = Driver(memory_registry).to("in_publicity")
    assert drv.platform.publicity["first_day"] == date(2022, 9, 29)
    assert drv.platform.publicity["last_day"] == date(2022, 10, 10)
    assert memory_registry.get_batch(drv.batch_ref).last_day == date(2022, 10, 10)


def test_art8_6_objection_on_last_day_is_admissible_and_blocks_the_notice(memory_registry):
    drv = Driver(memory_registry).to("in_publicity")
    r = memory_registry.object(drv.pid, act(Role.PUBLIC, "2022-10-10", who="public"),
                               objector_name="张三", contact="138", content="数据造假")
    assert r.extra == {"objection_id": "1", "admissible": True}
    with pytest.raises(RuleViolation) as err:
        memory_registry.issue_notice(drv.pid, act(Role.BUREAU, "2022-10-11", "通知"))
    assert (err.value.code, err.value.article) == ("objections_unresolved", "Art. 8(7)")
    memory_registry.resolve_objection(drv.pid, "1", act(Role.BUREAU, "2022-10-12"), upheld=False,
                                      handling_opinion="经核查不属实", vice_mayor_decision_ref="副市长〔2022〕9号")
    memory_registry.issue_notice(drv.pid, act(Role.BUREAU, "2022-10-12", "通知"))
    assert drv.platform.status == "notified"


def test_art8_6_late_objection_is_recorded_but_not_blocking(memory_registry):
    drv = Driver(memory_registry).to("in_publicity")
    r = memory_registry.object(drv.pid, act(Role.PUBLIC, "2022-10-11", who="public"),
                               objector_name="李四", contact="139", content="迟到的异议")
    assert r.extra["admissible"] is False
    memory_registry.issue_notice(drv.pid, act(Role.BUREAU, "2022-10-11", "通知"))
    assert drv.platform.status == "notified"
    assert drv.platform.objections["1"]["admissible"] is False


def test_art8_7_notice_refused_while_window_open_on_its_last_day(memory_registry):
    drv = Driver(memory_registry).to("in_publicity")
    with pytest.raises(RuleViolation) as err:
        memory_registry.issue_notice(drv.pid, act(Role.BUREAU, "2022-10-10", "通知"))
    assert err.value.code == "publicity_window_open" and "2022-10-10" in err.value.message


def test_art8_6_upheld_objection_rescinds_approval_and_frees_subfield(memory_registry):
    drv = Driver(memory_registry).to("in_publicity")
    memory_registry.object(drv.pid, act(Role.PUBLIC, "2022-09-30", who="public"),
                           objector_name="王五", contact="137", content="不符合条件")
    memory_registry.resolve_objection(drv.pid, "1", act(Role.BUREAU, "2022-10-12"), upheld=True,
                                      handling_opinion="属实", vice_mayor_decision_ref="副市长〔2022〕10号")
    platform = drv.platform
    assert platform.status == "rejected" and platform.committed == Decimal("0.00")
    assert types(memory_registry, drv.pid)[-2:] == ["ObjectionResolved", "ApprovalRescinded"]
    Driver(memory_registry, subfield=platform.subfield).to("approved")  # the subfield is free again


def test_art8_6_spring_festival_2023_window(memory_registry):
    drv = Driver(memory_registry).to("approved")
    memory_registry.publicize(act(Role.BUREAU, "2023-01-19"), batch_ref="公示-2023-春节", media="长沙晚报",
                              start_date=date(2023, 1, 20), platform_ids=[drv.pid])
    assert drv.platform.publicity["last_day"] == date(2023, 1, 31)
    r = memory_registry.object(drv.pid, act(Role.PUBLIC, "2023-01-28", who="p"), objector_name="a",
                               contact="b", content="调休上班日提出")
    assert r.extra["admissible"] is True  # 2023-01-28 is a make-up working day inside the window
    memory_registry.resolve_objection(drv.pid, "1", act(Role.BUREAU, "2023-01-30"), upheld=False,
                                      handling_opinion="不属实", vice_mayor_decision_ref="r")
    with pytest.raises(RuleViolation):
        memory_registry.issue_notice(drv.pid, act(Role.BUREAU, "2023-01-31", "通知"))
    memory_registry.issue_notice(drv.pid, act(Role.BUREAU, "2023-02-01", "通知"))


def test_art8_6_batch_reference_is_unique(memory_registry):
    one = Driver(memory_registry, subfield="智能芯片").to("approved")
    two = Driver(memory_registry, subfield="智能终端").to("approved")
    memory_registry.publicize(act(Role.BUREAU, "2022-09-28"), batch_ref="B", media="m",
                              start_date=date(2022, 9, 29), platform_ids=[one.pid])
    with pytest.raises(RuleViolation) as err:
        memory_registry.publicize(act(Role.BUREAU, "2022-09-28"), batch_ref="B", media="m",
                                  start_date=date(2022, 9, 29), platform_ids=[two.pid])
    assert err.value.code == "batch_ref_taken"
    assert two.platform.status == "approved"


def test_art8_6_batch_with_one_unapproved_platform_writes_nothing(memory_registry):
    ready = Driver(memory_registry, subfield="智能芯片").to("approved")
    early = Driver(memory_registry, subfield="智能终端").to("inspected")
    before = memory_registry.recorder.max_notification_id()
    with pytest.raises(RuleViolation):
        memory_registry.publicize(act(Role.BUREAU, "2022-09-28"), batch_ref="B2", media="m",
                                  start_date=date(2022, 9, 29), platform_ids=[ready.pid, early.pid])
    assert memory_registry.recorder.max_notification_id() == before
    assert ready.platform.status == "approved"


def test_art8_7_task_book_defaults_to_one_year_and_month_deadline(memory_registry):
    drv = Driver(memory_registry).to("under_construction")
    book = drv.platform.task_book
    assert (book["period_start"], book["period_end"]) == (date(2022, 11, 1), date(2023, 10, 31))
    assert book["acceptance_due"] == date(2023, 11, 30)
    assert book["task_book_ref"] == "任务书2022-01"
