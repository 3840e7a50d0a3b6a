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

from fastapi import Depends, Query, Request, Response
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

from . import schema_examples as ex
from . import schemas as s
from .auth import Principal
from .bootstrap import Container
from .deps import get_container, require_roles
from .errors import ProblemException, problem_responses
from .history import history
from .open_data import ATOM_MEDIA_TYPE, CSV_MEDIA_TYPE, publicity_atom, publicity_csv, subfields_csv
from .parameters import (
    BatchesCursor,
    DeadlinesCursor,
    FiscalYear,
    HistoryCursor,
    Limit,
    MinPosition,
    PlatformId,
    PlatformsCursor,
    PoliciesCursor,
    SubfieldsCursor,
    WholeLimit,
)
from .read_cache import Tagged, render_json
from .read_retry import RetryReadOnLostConnection
from .route_gate import PathGatedRouter
from .store_probe import store_write_error

router = PathGatedRouter(route_class=RetryReadOnLostConnection)

Wired = Annotated[Container, Depends(get_container)]


def _container(request: Request) -> Container:
    """The container, read from the app: the hottest signed-in reads (a platform, the ledger)
    take it so rather than as a ``Wired`` dependency, which FastAPI solves on every request
    (issue 17)."""
    return request.app.state.container
READ_ERRORS = problem_responses(401, 403, 422, 503)
OpenOnly = Annotated[bool, Query(alias="open", description="公示中 Only batches whose window is open today "
                                 "(Asia/Shanghai)", examples=[True])]

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
                               field="min_position", params={"position": position, "head": head})
    if not c.runner.wait_for(position, c.settings.min_position_timeout):
        raise ProblemException(503, "read_models_lagging",
                               f"the read models have not reached position {position} yet; retry shortly",
                               headers={"Retry-After": "1"}, params={"position": position})


def _json(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def _rendered(found: Tagged, media_type: str = "application/json", filename: str | None = None) -> Response:
    """A body rendered and tagged (and perhaps cached) by :class:`~api.read_cache.RenderedReads`."""
    headers = {"ETag": found.etag}
    if filename is not None:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(found.body, media_type=media_type, headers=headers)


# ---------------------------------------------------------------------------- platforms
@router.get("/platforms", response_model=s.PlatformPage, responses=READ_ERRORS, summary="List platforms (平台列表)")
def list_platforms(c: Wired, who: Readers,
                   status: Annotated[s.StatusName | None, Query(
                       description="状态 Only platforms at this stage (docs/API.md, Status vocabulary)",
                       examples=["under_construction"])] = None,
                   subfield: Annotated[str | None, Query(
                       max_length=200, description="细分领域 Only platforms of this subfield (Art. 4)",
                       examples=[ex.SUBFIELD])] = None,
                   host_credit_code: Annotated[str | None, Query(
                       max_length=18, description="依托单位统一社会信用代码 Only this host unit's platforms (an "
                       "applicant may give only its own)", examples=[ex.HOST_CODE])] = None,
                   limit: Limit = 50, cursor: PlatformsCursor = None,
                   min_position: MinPosition = None) -> JSONResponse:
    """平台列表 The platforms, filtered by stage, subfield or host unit, a page at a time.

    **Who**: the bureau, the service agency, finance, auditors; applicants see their own host
    unit's platforms only (403 `not_your_host_unit` for another's credit code). **Answers** 200
    with `items` (`id`, `name`, `subfield`, `host_unit`, `status`, `version`) and `next_cursor`.
    """
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
                       query: Callable[[Any], Any]) -> Tagged:
    """A read model's rendered body (JSON, or the bytes ``query`` returns) with its ETag: from
    memory when provably current, else (waiting for ``min_position``) queried and rendered on
    the thread pool, and kept (:mod:`api.read_cache`)."""
    def compute() -> Tagged:
        await_position(c, min_position)
        with c.engine.connect() as conn:
            return c.reads.tagged(conn, key, lambda: query(conn), min_position)

    return await c.reads.respond(key, min_position, compute)


