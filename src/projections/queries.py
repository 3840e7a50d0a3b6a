"""Query functions over the read models (读模型查询), returning docs/API.md's JSON shapes.

Each takes a SQLAlchemy ``Connection`` (or ``Session``) and returns JSON-ready dicts: dates as
ISO strings, money as two-place decimal strings. Lists page with opaque ``cursor`` strings; a
malformed cursor raises :class:`InvalidCursor` (a ``ValueError``: the API answers 400).

Dates that were pending when recorded (a publicity window or an acceptance deadline in a year
whose official working-day schedule was not loaded, docs/DOMAIN.md "Time rules") are computed here,
at query time, once the schedule is loaded; until then they stay ``null`` with ``pending: true``.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from aggregates.calendar import WorkingDayCalendar
from aggregates.credit_code import normalise_credit_code
from aggregates.errors import CalendarNotLoaded
from aggregates.policy import Policy, PolicyRegistry
from aggregates.publicity_window import PublicityWindow, WindowState
from aggregates.rules import Rules

from .csv_cells import SpreadsheetCsvWriter, Text
from .tables import LIVE
from .views import objection_line
from .xlsx_cells import spreadsheet_xlsx

FEN = Decimal("0.01")
LEDGER_KINDS = ("commitment", "release", "disbursement", "recovery")


class InvalidCursor(ValueError):
    """A pagination cursor this service did not hand out."""


def _encode_cursor(kind: str, value: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode().rstrip("=")


def _decode_cursor(kind: str, cursor: str | None) -> int | None:
    if cursor is None or cursor == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, value = raw.split(":", 1)
        if prefix != kind:
            raise ValueError(prefix)
        return int(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor(f"invalid cursor {cursor!r}") from exc


def encode_cursor(kind: str, value: int) -> str:
    """An opaque cursor for a page that starts after ``value`` (a position, an id, an offset)."""
    return _encode_cursor(kind, value)


def decode_cursor(kind: str, cursor: str) -> int:
    """The value in a cursor :func:`encode_cursor` made for ``kind``; :class:`InvalidCursor` else."""
    value = _decode_cursor(kind, cursor)
    if value is None or value < 0:
        raise InvalidCursor(f"invalid cursor {cursor!r}")
    return value


def _limit(limit: int) -> int:
    return max(1, min(int(limit), 500))


def fen_to_money(fen: int | None) -> str:
    return str((Decimal(int(fen or 0)) / 100).quantize(FEN))


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d is not None else None


def _as_date(v: Any) -> date | None:
    # SQLite hands dates back as date objects through SQLAlchemy's Date type; be lenient anyway.
    if v is None or isinstance(v, date):
        return v
    return date.fromisoformat(str(v))


def _as_day(v: Any) -> date:
    """The value of a date column that is never NULL."""
    return v if isinstance(v, date) else date.fromisoformat(str(v))


# The bundled policies and calendar, for a caller that passes none (every service route passes
# the registry's own, which include the operator's files).
@lru_cache(maxsize=1)
def _default_policies() -> PolicyRegistry:
    return PolicyRegistry.load()


@lru_cache(maxsize=1)
def _default_calendar() -> WorkingDayCalendar:
    return WorkingDayCalendar()


# ---------------------------------------------------------------------- platforms 平台
def list_platforms(
    conn: Any, status: str | None = None, subfield: str | None = None, host_credit_code: str | None = None,
    limit: int = 50, cursor: str | None = None,
) -> dict[str, Any]:
    """``GET /platforms``: summaries in application order, filtered by status, subfield and
    host unit (统一社会信用代码)."""
    t = LIVE["rm_platforms"]
    limit = _limit(limit)
    stmt = sa.select(t.c.id, t.c.seq, t.c.name, t.c.subfield, t.c.host_credit_code, t.c.host_name,
                     t.c.status, t.c.version)
    if status:
        stmt = stmt.where(t.c.status == status)
    if subfield:
        stmt = stmt.where(t.c.subfield == subfield)
    if host_credit_code:
        stmt = stmt.where(t.c.host_credit_code == normalise_credit_code(host_credit_code))
    total = conn.execute(sa.select(sa.func.count()).select_from(stmt.subquery())).scalar_one()
    after = _decode_cursor("p", cursor)
    if after is not None:
        stmt = stmt.where(t.c.seq > after)
    rows = conn.execute(stmt.order_by(t.c.seq).limit(limit + 1)).all()
    items = [{"id": r.id, "name": r.name, "subfield": r.subfield,
              "host_unit": {"name": r.host_name, "credit_code": r.host_credit_code},
              "status": r.status, "version": r.version} for r in rows[:limit]]
    next_cursor = _encode_cursor("p", rows[limit - 1].seq) if len(rows) > limit else None
    return {"items": items, "next_cursor": next_cursor, "total": total}


def get_platform(conn: Any, platform_id: Any) -> dict[str, Any] | None:
    """``GET /platforms/{id}``: the stored :func:`projections.views.summarize` output, with its
    objections from their own rows, in order."""
    t, o = LIVE["rm_platforms"], LIVE["rm_platform_objections"]
    summary = conn.execute(sa.select(t.c.summary).where(t.c.id == str(platform_id))).scalar()
    if summary is None:
        return None
    detail = json.loads(summary)
    rows = conn.execute(sa.select(o.c.objection_no, o.c.received_on, o.c.admissible, o.c.outcome)
                        .where(o.c.platform_id == str(platform_id)).order_by(o.c.objection_no))
    detail["objections"] = [objection_line({"objection_id": str(r.objection_no), "received_on": r.received_on,
                                            "admissible": r.admissible, "outcome": r.outcome}) for r in rows]
    return detail


# ---------------------------------------------------------------------- publicity 公示名单
def _window(recorded: PublicityWindow, working_days: int, policy_ref: str | None, rules: Rules) -> PublicityWindow:
    """A batch's window, counted now if it was pending and its year's schedule has since been
    loaded; still pending otherwise."""
    if not recorded.pending:
        return recorded
    try:
        counts = rules.policies.get(policy_ref).publicity_start_day_counts if policy_ref else True
        return rules.counted(recorded, working_days, counts)
    except CalendarNotLoaded:
        return recorded


def publicity_list(
    conn: Any, open_only: bool, today: date, limit: int = 50, cursor: str | None = None,
    calendar: WorkingDayCalendar | None = None, policies: PolicyRegistry | None = None,
) -> dict[str, Any]:
    """``GET /publicity-list``: batches, newest first, with their platforms, objection counts
    and outcomes (Art. 8(6)); never an objector's identity. A window is open from its first
    working day through its last (it closes at 00:00 Asia/Shanghai the next day); ``today``
    is the caller's Asia/Shanghai date. ``total`` counts the batches of every page."""
    rules = Rules(policies or _default_policies(), calendar or _default_calendar())
    b = LIVE["rm_publicity_batches"]
    limit = _limit(limit)
    before = _decode_cursor("b", cursor)
    if open_only:
        # The windows around today are few: judge each (a pending one may have been counted
        # since), then page the open ones, so that a page holds ``limit`` of them.
        candidates = conn.execute(sa.select(b).where(
            b.c.start_date <= today, sa.or_(b.c.last_day.is_(None), b.c.last_day >= today)
        ).order_by(b.c.seq.desc())).all()
        opened = [(row, item) for row, item in zip(candidates, _batch_items(conn, candidates, today, rules),
                                                   strict=True) if item["open"]]
        following = [(row, item) for row, item in opened if before is None or row.seq < before]
        page = following[:limit]
        next_cursor = _encode_cursor("b", page[-1][0].seq) if len(following) > limit else None
        return {"items": [item for _, item in page], "next_cursor": next_cursor, "total": len(opened)}
    stmt = sa.select(b)
    if before is not None:
        stmt = stmt.where(b.c.seq < before)
    batches = conn.execute(stmt.order_by(b.c.seq.desc()).limit(limit + 1)).all()
    total = conn.execute(sa.select(sa.func.count()).select_from(b)).scalar_one()
    next_cursor = _encode_cursor("b", batches[limit - 1].seq) if len(batches) > limit else None
    return {"items": _batch_items(conn, batches[:limit], today, rules), "next_cursor": next_cursor, "total": total}


