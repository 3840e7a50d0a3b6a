"""The staff workbench (工作台) at ``/staff/``: sign in and out, each role's inbox, and a
platform's dossier with its timeline. Server-rendered (Jinja2, no script), like the public page.

Sign-in uses the API's accounts and roles and its throttling (:func:`api.sign_in.sign_in`, the
procedure behind ``POST /api/v1/auth/token``); the session is a signed cookie
(:mod:`api.staff_session`) that ends as soon as the account is disabled or its password changes.
Every form (sign-in, sign-out) carries the public page's CSRF token (:mod:`api.page_security`).
Pages are never cached and carry the public page's security headers.

The forms of every act (办理) are :mod:`api.routes_staff_forms`'s.

Routes: ``GET /staff/login``, ``POST /staff/login``, ``POST /staff/logout``, ``GET /staff/``
(the inbox), ``GET /staff/platforms/{id}`` (``?as_of_date=`` or ``?as_of_version=``: the
bureau's and the auditors' earlier states).
"""

from __future__ import annotations

import logging
import math
import re
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from aggregates.clock import today_in_shanghai
from aggregates.errors import InvalidInput, NotFound

from .auth import Principal
from .bootstrap import Container
from .deps import get_container
from .page_security import CSRF_FIELD, CsrfError, client_address, csrf_for, secure_headers
from .routes_page import cn_date, templates
from .sign_in import sign_in
from .staff_dossier import SUMMARY_READERS, Hidden, Refused, dossier
from .staff_forms import acts_for
from .staff_inbox import inbox
from .staff_session import SESSION_COOKIE, current_member, sessions_for

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)
Wired = Annotated[Container, Depends(get_container)]

ROLE_CN = {"applicant": "依托单位", "service_agency": "科技服务机构", "expert": "评审专家", "bureau": "市科技局",
           "finance": "市财政局", "auditor": "审计", "public": "社会公众", "system": "系统"}
OUTCOME_CN = {"upheld": "异议成立", "dismissed": "异议不成立", None: "待处理"}
# The record's field names as the page labels them; a field not listed shows its own name.
FIELD_CN = {
    "party_group_meeting_ref": "党组会议纪要", "vice_mayor_approval_ref": "分管副市长审批",
    "funding_plan_ref": "资金计划",
    "funding_amount": "资金金额（元）", "summary": "申请摘要", "early": "提前申请", "applied_on": "申请日期",
    "late_admitted": "准予逾期", "panel": "验收专家组", "indicator_results": "指标完成情况",
    "funds_use_compliant": "资金使用合规", "conclusion": "验收结论", "reviewed_on": "评审日期",
    "task_book_version": "依据任务书版本", "justification": "理由说明", "document_ref": "文号", "plaque_no": "牌匾编号",
    "recognized_on": "认定日期", "kind": "变更类型", "description": "变更说明", "new_value": "变更后内容",
    "reported_on": "报告日期", "decision": "决定", "reasons": "理由", "decided_on": "决定日期", "change_id": "编号",
    "subfield_exception": "细分领域例外情形", "admitted_on": "准予日期", "name": "名称", "target": "目标",
    "achieved": "是否完成", "actual": "实际完成",
}
VALUE_CN = {"qualified": "合格", "unqualified": "不合格", "approved": "批准", "rejected": "不予批准",
            "trimmed_mean": "去掉一个最高分和一个最低分后的平均分", "mean": "平均分"}
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
STAGE_CN = {"applied": "申请", "accepted": "受理", "reviewed": "评审完成", "inspected": "实地考察",
            "approved": "审定", "in_publicity": "公示", "notified": "行文下达", "under_construction": "签订任务书",
            "acceptance_applied": "申请验收", "qualified": "验收合格", "recognized": "认定授牌",
            "funded": "拨付资金", "not_accepted": "不予受理", "rejected": "未通过", "terminated": "终止",
            "withdrawn": "撤回", "revoked": "撤销认定"}
HOME = "/staff/"
LOGIN = "/staff/login"

