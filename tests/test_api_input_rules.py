"""One validation of input at the edge (api.inputs): control characters, NUL and bidi overrides
are refused in every text with a 422 naming the field, numbers are ASCII digits, dates are dates,
and the JSON objection obeys the public form's rules. Nothing refused is written."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from api_client import Api, application, to_in_publicity

pytestmark = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)

GOOD_OBJECTION = {"objector_name": "市民", "contact": "13800138000", "content": "申报材料中的数据与事实不符"}


def _refused(r, field: str) -> dict:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == "invalid_input" and body["field"] == field, body
    return body


@pytest.mark.parametrize("bad", ["\x00", "\x07", "\x1b[31m", "\x7f", "\x85", "\u202e", "\u2066"])
def test_control_characters_nul_and_bidi_overrides_are_refused_in_every_text(api: Api, bad: str) -> None:
    unit = application()["host_unit"]
    cases = [
        (application(name=f"星河{bad}平台"), "name"),
        (application(host_unit={**unit, "name": f"湖南{bad}星河"}), "host_unit.name"),
        (application(co_builders=[{"name": f"共建{bad}单位"}]), "co_builders[0].name"),
        (application(commitments=f"每年投入{bad}"), "commitments"),
        (application(document_ref=f"长科{bad}1号"), "document_ref"),
        (application(achievements=[{"title": f"成果{bad}", "stage": "pilot"}]), "achievements[0].title"),
    ]
    for body, field in cases:
        _refused(api.post("/platforms", "applicant", body), field)
    assert api.get("/platforms", "bureau").json()["items"] == []


def test_a_lone_surrogate_escaped_in_json_is_refused(api: Api) -> None:
    body = json.dumps(application(name="星河\ud800平台"))  # ASCII JSON with the escape \ud800
    r = api.client.post("/api/v1/platforms", content=body.encode("ascii"),
                        headers=api.headers("applicant", **{"Content-Type": "application/json"}))
    _refused(r, "name")


def test_one_line_fields_refuse_line_breaks_and_texts_keep_them(api: Api) -> None:
    _refused(api.post("/platforms", "applicant", application(name="星河\n平台")), "name")
    r = api.post("/platforms", "applicant", application(commitments="第一，资金；\r\n第二，人才。\t完"))
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    history = api.get(f"/platforms/{pid}/history", "bureau").json()["items"]
    assert history[0]["data"]["commitments"] == "第一，资金；\n第二，人才。\t完"  # CR LF read as a newline


def test_refs_and_reasons_of_later_commands_are_checked_too(api: Api) -> None:
    pid, _ = to_in_publicity(api)
    _refused(api.post(f"/platforms/{pid}/objections", "bureau",
                      {**GOOD_OBJECTION, "business_date": "2022-09-30", "objector_name": "王\u202e五"}),
             "objector_name")
    _refused(api.post("/publicity-batches", "bureau", {"batch_ref": "公示\x00", "media": "长沙晚报",
                                                       "start_date": "2022-09-29", "platform_ids": [pid]}),
             "batch_ref")


@pytest.mark.parametrize("amount", ["٣.00", "３.00", "1\u00a0000", "1e3", "3.001"])
def test_money_is_ascii_digits_only(api: Api, amount: str) -> None:
    pid = api.post("/platforms", "applicant", application()).json()["id"]
    _refused(api.post(f"/platforms/{pid}/recovery", "finance",
                      {"amount": amount, "document_ref": "长财〔2024〕1号", "reasons": "r"}), "amount")


@pytest.mark.parametrize("points", ["٣", "３", "3\u0663"])
def test_scores_are_ascii_digits_only(api: Api, points: str) -> None:
    pid = api.post("/platforms", "applicant", application()).json()["id"]
    api.post(f"/platforms/{pid}/intake", "service_agency",
             {"decision": "accepted", "reasons": "ok", "business_date": "2022-03-05"})
    policy = api.container.app.policies.get("长科发〔2021〕36号")
    first = policy.rubric[0].criterion
    body = {"scores": {c.criterion: 1 for c in policy.rubric} | {first: points}, "business_date": "2022-03-10"}
    _refused(api.post(f"/platforms/{pid}/scores", "expert1", body), f"scores.{first}")


@pytest.mark.parametrize("day", ["2022-03-01T00:00:00", "2022-03-01T08:00:00+08:00", "٢٠٢٢-03-01", "20220301"])
def test_a_date_is_a_date_not_a_date_time(api: Api, day: str) -> None:
    _refused(api.post("/platforms", "applicant", application(business_date=day)), "business_date")
    cert = {"number": "GR202143000123", "valid_until": day}
    _refused(api.post("/platforms", "applicant", application(
        host_unit={**application()["host_unit"], "high_tech_certificate": cert})),
        "host_unit.high_tech_certificate.valid_until")


def test_json_objection_follows_the_forms_rules(api: Api) -> None:
    pid, _ = to_in_publicity(api)
    before = len(api.get(f"/platforms/{pid}", "bureau").json()["objections"])
    spaces = api.post(f"/platforms/{pid}/objections", None, {"objector_name": "n", "contact": "c", "content": "   "})
    fields = {e["field"] for e in _refused(spaces, spaces.json()["field"])["errors"]}
    assert fields == {"contact", "content"}
    short = _refused(api.post(f"/platforms/{pid}/objections", None, {**GOOD_OBJECTION, "content": "太短了"}),
                     "content")
    # The public reads the form's own Chinese sentence; a client asking for English, the English one.
    assert short["detail"] == "字段 content：异议内容至少 10 个字，请写明具体事实和理由（现为 3 个字）。"
    english = api.client.post(f"/api/v1/platforms/{pid}/objections", json={**GOOD_OBJECTION, "content": "太短了"},
                              headers={"Accept-Language": "en"})
    assert english.json()["detail"].startswith("content: at least 10 characters")
    _refused(api.post(f"/platforms/{pid}/objections", None, {**GOOD_OBJECTION, "objector_name": "  "}),
             "objector_name")
    assert len(api.get(f"/platforms/{pid}", "bureau").json()["objections"]) == before
    r = api.post(f"/platforms/{pid}/objections", None, {**GOOD_OBJECTION, "contact": " +86 138-0013-8000 "})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("ref", ["长科公示〔2022〕1/2号", "..", "."])
def test_a_batch_ref_that_cannot_be_a_path_segment_is_refused(api: Api, ref: str) -> None:
    pid, _ = to_in_publicity(api)
    r = api.post("/publicity-batches", "bureau", {"batch_ref": ref, "media": "长沙晚报",
                                                  "start_date": "2022-09-29", "platform_ids": [pid]})
    assert _refused_domain(r, "batch_ref")["code"] == "batch_ref_not_a_path_segment"


def test_a_batch_ref_with_url_characters_reaches_its_page_and_form(api: Api) -> None:
    ref = "长科公示〔2022〕1号 #1?a=b&c \\ 附"  # no "%": the test client decodes a path twice
    pid = to_in_publicity(api, batch_ref=ref)[0]
    assert ref in [b["batch_ref"] for b in api.get("/publicity-list", None).json()["items"]]  # read model caught up
    url = f"/publicity/{quote(ref, safe='')}"
    page = api.client.get(url)
    assert page.status_code == 200 and "附" in page.text
    assert api.client.get(f"{url}/platforms/{pid}/objections/new").status_code == 200


def _refused_domain(r, field: str) -> dict:
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field, r.json()
    return r.json()
