"""Bad input is always a 4xx problem+json naming the field; never a 500, never a partial write."""

from __future__ import annotations

import pytest

from api_client import HOST, PASSWORD, Api, application

pytestmark = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)


def _problem(r, status: int, field: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert {"type", "title", "status", "detail", "code"} <= body.keys()
    if field is not None:
        assert body.get("field") == field, body
    return body


def test_bad_bodies(api: Api) -> None:
    cases = [
        (application(name=123), "name"),
        ({k: v for k, v in application().items() if k != "subfield"}, "subfield"),
        (application(host_unit={**application()["host_unit"],
                                "credit_code": HOST[:-1] + ("0" if HOST[-1] != "0" else "1")}),
         "host_unit.credit_code"),
        (application(subfield="量子计算"), "subfield"),
        (application(business_date="2022-02-30"), "business_date"),
        (application(name="x" * 100_000), "name"),
        (application(achievements=[{"title": "t", "stage": "lab"}]), "achievements[0].stage"),
        (application(unexpected=1), "unexpected"),
    ]
    for body, field in cases:
        r = api.post("/platforms", "applicant", body)
        problem = _problem(r, 422, field)
        assert problem["code"] in {"invalid_input", "invalid_credit_code", "unknown_subfield"}
    assert api.get("/platforms", "bureau").json()["items"] == []  # nothing was written


def test_future_business_date_is_refused(api: Api) -> None:
    r = api.post("/platforms", "applicant", application(business_date="2999-01-01"))
    assert r.status_code == 422 and r.json()["code"] == "business_date_in_future"


def test_rule_refusal_cites_article_and_policy(api: Api) -> None:
    r = api.post("/platforms", "applicant", application(business_date="2024-03-01"))
    body = _problem(r, 409)
    assert body["code"] == "no_policy_in_force" and body["article"] == "Art. 15"


def test_malformed_json_and_non_json(api: Api) -> None:
    h = api.headers("applicant", **{"Content-Type": "application/json"})
    _problem(api.client.post("/api/v1/platforms", content=b"{not json", headers=h), 400, "body")
    h = api.headers("applicant", **{"Content-Type": "text/plain"})
    r = api.client.post("/api/v1/platforms", content=b"hello", headers=h)
    assert r.status_code == 422 and r.json()["code"] == "invalid_input"
    assert r.headers["content-type"].startswith("application/problem+json")


def test_oversize_body_is_413(api: Api) -> None:
    h = api.headers("applicant", **{"Content-Type": "application/json"})
    big = b'{"name": "' + b"x" * 2_000_000 + b'"}'
    _problem(api.client.post("/api/v1/platforms", content=big, headers=h), 413)

    def chunks():  # no Content-Length: streamed
        for _ in range(30):
            yield b"x" * 100_000

    _problem(api.client.post("/api/v1/platforms", content=chunks(), headers=h), 413)


def test_unknown_ids_and_paths(api: Api) -> None:
    _problem(api.get("/platforms/00000000-0000-0000-0000-000000000000", "bureau"), 404)
    _problem(api.post("/platforms/00000000-0000-0000-0000-000000000000/inspection", "bureau", {"passed": True}), 404)
    _problem(api.get("/platforms/not-a-uuid", "bureau"), 422, "platform_id")
    _problem(api.get("/no-such-route", None), 404)
    _problem(api.get("/platforms", "bureau", cursor="garbage!"), 400, "cursor")
    _problem(api.get("/publicity-list", None, min_position=10**9), 422, "min_position")


def test_login(api: Api) -> None:
    r = api.client.post("/api/v1/auth/token", data={"username": "bureau", "password": PASSWORD})
    assert r.status_code == 200 and r.json()["token_type"] == "bearer"
    token = r.json()["access_token"]
    assert api.client.get("/api/v1/deadlines", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    _problem(api.client.post("/api/v1/auth/token", data={"username": "bureau", "password": "wrong-password"}), 401)
    _problem(api.client.post("/api/v1/auth/token", data={"username": "nobody", "password": "wrong-password"}), 401)
    _problem(api.client.post("/api/v1/auth/token", data={}), 422)


def test_implausible_execution_period_is_422_not_500(api: Api) -> None:
    pid = api.post("/platforms", "applicant", application()).json()["id"]
    for field in ("period_start", "period_end"):
        body = {"task_book_ref": "任务书", "indicators": [{"name": "i", "target": "t"}],
                "period_start": "2022-11-01", field: "9999-12-31"}
        r = api.post(f"/platforms/{pid}/task-book", "bureau", body)
        assert r.status_code == 422 and r.json()["field"] == field, r.text


def test_applicants_and_experts_act_today_only_clerks_back_fill(api: Api) -> None:
    """An applicant dating its own application could pick its policy (Art. 15) or slip past the
    acceptance deadline (Art. 9(1)): only the bureau, the agency and finance record past acts."""
    r = api.client.post("/api/v1/platforms", json=application(business_date="2022-03-01"),
                        headers=api.headers("applicant"))
    assert r.status_code == 422 and r.json()["code"] == "business_date_not_today", r.text
    assert r.json()["field"] == "business_date"
