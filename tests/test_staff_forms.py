"""The workbench's forms (/staff/.../acts/{act}): each act of the API contract, in a browser, with
the API's roles, edge validation (in Chinese, beside the field), the domain's refusals (with
their article, keeping what was typed), a confirmation step for irreversible acts, and an
Idempotency-Key per rendered form so a double submit records once."""

from __future__ import annotations

import re
from typing import Any

from aggregates.programme import Driver, host_unit
from api_client import EXPERT_AFFILIATIONS, HOST, Api, scores
from demo_store import hidden
from staff_client import Staff


def _form(staff: Staff, path: str) -> dict[str, str]:
    """Open the form at ``path``: its CSRF token and Idempotency-Key."""
    r = staff.get(path)
    assert r.status_code == 200, r.text
    return {"csrf_token": hidden(r.text, "csrf_token"), "idempotency_key": hidden(r.text, "idempotency_key")}


def _post(staff: Staff, path: str, form: dict[str, str], **fields: str) -> Any:
    return staff.client.post(path, data={**form, **fields}, follow_redirects=False)


def _events(staff: Staff, pid: Any) -> list[str]:
    return re.findall(r'<li class="event" data-type="(\w+)"', staff.get(f"/staff/platforms/{pid}").text)


def _error_beside(html: str, field: str) -> str:
    m = re.search(rf'<div class="field has-error" data-field="{re.escape(field)}">.*?class="error-text"[^>]*>'
                  r'<span class="visually-hidden">错误：</span>(.*?)</p>', html, re.S)
    assert m, f"no error beside {field}"
    return m.group(1)


def test_art8_4_an_inspection_through_the_form_appears_in_the_dossiers_timeline(api: Api) -> None:
    pid = Driver(api.container.app).to("reviewed").pid
    staff = Staff(api)
    staff.sign_in("bureau")
    dossier = staff.get(f"/staff/platforms/{pid}").text
    path = f"/staff/platforms/{pid}/acts/inspection"
    assert f'href="{path}"' in dossier  # reachable from the dossier
    page = staff.get(path).text
    assert "第八条（四）" in page and "考察结论" in page and "考察意见" in page
    r = _post(staff, path, _form(staff, path), passed="true", findings="场地、设备与申报一致。",
              document_ref="考察-2022-07", business_date="2022-05-20")
    assert r.status_code == 303 and r.headers["location"] == f"/staff/platforms/{pid}", r.text
    assert _events(staff, pid)[-1] == "Inspected"
    page = staff.get(f"/staff/platforms/{pid}").text
    inspected = re.search(r'data-type="Inspected".*?</li>', page, re.S).group(0)
    assert "考察-2022-07" in inspected and "2022年5月20日" in inspected and 'class="actor">bureau' in inspected
    assert api.container.app.get_platform(pid).status == "inspected"


def test_art5_a_refused_approval_shows_its_article_and_keeps_what_was_typed(api: Api) -> None:
    app = api.container.app
    Driver(app).to("approved")
    second = Driver(app).to("inspected").pid  # the same subfield, already held
    staff = Staff(api)
    staff.sign_in("bureau")
    path = f"/staff/platforms/{second}/acts/approval"
    form = _form(staff, path)
    typed = {"party_group_meeting_ref": "党组会〔2022〕12号", "vice_mayor_approval_ref": "副市长审批〔2022〕3号",
             "funding_plan_ref": "资金计划〔2022〕5号", "business_date": "2022-09-02"}
    check = _post(staff, path, form, **typed)
    assert check.status_code == 200 and "请核对以下内容" in check.text
    r = _post(staff, path, {"csrf_token": form["csrf_token"], "idempotency_key": form["idempotency_key"]},
              step="confirm", confirmed_values=hidden(check.text, "confirmed_values"))
    assert r.status_code == 409, r.text
    assert 'class="refusal-article">Art. 5<' in r.text and 'class="refusal-code">subfield_taken<' in r.text
    for value in typed.values():
        assert f'value="{value}"' in r.text  # back on the form, as typed
    assert app.get_platform(second).status == "inspected"
    # The same form, completed with the written justification Art. 5 asks for, then records.
    again = {"csrf_token": hidden(r.text, "csrf_token"), "idempotency_key": hidden(r.text, "idempotency_key")}
    check = _post(staff, path, again, **typed, subfield_exception="该领域需求旺盛，第二家平台侧重边缘算力。")
    r = _post(staff, path, {**again, "step": "confirm", "confirmed_values": hidden(check.text, "confirmed_values")})
    assert r.status_code == 303, r.text
    assert app.get_platform(second).status == "approved"


