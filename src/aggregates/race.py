"""Retrying a command that lost a race (写冲突重试).

Where several processes write (PostgreSQL), two commands on one aggregate may both decide on
the same version; the store refuses the second save. The loser is decided again on fresh state,
so it gets the answer it would have got alone, whatever the contention. Retrying at once makes
the losers collide again in step, so each retry first waits a random pause (full jitter) whose
bound doubles from :data:`FIRST_PAUSE_S` to :data:`MAX_PAUSE_S`. Only a deadline ends the
retries, not an attempt count: a busy platform delays a command, it does not refuse it. The
deadline is measured on the monotonic clock and, as well, by the pauses taken, so that a frozen
clock (freezegun in tests) cannot make the retries endless.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

FIRST_PAUSE_S = 0.002
MAX_PAUSE_S = 0.1
DEADLINE_S = 30.0


class RaceRetry:
    """The retries of one command: :meth:`again` after each lost race."""

    def __init__(self, deadline: float = DEADLINE_S, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None) -> None:
        self.deadline = deadline
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.started = clock()
        self.paused = 0.0
        self.attempts = 1

    def again(self) -> bool:
        """Pause before the next attempt and return True, or False once the deadline is past."""
        if self.clock() - self.started >= self.deadline or self.paused >= self.deadline:
            return False
        bound = min(MAX_PAUSE_S, FIRST_PAUSE_S * 2 ** min(self.attempts - 1, 16))
        pause = self.rng.uniform(0, bound)
        self.sleep(pause)
        self.paused += pause
        self.attempts += 1
        return True


__all__ = ["RaceRetry", "DEADLINE_S"]