def _batch_items(conn: Any, rows: list[Any], today: date, rules: Rules) -> list[dict[str, Any]]:
    """The list's items for these batch rows, in their order, with their platforms."""
    e = LIVE["rm_publicity_entries"]
    entries: dict[str, list[Any]] = {}
    if rows:
        for r in conn.execute(sa.select(e).where(e.c.batch_id.in_([x.batch_id for x in rows]))
                              .order_by(e.c.batch_id, e.c.ord)):
            entries.setdefault(r.batch_id, []).append(r)
    items = []
    for x in rows:
        lines = entries.get(x.batch_id, [])
        window = _batch_window(x, lines[0].policy_ref if lines else None, rules)
        state = window.state_on(today)
        items.append({
            "batch_ref": x.batch_ref, "media": x.media, "start_date": _iso(window.start_date),
            "first_day": _iso(window.first_day), "end_date": _iso(window.last_day), "pending": window.pending,
            "open": state is WindowState.OPEN, "state": state.value,
            "working_days": x.working_days, "published_on": _iso(_as_date(x.published_on)),
            "platforms": [{"id": r.platform_id, "name": r.name,
                           "host_unit": {"name": r.host_name, "credit_code": r.host_credit_code},
                           "subfield": r.subfield, "objections": r.objections,
                           "late_objections": r.late_objections, "outcome": r.outcome} for r in lines],
        })
    return items


def _batch_window(row: Any, policy_ref: str | None, rules: Rules) -> PublicityWindow:
    recorded = PublicityWindow(_as_day(row.start_date), _as_date(row.first_day), _as_date(row.last_day))
    return _window(recorded, row.working_days, policy_ref, rules)


