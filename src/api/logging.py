"""Structured request logs: one line per request (method, path, status, duration_ms,
request_id, client, actor, and for a command what it recorded: command, aggregate_id, version,
position), via structlog. The request id comes from ``X-Request-ID`` or is generated, and is
echoed in the response so a client's report can be matched to the log line.

Lines are JSON by default, or laid out for a person at a console (``PLATFORMS_LOG_FORMAT``), at
``PLATFORMS_LOG_LEVEL`` and above."""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The actor of a request nobody signed in to (the anonymous public, or a refused credential).
PUBLIC_ACTOR = "public"

_configured: tuple[str, str] | None = None


def configure(level: str = "INFO", fmt: str = "json") -> None:
    """Logs on stderr at ``level`` and above, for structlog and the standard library alike:
    JSON lines (``fmt="json"``) or the console layout (``"console"``)."""
    global _configured
    if _configured == (level, fmt):
        return
    _configured = (level, fmt)
    processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _renderer(fmt),
    ]
    structlog.configure(processors=processors, logger_factory=structlog.PrintLoggerFactory(sys.stderr),
                        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level, 20)),
                        cache_logger_on_first_use=True)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(stdlib_json_formatter(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def _renderer(fmt: str) -> structlog.typing.Processor:
    if fmt == "console":
        # No colours: the console layout also ends up in journald and files.
        return structlog.dev.ConsoleRenderer(colors=False)
    return structlog.processors.JSONRenderer(ensure_ascii=False)


def stdlib_json_formatter(fmt: str = "json") -> logging.Formatter:
    """The standard library's records (eventsourcing, uvicorn, our modules' ``logging``) as the
    same lines as structlog's (JSON, or the console layout)."""
    return structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, _renderer(fmt)],
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
            state = scope.get("state") or {}
            recorded = state.get("recorded") or {}
            # The client's address as the server decided it (a trusted proxy's X-Forwarded-For,
            # else the peer), and who signed in (the token's or session's subject, once the
            # account accepted it): who sent a request matters to the bureau's security officer.
            client = (scope.get("client") or (None,))[0]
            self.log.info("request", method=scope["method"], path=scope["path"], status=status,
                          duration_ms=round((time.perf_counter() - started) * 1000, 2), request_id=request_id,
                          client=client, actor=state.get("actor", PUBLIC_ACTOR), **recorded)
