"""The rules a command applies beside the aggregates it loads: the policy version each
platform is bound to for life (Art. 15) and the official working-day calendar that its
publicity window (Art. 8(6)) and acceptance deadline (Art. 9(1)) are counted on.

Both are data read from files, the same for every command and never written by one, so a
command's decide step may read them freely; aggregates it reads only through its unit of work
(:mod:`aggregates.unit_of_work`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from .calendar import WorkingDayCalendar
from .errors import CalendarNotLoaded, RuleViolation
from .platform import Platform
from .policy import Policy, PolicyRegistry


@dataclass(frozen=True)
class Rules:
    policies: PolicyRegistry
    calendar: WorkingDayCalendar

    def policy_of(self, platform: Platform) -> Policy:
        return self.policies.get(platform.policy_ref)

    def publicity_window(self, policy: Policy, start_date: date) -> tuple[date | None, date | None]:
        """The window's first and last day, or (None, None) while the schedule of a year it
        reaches is not loaded (shown as pending, never guessed)."""
        try:
            return self.calendar.publicity_window(
                start_date, policy.publicity_working_days, policy.publicity_start_day_counts)
        except CalendarNotLoaded:
            return None, None

    def window_of(self, platform: Platform) -> tuple[date, date]:
        """The platform's publicity window, computed now if it was pending; raises
        :class:`CalendarNotLoaded` naming the missing year if it still cannot be."""
        publicity = platform.publicity
        if publicity is None:
            raise RuleViolation("not_publicized", "this platform has not been publicized", "Art. 8(6)",
                                platform.policy_ref)
        if publicity["last_day"] is not None:
            return publicity["first_day"], publicity["last_day"]
        policy = self.policy_of(platform)
        return self.calendar.publicity_window(
            publicity["start_date"], policy.publicity_working_days, policy.publicity_start_day_counts)

    def window_for_objection(self, platform: Platform, received: date) -> tuple[date, date]:
        """The window as far as an objection received on ``received`` needs it. While the last
        day is pending (its year's schedule is not loaded), the working days from the first day
        to ``received`` still tell whether it came in time; only when ``received`` itself lies in
        an unloaded year is the objection refused, naming that year."""
        try:
            return self.window_of(platform)
        except CalendarNotLoaded:
            assert platform.publicity is not None
            policy = self.policy_of(platform)
            first = self.calendar.window_first_day(platform.publicity["start_date"], policy.publicity_start_day_counts)
            within = first <= received and (
                self.calendar.working_days_between(first, received) <= policy.publicity_working_days)
            # Enough for the decision: inside the window up to ``received``, or closed before it.
            return first, received if within else received - timedelta(days=1)

    def acceptance_due(self, policy: Policy, period_end: date) -> date | None:
        """Art. 9(1) deadline, or None (pending) while its year's schedule is not loaded."""
        try:
            return self.calendar.acceptance_deadline(period_end, policy.acceptance_window_months)
        except CalendarNotLoaded:
            return None

    def acceptance_due_for(self, platform: Platform, applied_on: date) -> date | None:
        """The Art. 9(1) deadline an acceptance application made on ``applied_on`` is held to:
        the task book's; if that was pending and the application comes after the execution
        period, it is needed now, so it is computed, or refused naming the year whose schedule
        is missing."""
        task_book = platform.task_book
        if task_book is None:
            return None
        due: date | None = task_book["acceptance_due"]
        if due is None and applied_on > task_book["period_end"]:
            due = self.calendar.acceptance_deadline(task_book["period_end"],
                                                    self.policy_of(platform).acceptance_window_months)
        return due


__all__ = ["Rules"]
