"""The threads command routes run their blocking part on (命令线程).

A command blocks: it waits for its turn at the one writer (on SQLite, the group commit of
:mod:`aggregates.group_commit`) and for the store. A plain ``def`` route is run by Starlette
through anyio's worker threads, whose hand-off (a Python ``queue.Queue`` with its condition,
cancel scopes, run-variables) cost the event loop about a fifth of its time on the public
objection under load (py-spy, README "Commands near the floor"). :func:`run_blocking` hands the
call to a :class:`~concurrent.futures.ThreadPoolExecutor` instead (a C queue) and awaits it, with
the caller's context variables, as anyio would.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

# As many as anyio's default limiter lets run at once: a command thread mostly waits (its turn at
# the writer, the store), so the number bounds how many commands queue, not the CPU they use.
MAX_THREADS = 40

_pool = ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix="command")


async def run_blocking(call: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """``call(*args, **kwargs)`` on a command thread, awaited from the event loop."""
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(
        _pool, functools.partial(context.run, call, *args, **kwargs))


__all__ = ["MAX_THREADS", "run_blocking"]
