"""Audit routes (审计): the global log, verification, signed checkpoints, Merkle proofs, diffs and
the read models at a past position.

Only auditors and the bureau read the log. Public, so that anyone may hold the registry to what
it signed: the latest checkpoint (JSON, or with ``Accept: text/plain`` the C2SP signed note with
the witnesses' cosignatures), every checkpoint ever signed, consistency proofs (hashes only,
what a witness needs), and the submission of a cosignature (kept only if it verifies under a
witness key the operator configured). Nothing here changes an event: checkpoints and
cosignatures are statements about the log in tables of their own. ``GET
/platforms/{id}/history`` and ``?as_of`` live in routes_queries. Handlers are plain ``def``:
the event store is synchronous.

Bodies go out as the audit modules build them (``JSONResponse``: a checkpoint is published byte
for byte as signed, and a page of the log is not validated twice); their models in
:mod:`api.audit_schemas` are what the OpenAPI document shows, held to the real bodies by
tests/test_audit_response_models.py.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from aggregates.errors import NotFound
from aggregates.values import Role
from audit import proofs, timetravel
from audit.checkpoints import LogNotIntact, sign_checkpoint
from audit.cosigning import WitnessConfigError, accept_cosignature, configured_witnesses
from audit.history import export_chunks, log_entries
from audit.published import latest_view, views_after
from audit.verify import verify_log
from projections import queries
from projections.runner import max_position

from . import audit_schemas as a
from .auth import Principal
from .bootstrap import Container
from .deps import get_container, require_roles
from .errors import ProblemException, problem_responses
from .negotiation import media_quality
from .schemas import CosignatureIn

log = logging.getLogger(__name__)

router = APIRouter()

Wired = Annotated[Container, Depends(get_container)]
Auditors = Annotated[Principal, Depends(require_roles(Role.AUDITOR, Role.BUREAU))]
# Every route reads the store (503 when it does not answer); the auditors' ones need a token of
# their role; only the parameters' bounds (422) and each route's own refusals are added below.
AUDITORS = problem_responses(401, 403, 503)
PUBLIC = problem_responses(503)


Cursor = Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page "
                                     "(instead of `after`)")]


def _start(after: int, cursor: str | None, kind: str) -> int:
    """Where a page starts: the ``cursor`` the previous page handed out, else ``after``."""
    return queries.decode_cursor(kind, cursor) if cursor else after


@router.get("/audit/log", response_model=a.AuditLogPage, responses=AUDITORS | problem_responses(422),
            summary="The global event log in order (auditor, bureau)")
def audit_log(c: Wired, _: Auditors, after: Annotated[int, Query(ge=0)] = 0,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100, cursor: Cursor = None) -> JSONResponse:
    """`{items, next_cursor, total, next_after}`: events after position `after` (or `cursor`);
    `total` is the log's length."""
    items = list(log_entries(c.app, after=_start(after, cursor, "l"), limit=limit))
    next_after = items[-1]["position"] if len(items) == limit else None
    return JSONResponse({"items": items, "next_cursor": queries.encode_cursor("l", next_after) if next_after else None,
                         "total": max_position(c.app), "next_after": next_after})


@router.get("/audit/verify", response_model=a.VerifyReportOut, responses=AUDITORS | problem_responses(422),
            summary="Recompute every hash and check chains, versions, checkpoints")
def audit_verify(c: Wired, _: Auditors, deep: Annotated[bool, Query(
        description="also decode every event through the application (proves each row is still "
                    "readable by the current code; several times slower)")] = False) -> JSONResponse:
    """Every run recomputes every event's hash from its stored bytes and checks every chain link,
    every stream's versions, and the Merkle root against every signed checkpoint."""
    pinned = c.settings.checkpoint_keys.pinned_public_key()
    return JSONResponse(verify_log(c.app, deep=deep, public_key_pem=pinned).to_dict())


def wants_note(accept: str | None) -> bool:
    """Whether the client asked for ``text/plain`` by name and prefers it to JSON (the default)."""
    if not accept or "text/plain" not in accept.lower():
        return False
    return media_quality(accept, "text/plain") > media_quality(accept, "application/json")


