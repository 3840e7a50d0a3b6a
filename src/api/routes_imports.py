"""``POST /imports``: the bureau imports a past programme from its archive (档案导入), whole or
nothing (:mod:`api.archive_import`, docs/IMPORT.md).

The body is the archive itself, JSON lines (``application/x-ndjson``), byte for byte: its
SHA-256 identifies the archive, so a re-run of the same file records nothing. The importing
clerk is the bureau user who sends it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from aggregates.values import Role

from . import schema_examples as ex
from .archive_import import ArchiveRefused, import_archive
from .auth import Principal
from .bootstrap import Container
from .commands_support import make_act
from .deps import get_container, require_roles
from .errors import ProblemException, language_of, problem, problem_responses
from .problem_catalogue import problem_type

router = APIRouter()

NDJSON = "application/x-ndjson"


@router.post("/imports", summary="Import a past programme from its archive (档案导入)",
             responses=problem_responses(400, 401, 403, 409, 413, 415, 422, 503),
             openapi_extra={"requestBody": {"required": True, "content": {NDJSON: {"schema": {
                 "type": "string", "description": "档案 One act a line, in calendar order (docs/IMPORT.md)"},
                 "example": ex.ARCHIVE_LINE}}}})
async def import_programme(
    request: Request, c: Annotated[Container, Depends(get_container)],
    who: Annotated[Principal, Depends(require_roles(Role.BUREAU))],
    dry_run: Annotated[bool, Query(description="试运行 Validate only: list every refusal, record nothing",
                                   examples=[True])] = False,
) -> JSONResponse:
    """档案导入 The bureau imports a past programme from its archive, whole or not at all.

    **Who**: the bureau (403 for every other role); the importing clerk is the signed-in account.
    The body is the archive itself, `application/x-ndjson` (415 otherwise): one act a JSON line, in
    calendar order (docs/IMPORT.md). Every act of the archive is validated as the live command
    would be, under the same articles; any refusal and nothing is recorded (422
    `archive_refused` listing each line, code and article). **Answers** the summary
    (`archive_sha256`, `lines`, `outcome`, `platforms`, `batches`, `events`, `recorded`,
    `already_recorded`, `refusals`, `platform_ids`, `position`): 201 when recorded (`imported`,
    or `resumed` after an interrupted run), 200 for a dry run (`valid`) or an archive imported
    before (`already_imported`); 409 `archive_import_interrupted` when the store changed between
    validation and recording."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in (NDJSON, "application/jsonl", "application/json-lines", "text/plain"):
        raise ProblemException(415, "unsupported_media_type", f"send the archive as {NDJSON}", field="body")
    content = await request.body()
    act = make_act(who, None)

    def run() -> JSONResponse:
        try:
            summary = import_archive(c.app, content, act, dry_run=dry_run)
        except ArchiveRefused as exc:
            s = exc.summary
            if s.outcome == "interrupted":
                return problem(request, 409, "archive_import_interrupted",
                               f"line {s.refusals[0].line} was refused by the store as it stands now; "
                               f"{s.recorded + s.already_recorded} acts are recorded and the import stays open: "
                               "settle the conflict and send the same archive again to resume it",
                               summary=s.as_dict())
            language = language_of(request)
            return problem(request, 422, "archive_refused",
                           f"{len(s.refusals)} line(s) refused; nothing was recorded",
                           params={"count": len(s.refusals)}, summary=s.as_dict(),
                           refusals=[{**r.as_dict(), "title": problem_type(r.code).title(language)}
                                     for r in s.refusals])
        finally:
            c.notify()
        created = summary.outcome in ("imported", "resumed")
        return JSONResponse(summary.as_dict(), status_code=201 if created else 200)

    return await run_in_threadpool(run)


__all__ = ["router"]
