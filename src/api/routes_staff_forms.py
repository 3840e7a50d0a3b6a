"""The workbench's forms (办理): ``GET`` shows an act's form, ``POST`` validates it, asks for a
confirmation when the act is irreversible, and records it through the API's own route
(:mod:`api.staff_forms`), then goes (303) to the platform's dossier.

Routes: ``GET /staff/acts/`` (the acts not on one platform the role may make: a paper
application, a publicity batch, a subfield), ``GET|POST /staff/acts/{act}``, and
``GET|POST /staff/platforms/{id}/acts/{act}``. Each rendered form carries the CSRF token and a
random ``Idempotency-Key`` of its own, so a double submit (or a double confirm) records once.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from aggregates.errors import DomainError, NotFound
from aggregates.values import Role

from .auth import Principal
from .bootstrap import Container
from .commands_support import check_owner
from .errors import ProblemException, status_of
from .page_security import CSRF_FIELD, CsrfError, csrf_for, secure_headers
from .problem_catalogue import problem_type
from .routes_page import templates
from .routes_staff import ROLE_CN, forbidden, message, render, to_login
from .staff_dossier import SUMMARY_READERS, may_read
from .staff_forms import ACTS, ActForm, FormErrors, Signer, acts_for, fields_of, label, parse, path_field
from .staff_session import current_member

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)
templates.env.filters["form_label"] = label
KEY_FIELD, SIGNED_FIELD, STEP_FIELD = "idempotency_key", "confirmed_values", "step"
_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


def _signer(request: Request) -> Signer:
    state = request.app.state
    signer = getattr(state, "staff_form_signer", None)
    if signer is None:
        settings = state.container.settings
        signer = state.staff_form_signer = Signer(settings.secret_key, settings.previous_secret_key)
    return signer


def _dossier(pid: UUID | str, who: Principal) -> str:
    return f"/staff/platforms/{pid}" if who.role in SUMMARY_READERS else "/staff/"


def _page(request: Request, who: Principal, act: ActForm, platform: Any, values: dict[str, str],
          errors: dict[str, str] | None = None, refusal: dict[str, Any] | None = None, status: int = 200,
          confirming: str | None = None) -> HTMLResponse:
    fields = fields_of(act.body)
    extra = path_field(act)
    if extra is not None:
        fields = [extra, *fields]
    return render(request, "staff/act.html", {
        "act": act, "fields": fields, "values": values, "errors": errors or {}, "refusal": refusal,
        "platform": platform, "action": request.url.path, "key": values.get(KEY_FIELD) or secrets.token_urlsafe(18),
        "key_field": KEY_FIELD, "signed_field": SIGNED_FIELD, "step_field": STEP_FIELD, "confirming": confirming,
        "back": _dossier(platform.id, who) if platform is not None else "/staff/acts/",
    }, status, who)


def _resolve(request: Request, c: Container, act_key: str, platform_id: str | None,
             ) -> tuple[Principal, ActForm, Any] | Response:
    """Who is signed in, the act and its platform, or the page that answers instead (sign in,
    404, 403)."""
    who = current_member(request)
    if who is None:
        return to_login(request)
    act = ACTS.get(act_key)
    if act is None or act.on_platform is (platform_id is None):
        return message(request, 404, "没有这项办理事项", ["您要打开的办理表单不存在。"], who)
    if who.role not in act.roles:
        allowed = "、".join(sorted(ROLE_CN[r.value] for r in act.roles))
        return forbidden(request, who, f"“{act.title}”仅限{allowed}办理。")
    if platform_id is None:
        return who, act, None
    def not_found() -> HTMLResponse:
        return message(request, 404, "未找到该平台", ["您要办理的平台不存在，或您无权查阅。"], who)

    try:
        platform = c.app.get_platform(UUID(platform_id))
        if who.role in SUMMARY_READERS and not may_read(who, platform):
            return not_found()
        check_owner(c, who, platform.id)
    except (ValueError, NotFound):
        return not_found()
    except ProblemException as exc:
        return forbidden(request, who, "依托单位只能办理本单位的平台。" if exc.status == 403 else exc.detail)
    if who.role is Role.EXPERT and who.credit_code and platform.conflicts_with(who.credit_code):
        # Art. 8(3): the form would show the application to an expert who must recuse, as the
        # inbox never does; the page names no platform.
        return forbidden(request, who, "按第八条（三），评审专家所在单位是申请的依托单位或共建单位的，应当回避，"
                                       "不能查阅或评审该申请。")
    return who, act, platform


@router.get("/staff/acts/", response_class=HTMLResponse)
def acts_menu(request: Request) -> Response:
    who = current_member(request)
    if who is None:
        return to_login(request)
    return render(request, "staff/acts.html", {"acts": acts_for(who.role, on_platform=False)}, who=who)


@router.get("/staff/acts/{act_key}", response_class=HTMLResponse)
def act_form(act_key: str, request: Request) -> Response:
    return _show(request, act_key, None)


@router.get("/staff/platforms/{platform_id}/acts/{act_key}", response_class=HTMLResponse)
def platform_act_form(platform_id: str, act_key: str, request: Request) -> Response:
    return _show(request, act_key, platform_id)


def _show(request: Request, act_key: str, platform_id: str | None) -> Response:
    resolved = _resolve(request, request.app.state.container, act_key, platform_id)
    if isinstance(resolved, Response):
        return resolved
    who, act, platform = resolved
    # Prefilled from the link (an objection's or a change's number, the batch's platforms).
    values = {k: v for k, v in request.query_params.items() if k in {act.path_param, "platform_ids"}}
    return _page(request, who, act, platform, values)


@router.post("/staff/acts/{act_key}", response_class=HTMLResponse)
async def submit_act(act_key: str, request: Request) -> Response:
    form = await request.form()
    return await run_in_threadpool(_submit, request, act_key, None, _strings(form))


@router.post("/staff/platforms/{platform_id}/acts/{act_key}", response_class=HTMLResponse)
async def submit_platform_act(platform_id: str, act_key: str, request: Request) -> Response:
    form = await request.form()
    return await run_in_threadpool(_submit, request, act_key, platform_id, _strings(form))


def _strings(form: Any) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _submit(request: Request, act_key: str, platform_id: str | None, posted: dict[str, str]) -> Response:
    c: Container = request.app.state.container
    resolved = _resolve(request, c, act_key, platform_id)
    if isinstance(resolved, Response):
        return resolved
    who, act, platform = resolved
    try:
        csrf_for(request).check(request, posted.get(CSRF_FIELD, ""))
    except CsrfError as exc:
        log.info("workbench form refused: %s", exc.reason)
        return message(request, 403, "无法提交：表单已过期或来源无法确认", [
            "为防止其他网站冒用您的身份，本表单需要由本系统签发的校验信息。这次提交缺少该信息，或表单已打开太久而过期，"
            "因此没有办理。请重新打开表单后再提交。"], who)
    key = posted.get(KEY_FIELD, "")
    if not _KEY.fullmatch(key):
        return message(request, 400, "无法提交：表单不完整", ["请重新打开表单后再提交。"], who)
    scope = f"{request.url.path}\n{key}"
    step = posted.get(STEP_FIELD, "")
    if step in ("confirm", "edit"):  # from the confirmation page: the values it showed, as signed
        signed = _signer(request).load(scope, posted.get(SIGNED_FIELD, ""))
        if signed is None:
            return message(request, 400, "无法确认：确认内容已被改动", ["请重新打开表单后再提交。"], who)
        values = signed
    else:
        values = {k: v for k, v in posted.items() if k not in {CSRF_FIELD, SIGNED_FIELD, STEP_FIELD}}
    values[KEY_FIELD] = key
    if step == "edit":
        return _page(request, who, act, platform, values)
    try:
        body = parse(act.body, values)
        if act.path_param is not None and not values.get(act.path_param, "").strip():
            raise FormErrors({act.path_param: "必须填写。"})
    except FormErrors as exc:
        return _page(request, who, act, platform, values, exc.errors, status=422)
    if act.confirm and step != "confirm":
        return _page(request, who, act, platform, values, confirming=_signer(request).dump(scope, values))
    try:
        response = _record(request, c, act, who, body, platform, values, key)
    except (DomainError, ProblemException) as exc:
        refusal = _refusal(exc)
        errors = {refusal["field"]: refusal["detail"]} if refusal.get("field") else {}
        return _page(request, who, act, platform, values, errors, refusal, status=refusal["status"])
    data = json.loads(bytes(response.body))
    if platform is not None:
        target = _dossier(platform.id, who)
    elif act.key == "apply":
        target = _dossier(data["id"], who)
    elif act.key == "publicity":
        target = _dossier(data["platforms"][0]["id"], who)
    else:
        target = "/staff/acts/"  # a subfield: no dossier to show
    log.info("workbench act recorded", extra={"act": act.key, "replayed": "idempotent-replayed" in response.headers})
    return secure_headers(RedirectResponse(target, status_code=303), no_store=True)


def _record(request: Request, c: Container, act: ActForm, who: Principal, body: Any, platform: Any,
            values: dict[str, str], key: str) -> Any:
    """The API's route itself, called with the session's principal and the form's key as its
    ``Idempotency-Key`` (and no ``If-Match``)."""
    headers = [(k, v) for k, v in request.scope["headers"] if k not in (b"idempotency-key", b"if-match")]
    scope = {**request.scope, "headers": [*headers, (b"idempotency-key", f"staff-form-{key}".encode("ascii"))]}
    call = Request(scope, request.receive)
    kwargs: dict[str, Any] = {"body": body, "request": call, "c": c, "who": who}
    if platform is not None:
        kwargs["platform_id"] = platform.id
    if act.path_param is not None:
        kwargs[act.path_param] = values[act.path_param].strip()[:20]
    return act.endpoint(**kwargs)


def _refusal(exc: DomainError | ProblemException) -> dict[str, Any]:
    """A refusal as the problem+json would carry it to a Chinese reader: status, code, title,
    detail, article, field (the catalogue's words, :mod:`api.problem_catalogue`)."""
    if isinstance(exc, DomainError):
        data: dict[str, Any] = dict(exc.as_dict())
        data["status"] = status_of(exc)
    else:
        data = {"status": exc.status, "code": exc.code, "detail": exc.detail, **exc.extra}
    kind = problem_type(exc.code)
    data["title"] = kind.title_zh
    data["detail"] = kind.chinese_detail(exc.params)
    data["remedy"] = kind.remedy_zh
    return data


__all__ = ["router"]
