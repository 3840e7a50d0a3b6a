"""The queries of docs/API.md, answered from the read models (``projections.queries``) — except
history and time travel, which replay the event store itself.

``?min_position=N`` waits (bounded) until the read models have processed position N, so a
client reads its own writes.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from aggregates.clock import today_in_shanghai
from aggregates.credit_code import normalise_credit_code
from aggregates.platform import visible_to
from aggregates.values import Role
from audit import timetravel
from projections import queries
from projections.runner import max_position
from projections.xlsx_cells import XLSX_MEDIA_TYPE

from . import schemas as s
from .auth import Principal
from .bootstrap import Container
from .deps import get_container, require_roles
from .errors import ProblemException, problem_responses
from .history import history
from .read_cache import render_json
from .read_retry import RetryReadOnLostConnection
from .store_probe import store_write_error

router = APIRouter(tags=["queries"], route_class=RetryReadOnLostConnection)

Wired = Annotated[Container, Depends(get_container)]
MinPosition = Annotated[int | None, Query(ge=0, le=2**53, description="Wait until the read models have "
                                          "processed this event-log position (read your writes)")]
Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")]
READ_ERRORS = problem_responses(401, 403, 422, 503)

Readers = Annotated[Principal, Depends(require_roles(
    Role.BUREAU, Role.SERVICE_AGENCY, Role.FINANCE, Role.AUDITOR, Role.APPLICANT))]
Ledger = Annotated[Principal, Depends(require_roles(Role.FINANCE, Role.BUREAU, Role.AUDITOR))]
Historians = Annotated[Principal, Depends(require_roles(Role.AUDITOR, Role.BUREAU, Role.APPLICANT))]
Planners = Annotated[Principal, Depends(require_roles(Role.BUREAU, Role.SERVICE_AGENCY))]


def await_position(c: Container, position: int | None) -> None:
    """Read-your-writes: wait (a few seconds at most) for the read models to reach ``position``."""
    if position is None or position == 0:
        return
    head = max_position(c.app)
    if position > head:
        raise ProblemException(422, "position_not_recorded",
                               f"position {position} is beyond the end of the event log ({head})",
                               field="min_position")
    if not c.runner.wait_for(position, c.settings.min_position_timeout):
        raise ProblemException(503, "read_models_lagging",
                               f"the read models have not reached position {position} yet; retry shortly",
                               headers={"Retry-After": "1"})


def _json(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def _rendered(body: bytes) -> Response:
    """A body rendered (and perhaps cached) by :class:`~api.read_cache.RenderedReads`."""
    return Response(body, media_type="application/json")


# ---------------------------------------------------------------------------- platforms
@router.get("/platforms", response_model=s.PlatformPage, responses=READ_ERRORS, summary="List platforms")
def list_platforms(c: Wired, who: Readers, status: Annotated[s.StatusName | None, Query()] = None,
                   subfield: Annotated[str | None, Query(max_length=200)] = None,
                   host_credit_code: Annotated[str | None, Query(max_length=18)] = None,
                   limit: Limit = 50, cursor: Cursor = None, min_position: MinPosition = None) -> JSONResponse:
    """Applicants see their own host unit's platforms only."""
    await_position(c, min_position)
    if who.role is Role.APPLICANT:
        if host_credit_code and normalise_credit_code(host_credit_code) != who.credit_code:
            raise ProblemException(403, "not_your_host_unit", "applicants list only their own host unit's platforms",
                                   field="host_credit_code")
        host_credit_code = who.credit_code
    with c.engine.connect() as conn:
        page = queries.list_platforms(conn, status=status, subfield=subfield, host_credit_code=host_credit_code,
                                      limit=limit, cursor=cursor)
    return _json(page)


@dataclass(frozen=True)
class _RenderedPlatform:
    """A platform's rendered summary and what the applicant check needs of it."""

    body: bytes
    version: int
    host_credit_code: str
    publicized: bool


