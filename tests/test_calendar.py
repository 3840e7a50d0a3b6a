"""The official working-day calendar: publicity windows (Art. 8(6)) and acceptance deadlines
(Art. 9(1)). Every vector below was checked day by day against the chinesecalendar data."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import holidays
import pytest

from aggregates.calendar import CalendarDataError, WorkingDayCalendar
from aggregates.errors import CalendarNotLoaded

DATA = Path(__file__).parent / "data"
CAL_2027 = DATA / "calendar-2027.json"


@pytest.fixture(scope="module")
def cal() -> WorkingDayCalendar:
    return WorkingDayCalendar()


@pytest.fixture(scope="module")
def cal_2027() -> WorkingDayCalendar:
    return WorkingDayCalendar.from_file(CAL_2027)


def write_calendar(tmp_path: Path, years: object) -> Path:
    path = tmp_path / "calendar.json"
    path.write_text(json.dumps(years, ensure_ascii=False), encoding="utf-8")
    return path


# --- coverage -----------------------------------------------------------------------------


def test_bundled_years_come_from_the_package_data(cal):
    assert cal.loaded_years() == list(range(2004, 2027))
    assert cal.covers(2026) and not cal.covers(2027) and not cal.covers(2003)


@pytest.mark.parametrize("day", [date(2030, 3, 1), date(2027, 1, 4), date(2003, 6, 2)])
def test_uncovered_year_is_refused_not_guessed(cal, day):
    with pytest.raises(CalendarNotLoaded) as exc:
        cal.is_working_day(day)
    assert exc.value.year == day.year
    assert str(day.year) in exc.value.message
    assert exc.value.code == "calendar_not_loaded"


def test_datetime_is_refused(cal):
    with pytest.raises(TypeError):
        cal.is_working_day(datetime(2022, 10, 8, 9, 0))


def test_make_up_saturday_and_weekday_holiday(cal):
    assert cal.is_working_day(date(2022, 10, 8))  # Saturday, 调休上班
    assert not cal.is_working_day(date(2022, 10, 3))  # Monday, National Day
    assert not cal.is_working_day(date(2022, 10, 15))  # ordinary Saturday
    assert cal.is_working_day(date(2022, 10, 14))  # ordinary Friday


def test_agrees_with_holidays_package_for_2021_to_2026(cal):
    # holidays.China records make-up weekend workdays in ``weekend_workdays`` and answers
    # ``is_working_day`` from both sets, so the whole calendar can be compared day by day.
    reference = holidays.China(years=range(2021, 2027))
    day = date(2021, 1, 1)
    disagreements = []
    while day <= date(2026, 12, 31):
        if cal.is_working_day(day) != reference.is_working_day(day):
            disagreements.append(day)
        day += timedelta(days=1)
    assert disagreements == []


# --- navigation ---------------------------------------------------------------------------


def test_working_day_on_or_after_and_first_after(cal):
    assert cal.working_day_on_or_after(date(2022, 9, 30)) == date(2022, 9, 30)
    assert cal.working_day_on_or_after(date(2022, 10, 1)) == date(2022, 10, 8)
    assert cal.first_working_day_after(date(2022, 9, 30)) == date(2022, 10, 8)
    assert cal.first_working_day_after(date(2022, 10, 8)) == date(2022, 10, 9)  # Sunday 调休


def test_nth_working_day_start_counting(cal):
    assert cal.nth_working_day(date(2022, 9, 29), 1) == date(2022, 9, 29)
    assert cal.nth_working_day(date(2022, 9, 29), 5) == date(2022, 10, 10)
    assert cal.nth_working_day(date(2022, 9, 29), 5, start_counts=False) == date(2022, 10, 11)
    assert cal.nth_working_day(date(2022, 10, 1), 1) == date(2022, 10, 8)
    with pytest.raises(ValueError):
        cal.nth_working_day(date(2022, 9, 29), 0)


def test_working_days_between_is_inclusive(cal):
    assert cal.working_days_between(date(2022, 9, 29), date(2022, 10, 10)) == 5
    assert cal.working_days_between(date(2023, 1, 21), date(2023, 1, 27)) == 0
    assert cal.working_days_between(date(2022, 10, 10), date(2022, 10, 10)) == 1
    assert cal.working_days_between(date(2022, 10, 11), date(2022, 10, 10)) == 0


# --- Art. 8(6): publicity of 5 working days -------------------------------------------------


@pytest.mark.parametrize(
    ("start", "first", "last"),
    [
        # 9/29, 9/30, then the National Day break, then Sat 10/8 and Sun 10/9 (调休), Mon 10/10.
        (date(2022, 9, 29), date(2022, 9, 29), date(2022, 10, 10)),
        # 4/29, Labour Day break 4/30–5/4, 5/5, 5/6, Sat 5/7 (调休), 5/9.
        (date(2022, 4, 29), date(2022, 4, 29), date(2022, 5, 9)),
        # Starting on a rest day: the window opens on the make-up Saturday 10/8.
        (date(2022, 10, 1), date(2022, 10, 8), date(2022, 10, 12)),
    ],
)
def test_art8_publicity_window_vectors(cal, start, first, last):
    assert cal.publicity_window(start, 5, start_counts=True) == (first, last)


def test_art8_publicity_spring_festival_2023(cal):
    # 2023-01-21..27 off; Sat 1/28 and Sun 1/29 are make-up working days.
    assert cal.publicity_window(date(2023, 1, 20), 5, True) == (date(2023, 1, 20), date(2023, 1, 31))
    assert cal.publicity_window(date(2023, 1, 21), 5, True) == (date(2023, 1, 28), date(2023, 2, 1))
    assert cal.publicity_window(date(2023, 1, 27), 5, True) == (date(2023, 1, 28), date(2023, 2, 1))


def test_art8_publicity_start_not_counted(cal):
    assert cal.publicity_window(date(2022, 9, 29), 5, start_counts=False) == (
        date(2022, 9, 30),
        date(2022, 10, 11),
    )
    assert cal.publicity_window(date(2023, 1, 20), 5, start_counts=False) == (
        date(2023, 1, 28),
        date(2023, 2, 1),
    )


def test_art8_publicity_running_into_an_unloaded_year_is_refused(cal):
    # 2026-12-28..31 are four working days; the fifth needs 2027's schedule.
    with pytest.raises(CalendarNotLoaded) as exc:
        cal.publicity_window(date(2026, 12, 28), 5, True)
    assert exc.value.year == 2027


def test_art8_publicity_in_2027_after_loading_operator_file(cal_2027):
    assert cal_2027.covers(2027)
    assert cal_2027.schedule(2027).source.startswith("ILLUSTRATIVE")
    # 9/30, then National Day 10/1–10/7, Fri 10/8, Sat 10/9 (illustrative 调休), 10/11, 10/12.
    assert cal_2027.publicity_window(date(2027, 9, 30), 5, True) == (date(2027, 9, 30), date(2027, 10, 12))
    assert cal_2027.publicity_window(date(2026, 12, 28), 5, True) == (date(2026, 12, 28), date(2027, 1, 4))


# --- Art. 9(1): acceptance application within 1 month ---------------------------------------


@pytest.mark.parametrize(
    ("period_end", "deadline"),
    [
        (date(2023, 10, 31), date(2023, 11, 30)),  # docs/DOMAIN.md example, clipped to Nov 30
        (date(2023, 1, 31), date(2023, 2, 28)),  # clipped to the end of February
        (date(2023, 10, 4), date(2023, 11, 6)),  # Sat 11/4 → Mon 11/6
        (date(2022, 9, 1), date(2022, 10, 8)),  # National Day → make-up Saturday 10/8
        (date(2022, 9, 8), date(2022, 10, 8)),  # lands on the make-up Saturday: stays
        (date(2023, 8, 30), date(2023, 10, 7)),  # 9/30 in the 2023 break → Sat 10/7 (调休)
    ],
)
def test_art9_acceptance_deadline_vectors(cal, period_end, deadline):
    assert cal.acceptance_deadline(period_end, 1) == deadline


def test_art9_acceptance_deadline_needs_the_target_years_schedule(cal, cal_2027):
    with pytest.raises(CalendarNotLoaded) as exc:
        cal.acceptance_deadline(date(2026, 12, 15), 1)
    assert exc.value.year == 2027
    assert cal_2027.acceptance_deadline(date(2026, 12, 15), 1) == date(2027, 1, 15)
    # Illustrative Labour Day break 5/1–5/5 → Thu 5/6.
    assert cal_2027.acceptance_deadline(date(2027, 4, 1), 1) == date(2027, 5, 6)


def test_art9_acceptance_deadline_rejects_negative_months(cal):
    with pytest.raises(ValueError):
        cal.acceptance_deadline(date(2023, 10, 31), -1)


# --- operator files -----------------------------------------------------------------------


def test_no_calendar_file_is_bundled_only():
    from api.registry_wiring import build_calendar
    from api.settings import Settings

    assert not build_calendar(Settings.from_env(env={})).covers(2027)


def test_the_operator_file_named_by_the_settings_is_loaded():
    from api.registry_wiring import build_calendar
    from api.settings import Settings

    cal = build_calendar(Settings.from_env(env={"PLATFORMS_CALENDAR_FILE": str(CAL_2027)}))
    assert cal.loaded_years()[-1] == 2027
    assert cal.is_working_day(date(2027, 2, 20))  # illustrative make-up Saturday
    assert not cal.is_working_day(date(2027, 2, 8))


def test_operator_year_replaces_package_year(tmp_path):
    # A correction: the operator declares 2022-09-30 a rest day; the package year is replaced.
    path = write_calendar(
        tmp_path,
        {
            "years": [
                {
                    "year": 2022,
                    "source": "test correction",
                    "holidays": ["2022-09-30", "2022-10-01", "2022-10-03"],
                    "workdays": [],
                }
            ]
        },
    )
    cal = WorkingDayCalendar.from_file(path)
    assert not cal.is_working_day(date(2022, 9, 30))
    assert not cal.is_working_day(date(2022, 10, 8))  # no longer a make-up day
    assert cal.is_working_day(date(2022, 10, 4))


def _year(**overrides):
    entry = {"year": 2027, "source": "test", "holidays": ["2027-01-01"], "workdays": ["2027-01-31"]}
    entry.update(overrides)
    return {"years": [entry]}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (_year(holidays=["2027-01-01", "2027-01-31"]), "both as a holiday and as a workday"),
        (_year(holidays=["2028-01-01"]), "not in 2027"),
        (_year(workdays=["2026-12-27"]), "not in 2027"),
        (_year(holidays=["2027-02-30"]), "not a calendar date"),
        (_year(holidays=["20270101"]), "YYYY-MM-DD"),
        (_year(holidays=["2027-01-01", "2027-01-01"]), "listed twice"),
        (_year(workdays=["2027-02-01"]), "is a weekday"),
        (_year(holidays=[]), "rest days"),
        (_year(source=" "), "source"),
        (_year(year="2027"), "year"),
        (_year(holiday=["2027-01-01"]), "unknown ['holiday']"),
        ({"years": [_year()["years"][0], _year()["years"][0]]}, "more than once"),
        ({"years": []}, "non-empty"),
        ({"calendar": []}, "'years'"),
    ],
)
def test_operator_file_is_validated_strictly(tmp_path, document, message):
    with pytest.raises(CalendarDataError) as exc:
        WorkingDayCalendar.from_file(write_calendar(tmp_path, document))
    assert message in str(exc.value)
    assert str(tmp_path / "calendar.json") in str(exc.value)


def test_operator_file_unreadable_or_not_json(tmp_path):
    with pytest.raises(CalendarDataError, match="cannot read"):
        WorkingDayCalendar.from_file(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(CalendarDataError, match="not valid JSON"):
        WorkingDayCalendar.from_file(bad)
