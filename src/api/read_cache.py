"""Rendered read-model responses, reused while the read models stand still.

The publicity list, the subfield registry and the funding ledger are read far more often than
they change (the public reloads the list all through a publicity window), and they change only
when the projection runner applies new events. A rendered body is therefore kept under its
query and the read models' positions, read in the same connection *before* the query runs: a
body can only be as new as or newer than its key, never staler, and any new event changes the
key.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable

from projections.runner import read_positions


def render_json(content: Any) -> bytes:
    """The body exactly as Starlette's JSONResponse renders it."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()


class RenderedReads:
    """A small LRU of rendered bodies keyed by (query, read-model positions)."""

    def __init__(self, maxsize: int = 256) -> None:
        self.maxsize = maxsize
        self._bodies: OrderedDict[Hashable, tuple[tuple[Any, ...], bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def body(self, conn: Any, key: Hashable, render: Callable[[], Any]) -> bytes:
        positions = tuple(sorted(read_positions(conn).items()))
        with self._lock:
            hit = self._bodies.get(key)
            if hit is not None and hit[0] == positions:
                self._bodies.move_to_end(key)
                return hit[1]
        body = render_json(render())
        with self._lock:
            self._bodies[key] = (positions, body)
            self._bodies.move_to_end(key)
            while len(self._bodies) > self.maxsize:
                self._bodies.popitem(last=False)
        return body