templates.env.filters["role_cn"] = lambda r: ROLE_CN.get(str(r), str(r))
templates.env.filters["outcome_cn"] = lambda o: OUTCOME_CN.get(o, str(o))
templates.env.filters["field_cn"] = lambda k: FIELD_CN.get(str(k), str(k))
templates.env.filters["value_cn"] = lambda v: (
    cn_date(v) if isinstance(v, str) and ISO_DATE.fullmatch(v) else VALUE_CN.get(v, v) if isinstance(v, str) else v)
templates.env.filters["stage_cn"] = lambda k: STAGE_CN.get(str(k), str(k))


# ------------------------------------------------------------------------- rendering
def render(request: Request, template: str, context: dict[str, Any], status: int = 200,
           who: Principal | None = None, headers: dict[str, str] | None = None) -> HTMLResponse:
    """A workbench page: never cached, the public page's headers, a CSRF token for its forms
    (sign-in, sign-out), and who is signed in."""
    csrf = csrf_for(request)
    nonce, new = csrf.nonce_of(request)
    base = {"who": who, "today": today_in_shanghai(), "path": request.url.path, "csrf_field": CSRF_FIELD,
            "csrf_token": csrf.token(nonce)}
    base.update(context)
    response = templates.TemplateResponse(request, template, base, status_code=status, headers=headers)
    if new:
        csrf.set_cookie(request, response, nonce)
    return secure_headers(response, no_store=True)  # type: ignore[return-value]


def message(request: Request, status: int, title: str, paragraphs: list[str], who: Principal | None = None,
            links: list[tuple[str, str]] | None = None, headers: dict[str, str] | None = None) -> HTMLResponse:
    links = links if links is not None else ([(HOME, "返回待办事项")] if who else [(LOGIN, "登录")])
    return render(request, "staff/message.html", {"title": title, "paragraphs": paragraphs, "links": links,
                                                  "status": status}, status, who, headers)


def forbidden(request: Request, who: Principal, reason: str) -> HTMLResponse:
    return message(request, 403, "无权访问", [
        reason, f"您当前以“{ROLE_CN.get(who.role.value, who.role.value)}”身份登录（{who.actor_id}）。"
        "如需办理，请联系有相应权限的人员。"], who)


def to_login(request: Request) -> Response:
    """Not signed in (or the session ended): to the sign-in page; a session the account no
    longer accepts is cleared and the page says why."""
    target = LOGIN + ("?ended=1" if request.cookies.get(SESSION_COOKIE) else "")
    response = RedirectResponse(target, status_code=303)
    sessions_for(request).clear_cookie(request, response)
    return secure_headers(response, no_store=True)


def refused_csrf(request: Request, exc: CsrfError, who: Principal | None = None) -> HTMLResponse:
    log.info("workbench form refused: %s", exc.reason)
    return message(request, 403, "无法提交：表单已过期或来源无法确认", [
        "为防止其他网站冒用您的身份，本表单需要由本系统签发的校验信息。这次提交缺少该信息，或表单已打开太久而过期，"
        "因此没有办理。", "请重新打开页面后再提交。如果浏览器禁用了 Cookie，请为本网站启用后再试。"], who)


# ------------------------------------------------------------------------- signing in and out
def _login_form(request: Request, username: str = "", error: str = "", status: int = 200,
                notice: str = "", headers: dict[str, str] | None = None) -> HTMLResponse:
    return render(request, "staff/login.html", {"username": username, "error": error, "notice": notice},
                  status, headers=headers)


@router.get("/staff/login", response_class=HTMLResponse)
def login_page(request: Request, ended: str = "", signed_out: str = "") -> Response:
    if current_member(request) is not None:
        return secure_headers(RedirectResponse(HOME, status_code=303), no_store=True)
    notice = ("您已安全退出。" if signed_out else
              "您的会话已结束（已过期、账号已停用或密码已更改），请重新登录。" if ended else "")
    return _login_form(request, notice=notice)


