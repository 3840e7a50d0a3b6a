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
from .parameters import BatchesCursor, CheckpointsCursor, LogCursor, PlatformId
from .schemas import CosignatureIn

log = logging.getLogger(__name__)

router = APIRouter()

Wired = Annotated[Container, Depends(get_container)]
Auditors = Annotated[Principal, Depends(require_roles(Role.AUDITOR, Role.BUREAU))]
# Every route reads the store (503 when it does not answer); the auditors' ones need a token of
# their role; only the parameters' bounds (422) and each route's own refusals are added below.
AUDITORS = problem_responses(401, 403, 503)
PUBLIC = problem_responses(503)
PageSize = Annotated[int, Query(ge=1, le=1000, description="每页条数 How many items a page holds (1-1000)",
                                examples=[100])]
LogPosition = Annotated[int, Query(ge=0, description="日志位置 The event-log position (0: before the first event)",
                                   examples=[188])]


def _start(after: int, cursor: str | None, kind: str) -> int:
    """Where a page starts: the ``cursor`` the previous page handed out, else ``after``."""
    return queries.decode_cursor(kind, cursor) if cursor else after


@router.get("/audit/log", response_model=a.AuditLogPage, responses=AUDITORS | problem_responses(422),
            summary="The global event log in order (审计日志; auditor, bureau)")
def audit_log(c: Wired, _: Auditors,
              after: Annotated[int, Query(ge=0, description="起始位置 The last position already read (`next_after` "
                                          "of the previous page); 0 from the start", examples=[0])] = 0,
              limit: PageSize = 100, cursor: LogCursor = None) -> JSONResponse:
    """审计日志 The global event log, in order, a page at a time.

    **Who**: auditors and the bureau. Every event of every platform, batch and register with its
    position, hash chain and business date (docs/AUDIT.md). **Answers** 200 with `items`,
    `next_cursor` (pass as `cursor` for the next page; null on the last), `total` (the log's
    length) and `next_after` (the `after` of the next page, for clients of `?after=`).
    """
    items = list(log_entries(c.app, after=_start(after, cursor, "l"), limit=limit))
    next_after = items[-1]["position"] if len(items) == limit else None
    return JSONResponse({"items": items, "next_cursor": queries.encode_cursor("l", next_after) if next_after else None,
                         "total": max_position(c.app), "next_after": next_after})


@router.get("/audit/verify", response_model=a.VerifyReportOut, responses=AUDITORS | problem_responses(422),
            summary="Recompute every hash and check chains, versions, checkpoints (完整性校验)")
def audit_verify(c: Wired, _: Auditors, deep: Annotated[bool, Query(
        description="深度校验 also decode every event through the application (proves each row is still "
                    "readable by the current code; several times slower)", examples=[False])] = False) -> JSONResponse:
    """完整性校验 Verify the whole log: hashes, chains, versions, signed checkpoints.

    **Who**: auditors and the bureau. Every run recomputes every event's hash from its stored
    bytes and checks every chain link, every stream's versions, and the Merkle root against every
    signed checkpoint (with `deep`, every event is also decoded). **Answers** 200 with the report:
    `ok`, `events_checked`, `first_failure` and `failures` (each `code`, `reason`, `position`,
    `platform_id`, `version`), `size`, `root`, `checkpoints_checked`, `latest_checkpoint`,
    `unattested_events`.
    """
    keys = c.settings.checkpoint_keys
    return JSONResponse(verify_log(c.app, deep=deep, public_key_pem=keys.pinned_public_key(),
                                   retired_keys=keys.retired_keys()).to_dict())


def wants_note(accept: str | None) -> bool:
    """Whether the client asked for ``text/plain`` by name and prefers it to JSON (the default)."""
    if not accept or "text/plain" not in accept.lower():
        return False
    return media_quality(accept, "text/plain") > media_quality(accept, "application/json")


@router.get("/audit/checkpoint", summary="The latest signed checkpoint (检查点, public)",
            response_model=a.PublishedCheckpoint,
            responses={200: {"description": "JSON, or with `Accept: text/plain` the C2SP tlog-checkpoint "
                                            "signed note with the witnesses' cosignature lines",
                             "content": {"text/plain": {"schema": {"type": "string"}}}},
                       **PUBLIC, **problem_responses(404, 406)})