@router.get("/platforms/{platform_id}", response_model=s.PlatformSummary,
            responses=problem_responses(401, 403, 404, 422, 503), summary="One platform (平台详情)")
async def get_platform(platform_id: PlatformId, request: Request, who: Readers,
                       as_of_instant: Annotated[datetime | None, Query(
                           alias="as_of", description="时点 The platform as it stood at this instant (ISO 8601 "
                           "with offset; auditor and bureau)", examples=["2022-10-01T12:00:00+08:00"])] = None,
                       as_of_version: Annotated[int | None, Query(
                           ge=1, le=2**31, description="版本 The platform as it stood at this version (auditor and "
                           "bureau)", examples=[5])] = None,
                       as_of_date: Annotated[date | None, Query(
                           description="业务日期 The platform as it stood at the end of this business date "
                           "(Asia/Shanghai; auditor and bureau)", examples=["2022-10-01"])] = None,
                       min_position: MinPosition = None) -> Response:
    """平台详情 One platform's summary: stage dates, review result, task book, money, deadlines.

    **Who**: the bureau, the service agency, finance, auditors; an applicant its own host unit's
    platforms, and others' once publicized (else 404). With `as_of`, `as_of_version` or
    `as_of_date` (auditor and bureau, one at a time) the platform as it stood then, replayed from
    the event store. **Answers** 200 with the summary and an `ETag` of its version (send it as
    `If-Match`); objections without the objectors' identities.
    """
    c = _container(request)
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
        raise ProblemException(404, "platform_not_found", f"no platform {platform_id}",
            params={"platform_id": platform_id})
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
            responses=problem_responses(401, 403, 404, 422), summary="Every event of a platform, in order (事件历史)")
def platform_history(platform_id: PlatformId, c: Wired, who: Historians, limit: WholeLimit = None,
                     cursor: HistoryCursor = None) -> JSONResponse:
    """事件历史 Every event of a platform, in order, with its hash chain.

    **Who**: auditors, the bureau, and the platform's own applicant (without objectors'
    identities). **Answers** 200 with `platform_id` and the envelope: `items` (each `sequence`,
    `type`, `recorded_at`, `business_date`, `actor`, `role`, `recorded_by`, `data`, `hash`,
    `prev_hash`), `next_cursor` and `total`; every event without `limit`, as before the list
    was paged.
    """
    if who.role is Role.APPLICANT:
        platform = c.app.get_platform(platform_id)
        if not platform.visible_to(who.role, who.credit_code):
            raise ProblemException(404, "platform_not_found", f"no platform {platform_id}",
                params={"platform_id": platform_id})
        if platform.host_credit_code != who.credit_code:
            raise ProblemException(403, "not_your_platform", "applicants read only their own platforms' history")
    items = history(c.app, platform_id, redact_objectors=who.role is Role.APPLICANT)
    return _json({"platform_id": str(platform_id), **queries.page_of(items, "h", limit, cursor)})


# ---------------------------------------------------------------------------- public
@router.get("/publicity-list", response_model=s.PublicityPage, responses=problem_responses(422, 503),
            summary="Publicity list (公示名单), public")
async def publicity_list(c: Wired, open_only: OpenOnly = False, limit: Limit = 50,
                         cursor: BatchesCursor = None, min_position: MinPosition = None) -> Response:
    """公示名单 The publicity list (Art. 8(6)): every batch, newest first, a page at a time.

    **Who**: anyone, without an account. Each batch with its window (start, first counted working
    day, last day, open or closed today in Asia/Shanghai) and its platforms with the number of
    objections and their outcome; never an objector's identity. **Answers** 200 with `items` and
    `next_cursor`.
    """
    today = today_in_shanghai()  # open/closed and days remaining depend on it
    key = ("publicity-list", open_only, limit, cursor, today)
    return _rendered(await _cached_body(c, key, min_position, lambda conn: queries.publicity_list(
        conn, open_only=open_only, today=today, limit=limit, cursor=cursor, calendar=c.app.calendar,
        policies=c.app.policies)))


