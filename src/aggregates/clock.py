"""Time, said explicitly: business dates live in Asia/Shanghai, instants in UTC."""

from __future__ import annotations

import calendar as _cal  # the standard library's, for month lengths
from datetime import date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def today_in_shanghai() -> date:
    """Today's business date. Never ``date.today()``: that is the host's (or under freezegun the
    UTC) date, which differs from Shanghai's for eight hours a day."""
    return datetime.now(tz=SHANGHAI).date()


def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months, the day clipped to the target month's last day
    (2023-01-31 + 1 month = 2023-02-28)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, _cal.monthrange(year, month)[1]))