def test_a_validation_error_is_shown_beside_the_field_in_chinese(api: Api) -> None:
    pid = Driver(api.container.app).to("reviewed").pid
    staff = Staff(api)
    staff.sign_in("bureau")
    path = f"/staff/platforms/{pid}/acts/inspection"
    r = _post(staff, path, _form(staff, path), findings="现场\x00核查", document_ref="考察-1")
    assert r.status_code == 422
    assert _error_beside(r.text, "passed") == "必须填写。"
    assert "不可见字符（U+0000）" in _error_beside(r.text, "findings")
    assert "提交未成功，请修改以下 2 处" in r.text and 'value="考察-1"' in r.text
    assert api.container.app.get_platform(pid).status == "reviewed"


def test_art8_5_approval_asks_for_confirmation_and_records_once(api: Api) -> None:
    app = api.container.app
    pid = Driver(app).to("inspected").pid
    staff = Staff(api)
    staff.sign_in("bureau")
    path = f"/staff/platforms/{pid}/acts/approval"
    form = _form(staff, path)
    check = _post(staff, path, form, party_group_meeting_ref="党组会〔2022〕12号",
                  vice_mayor_approval_ref="副市长审批〔2022〕3号", funding_plan_ref="资金计划〔2022〕5号",
                  business_date="2022-09-01")
    assert check.status_code == 200 and "党组会〔2022〕12号" in check.text and ">确认<" in check.text
    assert app.get_platform(pid).status == "inspected"  # the first post records nothing
    confirm = {**form, "step": "confirm", "confirmed_values": hidden(check.text, "confirmed_values")}
    tampered = confirm["confirmed_values"][:-1] + ("0" if confirm["confirmed_values"][-1] != "0" else "1")
    assert _post(staff, path, {**confirm, "confirmed_values": tampered}).status_code == 400
    edit = _post(staff, path, {**confirm, "step": "edit"})  # 返回修改: the form again, as typed
    assert edit.status_code == 200 and 'value="党组会〔2022〕12号"' in edit.text and "confirmed_values" not in edit.text
    for _ in range(2):  # a double click on 确认
        r = _post(staff, path, confirm)
        assert r.status_code == 303 and r.headers["location"] == f"/staff/platforms/{pid}"
    assert _events(staff, pid).count("Approved") == 1
    assert app.get_platform(pid).status == "approved"


def test_finance_gets_the_403_page_on_a_bureau_form(api: Api) -> None:
    pid = Driver(api.container.app).to("reviewed").pid
    staff = Staff(api)
    staff.sign_in("finance")
    path = f"/staff/platforms/{pid}/acts/inspection"
    r = staff.get(path)
    assert r.status_code == 403 and "无权访问" in r.text and "仅限市科技局办理" in r.text
    csrf = hidden(staff.get("/staff/").text, "csrf_token")
    r = _post(staff, path, {"csrf_token": csrf, "idempotency_key": "a" * 24}, passed="true")
    assert r.status_code == 403
    assert 'acts/inspection"' not in staff.get(f"/staff/platforms/{pid}").text
    assert api.container.app.get_platform(pid).status == "reviewed"