async def _cached_body(c: Container, key: Hashable, min_position: int | None,
                       query: Callable[[Any], Any]) -> bytes:
    """A read model's rendered JSON body: from memory when provably current, else (waiting for
    ``min_position``) queried and rendered on the thread pool, and kept (:mod:`api.read_cache`)."""
    def compute() -> bytes:
        await_position(c, min_position)
        with c.engine.connect() as conn:
            return c.reads.body(conn, key, lambda: query(conn), min_position)

    return await c.reads.respond(key, min_position, compute)


@router.get("/platforms/{platform_id}", response_model=s.PlatformSummary,
            responses=problem_responses(401, 403, 404, 422, 503), summary="One platform")
async def get_platform(platform_id: UUID, c: Wired, who: Readers,
                       as_of_instant: Annotated[datetime | None, Query(
                           alias="as_of", description="ISO 8601 instant with offset")] = None,
                       as_of_version: Annotated[int | None, Query(ge=1, le=2**31)] = None,
                       as_of_date: Annotated[date | None, Query()] = None,
                       min_position: MinPosition = None) -> Response:
    """The summary, stage dates, review result, task book and deadlines; with ``as_of``,
    ``as_of_version`` or ``as_of_date`` (auditor and bureau) the platform as it stood then."""
    travel = [x for x in (as_of_instant, as_of_version, as_of_date) if x is not None]
    if travel:
        if who.role not in (Role.AUDITOR, Role.BUREAU):
            raise ProblemException(403, "forbidden", "only auditors and the bureau look at past states")
        if len(travel) > 1:
            raise ProblemException(422, "one_as_of", "give one of as_of, as_of_version, as_of_date", field="as_of")
        if as_of_instant is not None and as_of_instant.tzinfo is None:
            raise ProblemException(422, "naive_instant", "as_of needs an offset, e.g. 2022-10-01T12:00:00+08:00",
                                   field="as_of")
        return _json(await run_in_threadpool(_travel, c, platform_id, as_of_version, as_of_instant, as_of_date))
    key = ("platform", platform_id.int)

    def compute() -> _RenderedPlatform | None:
        await_position(c, min_position)
        with c.engine.connect() as conn:
            def render() -> _RenderedPlatform | None:
                summary = queries.get_platform(conn, platform_id)
                if summary is None:
                    return None
                return _RenderedPlatform(render_json(summary), summary["version"],
                                         summary["host_unit"]["credit_code"], summary.get("publicity") is not None)

            return c.reads.value(conn, key, render, min_position)

    found = await c.reads.respond(key, min_position, compute)
    if found is None or not visible_to(who.role, who.credit_code, found.host_credit_code, found.publicized):
        raise ProblemException(404, "platform_not_found", f"no platform {platform_id}")
    return Response(found.body, media_type="application/json", headers={"ETag": f'"{found.version}"'})


def _travel(c: Container, platform_id: UUID, version: int | None, instant: datetime | None,
            day: date | None) -> dict[str, Any]:
    """The platform as it stood at one of a version, an instant or a business date (replayed
    from the event store)."""
    if version is not None:
        return timetravel.as_of_version(c.app, platform_id, version)
    if instant is not None:
        return timetravel.as_of_instant(c.app, platform_id, instant)
    assert day is not None
    return timetravel.as_of_date(c.app, platform_id, day)


@router.get("/platforms/{platform_id}/history", response_model=s.HistoryOut,
            responses=problem_responses(401, 403, 404, 422), summary="Every event of a platform, in order")
def platform_history(platform_id: UUID, c: Wired, who: Historians) -> JSONResponse:
    """Auditors, the bureau, and the platform's own applicant (without objectors' identities)."""
    if who.role is Role.APPLICANT:
        platform = c.app.get_platform(platform_id)
        if not platform.visible_to(who.role, who.credit_code):
            raise ProblemException(404, "platform_not_found", f"no platform {platform_id}")
        if platform.host_credit_code != who.credit_code:
            raise ProblemException(403, "not_your_platform", "applicants read only their own platforms' history")
    items = history(c.app, platform_id, redact_objectors=who.role is Role.APPLICANT)
    return _json({"platform_id": str(platform_id), "items": items})