# Open windows first (objections can be filed), then those still to open, then the closed.
STATE_ORDER = {WindowState.OPEN: 0, WindowState.UPCOMING: 1, WindowState.CLOSED: 2}


def publicity_overview(
    conn: Any, today: date, offset: int, limit: int,
    calendar: WorkingDayCalendar | None = None, policies: PolicyRegistry | None = None,
) -> dict[str, Any]:
    """The public home page's batches: every batch judged on ``today``, open ones first, then
    upcoming, then closed, newest first within each; the ``limit`` from ``offset`` in full (with
    their platforms), and ``total`` and ``states`` (how many are open, upcoming, closed) of all."""
    rules = Rules(policies or _default_policies(), calendar or _default_calendar())
    b, e = LIVE["rm_publicity_batches"], LIVE["rm_publicity_entries"]
    rows = conn.execute(sa.select(b).order_by(b.c.seq.desc())).all()
    pending = [r.batch_id for r in rows if r.last_day is None]
    policy_refs: dict[str, str] = {}
    if pending:  # only a pending window needs its policy (to count it once its year is loaded)
        policy_refs = {r.batch_id: r.policy_ref for r in conn.execute(
            sa.select(e.c.batch_id, e.c.policy_ref).where(e.c.batch_id.in_(pending), e.c.ord == 0))}
    judged = [(STATE_ORDER[_batch_window(r, policy_refs.get(r.batch_id), rules).state_on(today)], i, r)
              for i, r in enumerate(rows)]
    judged.sort(key=lambda t: (t[0], t[1]))
    states = {state.value: sum(1 for t in judged if t[0] == order) for state, order in STATE_ORDER.items()}
    page = [r for _, _, r in judged[offset:offset + limit]]
    return {"items": _batch_items(conn, page, today, rules), "total": len(rows), "states": states}


def find_batch(
    conn: Any, batch_ref: str, today: date,
    calendar: WorkingDayCalendar | None = None, policies: PolicyRegistry | None = None,
) -> dict[str, Any] | None:
    """One batch by its reference (公示批次号) as the list shows it, or None."""
    rules = Rules(policies or _default_policies(), calendar or _default_calendar())
    b = LIVE["rm_publicity_batches"]
    rows = conn.execute(sa.select(b).where(b.c.batch_ref == batch_ref).order_by(b.c.seq.desc()).limit(1)).all()
    return _batch_items(conn, rows, today, rules)[0] if rows else None


def page_of(items: list[Any], kind: str, limit: int | None, cursor: str | None) -> dict[str, Any]:
    """A list held whole in memory as one envelope page: ``limit`` items after ``cursor`` (an
    offset; every item with no ``limit``), ``next_cursor`` and ``total``."""
    start = decode_cursor(kind, cursor) if cursor else 0
    end = len(items) if limit is None else start + _limit(limit)
    return {"items": items[start:end], "next_cursor": _encode_cursor(kind, end) if end < len(items) else None,
            "total": len(items)}


# ---------------------------------------------------------------------- subfields 细分领域
def subfield_registry(conn: Any, policy: Policy) -> dict[str, Any]:
    """``GET /subfields``: the policy's subfields (18 under 长科发〔2021〕36号, Art. 4) and those the
    bureau admitted under it by decision (Art. 4 "等", with the decision as ``admission``), each
    with its holder (Art. 5), the platforms admitted by a recorded exception, and the history."""
    s, h, p = LIVE["rm_subfield_seats"], LIVE["rm_subfield_history"], LIVE["rm_platforms"]
    a = LIVE["rm_admitted_subfields"]
    admitted = {r.subfield: {"document_ref": r.document_ref, "reasons": r.reasons,
                             "admitted_on": _iso(_as_date(r.admitted_on))}
                for r in conn.execute(sa.select(a).where(a.c.policy_ref == policy.policy).order_by(a.c.position))}
    names = [*policy.subfields, *admitted]
    seats = {r.subfield: r for r in conn.execute(sa.select(s).where(s.c.subfield.in_(names)))}
    history: dict[str, list[Any]] = {}
    for r in conn.execute(sa.select(h).where(h.c.subfield.in_(names)).order_by(h.c.occupied_position)):
        history.setdefault(r.subfield, []).append(r)
    ids = {r.platform_id for rows in history.values() for r in rows}
    ids |= {r.holder_id for r in seats.values() if r.holder_id}
    platforms = {}
    if ids:
        platforms = {r.id: r for r in conn.execute(
            sa.select(p.c.id, p.c.name, p.c.host_name, p.c.host_credit_code, p.c.status)
            .where(p.c.id.in_(sorted(ids))))}

    def who(pid: str) -> dict[str, Any]:
        r = platforms.get(pid)
        if r is None:
            return {"id": pid, "name": None, "host_unit": None, "status": None}
        return {"id": pid, "name": r.name, "host_unit": {"name": r.host_name, "credit_code": r.host_credit_code},
                "status": r.status}

    items = []
    for name in names:
        seat = seats.get(name)
        items.append({
            "name": name,
            "admission": admitted.get(name),
            "holder": who(seat.holder_id) if seat is not None and seat.holder_id else None,
            "exception_holders": [who(pid) for pid in json.loads(seat.exception_holders)] if seat else [],
            "history": [dict(who(r.platform_id), exception=r.exception, from_date=_iso(_as_date(r.occupied_on)),
                             to_date=_iso(_as_date(r.released_on))) for r in history.get(name, [])],
        })
    return {"policy": policy.policy, "items": items}


