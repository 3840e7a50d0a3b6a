"""What every command route shares: the act (who, as what, on which day, on what authority),
the ``Idempotency-Key`` fingerprint, ``If-Match``, applicant ownership, and the response.

Routes stay thin: they translate HTTP into one :class:`~aggregates.application.RegistryApp`
call through :func:`execute` and the domain decides.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from aggregates.application import CommandResult, Idempotency
from aggregates.clock import today_in_shanghai
from aggregates.errors import NotFound
from aggregates.values import Act, Role
from projections.views import summarize

from .auth import Principal
from .bootstrap import Container
from .errors import ProblemException
from .inputs import ascii_int
from .page_security import client_address

MAX_KEY = 200
# A structured-field string, as the IETF Idempotency-Key draft defines it: printable ASCII. The
# key is kept in the permanent log, so no control character or byte of another encoding gets in.
_KEY = re.compile(f"[\\x20-\\x7e]{{1,{MAX_KEY}}}")


def make_act(principal: Principal, business_date: date | None, *refs: str | None) -> Act:
    """The act of an authenticated caller, recorded today (Asia/Shanghai): the actor is the
    token's subject, never a body field, and the date is today unless a clerk back-fills it.
    The act's own rules refuse (422) a future date, or any other day than today for those who
    act for themselves, before any rule of the regulation is consulted."""
    today = today_in_shanghai()
    return Act(actor_id=principal.actor_id, role=principal.role, business_date=business_date or today,
               document_refs=tuple(r for r in refs if r), recorded_on=today)


def paper_act(clerk: Principal, actor_id: str, role: Role, business_date: date | None, *refs: str | None) -> Act:
    """The paper act of ``actor_id`` in ``role`` (a host unit, an expert, an objector) that a
    clerk of the service agency or the bureau records on its behalf (代为录入): dated on the day it
    happened (received, signed at the meeting), and recording both who acted and the clerk, who
    is the token's subject."""
    return make_act(clerk, business_date, *refs).on_behalf_of(actor_id, role)


def idempotency_of(request: Request, body: BaseModel | None) -> Idempotency | None:
    """``Idempotency-Key`` with a fingerprint of the request (method, path, canonical body), so
    the same key with a different request is refused instead of replaying the wrong answer."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    key = key.strip()
    if not _KEY.fullmatch(key):
        raise ProblemException(422, "invalid_idempotency_key",
                               f"Idempotency-Key must be 1-{MAX_KEY} printable ASCII characters",
                               field="Idempotency-Key")
    canonical = json.dumps(body.model_dump(mode="json") if body is not None else None,
                           sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256("\n".join([request.method, request.url.path, canonical]).encode("utf-8"))
    return Idempotency(key=key, fingerprint=digest.hexdigest())


def public_key_scope(secret_key: str, client: str, key: str) -> str:
    """The stored key of an anonymous caller's ``Idempotency-Key``. Every anonymous caller acts
    as "public", so one visitor's key must not replay another's answer: the key is scoped to the
    client address. The record is kept forever and shown to auditors, and an address is
    personal data, so what is stored is a keyed hash (HMAC with a key derived from the secret
    key) of address and key: neither can be read back from the log, and two keys from one
    address cannot be linked. A rotation of the secret key changes it: while the previous key is
    configured, a retry is also looked up under the previous key's hash (:func:`execute`)."""
    scope_key = hmac.new(secret_key.encode("utf-8"), b"platform-registry public idempotency v1",
                         hashlib.sha256).digest()
    digest = hmac.new(scope_key, f"{client}\n{key}".encode(), hashlib.sha256).hexdigest()
    return f"public:{digest}"


def expected_version_of(request: Request) -> int | None:
    """``If-Match: 7`` or ``If-Match: "7"`` (an ETag) → 7; absent → None (no check)."""
    raw = request.headers.get("if-match")
    if raw is None:
        return None
    value = raw.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    version = ascii_int(value, 9)
    if version is None:
        raise ProblemException(422, "invalid_if_match", "If-Match must be the platform's version, e.g. \"7\"",
                               field="If-Match")
    return version


def check_owner(container: Container, principal: Principal, platform_id: UUID) -> None:
    """An applicant acts only on its own host unit's platforms: 404 for one it may not even see
    (its existence stays hidden before publicity), 403 for a visible one of another unit."""
    if principal.role is not Role.APPLICANT:
        return
    platform = container.app.get_platform(platform_id)
    if not platform.visible_to(principal.role, principal.credit_code):
        raise NotFound("platform_not_found", f"no platform {platform_id}", params={"platform_id": platform_id})
    if platform.host_credit_code != principal.credit_code:
        raise ProblemException(403, "not_your_platform",
                               "applicants act only on their own host unit's platforms")


def platform_response(container: Container, result: CommandResult, status: int = 200) -> JSONResponse:
    """The platform summary at the version the command produced, plus ``position`` and the
    command's extras (``objection_id``/``admissible``, ``change_id``). A replayed command answers
    the same (its first) result."""
    container.notify()
    platform = container.app.get_platform(result.aggregate_id)  # cached: usually just written
    if platform.version != result.version:  # a replayed command, or a later write already landed
        platform = container.app.get_platform(result.aggregate_id, version=result.version)
    body: dict[str, Any] = summarize(platform)
    body["position"] = result.position
    body.update(result.extra)
    headers = {"ETag": f'"{result.version}"', "Location": f"/api/v1/platforms/{result.aggregate_id}"}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(body, status_code=status, headers=headers)


def note_recorded(request: Request, command: str, result: CommandResult) -> None:
    """What the request recorded, for its log line (:class:`api.logging.RequestLog`)."""
    request.state.recorded = {"command": command, "aggregate_id": str(result.aggregate_id),
                              "version": result.version, "position": result.position}


def execute(
    container: Container, request: Request, body: BaseModel | None, call: Callable[..., CommandResult],
    *, principal: Principal, platform_id: UUID | None = None, if_match: bool = True, status: int = 200,
    owner_only: bool = True, receipt_only: bool = False, **kwargs: Any,
) -> JSONResponse:
    """Ownership check, then the service call with idempotency (and ``If-Match``), then the
    platform response."""
    if platform_id is not None:
        if owner_only:
            check_owner(container, principal, platform_id)
        kwargs["platform_id"] = platform_id
    extra: dict[str, Any] = {"idempotency": idempotency_for(container, request, body, principal)}
    if if_match:
        extra["expected_version"] = expected_version_of(request)
    result = call(**kwargs, **extra)
    note_recorded(request, getattr(call, "__name__", "command"), result)
    if receipt_only:
        return receipt_response(container, result, kwargs["act"])
    return platform_response(container, result, status)


def idempotency_for(container: Container, request: Request, body: BaseModel | None,
                    principal: Principal) -> Idempotency | None:
    """:func:`idempotency_of`, the key of an anonymous caller scoped to its address
    (:func:`public_key_scope`)."""
    idempotency = idempotency_of(request, body)
    if idempotency is not None and principal.role is Role.PUBLIC:
        settings, address = container.settings, client_address(request)
        scopes = [public_key_scope(secret, address, idempotency.key)
                  for secret in (settings.secret_key, settings.previous_secret_key) if secret]
        idempotency = Idempotency(scopes[0], idempotency.fingerprint, earlier_keys=tuple(scopes[1:]))
    return idempotency


def receipt_response(container: Container, result: CommandResult, act: Act) -> JSONResponse:
    """The answer to the public: the command's extras, the day it was received and ``position``,
    never the platform's file."""
    container.notify()
    return JSONResponse({**result.extra, "received_on": act.business_date.isoformat(), "position": result.position})
