"""The rules a command applies beside the aggregates it loads: the policy version each
platform is bound to for life (Art. 15) and the official working-day calendar that its
publicity window (Art. 8(6)) and acceptance deadline (Art. 9(1)) are counted on.

The window and the deadline are counted here, where the calendar is; what their days mean is
the domain's (:class:`~aggregates.publicity_window.PublicityWindow`,
:class:`~aggregates.task_book.TaskBook`). Policies and calendar are data read from files, the
same for every command and never written by one, so a command's decide step may read them
freely; aggregates it reads only through its unit of work (:mod:`aggregates.unit_of_work`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from .calendar import WorkingDayCalendar
from .errors import CalendarNotLoaded, RuleViolation
from .platform import Platform
from .policy import Policy, PolicyRegistry
from .publicity_window import PublicityWindow


@dataclass(frozen=True)
class Rules:
    policies: PolicyRegistry
    calendar: WorkingDayCalendar

    def policy_of(self, platform: Platform) -> Policy:
        return self.policies.get(platform.policy_ref)

    def publicity_window(self, policy: Policy, start_date: date) -> PublicityWindow:
        """Art. 8(6): the window of a list published on ``start_date``, pending while the
        schedule of a year it reaches is not loaded (shown as pending, never guessed)."""
        try:
            return self.counted(PublicityWindow(start_date, None, None), policy.publicity_working_days,
                                policy.publicity_start_day_counts)
        except CalendarNotLoaded:
            return PublicityWindow(start_date, None, None)

    def counted(self, window: PublicityWindow, working_days: int, start_counts: bool) -> PublicityWindow:
        """``window`` with its days counted now if they were pending; raises
        :class:`CalendarNotLoaded` naming the missing year if they still cannot be."""
        if not window.pending:
            return window
        first, last = self.calendar.publicity_window(window.start_date, working_days, start_counts)
        return PublicityWindow(window.start_date, first, last)

    def window_of(self, platform: Platform) -> PublicityWindow:
        """The platform's publicity window, counted now if it was pending; raises
        :class:`CalendarNotLoaded` naming the missing year if it still cannot be."""
        window = platform.publicity_window
        if window is None:
            raise RuleViolation("not_publicized", "this platform has not been publicized", "Art. 8(6)",
                                platform.policy_ref)
        if not window.pending:
            return window
        policy = self.policy_of(platform)
        return self.counted(window, policy.publicity_working_days, policy.publicity_start_day_counts)

    def window_for_objection(self, platform: Platform, received: date) -> PublicityWindow:
        """The window as far as an objection received on ``received`` needs it. While the last
        day is pending (its year's schedule is not loaded), the working days from the first day
        to ``received`` still tell whether it came in time; only when ``received`` itself lies in
        an unloaded year is the objection refused, naming that year."""
        try:
            return self.window_of(platform)
        except CalendarNotLoaded:
            recorded = platform.publicity_window
            assert recorded is not None  # window_of refuses an unpublicized platform otherwise
            start = recorded.start_date
            policy = self.policy_of(platform)
            first = self.calendar.window_first_day(start, policy.publicity_start_day_counts)
            # From publication, even a rest day before working day 1, through the last working day.
            within = start <= received and (
                received < first
                or self.calendar.working_days_between(first, received) <= policy.publicity_working_days)
            # Enough for the decision: inside the window up to ``received``, or closed before it.
            return PublicityWindow(start, first, received if within else received - timedelta(days=1))

    def acceptance_due(self, policy: Policy, period_end: date) -> date | None:
        """Art. 9(1) deadline, or None (pending) while its year's schedule is not loaded."""
        try:
            return self.calendar.acceptance_deadline(period_end, policy.acceptance_window_months)
        except CalendarNotLoaded:
            return None

    def acceptance_deadline_of(self, platform: Platform) -> date:
        """The Art. 9(1) deadline of ``platform``'s signed task book, counted now if it was
        pending; raises :class:`CalendarNotLoaded` naming the missing year if it still cannot be
        (a miss is never recorded on a guessed deadline)."""
        task_book = platform.signed_task_book
        if task_book is None:
            raise RuleViolation("task_book_not_signed", "this platform has no signed task book", "Art. 9(1)",
                                platform.policy_ref)
        if task_book.acceptance_due is not None:
            return task_book.acceptance_due
        months = self.policy_of(platform).acceptance_window_months
        return self.calendar.acceptance_deadline(task_book.period_end, months)

    def acceptance_due_for(self, platform: Platform, applied_on: date) -> date | None:
        """The Art. 9(1) deadline an acceptance application made on ``applied_on`` is held to:
        the task book's; if that was pending and the application comes after the execution
        period, it is needed now, so it is computed, or refused naming the year whose schedule
        is missing."""
        task_book = platform.signed_task_book
        if task_book is None:
            return None
        due = task_book.acceptance_due
        if due is None and not task_book.is_early(applied_on):
            due = self.calendar.acceptance_deadline(task_book.period_end,
                                                    self.policy_of(platform).acceptance_window_months)
        return due


__all__ = ["Rules"]