# ---------------------------------------------------------------------- ledger 资金台账
def _ledger_rows(conn: Any, fiscal_year: int | None) -> list[Any]:
    t = LIVE["rm_ledger_entries"]
    stmt = sa.select(t)
    if fiscal_year is not None:
        stmt = stmt.where(t.c.fiscal_year == int(fiscal_year))
    return conn.execute(stmt.order_by(t.c.position)).all()


def _net(sums: dict[str, int]) -> int:
    """The change of outstanding commitments that ``sums`` (fen per kind) make: commitments less
    releases and disbursements (recoveries change no commitment: YearBalance)."""
    return sums.get("commitment", 0) - sums.get("release", 0) - sums.get("disbursement", 0)


def _totals(sums: dict[str, int], opening: int = 0) -> dict[str, str]:
    """A period's figures, each named for what it is: the flows of the period (``committed``,
    ``released``, ``disbursed``, ``recovered``, and ``commitment_change``, their net effect on
    outstanding commitments), and the balances of outstanding commitments at its start
    (``opening_balance``) and end (``closing_balance``; ``outstanding_commitments`` is the same
    balance under its original name)."""
    closing = opening + _net(sums)
    return {"opening_balance": fen_to_money(opening),
            "committed": fen_to_money(sums.get("commitment", 0)), "released": fen_to_money(sums.get("release", 0)),
            "disbursed": fen_to_money(sums.get("disbursement", 0)), "recovered": fen_to_money(sums.get("recovery", 0)),
            "commitment_change": fen_to_money(_net(sums)), "closing_balance": fen_to_money(closing),
            "outstanding_commitments": fen_to_money(closing)}


def _openings(conn: Any, fiscal_year: int | None) -> tuple[int, dict[str, int]]:
    """Outstanding commitments before ``fiscal_year`` (0 without one): in all, and per host unit."""
    if fiscal_year is None:
        return 0, {}
    t = LIVE["rm_ledger_entries"]
    per_host: dict[str, dict[str, int]] = {}
    for code, kind, fen in conn.execute(sa.select(t.c.host_credit_code, t.c.kind, sa.func.sum(t.c.amount_fen))
                                        .where(t.c.fiscal_year < int(fiscal_year))
                                        .group_by(t.c.host_credit_code, t.c.kind)):
        per_host.setdefault(code, {})[kind] = int(fen)
    hosts = {code: _net(sums) for code, sums in per_host.items()}
    return sum(hosts.values()), hosts


def funding_ledger(conn: Any, fiscal_year: int | None = None) -> dict[str, Any]:
    """``GET /funding-ledger``: every entry, each pointing at the event that caused it, and
    totals (overall, per fiscal year, per host unit) exact to the fen (Art. 8(5), 9(3), 13).

    Flows and balances are kept apart (issue 15): each total gives the period's flows and the
    balance of outstanding commitments at its start and end. With ``fiscal_year`` the period is
    that year, its opening balance summed from every earlier entry; each fiscal year opens with
    the year before's closing. A host unit whose balance was carried into the year with no
    entry in it is listed too. The flows of the totals are the sums of the entries listed."""
    rows = _ledger_rows(conn, fiscal_year)
    opening, host_openings = _openings(conn, fiscal_year)
    entries = []
    total: dict[str, int] = {}
    by_year: dict[int, dict[str, int]] = {}
    by_host: dict[str, dict[str, Any]] = {}
    for r in rows:
        entries.append({
            "entry_id": r.entry_id, "kind": r.kind, "platform_id": r.platform_id,
            "host_unit": {"name": r.host_name, "credit_code": r.host_credit_code},
            "amount": fen_to_money(r.amount_fen), "business_date": _iso(_as_date(r.business_date)),
            "fiscal_year": r.fiscal_year, "document_ref": r.document_ref,
            "event": {"position": r.position, "type": r.event_type, "originator_version": r.originator_version},
        })
        total[r.kind] = total.get(r.kind, 0) + r.amount_fen
        y = by_year.setdefault(r.fiscal_year, {})
        y[r.kind] = y.get(r.kind, 0) + r.amount_fen
        host = by_host.setdefault(r.host_credit_code, {"name": r.host_name, "sums": {}})
        host["name"] = r.host_name
        host["sums"][r.kind] = host["sums"].get(r.kind, 0) + r.amount_fen
    carried = [code for code, fen in host_openings.items() if fen and code not in by_host]
    if carried:
        t = LIVE["rm_ledger_entries"]
        for code, name in conn.execute(sa.select(t.c.host_credit_code, t.c.host_name)
                                       .where(t.c.host_credit_code.in_(carried)).order_by(t.c.position)):
            by_host[code] = {"name": name, "sums": {}}  # the latest entry's name wins
    years, balance = [], opening
    for year, sums in sorted(by_year.items()):
        years.append({"fiscal_year": year, **_totals(sums, balance)})
        balance += _net(sums)
    return {
        "entries": entries,
        "totals": _totals(total, opening),
        "by_fiscal_year": years,
        "by_host_unit": [dict(credit_code=c, name=v["name"], **_totals(v["sums"], host_openings.get(c, 0)))
                         for c, v in sorted(by_host.items())],
    }


