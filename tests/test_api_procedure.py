"""The whole procedure of 长科发〔2021〕36号 through the HTTP API, by every role, on SQLite and
PostgreSQL; then every query, read-your-writes, history and time travel."""

from __future__ import annotations

from itertools import pairwise

from api_client import HOST, Api, application, scores, to_in_publicity


def test_whole_procedure_by_every_role(api: Api) -> None:
    pid, batch_position = to_in_publicity(api)

    # Read your writes: the publicity list reflects the batch at its position.
    batches = api.get("/publicity-list", None, min_position=batch_position).json()["items"]
    assert batches[0]["end_date"] == "2022-10-10"  # across National Day 2022
    assert batches[0]["platforms"][0]["id"] == pid

    # The bureau records a paper objection received in the window; the public objects today (late).
    r = api.post(f"/platforms/{pid}/objections", "bureau",
                 {"objector_name": "张三", "contact": "13800138000", "content": "申报数据不实，请予核查",
                  "business_date": "2022-10-09"})
    assert r.status_code == 200 and r.json()["admissible"] is True
    first = r.json()["objection_id"]

    # Notice refused while an objection is pending, citing the article and policy.
    notice = {"document_ref": "长科发〔2022〕50号", "business_date": "2022-10-11"}
    r = api.post(f"/platforms/{pid}/notice", "bureau", notice)
    assert r.status_code == 409
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "objections_unresolved" and problem["article"] == "Art. 8(7)"
    assert problem["policy"] == "长科发〔2021〕36号"

    r = api.post(f"/platforms/{pid}/objections/{first}/resolution", "bureau",
                 {"outcome": "dismissed", "handling_opinion": "不成立", "vice_mayor_decision_ref": "VMD-1",
                  "business_date": "2022-10-11"})
    assert r.status_code == 200, r.text
    version = r.json()["version"]
    # If-Match: a stale version is 412, the current one passes.
    r = api.post(f"/platforms/{pid}/notice", "bureau", notice, **{"If-Match": str(version - 1)})
    assert r.status_code == 412 and r.json()["code"] == "stale_version"
    r = api.post(f"/platforms/{pid}/notice", "bureau", notice, **{"If-Match": f'"{version}"'})
    assert r.status_code == 200 and r.json()["status"] == "notified"

    r = api.post(f"/platforms/{pid}/task-book", "bureau", {
        "task_book_ref": "TB-2022-001", "indicators": [{"name": "服务企业数", "target": "≥200"}],
        "period_start": "2022-11-01", "business_date": "2022-11-01"})
    assert r.status_code == 200 and r.json()["task_book"]["acceptance_due"] == "2023-11-30"

    r = api.post(f"/platforms/{pid}/major-changes", "applicant", {
        "kind": "unit_name", "description": "更名", "new_value": "星河智算集团", "business_date": "2023-02-01"})
    assert r.status_code == 200 and r.json()["change_id"] == "1"
    r = api.post(f"/platforms/{pid}/major-changes/1/decision", "bureau",
                 {"approved": True, "reasons": "同意", "business_date": "2023-02-10"})
    assert r.status_code == 200 and r.json()["host_unit"]["name"] == "星河智算集团"

    assert api.post(f"/platforms/{pid}/acceptance-application", "applicant",
                    {"summary": "完成", "business_date": "2023-11-20"}).status_code == 200
    r = api.post(f"/platforms/{pid}/acceptance-review", "service_agency", {
        "panel": ["expert1", "expert2"], "indicator_results": [{"name": "服务企业数", "achieved": True}],
        "funds_use_compliant": True, "conclusion": "qualified", "business_date": "2023-12-01"})
    assert r.status_code == 200 and r.json()["status"] == "qualified"
    assert api.post(f"/platforms/{pid}/recognition", "bureau",
                    {"document_ref": "长科发〔2023〕90号", "plaque_no": "CSAI-01", "business_date": "2023-12-05"}
                    ).status_code == 200
    r = api.post(f"/platforms/{pid}/funding", "finance",
                 {"joint_document_ref": "长财教〔2023〕9号", "amount": "999999.00", "business_date": "2023-12-10"})
    assert r.status_code == 409 and r.json()["code"] == "funding_amount_mismatch"
    r = api.post(f"/platforms/{pid}/funding", "finance",
                 {"joint_document_ref": "长财教〔2023〕9号", "amount": "1000000.00", "business_date": "2023-12-10"})
    assert r.status_code == 200 and r.json()["funding"]["disbursed"] == "1000000.00"
    r = api.post(f"/platforms/{pid}/revocation", "bureau", {
        "ground": "serious_adverse_impact", "document_ref": "长科发〔2024〕3号", "reasons": "事故",
        "business_date": "2024-02-01"})
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    r = api.post(f"/platforms/{pid}/recovery", "finance", {
        "amount": "400000.00", "document_ref": "长财教〔2024〕2号", "reasons": "退回", "business_date": "2024-02-20"})
    assert r.status_code == 200, r.text
    position = r.json()["position"]

    # Queries, reading our own writes.
    detail = api.get(f"/platforms/{pid}", "applicant", min_position=position).json()
    assert detail["status"] == "revoked" and detail["funding"]["recovered"] == "400000.00"
    listed = api.get("/platforms", "bureau", min_position=position, status="revoked").json()
    assert [p["id"] for p in listed["items"]] == [pid]
    assert api.get("/platforms", "applicant").json()["items"][0]["id"] == pid
    ledger = api.get("/funding-ledger", "finance", min_position=position).json()
    assert ledger["totals"]["disbursed"] == "1000000.00" and ledger["totals"]["recovered"] == "400000.00"
    csv = api.get("/funding-ledger.csv", "auditor")
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbf")
    subfields = api.get("/subfields", None).json()["items"]
    assert len(subfields) == 18
    assert next(s for s in subfields if s["name"] == "智能算力")["holder"] is None  # revocation frees it
    assert api.get("/deadlines", "bureau").status_code == 200
    assert api.get("/policies", None).json()["items"][0]["policy"] == "长科发〔2021〕36号"

    # History: every event, chained; the applicant does not see objectors' identities.
    history = api.get(f"/platforms/{pid}/history", "auditor").json()["items"]
    assert [e["sequence"] for e in history] == list(range(1, len(history) + 1))
    assert all(b["prev_hash"] == a["hash"] for a, b in pairwise(history))
    # The paper objection is the objector's act, recorded by the bureau's clerk.
    assert [(e["actor"], e["recorded_by"]) for e in history if e["type"] == "Objected"] == [
        ("public", {"actor_id": "bureau", "role": "bureau"})]
    own = api.get(f"/platforms/{pid}/history", "applicant").json()["items"]
    assert "张三" not in str(own)
    assert {e["actor"] for e in history if e["type"] == "Scored"} == {f"expert{i}" for i in range(1, 6)}

    # Time travel (auditor, bureau): as of a version and as of a business date.
    v1 = api.get(f"/platforms/{pid}", "auditor", as_of_version=1).json()
    assert v1["status"] == "applied" and v1["version"] == 1
    assert api.get(f"/platforms/{pid}", "bureau", as_of_date="2022-10-01").json()["status"] == "in_publicity"
    assert api.get(f"/platforms/{pid}", "applicant", as_of_version=1).status_code == 403


