"""Group commit (成组提交) for a store with one writer (SQLite).

SQLite takes one write transaction at a time, and each commit waits for the disk (fsync). Taken
one by one, queued commands each pay a transaction and a sync, and the thread holding the write
turn keeps losing the interpreter to the threads serving HTTP, so the turn lasts far longer than
the work in it. Here commands queue in arrival order (先到先得); the first in line leads: it takes
the whole queue, runs the commands one after another, and saves them in one transaction. The
others wait for their answers. When the leader's own answer is ready it hands the lead to the
next waiting thread.

Which commands may share a transaction, and what happens when one may not, is the caller's
``process`` function (:meth:`aggregates.application.RegistryApp._process_group`): here is only
the queue, the lead and the hand-over of answers.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any, Callable, Generic, TypeVar

T = TypeVar("T")


class Job(Generic[T]):
    """One queued command: ``process`` ends it with :meth:`finish` or :meth:`fail`, or leaves it
    open to be run in a later group."""

    __slots__ = ("payload", "done", "result", "error", "wake")

    def __init__(self, payload: T) -> None:
        self.payload = payload
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None
        self.wake = threading.Event()  # set when done, or when its thread is to lead

    def finish(self, result: Any) -> None:
        self.result, self.done = result, True

    def fail(self, error: BaseException) -> None:
        self.error, self.done = error, True


class GroupCommit(Generic[T]):
    """A FIFO queue of jobs whose first waiting thread processes them in groups."""

    def __init__(self, process: Callable[[list[Job[T]]], None], max_group: int = 64) -> None:
        self._process = process
        self._max_group = max_group
        self._queue: deque[Job[T]] = deque()
        self._mutex = threading.Lock()
        self._leading = False

    def submit(self, payload: T) -> Any:
        """Queue ``payload`` and return its result (or raise its error) once processed."""
        job = Job(payload)
        with self._mutex:
            self._queue.append(job)
            follow, self._leading = self._leading, True
        if follow:
            job.wake.wait()  # until answered, or handed the lead
            if job.done:
                return self._outcome(job)
        try:
            while not job.done:
                with self._mutex:
                    group = [self._queue.popleft() for _ in range(min(self._max_group, len(self._queue)))]
                try:
                    self._process(group)
                except BaseException as exc:  # noqa: BLE001 - every job of the group learns of it
                    for j in group:
                        if not j.done:
                            j.fail(exc)
                with self._mutex:
                    # Jobs left open go back to the head of the queue, in their order.
                    self._queue.extendleft(reversed([j for j in group if not j.done]))
                for j in group:
                    if j.done and j is not job:
                        j.wake.set()
        finally:
            with self._mutex:
                if self._queue:
                    self._queue[0].wake.set()  # the lead passes to the first in line
                else:
                    self._leading = False
        return self._outcome(job)

    def waiting(self) -> int:
        """How many commands are queued (behind the group being processed)."""
        with self._mutex:
            return len(self._queue)

    @staticmethod
    def _outcome(job: Job[T]) -> Any:
        if job.error is not None:
            raise job.error
        return job.result


__all__ = ["GroupCommit", "Job"]