def ledger_totals_fen(conn: Any) -> dict[str, int]:
    """Totals per kind in fen, summed by the database (for reconciliation)."""
    t = LIVE["rm_ledger_entries"]
    sums = {k: int(v) for k, v in conn.execute(
        sa.select(t.c.kind, sa.func.sum(t.c.amount_fen)).group_by(t.c.kind))}
    return {k: sums.get(k, 0) for k in LEDGER_KINDS}


LEDGER_CSV_LANGS = ("zh", "en")
# The entries' CSV, column by column: (Chinese header, English header).
LEDGER_CSV_COLUMNS = (("业务日期", "business_date"), ("财政年度", "fiscal_year"), ("类型", "kind"),
                      ("平台编号", "platform_id"), ("平台名称", "platform_name"), ("依托单位", "host_unit"),
                      ("统一社会信用代码", "host_credit_code"), ("承诺", "commitment"), ("释放", "release"),
                      ("拨付", "disbursement"), ("追回", "recovery"), ("文号", "document_ref"),
                      ("事件位置", "event_position"), ("事件类型", "event_type"))
KIND_NAMES = {"commitment": "承诺", "release": "释放", "disbursement": "拨付", "recovery": "追回"}
# An entry stored before its act needed a document (a withdrawal after approval, an unqualified
# acceptance: issue 15): shown as such, never filled in.
NO_DOCUMENT = {"zh": "（未记录文号）", "en": "(no document recorded)"}
TOTAL = {"zh": "合计", "en": "Total"}


def ledger_csv(conn: Any, fiscal_year: int | None = None, lang: str = "zh") -> str:
    """``GET /funding-ledger.csv`` and ``platforms ledger export``: the entries in business-date
    order (then log order), one amount column per kind so that a spreadsheet sums each, with the
    platform's name, then a totals row (合计) whose amounts are the columns' sums. Headers and
    kinds in Chinese, or in English with ``lang="en"``. Written as :func:`ledger_by_year_csv`
    writes (UTF-8 with a BOM, CRLF, plain two-place amounts, text cells neutralised against
    formulas, credit codes kept as text: :mod:`projections.csv_cells`)."""
    if lang not in LEDGER_CSV_LANGS:
        raise ValueError(f"lang must be one of {LEDGER_CSV_LANGS}, not {lang!r}")
    t, p = LIVE["rm_ledger_entries"], LIVE["rm_platforms"]
    stmt = (sa.select(t, p.c.name).join_from(t, p, p.c.id == t.c.platform_id, isouter=True)
            .order_by(t.c.business_date, t.c.position))
    if fiscal_year is not None:
        stmt = stmt.where(t.c.fiscal_year == int(fiscal_year))
    out = io.StringIO()
    out.write("\ufeff")
    w = SpreadsheetCsvWriter(out)
    english = lang == "en"
    w.writerow([en if english else zh for zh, en in LEDGER_CSV_COLUMNS])
    sums = dict.fromkeys(LEDGER_KINDS, 0)
    for r in conn.execute(stmt):
        sums[r.kind] += r.amount_fen
        amounts = [Decimal(fen_to_money(r.amount_fen)) if kind == r.kind else None for kind in LEDGER_KINDS]
        w.writerow([_iso(_as_date(r.business_date)), r.fiscal_year, r.kind if english else KIND_NAMES[r.kind],
                    r.platform_id, r.name or r.platform_id, r.host_name, Text(r.host_credit_code), *amounts,
                    r.document_ref or NO_DOCUMENT[lang], r.position, r.event_type])
    w.writerow([TOTAL[lang], None, None, None, None, None, None,
                *(Decimal(fen_to_money(sums[kind])) for kind in LEDGER_KINDS), None, None, None])
    return out.getvalue()


