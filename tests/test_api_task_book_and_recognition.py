"""Items 5-7 of "The paper record" through the HTTP API, on SQLite and PostgreSQL: major changes
hold up the acceptance review, recognition and the grant (Art. 11); the task book's versions and
the execution period's reason (Art. 9(1)); the certificate at recognition (Art. 7(1)); the
panel's justification (Art. 9(3)); subfields admitted by the bureau's decision (Art. 4, 5)."""

from __future__ import annotations

from typing import Any

from api_client import Api, application, scores, to_in_publicity

NEW = "具身智能"


def refused(r: Any, code: str, article: str) -> None:
    assert r.status_code == 409, r.text
    problem = r.json()
    assert (problem["code"], problem["article"], problem["policy"]) == (code, article, "长科发〔2021〕36号")


def change(api: Api, pid: str, kind: str, new_value: Any, reported: str, decided: str | None) -> str:
    r = api.post(f"/platforms/{pid}/major-changes", "applicant",
                 {"kind": kind, "description": "变更", "new_value": new_value, "business_date": reported})
    assert r.status_code == 200, r.text
    change_id = r.json()["change_id"]
    if decided is not None:
        decide(api, pid, change_id, decided)
    return change_id


def decide(api: Api, pid: str, change_id: str, on: str) -> dict[str, Any]:
    r = api.post(f"/platforms/{pid}/major-changes/{change_id}/decision", "bureau",
                 {"approved": True, "reasons": "同意", "document_ref": f"变更批复-{change_id}", "business_date": on})
    assert r.status_code == 200, r.text
    return r.json()


def test_art11_art9_art7_changes_task_book_versions_and_conditions_at_recognition(api: Api) -> None:
    # A host unit whose certificate expired in 2022-04, after it applied on 2022-03-01.
    host = application()["host_unit"] | {"high_tech_certificate": {"number": "GR2021", "valid_until": "2022-04-30"}}
    pid, _ = to_in_publicity(api, host_unit=host)
    assert api.post(f"/platforms/{pid}/notice", "bureau",
                    {"document_ref": "长科发〔2022〕50号", "business_date": "2022-10-11"}).status_code == 200

    # Art. 9(1): a six-month period needs its reason; a one-year one refuses one.
    book = {"task_book_ref": "TB-2022-001", "indicators": [{"name": "服务企业数", "target": "≥200"}],
            "period_start": "2022-11-01", "business_date": "2022-11-01"}
    refused(api.post(f"/platforms/{pid}/task-book", "bureau", book | {"period_end": "2023-04-30"}),
            "period_reason_required", "Art. 9(1)")
    refused(api.post(f"/platforms/{pid}/task-book", "bureau", book | {"period_reason": "无"}),
            "period_reason_not_needed", "Art. 9(1)")
    r = api.post(f"/platforms/{pid}/task-book", "bureau",
                 book | {"period_end": "2023-04-30", "period_reason": "提前完成建设任务，经局务会同意"})
    assert r.status_code == 200, r.text
    task_book = r.json()["task_book"]
    assert (task_book["period_end"], task_book["period_reason"], task_book["version"]) == (
        "2023-04-30", "提前完成建设任务，经局务会同意", 1)

    # Art. 11: an approved change of indicators is task book version 2, effective from its decision.
    change(api, pid, "indicators", [{"name": "开放数据集", "target": "≥5"}, {"name": "服务企业数", "target": "≥200"}],
           "2023-02-01", None)
    after = decide(api, pid, "1", "2023-02-10")["task_book"]
    assert after["version"] == 2
    assert [(v["version"], v["effective_from"], v["document_ref"], v["change_id"]) for v in after["versions"]] == [
        (1, "2022-11-01", "TB-2022-001", None), (2, "2023-02-10", "变更批复-1", "1")]
    assert [i["name"] for i in after["indicators"]] == ["开放数据集", "服务企业数"]

    assert api.post(f"/platforms/{pid}/acceptance-application", "applicant",
                    {"summary": "完成", "business_date": "2023-05-20"}).status_code == 200
    # A change pending holds up the review (Art. 11) until the bureau decides it.
    change(api, pid, "principal", "赵六", "2023-05-21", None)
    review = {"panel": ["expert1", "expert2"], "funds_use_compliant": True, "conclusion": "qualified",
              "indicator_results": [{"name": "开放数据集", "achieved": False},
                                    {"name": "服务企业数", "achieved": True}],
              "business_date": "2023-06-01"}
    refused(api.post(f"/platforms/{pid}/acceptance-review", "service_agency", review), "change_pending", "Art. 11")
    decide(api, pid, "2", "2023-05-25")
    # Art. 9(3): the panel concludes; a qualified conclusion with an indicator missed needs its justification.
    refused(api.post(f"/platforms/{pid}/acceptance-review", "service_agency", review),
            "justification_required", "Art. 9(3)")
    justification = "开放数据集完成4个，差1个；服务企业数达320家，专家组一致认为合格"
    r = api.post(f"/platforms/{pid}/acceptance-review", "service_agency", review | {"justification": justification})
    assert r.status_code == 200, r.text
    acceptance = r.json()["acceptance"]
    assert (acceptance["conclusion"], acceptance["task_book_version"], acceptance["justification"]) == (
        "qualified", 2, justification)

    # No change rewrites the version judged.
    r = api.post(f"/platforms/{pid}/major-changes", "applicant", {
        "kind": "indicators", "description": "验收后", "new_value": [{"name": "新", "target": "1"}],
        "business_date": "2023-06-02"})
    refused(r, "task_book_judged", "Art. 11")

    # Recognition: a pending change (Art. 11), then the expired certificate (Art. 7(1)), hold it up.
    recognition = {"document_ref": "长科发〔2023〕90号", "plaque_no": "CSAI-01", "business_date": "2023-12-05"}
    change(api, pid, "unit_name", "星河智算集团", "2023-06-05", None)
    refused(api.post(f"/platforms/{pid}/recognition", "bureau", recognition), "change_pending", "Art. 11")
    decide(api, pid, "3", "2023-06-10")
    r = api.post(f"/platforms/{pid}/recognition", "bureau", recognition)
    refused(r, "high_tech_certificate_expired", "Art. 7(1)")
    assert "2022-04-30" in r.json()["detail"]
    assert api.post(f"/platforms/{pid}/high-tech-certificate", "applicant", {
        "number": "GR2023", "valid_until": "2026-11-30", "business_date": "2023-12-01"}).status_code == 403
    r = api.post(f"/platforms/{pid}/high-tech-certificate", "bureau", {
        "number": "GR202343000789", "valid_until": "2026-11-30", "business_date": "2023-12-01"})
    assert r.status_code == 200, r.text
    assert api.post(f"/platforms/{pid}/recognition", "bureau", recognition).status_code == 200

    # The grant waits for a pending change too.
    change(api, pid, "budget", "预算调整为800万元", "2023-12-06", None)
    funding = {"joint_document_ref": "长财教〔2023〕9号", "business_date": "2023-12-10"}
    refused(api.post(f"/platforms/{pid}/funding", "finance", funding), "change_pending", "Art. 11")
    decide(api, pid, "4", "2023-12-08")
    r = api.post(f"/platforms/{pid}/funding", "finance", funding)
    assert r.status_code == 200 and r.json()["status"] == "funded"

    # The platform view and its history show the justification and the version judged.
    detail = api.get(f"/platforms/{pid}", "bureau").json()
    assert detail["acceptance"]["justification"] == justification and detail["acceptance"]["task_book_version"] == 2
    book_out = detail["task_book"]
    assert (book_out["version"], book_out["period_reason"]) == (2, "提前完成建设任务，经局务会同意")
    history = api.get(f"/platforms/{pid}/history", "auditor").json()["items"]
    reviewed = next(e for e in history if e["type"] == "AcceptanceReviewed")
    assert reviewed["data"]["justification"] == justification and reviewed["data"]["task_book_version"] == 2
    renewed = next(e for e in history if e["type"] == "HighTechCertificateRenewed")
    assert renewed["data"]["certificate"] == {"number": "GR202343000789", "valid_until": "2026-11-30"}