@router.get("/audit/checkpoint", summary="The latest signed checkpoint (public)", response_model=a.PublishedCheckpoint,
            responses={200: {"description": "JSON, or with `Accept: text/plain` the C2SP tlog-checkpoint "
                                            "signed note with the witnesses' cosignature lines",
                             "content": {"text/plain": {"schema": {"type": "string"}}}},
                       **PUBLIC, **problem_responses(404, 406)})
def audit_checkpoint(c: Wired, request: Request) -> Response:
    """The registry's v1 signature with the checkpoint's `id`, `origin`, `note` (the signed note,
    or null for a checkpoint signed before notes existed) and the witnesses' `cosignatures`;
    with `Accept: text/plain` preferred to JSON, the note itself (406 when it has none)."""
    view = latest_view(c.app)
    if view is None:
        raise NotFound("no_checkpoint", "no checkpoint has been signed yet")
    # Read from the request, not declared as a parameter: a header that cannot be invalid would
    # make the document promise a 422 this route never sends.
    if wants_note(request.headers.get("accept")):
        if view["note"] is None:
            raise ProblemException(406, "no_signed_note", "the latest checkpoint was signed before the registry "
                                   "published signed notes; ask for JSON, or wait for the next checkpoint")
        return PlainTextResponse(view["note"])
    return JSONResponse(view)


@router.get("/audit/checkpoints", response_model=a.CheckpointPage, responses=PUBLIC | problem_responses(422),
            summary="Every checkpoint ever signed, in order (public)")
def audit_checkpoints(c: Wired, after: Annotated[int, Query(ge=0, description="the last `id` already seen")] = 0,
                      limit: Annotated[int, Query(ge=1, le=1000)] = 100, cursor: Cursor = None) -> JSONResponse:
    """`{items, next_cursor, total, next_after}`: checkpoints with `id > after` (or after
    `cursor`), each as `GET /audit/checkpoint` gives the latest; `next_after` is the `after` of
    the next page, null on the last (as `next_cursor`); `total` is not counted (null)."""
    items = views_after(c.app, _start(after, cursor, "c"), limit)
    next_after = items[-1]["id"] if len(items) == limit else None
    return JSONResponse({"items": items, "next_cursor": queries.encode_cursor("c", next_after) if next_after else None,
                         "total": None, "next_after": next_after})


@router.post("/audit/cosignatures", status_code=201, summary="A witness's cosignature of a checkpoint (public)",
             response_model=a.StoredCosignatureOut, response_description="The cosignature, kept now",
             responses={200: {"model": a.StoredCosignatureOut,
                              "description": "This witness had cosigned this tree head before: the one held"},
                        **problem_responses(400, 403, 404, 413, 422, 503)})
def audit_cosign(c: Wired, body: CosignatureIn) -> JSONResponse:
    """Kept only if the signature line's key is one of the witnesses the operator lists in
    `PLATFORMS_WITNESS_KEYS` (else 403) and it verifies over `checkpoint` (else 422), a tree
    head this registry signed (else 404). 201 when new; 200 with the one already held when this
    witness had cosigned this tree head before."""
    try:
        witnesses = configured_witnesses(c.settings.witness_keys)
    except WitnessConfigError as exc:
        log.error("witness keys unreadable: %s", exc, extra={"error": str(exc)})
        raise ProblemException(503, "witness_config_invalid", "the registry's list of witnesses cannot be "
                               "read; its operator has been told") from None
    stored, created = accept_cosignature(c.app, body.checkpoint, body.cosignature, witnesses,
                                         datetime.now(UTC))
    return JSONResponse({"origin": stored.origin, "size": stored.size, "root": stored.root_hex, **stored.to_dict()},
                        status_code=201 if created else 200)


@router.post("/audit/checkpoints", status_code=201, response_model=a.SignedCheckpointOut,
             responses=AUDITORS | problem_responses(409), summary="Verify the log and sign a checkpoint now")
