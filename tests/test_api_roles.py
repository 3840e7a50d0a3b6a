"""Every route × every role (and no token): forbidden requests are 401 without a token and 403
with one, and each allowed one gets exactly the answer the rules give at that point of the
procedure (a platform in publicity, the routes taken in this order); nothing is ever a 500."""

from __future__ import annotations

import pytest

from api_client import EXPERT_AFFILIATIONS, Api, application, to_in_publicity

ROLES = [None, "applicant", "service_agency", "expert1", "bureau", "finance", "auditor"]


def answered(status: int, *roles: str | None) -> dict[str | None, int]:
    return dict.fromkeys(roles or ROLES, status)


# (method, path, body, the roles allowed and the status each gets)
ROUTES = [
    # Sent without a business date, so dated today, when no policy is in force (Art. 15).
    # A clerk records a paper application only with the day it was received (422 without one).
    ("POST", "/platforms", "APPLY", answered(409, "applicant") | answered(422, "service_agency", "bureau")),
    # The platform is in publicity: every earlier step is out of turn (wrong_stage).
    ("POST", "/platforms/{id}/intake", {"decision": "accepted"}, answered(409, "service_agency")),
    ("POST", "/platforms/{id}/scores", {"scores": {}}, answered(409, "expert1")),
    ("POST", "/platforms/{id}/score-sheets", {"business_date": "2022-09-30", "meeting_ref": "m", "sheets": [
        {"expert_id": "e", "expert_name": "n", "affiliation": EXPERT_AFFILIATIONS[0], "scores": {}}]},
     answered(409, "service_agency", "bureau")),
    ("POST", "/platforms/{id}/inspection", {"passed": True}, answered(409, "bureau")),
    ("POST", "/platforms/{id}/approval", {"party_group_meeting_ref": "a", "vice_mayor_approval_ref": "b",
                                          "funding_plan_ref": "c"}, answered(409, "bureau")),
    ("POST", "/publicity-batches", {"batch_ref": "x", "media": "m", "start_date": "2022-01-04",
                                    "platform_ids": ["{id}"]}, answered(409, "bureau")),
    # Anyone objects, the public without a token too, until one address has sent five (429).
    ("POST", "/platforms/{id}/objections", {"objector_name": "n", "contact": "n@example.com",
                                            "content": "x" * 10}, {**answered(200), "auditor": 429}),
    ("POST", "/platforms/{id}/objections/1/resolution", {"outcome": "dismissed", "handling_opinion": "h",
                                                         "vice_mayor_decision_ref": "v"}, answered(200, "bureau")),
    ("POST", "/platforms/{id}/notice", {"document_ref": "d"}, answered(200, "bureau")),
    # Dated today, the notice's day: a period starting 2022-11-01 would start before it.
    ("POST", "/platforms/{id}/task-book", {"task_book_ref": "t", "indicators": [{"name": "a", "target": "b"}],
                                           "period_start": "2022-11-01"}, answered(422, "bureau")),
    ("POST", "/platforms/{id}/major-changes", {"kind": "goals", "description": "d", "new_value": "v"},
     answered(200, "applicant")),
    ("POST", "/platforms/{id}/major-changes/1/decision", {"approved": True}, answered(200, "bureau")),
    ("POST", "/platforms/{id}/acceptance-application", {"summary": "s"}, answered(409, "applicant")),
    ("POST", "/platforms/{id}/acceptance-review", {"panel": ["a"], "indicator_results": [],
                                                   "funds_use_compliant": True, "conclusion": "qualified"},
     answered(409, "service_agency")),
    ("POST", "/platforms/{id}/recognition", {"document_ref": "d", "plaque_no": "p"}, answered(409, "bureau")),
    ("POST", "/platforms/{id}/funding", {"joint_document_ref": "j"}, answered(409, "finance")),
    # Nothing was paid, so nothing can be recovered.
    ("POST", "/platforms/{id}/recovery", {"amount": "1.00", "document_ref": "d", "reasons": "r"},
     answered(409, "finance")),
    ("POST", "/platforms/{id}/revocation", {"ground": "cannot_fulfil_duties", "document_ref": "d", "reasons": "r"},
     answered(200, "bureau")),
    # Revoked: final.
    ("POST", "/platforms/{id}/withdrawal", {"reasons": "r"}, answered(409, "applicant")),
    ("POST", "/platforms/{id}/termination", {"ground": "force_majeure", "document_ref": "d", "reasons": "r"},
     answered(409, "bureau")),
    ("POST", "/platforms/{id}/late-acceptance-admission", {"justification": "j"}, answered(409, "bureau")),
    ("GET", "/platforms", None, answered(200, "bureau", "service_agency", "finance", "auditor", "applicant")),
    ("GET", "/platforms/{id}", None, answered(200, "bureau", "service_agency", "finance", "auditor", "applicant")),
    ("GET", "/platforms/{id}/history", None, answered(200, "auditor", "bureau", "applicant")),
    ("GET", "/publicity-list", None, answered(200)),
    ("GET", "/subfields", None, answered(200)),
    ("GET", "/funding-ledger", None, answered(200, "finance", "bureau", "auditor")),
    ("GET", "/funding-ledger.csv", None, answered(200, "finance", "bureau", "auditor")),
    ("GET", "/deadlines", None, answered(200, "bureau", "service_agency")),
    ("GET", "/policies", None, answered(200)),
    ("GET", "/healthz", None, answered(200)),
    ("GET", "/readyz", None, answered(200)),
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
    for method, path, body, allowed in ROUTES:
        for role in ROLES:
            url = _fill(path, pid)
            if method == "GET":
                r = api.get(url, role)
            else:
                payload = application(business_date=None) if body == "APPLY" else _fill(body, pid)
                r = api.post(url, role, payload)
            expected = allowed.get(role, 401 if role is None else 403)
            assert r.status_code == expected, (method, path, role, r.text)
            if expected >= 400:
                assert r.headers["content-type"].startswith("application/problem+json"), (method, path, role)
    # The matrix is not vacuous: every role is let through somewhere and refused somewhere.
    for role in ROLES:
        assert any(role in allowed for *_, allowed in ROUTES), role
        assert any(role not in allowed for *_, allowed in ROUTES) or role == "bureau", role


def test_audit_and_as_of_roles(api: Api) -> None:
    pid = api.post("/platforms", "applicant", application()).json()["id"]
    for role, status in [("auditor", 200), ("bureau", 200), ("finance", 403), ("service_agency", 403)]:
        r = api.get(f"/platforms/{pid}", role, as_of_version=1)
        assert r.status_code == status, (role, r.text)
    assert api.get(f"/platforms/{pid}", "auditor", as_of_version=99).status_code == 404
    r = api.client.get("/api/v1/platforms", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401
