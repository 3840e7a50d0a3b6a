"""Every error as ``application/problem+json`` (RFC 9457, docs/API.md "Errors").

``{"type", "title", "status", "detail", "code"}`` plus ``field`` (the offending input, dotted) and
``errors`` for malformed input, and ``article``/``policy`` when a rule of the regulation refused.
``type`` is an absolute URI whose page describes the code (:mod:`api.routes_problems`), under
``PLATFORMS_PUBLIC_BASE_URL`` or else the request's own base URL; ``title`` and ``detail`` are in
Chinese, or in English when ``Accept-Language`` prefers it (:mod:`api.negotiation`), in the
words of the one catalogue of codes (:mod:`api.problem_catalogue`). The machine-readable fields
never depend on the language. A body over the size limit is refused with 413 before anything
reads it.
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
from .negotiation import preferred_language
from .problem_catalogue import Language, problem_type

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"
PROBLEMS_PATH = "/problems"
CONTENT_LANGUAGE = {"zh": "zh-CN", "en": "en"}


class ProblemException(Exception):
    """An HTTP-level refusal (401, 403, 404...) raised by the API layer itself. ``detail`` is
    English; ``params`` fill the catalogue's Chinese detail (:mod:`api.problem_catalogue`)."""

    def __init__(self, status: int, code: str, detail: str, headers: Mapping[str, str] | None = None,
                 *, params: Mapping[str, object] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.headers = dict(headers or {})
        self.params = dict(params or {})
        self.extra = extra


def type_uri(request: Request, code: str) -> str:
    """The absolute URI of ``code``'s page: the configured public base URL, else the request's."""
    base = getattr(request.app.state, "public_base_url", "") if "app" in request.scope else ""
    return f"{base or str(request.base_url).rstrip('/')}{PROBLEMS_PATH}/{code}"


def language_of(request: Request) -> Language:
    """The language the client reads (Chinese unless it prefers English)."""
    return preferred_language(request.headers.get("accept-language"))


def problem(request: Request, status: int, code: str, detail: str, headers: Mapping[str, str] | None = None,
            *, params: Mapping[str, object] | None = None, **extra: Any) -> JSONResponse:
    """A problem+json response in the request's language: ``detail`` is the English text,
    ``params`` the values the catalogue's Chinese detail is written from."""
    kind = problem_type(code)
    language = language_of(request)
    body: dict[str, Any] = {
        "type": type_uri(request, code),
        "title": kind.title(language),
        "status": status,
        "detail": detail if language == "en" else kind.chinese_detail(params),
        "code": code,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    out = {**dict(headers or {}), "Content-Language": CONTENT_LANGUAGE[language], "Vary": "Accept-Language"}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=out)


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


# pydantic's error types in Chinese, for the detail of ``invalid_input`` (the ``errors`` list
# keeps pydantic's own ``type`` and English ``message``).
_PYDANTIC_ZH = {
    "missing": "必须填写", "extra_forbidden": "不是该请求的字段", "string_too_short": "内容太短",
    "string_too_long": "内容太长", "forbidden_character": "含有不允许的控制字符或换行",
    "literal_error": "不是允许的取值", "enum": "不是允许的取值", "date_only": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD", "date_parsing": "日期格式应为 YYYY-MM-DD",
    "ascii_number": "须为 ASCII 数字", "string_type": "须为文本", "int_parsing": "须为整数",
    "int_type": "须为整数", "bool_parsing": "须为 true 或 false", "bool_type": "须为 true 或 false",
    "list_type": "须为列表", "dict_type": "须为对象", "model_type": "须为对象", "too_long": "条目过多",
    "too_short": "条目过少", "decimal_parsing": "须为数字", "string_pattern_mismatch": "格式不符合要求",
    "greater_than_equal": "数值太小", "less_than_equal": "数值太大", "greater_than": "数值太小",
    "less_than": "数值太大", "uuid_parsing": "须为 UUID", "value_error": "取值不符合要求",
    "objection_objector_name": "姓名或单位名称不符合要求", "objection_contact": "联系方式不符合要求",
    "objection_content": "异议内容不符合要求",
}


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    raw = list(exc.errors())
    errors = _clean(raw)
    if any(e["type"] == "json_invalid" for e in errors):
        return problem(request, 400, "malformed_json", "the request body is not valid JSON", field="body",
                       errors=errors)
    first = errors[0] if errors else {"field": "body", "message": "invalid input", "type": ""}
    context = raw[0].get("ctx") if raw else None
    own = context.get("zh") if isinstance(context, dict) else None  # a rule with its own Chinese sentence
    zh = own or _PYDANTIC_ZH.get(first["type"], f"不符合要求（{first['message']}）")
    return problem(request, 422, "invalid_input", f"{first['field']}: {first['message']}",
                   params={"field": first["field"], "message": zh}, field=first["field"], errors=errors)


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
    return problem(request, status_of(exc), code, detail, None, params=exc.params, **data)


async def _problem(request: Request, exc: ProblemException) -> JSONResponse:
    return problem(request, exc.status, exc.code, exc.detail, exc.headers, params=exc.params, **exc.extra)


# The code of each HTTP-level refusal the framework raises itself (an unknown path, a wrong method).
HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden",
              413: "payload_too_large"}


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = HTTP_CODES.get(exc.status_code, "http_error")
    detail = exc.detail if isinstance(exc.detail, str) else _title(exc.status_code)
    return problem(request, exc.status_code, code, detail, getattr(exc, "headers", None))


async def _cursor(request: Request, exc: Exception) -> JSONResponse:
    return problem(request, 400, "invalid_cursor", "the cursor is not one this service handed out", field="cursor")


async def _overflow(request: Request, exc: Exception) -> JSONResponse:
    # A number the database or the calendar cannot represent: always an out-of-range input
    # (routes bound their parameters; this is the safety net that keeps it a 4xx).
    log.warning("out-of-range input on %s %s: %s", request.method, request.url.path, exc)
    return problem(request, 422, "number_out_of_range", "a number in the request is out of range")


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.error("store unavailable: %s", exc)
    return problem(request, 503, "store_unavailable", "the database is not reachable; retry shortly",
                   {"Retry-After": "5"})


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(request, 500, "internal_error", "an unexpected error occurred; it has been logged")


def install(app: FastAPI, public_base_url: str = "") -> None:
    """Register the problem+json handlers on ``app``; ``type`` URIs under ``public_base_url``
    (``PLATFORMS_PUBLIC_BASE_URL``), or the request's base URL when it is empty."""
    app.state.public_base_url = public_base_url
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
        request = Request(scope)
        if declared is not None:
            length = ascii_int(declared.decode("latin-1"), 18)
            if length is None:
                await _send(send, problem(request, 400, "bad_content_length", "Content-Length is not a number"))
                return
            if length > self.max_bytes:
                await _send(send, _too_large(request, self.max_bytes))
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
                await _send(send, _too_large(request, self.max_bytes))
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


def _too_large(request: Request, limit: int) -> JSONResponse:
    return problem(request, 413, "payload_too_large", f"the request body exceeds {limit} bytes",
                   params={"limit": limit}, field="body")


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


__all__ = ["ProblemException", "problem", "install", "BodySizeLimit", "problem_responses", "PROBLEM", "type_uri",
           "language_of", "PROBLEMS_PATH"]