def test_applicants_are_bound_to_their_host_unit(api: Api) -> None:
    r = api.post("/platforms", "other_applicant", application())
    assert r.status_code == 403
    pid = api.post("/platforms", "applicant", application()).json()["id"]
    # Before publicity another unit's applicant cannot even see it.
    assert api.get(f"/platforms/{pid}", "other_applicant").status_code == 404
    assert api.post(f"/platforms/{pid}/withdrawal", "other_applicant", {"reasons": "x"}).status_code == 404
    assert api.get("/platforms", "other_applicant").json()["items"] == []
    assert api.get("/platforms", "other_applicant", host_credit_code=HOST).status_code == 403
    # A conflicted expert (affiliated with the host unit) must recuse.
    api.post(f"/platforms/{pid}/intake", "service_agency", {"decision": "accepted", "business_date": "2022-03-05"})
    r = api.post(f"/platforms/{pid}/scores", "expert_conflicted",
                 {"scores": scores(api), "business_date": "2022-03-10"})
    assert r.status_code == 409 and r.json()["code"] == "expert_conflict_of_interest"
    r = api.post(f"/platforms/{pid}/withdrawal", "applicant", {"reasons": "调整方向"})
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"


def test_upheld_objection_rescinds_and_notice_is_refused(api: Api) -> None:
    pid, _ = to_in_publicity(api)
    oid = api.post(f"/platforms/{pid}/objections", "bureau",
                   {"objector_name": "王五", "contact": "x@example.com", "content": "依托单位存在失信记录",
                    "business_date": "2022-09-30"}).json()["objection_id"]
    r = api.post(f"/platforms/{pid}/objections/{oid}/resolution", "bureau",
                 {"outcome": "upheld", "handling_opinion": "属实", "vice_mayor_decision_ref": "VMD-2",
                  "business_date": "2022-10-12"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    r = api.post(f"/platforms/{pid}/notice", "bureau", {"document_ref": "D", "business_date": "2022-10-13"})
    assert r.status_code == 409 and r.json()["code"] == "wrong_stage"
    # The public objects without an account, always today (a body business_date is ignored):
    # long after this window, so it is recorded but not admissible.
    r = api.post(f"/platforms/{pid}/objections", None,
                 {"objector_name": "李四", "contact": "13900139000", "content": "迟到的意见：数据不实",
                  "business_date": "2022-10-09"})
    assert r.status_code == 200 and r.json()["admissible"] is False
    history = api.get(f"/platforms/{pid}/history", "auditor").json()["items"]
    assert history[-1]["actor"] == "public" and history[-1]["business_date"] != "2022-10-09"
