"""The domain's value objects, one article at a time: the publicity window (Art. 8(6)), the
task book and its execution period (Art. 8(7), 9), and how an act is dated (docs/DOMAIN.md,
"What every event carries"). Every date is a business date in Asia/Shanghai, given explicitly:
no clock is read."""

from __future__ import annotations

from datetime import date

import pytest

from aggregates.calendar import WorkingDayCalendar
from aggregates.errors import InvalidInput
from aggregates.policy import PolicyRegistry
from aggregates.publicity_window import PublicityWindow, WindowState
from aggregates.rules import Rules
from aggregates.task_book import TaskBook, check_period_dates, default_period_end
from aggregates.values import Act, Role

POLICY = PolicyRegistry.load().get("长科发〔2021〕36号")
RULES = Rules(PolicyRegistry.load(), WorkingDayCalendar())
OPEN, UPCOMING, CLOSED = WindowState.OPEN, WindowState.UPCOMING, WindowState.CLOSED


def window_from(start: date) -> PublicityWindow:
    return RULES.publicity_window(POLICY, start)


# ---------------------------------------------------------------- Art. 8(6): the publicity window
def test_art8_6_a_window_across_national_day_is_open_through_its_fifth_working_day() -> None:
    # 2022-09-29 and 09-30 are working days 1-2, 10-01..07 the holiday, the make-up Saturday and
    # Sunday 10-08/09 days 3-4, Monday 10-10 day 5.
    window = window_from(date(2022, 9, 29))
    assert (window.first_day, window.last_day) == (date(2022, 9, 29), date(2022, 10, 10))
    days = {date(2022, 9, 28): UPCOMING, date(2022, 9, 29): OPEN, date(2022, 10, 4): OPEN,
            date(2022, 10, 8): OPEN, date(2022, 10, 10): OPEN, date(2022, 10, 11): CLOSED}
    assert {day: window.state_on(day) for day in days} == days


def test_art8_6_a_window_published_on_a_holiday_counts_from_the_next_working_day_open_from_publication() -> None:
    # Published on 2022-10-01 (National Day): working day 1 is the make-up Saturday 10-08, but
    # "公示如有异议" runs from publication: the list is open to objections from 10-01.
    window = window_from(date(2022, 10, 1))
    assert (window.first_day, window.last_day) == (date(2022, 10, 8), date(2022, 10, 12))
    days = {date(2022, 9, 30): UPCOMING, date(2022, 10, 1): OPEN, date(2022, 10, 7): OPEN,
            date(2022, 10, 8): OPEN, date(2022, 10, 12): OPEN, date(2022, 10, 13): CLOSED}
    assert {day: window.state_on(day) for day in days} == days
    admitted = {day: window.admits(day) for day in
                (date(2022, 9, 30), date(2022, 10, 1), date(2022, 10, 3), date(2022, 10, 12), date(2022, 10, 13))}
    assert admitted == {date(2022, 9, 30): False, date(2022, 10, 1): True, date(2022, 10, 3): True,
                        date(2022, 10, 12): True, date(2022, 10, 13): False}


def test_art8_6_objections_are_admissible_from_the_first_through_the_last_day() -> None:
    window = window_from(date(2022, 9, 29))
    admitted = {day: window.admits(day) for day in
                (date(2022, 9, 28), date(2022, 9, 29), date(2022, 10, 5), date(2022, 10, 10), date(2022, 10, 11))}
    assert admitted == {date(2022, 9, 28): False, date(2022, 9, 29): True, date(2022, 10, 5): True,
                        date(2022, 10, 10): True, date(2022, 10, 11): False}


def test_art8_6_a_pending_window_stays_open_once_opened_and_decides_no_objection() -> None:
    # 2027's schedule is not bundled: a window reaching it is pending, never guessed.
    window = window_from(date(2026, 12, 28))
    assert window == PublicityWindow(date(2026, 12, 28), None, None) and window.pending
    assert [window.state_on(d) for d in (date(2026, 12, 27), date(2026, 12, 28), date(2027, 6, 1))] == [
        UPCOMING, OPEN, OPEN]
    assert not window.admits(date(2026, 12, 29))


def test_art8_6_a_window_is_read_back_from_the_platforms_record() -> None:
    record = {"batch_ref": "公示-1", "start_date": date(2022, 9, 29), "first_day": date(2022, 9, 29),
              "last_day": date(2022, 10, 10)}
    assert PublicityWindow.of(record) == window_from(date(2022, 9, 29))


# ---------------------------------------------------------------- Art. 8(7), 9: the task book
BOOK = TaskBook.of({"task_book_ref": "任务书2022-01", "period_start": date(2022, 11, 1),
                    "period_end": date(2023, 10, 31), "acceptance_due": date(2023, 11, 30),
                    "indicators": [{"name": "开放接口数", "target": "≥20"}, {"name": "服务企业数", "target": "≥50"}]})


def test_art9_1_the_execution_period_is_one_year_in_principle() -> None:
    assert default_period_end(date(2022, 11, 1), POLICY.execution_period_months) == date(2023, 10, 31)


def test_art9_1_an_acceptance_application_is_early_while_the_period_runs() -> None:
    assert BOOK.is_early(date(2023, 10, 31)) and not BOOK.is_early(date(2023, 11, 1))


def test_art9_2_the_review_judges_the_task_books_indicators() -> None:
    assert BOOK.indicator_names == {"开放接口数", "服务企业数"}


def test_art9_1_a_period_in_an_implausible_year_is_refused_naming_its_field() -> None:
    check_period_dates(date(2022, 11, 1), None)
    with pytest.raises(InvalidInput) as err:
        check_period_dates(date(2022, 11, 1), date(9999, 12, 31))
    assert (err.value.code, err.value.field) == ("date_out_of_range", "period_end")


# ---------------------------------------------------------------- dating an act
def test_an_act_never_lies_after_the_day_it_is_recorded() -> None:
    with pytest.raises(InvalidInput) as err:
        Act("bureau-1", Role.BUREAU, date(2022, 10, 12), recorded_on=date(2022, 10, 11))
    assert (err.value.code, err.value.field) == ("business_date_in_future", "business_date")


def test_art15_those_who_act_for_themselves_act_today_clerks_back_fill() -> None:
    """An applicant dating its own application could pick its policy (Art. 15)."""
    for role in (Role.APPLICANT, Role.EXPERT, Role.PUBLIC):
        with pytest.raises(InvalidInput) as err:
            Act(f"{role.value}-1", role, date(2022, 3, 1), recorded_on=date(2022, 3, 2))
        assert err.value.code == "business_date_not_today"
    for role in (Role.BUREAU, Role.SERVICE_AGENCY, Role.FINANCE):
        assert Act(f"{role.value}-1", role, date(2022, 3, 1), recorded_on=date(2022, 3, 2)).business_date == date(
            2022, 3, 1)
