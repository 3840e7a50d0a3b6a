"""A platform's dossier (平台档案) for the staff workbench: its summary, as ``GET
/platforms/{id}`` gives it (now, or as of an earlier business date or version, replayed by
:mod:`audit.timetravel`), and its timeline, as ``GET /platforms/{id}/history`` gives it
(:func:`api.history.history`).

Who reads what follows the API (docs/API.md, "Queries"; docs/DOMAIN.md, "Who reads what"): the
summary is the bureau's, the service agency's, finance's, the auditors' and the platform's own
applicant's (another applicant's only once publicized); the timeline and each expert's scores
are the auditors', the bureau's and the platform's own applicant's; earlier states are the
auditors' and the bureau's. Objectors' names and contacts are shown to the bureau only, which
verifies each objection; every other reader sees them withheld.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from aggregates.platform import Platform
from aggregates.values import Role
from audit import timetravel
from projections.views import jsonable, summarize

from .auth import Principal
from .bootstrap import Container
from .history import history

SUMMARY_READERS = frozenset({Role.BUREAU, Role.SERVICE_AGENCY, Role.FINANCE, Role.AUDITOR, Role.APPLICANT})
HISTORY_READERS = frozenset({Role.AUDITOR, Role.BUREAU, Role.APPLICANT})
TIME_TRAVELLERS = frozenset({Role.AUDITOR, Role.BUREAU})
IDENTITY_READERS = frozenset({Role.BUREAU})

# Each event in the regulation's words, with the article of 长科发〔2021〕36号 it carries out
# (docs/DOMAIN.md restates them): the task book is signed under Art. 8(7) (行文下达: "项目立项后…
# 签订建设任务书"), the acceptance conclusion (合格/不合格) is Art. 9(3)'s, the certificate Art. 7(1)'s.
EVENTS_CN: dict[str, tuple[str, str]] = {
    "Applied": ("提交申请", "第八条（一）"), "Accepted": ("形式审查通过，予以受理", "第八条（二）"),
    "NotAccepted": ("形式审查未通过，不予受理", "第八条（二）"), "Scored": ("专家评分", "第八条（三）"),
    "ReviewCompleted": ("专家评审完成", "第八条（三）"), "Inspected": ("实地考察", "第八条（四）"),
    "Approved": ("审定通过（含资金计划）", "第八条（五）"), "Publicized": ("列入公示批次", "第八条（六）"),
    "Objected": ("收到异议", "第八条（六）"), "ObjectionResolved": ("异议处理完毕", "第八条（六）"),
    "ApprovalRescinded": ("撤销审定", "第八条（六）"), "NoticeIssued": ("联合行文下达", "第八条（七）"),
    "TaskBookSigned": ("签订建设任务书", "第八条（七）"), "MajorChangeReported": ("报告重大变更", "第十一条"),
    "MajorChangeDecided": ("重大变更决定", "第十一条"), "AcceptanceApplied": ("申请验收", "第九条（一）"),
    "AcceptanceDeadlineMissed": ("逾期未申请验收", "第九条（一）"),
    "LateAcceptanceAdmitted": ("准予逾期申请验收", "第九条（一）"),
    "AcceptanceReviewed": ("验收评审", "第九条（二）（三）"),
    "AcceptedAsQualified": ("验收合格", "第九条（三）"), "Recognized": ("认定授牌", "第九条（三）"),
    "Funded": ("拨付资金", "第九条（三）"), "FundsRecovered": ("追回资金", "第十三条"),
    "HighTechCertificateRenewed": ("高新技术企业证书换发", "第七条（一）"), "Withdrawn": ("撤回申请", "第八条"),
    "Terminated": ("终止建设", "第九条"), "Revoked": ("撤销认定", "第十三条"),
}


class Refused(Exception):
    """The reader may not see this (a 403 page), with the reason in Chinese."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Hidden(Exception):
    """No such platform, or one this reader may not know of (a 404 page, as the API answers)."""


