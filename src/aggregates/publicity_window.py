"""The publicity window (公示期) of Art. 8(6): the days on which the approved list stands in the
media and anyone may object.

The window is counted in official working days by the calendar (:mod:`aggregates.calendar`, as
the policy says how many and whether the start day counts); this value only says what the days
mean once counted, so the publicity list, the public page, the API's answer and the objection
rule read one rule rather than each spelling it out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any


class WindowState(str, Enum):
    """Where a day falls relative to a window (the publicity list's ``state``)."""

    UPCOMING = "upcoming"  # 未开始
    OPEN = "open"  # 公示中
    CLOSED = "closed"  # 已结束


@dataclass(frozen=True)
class PublicityWindow:
    """The list is published on ``start_date``; the window runs from ``first_day`` (working day 1)
    through ``last_day`` and closes at 00:00 Asia/Shanghai the next calendar day (docs/DOMAIN.md,
    "Time rules"). Both days are ``None`` while pending: a year they reach has no working-day
    schedule loaded, and they are never guessed from weekends."""

    start_date: date
    first_day: date | None
    last_day: date | None

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> PublicityWindow:
        """The window of a platform's publicity record (its ``Publicized`` event's days)."""
        return cls(record["start_date"], record["first_day"], record["last_day"])

    @property
    def pending(self) -> bool:
        """Art. 8(6): the last day cannot be counted yet (its year's schedule is not loaded)."""
        return self.last_day is None

    def state_on(self, day: date) -> WindowState:
        """Art. 8(6): upcoming before the list is published, open to objections from the day it
        is published (a rest day too, before working day 1: "公示如有异议" runs from publication)
        through the last day (a pending window stays open: its end is not known yet), closed
        after."""
        if day < self.start_date:
            return WindowState.UPCOMING
        if self.last_day is None or day <= self.last_day:
            return WindowState.OPEN
        return WindowState.CLOSED

    def admits(self, received: date) -> bool:
        """Art. 8(6): an objection received on ``received`` is admissible from the day the list
        is published (even a rest day) through the window's last day. A pending window admits
        nothing: whoever needs the answer counts the days that decide it
        (:meth:`aggregates.rules.Rules.window_for_objection`)."""
        return self.last_day is not None and self.start_date <= received <= self.last_day


__all__ = ["PublicityWindow", "WindowState"]
