"""A lock granted in arrival order (先到先得), for SQLite's single writer.

Every command on a SQLite store queues for the one write lock. ``threading.Lock`` is not fair:
a thread that releases it, or one that just arrived, can take it again ahead of threads that
have waited longer, so under a queue of commands some wait many turns. Clients see that as a
long latency tail. Here each waiter gets its own turn, in order, and the holder hands the lock
straight to the next waiter.
"""

from __future__ import annotations

import threading
from collections import deque
from types import TracebackType


class FifoLock:
    """A non-reentrant mutual-exclusion lock whose waiters acquire it first come, first served."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()
        self._held = False

    def acquire(self) -> None:
        with self._mutex:
            if not self._held:
                self._held = True
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        turn.acquire()  # released by the holder when it hands the lock over

    def release(self) -> None:
        with self._mutex:
            if not self._held:
                raise RuntimeError("release of an unheld FifoLock")
            if self._waiters:
                self._waiters.popleft().release()  # the lock passes on: it stays held
            else:
                self._held = False

    def waiting(self) -> int:
        """How many threads are queued for the lock."""
        with self._mutex:
            return len(self._waiters)

    def __enter__(self) -> "FifoLock":
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
