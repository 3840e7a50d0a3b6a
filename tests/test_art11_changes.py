"""Art. 10-11: major changes are reported and decided by the bureau; an approved change takes
effect from its decision."""

from __future__ import annotations

import copy
from datetime import date

import pytest

from aggregates.errors import InvalidInput, NotFound, RuleViolation
from aggregates.programme import Driver, act
from aggregates.task_book import TaskBook
from aggregates.values import ChangeKind, Role


def test_art11_change_cannot_be_reported_before_the_notice(memory_registry):
    drv = Driver(memory_registry).to("approved")
    with pytest.raises(RuleViolation) as err:
        memory_registry.report_change(drv.pid, act(Role.APPLICANT, "2022-09-02"), kind=ChangeKind.PRINCIPAL,
                                      description="负责人调整", new_value="赵六")
    assert err.value.article == "Art. 11"


def test_art11_approved_unit_name_change_takes_effect_from_the_decision(memory_registry):
    drv = Driver(memory_registry).to("under_construction")
    old_name = drv.platform.host_unit["name"]
    r = memory_registry.report_change(drv.pid, act(Role.APPLICANT, "2023-01-05"), kind=ChangeKind.UNIT_NAME,
                                      description="工商变更", new_value="湖南某智能科技股份有限公司")
    assert r.extra == {"change_id": "1"}
    assert drv.platform.host_unit["name"] == old_name  # reported, not yet in effect
    memory_registry.decide_change(drv.pid, "1", act(Role.BUREAU, "2023-01-20", "变更批复"), approved=True,
                                  reasons="同意")
    platform = drv.platform
    assert platform.host_unit["name"] == "湖南某智能科技股份有限公司"
    assert platform.changes["1"]["decided_on"].isoformat() == "2023-01-20"
    before = memory_registry.get_platform(drv.pid, version=platform.version - 1)
    assert before.host_unit["name"] == old_name


def test_art11_rejected_change_changes_nothing_and_cannot_be_decided_twice(memory_registry):
    drv = Driver(memory_registry).to("under_construction")
    memory_registry.report_change(drv.pid, act(Role.APPLICANT, "2023-01-05"), kind=ChangeKind.BUDGET,
                                  description="预算调减40%", new_value="预算调整为600万元")
    memory_registry.decide_change(drv.pid, "1", act(Role.BUREAU, "2023-01-20"), approved=False, reasons="理由不充分")
    assert drv.platform.budget is None and drv.platform.changes["1"]["decision"] == "rejected"
    with pytest.raises(RuleViolation) as err:
        memory_registry.decide_change(drv.pid, "1", act(Role.BUREAU, "2023-01-21"), approved=True, reasons="")
    assert err.value.code == "change_already_decided"
    with pytest.raises(NotFound):
        memory_registry.decide_change(drv.pid, "9", act(Role.BUREAU, "2023-01-21"), approved=True, reasons="")


def test_art11_indicator_change_replaces_the_task_book_indicators_used_at_acceptance(memory_registry):
    drv = Driver(memory_registry).to("under_construction")
    with pytest.raises(InvalidInput):
        memory_registry.report_change(drv.pid, act(Role.APPLICANT, "2023-01-05"), kind=ChangeKind.INDICATORS,
                                      description="指标调整", new_value="不是列表")
    memory_registry.report_change(drv.pid, act(Role.APPLICANT, "2023-01-05"), kind=ChangeKind.INDICATORS,
                                  description="指标调整", new_value=[{"name": "开放数据集", "target": "≥5"}])
    memory_registry.decide_change(drv.pid, "1", act(Role.BUREAU, "2023-01-20"), approved=True, reasons="同意")
    assert [i["name"] for i in drv.platform.task_book["indicators"]] == ["开放数据集"]
    memory_registry.apply_for_acceptance(drv.pid, act(Role.APPLICANT, "2023-11-01"), summary="完成")
    memory_registry.review_acceptance(drv.pid, act(Role.SERVICE_AGENCY, "2023-11-10"), panel=["甲"],
                                      indicator_results=[{"name": "开放数据集", "achieved": True}],
                                      funds_use_compliant=True, qualified=True)
    assert drv.platform.status == "qualified"


def refused_pending(call):
    with pytest.raises(RuleViolation) as err:
        call()
    assert (err.value.code, err.value.article) == ("change_pending", "Art. 11")
    return err.value


def test_art11_a_change_pending_holds_up_the_acceptance_review_until_decided(memory_registry):
    drv = Driver(memory_registry).to("acceptance_applied")
    memory_registry.report_change(drv.pid, act(Role.APPLICANT, "2023-11-22"), kind=ChangeKind.PRINCIPAL,
                                  description="负责人调整", new_value="赵六")
    error = refused_pending(lambda: drv.programme.review_acceptance(drv.pid))
    assert "1 (principal, reported 2023-11-22)" in error.message
    assert drv.platform.status == "acceptance_applied"
    memory_registry.decide_change(drv.pid, "1", act(Role.BUREAU, "2023-11-28", "变更批复"), approved=False,
                                  reasons="不同意")
    drv.programme.review_acceptance(drv.pid)
    assert drv.platform.status == "qualified"


