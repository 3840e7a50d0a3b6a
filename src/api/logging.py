"""Structured request logs: one JSON line per request (method, path, status, duration_ms,
request_id, and for a command what it recorded: command, aggregate_id, version, position), via
structlog. The request id comes from ``X-Request-ID`` or is generated, and is
echoed in the response so a client's report can be matched to the log line."""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_configured = False


def configure(level: str = "INFO") -> None:
    """JSON logs on stderr, for structlog and the standard library alike."""
    global _configured
    if _configured:
        return
    _configured = True
    processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        structlog.processors.JSONRenderer(ensure_ascii=False),
    ]
    structlog.configure(processors=processors, logger_factory=structlog.PrintLoggerFactory(sys.stderr),
                        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level, 20)),
                        cache_logger_on_first_use=True)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(stdlib_json_formatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def stdlib_json_formatter() -> logging.Formatter:
    """The standard library's records (eventsourcing, uvicorn, our modules' ``logging``) as the
    same JSON lines as structlog's."""
    return structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.JSONRenderer(ensure_ascii=False)],
        # ExtraAdder: the fields a module passes as ``extra=`` (e.g. the command, aggregate id
        # and position of "command recorded") become keys of the JSON line.
        foreign_pre_chain=[structlog.processors.add_log_level,
                           structlog.processors.TimeStamper(fmt="iso", utc=True),
                           structlog.stdlib.ExtraAdder()])


_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")


def _request_id(sent: bytes) -> str:
    """The client's ``X-Request-ID`` if it is a plain token, else a new one: it is written to the
    log and echoed in a response header, where a control character, NUL or another encoding's
    bytes would forge log lines or break the response."""
    return sent.decode("ascii") if _REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex


class RequestLog:
    """ASGI middleware writing the access log line (cheap: no body is read)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = structlog.get_logger("api.request")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope.get("headers") or [])
        request_id = _request_id(headers.get(b"x-request-id", b""))
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            # A command route leaves what it recorded in the request state (commands_support):
            # one line per request says who was changed and at which log position.
            recorded = (scope.get("state") or {}).get("recorded") or {}
            # The client's address as the server decided it (a trusted proxy's X-Forwarded-For,
            # else the peer): who sent a request matters to the bureau's security officer.
            client = (scope.get("client") or (None,))[0]
            self.log.info("request", method=scope["method"], path=scope["path"], status=status,
                          duration_ms=round((time.perf_counter() - started) * 1000, 2), request_id=request_id,
                          client=client, **recorded)
