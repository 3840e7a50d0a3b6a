"""Audit routes (审计): the global log, verification, signed checkpoints, Merkle proofs, diffs and
the read models at a past position.

Only auditors and the bureau read the log; the latest checkpoint is public (anyone may hold the
registry to it). Nothing here changes an event: signing a checkpoint adds a statement about the
log in its own table. ``GET /platforms/{id}/history`` and ``?as_of`` live in routes_queries.
Handlers are plain ``def``: the event store is synchronous.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.background import BackgroundTask

from aggregates.errors import NotFound
from aggregates.values import Role
from audit import proofs, timetravel
from audit.checkpoint_store import latest_checkpoint
from audit.checkpoints import LogNotIntact, sign_checkpoint
from audit.history import export_chunks, log_entries
from audit.keys import ensure_pinned
from audit.verify import verify_log

from .auth import Principal
from .bootstrap import Container
from .deps import get_container, require_roles
from .errors import ProblemException

router = APIRouter(tags=["audit"])

Wired = Annotated[Container, Depends(get_container)]
Auditors = Annotated[Principal, Depends(require_roles(Role.AUDITOR, Role.BUREAU))]


@router.get("/audit/log", summary="The global event log in order (auditor, bureau)")
def audit_log(c: Wired, _: Auditors, after: Annotated[int, Query(ge=0)] = 0,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> JSONResponse:
    items = list(log_entries(c.app, after=after, limit=limit))
    next_after = items[-1]["position"] if len(items) == limit else None
    return JSONResponse({"items": items, "next_after": next_after})


@router.get("/audit/verify", summary="Recompute every hash and check chains, versions, checkpoints")
def audit_verify(c: Wired, _: Auditors, deep: Annotated[bool, Query(
        description="also decode every event through the application (proves each row is still "
                    "readable by the current code; several times slower)")] = False) -> JSONResponse:
    """Every run recomputes every event's hash from its stored bytes and checks every chain link,
    every stream's versions, and the Merkle root against every signed checkpoint."""
    return JSONResponse(verify_log(c.app, deep=deep).to_dict())


@router.get("/audit/checkpoint", summary="The latest signed checkpoint (public)")
def audit_checkpoint(c: Wired) -> JSONResponse:
    cp = latest_checkpoint(c.app)
    if cp is None:
        raise NotFound("no_checkpoint", "no checkpoint has been signed yet")
    return JSONResponse(cp.to_dict())


@router.post("/audit/checkpoints", status_code=201, summary="Verify the log and sign a checkpoint now")
def audit_sign(c: Wired, _: Auditors) -> JSONResponse:
    signer = c.checkpoint_signer()
    ensure_pinned(signer)
    try:
        cp = sign_checkpoint(c.app, signer)
    except LogNotIntact as exc:
        raise ProblemException(409, "log_not_intact", str(exc)) from None
    return JSONResponse(cp.to_dict(), status_code=201)


@router.get("/audit/proofs/inclusion", summary="Merkle inclusion proof of one event")
def audit_inclusion(c: Wired, _: Auditors, position: Annotated[int, Query(ge=1)],
                    size: Annotated[int | None, Query(ge=1)] = None) -> JSONResponse:
    return JSONResponse(proofs.inclusion(c.app, position, size))


@router.get("/audit/proofs/consistency", summary="Merkle consistency proof between two log sizes")
def audit_consistency(c: Wired, _: Auditors, old_size: Annotated[int, Query(ge=0)],
                      new_size: Annotated[int | None, Query(ge=0)] = None) -> JSONResponse:
    return JSONResponse(proofs.consistency(c.app, old_size, new_size))


@router.get("/platforms/{platform_id}/diff", summary="What changed between two versions of a platform")
def platform_diff(platform_id: UUID, c: Wired, _: Auditors, from_version: Annotated[int, Query(ge=1)],
                  to_version: Annotated[int, Query(ge=1)]) -> JSONResponse:
    return JSONResponse(timetravel.diff_versions(c.app, platform_id, from_version, to_version))


@router.get("/audit/publicity-list", summary="The publicity list as it stood at a log position")
def publicity_at(c: Wired, _: Auditors, position: Annotated[int, Query(ge=0)]) -> JSONResponse:
    body: dict[str, Any] = timetravel.publicity_list_at(c.app, position)
    return JSONResponse({"position": position, **body})


@router.get("/audit/funding-ledger", summary="The funding ledger as it stood at a log position")
def ledger_at(c: Wired, _: Auditors, position: Annotated[int, Query(ge=0)]) -> JSONResponse:
    return JSONResponse({"position": position, **timetravel.funding_ledger_at(c.app, position)})


@router.get("/audit/export", summary="The whole log as JSON Lines, verifiable offline (auditor, bureau)",
            response_class=StreamingResponse,
            responses={200: {"content": {"application/x-ndjson": {}},
                             "description": "a header, the signed checkpoints, one line per event, a trailer"}})
def audit_export(c: Wired, _: Auditors) -> StreamingResponse:
    """Streamed from one snapshot of the log in bounded memory (audit.history.export_lines);
    ``tools/verify_offline.py export`` checks it with the public key alone. An error after the
    first bytes can only cut the stream short: the missing trailer line tells the reader."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    disposition = f'attachment; filename="platform-registry-log-{stamp}.jsonl"'
    chunks = export_chunks(c.app)
    # Closing the generator after the response ends (or the client leaves) ends the read
    # transaction at once instead of whenever the generator is collected.
    return StreamingResponse(chunks, media_type="application/x-ndjson", background=BackgroundTask(chunks.close),
                             headers={"Content-Disposition": disposition})
