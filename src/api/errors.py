"""Every error as ``application/problem+json`` (RFC 9457, docs/API.md "Errors").

``{"type", "title", "status", "detail", "code"}`` plus ``field`` (the offending input, dotted) and
``errors`` for malformed input, and ``article``/``policy`` when a rule of the regulation refused.
A body over the size limit is refused with 413 before anything reads it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aggregates.errors import DomainError, IdempotencyKeyReused, InvalidInput, NotFound, StaleVersion
from audit.cosigning import UnknownWitness

from .inputs import ascii_int

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"


class ProblemException(Exception):
    """An HTTP-level refusal (401, 403, 404...) raised by the API layer itself."""

    def __init__(self, status: int, code: str, detail: str, headers: Mapping[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.headers = dict(headers or {})
        self.extra = extra


def problem(status: int, code: str, detail: str, headers: Mapping[str, str] | None = None,
            **extra: Any) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": _title(status),
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=dict(headers or {}))


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _dotted(loc: tuple[Any, ...] | list[Any]) -> str:
    """``("body", "host_unit", "credit_code")`` → ``host_unit.credit_code``; list indexes as ``[i]``."""
    parts = list(loc)
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out or (str(loc[0]) if loc else "body")


def _clean(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # pydantic errors may carry the raw input and exception objects: keep what a client needs,
    # and never echo a huge input back.
    cleaned = []
    for e in errors[:20]:
        cleaned.append({"field": _dotted(e.get("loc", ())), "in": str(e.get("loc", ("body",))[0]),
                        "message": str(e.get("msg", "")), "type": str(e.get("type", ""))})
    return cleaned


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = _clean(list(exc.errors()))
    if any(e["type"] == "json_invalid" for e in errors):
        return problem(400, "malformed_json", "the request body is not valid JSON", field="body", errors=errors)
    first = errors[0] if errors else {"field": "body", "message": "invalid input"}
    return problem(422, "invalid_input", f"{first['field']}: {first['message']}", field=first["field"],
                   errors=errors)


# The HTTP status of each kind of domain refusal (docs/API.md, "Errors"); a class not named here
# answers as its nearest named base, and every other refusal (a rule of the regulation, a write
# that lost its races until the deadline) is a conflict with the state: 409.
STATUS_OF: dict[type[DomainError], int] = {
    InvalidInput: 422,
    IdempotencyKeyReused: 422,
    NotFound: 404,
    StaleVersion: 412,
    UnknownWitness: 403,
    DomainError: 409,
}


def status_of(exc: DomainError) -> int:
    """The HTTP status ``exc`` answers with (:data:`STATUS_OF`)."""
    return next(STATUS_OF[kind] for kind in type(exc).__mro__ if kind in STATUS_OF)


async def _domain(request: Request, exc: DomainError) -> JSONResponse:
    data = exc.as_dict()
    code, detail = data.pop("code"), data.pop("detail")
    return problem(status_of(exc), code, detail, None, **data)


async def _problem(request: Request, exc: ProblemException) -> JSONResponse:
    return problem(exc.status, exc.code, exc.detail, exc.headers, **exc.extra)


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden",
            413: "payload_too_large"}.get(exc.status_code, "http_error")
    detail = exc.detail if isinstance(exc.detail, str) else _title(exc.status_code)
    return problem(exc.status_code, code, detail, getattr(exc, "headers", None))


async def _cursor(request: Request, exc: Exception) -> JSONResponse:
    return problem(400, "invalid_cursor", "the cursor is not one this service handed out", field="cursor")


async def _overflow(request: Request, exc: Exception) -> JSONResponse:
    # A number the database or the calendar cannot represent: always an out-of-range input
    # (routes bound their parameters; this is the safety net that keeps it a 4xx).
    log.warning("out-of-range input on %s %s: %s", request.method, request.url.path, exc)
    return problem(422, "number_out_of_range", "a number in the request is out of range")


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.error("store unavailable: %s", exc)
    return problem(503, "store_unavailable", "the database is not reachable; retry shortly",
                   {"Retry-After": "5"})


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(500, "internal_error", "an unexpected error occurred; it has been logged")


def install(app: FastAPI) -> None:
    """Register the problem+json handlers on ``app``."""
    from eventsourcing.persistence import InterfaceError, OperationalError
    from sqlalchemy.exc import OperationalError as SAOperationalError

    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(DomainError, _domain)  # type: ignore[arg-type]
    app.add_exception_handler(ProblemException, _problem)  # type: ignore[arg-type]
    from projections.queries import InvalidCursor

    app.add_exception_handler(InvalidCursor, _cursor)
    app.add_exception_handler(OverflowError, _overflow)
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    for exc_type in (OperationalError, InterfaceError, SAOperationalError):
        app.add_exception_handler(exc_type, _unavailable)
    app.add_exception_handler(Exception, _unexpected)


class BodySizeLimit:
    """Refuse request bodies over ``max_bytes`` with 413, whether or not they declare a length."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in {"GET", "HEAD", "OPTIONS"}:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            length = ascii_int(declared.decode("latin-1"), 18)
            if length is None:
                await _send(send, problem(400, "bad_content_length", "Content-Length is not a number"))
                return
            if length > self.max_bytes:
                await _send(send, _too_large(self.max_bytes))
                return
            await self.app(scope, receive, send)
            return
        # No declared length (chunked): read up to the limit, then replay what was read.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _send(send, _too_large(self.max_bytes))
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _too_large(limit: int) -> JSONResponse:
    return problem(413, "payload_too_large", f"the request body exceeds {limit} bytes", field="body")


async def _send(send: Send, response: JSONResponse) -> None:
    await send({"type": "http.response.start", "status": response.status_code,
                "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


# Shared OpenAPI description of the problem+json body, referenced by every route's responses.
PROBLEM_SCHEMA: dict[str, Any] = {
    "description": "An RFC 9457 problem",
    "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status documented as a problem+json body."""
    text = {400: "Malformed request (e.g. the body is not JSON)", 401: "No or invalid access token",
            403: "The caller's role may not make this request", 404: "Unknown id",
            409: "Refused by a rule of the regulation or the platform's current state",
            412: "Stale If-Match version", 413: "Request body too large",
            422: "Invalid input (names the offending field)", 503: "Store unavailable or read models lagging"}
    return {s: {**PROBLEM_SCHEMA, "description": text.get(s, _title(s))} for s in statuses}


__all__ = ["ProblemException", "problem", "install", "BodySizeLimit", "problem_responses", "PROBLEM"]
