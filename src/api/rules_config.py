"""The rules a registry applies, read as the settings name them: the policy versions and the
working-day calendar (the bundled ones and the operator's files).

Apart from :mod:`api.bootstrap` so that a command that opens an existing store and serves
nothing (``platforms audit verify``, ``ledger export``) does not import the web stack with them.
"""

from __future__ import annotations

from aggregates.calendar import WorkingDayCalendar
from aggregates.policy import PolicyRegistry

from .settings import Settings

__all__ = ["build_calendar", "build_policies"]


def build_policies(settings: Settings) -> PolicyRegistry:
    """The bundled policy versions and the operator's (``PLATFORMS_POLICY_DIR``)."""
    return PolicyRegistry.load(settings.extra_policy_dir)


def build_calendar(settings: Settings) -> WorkingDayCalendar:
    """The bundled working-day schedules and the operator's (``PLATFORMS_CALENDAR_FILE``)."""
    if settings.calendar_file is not None:
        return WorkingDayCalendar.from_file(settings.calendar_file)
    return WorkingDayCalendar()
