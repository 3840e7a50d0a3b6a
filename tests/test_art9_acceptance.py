"""Art. 9: execution period, acceptance application deadline, acceptance review, recognition
and the once-only grant."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from aggregates.errors import InvalidInput, RuleViolation
from aggregates.programme import Driver, act
from aggregates.values import Role


def results(achieved=True):
    return [{"name": "开放接口数", "achieved": achieved}, {"name": "服务企业数", "achieved": True}]


def test_art9_1_early_application_is_allowed_and_marked(memory_registry):
    drv = Driver(memory_registry).to("under_construction")
    memory_registry.apply_for_acceptance(drv.pid, act(Role.APPLICANT, "2023-06-30"), summary="提前完成")
    assert drv.platform.acceptance["early"] is True


def test_art9_1_application_on_the_deadline_is_accepted(memory_registry):
    drv = Driver(memory_registry).to("under_construction")
    memory_registry.apply_for_acceptance(drv.pid, act(Role.APPLICANT, "2023-11-30"), summary="按期")
    assert drv.platform.status == "acceptance_applied" and drv.platform.acceptance["early"] is False


def test_art9_1_application_after_the_deadline_is_refused(memory_registry):
    drv = Driver(memory_registry).to("under_construction")
    with pytest.raises(RuleViolation) as err:
        memory_registry.apply_for_acceptance(drv.pid, act(Role.APPLICANT, "2023-12-01"), summary="逾期")
    assert (err.value.code, err.value.article) == ("acceptance_deadline_passed", "Art. 9(1)")
    assert "2023-11-30" in err.value.message


def test_art9_1_deadline_on_spring_festival_2024_moves_to_the_make_up_sunday(memory_registry):
    drv = Driver(memory_registry).to("notified")
    # Period 2023-01-11..2024-01-10; one month later is 2024-02-10, 春节 (rest until 02-17);
    # the first working day after it is Sunday 2024-02-18, a make-up working day (调休).
    memory_registry.sign_task_book(drv.pid, act(Role.BUREAU, "2022-11-01", "任务书"),
                                   indicators=[{"name": "开放接口数", "target": "20"}], period_start=date(2023, 1, 11))
    assert drv.platform.task_book["period_end"] == date(2024, 1, 10)
    assert drv.platform.task_book["acceptance_due"] == date(2024, 2, 18)
    with pytest.raises(RuleViolation):
        memory_registry.apply_for_acceptance(drv.pid, act(Role.APPLICANT, "2024-02-19"), summary="晚一天")
    memory_registry.apply_for_acceptance(drv.pid, act(Role.APPLICANT, "2024-02-18"), summary="调休日提交")


def test_art9_3_qualified_leads_to_recognition_and_one_grant(memory_registry):
    drv = Driver(memory_registry).to("funded")
    assert drv.platform.disbursed == Decimal("1000000.00")
    with pytest.raises(RuleViolation) as err:
        memory_registry.fund(drv.pid, act(Role.FINANCE, "2023-12-21", "again"))
    assert (err.value.code, err.value.article) == ("already_funded", "Art. 9(3)")


def test_art9_3_grant_amount_must_be_the_policys(memory_registry):
    drv = Driver(memory_registry).to("recognized")
    with pytest.raises(RuleViolation) as err:
        memory_registry.fund(drv.pid, act(Role.FINANCE, "2023-12-20", "doc"), amount=Decimal("999999.99"))
    assert err.value.code == "funding_amount_mismatch"
    memory_registry.fund(drv.pid, act(Role.FINANCE, "2023-12-20", "doc"), amount=Decimal("1000000.00"))


def test_art9_3_no_grant_before_recognition(memory_registry):
    drv = Driver(memory_registry).to("qualified")
    with pytest.raises(RuleViolation) as err:
        memory_registry.fund(drv.pid, act(Role.FINANCE, "2023-12-20", "doc"))
    assert err.value.code == "wrong_stage"


def test_art9_3_unqualified_terminates_without_money(memory_registry):
    drv = Driver(memory_registry).to("acceptance_applied")
    memory_registry.review_acceptance(drv.pid, act(Role.SERVICE_AGENCY, "2023-12-01", "验收纪要"), panel=["甲"],
                                      indicator_results=results(False), funds_use_compliant=True, qualified=False)
    platform = drv.platform
    assert platform.status == "terminated" and platform.committed == Decimal("0.00")
    assert platform.disbursed == Decimal("0.00")
    names = [type(e).__name__ for e in memory_registry.stream(drv.pid)][-2:]
    assert names == ["AcceptanceReviewed", "Terminated"]


def test_art9_3_qualified_needs_compliant_funds(memory_registry):
    drv = Driver(memory_registry).to("acceptance_applied")
    with pytest.raises(RuleViolation) as err:
        memory_registry.review_acceptance(drv.pid, act(Role.SERVICE_AGENCY, "2023-12-01"), panel=["甲"],
                                          indicator_results=results(True), funds_use_compliant=False,
                                          qualified=True)
    assert (err.value.code, err.value.article) == ("qualified_contradicts_results", "Art. 9(3)")


def test_art9_3_qualified_with_an_indicator_missed_needs_the_panels_justification(memory_registry):
    drv = Driver(memory_registry).to("acceptance_applied")
    review = act(Role.SERVICE_AGENCY, "2023-12-01")
    for blank in (None, "  "):
        with pytest.raises(RuleViolation) as err:
            memory_registry.review_acceptance(drv.pid, review, panel=["甲"], indicator_results=results(False),
                                              funds_use_compliant=True, qualified=True, justification=blank)
        assert (err.value.code, err.value.article) == ("justification_required", "Art. 9(3)")
        assert "开放接口数" in err.value.message
    assert drv.platform.status == "acceptance_applied"
    memory_registry.review_acceptance(drv.pid, review, panel=["甲"], indicator_results=results(False),
                                      funds_use_compliant=True, qualified=True,
                                      justification="开放接口数18个，差2个，但服务企业数远超目标，专家组一致认为合格")
    platform = drv.platform
    assert platform.status == "qualified"
    assert platform.acceptance["justification"].startswith("开放接口数18个")
    reviewed = [e for e in memory_registry.stream(drv.pid) if type(e).__name__ == "AcceptanceReviewed"]
    assert reviewed[0].justification == platform.acceptance["justification"]


def test_art9_3_a_justification_is_refused_where_nothing_departs(memory_registry):
    drv = Driver(memory_registry).to("acceptance_applied")
    for achieved, qualified in ((True, True), (False, False)):
        with pytest.raises(RuleViolation) as err:
            memory_registry.review_acceptance(drv.pid, act(Role.SERVICE_AGENCY, "2023-12-01"), panel=["甲"],
                                              indicator_results=results(achieved), funds_use_compliant=True,
                                              qualified=qualified, justification="理由")
        assert err.value.code == "justification_not_needed"


def test_art9_1_a_period_other_than_one_year_needs_a_recorded_reason(memory_registry):
    drv = Driver(memory_registry).to("notified")
    sign = act(Role.BUREAU, "2022-11-01", "任务书2022-07")
    indicators = [{"name": "开放接口数", "target": "20"}]
    for end in (date(2022, 11, 1), date(2027, 10, 31), date(2023, 10, 30)):  # one day, five years, a day short
        with pytest.raises(RuleViolation) as err:
            memory_registry.sign_task_book(drv.pid, sign, indicators=indicators, period_start=date(2022, 11, 1),
                                           period_end=end)
        assert (err.value.code, err.value.article) == ("period_reason_required", "Art. 9(1)")
        assert "2023-10-31" in err.value.message
    with pytest.raises(RuleViolation) as err:  # the one year needs no reason
        memory_registry.sign_task_book(drv.pid, sign, indicators=indicators, period_start=date(2022, 11, 1),
                                       period_end=date(2023, 10, 31), period_reason="无")
    assert err.value.code == "period_reason_not_needed"
    reason = "建设内容含算力中心二期，经局务会同意延长半年"
    memory_registry.sign_task_book(drv.pid, sign, indicators=indicators, period_start=date(2022, 11, 1),
                                   period_end=date(2024, 4, 30), period_reason=reason)
    book = drv.platform.signed_task_book
    assert book is not None and book.period_end == date(2024, 4, 30)
    assert book.period_reason == reason
    assert book.acceptance_due == date(2024, 5, 30)


def test_art9_1_a_one_year_period_is_signed_without_a_reason(memory_registry):
    drv = Driver(memory_registry).to("under_construction")
    book = drv.platform.signed_task_book
    assert book is not None and (book.period_reason, book.version) == (None, 1)


def test_art9_3_results_must_cover_the_task_book(memory_registry):
    drv = Driver(memory_registry).to("acceptance_applied")
    with pytest.raises(RuleViolation) as err:
        memory_registry.review_acceptance(drv.pid, act(Role.SERVICE_AGENCY, "2023-12-01"), panel=["甲"],
                                          indicator_results=[{"name": "开放接口数", "achieved": True}],
                                          funds_use_compliant=True, qualified=True)
    assert err.value.code == "indicator_results_mismatch" and "服务企业数" in err.value.message
    with pytest.raises(InvalidInput):
        memory_registry.review_acceptance(drv.pid, act(Role.SERVICE_AGENCY, "2023-12-01"), panel=[],
                                          indicator_results=results(), funds_use_compliant=True, qualified=True)
