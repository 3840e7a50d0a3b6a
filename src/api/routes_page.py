"""The public pages (公示): the publicity list, each batch, the objection form and its receipt,
the subfield registry, and how to verify the signed audit checkpoint.

Server-rendered (Jinja2, no script at all) from the same read models as the JSON API
(``GET /api/v1/publicity-list``, ``GET /api/v1/subfields``). An objection posted here goes
straight to the application service, as the public's JSON route does, protected by a CSRF
token and a per-address rate limit (``page_security``). No public page ever shows an
objector's name or contact: the read model does not even hold them, and the receipt does not
echo them.

Routes: ``/`` (``?page=N``, ten batches a page), ``/publicity/{batch_ref}``,
``/publicity/{batch_ref}/platforms/{platform_id}/objections/new`` (the form),
``POST /publicity/{batch_ref}/platforms/{platform_id}/objections`` (filing → receipt),
``/subfields``, ``/checkpoint``.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from aggregates.application import Idempotency
from aggregates.calendar import WorkingDayCalendar
from aggregates.clock import SHANGHAI, today_in_shanghai
from aggregates.errors import CalendarNotLoaded, ConcurrentModification, DomainError, IdempotencyKeyReused, NotFound
from aggregates.event_table import event_table
from aggregates.publicity_window import PublicityWindow, WindowState
from audit.published import latest_view
from projections import queries

from .auth import PUBLIC
from .bootstrap import Container
from .commands_support import make_act, note_recorded
from .deps import get_container
from .inputs import CONTACT_MAX, CONTENT_MAX, CONTENT_MIN, NAME_MAX, clean, objection_problems
from .page_security import CSRF_FIELD, CsrfError, client_address, csrf_for, limiter_for, secure_headers

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)
TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
Wired = Annotated[Container, Depends(get_container)]

WEEKDAYS = "一二三四五六日"
STATUS_CN = {
    "applied": "已申请", "accepted": "已受理", "reviewed": "已评审", "inspected": "已考察", "approved": "已审定",
    "in_publicity": "公示中", "notified": "已行文下达", "under_construction": "建设中",
    "acceptance_applied": "已申请验收", "qualified": "验收合格", "recognized": "已认定授牌",
    "funded": "已认定并拨付资金", "not_accepted": "不予受理", "rejected": "未通过",
    "terminated": "已终止", "withdrawn": "已撤回", "revoked": "已撤销",
}
STATE_CN = {"open": "公示中", "upcoming": "未开始", "closed": "已结束"}
# The home page lists this many batches a page: a store of years of rounds stays a light page
# on a phone (README, "What the public sees").
BATCHES_PER_PAGE = 10


def _static_version() -> str:
    css = STATIC_DIR / "site.css"
    return hashlib.sha256(css.read_bytes()).hexdigest()[:10] if css.exists() else "0"


def _as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def cn_date(value: Any, weekday: bool = False) -> str:
    """``2026-11-26`` → ``2026年11月26日`` (``（星期四）`` with ``weekday``)."""
    d = _as_date(value)
    if d is None:
        return "待定"
    text = f"{d.year}年{d.month}月{d.day}日"
    return f"{text}（星期{WEEKDAYS[d.weekday()]}）" if weekday else text


def cn_instant(value: str | None) -> Markup | str:
    """An ISO instant as Beijing time, ``2026年11月26日 08:20:05（北京时间）``: the date and the
    time of day each kept whole (the stylesheet's ``time.instant .date``, ``.clock``), a line
    break allowed only between them on a narrow screen."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value).astimezone(SHANGHAI)
    except ValueError:
        return value
    return Markup('<span class="date">{}</span> <span class="clock">{}</span>').format(
        cn_date(moment.date()), f"{moment:%H:%M:%S}（北京时间）")


templates.env.filters["cn_date"] = cn_date
templates.env.filters["cn_instant"] = cn_instant
templates.env.filters["status_cn"] = lambda s: STATUS_CN.get(s or "", s or "")
templates.env.filters["quote"] = lambda s: quote(str(s), safe="")
templates.env.globals["static_version"] = _static_version()
templates.env.globals["limits"] = {"name": NAME_MAX, "contact": CONTACT_MAX, "content_min": CONTENT_MIN,
                                   "content_max": CONTENT_MAX}


# ------------------------------------------------------------------------- reading
def batch_url(batch_ref: str) -> str:
    return f"/publicity/{quote(batch_ref, safe='')}"


def _remaining(calendar: WorkingDayCalendar, today: date, batch: dict[str, Any]) -> dict[str, Any]:
    """How many working days of the window remain (today included when it is one)."""
    last = _as_date(batch["end_date"])
    if batch["state"] != "open" or last is None:
        return {"days": None, "today_counts": False}
    try:
        return {"days": calendar.working_days_between(today, last),
                "today_counts": calendar.is_working_day(today)}
    except CalendarNotLoaded:
        return {"days": None, "today_counts": False}


def _decorate(c: Container, today: date, batch: dict[str, Any]) -> dict[str, Any]:
    b = dict(batch)
    b["url"] = batch_url(b["batch_ref"])
    b["state_cn"] = STATE_CN.get(b["state"], b["state"])
    b["remaining"] = _remaining(c.app.calendar, today, b)
    b["pending_year"] = (_as_date(b["first_day"]) or _as_date(b["start_date"]) or today).year
    for p in b["platforms"]:
        p["form_url"] = f"{b['url']}/platforms/{p['id']}/objections/new"
    return b


def batches_page(c: Container, today: date, page: int) -> dict[str, Any]:
    """One page of the publicity batches: open ones first, then upcoming, then closed; newest
    first within each (``queries.publicity_overview``), with ``total``, ``states`` and ``pages``."""
    with c.engine.connect() as conn:
        found = queries.publicity_overview(conn, today, (page - 1) * BATCHES_PER_PAGE, BATCHES_PER_PAGE,
                                           calendar=c.app.calendar, policies=c.app.policies)
    found["items"] = [_decorate(c, today, b) for b in found["items"]]
    found["pages"] = max(1, math.ceil(found["total"] / BATCHES_PER_PAGE))
    return found


def find_batch(c: Container, today: date, batch_ref: str) -> dict[str, Any] | None:
    with c.engine.connect() as conn:
        batch = queries.find_batch(conn, batch_ref, today, calendar=c.app.calendar, policies=c.app.policies)
    return _decorate(c, today, batch) if batch is not None else None


def _checkpoint(c: Container) -> dict[str, Any]:
    """The latest signed checkpoint for the footer: ``{"cp": {...}, "uncovered": N}`` (as ``GET
    /api/v1/audit/checkpoint`` gives it, with its witnesses' ``cosignatures``; N events written
    since, which it does not cover yet), ``{"cp": None}`` when none has been signed,
    ``{"error": True}`` when it cannot be read now."""
    try:
        cp = latest_view(c.app)
        uncovered = max(0, event_table(c.app).sealed_size() - cp["size"]) if cp is not None else None
    except Exception:  # the page still renders; the log says why
        log.exception("cannot read the latest checkpoint")
        return {"cp": None, "error": True}
    return {"cp": cp, "uncovered": uncovered, "error": False}


# ------------------------------------------------------------------------- rendering
def render(request: Request, c: Container, template: str, context: dict[str, Any], status: int = 200,
           *, no_store: bool = False, headers: dict[str, str] | None = None) -> HTMLResponse:
    today = today_in_shanghai()
    base = {"today": today, "checkpoint": _checkpoint(c), "path": request.url.path,
            "demo_policies": [p for p in c.app.policies.all() if getattr(p, "demonstration", False)]}
    base.update(context)
    response = templates.TemplateResponse(request, template, base, status_code=status, headers=headers)
    return secure_headers(response, no_store=no_store)  # type: ignore[return-value]


def message(request: Request, c: Container, status: int, title: str, paragraphs: list[str],
            links: list[tuple[str, str]] | None = None, headers: dict[str, str] | None = None) -> HTMLResponse:
    """A plain page saying what happened and what to do next (errors, refusals)."""
    links = links or [("/", "返回公示名单")]
    return render(request, c, "message.html", {"title": title, "paragraphs": paragraphs, "links": links,
                                               "status": status}, status, no_store=True, headers=headers)


def not_found(request: Request, c: Container, what: str = "公示批次") -> HTMLResponse:
    return message(request, c, 404, f"未找到该{what}",
                   [f"您要查看的{what}不存在，或链接有误。请从公示名单中选择。"])


# ------------------------------------------------------------------------- pages
@router.get("/", response_class=HTMLResponse)
def publicity_page(request: Request, c: Wired, page: str = "1") -> HTMLResponse:
    """The batches a page at a time (``?page=N``), open ones first."""
    number = int(page) if page.isascii() and page.isdigit() and len(page) <= 6 else 0
    found = batches_page(c, today_in_shanghai(), max(number, 1))
    if number < 1 or number > found["pages"]:
        return message(request, c, 404, "没有这一页", [
            f"公示名单共 {found['pages']} 页，没有第 {page[:20]} 页。请从第一页开始浏览。"])
    return render(request, c, "publicity.html", {"batches": found["items"], "total": found["total"],
                                                 "states": found["states"], "page": number,
                                                 "pages": found["pages"]})


@router.get("/publicity/{batch_ref}", response_class=HTMLResponse)
def batch_page(batch_ref: str, request: Request, c: Wired) -> HTMLResponse:
    batch = find_batch(c, today_in_shanghai(), batch_ref)
    if batch is None:
        return not_found(request, c)
    return render(request, c, "batch.html", {"batch": batch})


def _locate(c: Container, batch_ref: str, platform_id: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    batch = find_batch(c, today_in_shanghai(), batch_ref)
    if batch is None:
        return None, None
    return batch, next((p for p in batch["platforms"] if p["id"] == platform_id), None)


def _form(request: Request, c: Container, batch: dict[str, Any], platform: dict[str, Any],
          values: dict[str, str], errors: dict[str, str], status: int = 200, busy: bool = False) -> HTMLResponse:
    """The form; ``busy``: the last submission was not recorded because the system was busy."""
    csrf = csrf_for(request)
    nonce, new = csrf.nonce_of(request)
    submission = values.get("submission_id") or uuid.uuid4().hex
    response = render(request, c, "objection_form.html", {
        "batch": batch, "platform": platform, "values": values, "errors": errors,
        "csrf_field": CSRF_FIELD, "csrf_token": csrf.token(nonce), "submission_id": submission,
        "action": f"{batch['url']}/platforms/{platform['id']}/objections", "busy": busy,
    }, status, no_store=True, headers={"Retry-After": "2"} if busy else None)
    if new:
        csrf.set_cookie(request, response, nonce)
    return response


@router.get("/publicity/{batch_ref}/platforms/{platform_id}/objections/new", response_class=HTMLResponse)
def objection_form(batch_ref: str, platform_id: str, request: Request, c: Wired) -> HTMLResponse:
    batch, platform = _locate(c, batch_ref, platform_id)
    if batch is None:
        return not_found(request, c)
    if platform is None:
        return not_found(request, c, "平台")
    return _form(request, c, batch, platform, {}, {})


# ------------------------------------------------------------------------- the form's rules
def validate(values: dict[str, str]) -> dict[str, str]:
    """Chinese messages per field; empty when the form may be filed. The rules are the JSON
    objection's too (api.inputs): one rule, in one place."""
    return {field: refusal.zh for field, refusal in objection_problems(values).items()}


def _fingerprint(platform_id: str, values: dict[str, str]) -> str:
    text = "\n".join([platform_id, values["objector_name"], values["contact"], values["content"]])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@router.post("/publicity/{batch_ref}/platforms/{platform_id}/objections", response_class=HTMLResponse)
def file_objection(
    batch_ref: str, platform_id: str, request: Request, c: Wired,
    objector_name: Annotated[str, Form()] = "", contact: Annotated[str, Form()] = "",
    content: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "",
    submission_id: Annotated[str, Form()] = "",
) -> HTMLResponse:
    batch, platform = _locate(c, batch_ref, platform_id)
    if batch is None:
        return not_found(request, c)
    if platform is None:
        return not_found(request, c, "平台")
    form_url = platform["form_url"]
    try:
        csrf_for(request).check(request, csrf_token)
    except CsrfError as exc:
        log.info("objection form refused: %s", exc.reason)
        return message(request, c, 403, "无法提交：表单已过期或来源无法确认", [
            "为保护您的提交不被其他网站冒用，本表单需要由本网站签发的校验信息。这次提交缺少该信息，"
            "或表单已打开太久而过期，因此没有记录。",
            "请返回异议表单页面，重新填写后提交。如果浏览器禁用了 Cookie，请为本网站启用后再试。"],
            [(form_url, "重新打开异议表单"), ("/", "返回公示名单")])

    values = {"objector_name": clean(objector_name), "contact": clean(contact), "content": clean(content),
              "submission_id": submission_id if re.fullmatch(r"[0-9a-f]{32}", submission_id or "") else ""}
    errors = validate(values)
    if errors:
        return _form(request, c, batch, platform, values, errors, 422)

    limiter = limiter_for(request)
    wait = limiter.hit(client_address(request))
    if wait is not None:
        minutes = max(1, math.ceil(wait / 60))
        window_minutes = max(1, round(limiter.window / 60))
        return message(request, c, 429, "提交过于频繁，请稍后再试", [
            f"为防止滥用，同一网络地址在 {window_minutes} 分钟内最多可提交 {limiter.limit} 件异议。"
            f"本次提交没有记录，请约 {minutes} 分钟后再试。",
            "如需提出更多异议，也可以书面形式向长沙市科学技术局提出。"],
            [(form_url, "返回异议表单"), (batch["url"], "返回公示批次")],
            headers={"Retry-After": str(math.ceil(wait))})

    idempotency = None
    if values["submission_id"]:
        idempotency = Idempotency(key=f"page-objection:{values['submission_id']}",
                                  fingerprint=_fingerprint(platform_id, values))
    try:
        result = c.app.object(uuid.UUID(platform_id), make_act(PUBLIC, None),
                              objector_name=values["objector_name"], contact=values["contact"],
                              content=values["content"], idempotency=idempotency)
        note_recorded(request, "object", result)
    except IdempotencyKeyReused:
        return message(request, c, 409, "这份表单已经提交过", [
            "这份表单此前已经提交并记录。如需再提出一件异议，请重新打开异议表单填写。"],
            [(form_url, "重新打开异议表单"), (batch["url"], "返回公示批次")])
    except CalendarNotLoaded as exc:
        year = re.search(r"\d{4}", exc.message)
        return message(request, c, 503, "暂时无法受理异议", [
            f"{year.group(0) + '年' if year else '本年度'}的国家法定节假日与调休安排尚未载入本系统，"
            "暂时无法确定公示期，因此这次提交没有记录。",
            "请稍后再试，或以书面形式向长沙市科学技术局提出异议。"], [(batch["url"], "返回公示批次")])
    except NotFound:
        return not_found(request, c, "平台")
    except ConcurrentModification:
        # Busy, not refused: the platform accepts objections, the write lost races until the
        # deadline. The form comes back filled in, with the same submission id, so a second
        # press files it once.
        log.warning("objection not recorded: write conflicts until the deadline")
        return _form(request, c, batch, platform, values, {}, 503, busy=True)
    except DomainError as exc:
        log.info("objection refused by the domain: %s", exc.code)
        return message(request, c, 409, "暂时无法受理异议", [
            "该平台当前的状态不接受异议，这次提交没有记录。", f"（代码：{exc.code}）"],
            [(batch["url"], "返回公示批次")])

    c.notify()
    if result.position is not None:
        c.runner.wait_for(result.position, timeout=c.settings.min_position_timeout)
    received = today_in_shanghai()
    if result.replayed:
        # The same form posted twice (a reload): the first filing's receipt, its own date.
        stored = c.app.get_platform(result.aggregate_id).objections.get(str(result.extra["objection_id"]))
        received = stored["received_on"] if stored else received
    return render(request, c, "receipt.html", {
        "batch": batch, "platform": platform, "objection_id": result.extra["objection_id"],
        "admissible": bool(result.extra.get("admissible")), "received": received,
        "late_reason": _late_reason(batch, received),
    }, no_store=True)


@router.get("/publicity/{batch_ref}/platforms/{platform_id}/objections", response_class=HTMLResponse)
def objections_get(batch_ref: str, platform_id: str, request: Request) -> RedirectResponse:
    """A bookmarked or reloaded form address: the form itself."""
    return RedirectResponse(f"{batch_url(batch_ref)}/platforms/{quote(platform_id, safe='')}/objections/new",
                            status_code=303)


def _late_reason(batch: dict[str, Any], received: date) -> str:
    """Why an objection was inadmissible: the window had closed, had not opened, or (received
    within it) the platform was no longer in publicity."""
    window = PublicityWindow(date.fromisoformat(batch["start_date"]), _as_date(batch["first_day"]),
                             _as_date(batch["end_date"]))
    state = window.state_on(received)
    return "not_in_publicity" if state is WindowState.OPEN else state.value


@router.get("/subfields", response_class=HTMLResponse)
def subfields_page(request: Request, c: Wired) -> HTMLResponse:
    policy = c.app.policies.latest()
    with c.engine.connect() as conn:
        registry = queries.subfield_registry(conn, policy)
    return render(request, c, "subfields.html", {"registry": registry, "policy": policy})


@router.get("/checkpoint", response_class=HTMLResponse)
def checkpoint_page(request: Request, c: Wired) -> HTMLResponse:
    return render(request, c, "checkpoint.html", {})


__all__ = ["router", "STATIC_DIR", "validate", "batch_url"]