# ---------------------------------------------------------------------- ledger by fiscal year 分年度资金台账
@dataclass(frozen=True)
class YearBalance:
    """One platform's (or a total's) outstanding commitments over one fiscal year, in fen.

    The balance is of *outstanding commitments* (未拨付承诺余额): money the bureau committed at
    approval (Art. 8(5)) that is neither released (a platform withdrawn, rescinded, terminated
    or revoked after approval: Art. 8, 9, 13) nor disbursed yet (Art. 9(3)).
    ``closing = opening + commitments − releases − disbursements``, and a year's opening is the
    previous year's closing (0 before the first entry). Recoveries (追回, Art. 13) are money a
    host unit returned after a disbursement: reported beside, they change no commitment.
    """

    opening: int
    commitments: int = 0
    releases: int = 0
    disbursements: int = 0
    recoveries: int = 0

    @property
    def closing(self) -> int:
        return self.opening + self.commitments - self.releases - self.disbursements

    def plus(self, other: YearBalance) -> YearBalance:
        return YearBalance(self.opening + other.opening, self.commitments + other.commitments,
                           self.releases + other.releases, self.disbursements + other.disbursements,
                           self.recoveries + other.recoveries)

    def yuan(self) -> dict[str, Decimal]:
        """The six figures as ``Decimal`` yuan with two places."""
        return {"opening_balance": _yuan(self.opening), "commitments": _yuan(self.commitments),
                "releases": _yuan(self.releases), "disbursements": _yuan(self.disbursements),
                "recoveries": _yuan(self.recoveries), "closing_balance": _yuan(self.closing)}


@dataclass(frozen=True)
class PlatformYear:
    """A platform's line in a fiscal year: who it is, and its :class:`YearBalance`."""

    platform_id: str
    name: str
    host_name: str
    host_credit_code: str
    balance: YearBalance


@dataclass(frozen=True)
class FiscalYear:
    year: int
    platforms: list[PlatformYear]
    totals: YearBalance


@dataclass(frozen=True)
class LedgerByYear:
    years: list[FiscalYear]

    @property
    def totals(self) -> YearBalance:
        return over_years([y.totals for y in self.years])


def over_years(years: list[YearBalance]) -> YearBalance:
    """Consecutive years' totals as one: the first year's opening, every year's flows, so that
    its closing is the last year's (0 for no year)."""
    if not years:
        return YearBalance(0)
    flows = YearBalance(0)
    for y in years:
        flows = flows.plus(y)
    return YearBalance(years[0].opening, flows.commitments, flows.releases, flows.disbursements, flows.recoveries)


def _yuan(fen: int) -> Decimal:
    return (Decimal(int(fen)) / 100).quantize(FEN)


def ledger_years(conn: Any, fiscal_year: int | None = None) -> list[tuple[int, YearBalance]]:
    """The compact summary of the ledger by fiscal year: each year's totals (:class:`YearBalance`
    over every platform), from the ledger's first year to its last (or to ``fiscal_year`` when
    later; from it when earlier), summed by the database per year and kind (a handful of rows,
    whatever the size of the ledger). Each year's opening is the year before's closing."""
    t = LIVE["rm_ledger_entries"]
    sums: dict[int, dict[str, int]] = {}
    for year, kind, fen in conn.execute(sa.select(t.c.fiscal_year, t.c.kind, sa.func.sum(t.c.amount_fen))
                                        .group_by(t.c.fiscal_year, t.c.kind)):
        sums.setdefault(int(year), {})[kind] = int(fen)
    if not sums:
        return [(fiscal_year, YearBalance(0))] if fiscal_year is not None else []
    first, last = min(sums), max(sums)
    if fiscal_year is not None:
        first, last = min(first, fiscal_year), max(last, fiscal_year)
    years, opening = [], 0
    for year in range(first, last + 1):
        s = sums.get(year, {})
        balance = YearBalance(opening, s.get("commitment", 0), s.get("release", 0), s.get("disbursement", 0),
                              s.get("recovery", 0))
        years.append((year, balance))
        opening = balance.closing
    return years