# ---------------------------------------------------------------------------- public
@router.get("/publicity-list", response_model=s.PublicityPage, responses=problem_responses(422, 503),
            summary="Publicity list (公示名单), public")
async def publicity_list(c: Wired, open_only: Annotated[bool, Query(alias="open")] = False, limit: Limit = 50,
                         cursor: Cursor = None, min_position: MinPosition = None) -> Response:
    today = today_in_shanghai()  # open/closed and days remaining depend on it
    key = ("publicity-list", open_only, limit, cursor, today)
    return _rendered(await _cached_body(c, key, min_position, lambda conn: queries.publicity_list(
        conn, open_only=open_only, today=today, limit=limit, cursor=cursor, calendar=c.app.calendar,
        policies=c.app.policies)))


@router.get("/subfields", response_model=s.SubfieldPage, responses=problem_responses(422, 503),
            summary="Subfield registry (细分领域), public")
async def subfields(c: Wired, min_position: MinPosition = None) -> Response:
    """The subfields of the latest policy version, each with its holder and history."""
    policy = c.app.policies.latest()
    return _rendered(await _cached_body(c, ("subfields", policy.policy), min_position,
                                        lambda conn: queries.subfield_registry(conn, policy)))


@router.get("/policies", response_model=list[s.PolicyOut], summary="Policy versions, public")
def policies(c: Wired) -> JSONResponse:
    return _json([p.to_public_dict() for p in c.app.policies.all()])


# ---------------------------------------------------------------------------- money and deadlines
@router.get("/funding-ledger", response_model=s.Ledger, responses=READ_ERRORS, summary="Funding ledger")
async def funding_ledger(c: Wired, who: Ledger, fiscal_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
                         min_position: MinPosition = None) -> Response:
    return _rendered(await _cached_body(c, ("funding-ledger", fiscal_year), min_position,
                                        lambda conn: queries.funding_ledger(conn, fiscal_year=fiscal_year)))


def _download(data: bytes, media_type: str, name: str) -> Response:
    return Response(data, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/funding-ledger.csv", responses={200: {"content": {"text/csv": {}},
                                                    "description": "UTF-8 CSV with BOM"}, **READ_ERRORS},
            response_class=Response, summary="Funding ledger as CSV (opens in Excel)")
def funding_ledger_csv(c: Wired, who: Ledger, fiscal_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
                       lang: Annotated[Literal["zh", "en"], Query(description="Headers and kinds in Chinese "
                                                                  "(default) or English")] = "zh",
                       min_position: MinPosition = None) -> Response:
    """The entries by business date, an amount column per kind, platform names, a totals row."""
    await_position(c, min_position)
    with c.engine.connect() as conn:
        data = queries.ledger_csv(conn, fiscal_year=fiscal_year, lang=lang).encode("utf-8")  # with its BOM
    name = f"funding-ledger-{fiscal_year}.csv" if fiscal_year else "funding-ledger.csv"
    return _download(data, "text/csv; charset=utf-8", name)


@router.get("/funding-ledger/by-year", response_model=s.LedgerByYear, responses=READ_ERRORS,
            summary="Funding ledger by fiscal year, as balances of outstanding commitments")
async def funding_ledger_by_year(c: Wired, who: Ledger,
                                 fiscal_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
                                 min_position: MinPosition = None) -> Response:
    """Per fiscal year and platform: the opening balance of outstanding commitments, the
    year's commitments, releases, disbursements and recoveries, and the closing balance
    (`closing = opening + commitments − releases − disbursements`; recoveries, money returned,
    are reported beside). Each year's opening is the year before's closing."""
    return _rendered(await _cached_body(c, ("funding-ledger-by-year", fiscal_year), min_position,
                                        lambda conn: queries.funding_ledger_by_year(conn, fiscal_year=fiscal_year)))


