"""The construction task book (建设任务书) of Art. 8(7) and its execution period of Art. 9(1).

Bureau and host unit sign it after the joint notice; it lists the indicators the platform must
reach, and its execution period sets when acceptance is due. The acceptance review judges the
platform against it (Art. 9(2)).

It is versioned: the signed book is version 1, and each approved change of its indicators
(Art. 11) adds the next version, effective from the change's decision. A version, once made, is
never changed, so the version an acceptance review names (Art. 9(2)) stays what it judged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from .clock import add_months
from .errors import InvalidInput

# Years an execution period may fall in: a task book is signed for a year or so from now, and
# beyond them the deadline's date arithmetic would overflow.
PLAUSIBLE_YEARS = (2000, 2100)


def check_period_dates(period_start: date, period_end: date | None) -> None:
    """Art. 9(1): the execution period's dates must be ones a task book can name; refused
    before any deadline is counted from them."""
    for name, value in (("period_start", period_start), ("period_end", period_end)):
        if value is not None and not PLAUSIBLE_YEARS[0] <= value.year <= PLAUSIBLE_YEARS[1]:
            raise InvalidInput("date_out_of_range", f"{name} {value} is not a plausible execution period", name)


def default_period_end(start: date, months: int) -> date:
    """Art. 9(1): the execution period is one year in principle: start + 1 year − 1 day."""
    return add_months(start, months) - timedelta(days=1)


@dataclass(frozen=True)
class TaskBookVersion:
    """One version of a task book (任务书版本): its indicators, the day it took effect, the
    document behind it and, from version 2 on, the approved change that made it (Art. 11)."""

    version: int
    indicators: tuple[Mapping[str, str], ...]
    effective_from: date | None
    document_ref: str | None
    change_id: str | None

    @property
    def indicator_names(self) -> frozenset[str]:
        return frozenset(i["name"] for i in self.indicators)


@dataclass(frozen=True)
class TaskBook:
    """A signed task book: its reference, indicators (those of its current version), execution
    period and the Art. 9(1) deadline for the acceptance application (``None`` while pending: its
    year's working-day schedule is not loaded), the reason recorded for a period other than one
    year, and its versions, oldest first."""

    task_book_ref: str
    indicators: tuple[Mapping[str, str], ...]
    period_start: date
    period_end: date
    acceptance_due: date | None
    period_reason: str | None = None
    versions: tuple[TaskBookVersion, ...] = ()

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> TaskBook:
        """The task book of a platform's record (its ``TaskBookSigned`` event, with the versions
        approved changes of indicators added, Art. 11). A record kept before task books had
        versions is version 1 as it stands."""
        indicators = tuple(record["indicators"])
        versions = tuple(
            TaskBookVersion(int(v["version"]), tuple(v["indicators"]), v.get("effective_from"),
                            v.get("document_ref"), v.get("change_id"))
            for v in record.get("versions", ())
        ) or (TaskBookVersion(1, indicators, None, record["task_book_ref"], None),)
        return cls(record["task_book_ref"], indicators, record["period_start"], record["period_end"],
                   record["acceptance_due"], record.get("period_reason"), versions)

    @property
    def version(self) -> int:
        """The current version's number (Art. 11: the latest approved one is in effect)."""
        return self.versions[-1].version if self.versions else 1

    @property
    def indicator_names(self) -> frozenset[str]:
        """Art. 9(2): the indicators the acceptance review must judge, each once."""
        return frozenset(i["name"] for i in self.indicators)

    def is_early(self, day: date) -> bool:
        """Art. 9(1): an acceptance application on ``day`` is early while the execution period
        runs (allowed when the tasks are done early); the deadline binds only after it."""
        return day <= self.period_end


__all__ = ["PLAUSIBLE_YEARS", "TaskBook", "TaskBookVersion", "check_period_dates", "default_period_end"]