def test_art8_3_an_expert_scores_through_the_form_from_the_inbox(api: Api) -> None:
    app = api.container.app
    pid = Driver(app).to("accepted").pid
    staff = Staff(api)
    staff.settle()
    inbox = staff.sign_in("expert1")
    path = f"/staff/platforms/{pid}/acts/scores"
    assert f'href="{path}"' in inbox
    points = scores(api)
    lines = "\n".join(f"{criterion}={value}" for criterion, value in points.items())
    r = _post(staff, path, _form(staff, path), scores=lines, comment="开放共享机制完善。")
    assert r.status_code == 303 and r.headers["location"] == "/staff/"  # an expert has no dossier
    assert "expert1" in app.get_platform(pid).scores
    bad = _post(staff, path, _form(staff, path), scores="没有分值的一行")
    assert bad.status_code == 422 and "评分项=分值" in _error_beside(bad.text, "scores")


def test_art8_1_the_service_agency_records_a_paper_application_on_the_host_units_behalf(api: Api) -> None:
    staff = Staff(api)
    staff.sign_in("service_agency")
    assert 'href="/staff/acts/apply"' in staff.get("/staff/acts/").text
    path = "/staff/acts/apply"
    r = _post(staff, path, _form(staff, path), **{
        "name": "星河智能算力开放创新平台", "subfield": "智能算力", "host_unit.name": "湖南星河智算科技有限公司",
        "host_unit.credit_code": HOST, "host_unit.high_tech_certificate.number": "GR202143000123",
        "host_unit.high_tech_certificate.valid_until": "2024-12-31", "commitments": "每年投入不少于1000万元",
        "achievements": "智算调度系统 | 产业化\n边缘推理框架 | pilot",
        "basic_conditions.technical_strength": "a", "basic_conditions.open_sharing": "b",
        "basic_conditions.service_mechanism": "c", "business_date": "2022-03-01", "document_ref": "受理登记-2022-009"})
    assert r.status_code == 303, r.text
    pid = r.headers["location"].rsplit("/", 1)[1]
    platform = api.container.app.get_platform(__import__("uuid").UUID(pid))
    assert platform.host_credit_code == HOST
    assert [a["stage"] for a in platform.achievements] == ["industrial", "pilot"]  # a choice by its Chinese name
    staff.sign_in("bureau")
    page = staff.get(f"/staff/platforms/{pid}").text
    applied = re.search(r'data-type="Applied".*?</li>', page, re.S).group(0)
    assert f'class="actor">{HOST}（依托单位）' in applied
    assert 'class="recorded-by">service_agency（科技服务机构）' in applied and "受理登记-2022-009" in applied


def test_art8_7_a_notice_while_an_objection_is_pending_is_refused_with_its_article(api: Api) -> None:
    app = api.container.app
    pid = Driver(app).to("in_publicity").pid
    r = api.post(f"/platforms/{pid}/objections", "bureau", {
        "objector_name": "欧阳测试者", "contact": "13912345678", "business_date": "2022-10-10",
        "content": "反映该平台申报材料中的开放服务企业数量与实际情况不符，请予核实。"})
    assert r.status_code == 200, r.text
    staff = Staff(api)
    staff.sign_in("bureau")
    assert f"/staff/platforms/{pid}/acts/resolution?objection_id=1" in staff.get(f"/staff/platforms/{pid}").text
    path = f"/staff/platforms/{pid}/acts/notice"
    form = _form(staff, path)
    check = _post(staff, path, form, document_ref="长科发〔2022〕88号", business_date="2022-10-11")
    r = _post(staff, path, {**form, "step": "confirm", "confirmed_values": hidden(check.text, "confirmed_values")})
    assert r.status_code == 409
    assert 'class="refusal-article">Art. 8(7)<' in r.text and "objections_unresolved" in r.text
    assert 'value="长科发〔2022〕88号"' in r.text and "第八条（六）公示期满且异议处理完毕后方可联合行文" in r.text
    assert app.get_platform(pid).status == "in_publicity"