def audit_checkpoint(c: Wired, request: Request) -> Response:
    """检查点 The latest signed checkpoint, public.

    **Who**: anyone, without an account, so that anyone may hold the registry to what it signed.
    **Answers** 200 with `size`, `root`, `signed_at`, `key_id`, `signature` (the registry's v1
    signature), `id`, `origin`, `note` (the signed note, or null for a checkpoint signed before
    notes existed) and `cosignatures` [{`witness`, `key_name`, `key_id`, `timestamp`,
    `cosigned_at`, `signature`, `line`, `received_at`}]; with `Accept: text/plain` the C2SP
    signed note with the witnesses' cosignature lines (406 for a checkpoint without one); 404
    before the first checkpoint.
    """
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
            summary="Every checkpoint ever signed, in order (检查点列表, public)")
def audit_checkpoints(c: Wired, after: Annotated[int, Query(
                          ge=0, description="起始编号 the last checkpoint `id` already seen (`next_after` of the "
                          "previous page); 0 from the first", examples=[0])] = 0,
                      limit: PageSize = 100, cursor: CheckpointsCursor = None) -> JSONResponse:
    """检查点列表 Every checkpoint ever signed, in order, public.

    **Who**: anyone, without an account. **Answers** 200 with `{items, next_cursor, total,
    next_after}`: checkpoints with `id > after` (or after `cursor`), each as `GET
    /audit/checkpoint` gives the latest; `next_cursor` and `next_after` lead to the next page
    (null on the last); `total` is not counted (null).
    """
    items = views_after(c.app, _start(after, cursor, "c"), limit)
    next_after = items[-1]["id"] if len(items) == limit else None
    return JSONResponse({"items": items, "next_cursor": queries.encode_cursor("c", next_after) if next_after else None,
                         "total": None, "next_after": next_after})


@router.post("/audit/cosignatures", status_code=201,
             summary="A witness's cosignature of a checkpoint (见证签名, public)",
             response_model=a.StoredCosignatureOut, response_description="The cosignature, kept now",
             responses={200: {"model": a.StoredCosignatureOut,
                              "description": "This witness had cosigned this tree head before: the one held"},
                        **problem_responses(400, 403, 404, 413, 422, 503)})
def audit_cosign(c: Wired, body: CosignatureIn) -> JSONResponse:
    """见证签名 A witness submits its cosignature of a checkpoint, public.

    **Who**: anyone may send one, but it is kept only if the signature line's key is one of the
    witnesses the operator lists in `PLATFORMS_WITNESS_KEYS` (else 403) and it verifies over
    `checkpoint` (else 422), a tree head this registry signed (else 404). **Answers** 201 with the
    stored cosignature when new; 200 with the one already held when this witness had cosigned
    this tree head before.
    """
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
             responses=AUDITORS | problem_responses(409),
             summary="Verify the log and sign a checkpoint now (签署检查点)")
def audit_sign(c: Wired, _: Auditors) -> JSONResponse:
    """签署检查点 Verify the log and sign a checkpoint of it now.

    **Who**: auditors and the bureau. The log is verified first; a log that does not verify is not
    signed (409 `log_not_intact`). **Answers** 201 with the new checkpoint (`size`, `root`,
    `signed_at`, `key_id`, `signature`).
    """
    keys = c.settings.checkpoint_keys
    signer = c.checkpoint_signer()
    keys.ensure_pinned(signer)
    try:
        cp = sign_checkpoint(c.app, signer, keys)
    except LogNotIntact as exc:
        raise ProblemException(409, "log_not_intact", str(exc)) from None
    return JSONResponse(cp.to_dict(), status_code=201)


@router.get("/audit/proofs/inclusion", response_model=a.InclusionProof,
            responses=AUDITORS | problem_responses(404, 422), summary="Merkle inclusion proof of one event (包含证明)")
def audit_inclusion(c: Wired, _: Auditors,
                    position: Annotated[int, Query(ge=1, description="事件位置 The event's log position (from 1)",
                                                   examples=[188])],
                    size: Annotated[int | None, Query(
                        ge=1, description="树大小 The tree of the first `size` events (a signed checkpoint's "
                        "`size`) to prove it in; default: the whole log now", examples=[259])] = None,
                    ) -> JSONResponse:
    """包含证明 Merkle inclusion proof of one event in the log's tree.

    **Who**: auditors and the bureau (it names an event's position and leaf). **Answers** 200 with
    `position`, `index`, `size`, `leaf_hash`, `root` and `proof` (hex hashes, RFC 6962); 404 for a
    position or size the log does not hold.
    """
    return JSONResponse(proofs.inclusion(c.app, position, size))


@router.get("/audit/proofs/consistency", response_model=a.ConsistencyProof,
            responses=PUBLIC | problem_responses(404, 422),
            summary="Merkle consistency proof between two log sizes (一致性证明, public)")
