"""Platform summary (平台概要) as ``GET /platforms/{id}`` returns it (docs/API.md, "Queries").

:func:`summarize` turns a :class:`~aggregates.platform.Platform` into a JSON-ready dict: dates as
ISO strings, money as decimal strings with two places (fen), no floats. It depends on nothing but
the aggregate (no "today", no calendar), so the projection that stores it and a command response
built from a freshly saved aggregate give the same bytes; the API adds ``position`` itself.

The objectors' identities (异议人姓名、联系方式) and the content of their objections are never in
the summary: Art. 8(6) publicity is public, the objectors are not. They stay in the ``Objected``
events, which the bureau and the auditors read in the platform's history and the audit log; the
platform's own applicant reads its history with the name and contact withheld (docs/DOMAIN.md,
"Who reads what").
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from aggregates.platform import Platform

CENT = Decimal("0.01")


def money(amount: Decimal | int | str | None) -> str | None:
    """A yuan amount as a decimal string with two places (``"1000000.00"``)."""
    if amount is None:
        return None
    return str(Decimal(amount).quantize(CENT))


def jsonable(value: Any) -> Any:
    """Dates to ISO, Decimals to strings, UUIDs to strings, Enums to values, recursively."""
    if isinstance(value, (str, bool, int)) or value is None:
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return str(value)


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d is not None else None


def _by_numeric_id(items: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    # Ids are "1", "2", ... "10": sort as numbers so that objection 10 follows objection 9.
    return [items[k] for k in sorted(items, key=lambda k: (len(k), k))]


def host_unit_of(platform: Platform) -> dict[str, Any]:
    """The host unit (依托单位) as lists show it: its current name and credit code."""
    return {"name": platform.host_unit.get("name"), "credit_code": platform.host_unit.get("credit_code")}


def summarize(platform: Platform, objections: bool = True) -> dict[str, Any]:
    """The platform detail of ``GET /platforms/{id}`` (docs/API.md), deterministic and JSON-ready.
    ``objections=False`` leaves the objections list empty: the read model keeps them in rows of
    their own (:func:`objection_line`) and fills it in at query time."""
    p = platform
    review = None
    if p.review_result is not None:
        # 评审 Art. 8(3): the result, and the method and number of experts it was computed with.
        review = {"experts": p.review_experts, "result": money(p.review_result), "method": p.review_method}
    inspection = None
    if p.inspection is not None:
        inspection = {"passed": bool(p.inspection["passed"]), "findings": p.inspection["findings"],
                      "date": _iso(p.inspection["date"])}
    approval = dict(p.approval) if p.approval is not None else None
    publicity = None
    window = p.publicity_window
    if p.publicity is not None and window is not None:
        pub = p.publicity
        publicity = {
            "batch_id": str(pub["batch_id"]),
            "batch_ref": pub["batch_ref"],
            "media": pub["media"],
            "start_date": _iso(window.start_date),
            "first_day": _iso(window.first_day),
            # 公示截止日: null while the working-day schedule of its year is not loaded (pending).
            "end_date": _iso(window.last_day),
        }
    task_book = None
    tb = p.signed_task_book
    if tb is not None:
        task_book = {
            "task_book_ref": tb.task_book_ref,
            "indicators": jsonable(list(tb.indicators)),
            "period_start": _iso(tb.period_start),
            "period_end": _iso(tb.period_end),
            "acceptance_due": _iso(tb.acceptance_due),
            # Art. 9(1): why the period is not one year, when it is not; Art. 11: every version,
            # the current one last, each effective from its signature or its change's decision.
            "version": tb.version,
            "period_reason": tb.period_reason,
            "versions": [{"version": v.version, "indicators": jsonable(list(v.indicators)),
                          "effective_from": _iso(v.effective_from), "document_ref": v.document_ref,
                          "change_id": v.change_id} for v in tb.versions],
        }
    acceptance = None
    if p.acceptance is not None:
        acceptance = jsonable(p.acceptance)
        if "conclusion" in acceptance:
            # Art. 9(2)-(3): the version the review judged and the panel's justification; a
            # review recorded before either was kept judged version 1 and had none.
            acceptance.setdefault("task_book_version", 1)
            acceptance.setdefault("justification", None)
    return {
        "id": str(p.id),
        "name": p.name,
        "subfield": p.subfield,
        "host_unit": host_unit_of(p),
        "status": p.status,
        "version": p.version,
        "policy": p.policy_ref,
        "stage_dates": {k: _iso(v) for k, v in p.stage_dates.items()},
        "review": review,
        "inspection": inspection,
        "approval": approval,
        "publicity": publicity,
        "objections": [objection_line(o) for o in _by_numeric_id(p.objections)] if objections else [],
        # Art. 8(6): admissible objections recorded after the notice, for the bureau to resolve.
        "flagged_objections": p.flagged_objections,
        "notice_ref": p.notice_ref,
        "task_book": task_book,
        "major_changes": [jsonable(c) for c in _by_numeric_id(p.changes)],
        "principal": p.principal,
        "goals": p.goals,
        "budget": p.budget,
        "acceptance": acceptance,
        "recognition": jsonable(p.recognition) if p.recognition is not None else None,
        "funding": {
            "committed": money(p.committed),
            "disbursed": money(p.disbursed),
            "recovered": money(p.recovered),
        },
        "end_reason": p.end_reason,
        # Art. 9(1): the bureau's admission of a late acceptance application, and a termination's
        # ground and document (a termination recorded before grounds were has "not_recorded").
        "late_acceptance": jsonable(p.late_acceptance) if p.late_acceptance is not None else None,
        "termination": _termination(p),
        "deadlines": {
            "publicity_end": publicity["end_date"] if publicity else None,
            "acceptance_due": task_book["acceptance_due"] if task_book else None,
            # The overdue state: the day the missed deadline was recorded (the day after it).
            "acceptance_missed_on": _iso(p.acceptance_missed["missed_on"]) if p.acceptance_missed else None,
            "late_acceptance_admitted_on": _iso(p.late_acceptance["admitted_on"]) if p.late_acceptance else None,
        },
    }


def _termination(p: Platform) -> dict[str, Any] | None:
    if p.status != "terminated":
        return None
    record = p.termination or {}  # a snapshot from before grounds were recorded has none
    return {"ground": record.get("ground") or "not_recorded", "document_ref": record.get("document_ref"),
            "reasons": p.end_reason, "terminated_on": _iso(p.stage_dates.get("terminated"))}


def objection_line(objection: dict[str, Any]) -> dict[str, Any]:
    """One objection as the platform detail lists it: its number, date received, whether it
    was admissible and its outcome; never who objected or what they said."""
    return {"objection_id": objection["objection_id"], "received_on": _iso(objection["received_on"]),
            "admissible": bool(objection["admissible"]), "outcome": objection["outcome"]}


__all__ = ["summarize", "objection_line", "host_unit_of", "money", "jsonable"]