def test_every_command_route_of_the_api_has_its_form() -> None:
    from api.routes_commands import router
    from api.staff_forms import ACTS

    routes = {route.endpoint for route in router.routes}  # type: ignore[attr-defined]
    assert routes == {act.endpoint for act in ACTS.values()}
    assert all(act.roles for act in ACTS.values())


def test_art8_6_a_publicity_batch_through_the_form(api: Api) -> None:
    app = api.container.app
    first, second = Driver(app).to("approved").pid, Driver(app, subfield="智能传感器").to("approved").pid
    staff = Staff(api)
    staff.sign_in("bureau")
    assert 'href="/staff/acts/publicity"' in staff.get("/staff/acts/").text
    path = "/staff/acts/publicity"
    r = _post(staff, path, _form(staff, path), batch_ref="长科公示〔2022〕7号", media="长沙晚报",
              start_date="2022-09-29", platform_ids=f"{first}\n\n{second}\n", business_date="2022-09-28")
    assert r.status_code == 303 and r.headers["location"] == f"/staff/platforms/{first}", r.text
    assert {app.get_platform(first).status, app.get_platform(second).status} == {"in_publicity"}
    bad = _post(staff, path, _form(staff, path), batch_ref="长科公示〔2022〕8号", media="长沙晚报",
                start_date="2022-09-29", platform_ids="not-an-id")
    assert bad.status_code == 422 and "第 1 行" in _error_beside(bad.text, "platform_ids")


def test_art8_3_the_service_agency_keys_in_a_meetings_score_sheets_one_line_each(api: Api) -> None:
    app = api.container.app
    pid = Driver(app).to("accepted").pid
    staff = Staff(api)
    staff.sign_in("service_agency")
    path = f"/staff/platforms/{pid}/acts/score-sheets"
    points = "; ".join(f"{criterion}={value}" for criterion, value in scores(api).items())
    sheets = "\n".join(f"pool-00{i} | 专家{i} | {EXPERT_AFFILIATIONS[i]} | {points} | 同意" for i in (1, 2))
    r = _post(staff, path, _form(staff, path), business_date="2022-03-10", meeting_ref="评审会-2022-01",
              sheets=sheets)
    assert r.status_code == 303, r.text
    assert {"pool-001", "pool-002"} <= set(app.get_platform(pid).scores)
    bad = _post(staff, path, _form(staff, path), business_date="2022-03-10", meeting_ref="评审会-2022-02",
                sheets=f"pool-003 | 专家3 | {EXPERT_AFFILIATIONS[3]} | 没有分值 | 同意")
    assert bad.status_code == 422 and "第 1 行“评分”应写作" in _error_beside(bad.text, "sheets")


def test_art8_3_an_expert_of_the_host_unit_is_refused_its_scoring_form(api: Api) -> None:
    app = api.container.app
    pid = Driver(app).to("accepted", host_unit=host_unit(code=HOST)).pid
    staff = Staff(api)
    staff.settle()
    inbox = staff.sign_in("expert_conflicted")  # an expert of HOST, the host unit
    path = f"/staff/platforms/{pid}/acts/scores"
    assert str(pid) not in inbox
    r = staff.get(path)
    assert r.status_code == 403 and "第八条（三）" in r.text and "回避" in r.text
    assert app.get_platform(pid).name not in r.text
    csrf = hidden(inbox, "csrf_token")
    lines = "\n".join(f"{criterion}={value}" for criterion, value in scores(api).items())
    assert _post(staff, path, {"csrf_token": csrf, "idempotency_key": "a" * 24}, scores=lines).status_code == 403
    assert "expert_conflicted" not in app.get_platform(pid).scores
    staff.sign_in("expert1")  # an expert of another unit opens it
    assert staff.get(path).status_code == 200