def audit_consistency(c: Wired,
                      old_size: Annotated[int, Query(ge=0, description="旧树大小 The earlier tree size (a "
                                                     "checkpoint the witness holds)", examples=[188])],
                      new_size: Annotated[int | None, Query(ge=0, description="新树大小 The later tree size; "
                                                            "default: the whole log now",
                                                            examples=[259])] = None) -> JSONResponse:
    """一致性证明 Merkle consistency proof between two sizes of the log, public.

    **Who**: anyone, without an account, so that witnesses need none: it holds sizes and hashes
    only, nothing of any event's content. **Answers** 200 with `old_size`, `new_size`,
    `old_root`, `new_root` and `proof` (hex hashes, RFC 6962).
    """
    return JSONResponse(proofs.consistency(c.app, old_size, new_size))


@router.get("/platforms/{platform_id}/diff", response_model=a.VersionDiff,
            responses=AUDITORS | problem_responses(404, 422),
            summary="What changed between two versions of a platform (版本比较)")
def platform_diff(platform_id: PlatformId, c: Wired, _: Auditors,
                  from_version: Annotated[int, Query(ge=1, description="起始版本 The earlier version",
                                                     examples=[5])],
                  to_version: Annotated[int, Query(ge=1, description="目标版本 The later version",
                                                   examples=[6])]) -> JSONResponse:
    """版本比较 What changed in a platform's summary between two of its versions.

    **Who**: auditors and the bureau. **Answers** 200 with `platform_id`, `from_version`,
    `to_version` and `changes`: each summary key that differs, with its `from` and `to` values.
    """
    return JSONResponse(timetravel.diff_versions(c.app, platform_id, from_version, to_version))


@router.get("/audit/publicity-list", response_model=a.PublicityListAt,
            responses=AUDITORS | problem_responses(422),
            summary="The publicity list as it stood at a log position (历史公示名单)")
def publicity_at(c: Wired, _: Auditors, position: LogPosition,
                 limit: Annotated[int, Query(ge=1, le=500, description="每页批次数 Batches a page holds (1-500)",
                                             examples=[200])] = 200,
                 cursor: BatchesCursor = None) -> JSONResponse:
    """历史公示名单 The publicity list as it stood at a log position (Art. 8(6)).

    **Who**: auditors and the bureau. The read model rebuilt from the log up to `position`, batches
    judged open or closed on that event's business date. **Answers** 200 with `position` and the
    list as `GET /publicity-list` gave it then, in its envelope (paged by `limit` and `cursor`).
    """
    body: dict[str, Any] = timetravel.publicity_list_at(c.app, position, limit=limit, cursor=cursor)
    return JSONResponse({"position": position, **body})


@router.get("/audit/funding-ledger", response_model=a.LedgerAt, responses=AUDITORS | problem_responses(422),
            summary="The funding ledger as it stood at a log position (历史资金台账)")
def ledger_at(c: Wired, _: Auditors, position: LogPosition) -> JSONResponse:
    """历史资金台账 The funding ledger as it stood at a log position.

    **Who**: auditors and the bureau. The read model rebuilt from the log up to `position`.
    **Answers** 200 with `position`, `entries` and `totals` as `GET /funding-ledger` gave them then.
    """
    return JSONResponse({"position": position, **timetravel.funding_ledger_at(c.app, position)})


@router.get("/audit/export", summary="The whole log as JSON Lines, verifiable offline (日志导出; auditor, bureau)",
            response_class=StreamingResponse,
            responses={200: {"content": {"application/x-ndjson": {}},
                             "description": "a header, the signed checkpoints, one line per event, a trailer"},
                       **AUDITORS})
def audit_export(c: Wired, _: Auditors) -> StreamingResponse:
    """日志导出 The whole log as JSON Lines, verifiable offline.

    **Who**: auditors and the bureau. Streamed from one snapshot of the log in bounded memory
    (audit.history.export_lines): a header, the signed checkpoints, one line per event, a trailer;
    `tools/verify_offline.py export` checks it with the public key alone. An error after the first
    bytes can only cut the stream short: the missing trailer line tells the reader. **Answers** 200
    with `application/x-ndjson` as an attachment.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    disposition = f'attachment; filename="platform-registry-log-{stamp}.jsonl"'
    chunks = export_chunks(c.app)
    # Closing the generator after the response ends (or the client leaves) ends the read
    # transaction at once instead of whenever the generator is collected.
    return StreamingResponse(chunks, media_type="application/x-ndjson", background=BackgroundTask(chunks.close),
                             headers={"Content-Disposition": disposition})
