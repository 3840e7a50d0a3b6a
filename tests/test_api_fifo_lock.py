"""SQLite's single write lock serves queued commands in arrival order."""

from __future__ import annotations

import threading
import time

import pytest

from api.fifo_lock import FifoLock


def _wait_until(predicate, timeout: float = 5.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_queued_commands_take_the_write_lock_in_arrival_order() -> None:
    lock, order = FifoLock(), []
    lock.acquire()
    threads = []
    for n in range(8):
        def work(n: int = n) -> None:
            with lock:
                order.append(n)
        t = threading.Thread(target=work)
        t.start()
        _wait_until(lambda n=n: lock.waiting() == n + 1)  # queued before the next one arrives
        threads.append(t)
    # The releasing thread must not be able to jump the queue either.
    lock.release()
    with lock:
        order.append("late")
    for t in threads:
        t.join(5)
    assert order == [0, 1, 2, 3, 4, 5, 6, 7, "late"]


def test_the_write_lock_excludes_and_refuses_a_release_it_does_not_hold() -> None:
    lock, inside, overlaps = FifoLock(), [0], []

    def work() -> None:
        for _ in range(200):
            with lock:
                inside[0] += 1
                overlaps.append(inside[0])
                inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(overlaps) == 800 and max(overlaps) == 1
    with pytest.raises(RuntimeError):
        lock.release()
