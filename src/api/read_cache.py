"""Rendered read-model responses, reused while the read models stand still.

The publicity list, the subfield registry, the funding ledger and each platform's summary are
read far more often than they change (the public reloads the list all through a publicity
window), and they change only when the projection runner applies new events. A rendered
response is therefore kept under its query and the read models' positions, read *before* the
query runs: a body can only be as new as or newer than its key, never staler, and any new event
changes the key.

Where the positions come from:

* When the projection runner runs in this process (SQLite, or ``PLATFORMS_RUN_PROJECTIONS``),
  it publishes its position after each committed batch (:attr:`ReadModelRunner.position`), so
  the tables are at least there. A cache hit then needs no database at all and is answered on
  the event loop (:meth:`RenderedReads.respond`), without a thread hand-off.
* Otherwise (a separate ``platforms projections run`` process) the positions are read from the
  positions table in the query's own connection, on the thread pool.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool

from projections.runner import read_positions

from .http_caching import entity_tag


class PublishesPosition(Protocol):
    """What the cache needs of an in-process runner: the position every model has reached."""

    position: int


def render_json(content: Any) -> bytes:
    """The body exactly as Starlette's JSONResponse renders it."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Tagged:
    """A rendered body and its strong ETag, computed once when rendered and kept beside it."""

    body: bytes
    etag: str

    @classmethod
    def of(cls, body: bytes) -> Tagged:
        return cls(body, entity_tag(body))


class RenderedReads:
    """A small LRU of rendered responses keyed by (query, read-model positions)."""

    def __init__(self, maxsize: int = 256) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[Hashable, tuple[Any, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._runner: PublishesPosition | None = None

    # ------------------------------------------------------------------ where positions come from
    def follow(self, runner: PublishesPosition | None) -> None:
        """Key entries on ``runner``'s published position (it runs in this process), or, with
        None, on the positions table."""
        self._runner = runner
        with self._lock:
            self._entries.clear()

    def _positions(self, conn: Any) -> Any:
        runner = self._runner
        if runner is not None:
            return runner.position
        return tuple(sorted(read_positions(conn).items()))

    # ------------------------------------------------------------------ lookups
    def peek(self, key: Hashable, min_position: int | None = None) -> Any | None:
        """The entry for ``key`` if it is known to be current without asking the database
        (in-process runner only), and at least at ``min_position``; else None."""
        runner = self._runner
        if runner is None:
            return None
        position = runner.position
        if min_position is not None and position < min_position:
            return None
        return self._hit(key, position)

    def _hit(self, key: Hashable, positions: Any) -> Any | None:
        """The entry kept for ``key`` if it was rendered at ``positions`` (most recently used now)."""
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] == positions:
                self._entries.move_to_end(key)
                return hit[1]
        return None

    def value(self, conn: Any, key: Hashable, render: Callable[[], Any], min_position: int | None = None) -> Any:
        """The cached value of ``key`` at the current positions, or ``render()``'s (kept)."""
        positions = self._positions(conn)
        runner = self._runner
        if runner is not None and min_position is not None and positions < min_position:
            # The tables are past this process's runner (another process moved them, and
            # ``min_position`` was checked against them): answer fresh, keep nothing.
            return render()
        hit = self._hit(key, positions)
        if hit is not None:
            return hit
        value = render()
        with self._lock:
            self._entries[key] = (positions, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        return value

    def tagged(self, conn: Any, key: Hashable, render: Callable[[], Any], min_position: int | None = None) -> Tagged:
        """:meth:`value` for a body and its ETag: ``render()`` returns the content (JSON unless
        it returns bytes, such as a CSV or an Atom feed), kept rendered and tagged."""
        def rendered() -> Tagged:
            content = render()
            return Tagged.of(content if isinstance(content, bytes) else render_json(content))

        return self.value(conn, key, rendered, min_position)

    async def respond(self, key: Hashable, min_position: int | None, compute: Callable[[], Any]) -> Any:
        """The current entry for ``key``: from memory on the event loop when that is provably
        current, else ``compute()`` (blocking: it waits for ``min_position`` and queries
        through :meth:`value`) on the thread pool."""
        hit = self.peek(key, min_position)
        if hit is not None:
            return hit
        return await run_in_threadpool(compute)
