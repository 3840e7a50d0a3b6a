"""Every route × every role (and no token): forbidden requests are 401/403, allowed ones get
past authorisation, and nothing is ever a 500."""

from __future__ import annotations

import pytest

from api_client import Api, application, to_in_publicity

ROLES = [None, "applicant", "service_agency", "expert1", "bureau", "finance", "auditor"]
ALL = set(ROLES)
AUTHED = ALL - {None}

# (method, path, body, roles allowed)
ROUTES = [
    ("POST", "/platforms", "APPLY", {"applicant"}),
    ("POST", "/platforms/{id}/intake", {"decision": "accepted"}, {"service_agency"}),
    ("POST", "/platforms/{id}/scores", {"scores": {}}, {"expert1"}),
    ("POST", "/platforms/{id}/inspection", {"passed": True}, {"bureau"}),
    ("POST", "/platforms/{id}/approval", {"party_group_meeting_ref": "a", "vice_mayor_approval_ref": "b",
                                          "funding_plan_ref": "c"}, {"bureau"}),
    ("POST", "/publicity-batches", {"batch_ref": "x", "media": "m", "start_date": "2022-01-04",
                                    "platform_ids": ["{id}"]}, {"bureau"}),
    ("POST", "/platforms/{id}/objections", {"objector_name": "n", "contact": "n@example.com",
                                            "content": "x" * 10}, ALL),
    ("POST", "/platforms/{id}/objections/1/resolution", {"outcome": "dismissed", "handling_opinion": "h",
                                                         "vice_mayor_decision_ref": "v"}, {"bureau"}),
    ("POST", "/platforms/{id}/notice", {"document_ref": "d"}, {"bureau"}),
    ("POST", "/platforms/{id}/task-book", {"task_book_ref": "t", "indicators": [{"name": "a", "target": "b"}],
                                           "period_start": "2022-11-01"}, {"bureau"}),
    ("POST", "/platforms/{id}/major-changes", {"kind": "goals", "description": "d", "new_value": "v"}, {"applicant"}),
    ("POST", "/platforms/{id}/major-changes/1/decision", {"approved": True}, {"bureau"}),
    ("POST", "/platforms/{id}/acceptance-application", {"summary": "s"}, {"applicant"}),
    ("POST", "/platforms/{id}/acceptance-review", {"panel": ["a"], "indicator_results": [],
                                                   "funds_use_compliant": True, "conclusion": "qualified"},
     {"service_agency"}),
    ("POST", "/platforms/{id}/recognition", {"document_ref": "d", "plaque_no": "p"}, {"bureau"}),
    ("POST", "/platforms/{id}/funding", {"joint_document_ref": "j"}, {"finance"}),
    ("POST", "/platforms/{id}/recovery", {"amount": "1.00", "document_ref": "d", "reasons": "r"}, {"finance"}),
    ("POST", "/platforms/{id}/revocation", {"ground": "cannot_fulfil_duties", "document_ref": "d", "reasons": "r"},
     {"bureau"}),
    ("POST", "/platforms/{id}/withdrawal", {"reasons": "r"}, {"applicant"}),
    ("POST", "/platforms/{id}/termination", {"reasons": "r"}, {"bureau"}),
    ("GET", "/platforms", None, {"bureau", "service_agency", "finance", "auditor", "applicant"}),
    ("GET", "/platforms/{id}", None, {"bureau", "service_agency", "finance", "auditor", "applicant"}),
    ("GET", "/platforms/{id}/history", None, {"auditor", "bureau", "applicant"}),
    ("GET", "/publicity-list", None, ALL),
    ("GET", "/subfields", None, ALL),
    ("GET", "/funding-ledger", None, {"finance", "bureau", "auditor"}),
    ("GET", "/funding-ledger.csv", None, {"finance", "bureau", "auditor"}),
    ("GET", "/deadlines", None, {"bureau", "service_agency"}),
    ("GET", "/policies", None, ALL),
    ("GET", "/healthz", None, ALL),
    ("GET", "/readyz", None, ALL),
]


def _fill(value, pid: str):
    if isinstance(value, str):
        return value.replace("{id}", pid)
    if isinstance(value, list):
        return [_fill(v, pid) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, pid) for k, v in value.items()}
    return value


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_role_matrix(api: Api) -> None:
    pid, _ = to_in_publicity(api)
    seen = []
    for method, path, body, allowed in ROUTES:
        for role in ROLES:
            url = _fill(path, pid)
            if method == "GET":
                r = api.get(url, role)
            else:
                payload = application(business_date=None) if body == "APPLY" else _fill(body, pid)
                r = api.post(url, role, payload)
            seen.append((method, path, role, r.status_code))
            assert r.status_code < 500, (method, path, role, r.text)
            assert r.status_code != 200 or method == "GET" or role in allowed
            if role in allowed:
                assert r.status_code not in (401, 403), (method, path, role, r.text)
            elif role is None:
                assert r.status_code == 401, (method, path, role, r.text)
                assert r.headers["content-type"].startswith("application/problem+json")
            else:
                assert r.status_code == 403, (method, path, role, r.text)
    # Every role was let through somewhere and refused somewhere: the matrix is not vacuous.
    for role in ROLES:
        codes = {code for _, _, who, code in seen if who == role}
        assert codes - {401, 403}, role
        assert codes & {401, 403} or role == "bureau", role


def test_audit_and_as_of_roles(api: Api) -> None:
    pid = api.post("/platforms", "applicant", application()).json()["id"]
    for role, ok in [("auditor", True), ("bureau", True), ("finance", False), ("service_agency", False)]:
        r = api.get(f"/platforms/{pid}", role, as_of_version=1)
        assert (r.status_code == 200) is ok, (role, r.text)
    assert api.get(f"/platforms/{pid}", "auditor", as_of_version=99).status_code == 404
    r = api.client.get("/api/v1/platforms", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401