def may_read(who: Principal, platform: Platform) -> bool:
    """Whether ``who`` may read the platform's summary (applicants: see ``Platform.visible_to``)."""
    return who.role in SUMMARY_READERS and platform.visible_to(who.role, who.credit_code)


def reads_history(who: Principal, platform: Platform) -> bool:
    """Whether ``who`` reads the platform's timeline and each expert's scores."""
    if who.role is Role.APPLICANT:
        return platform.host_credit_code == who.credit_code
    return who.role in HISTORY_READERS


def dossier(c: Container, platform_id: UUID, who: Principal, as_of_date: date | None = None,
            as_of_version: int | None = None) -> dict[str, Any]:
    """Everything the dossier page shows ``who``; raises :class:`Hidden`, :class:`Refused`, or
    the domain's ``NotFound`` for an earlier state that never was."""
    if who.role not in SUMMARY_READERS:
        raise Refused("您的角色不查阅平台档案。")
    current = c.app.get_platform(platform_id)  # NotFound for an unknown id
    if not may_read(who, current):
        raise Hidden()
    travelling = as_of_date is not None or as_of_version is not None
    if travelling and who.role not in TIME_TRAVELLERS:
        raise Refused("查看平台过去某日或某一版本的状态，仅限市科技局和审计。")
    if as_of_version is not None:
        summary = timetravel.as_of_version(c.app, platform_id, as_of_version)
    elif as_of_date is not None:
        summary = timetravel.as_of_date(c.app, platform_id, as_of_date)
    else:
        summary = summarize(current)
    platform = current if summary["version"] == current.version else c.app.get_platform(
        platform_id, version=summary["version"])
    with_history = reads_history(who, current)
    identities = who.role in IDENTITY_READERS
    timeline = []
    if with_history:
        timeline = [_timeline_row(row) for row in history(c.app, platform_id, redact_objectors=not identities)
                    if row["sequence"] <= platform.version]
    return {
        "summary": summary,
        "co_builders": [dict(b) for b in platform.co_builders],
        "scores": _scores(platform) if with_history else None,
        "objections": _objections(platform, identities),
        "timeline": timeline,
        "with_history": with_history,
        "identities": identities,
        "time_travel": who.role in TIME_TRAVELLERS,
        "latest_version": current.version,
        "as_of": {"date": as_of_date, "version": as_of_version} if travelling else None,
    }


def _scores(platform: Platform) -> list[dict[str, Any]]:
    return [{"expert": expert, "total": str(s["total"]), "scored_on": s["scored_on"], "comment": s["comment"]}
            for expert, s in sorted(platform.scores.items(), key=lambda kv: (kv[1]["scored_on"], kv[0]))]


def _objections(platform: Platform, identities: bool) -> list[dict[str, Any]]:
    items = []
    for number in sorted(platform.objections, key=lambda k: (len(k), k)):
        o = platform.objections[number]
        line = {"objection_id": number, "received_on": o["received_on"], "admissible": bool(o["admissible"]),
                "outcome": o["outcome"], "after_notice": bool(o.get("after_notice"))}
        if identities:
            line.update(objector_name=o["objector_name"], contact=o["contact"], content=o["content"])
        items.append(line)
    return items


# A termination's article follows its ground (aggregates.values.TerminationGround); a ground of
# the city's project rules alone (a host unit's request, force majeure) and a termination stored
# before grounds were recorded keep Art. 9's, under which those rules apply.
TERMINATION_ARTICLES = {"acceptance_deadline_missed": "第九条（一）", "unqualified": "第九条（三）",
                        "task_book_not_signed": "第八条（七）", "conditions_lost": "第六条、第七条"}


def _timeline_row(row: dict[str, Any]) -> dict[str, Any]:
    label, article = EVENTS_CN.get(row["type"], (row["type"], ""))
    if row["type"] == "Terminated":
        article = TERMINATION_ARTICLES.get(str(row["data"].get("ground")), article)
    return {**row, "label": label, "article": article, "data": jsonable(row["data"])}


__all__ = ["dossier", "Refused", "Hidden", "EVENTS_CN", "may_read", "reads_history"]
