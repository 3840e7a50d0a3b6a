"""The official Chinese working-day calendar (工作日历).

Art. 8(6) of 长科发〔2021〕36号 sets the publicity period (公示) in *working days* (工作日), and
Art. 9(1) sets the acceptance application deadline (验收申请) one month after the execution period
ends. Both follow the State Council's holiday schedule (国务院办公厅关于部分节假日安排的通知):
statutory rest days are off, even on weekdays, and the weekend days the notice turns into
make-up working days (调休上班) are on.

Data comes from the ``chinesecalendar`` package for the years it ships, merged with operator
schedules loaded from a JSON file (``PLATFORMS_CALENDAR_FILE``), so next year's notice is loaded
as data without a release. A year with no schedule is refused with
:class:`~aggregates.errors.CalendarNotLoaded`; it is never guessed from weekends, because every
year's notice moves some weekends (docs/DOMAIN.md, "Time rules").
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import chinese_calendar

from aggregates.clock import add_months
from aggregates.datafile import read_json_file
from aggregates.errors import CalendarNotLoaded

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEAR_KEYS = {"year", "source", "holidays", "workdays"}


class CalendarDataError(ValueError):
    """An operator calendar file (or schedule) that cannot be trusted. Raised at load time so a
    bad file stops the service at start-up instead of mis-counting a publicity window later."""


@dataclass(frozen=True)
class YearSchedule:
    """One year's official schedule.

    ``holidays`` are the rest days of the notice (法定节假日及调休休息日), on weekdays or weekends;
    ``workdays`` are the weekend days made working days (调休上班日). Every other day follows the
    ordinary week. ``source`` names the notice (文号) so auditors can trace each date.
    """

    year: int
    source: str
    holidays: frozenset[date]
    workdays: frozenset[date]

    def __post_init__(self) -> None:
        where = f"schedule {self.year}"
        if not self.source.strip():
            raise CalendarDataError(f"{where}: 'source' must name the State Council notice")
        for name, days in (("holidays", self.holidays), ("workdays", self.workdays)):
            stray = sorted(d for d in days if d.year != self.year)
            if stray:
                raise CalendarDataError(
                    f"{where}: {name} contains {stray[0].isoformat()}, which is not in {self.year}"
                )
        both = sorted(self.holidays & self.workdays)
        if both:
            raise CalendarDataError(
                f"{where}: {both[0].isoformat()} is listed both as a holiday and as a workday"
            )
        # A make-up working day only means something on a weekend: a weekday is already worked.
        weekday = sorted(d for d in self.workdays if d.weekday() < 5)
        if weekday:
            raise CalendarDataError(
                f"{where}: workday {weekday[0].isoformat()} is a weekday; 'workdays' lists only "
                "the weekend days made working days (调休上班)"
            )


def _package_schedules() -> dict[int, YearSchedule]:
    """The years shipped by ``chinesecalendar``, read from its own ``holidays``/``workdays`` data.

    The covered years are whatever the data holds (every official year has at least New Year's
    Day), so upgrading the package extends coverage without a code change.
    """
    try:
        source = f"chinesecalendar {version('chinesecalendar')} (国务院办公厅部分节假日安排通知)"
    except PackageNotFoundError:  # vendored or unusual install: the data is still the package's
        source = "chinesecalendar (国务院办公厅部分节假日安排通知)"
    holidays: dict[int, set[date]] = {}
    workdays: dict[int, set[date]] = {}
    for day in chinese_calendar.holidays:
        holidays.setdefault(day.year, set()).add(day)
    for day in chinese_calendar.workdays:
        workdays.setdefault(day.year, set()).add(day)
    return {
        year: YearSchedule(year, source, frozenset(days), frozenset(workdays.get(year, ())))
        for year, days in holidays.items()
    }


def _parse_days(raw: Any, year: int, where: str) -> frozenset[date]:
    if not isinstance(raw, list):
        raise CalendarDataError(f"{where}: expected a list of YYYY-MM-DD dates")
    days: set[date] = set()
    for i, item in enumerate(raw):
        at = f"{where}[{i}]"
        if not isinstance(item, str) or not _ISO_DATE.match(item):
            raise CalendarDataError(f"{at}: expected a date as YYYY-MM-DD, got {item!r}")
        try:
            day = date.fromisoformat(item)
        except ValueError:
            raise CalendarDataError(f"{at}: {item!r} is not a calendar date") from None
        if day.year != year:
            raise CalendarDataError(f"{at}: {item} is not in {year}")
        if day in days:
            raise CalendarDataError(f"{at}: {item} is listed twice")
        days.add(day)
    return frozenset(days)


def parse_schedules(data: Any, origin: str = "calendar file") -> dict[int, YearSchedule]:
    """Validate an operator calendar document and return its schedules by year.

    Format: ``{"years": [{"year": 2027, "source": "...", "holidays": [...], "workdays": [...]}]}``.
    Unknown keys are refused (a misspelt ``"holiday"`` would otherwise silently drop every rest
    day), and so are duplicate years, dates outside their year and days in both lists.
    """
    if not isinstance(data, dict) or set(data) != {"years"}:
        raise CalendarDataError(f"{origin}: expected an object with exactly one key, 'years'")
    if not isinstance(data["years"], list) or not data["years"]:
        raise CalendarDataError(f"{origin}: 'years' must be a non-empty list")
    schedules: dict[int, YearSchedule] = {}
    for i, entry in enumerate(data["years"]):
        where = f"{origin}: years[{i}]"
        if not isinstance(entry, dict):
            raise CalendarDataError(f"{where}: expected an object")
        missing = _YEAR_KEYS - set(entry)
        unknown = set(entry) - _YEAR_KEYS
        if missing or unknown:
            raise CalendarDataError(
                f"{where}: keys must be exactly {sorted(_YEAR_KEYS)}"
                + (f"; missing {sorted(missing)}" if missing else "")
                + (f"; unknown {sorted(unknown)}" if unknown else "")
            )
        year = entry["year"]
        if isinstance(year, bool) or not isinstance(year, int) or not 1949 < year < 10000:
            raise CalendarDataError(f"{where}.year: expected a year such as 2027, got {year!r}")
        if year in schedules:
            raise CalendarDataError(f"{where}.year: {year} appears more than once")
        source = entry["source"]
        if not isinstance(source, str) or not source.strip():
            raise CalendarDataError(f"{where}.source: must name the State Council notice (文号)")
        holidays = _parse_days(entry["holidays"], year, f"{where}.holidays")
        if not holidays:
            # Every official year has rest days (New Year's Day at least): an empty list is a
            # truncated file, and accepting it would be exactly the weekend guess we refuse.
            raise CalendarDataError(f"{where}.holidays: must list the year's rest days")
        workdays = _parse_days(entry["workdays"], year, f"{where}.workdays")
        try:
            schedules[year] = YearSchedule(year, source.strip(), holidays, workdays)
        except CalendarDataError as exc:
            raise CalendarDataError(f"{origin}: {exc}") from None
    return schedules


class WorkingDayCalendar:
    """Working days per the official schedule: package data plus operator years.

    An operator year replaces the package's year entirely, so a corrected notice can be loaded
    over shipped data as well as next year's notice.
    """

    def __init__(self, extra: Mapping[int, YearSchedule] | None = None) -> None:
        years = _package_schedules()
        for year, schedule in (extra or {}).items():
            if schedule.year != year:
                raise CalendarDataError(f"schedule for {schedule.year} was given under key {year}")
            years[year] = schedule
        self._years: dict[int, YearSchedule] = years

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> WorkingDayCalendar:
        """Package data plus the schedules of the operator JSON file at ``path``."""
        path = Path(path)
        data = read_json_file(path, "calendar", CalendarDataError)
        return cls(parse_schedules(data, origin=str(path)))

    def loaded_years(self) -> list[int]:
        """The years whose official schedule is loaded, ascending."""
        return sorted(self._years)

    def covers(self, year: int) -> bool:
        """Whether ``year``'s official schedule is loaded."""
        return year in self._years

    def schedule(self, year: int) -> YearSchedule:
        """The loaded schedule of ``year`` (with its source notice), or CalendarNotLoaded."""
        try:
            return self._years[year]
        except KeyError:
            raise CalendarNotLoaded(year) from None

    def is_working_day(self, d: date) -> bool:
        """Whether ``d`` is an official working day (工作日).

        Listed make-up days are worked, listed rest days are not, other days follow the week.
        Raises :class:`CalendarNotLoaded` for a year with no schedule: never a weekend guess.
        """
        if isinstance(d, datetime):
            # A datetime would never match the date sets and may be a UTC instant whose
            # Shanghai date differs: callers pass business dates.
            raise TypeError("pass a business date (Asia/Shanghai), not a datetime")
        schedule = self.schedule(d.year)
        if d in schedule.workdays:
            return True
        if d in schedule.holidays:
            return False
        return d.weekday() < 5

    def working_day_on_or_after(self, d: date) -> date:
        """``d`` if it is a working day, else the next working day."""
        while not self.is_working_day(d):
            d += timedelta(days=1)
        return d

    def first_working_day_after(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        return self.working_day_on_or_after(d + timedelta(days=1))

    def nth_working_day(self, start: date, n: int, start_counts: bool = True) -> date:
        """The ``n``-th working day counted from ``start``.

        With ``start_counts`` the start is day 1 when it is a working day (on a rest day the count
        begins at the next working day); otherwise day 1 is the first working day after ``start``.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive number of working days, got {n!r}")
        day = self.working_day_on_or_after(start) if start_counts else self.first_working_day_after(start)
        for _ in range(n - 1):
            day = self.first_working_day_after(day)
        return day

    def working_days_between(self, a: date, b: date) -> int:
        """Working days from ``a`` to ``b``, both included (0 when ``b`` is before ``a``); used
        for "N working days remain" displays."""
        count = 0
        day = a
        while day <= b:
            count += self.is_working_day(day)
            day += timedelta(days=1)
        return count

    def publicity_window(self, start: date, working_days: int, start_counts: bool) -> tuple[date, date]:
        """First and last day of a publicity window (公示, Art. 8(6): 公示5个工作日).

        The window opens on ``start`` (or the next working day if ``start`` is a rest day) when
        ``start_counts``, else on the first working day after ``start``, and its last day is the
        ``working_days``-th working day. It closes at 00:00 Asia/Shanghai the next calendar day.
        """
        first = self.window_first_day(start, start_counts)
        return first, self.nth_working_day(first, working_days, start_counts=True)

    def window_first_day(self, start: date, start_counts: bool) -> date:
        """The first day of a publicity window starting ``start`` (see :meth:`publicity_window`)."""
        return self.working_day_on_or_after(start) if start_counts else self.first_working_day_after(start)

    def acceptance_deadline(self, period_end: date, months: int) -> date:
        """Last day to apply for acceptance (验收申请, Art. 9(1): 在执行期满1个月内).

        ``period_end`` plus ``months`` calendar months, the day clipped to the month's last day
        (period ending 2023-10-31 → 2023-11-30); a deadline on a rest day (statutory holiday, or a
        weekend that is not a make-up working day) moves to the first working day after it.
        """
        if isinstance(months, bool) or not isinstance(months, int) or months < 0:
            raise ValueError(f"months must be a non-negative whole number, got {months!r}")
        return self.working_day_on_or_after(add_months(period_end, months))

    def __repr__(self) -> str:
        years = self.loaded_years()
        if not years:
            return "WorkingDayCalendar()"
        return f"WorkingDayCalendar({years[0]}–{years[-1]}, {len(years)} years)"