def ledger_year_lines(conn: Any, year: int, offset: int = 0,
                      limit: int | None = None) -> tuple[list[PlatformYear], int]:
    """The platforms' lines of one fiscal ``year`` (a platform has one when it has an opening
    balance or an entry in the year), in the order platforms entered the ledger (their first
    entry's business date, then its position), ``limit`` of them from ``offset``; and how many
    there are in all. The database sums each platform's entries before the year (its opening)
    and in it, so a page costs one grouped scan of the entries up to the year and the page's rows."""
    t, p = LIVE["rm_ledger_entries"], LIVE["rm_platforms"]
    this, before = t.c.fiscal_year == year, t.c.fiscal_year < year
    # Outstanding commitments move with commitments (+), releases and disbursements (−);
    # recoveries are reported beside (YearBalance).
    signed = sa.case((t.c.kind == "commitment", t.c.amount_fen), (t.c.kind == "recovery", 0),
                     else_=-t.c.amount_fen)
    opening = sa.func.sum(sa.case((before, signed), else_=0))

    def flow(kind: str) -> Any:
        return sa.func.sum(sa.case((sa.and_(this, t.c.kind == kind), t.c.amount_fen), else_=0))

    grouped = (sa.select(t.c.platform_id, opening.label("opening"), flow("commitment").label("commitments"),
                         flow("release").label("releases"), flow("disbursement").label("disbursements"),
                         flow("recovery").label("recoveries"), sa.func.min(t.c.business_date).label("first_date"),
                         sa.func.min(t.c.position).label("first_position"))
               .where(t.c.fiscal_year <= year).group_by(t.c.platform_id)
               .having(sa.or_(opening != 0, sa.func.sum(sa.case((this, 1), else_=0)) > 0))
               .subquery("grouped"))
    # The page is cut before the platforms' names are joined, so only its rows are looked up;
    # the count is taken over every line before the cut.
    page = (sa.select(grouped, sa.func.count().over().label("total"))
            .order_by(grouped.c.first_date, grouped.c.first_position).offset(offset))
    if limit is not None:
        page = page.limit(limit)
    cut = page.subquery("page")
    rows = conn.execute(sa.select(cut, p.c.name, p.c.host_name, p.c.host_credit_code)
                        .join_from(cut, p, p.c.id == cut.c.platform_id, isouter=True)
                        .order_by(cut.c.first_date, cut.c.first_position)).all()
    if not rows:
        # Past the last page, the count still says how many there are.
        total = conn.execute(sa.select(sa.func.count()).select_from(grouped)).scalar_one() if offset else 0
        return [], int(total)
    # Who each platform is: its read model now; else (the platforms model rebuilding) the
    # platform's id as its name and its latest ledger entry's host unit.
    missing = [r.platform_id for r in rows if r.name is None]
    fallback: dict[str, tuple[str, str, str]] = {}
    if missing:
        for r in conn.execute(sa.select(t.c.platform_id, t.c.host_name, t.c.host_credit_code)
                              .where(t.c.platform_id.in_(missing)).order_by(t.c.position)):
            fallback[r.platform_id] = (r.platform_id, r.host_name, r.host_credit_code)  # the latest entry wins
    found = []
    for r in rows:
        name, host_name, host_code = fallback.get(r.platform_id) or (r.name, r.host_name, r.host_credit_code)
        found.append(PlatformYear(r.platform_id, name, host_name, host_code,
                                  YearBalance(int(r.opening), int(r.commitments), int(r.releases),
                                              int(r.disbursements), int(r.recoveries))))
    return found, int(rows[0].total)


def ledger_by_year(conn: Any, fiscal_year: int | None = None) -> LedgerByYear:
    """The funding ledger as balances per fiscal year (财政年度, the calendar year of an entry's
    business date) and platform (:class:`YearBalance` says what the balance is), every line.

    Every year from the ledger's first to its last is shown, a year without entries too, so
    that each opening is the year before's closing; with ``fiscal_year``, that year only (its
    opening from every earlier entry). A platform appears in a year when it has an opening
    balance or an entry in it, in the order platforms entered the ledger (their first entry's
    business date), with its name and host unit as they stand now (:func:`ledger_year_lines`).
    Sums are exact (integer fen) and reconcile with :func:`funding_ledger`'s totals; each
    year's totals are :func:`ledger_years`' and equal the sum of its lines."""
    return LedgerByYear([FiscalYear(year, ledger_year_lines(conn, year)[0], totals)
                         for year, totals in ledger_years(conn, fiscal_year)
                         if fiscal_year is None or year == fiscal_year])


def _balance_json(b: YearBalance) -> dict[str, str]:
    return {k: str(v) for k, v in b.yuan().items()}


def funding_ledger_by_year(conn: Any, fiscal_year: int | None = None) -> dict[str, Any]:
    """``GET /funding-ledger/by-year``: :func:`ledger_by_year` as JSON, money as two-place
    decimal strings."""
    report = ledger_by_year(conn, fiscal_year)
    return {
        "fiscal_years": [{
            "fiscal_year": y.year,
            "platforms": [{"platform_id": line.platform_id, "name": line.name,
                           "host_unit": {"name": line.host_name, "credit_code": line.host_credit_code},
                           **_balance_json(line.balance)} for line in y.platforms],
            "totals": _balance_json(y.totals),
        } for y in report.years],
        "totals": _balance_json(report.totals),
    }


BY_YEAR_HEADER = ("财政年度", "平台编号", "平台名称", "依托单位", "统一社会信用代码", "年初承诺余额", "本年承诺",
                  "本年释放", "本年拨付", "本年追回", "年末承诺余额")


def _by_year_table(report: LedgerByYear) -> tuple[list[list[Any]], list[Any]]:
    """The export's rows (year by year, platforms in ledger order) and its totals row (合计)."""
    rows = [[y.year, line.platform_id, line.name, line.host_name, Text(line.host_credit_code),
             *line.balance.yuan().values()] for y in report.years for line in y.platforms]
    return rows, ["合计", None, None, None, None, *report.totals.yuan().values()]