def to_inspected(api: Api, subfield: str) -> str:
    r = api.post("/platforms", "applicant", application(subfield=subfield, name=f"{subfield}平台二"))
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert api.post(f"/platforms/{pid}/intake", "service_agency",
                    {"decision": "accepted", "reasons": "ok", "business_date": "2022-03-05"}).status_code == 200
    for i in range(1, 6):
        assert api.post(f"/platforms/{pid}/scores", f"expert{i}",
                        {"scores": scores(api), "business_date": "2022-03-10"}).status_code == 200
    assert api.post(f"/platforms/{pid}/inspection", "bureau",
                    {"passed": True, "findings": "fine", "business_date": "2022-04-01"}).status_code == 200
    return pid


def test_art4_art5_subfield_admitted_by_decision_then_applied_for_once(api: Api) -> None:
    r = api.post("/platforms", "applicant", application(subfield=NEW))
    assert r.status_code == 422 and r.json()["code"] == "unknown_subfield"

    admission = {"name": NEW, "document_ref": "长科发〔2022〕8号", "reasons": "具身智能产业急需",
                 "business_date": "2022-02-15"}
    assert api.post("/subfields", "applicant", admission).status_code == 403
    r = api.post("/subfields", "bureau", {k: v for k, v in admission.items() if k != "document_ref"})
    assert r.status_code == 422
    r = api.post("/subfields", "bureau", admission | {"name": "智能\u202e芯片"})  # the edge's text rules
    assert r.status_code == 422
    r = api.post("/subfields", "bureau", admission)
    assert r.status_code == 201, r.text
    assert r.json() | {"position": 0} == {"policy": "长科发〔2021〕36号", "subfield": NEW,
                                          "document_ref": "长科发〔2022〕8号", "reasons": "具身智能产业急需",
                                          "admitted_on": "2022-02-15", "position": 0}
    refused(api.post("/subfields", "bureau", admission | {"name": "智能芯片"}), "subfield_already_listed", "Art. 4")

    pid, _ = to_in_publicity(api, subfield=NEW)
    registry = {i["name"]: i for i in api.get("/subfields", None).json()["items"]}
    assert registry[NEW]["admission"] == {"document_ref": "长科发〔2022〕8号", "reasons": "具身智能产业急需",
                                          "admitted_on": "2022-02-15"}
    assert registry[NEW]["holder"]["id"] == pid

    # Art. 5: one platform per admitted subfield too.
    second = to_inspected(api, NEW)
    r = api.post(f"/platforms/{second}/approval", "bureau", {
        "party_group_meeting_ref": "PG-2", "vice_mayor_approval_ref": "VM-2", "funding_plan_ref": "FP-2",
        "business_date": "2022-09-01"})
    refused(r, "subfield_taken", "Art. 5")
