"""Each role's inbox (待办) on the staff workbench: what awaits the person signed in now, in
sections, each oldest first with its deadline, from the read models (:mod:`projections.worklists`).

| role | sections |
|---|---|
| service agency | applications to receive (Art. 8(2)), acceptance applications to review (Art. 9(2)) |
| expert | applications to score, without those of the expert's own unit (Art. 8(3) recusal) |
| bureau | inspections (8(4)), approvals (8(5)), objections (8(6)), closed publicity windows awaiting |
| | the notice (8(7)), task books (8(7)), major changes (11), recognitions (9(3)), overdue deadlines |
| finance | recognitions awaiting the grant (Art. 9(3)) |
| applicant | its own platforms' acceptance applications due (Art. 9(1)), and its platforms |
| auditor | the platforms with the latest events, pointers into the log |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from aggregates.values import Role
from projections import worklists

from .auth import Principal
from .bootstrap import Container


@dataclass
class Section:
    """One list of the inbox: a title, the article behind it, and its items."""

    key: str
    title: str
    article: str
    items: list[dict[str, Any]]
    note: str = ""
    act: str = ""  # the workbench form (api.staff_forms) each item awaits
    columns: tuple[str, ...] = field(default=("since", "deadline"))


def _with_deadlines(items: list[dict[str, Any]], due: dict[tuple[str, str], dict[str, Any]],
                    kind: str) -> list[dict[str, Any]]:
    for item in items:
        d = due.get((item["platform_id"], kind))
        if d is not None:
            item["deadline"] = d["due_date"]
            item["deadline_pending"] = d["pending"]
            item["overdue"] = d["overdue"]
    return items


def inbox(c: Container, who: Principal, today: date) -> list[Section]:
    """The sections of ``who``'s inbox on ``today`` (Asia/Shanghai)."""
    with c.engine.connect() as conn:
        due_items = worklists.due(conn, today, c.app.calendar, c.app.policies)
        due = {(d["platform_id"], d["kind"]): d for d in due_items}
        role = who.role
        if role is Role.SERVICE_AGENCY:
            return [
                Section("applied", "待受理的申请（形式审查）", "第八条（二）", worklists.in_status(conn, "applied"),
                        act="intake"),
                Section("acceptance_applied", "待组织验收评审的验收申请", "第九条（二）",
                        worklists.in_status(conn, "acceptance_applied"), act="acceptance-review"),
            ]
        if role is Role.EXPERT:
            note = "" if who.credit_code else (
                "您的账号没有登记所在单位（统一社会信用代码），系统无法替您排除需要回避的申请：下列申请中可能有您所在单位"
                "作为依托单位或共建单位的，评分时将被拒绝。请联系市科技局补登所在单位。")
            return [Section("to_score", "待评分的申请", "第八条（三）",
                            worklists.to_score(conn, who.actor_id, who.credit_code), note=note, act="scores")]
        if role is Role.BUREAU:
            in_publicity = _with_deadlines(worklists.in_status(conn, "in_publicity"), due, "publicity_end")
            closed = [i for i in in_publicity if i.get("deadline") and i["deadline"] < today.isoformat()]
            overdue = [{"platform_id": d["platform_id"], "name": d["platform_name"], "host_unit": d["host_unit"],
                        "since": d["basis_date"], "deadline": d["due_date"], "overdue": True, "kind": d["kind"],
                        "missed_on": d["missed_on"], "late_admitted_on": d["late_admitted_on"]}
                       for d in due_items if d["overdue"] and d["kind"] == "acceptance_due"]
            return [
                Section("reviewed", "待实地考察", "第八条（四）", worklists.in_status(conn, "reviewed"),
                        act="inspection"),
                Section("inspected", "待审定", "第八条（五）", worklists.in_status(conn, "inspected"),
                        act="approval"),
                Section("objections", "待处理的异议", "第八条（六）", worklists.objections_to_resolve(conn),
                        act="resolution"),
                Section("notices", "公示期已结束、待联合行文下达", "第八条（七）", closed,
                        note="有未处理的有效异议的平台，须先处理异议，方可下达。", act="notice"),
                Section("notified", "待签订建设任务书", "第八条（七）", worklists.in_status(conn, "notified"),
                        act="task-book"),
                Section("changes", "待决定的重大变更", "第十一条", worklists.changes_to_decide(conn),
                        act="change-decision"),
                Section("qualified", "验收合格、待认定授牌", "第九条（三）", worklists.in_status(conn, "qualified"),
                        act="recognition"),
                Section("overdue", "已逾期的验收申请期限", "第九条（一）", overdue,
                        note="逾期未申请验收的平台，由市科技局决定终止建设或准予逾期申请。", act="late-acceptance"),
            ]
        if role is Role.FINANCE:
            return [Section("recognized", "已认定、待拨付资金", "第九条（三）",
                            worklists.in_status(conn, "recognized"), act="funding")]
        if role is Role.APPLICANT:
            own = worklists.in_status(conn, "under_construction", host_credit_code=who.credit_code)
            return [Section("acceptance_due", "本单位待申请验收的平台", "第九条（一）",
                            _with_deadlines(own, due, "acceptance_due"), act="acceptance-application")]
        if role is Role.AUDITOR:
            return [Section("recent", "最近有新记录的平台", "", worklists.recently_recorded(conn),
                            columns=("position", "version"))]
    return []


__all__ = ["Section", "inbox"]