def ledger_by_year_csv(conn: Any, fiscal_year: int | None = None) -> str:
    """``GET /funding-ledger/by-year.csv``: :func:`ledger_by_year` as CSV, as
    :func:`ledger_csv` writes (BOM, CRLF, plain two-place amounts, text cells neutralised),
    with Chinese headers and a totals row (合计: the first year's opening, the flows summed,
    the last year's closing)."""
    out = io.StringIO()
    out.write("\ufeff")
    w = SpreadsheetCsvWriter(out)
    rows, totals = _by_year_table(ledger_by_year(conn, fiscal_year))
    for row in (BY_YEAR_HEADER, *rows, totals):
        w.writerow(row)
    return out.getvalue()


def ledger_by_year_xlsx(conn: Any, fiscal_year: int | None = None) -> bytes:
    """``GET /funding-ledger/by-year.xlsx``: the same table as :func:`ledger_by_year_csv` in a
    workbook: amounts are numeric cells with the ``0.00`` format, text cells are neutralised
    against formulas (:mod:`projections.xlsx_cells`)."""
    rows, totals = _by_year_table(ledger_by_year(conn, fiscal_year))
    return spreadsheet_xlsx("资金台账（分年度）", BY_YEAR_HEADER, rows, totals)


# ---------------------------------------------------------------------- deadlines 期限
def deadlines(
    conn: Any, today: date, calendar: WorkingDayCalendar | None = None, policies: PolicyRegistry | None = None,
) -> dict[str, Any]:
    """``GET /deadlines``: open deadlines — a publicity window's end (Art. 8(6)) while the
    platform is in publicity, the acceptance application's due date (Art. 9(1)) while it is
    under construction — with ``overdue`` when ``today`` (Asia/Shanghai) is past the due date.
    A due date in a year whose schedule is not loaded is ``null`` with ``pending: true``."""
    calendar = calendar or _default_calendar()
    policies = policies or _default_policies()
    t = LIVE["rm_deadlines"]
    items = []
    for r in conn.execute(sa.select(t).order_by(t.c.due_date, t.c.platform_id, t.c.kind)):
        due = _as_date(r.due_date)
        basis = _as_day(r.basis_date)
        if due is None:
            try:
                policy = policies.get(r.policy_ref)
                if r.kind == "publicity_end":
                    due = calendar.publicity_window(basis, policy.publicity_working_days,
                                                    policy.publicity_start_day_counts)[1]
                else:
                    due = calendar.acceptance_deadline(basis, policy.acceptance_window_months)
            except CalendarNotLoaded:
                due = None
        items.append({
            "kind": r.kind, "platform_id": r.platform_id, "platform_name": r.name,
            "host_unit": r.host_name, "basis_date": _iso(basis), "due_date": _iso(due),
            "pending": due is None, "overdue": due is not None and today > due,
            "missed_on": _iso(_as_date(r.missed_on)), "late_admitted_on": _iso(_as_date(r.late_admitted_on)),
        })
    items.sort(key=lambda i: (i["due_date"] is None, i["due_date"] or "", i["platform_id"], i["kind"]))
    return {"items": items}


def missed_acceptance_deadlines(
    conn: Any, today: date, calendar: WorkingDayCalendar, policies: PolicyRegistry,
) -> list[str]:
    """The platforms under construction whose acceptance application deadline (Art. 9(1)) was
    before ``today`` with no miss recorded yet: the deadline watch's work list. A deadline in a
    year whose schedule is not loaded is left out: pending, never guessed."""
    t = LIVE["rm_deadlines"]
    stmt = (sa.select(t.c.platform_id, t.c.due_date, t.c.basis_date, t.c.policy_ref)
            .where(t.c.kind == "acceptance_due", t.c.missed_on.is_(None),
                   sa.or_(t.c.due_date < today, t.c.due_date.is_(None)))
            .order_by(t.c.platform_id))
    found = []
    for r in conn.execute(stmt):
        due = _as_date(r.due_date)
        if due is None:
            try:
                due = calendar.acceptance_deadline(_as_day(r.basis_date),
                                                   policies.get(r.policy_ref).acceptance_window_months)
            except CalendarNotLoaded:
                continue
        if due < today:
            found.append(str(r.platform_id))
    return found


__all__ = ["list_platforms", "get_platform", "publicity_list", "publicity_overview", "find_batch", "page_of",
           "encode_cursor", "decode_cursor", "STATE_ORDER", "subfield_registry", "funding_ledger",
           "ledger_csv", "ledger_totals_fen", "ledger_by_year", "funding_ledger_by_year", "ledger_by_year_csv",
           "ledger_by_year_xlsx", "ledger_years", "ledger_year_lines", "over_years", "YearBalance", "LedgerByYear",
           "LEDGER_CSV_LANGS", "deadlines", "missed_acceptance_deadlines", "InvalidCursor", "fen_to_money"]