def audit_sign(c: Wired, _: Auditors) -> JSONResponse:
    keys = c.settings.checkpoint_keys
    signer = c.checkpoint_signer()
    keys.ensure_pinned(signer)
    try:
        cp = sign_checkpoint(c.app, signer, keys)
    except LogNotIntact as exc:
        raise ProblemException(409, "log_not_intact", str(exc)) from None
    return JSONResponse(cp.to_dict(), status_code=201)


@router.get("/audit/proofs/inclusion", response_model=a.InclusionProof,
            responses=AUDITORS | problem_responses(404, 422), summary="Merkle inclusion proof of one event")
def audit_inclusion(c: Wired, _: Auditors, position: Annotated[int, Query(ge=1)],
                    size: Annotated[int | None, Query(ge=1)] = None) -> JSONResponse:
    return JSONResponse(proofs.inclusion(c.app, position, size))


@router.get("/audit/proofs/consistency", response_model=a.ConsistencyProof,
            responses=PUBLIC | problem_responses(404, 422),
            summary="Merkle consistency proof between two log sizes (public)")
def audit_consistency(c: Wired, old_size: Annotated[int, Query(ge=0)],
                      new_size: Annotated[int | None, Query(ge=0)] = None) -> JSONResponse:
    """Public, so that witnesses need no account: it holds sizes and hashes only, nothing of any
    event's content (the inclusion proof, which names an event's position and leaf, stays with
    auditors and the bureau)."""
    return JSONResponse(proofs.consistency(c.app, old_size, new_size))


@router.get("/platforms/{platform_id}/diff", response_model=a.VersionDiff,
            responses=AUDITORS | problem_responses(404, 422),
            summary="What changed between two versions of a platform")
def platform_diff(platform_id: UUID, c: Wired, _: Auditors, from_version: Annotated[int, Query(ge=1)],
                  to_version: Annotated[int, Query(ge=1)]) -> JSONResponse:
    return JSONResponse(timetravel.diff_versions(c.app, platform_id, from_version, to_version))


@router.get("/audit/publicity-list", response_model=a.PublicityListAt, responses=AUDITORS | problem_responses(422),
            summary="The publicity list as it stood at a log position")
def publicity_at(c: Wired, _: Auditors, position: Annotated[int, Query(ge=0)],
                 limit: Annotated[int, Query(ge=1, le=500)] = 200,
                 cursor: Annotated[str | None, Query(max_length=200)] = None) -> JSONResponse:
    """`GET /publicity-list`'s envelope, as it stood at `position` (the read models rebuilt to it)."""
    body: dict[str, Any] = timetravel.publicity_list_at(c.app, position, limit=limit, cursor=cursor)
    return JSONResponse({"position": position, **body})


@router.get("/audit/funding-ledger", response_model=a.LedgerAt, responses=AUDITORS | problem_responses(422),
            summary="The funding ledger as it stood at a log position")
def ledger_at(c: Wired, _: Auditors, position: Annotated[int, Query(ge=0)]) -> JSONResponse:
    return JSONResponse({"position": position, **timetravel.funding_ledger_at(c.app, position)})


@router.get("/audit/export", summary="The whole log as JSON Lines, verifiable offline (auditor, bureau)",
            response_class=StreamingResponse,
            responses={200: {"content": {"application/x-ndjson": {}},
                             "description": "a header, the signed checkpoints, one line per event, a trailer"},
                       **AUDITORS})
def audit_export(c: Wired, _: Auditors) -> StreamingResponse:
    """Streamed from one snapshot of the log in bounded memory (audit.history.export_lines);
    ``tools/verify_offline.py export`` checks it with the public key alone. An error after the
    first bytes can only cut the stream short: the missing trailer line tells the reader."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    disposition = f'attachment; filename="platform-registry-log-{stamp}.jsonl"'
    chunks = export_chunks(c.app)
    # Closing the generator after the response ends (or the client leaves) ends the read
    # transaction at once instead of whenever the generator is collected.
    return StreamingResponse(chunks, media_type="application/x-ndjson", background=BackgroundTask(chunks.close),
                             headers={"Content-Disposition": disposition})