def _whole_publicity_list(c: Container, conn: Any, open_only: bool, today: date) -> list[dict[str, Any]]:
    """Every batch of the list (each page of it), newest first."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = queries.publicity_list(conn, open_only=open_only, today=today, limit=500, cursor=cursor,
                                      calendar=c.app.calendar, policies=c.app.policies)
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return items


@router.get("/publicity-list.csv", responses={200: {"content": {"text/csv": {}},
                                                    "description": "UTF-8 CSV with BOM, one line per platform"},
                                              **problem_responses(422, 503)},
            response_class=Response, summary="Publicity list (公示名单) as CSV, public")
async def publicity_list_csv(c: Wired, open_only: OpenOnly = False,
                             min_position: MinPosition = None) -> Response:
    """Every batch (only the open ones with `?open=true`), one line per platform, under
    Chinese headers; opens in Excel or WPS."""
    today = today_in_shanghai()
    found = await _cached_body(c, ("publicity-list.csv", open_only, today), min_position,
                               lambda conn: publicity_csv(_whole_publicity_list(c, conn, open_only, today)))
    return _rendered(found, CSV_MEDIA_TYPE, "publicity-list.csv")


@router.get("/publicity-list.atom", responses={200: {"content": {"application/atom+xml": {}},
                                                     "description": "An Atom 1.0 feed (RFC 4287)"},
                                               **problem_responses(422, 503)},
            response_class=Response, summary="Publicity batches as an Atom feed, public")
async def publicity_list_atom(request: Request, c: Wired, limit: Limit = 50,
                              min_position: MinPosition = None) -> Response:
    """The latest `limit` publicity batches, newest first, each entry linking to its public page,
    for feed readers (newsrooms, citizens) to follow the publicity list."""
    today = today_in_shanghai()
    site = str(request.base_url)
    found = await _cached_body(c, ("publicity-list.atom", limit, site, today), min_position,
                               lambda conn: publicity_atom(queries.publicity_list(
                                   conn, open_only=False, today=today, limit=limit, calendar=c.app.calendar,
                                   policies=c.app.policies)["items"], site, today))
    return _rendered(found, ATOM_MEDIA_TYPE)


@router.get("/subfields", response_model=s.SubfieldPage, responses=problem_responses(422, 503),
            summary="Subfield registry (细分领域), public")
async def subfields(c: Wired, limit: WholeLimit = None, cursor: SubfieldsCursor = None,
                    min_position: MinPosition = None) -> Response:
    """细分领域登记 The subfield registry (Art. 4-5): who holds each subfield.

    **Who**: anyone, without an account. The subfields of the latest policy version, then those the
    bureau admitted (Art. 4 "等"), each with its holder (from approval on, Art. 5), any holders by
    recorded exception, and the history of holders. **Answers** 200 with `policy` and the
    envelope (`items`, `next_cursor`, `total`; every subfield without `limit`).
    """
    policy = c.app.policies.latest()

    def registry(conn: Any) -> dict[str, Any]:
        whole = queries.subfield_registry(conn, policy)
        return {"policy": whole["policy"], **queries.page_of(whole["items"], "s", limit, cursor)}

    return _rendered(await _cached_body(c, ("subfields", policy.policy, limit, cursor), min_position, registry))


@router.get("/subfields.csv", responses={200: {"content": {"text/csv": {}},
                                               "description": "UTF-8 CSV with BOM, one line per subfield"},
                                         **problem_responses(422, 503)},
            response_class=Response, summary="Subfield registry (细分领域) as CSV, public")
async def subfields_csv_route(c: Wired, min_position: MinPosition = None) -> Response:
    """Every subfield of the latest policy with its holder, under Chinese headers."""
    policy = c.app.policies.latest()
    found = await _cached_body(c, ("subfields.csv", policy.policy), min_position,
                               lambda conn: subfields_csv(queries.subfield_registry(conn, policy)["items"]))
    return _rendered(found, CSV_MEDIA_TYPE, "subfields.csv")


@router.get("/policies", response_model=s.PolicyPage, responses=problem_responses(422),
            summary="Policy versions (政策版本), public")
def policies(c: Wired, limit: WholeLimit = None, cursor: PoliciesCursor = None) -> JSONResponse:
    """政策版本 The policy versions loaded and their settings (Art. 15).

    **Who**: anyone, without an account. Each version's validity (an application is governed by the
    one in force on its date), subfields (Art. 4), grant (Art. 9(3)), publicity working days
    (Art. 8(6)), rubric, minimum of experts and scoring method (Art. 8(3)). **Answers** 200 with
    the envelope (`items` oldest first, `next_cursor`, `total`; every version without `limit`).
    """
    return _json(queries.page_of([p.to_public_dict() for p in c.app.policies.all()], "v", limit, cursor))


# ---------------------------------------------------------------------------- money and deadlines
@router.get("/funding-ledger", response_model=s.Ledger, responses=READ_ERRORS, summary="Funding ledger (资金台账)")
async def funding_ledger(request: Request, who: Ledger, fiscal_year: FiscalYear = None,
                         min_position: MinPosition = None) -> Response:
    """资金台账 The funding ledger: commitments, releases, disbursements, recoveries.

    **Who**: finance, the bureau, auditors. Commitments at approval (Art. 8(5)), releases when a
    committed project ends without money, disbursements at funding (Art. 9(3)), recoveries of
    money returned (Art. 13), each with its document; `?fiscal_year=` keeps one year's entries.
    **Answers** 200 with `entries` and `totals` (reconciling with the events to the fen).
    """
    return _rendered(await _cached_body(_container(request), ("funding-ledger", fiscal_year), min_position,
                                        lambda conn: queries.funding_ledger(conn, fiscal_year=fiscal_year)))


def _download(data: bytes, media_type: str, name: str) -> Response:
    return Response(data, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/funding-ledger.csv", responses={200: {"content": {"text/csv": {}},
                                                    "description": "UTF-8 CSV with BOM"}, **READ_ERRORS},
            response_class=Response, summary="Funding ledger as CSV (资金台账, opens in Excel)")
def funding_ledger_csv(c: Wired, who: Ledger, fiscal_year: FiscalYear = None,
                       lang: Annotated[Literal["zh", "en"], Query(
                           description="表头语言 Headers and kinds in Chinese (default) or English",
                           examples=["zh"])] = "zh",
                       min_position: MinPosition = None) -> Response:
    """资金台账 CSV The funding ledger's entries as a CSV file that opens in Excel.

    **Who**: finance, the bureau, auditors. The entries by business date, an amount column per
    kind, platform names, a totals row (合计). **Answers** 200 with `text/csv`, UTF-8 with a byte
    order mark, as an attachment (`funding-ledger[-YEAR].csv`).
    """
    await_position(c, min_position)
    with c.engine.connect() as conn:
        data = queries.ledger_csv(conn, fiscal_year=fiscal_year, lang=lang).encode("utf-8")  # with its BOM
    name = f"funding-ledger-{fiscal_year}.csv" if fiscal_year else "funding-ledger.csv"
    return _download(data, "text/csv; charset=utf-8", name)


@router.get("/funding-ledger/by-year", response_model=s.LedgerByYear, responses=READ_ERRORS,
            summary="Funding ledger by fiscal year (分年度资金台账), as balances of outstanding commitments")
async def funding_ledger_by_year(c: Wired, who: Ledger,
                                 fiscal_year: FiscalYear = None,
                                 min_position: MinPosition = None) -> Response:
    """分年度资金台账 The funding ledger by fiscal year, as balances of outstanding commitments.

    **Who**: finance, the bureau, auditors. Per fiscal year and platform: the opening balance of
    outstanding commitments, the year's commitments, releases, disbursements and recoveries, and
    the closing balance (`closing = opening + commitments − releases − disbursements`;
    recoveries, money returned under Art. 13, are reported beside). Each year's opening is the
    year before's closing. **Answers** 200 with `fiscal_years` and `totals`.
    """
    return _rendered(await _cached_body(c, ("funding-ledger-by-year", fiscal_year), min_position,
                                        lambda conn: queries.funding_ledger_by_year(conn, fiscal_year=fiscal_year)))


@router.get("/funding-ledger/by-year.csv", responses={200: {"content": {"text/csv": {}},
                                                            "description": "UTF-8 CSV with BOM"}, **READ_ERRORS},
            response_class=Response,
            summary="Funding ledger by fiscal year as CSV (分年度资金台账, Chinese headers, totals row)")
def funding_ledger_by_year_csv(c: Wired, who: Ledger,
                               fiscal_year: FiscalYear = None,
                               min_position: MinPosition = None) -> Response:
    """分年度资金台账 CSV The ledger by fiscal year as CSV, under Chinese headers.

    **Who**: finance, the bureau, auditors. The lines of `GET /funding-ledger/by-year`, year by
    year, then a totals row (合计); UTF-8 with a BOM and CRLF, amounts as plain two-place decimals,
    text cells guarded against formula injection. **Answers** 200 with `text/csv` as an attachment.
    """
    return _by_year_download(c, fiscal_year, min_position, lambda conn, year: queries.ledger_by_year_csv(
        conn, fiscal_year=year).encode("utf-8"), "text/csv; charset=utf-8", "csv")


@router.get("/funding-ledger/by-year.xlsx", responses={200: {"content": {XLSX_MEDIA_TYPE: {}},
                                                             "description": "An Excel workbook"}, **READ_ERRORS},
            response_class=Response,
            summary="Funding ledger by fiscal year as XLSX (分年度资金台账, numeric amounts, totals row)")
def funding_ledger_by_year_xlsx(c: Wired, who: Ledger,
                                fiscal_year: FiscalYear = None,
                                min_position: MinPosition = None) -> Response:
    """分年度资金台账 XLSX The ledger by fiscal year as an Excel workbook.

    **Who**: finance, the bureau, auditors. The same lines as the CSV, amounts as numeric cells in
    the `0.00` format, a totals row. **Answers** 200 with the workbook as an attachment.
    """
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


@router.get("/deadlines", response_model=s.DeadlinesPage, responses=READ_ERRORS, summary="Open deadlines (期限)")
def deadlines(c: Wired, who: Planners, limit: WholeLimit = None, cursor: DeadlinesCursor = None,
              min_position: MinPosition = None) -> JSONResponse:
    """期限 The open deadlines: publicity ends (Art. 8(6)) and acceptance applications due (Art. 9(1)).

    **Who**: the bureau and the service agency. Each with its due date (pending while its year's
    holiday schedule is not loaded), whether it is overdue today (Asia/Shanghai), and for an
    acceptance deadline the recorded miss and any late admission. **Answers** 200 with the
    envelope, soonest first (`items`, `next_cursor`, `total`; every deadline without `limit`).
    """
    await_position(c, min_position)
    with c.engine.connect() as conn:
        found = queries.deadlines(conn, today=today_in_shanghai(), calendar=c.app.calendar, policies=c.app.policies)
    return _json(queries.page_of(found["items"], "d", limit, cursor))


# ---------------------------------------------------------------------------- operations
@router.get("/healthz", response_model=s.Health, summary="Liveness (存活检查)")
def healthz() -> dict[str, str]:
    """存活检查 Liveness: the process answers.

    **Who**: anyone (monitoring). **Answers** 200 `{"status": "ok"}`; it reads nothing.
    """
    return {"status": "ok"}


@router.get("/readyz", response_model=s.Readiness, responses=problem_responses(503),
            summary="Readiness, with projection lag (就绪检查)")
def readyz(c: Wired) -> JSONResponse:
    """就绪检查 Readiness: the database, the read models, the log's integrity and the store's writes.

    **Who**: anyone (monitoring, load balancers). **Answers** 200 when ready; 503 when the database
    does not answer, a read model lags too far behind the log or has stopped at an event it cannot
    apply (`stalled`, with the position, event and reason), the event log does not verify against
    its signed checkpoints (the integrity watch, audit.watch), or the event store does not take a
    write (a read-only file or filesystem, a full disk).
    """
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
