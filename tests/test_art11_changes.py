"""Art. 10-11: major changes are reported and decided by the bureau; an approved change takes
effect from its decision."""

from __future__ import annotations

import pytest

from aggregates.errors import InvalidInput, NotFound, RuleViolation
from aggregates.programme import Driver, act
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
