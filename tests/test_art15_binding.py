"""Art. 15: an application is governed, for life, by the policy version in force on its
application date; with none in force it is refused. Also the time rules for years whose
official working-day schedule is not loaded yet (pending, never guessed)."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from aggregates.application import RegistryApp
from aggregates.calendar import WorkingDayCalendar
from aggregates.errors import CalendarNotLoaded, RuleViolation
from aggregates.policy import PolicyRegistry
from aggregates.programme import Driver, act, application
from aggregates.store import StoreConfig
from aggregates.values import Role

DATA = Path(__file__).parent / "data"


def registry_with_successor(calendar: WorkingDayCalendar | None = None) -> RegistryApp:
    """The real policy plus a successor in force from 2024-01-01 with a different grant."""
    real = PolicyRegistry.load().get("长科发〔2021〕36号")
    successor = dataclasses.replace(real, policy="长科发〔2024〕1号（测试）", effective_from=date(2024, 1, 1),
                                    effective_to=None, funding_amount=Decimal("2000000.00"))
    return RegistryApp(StoreConfig("memory:"), policies=PolicyRegistry([real, successor]),
                       calendar=calendar or WorkingDayCalendar())


def test_art15_application_on_the_last_day_in_force_is_accepted(memory_registry):
    r = memory_registry.apply(act(Role.APPLICANT, "2023-11-11"), **application())
    assert memory_registry.get_platform(r.aggregate_id).policy_ref == "长科发〔2021〕36号"


@pytest.mark.parametrize("day", ["2021-11-11", "2023-11-12"])
def test_art15_application_outside_validity_is_refused(memory_registry, day):
    with pytest.raises(RuleViolation) as err:
        memory_registry.apply(act(Role.APPLICANT, day), **application())
    assert (err.value.code, err.value.article) == ("no_policy_in_force", "Art. 15")
    assert memory_registry.recorder.max_notification_id() in (0, None)


def test_art15_a_platform_keeps_its_policy_when_a_successor_is_loaded():
    app = registry_with_successor()
    old = Driver(app).to("recognized")
    app.fund(old.pid, act(Role.FINANCE, "2024-01-15", "doc"))
    assert old.platform.disbursed == Decimal("1000000.00")  # 36号's amount, not the successor's
    new = app.apply(act(Role.APPLICANT, "2024-02-01"), **application("智能终端"))
    assert app.get_platform(new.aggregate_id).policy_ref == "长科发〔2024〕1号（测试）"


def test_art8_6_window_reaching_an_unloaded_year_is_pending_and_refuses_only_objections_needing_it():
    app = registry_with_successor()
    drv = Driver(app, years=4).to("approved")
    app.publicize(act(Role.BUREAU, "2026-12-28"), batch_ref="跨年公示", media="长沙晚报",
                  start_date=date(2026, 12, 28), platform_ids=[drv.pid])
    assert drv.platform.publicity["last_day"] is None  # 2027 not loaded: pending, not guessed
    # Received on 2026-12-29, the window's 2nd working day: decidable without 2027's schedule.
    r = app.object(drv.pid, act(Role.PUBLIC, "2026-12-29"), objector_name="a", contact="b", content="c")
    assert r.extra["admissible"] is True

    before = app.recorder.max_notification_id()
    with pytest.raises(CalendarNotLoaded) as err:  # a day of 2027: needs 2027's schedule now
        app.object(drv.pid, act(Role.PUBLIC, "2027-01-04"), objector_name="a", contact="b", content="c")
    assert err.value.year == 2027 and "2027" in err.value.message
    assert app.recorder.max_notification_id() == before  # refused, nothing written

    # The operator loads 2027's official schedule (PLATFORMS_CALENDAR_FILE) and restarts.
    app.calendar = WorkingDayCalendar.from_file(DATA / "calendar-2027.json")
    r = app.object(drv.pid, act(Role.PUBLIC, "2027-01-04"), objector_name="a", contact="b", content="c")
    assert r.extra["admissible"] is True
    assert app.get_batch("跨年公示").last_day is None  # recorded pending; computed where needed


def test_art9_1_acceptance_due_in_an_unloaded_year_is_pending_and_needed_only_after_the_period():
    app = registry_with_successor()
    drv = Driver(app, years=4).to("notified")
    app.sign_task_book(drv.pid, act(Role.BUREAU, "2026-11-01", "任务书"),
                       indicators=[{"name": "开放接口数", "target": "20"}], period_start=date(2026, 11, 1))
    assert drv.platform.task_book["period_end"] == date(2027, 10, 31)
    assert drv.platform.task_book["acceptance_due"] is None  # pending until 2027 is loaded
    # early: no deadline needed
    app.apply_for_acceptance(drv.pid, act(Role.APPLICANT, "2027-03-01"), summary="提前完成")
    assert drv.platform.acceptance["early"] is True