@router.post("/staff/login", response_class=HTMLResponse)
def login(request: Request, c: Wired, username: Annotated[str, Form()] = "",
          password: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "") -> Response:
    try:
        csrf_for(request).check(request, csrf_token)
    except CsrfError as exc:
        return refused_csrf(request, exc)
    username = username.strip()[:200]
    result = sign_in(c.users, c.throttle, username, password, client_address(request))
    if result.locked_for:
        minutes = max(1, math.ceil(result.locked_for / 60))
        return _login_form(request, username,
                           f"密码错误次数过多，该账号或本网络地址已被暂时锁定，请约 {minutes} 分钟后再试。", 429,
                           headers={"Retry-After": str(result.locked_for)})
    user = result.user
    if user is None:
        return _login_form(request, username, "用户名或密码不正确。", 401)
    response = RedirectResponse(HOME, status_code=303)
    sessions_for(request).set_cookie(request, response, user)
    log.info("workbench sign-in", extra={"username": user.username, "role": user.role.value})
    return secure_headers(response, no_store=True)


@router.post("/staff/logout", response_class=HTMLResponse)
def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
    try:
        csrf_for(request).check(request, csrf_token)
    except CsrfError as exc:
        return refused_csrf(request, exc, current_member(request))
    response = RedirectResponse(LOGIN + "?signed_out=1", status_code=303)
    sessions_for(request).clear_cookie(request, response)
    return secure_headers(response, no_store=True)


# ------------------------------------------------------------------------- pages
@router.get("/staff/", response_class=HTMLResponse)
def inbox_page(request: Request, c: Wired) -> Response:
    who = current_member(request)
    if who is None:
        return to_login(request)
    today = today_in_shanghai()
    return render(request, "staff/inbox.html", {"sections": inbox(c, who, today),
                                                "linkable": who.role in SUMMARY_READERS}, who=who)


@router.get("/staff", include_in_schema=False)
def staff_root() -> Response:
    return RedirectResponse(HOME, status_code=308)


def _as_of(as_of_date: str, as_of_version: str) -> tuple[date | None, int | None]:
    """The page's ``as_of_date`` and ``as_of_version`` (empty: not given); InvalidInput when
    malformed or both are given."""
    day = version = None
    if as_of_date:
        try:
            day = date.fromisoformat(as_of_date)
        except ValueError:
            raise InvalidInput("invalid_date", "日期格式应为 YYYY-MM-DD", "as_of_date") from None
    if as_of_version:
        if not re.fullmatch(r"[1-9][0-9]{0,8}", as_of_version):
            raise InvalidInput("invalid_version", "版本号应为正整数", "as_of_version")
        version = int(as_of_version)
    if day is not None and version is not None:
        raise InvalidInput("one_as_of", "日期与版本只能选其一", "as_of_date")
    return day, version


@router.get("/staff/platforms/{platform_id}", response_class=HTMLResponse)
def dossier_page(platform_id: str, request: Request, c: Wired, as_of_date: str = "",
                 as_of_version: str = "") -> Response:
    who = current_member(request)
    if who is None:
        return to_login(request)
    def not_found() -> HTMLResponse:
        return message(request, 404, "未找到该平台", ["您要查看的平台不存在，或您无权查阅。"], who)

    try:
        pid = UUID(platform_id)
    except ValueError:
        return not_found()
    try:
        day, version = _as_of(as_of_date.strip(), as_of_version.strip())
        view = dossier(c, pid, who, as_of_date=day, as_of_version=version)
    except Refused as exc:
        return forbidden(request, who, exc.reason)
    except Hidden:
        return not_found()
    except InvalidInput as exc:
        return message(request, 422, "查询条件有误", [exc.message], who,
                       [(f"/staff/platforms/{pid}", "返回平台档案")])
    except NotFound as exc:
        if exc.code in ("not_yet_recorded", "version_not_found"):
            return message(request, 404, "该时点尚无此平台的记录", [
                "所选日期早于该平台的申请日期，或所选版本超出其记录。"], who,
                [(f"/staff/platforms/{pid}", "返回平台档案")])
        return not_found()
    acts = [] if view["as_of"] else acts_for(who.role, on_platform=True)  # the forms of api.staff_forms
    return render(request, "staff/dossier.html", {"d": view, "p": view["summary"], "pid": str(pid), "acts": acts,
                                                  "as_of_date": as_of_date, "as_of_version": as_of_version},
                  who=who)


__all__ = ["router", "ROLE_CN"]
