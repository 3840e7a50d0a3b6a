"""The workbench's finance and audit pages (资金台账, 审计), beside :mod:`api.routes_staff`,
whose rendering, sign-in redirect and 403 page they use.

- ``GET /staff/ledger`` (finance, bureau, auditors; ``?fiscal_year=&page=``): the funding ledger
  by fiscal year, one year and one page of its platforms at a time, with the SVG chart of every
  year (:mod:`api.staff_ledger`); ``GET /staff/ledger.csv`` and
  ``GET /staff/ledger.xlsx``: the downloads of ``GET /funding-ledger/by-year.csv|.xlsx``, from
  the session instead of a bearer token (the same route functions answer both).
- ``GET /staff/audit`` (auditors, bureau; ``?position=``: an event's inclusion proof): the latest
  checkpoints with their witnesses (:mod:`api.staff_audit`); ``POST /staff/audit/verify``
  (CSRF): verify the whole log now; ``GET /staff/audit/export``: the log's export, as ``GET
  /audit/export`` streams it.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from aggregates.clock import today_in_shanghai
from aggregates.errors import NotFound
from projections import queries

from . import staff_ledger
from .auth import Principal
from .bootstrap import Container
from .deps import get_container
from .page_security import CsrfError, csrf_for, secure_headers
from .routes_audit import audit_export
from .routes_page import templates
from .routes_queries import funding_ledger_by_year_csv, funding_ledger_by_year_xlsx
from .routes_staff import forbidden, message, refused_csrf, render, to_login
from .staff_audit import AUDIT_READERS, VERIFICATIONS, VerificationRunning, checkpoints, inclusion
from .staff_ledger import LEDGER_READERS, ledger_page, yuan_text
from .staff_session import current_member

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)
Wired = Annotated[Container, Depends(get_container)]

LEDGER = "/staff/ledger"
AUDIT = "/staff/audit"
LEDGER_REFUSED = "资金台账仅向市财政局、市科技局和审计显示。"
AUDIT_REFUSED = "审计页面仅向审计和市科技局显示。"

templates.env.filters["yuan"] = yuan_text
# Who sees each page's link in the workbench's navigation (staff/base.html): who may open it.
templates.env.globals["ledger_readers"] = frozenset(r.value for r in LEDGER_READERS)
templates.env.globals["audit_readers"] = frozenset(r.value for r in AUDIT_READERS)


def _member(request: Request, readers: frozenset[Any], reason: str) -> Principal | Response:
    """Who is signed in, or the response instead of the page: to sign in, or the 403 page."""
    who = current_member(request)
    if who is None:
        return to_login(request)
    if who.role not in readers:
        return forbidden(request, who, reason)
    return who


def _fiscal_year(value: str) -> int | None:
    """``?fiscal_year=`` (empty: every year); ValueError unless a year 2000..2100, as the API."""
    value = value.strip()
    if not value:
        return None
    if not re.fullmatch(r"\d{4}", value) or not 2000 <= int(value) <= 2100:
        raise ValueError(value)
    return int(value)


# ------------------------------------------------------------------------- finance
def _ledger_reader(request: Request, fiscal_year: str, back: str) -> tuple[Principal, int | None] | Response:
    """The signed-in ledger reader and the year asked for; else the page that refuses either
    (a role that may not read the ledger, a year that is not one), linking ``back`` to the ledger."""
    who = _member(request, LEDGER_READERS, LEDGER_REFUSED)
    if not isinstance(who, Principal):
        return who
    try:
        return who, _fiscal_year(fiscal_year)
    except ValueError:
        return message(request, 422, "查询条件有误", ["财政年度应为 2000 至 2100 之间的四位年份。"], who,
                       [(LEDGER, back)])


def _page_number(value: str) -> int:
    """``?page=`` (empty: the first); ValueError unless a positive number."""
    value = value.strip()
    if not value:
        return 1
    if not re.fullmatch(r"[1-9][0-9]{0,5}", value):
        raise ValueError(value)
    return int(value)


@router.get(LEDGER, response_class=HTMLResponse)
def ledger(request: Request, c: Wired, fiscal_year: str = "", page: str = "") -> Response:
    """One fiscal year: the one asked for; else the latest year with movements (the current
    fiscal year, in Asia/Shanghai, while the ledger is empty)."""
    reader = _ledger_reader(request, fiscal_year, "查看最近年度")
    if isinstance(reader, Response):
        return reader
    who, year = reader
    try:
        number = _page_number(page)
    except ValueError:
        return message(request, 422, "查询条件有误", ["页码应为正整数。"], who, [(LEDGER, "查看最近年度")])
    per_page = staff_ledger.PER_PAGE
    today = today_in_shanghai().year if year is None else None  # the default of an empty ledger
    with c.engine.connect() as conn:
        # Kept while the read models stand still, as the API's reads are (api.read_cache).
        summary, shown, lines, count = c.reads.value(conn, ("staff-ledger", year, today, number, per_page),
                                                     lambda: _ledger_view(conn, year, today, number, per_page))
    # A page past the year's last: not found, with a link back to its first page.
    status = 404 if number > 1 and not lines else 200
    return render(request, "staff/ledger.html", ledger_page(summary, shown, lines, count, number, per_page),
                  status, who)


def _ledger_view(conn: Any, year: int | None, today: int | None, number: int, per_page: int) -> tuple[Any, ...]:
    """The summary by year, the fiscal year shown (``year``, else the latest with movements, else
    ``today``'s), and page ``number`` of its platform lines with their count."""
    # A year asked for before or after the ledger's joins the summary, its opening carried over.
    summary = queries.ledger_years(conn, year)
    shown = year if year is not None else summary[-1][0] if summary else today
    assert shown is not None  # today is given whenever year is not
    lines, count = queries.ledger_year_lines(conn, shown, (number - 1) * per_page, per_page)
    return summary, shown, lines, count


def _download(request: Request, c: Wired, fiscal_year: str, export: Any) -> Response:
    reader = _ledger_reader(request, fiscal_year, "返回资金台账")
    if isinstance(reader, Response):
        return reader
    who, year = reader
    response: Response = export(c, who, year, None)
    return secure_headers(response, no_store=True)


@router.get(LEDGER + ".csv")
def ledger_csv(request: Request, c: Wired, fiscal_year: str = "") -> Response:
    return _download(request, c, fiscal_year, funding_ledger_by_year_csv)


@router.get(LEDGER + ".xlsx")
def ledger_xlsx(request: Request, c: Wired, fiscal_year: str = "") -> Response:
    return _download(request, c, fiscal_year, funding_ledger_by_year_xlsx)


# ------------------------------------------------------------------------- audit
def _audit_page(request: Request, c: Container, who: Principal, status: int = 200, **context: Any) -> HTMLResponse:
    return render(request, "staff/audit.html", {"checkpoints": checkpoints(c), "report": None, "proof": None,
                                                "position": "", "busy": False, "proof_error": "", **context},
                  status, who)


@router.get(AUDIT, response_class=HTMLResponse)
def audit(request: Request, c: Wired, position: str = "") -> Response:
    who = _member(request, AUDIT_READERS, AUDIT_REFUSED)
    if not isinstance(who, Principal):
        return who
    position = position.strip()
    if not position:
        return _audit_page(request, c, who)
    if not re.fullmatch(r"[1-9][0-9]{0,15}", position):
        return _audit_page(request, c, who, 422, position=position[:20], proof_error="日志位置应为正整数。")
    try:
        proof = inclusion(c, int(position))
    except NotFound:
        return _audit_page(request, c, who, 404, position=position,
                           proof_error=f"日志中没有位置为 {position} 的事件。")
    return _audit_page(request, c, who, position=position, proof=proof)


@router.post(AUDIT + "/verify", response_class=HTMLResponse)
def verify_now(request: Request, c: Wired, csrf_token: Annotated[str, Form()] = "") -> Response:
    """Handled in a worker thread (a plain ``def``), never on the event loop."""
    who = _member(request, AUDIT_READERS, AUDIT_REFUSED)
    if not isinstance(who, Principal):
        return who
    try:
        csrf_for(request).check(request, csrf_token)
    except CsrfError as exc:
        return refused_csrf(request, exc, who)
    try:
        report = VERIFICATIONS.run(c)
    except VerificationRunning:
        return _audit_page(request, c, who, 409, busy=True)
    log.info("workbench verification", extra={"username": who.actor_id, "ok": report.ok,
                                               "events_checked": report.events_checked})
    return _audit_page(request, c, who, report=report)


@router.get(AUDIT + "/export")
def export(request: Request, c: Wired) -> Response:
    who = _member(request, AUDIT_READERS, AUDIT_REFUSED)
    if not isinstance(who, Principal):
        return who
    return secure_headers(audit_export(c, who), no_store=True)


__all__ = ["router"]
