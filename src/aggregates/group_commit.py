"""Group commit (成组提交) for a store with one writer (SQLite).

SQLite takes one write transaction at a time, and each commit waits for the disk (fsync). Taken
one by one, queued commands each pay a transaction and a sync, and the thread holding the write
turn keeps losing the interpreter to the threads serving HTTP, so the turn lasts far longer than
the work in it. Here commands queue in arrival order (先到先得); the first in line leads: it takes
the whole queue, runs the commands one after another, and saves them in one transaction. The
others wait for their answers. When the leader's own answer is ready it hands the lead to the
next waiting thread.

An event loop submits without parking a thread (:meth:`GroupCommit.submit_async`): its command
queues in the same line and is awaited on an asyncio future. When such a command is first in line,
the lead passes to a writer thread of the group commit's own, which leads until the line is
empty; whoever leads answers every command of its group, a waiting thread by waking it, the
commands of one event loop with one call into that loop per group.

Which commands may share a transaction, and what happens when one may not, is the caller's
``process`` function (:meth:`aggregates.committer.Committer._process_group`): here is only
the queue, the lead and the hand-over of answers.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)

# How long closing waits for the writer thread to finish the group it is saving.
CLOSE_TIMEOUT = 30.0


class GroupCommitClosed(RuntimeError):
    """The group commit was closed (the registry is shutting down): the command was not run."""

    def __init__(self) -> None:
        super().__init__("the command was not run: the registry is shutting down")


class Job(Generic[T]):
    """One queued command: ``process`` ends it with :meth:`finish` or :meth:`fail`, or leaves it
    open to be run in a later group. A job submitted from an event loop is answered through its
    ``future``, in that loop."""

    __slots__ = ("payload", "done", "result", "error", "wake", "future")

    def __init__(self, payload: T, future: asyncio.Future[Any] | None = None) -> None:
        self.payload = payload
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None
        self.wake = threading.Event()  # set when done, or when its thread is to lead
        self.future = future

    def finish(self, result: Any) -> None:
        self.result, self.done = result, True

    def fail(self, error: BaseException) -> None:
        self.error, self.done = error, True


class GroupCommit(Generic[T]):
    """A FIFO queue of jobs processed in groups, one group at a time, by the first waiting thread
    or, for jobs submitted from an event loop, by the writer thread."""

    def __init__(self, process: Callable[[list[Job[T]]], None], max_group: int = 64,
                 name: str = "group-commit") -> None:
        self._process = process
        self._max_group = max_group
        self._name = name
        self._queue: deque[Job[T]] = deque()
        self._mutex = threading.Lock()
        self._leading = False  # a thread (a submitter, or the writer) holds the lead
        self._closed = False
        self._writer: threading.Thread | None = None  # started at the first submit_async
        self._writer_leads = False
        self._writer_turn = threading.Event()  # set when the lead passes to the writer, or on close

    def submit(self, payload: T) -> Any:
        """Queue ``payload`` and return its result (or raise its error) once processed."""
        job = Job(payload)
        with self._mutex:
            if self._closed:
                raise GroupCommitClosed()
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
                    closed = self._closed
                    group = [] if closed else self._take()
                if closed:
                    self._drop_closed()  # its own job fails with the others
                else:
                    self._run(group, job)
        finally:
            self._hand_over()
        return self._outcome(job)

    async def submit_async(self, payload: T) -> Any:
        """Queue ``payload`` from the running event loop and return its result (or raise its
        error) once processed, without a thread waiting for it. A cancelled caller's job is
        taken out of the queue if no group has taken it yet (else it runs, unanswered)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        job = Job(payload, future)
        start = None
        with self._mutex:
            if self._closed:
                raise GroupCommitClosed()
            self._queue.append(job)
            if not self._leading:
                self._leading = self._writer_leads = True
                self._writer_turn.set()
            if self._writer is None:
                start = self._writer = threading.Thread(target=self._write, name=f"{self._name}-writer", daemon=True)
        if start is not None:
            start.start()
        try:
            return await future
        except asyncio.CancelledError:
            with self._mutex:
                if job in self._queue:
                    self._queue.remove(job)
            raise

    def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Refuse further jobs; the group being processed is finished, and each job still queued
        fails with :class:`GroupCommitClosed`. Waits for the writer thread to end."""
        with self._mutex:
            # Jobs are queued only under a lead: the one leading fails them at its next turn.
            self._closed = True
            writer = self._writer
        self._writer_turn.set()
        if writer is not None and writer is not threading.current_thread():
            writer.join(timeout)
            if writer.is_alive():
                log.warning("group commit writer still saving at close", extra={"seconds": timeout})

    # ------------------------------------------------------------------ the lead
    def _take(self) -> list[Job[T]]:
        """The next group: the first jobs in line (the mutex held)."""
        return [self._queue.popleft() for _ in range(min(self._max_group, len(self._queue)))]

    def _run(self, group: list[Job[T]], own: Job[T] | None) -> None:
        """Process one group and answer its finished jobs; ``own`` is the leading thread's job,
        answered by that thread itself (None for the writer)."""
        try:
            self._process(group)
        except BaseException as exc:  # noqa: BLE001 - every open job of the group learns of it
            for j in group:
                if not j.done:
                    j.fail(exc if j is own else for_another_thread(exc))
        finally:
            with self._mutex:
                # Jobs left open go back to the head of the queue, in their order.
                self._queue.extendleft(reversed([j for j in group if not j.done]))
            _answer([j for j in group if j.done and j is not own])

    def _hand_over(self) -> None:
        """The lead passes to the first in line (its thread, or the writer for a job of an event
        loop), or lapses when nobody waits."""
        with self._mutex:
            if not self._queue:
                self._leading = False
                return
            if not self._closed:
                head = self._queue[0]
                if head.future is None:
                    head.wake.set()
                else:
                    self._writer_leads = True
                    self._writer_turn.set()
                return
        self._drop_closed()
        self._hand_over()

    def _drop_closed(self) -> None:
        """Closed: every queued job fails, and is answered."""
        with self._mutex:
            dropped = list(self._queue)
            self._queue.clear()
        for j in dropped:
            j.fail(GroupCommitClosed())
        _answer(dropped)

    def _write(self) -> None:
        """The writer thread: leads when handed the lead, until the queue is empty."""
        while True:
            self._writer_turn.wait()
            self._writer_turn.clear()
            while True:
                with self._mutex:
                    if not self._writer_leads:
                        break
                    group = self._take() if not self._closed else []
                    if not self._queue and not group:
                        self._writer_leads = self._leading = False
                        break
                if group:
                    self._run(group, None)
                else:
                    self._drop_closed()
            if self._closed:
                return

    def _abandon(self, job: Job[T]) -> None:
        """A waiting thread was interrupted: take its job out of the queue, and if the lead had
        just been handed to it, hand it on, so that the queue never stalls."""
        with self._mutex:
            if job in self._queue:
                self._queue.remove(job)
            handed = job.wake.is_set() and not job.done
        if handed:
            self._hand_over()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called: new jobs are refused."""
        return self._closed

    def waiting(self) -> int:
        """How many commands are queued (behind the group being processed)."""
        with self._mutex:
            return len(self._queue)

    @staticmethod
    def _outcome(job: Job[T]) -> Any:
        if job.error is not None:
            raise job.error
        return job.result


def _answer(jobs: list[Job[Any]]) -> None:
    """Answer finished jobs: wake each waiting thread; settle the futures of each event loop's
    jobs with one call into that loop."""
    loops: dict[asyncio.AbstractEventLoop, list[Job[Any]]] = {}
    for j in jobs:
        if j.future is None:
            j.wake.set()
        else:
            loops.setdefault(j.future.get_loop(), []).append(j)
    for loop, settled in loops.items():
        try:
            loop.call_soon_threadsafe(_settle, settled)
        except RuntimeError:  # the loop is closed: nobody awaits these answers any more
            log.info("answers to a closed event loop dropped", extra={"commands": len(settled)})


def _settle(jobs: list[Job[Any]]) -> None:
    """In the jobs' event loop: each future takes its job's result or error (unless cancelled)."""
    for j in jobs:
        future = j.future
        if future is None or future.done():
            continue
        if j.error is not None:
            future.set_exception(j.error)
        else:
            future.set_result(j.result)


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


__all__ = ["GroupCommit", "GroupCommitClosed", "Job", "for_another_thread"]