@router.get("/funding-ledger/by-year.csv", responses={200: {"content": {"text/csv": {}},
                                                            "description": "UTF-8 CSV with BOM"}, **READ_ERRORS},
            response_class=Response, summary="Funding ledger by fiscal year as CSV (Chinese headers, totals row)")
def funding_ledger_by_year_csv(c: Wired, who: Ledger,
                               fiscal_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
                               min_position: MinPosition = None) -> Response:
    return _by_year_download(c, fiscal_year, min_position, lambda conn, year: queries.ledger_by_year_csv(
        conn, fiscal_year=year).encode("utf-8"), "text/csv; charset=utf-8", "csv")


@router.get("/funding-ledger/by-year.xlsx", responses={200: {"content": {XLSX_MEDIA_TYPE: {}},
                                                             "description": "An Excel workbook"}, **READ_ERRORS},
            response_class=Response, summary="Funding ledger by fiscal year as XLSX (numeric amounts, totals row)")
def funding_ledger_by_year_xlsx(c: Wired, who: Ledger,
                                fiscal_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
                                min_position: MinPosition = None) -> Response:
    return _by_year_download(c, fiscal_year, min_position, lambda conn, year: queries.ledger_by_year_xlsx(
        conn, fiscal_year=year), XLSX_MEDIA_TYPE, "xlsx")


def _by_year_download(c: Container, fiscal_year: int | None, min_position: int | None,
                      export: Callable[[Any, int | None], bytes], media_type: str, extension: str) -> Response:
    """The ledger by fiscal year as a file, once the read models are at ``min_position``."""
    await_position(c, min_position)
    with c.engine.connect() as conn:
        data = export(conn, fiscal_year)
    suffix = f"-{fiscal_year}" if fiscal_year else ""
    return _download(data, media_type, f"funding-ledger-by-year{suffix}.{extension}")


@router.get("/deadlines", response_model=s.DeadlinesPage, responses=READ_ERRORS, summary="Open deadlines")
def deadlines(c: Wired, who: Planners, min_position: MinPosition = None) -> JSONResponse:
    await_position(c, min_position)
    with c.engine.connect() as conn:
        return _json(queries.deadlines(conn, today=today_in_shanghai(), calendar=c.app.calendar,
                                       policies=c.app.policies))


# ---------------------------------------------------------------------------- operations
@router.get("/healthz", response_model=s.Health, tags=["operations"], summary="Liveness")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=s.Readiness, tags=["operations"], responses=problem_responses(503),
            summary="Readiness, with projection lag")
def readyz(c: Wired) -> JSONResponse:
    """503 when the database does not answer, a read model lags too far behind the log or has
    stopped at an event it cannot apply (``stalled``, with the position, event and reason), the
    event log does not verify against its signed checkpoints (the integrity watch, audit.watch),
    or the event store does not take a write (a read-only file or filesystem, a full disk)."""
    try:
        models = c.runner.status()
    except Exception as exc:  # noqa: BLE001 - any failure to read the store means "not ready"
        return _json({"status": "unavailable", "database": f"error: {exc.__class__.__name__}",
                      "projections": {}}, 503)
    worst = max((m["lag"] for m in models), default=0)
    audit = c.watch.status() if c.watch is not None else None
    broken = c.watch is not None and c.watch.intact is False
    stalled = {m["name"]: m["failure"] for m in models if "failure" in m}
    ready = worst <= c.settings.ready_max_lag and not broken and not stalled
    status = "broken" if broken else "stalled" if stalled else "ready" if ready else "lagging"
    body = {"status": status, "database": "ok",
            "projections": {"max_lag": worst, "models": models, "threshold": c.settings.ready_max_lag,
                            "stalled": stalled},
            "audit": audit}
    # The store must take a write too (api.store_probe): reads alone do not make it ready.
    write_error = store_write_error(c)
    body["store"] = "writable" if write_error is None else f"not writable: {write_error}"
    if write_error is not None:
        ready = False
        if body["status"] == "ready":
            body["status"] = "not_writable"
    return _json(body, 200 if ready else 503)
