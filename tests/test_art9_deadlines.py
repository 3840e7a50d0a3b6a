"""Art. 9(1): deadlines that act. A missed acceptance application deadline is recorded once, dated
the day after the deadline (moved past rest days), and put to the bureau, which terminates the
project (a ground from the closed list and a document) or admits a late application with its
justification, which then goes to the acceptance review as any other.

Real dates: the default round's period 2022-11-01..2023-10-31 is due 2023-11-30 (a Thursday); a
period ending 2023-11-16 is due Saturday 2023-12-16, moved to Monday 2023-12-18; one ending
2023-09-01 is due on National Day, moved to Saturday 2023-10-07, a make-up working day (调休).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from aggregates.calendar import WorkingDayCalendar
from aggregates.errors import CalendarNotLoaded, InvalidInput, RuleViolation
from aggregates.programme import INDICATORS, Driver, act
from aggregates.values import ChangeKind, Role, TerminationGround

CAL_2027 = Path(__file__).parent / "data" / "calendar-2027.json"


def _signed(app, period_start: date) -> Driver:
    """A platform notified on 2022-10-11 whose execution period starts on ``period_start``."""
    drv = Driver(app).to("notified")
    app.sign_task_book(drv.pid, act(Role.BUREAU, "2022-11-01", "任务书"), indicators=list(INDICATORS),
                       period_start=period_start)
    return drv


def _events(app, pid) -> list[str]:
    return [type(e).__name__ for e in app.stream(pid)]


# ---------------------------------------------------------------- the miss, recorded once
def test_art9_1_a_missed_deadline_is_recorded_the_day_after_it(memory_registry):
    drv = Driver(memory_registry).to("under_construction")  # due 2023-11-30
    with pytest.raises(RuleViolation) as err:
        memory_registry.record_acceptance_deadline_missed(drv.pid, today=date(2023, 11, 30))
    assert (err.value.code, err.value.article) == ("acceptance_deadline_not_passed", "Art. 9(1)")
    memory_registry.record_acceptance_deadline_missed(drv.pid, today=date(2024, 3, 5))  # found late: still 12-01
    platform = drv.platform
    missed = list(memory_registry.stream(drv.pid))[-1]
    assert type(missed).__name__ == "AcceptanceDeadlineMissed"
    assert (missed.acceptance_due, missed.act.business_date) == (date(2023, 11, 30), date(2023, 12, 1))
    assert (missed.act.actor_id, missed.act.role) == ("deadline-watch", Role.SYSTEM)
    # Still under construction, holding its subfield and the commitment: the bureau decides.
    assert platform.status == "under_construction" and platform.committed == Decimal("1000000.00")
    assert platform.acceptance_missed == {"acceptance_due": date(2023, 11, 30), "missed_on": date(2023, 12, 1)}


def test_art9_1_a_miss_is_recorded_once(memory_registry):
    drv = Driver(memory_registry).to("under_construction")
    memory_registry.record_acceptance_deadline_missed(drv.pid, today=date(2023, 12, 1))
    with pytest.raises(RuleViolation) as err:
        memory_registry.record_acceptance_deadline_missed(drv.pid, today=date(2023, 12, 2))
    assert err.value.code == "acceptance_deadline_miss_recorded"
    assert _events(memory_registry, drv.pid).count("AcceptanceDeadlineMissed") == 1


def test_art9_1_deadline_on_a_saturday_is_missed_only_after_the_monday(memory_registry):
    drv = _signed(memory_registry, date(2022, 11, 17))  # period to 2023-11-16; 2023-12-16 is a Saturday
    assert drv.platform.task_book["acceptance_due"] == date(2023, 12, 18)
    for today in (date(2023, 12, 17), date(2023, 12, 18)):
        with pytest.raises(RuleViolation, match="not missed"):
            memory_registry.record_acceptance_deadline_missed(drv.pid, today=today)
    memory_registry.record_acceptance_deadline_missed(drv.pid, today=date(2023, 12, 19))
    assert drv.platform.acceptance_missed["missed_on"] == date(2023, 12, 19)


def test_art9_1_deadline_on_national_day_moves_to_the_make_up_saturday(memory_registry):
    drv = Driver(memory_registry).to("notified")
    memory_registry.sign_task_book(drv.pid, act(Role.BUREAU, "2022-11-01", "任务书"), indicators=list(INDICATORS),
                                   period_start=date(2022, 11, 1), period_end=date(2023, 9, 1),
                                   period_reason="建设任务提前完成，执行期缩短为十个月")
    # 2023-10-01 is National Day (rest through 10-06); Saturday 10-07 is a make-up working day.
    assert drv.platform.task_book["acceptance_due"] == date(2023, 10, 7)
    with pytest.raises(RuleViolation, match="not missed"):
        memory_registry.record_acceptance_deadline_missed(drv.pid, today=date(2023, 10, 7))
    memory_registry.record_acceptance_deadline_missed(drv.pid, today=date(2023, 10, 8))
    assert drv.platform.acceptance_missed["missed_on"] == date(2023, 10, 8)


def test_art9_1_a_miss_after_a_later_act_keeps_the_record_in_order(memory_registry):
    """A major change decided after the deadline, recorded before the watch ran: the miss is
    dated on that later day (a platform's record never runs backwards) and keeps the deadline."""
    drv = Driver(memory_registry).to("under_construction")
    drv.programme.change(drv.pid, ChangeKind.GOALS, "新目标", reported_on="2023-12-03", decided_on="2023-12-04")
    memory_registry.record_acceptance_deadline_missed(drv.pid, today=date(2023, 12, 10))
    assert drv.platform.acceptance_missed == {"acceptance_due": date(2023, 11, 30), "missed_on": date(2023, 12, 4)}


def test_art9_1_a_pending_deadline_is_never_guessed(memory_registry):
    drv = _signed(memory_registry, date(2025, 12, 16))  # period to 2026-12-15, due in 2027: not loaded
    assert drv.platform.task_book["acceptance_due"] is None
    with pytest.raises(CalendarNotLoaded, match="2027"):
        memory_registry.record_acceptance_deadline_missed(drv.pid, today=date(2027, 3, 1))
    assert "AcceptanceDeadlineMissed" not in _events(memory_registry, drv.pid)
    memory_registry.calendar = WorkingDayCalendar.from_file(CAL_2027)  # the operator loads 2027
    memory_registry.record_acceptance_deadline_missed(drv.pid, today=date(2027, 3, 1))
    platform = drv.platform
    # 2027-01-15 is a Friday and a working day in the loaded schedule.
    assert platform.acceptance_missed == {"acceptance_due": date(2027, 1, 15), "missed_on": date(2027, 1, 16)}
    assert platform.task_book["acceptance_due"] == date(2027, 1, 15)


def test_art9_1_only_a_platform_under_construction_can_miss_it(memory_registry):
    drv = Driver(memory_registry).to("acceptance_applied")  # applied 2023-11-20, in time
    with pytest.raises(RuleViolation) as err:
        memory_registry.record_acceptance_deadline_missed(drv.pid, today=date(2023, 12, 1))
    assert err.value.code == "wrong_stage"


# ---------------------------------------------------------------- the bureau decides
def test_art9_1_late_application_admitted_with_justification_goes_to_review(memory_registry):
    drv = Driver(memory_registry).to("under_construction")
    with pytest.raises(RuleViolation) as err:  # no miss recorded: nothing to admit
        memory_registry.admit_late_acceptance(drv.pid, act(Role.BUREAU, "2023-12-01"), justification="疫情")
    assert err.value.code == "acceptance_deadline_not_missed"
    memory_registry.record_acceptance_deadline_missed(drv.pid, today=date(2023, 12, 1))
    with pytest.raises(RuleViolation) as err:  # late, and not admitted
        memory_registry.apply_for_acceptance(drv.pid, act(Role.APPLICANT, "2023-12-04"), summary="逾期")
    assert err.value.code == "acceptance_deadline_passed"
    with pytest.raises(InvalidInput) as bad:
        memory_registry.admit_late_acceptance(drv.pid, act(Role.BUREAU, "2023-12-05"), justification="  ")
    assert bad.value.field == "justification"
    memory_registry.admit_late_acceptance(drv.pid, act(Role.BUREAU, "2023-12-05", "长科函〔2023〕12号"),
                                          justification="验收材料因第三方检测延误，经核实情况属实")
    with pytest.raises(RuleViolation) as err:
        memory_registry.admit_late_acceptance(drv.pid, act(Role.BUREAU, "2023-12-06"), justification="再次")
    assert err.value.code == "late_acceptance_already_admitted"
    memory_registry.apply_for_acceptance(drv.pid, act(Role.APPLICANT, "2023-12-08"), summary="逾期申请")
    assert drv.platform.acceptance["late_admitted"] is True
    drv.programme.review_acceptance(drv.pid, on="2023-12-20")
    drv.programme.recognize(drv.pid, on="2023-12-28")
    drv.programme.fund(drv.pid, on="2024-01-05")
    platform = drv.platform
    assert platform.status == "funded" and platform.disbursed == Decimal("1000000.00")
    assert platform.late_acceptance == {"justification": "验收材料因第三方检测延误，经核实情况属实",
                                        "admitted_on": date(2023, 12, 5), "document_ref": "长科函〔2023〕12号"}


def test_art9_1_terminated_for_the_missed_deadline_with_ground_and_document(memory_registry):
    drv = Driver(memory_registry).to("under_construction")
    ground = TerminationGround.ACCEPTANCE_DEADLINE_MISSED
    with pytest.raises(RuleViolation) as err:  # not recorded yet
        memory_registry.terminate(drv.pid, act(Role.BUREAU, "2023-12-05", "长科发〔2023〕98号"), ground=ground,
                                  reasons="逾期")
    assert (err.value.code, err.value.article) == ("acceptance_deadline_not_missed", "Art. 9(1)")
    memory_registry.record_acceptance_deadline_missed(drv.pid, today=date(2023, 12, 1))
    with pytest.raises(InvalidInput) as bad:
        memory_registry.terminate(drv.pid, act(Role.BUREAU, "2023-12-05"), ground=ground, reasons="逾期")
    assert (bad.value.code, bad.value.field) == ("reference_required", "document_ref")
    memory_registry.terminate(drv.pid, act(Role.BUREAU, "2023-12-05", "长科发〔2023〕98号"), ground=ground,
                              reasons="执行期满一个月内未提出验收申请")
    platform = drv.platform
    assert platform.status == "terminated" and platform.committed == Decimal("0.00")
    assert platform.termination == {"ground": "acceptance_deadline_missed", "reasons": "执行期满一个月内未提出验收申请",
                                    "terminated_on": date(2023, 12, 5), "document_ref": "长科发〔2023〕98号"}


def test_art9_1_a_timely_application_is_not_terminable_on_the_deadline_ground(memory_registry):
    drv = Driver(memory_registry).to("acceptance_applied")  # 2023-11-20, before 2023-11-30
    with pytest.raises(RuleViolation) as err:
        memory_registry.terminate(drv.pid, act(Role.BUREAU, "2023-12-05", "文号"),
                                  ground=TerminationGround.ACCEPTANCE_DEADLINE_MISSED, reasons="逾期")
    assert err.value.code == "acceptance_deadline_not_missed"
    with pytest.raises(InvalidInput) as bad:  # no bare reason: the document is required
        memory_registry.terminate(drv.pid, act(Role.BUREAU, "2023-12-05"), ground=TerminationGround.CONDITIONS_LOST,
                                  reasons="高新技术企业资格失效")
    assert bad.value.field == "document_ref"
    memory_registry.terminate(drv.pid, act(Role.BUREAU, "2023-12-05", "长科发〔2023〕99号"),
                              ground=TerminationGround.CONDITIONS_LOST, reasons="高新技术企业资格失效")
    assert drv.platform.termination["ground"] == "conditions_lost"


def test_art9_3_unqualified_is_the_acceptance_reviews_ground(memory_registry):
    drv = Driver(memory_registry).to("acceptance_applied")
    with pytest.raises(RuleViolation) as err:
        memory_registry.terminate(drv.pid, act(Role.BUREAU, "2023-12-05", "文号"),
                                  ground=TerminationGround.UNQUALIFIED, reasons="不合格")
    assert (err.value.code, err.value.article) == ("ground_not_available", "Art. 9(3)")
    drv.programme.review_acceptance(drv.pid, qualified=False)
    assert drv.platform.termination["ground"] == "unqualified"


def test_art8_7_task_book_not_signed_only_before_the_task_book(memory_registry):
    drv = Driver(memory_registry).to("under_construction")
    with pytest.raises(RuleViolation) as err:
        memory_registry.terminate(drv.pid, act(Role.BUREAU, "2022-11-05", "文号"),
                                  ground=TerminationGround.TASK_BOOK_NOT_SIGNED, reasons="未签")
    assert err.value.code == "ground_not_available"


# ---------------------------------------------------------------- terminations recorded before grounds
def test_art9_a_termination_stored_before_grounds_decodes_and_shows_its_ground_as_not_recorded(memory_registry):
    """A ``Terminated`` event as an earlier release stored it (no ``ground``) still decodes and
    replays; the platform view says its ground was not recorded."""
    from dataclasses import replace

    from projections.views import summarize

    drv = Driver(memory_registry).to("notified")
    memory_registry.terminate(drv.pid, act(Role.BUREAU, "2022-10-20", "长科发〔2022〕60号"),
                              ground=TerminationGround.TASK_BOOK_NOT_SIGNED, reasons="未签订任务书")
    mapper = memory_registry.mapper
    stored = [mapper.to_stored_event(e) for e in memory_registry.stream(drv.pid)]
    state = mapper.transcoder.decode(stored[-1].state)
    assert state.pop("ground") == "task_book_not_signed"
    old = replace(stored[-1], state=mapper.transcoder.encode(state))
    platform = None
    for s in [*stored[:-1], old]:
        platform = mapper.to_domain_event(s).mutate(platform)
    assert platform.status == "terminated" and platform.committed == Decimal("0.00")
    assert summarize(platform)["termination"] == {"ground": "not_recorded", "document_ref": "长科发〔2022〕60号",
                                                  "reasons": "未签订任务书", "terminated_on": "2022-10-20"}
