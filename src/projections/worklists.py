"""What awaits each role now (待办), read from the read models for the staff workbench's inbox.

Plain queries over ``rm_platforms``, ``rm_platform_objections`` and ``rm_deadlines``: no aggregate
is loaded. Each item names the platform, the step it waits for, since when (the business date
it entered its current stage), and its deadline where the regulation sets one (the publicity
window's end, Art. 8(6); the acceptance application's due date, Art. 9(1)), oldest first.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import sqlalchemy as sa

from aggregates.calendar import WorkingDayCalendar
from aggregates.credit_code import normalise_credit_code
from aggregates.policy import PolicyRegistry

from .queries import deadlines as open_deadlines
from .tables import LIVE


def _since(summary: dict[str, Any]) -> str | None:
    """The business date the platform entered its current stage."""
    value = summary.get("stage_dates", {}).get(summary.get("status"))
    return str(value) if value else None


def _item(row: Any, summary: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"platform_id": row.id, "name": row.name, "subfield": row.subfield, "host_unit": row.host_name,
            "host_credit_code": row.host_credit_code, "status": row.status, "since": _since(summary),
            "deadline": None, **extra}


def _oldest_first(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda i: (i["since"] is None, i["since"] or "", i["seq"]))


def in_status(conn: Any, *statuses: str, host_credit_code: str | None = None) -> list[dict[str, Any]]:
    """Platforms whose current status is one of ``statuses``, oldest in that stage first."""
    t = LIVE["rm_platforms"]
    stmt = sa.select(t.c.id, t.c.seq, t.c.name, t.c.subfield, t.c.host_credit_code, t.c.host_name, t.c.status,
                     t.c.summary).where(t.c.status.in_(statuses))
    if host_credit_code:
        stmt = stmt.where(t.c.host_credit_code == normalise_credit_code(host_credit_code))
    return _oldest_first([_item(r, json.loads(r.summary), seq=r.seq) for r in conn.execute(stmt)])


def to_score(conn: Any, expert_id: str, affiliation: str | None) -> list[dict[str, Any]]:
    """Art. 8(3): the applications open for scoring (``accepted``) that this expert has not
    scored yet, without those where the expert's unit is the host unit or a co-builder: the
    expert must recuse (回避) from them, exactly as ``Platform.score`` refuses them. An expert
    with no recorded affiliation is shown every open application (the page says so)."""
    t = LIVE["rm_platforms"]
    mine = normalise_credit_code(affiliation) if affiliation else None
    items = []
    for r in conn.execute(sa.select(t.c.id, t.c.seq, t.c.name, t.c.subfield, t.c.host_credit_code, t.c.host_name,
                                    t.c.status, t.c.summary, t.c.co_builder_codes, t.c.scored_by)
                          .where(t.c.status == "accepted")):
        if expert_id in json.loads(r.scored_by):
            continue
        if mine is not None and (mine == r.host_credit_code or mine in json.loads(r.co_builder_codes)):
            continue
        items.append(_item(r, json.loads(r.summary), seq=r.seq))
    return _oldest_first(items)


def objections_to_resolve(conn: Any) -> list[dict[str, Any]]:
    """Art. 8(6): admissible objections without an outcome, oldest received first."""
    t, o = LIVE["rm_platforms"], LIVE["rm_platform_objections"]
    stmt = (sa.select(t.c.id, t.c.seq, t.c.name, t.c.subfield, t.c.host_credit_code, t.c.host_name, t.c.status,
                      o.c.objection_no, o.c.received_on)
            .join(o, o.c.platform_id == t.c.id)
            .where(o.c.admissible.is_(True), o.c.outcome.is_(None))
            .order_by(o.c.received_on, t.c.seq, o.c.objection_no))
    return [{"platform_id": r.id, "name": r.name, "subfield": r.subfield, "host_unit": r.host_name,
             "host_credit_code": r.host_credit_code, "status": r.status, "objection_no": r.objection_no,
             "since": str(r.received_on), "deadline": None, "seq": r.seq} for r in conn.execute(stmt)]


def changes_to_decide(conn: Any) -> list[dict[str, Any]]:
    """Art. 11: reported major changes the bureau has not decided, oldest reported first. The
    summary is only parsed for platforms whose text holds an undecided change."""
    t = LIVE["rm_platforms"]
    items = []
    stmt = (sa.select(t.c.id, t.c.seq, t.c.name, t.c.subfield, t.c.host_credit_code, t.c.host_name, t.c.status,
                      t.c.summary).where(t.c.summary.contains('"decision":null')))
    for r in conn.execute(stmt):
        summary = json.loads(r.summary)
        for change in summary.get("major_changes") or []:
            if change.get("decision") is None:
                items.append(_item(r, summary, seq=r.seq, change_id=change["change_id"], since=change["reported_on"]))
    return _oldest_first(items)


def due(conn: Any, today: date, calendar: WorkingDayCalendar, policies: PolicyRegistry) -> list[dict[str, Any]]:
    """The open deadlines as ``GET /deadlines`` computes them, earliest due first."""
    return open_deadlines(conn, today=today, calendar=calendar, policies=policies)["items"]


def recently_recorded(conn: Any, limit: int = 20) -> list[dict[str, Any]]:
    """The platforms with the latest events, newest first: the auditor's pointers into the log."""
    t = LIVE["rm_platforms"]
    rows = conn.execute(sa.select(t.c.id, t.c.name, t.c.host_name, t.c.status, t.c.version, t.c.position)
                        .order_by(t.c.position.desc()).limit(limit))
    return [{"platform_id": r.id, "name": r.name, "host_unit": r.host_name, "status": r.status,
             "version": r.version, "position": r.position} for r in rows]


__all__ = ["in_status", "to_score", "objections_to_resolve", "changes_to_decide", "due", "recently_recorded"]
