"""Group commit (成组提交) for a store with one writer (SQLite).

SQLite takes one write transaction at a time, and each commit waits for the disk (fsync). Taken
one by one, queued commands each pay a transaction and a sync, and the thread holding the write
turn keeps losing the interpreter to the threads serving HTTP, so the turn lasts far longer than
the work in it. Here commands queue in arrival order (先到先得); the first in line leads: it takes
the whole queue, runs the commands one after another, and saves them in one transaction. The
others wait for their answers. When the leader's own answer is ready it hands the lead to the
next waiting thread.

Which commands may share a transaction, and what happens when one may not, is the caller's
``process`` function (:meth:`aggregates.committer.Committer._process_group`): here is only
the queue, the lead and the hand-over of answers.
"""

from __future__ import annotations

import copy
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Generic, TypeVar

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
            try:
                job.wake.wait()  # until answered, or handed the lead
            except BaseException:
                self._abandon(job)
                raise
            if job.done:
                return self._outcome(job)
        try:
            while not job.done:
                with self._mutex:
                    group = [self._queue.popleft() for _ in range(min(self._max_group, len(self._queue)))]
                try:
                    self._process(group)
                except BaseException as exc:  # noqa: BLE001 - every open job of the group learns of it
                    for j in group:
                        if not j.done:
                            j.fail(exc if j is job else for_another_thread(exc))
                finally:
                    with self._mutex:
                        # Jobs left open go back to the head of the queue, in their order.
                        self._queue.extendleft(reversed([j for j in group if not j.done]))
                    for j in group:
                        if j.done and j is not job:
                            j.wake.set()
        finally:
            self._hand_over()
        return self._outcome(job)

    def _hand_over(self) -> None:
        """The lead passes to the first in line, or lapses when nobody waits."""
        with self._mutex:
            if self._queue:
                self._queue[0].wake.set()
            else:
                self._leading = False

    def _abandon(self, job: Job[T]) -> None:
        """A waiting thread was interrupted: take its job out of the queue, and if the lead had
        just been handed to it, hand it on, so that the queue never stalls."""
        with self._mutex:
            if job in self._queue:
                self._queue.remove(job)
            handed = job.wake.is_set() and not job.done
        if handed:
            self._hand_over()

    def waiting(self) -> int:
        """How many commands are queued (behind the group being processed)."""
        with self._mutex:
            return len(self._queue)

    @staticmethod
    def _outcome(job: Job[T]) -> Any:
        if job.error is not None:
            raise job.error
        return job.result


def for_another_thread(error: BaseException) -> BaseException:
    """The error one failure gives each further waiting thread (a failed save fails every command
    of its group): its own copy, so that each raises it with its own traceback, caused by the
    original; an interruption of the leader (KeyboardInterrupt, SystemExit) is not passed on as
    such."""
    if not isinstance(error, Exception):
        wrapped = RuntimeError("the command was not run: the thread saving its group was interrupted")
        wrapped.__cause__ = error
        return wrapped
    try:
        clone = copy.copy(error)
    except Exception:  # noqa: BLE001 - an error that cannot be copied is shared as it is
        return error
    clone.__cause__ = error
    return clone


__all__ = ["GroupCommit", "Job", "for_another_thread"]
