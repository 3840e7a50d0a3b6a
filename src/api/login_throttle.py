"""Login throttling (登录限流): too many wrong passwords for one account, or from one client
address, within a window lock further sign-ins for a while, answered 429 with ``Retry-After``.

The counters are rows of ``login_throttle`` in the event store's database, beside the accounts,
so every API worker on PostgreSQL counts the same failures, and a restart forgets nothing. A row
per subject (``account:NAME`` or ``address:IP``) holds the failures of its current window and,
once locked, until when and since when. Rows whose window and lockout are over are deleted as new
failures arrive, and the table never holds more than ``max_rows`` (the oldest windows go first):
an attacker trying many names or addresses fills no disk. Each lockout is logged at WARNING and
an account's latest lockout is kept on its row (``users.last_lockout_at``, shown by
``platforms users list``). A successful sign-in clears the account's count, not the address's:
one good password must not let an address go on guessing others. The table is created by the
migrations (:mod:`aggregates.migrations`).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, delete, func, select, text, update
from sqlalchemy.engine import Engine

from .users import USERNAME, users_table

log = logging.getLogger(__name__)
metadata = MetaData()

throttle_table = Table(
    "login_throttle",
    metadata,
    Column("subject", String(200), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_start", Float, nullable=False, index=True),  # Unix seconds
    Column("locked_until", Float, nullable=True),
    Column("locked_at", Float, nullable=True),
)

# Counts a failure atomically (two workers failing at once both count) and starts a new window
# when the row's one is over. Both SQLite and PostgreSQL compute SET from the row's old values.
_COUNT_FAILURE = text(
    "INSERT INTO login_throttle (subject, failures, window_start) VALUES (:subject, 1, :now) "
    "ON CONFLICT (subject) DO UPDATE SET "
    "failures = CASE WHEN login_throttle.window_start <= :cut THEN 1 ELSE login_throttle.failures + 1 END, "
    "window_start = CASE WHEN login_throttle.window_start <= :cut THEN :now ELSE login_throttle.window_start END "
    "RETURNING failures")


@dataclass(frozen=True)
class ThrottleLimits:
    """Failures allowed per account and per address within ``window`` seconds; a lockout lasts
    ``window`` seconds too."""

    account_failures: int = 5
    address_failures: int = 20
    window: float = 900.0
    max_rows: int = 100_000


class LoginThrottle:
    """Counts failed sign-ins and says how long a subject must wait."""

    def __init__(self, engine: Engine, limits: ThrottleLimits, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.limits = limits
        self.clock = clock

    def retry_after(self, username: str, address: str) -> int:
        """Seconds until the account and the address may try again; 0 when neither is locked."""
        now = self.clock()
        with self.engine.connect() as conn:
            until = conn.execute(select(func.max(throttle_table.c.locked_until)).where(
                throttle_table.c.subject.in_([_account(username), _address(address)]),
                throttle_table.c.locked_until > now)).scalar()
        return 0 if until is None else max(1, math.ceil(until - now))

    def failed(self, username: str, address: str) -> int:
        """Count a wrong password; the seconds to wait if this failure locked the account or the
        address, else 0."""
        now = self.clock()
        cut = now - self.limits.window
        wait = 0
        with self.engine.begin() as conn:
            for subject, limit in ((_account(username), self.limits.account_failures),
                                   (_address(address), self.limits.address_failures)):
                failures = conn.execute(_COUNT_FAILURE, {"subject": subject, "now": now, "cut": cut}).scalar_one()
                if failures >= limit and self._lock(conn, subject, now):
                    wait = math.ceil(self.limits.window)
                    log.warning("sign-in locked after repeated failures",
                                extra={"subject": subject, "failures": failures,
                                       "locked_seconds": wait, "address": address})
                    if subject.startswith("account:"):
                        conn.execute(update(users_table).where(users_table.c.username == username)
                                     .values(last_lockout_at=datetime.fromtimestamp(now, UTC)))
            self._prune(conn, now)
        return wait

    def succeeded(self, username: str) -> None:
        """A right password: the account's count starts again."""
        with self.engine.begin() as conn:
            conn.execute(delete(throttle_table).where(throttle_table.c.subject == _account(username)))

    def _lock(self, conn, subject: str, now: float) -> bool:  # noqa: ANN001
        """Lock ``subject`` for a window, its count starting again afterwards; False when another
        worker locked it first."""
        return bool(conn.execute(update(throttle_table).where(
            throttle_table.c.subject == subject,
            (throttle_table.c.locked_until.is_(None)) | (throttle_table.c.locked_until <= now),
        ).values(locked_until=now + self.limits.window, locked_at=now, failures=0,
                 window_start=now)).rowcount)

    def _prune(self, conn, now: float) -> None:  # noqa: ANN001
        """Forget subjects whose window and lockout are over, then the oldest beyond ``max_rows``."""
        conn.execute(delete(throttle_table).where(
            throttle_table.c.window_start <= now - self.limits.window,
            (throttle_table.c.locked_until.is_(None)) | (throttle_table.c.locked_until <= now)))
        excess = conn.execute(select(func.count()).select_from(throttle_table)).scalar_one() - self.limits.max_rows
        if excess > 0:
            oldest = select(throttle_table.c.subject).order_by(throttle_table.c.window_start).limit(excess)
            conn.execute(delete(throttle_table).where(throttle_table.c.subject.in_(oldest.scalar_subquery())))


def _account(username: str) -> str:
    """The account's subject; a name no account can have (too long, NUL, controls) is counted
    under its digest, which any store can hold."""
    if USERNAME.match(username):
        return f"account:{username}"
    return "account:#" + hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _address(address: str) -> str:
    return f"address:{address[:100]}"