def test_art11_a_change_pending_holds_up_recognition_and_the_grant(memory_registry):
    drv = Driver(memory_registry).to("qualified")
    memory_registry.report_change(drv.pid, act(Role.APPLICANT, "2023-12-05"), kind=ChangeKind.UNIT_NAME,
                                  description="工商变更", new_value="湖南某智能科技股份有限公司")
    refused_pending(lambda: drv.programme.recognize(drv.pid))
    memory_registry.decide_change(drv.pid, "1", act(Role.BUREAU, "2023-12-08"), approved=True, reasons="同意")
    drv.programme.recognize(drv.pid)
    memory_registry.report_change(drv.pid, act(Role.APPLICANT, "2023-12-12"), kind=ChangeKind.BUDGET,
                                  description="预算调整", new_value="预算调整为800万元")
    refused_pending(lambda: drv.programme.fund(drv.pid))
    assert drv.platform.disbursed == 0
    memory_registry.decide_change(drv.pid, "2", act(Role.BUREAU, "2023-12-15"), approved=True, reasons="同意")
    drv.programme.fund(drv.pid)
    assert drv.platform.status == "funded"


def test_art11_an_approved_indicator_change_makes_task_book_version_2_from_its_decision(memory_registry):
    drv = Driver(memory_registry).to("under_construction")
    memory_registry.report_change(drv.pid, act(Role.APPLICANT, "2023-03-01"), kind=ChangeKind.INDICATORS,
                                  description="指标调整", new_value=[{"name": "开放数据集", "target": "≥5"}])
    book = drv.platform.signed_task_book
    assert book is not None and book.version == 1  # reported, not yet in effect
    memory_registry.decide_change(drv.pid, "1", act(Role.BUREAU, "2023-03-15", "变更批复〔2023〕4号"),
                                  approved=True, reasons="同意")
    book = drv.platform.signed_task_book
    assert book is not None and book.version == 2
    v1, v2 = book.versions
    assert (v1.version, v1.effective_from, v1.document_ref) == (1, date(2022, 11, 1), "任务书2022-01")
    assert [i["name"] for i in v1.indicators] == ["开放接口数", "服务企业数"]
    assert (v2.version, v2.effective_from, v2.document_ref, v2.change_id) == (
        2, date(2023, 3, 15), "变更批复〔2023〕4号", "1")
    assert [i["name"] for i in v2.indicators] == ["开放数据集"]
    # The review judges version 2, in effect on its day, and names it.
    drv.to("qualified")
    assert drv.platform.acceptance["task_book_version"] == 2
    assert drv.platform.acceptance["indicator_results"] == [{"name": "开放数据集", "achieved": True}]


def test_art11_no_change_after_the_review_rewrites_the_version_it_judged(memory_registry):
    drv = Driver(memory_registry).to("funded")
    judged = drv.platform.signed_task_book
    with pytest.raises(RuleViolation) as err:
        memory_registry.report_change(drv.pid, act(Role.APPLICANT, "2024-01-10"), kind=ChangeKind.INDICATORS,
                                      description="验收后调整指标", new_value=[{"name": "新指标", "target": "1"}])
    assert (err.value.code, err.value.article) == ("task_book_judged", "Art. 11")
    assert "version 1" in err.value.message and "2023-12-01" in err.value.message
    assert drv.platform.signed_task_book == judged and drv.platform.acceptance["task_book_version"] == 1
    # Other changes are still reported and decided after the review (Art. 11 runs on).
    memory_registry.report_change(drv.pid, act(Role.APPLICANT, "2024-01-10"), kind=ChangeKind.PRINCIPAL,
                                  description="负责人调整", new_value="赵六")


def test_art11_events_stored_before_versions_decode_as_version_1(memory_registry):
    """A TaskBookSigned without period_reason and an AcceptanceReviewed without the version it
    judged or a justification (as stored before them) replay as version 1, with none."""
    from projections.views import summarize

    drv = Driver(memory_registry).to("qualified")
    old_fields = {"TaskBookSigned": ("period_reason",), "AcceptanceReviewed": ("task_book_version", "justification")}
    platform = None
    for stored in memory_registry.stream(drv.pid):
        e = copy.copy(stored)
        for name in old_fields.get(type(e).__name__, ()):
            del e.__dict__[name]
        platform = e.mutate(platform)
    assert platform is not None
    book = platform.signed_task_book
    assert book is not None and (book.version, book.period_reason, len(book.versions)) == (1, None, 1)
    assert (platform.acceptance["task_book_version"], platform.acceptance["justification"]) == (1, None)
    # A task book kept (in a snapshot) before it had versions is version 1 as it stands.
    record = {k: v for k, v in platform.task_book.items() if k not in ("versions", "period_reason")}
    assert TaskBook.of(record).version == 1 and TaskBook.of(record).versions[0].indicators == book.indicators
    assert summarize(platform)["task_book"]["version"] == 1
