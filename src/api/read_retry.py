"""Reads that lose their database connection in flight are answered, not refused.

On PostgreSQL the server may end a session at any moment (a restart, a failover, an idle-session
timeout, an operator's ``pg_terminate_backend``). The read-model pool tests a connection before
lending it, but a query already on the wire is lost with its session, and the read would answer
503 (the soak, ``bench/soak.py``, saw one such ledger read in 12,016 requests). A read changes
nothing, so it is run once more, on a fresh connection, before anyone is told. Commands are not
retried here: the application service already retries a lost write on fresh state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from projections.reconnect import is_connection_loss

__all__ = ["RetryReadOnLostConnection"]

log = logging.getLogger(__name__)

_READS = frozenset({"GET", "HEAD"})


class RetryReadOnLostConnection(APIRoute):
    """A route whose GET and HEAD handlers run once more when their connection was lost."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if not self.methods or not self.methods <= _READS:
            return handler

        async def retrying(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:  # only a lost connection is retried
                if not is_connection_loss(exc):
                    raise
                log.warning("read lost its database connection; reading once more",
                            extra={"path": request.url.path, "error": f"{type(exc).__name__}: {exc}"})
                return await handler(request)

        return retrying
