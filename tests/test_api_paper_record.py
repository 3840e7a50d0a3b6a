"""The paper record through the HTTP API, on SQLite and PostgreSQL: a paper application and a
review meeting's score sheets recorded by a clerk on behalf of the host unit and the experts,
paper objections dated on the day they were received (Art. 8(6)), and history and the audit log
naming both who acted and who recorded it."""

from __future__ import annotations

from datetime import date

from freezegun import freeze_time

from api_client import EXPERT_AFFILIATIONS, HOST, Api, application, scores, to_in_publicity

RULING = {"handling_opinion": "经核实", "vice_mayor_decision_ref": "VMD-9"}
NOTICE = {"document_ref": "长科发〔2022〕51号", "business_date": "2022-10-13"}


def paper_application(api: Api, user: str = "service_agency", **over) -> str:
    r = api.post("/platforms", user, application(document_ref="收件〔2022〕017号", **over))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def sheet(i: int, affiliation: str, api: Api) -> dict:
    return {"expert_id": f"pool-{i}", "expert_name": f"专家{i}", "affiliation": affiliation,
            "scores": scores(api), "comment": "同意"}


def history(api: Api, pid: str) -> list[dict]:
    return api.get(f"/platforms/{pid}/history", "auditor").json()["items"]


def test_art8_1_paper_application_recorded_by_the_agency_shows_host_unit_and_clerk(api: Api) -> None:
    pid = paper_application(api)
    detail = api.get(f"/platforms/{pid}", "bureau").json()
    assert detail["stage_dates"]["applied"] == "2022-03-01" and detail["policy"] == "长科发〔2021〕36号"
    applied = history(api, pid)[0]
    assert (applied["type"], applied["actor"], applied["role"]) == ("Applied", HOST, "applicant")
    assert applied["recorded_by"] == {"actor_id": "service_agency", "role": "service_agency"}
    assert applied["business_date"] == "2022-03-01" and applied["document_refs"] == ["收件〔2022〕017号"]
    # The auditors' log says the same, and the host unit's own account sees its platform.
    log = api.get("/audit/log", "auditor").json()["items"]
    entry = next(e for e in log if e["platform_id"] == pid and e["type"] == "Applied")
    assert (entry["actor"], entry["recorded_by"]) == (HOST, {"actor_id": "service_agency", "role": "service_agency"})
    assert api.get(f"/platforms/{pid}", "applicant").status_code == 200
    # The applicant's own acts name no recorder.
    r = api.post(f"/platforms/{pid}/withdrawal", "applicant", {"reasons": "调整方向"})
    assert r.status_code == 200
    assert history(api, pid)[-1]["recorded_by"] is None


def test_art8_1_a_clerks_idempotency_keys_are_the_clerks_not_the_host_units(api: Api) -> None:
    # Two clerks key in two dossiers of one host unit, each with its own key "1".
    key = {"Idempotency-Key": "1"}
    first = api.post("/platforms", "bureau", application(document_ref="收件-1", name="甲平台"), **key)
    second = api.post("/platforms", "service_agency", application(document_ref="收件-2", name="乙平台"), **key)
    assert (first.status_code, second.status_code) == (201, 201) and first.json()["id"] != second.json()["id"]
    again = api.post("/platforms", "bureau", application(document_ref="收件-1", name="甲平台"), **key)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json()["id"] == first.json()["id"]


def test_art8_1_paper_application_needs_its_receipt_date_and_dossier(api: Api) -> None:
    body = application(document_ref="收件〔2022〕018号")
    del body["business_date"]
    r = api.post("/platforms", "bureau", body)
    assert r.status_code == 422 and (r.json()["code"], r.json()["field"]) == ("business_date_required", "business_date")
    r = api.post("/platforms", "bureau", application())
    assert r.status_code == 422 and (r.json()["code"], r.json()["field"]) == ("reference_required", "document_ref")
    # Finance records its own acts, not a host unit's.
    assert api.post("/platforms", "finance", application(document_ref="收件")).status_code == 403


def test_art8_1_an_applicant_applying_for_itself_still_applies_today(api: Api) -> None:
    # Sent today with a 2022 date (not through Api.post, which sends it on that day).
    r = api.client.post("/api/v1/platforms", json=application(), headers=api.headers("applicant"))
    assert r.status_code == 422 and r.json()["code"] == "business_date_not_today"


def test_art8_3_review_meeting_score_sheets_recorded_by_the_agency(api: Api) -> None:
    pid = paper_application(api)
    assert api.post(f"/platforms/{pid}/intake", "service_agency",
                    {"decision": "accepted", "business_date": "2022-03-05"}).status_code == 200
    version = api.get(f"/platforms/{pid}", "bureau").json()["version"]
    meeting = {"business_date": "2022-04-15", "meeting_ref": "评审会〔2022〕3号"}
    # One sheet from an expert of the host unit: refused as online, and nothing of the meeting recorded.
    conflicted = [sheet(i, EXPERT_AFFILIATIONS[i], api) for i in range(4)] + [sheet(4, HOST, api)]
    r = api.post(f"/platforms/{pid}/score-sheets", "service_agency", {**meeting, "sheets": conflicted})
    assert r.status_code == 409 and (r.json()["code"], r.json()["article"]) == (
        "expert_conflict_of_interest", "Art. 8(3)")
    assert api.get(f"/platforms/{pid}", "bureau").json()["version"] == version
    r = api.post(f"/platforms/{pid}/score-sheets", "service_agency",
                 {**meeting, "sheets": [sheet(i, EXPERT_AFFILIATIONS[i], api) for i in range(5)]})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "reviewed" and r.json()["review"]["experts"] == 5
    scored = [e for e in history(api, pid) if e["type"] == "Scored"]
    assert [e["actor"] for e in scored] == [f"pool-{i}" for i in range(5)]
    assert all(e["role"] == "expert" and e["business_date"] == "2022-04-15" for e in scored)
    assert scored[0]["recorded_by"] == {"actor_id": "service_agency", "role": "service_agency"}
    assert (scored[0]["data"]["expert_name"], scored[0]["data"]["affiliation"]) == ("专家0", EXPERT_AFFILIATIONS[0])
    assert scored[0]["document_refs"] == ["评审会〔2022〕3号"]
    # Experts and applicants record nothing on anyone's behalf.
    assert api.post(f"/platforms/{pid}/score-sheets", "expert1", {**meeting, "sheets": conflicted}).status_code == 403


def test_art8_3_an_expert_scoring_for_themselves_still_scores_today(api: Api) -> None:
    pid = paper_application(api)
    api.post(f"/platforms/{pid}/intake", "service_agency", {"decision": "accepted", "business_date": "2022-03-05"})
    r = api.client.post(f"/api/v1/platforms/{pid}/scores", json={"scores": scores(api), "business_date": "2022-04-15"},
                        headers=api.headers("expert1"))
    assert r.status_code == 422 and r.json()["code"] == "business_date_not_today"


def approved(api: Api) -> str:
    """A platform applied 2022-03-01 and approved 2022-09-01, not yet publicized."""
    pid = paper_application(api)
    api.post(f"/platforms/{pid}/intake", "service_agency", {"decision": "accepted", "business_date": "2022-03-05"})
    for i in range(1, 6):
        api.post(f"/platforms/{pid}/scores", f"expert{i}", {"scores": scores(api), "business_date": "2022-03-10"})
    api.post(f"/platforms/{pid}/inspection", "bureau", {"passed": True, "business_date": "2022-04-01"})
    r = api.post(f"/platforms/{pid}/approval", "bureau", {
        "party_group_meeting_ref": "PG-2", "vice_mayor_approval_ref": "VM-2", "funding_plan_ref": "FP-2",
        "business_date": "2022-09-01"})
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    return pid


def test_art8_6_list_published_on_national_day_admits_objections_from_publication(api: Api) -> None:
    pid = approved(api)
    r = api.post("/publicity-batches", "bureau", {"batch_ref": "公示-国庆", "media": "长沙晚报",
                                                  "start_date": "2022-10-01",
                                                  "platform_ids": [pid], "business_date": "2022-09-30"})
    assert r.status_code == 201 and (r.json()["first_day"], r.json()["end_date"]) == ("2022-10-08", "2022-10-12")
    body = {"objector_name": "张三", "contact": "13800138000", "content": "申报数据不实，请予核查"}
    # Online on National Day, half an hour after midnight in Changsha (still 09-30 in UTC).
    with freeze_time("2022-10-01T00:30:00+08:00"):
        r = api.post(f"/platforms/{pid}/objections", None, body)
    assert r.status_code == 200 and r.json() == {**r.json(), "admissible": True, "received_on": "2022-10-01"}
    # A letter stamped 10-03, keyed in by the bureau later.
    r = api.post(f"/platforms/{pid}/objections", "bureau", {**body, "business_date": "2022-10-03"})
    assert r.status_code == 200 and r.json()["admissible"] is True
    line = next(b for b in api.get("/publicity-list", None).json()["items"] if b["batch_ref"] == "公示-国庆")
    assert line["platforms"][0] | {"objections": 2, "late_objections": 0, "outcome": "pending"} == line["platforms"][0]
    r = api.post(f"/platforms/{pid}/notice", "bureau", NOTICE)
    assert r.status_code == 409 and r.json()["code"] == "objections_unresolved"
    for oid in ("1", "2"):
        r = api.post(f"/platforms/{pid}/objections/{oid}/resolution", "bureau",
                     {"outcome": "dismissed", **RULING, "business_date": "2022-10-13"})
        assert r.status_code == 200, r.text
    r = api.post(f"/platforms/{pid}/notice", "bureau", NOTICE)
    assert r.status_code == 200 and r.json()["status"] == "notified"


def test_art8_6_paper_objection_recorded_after_the_notice_is_flagged_and_upheld_rescinds_with_release(
        api: Api) -> None:
    pid, _ = to_in_publicity(api)  # window 2022-09-29 .. 10-10
    body = {"objector_name": "王五", "contact": "x@example.com", "content": "依托单位存在失信记录"}
    r = api.post(f"/platforms/{pid}/notice", "bureau", {**NOTICE, "business_date": "2022-10-11"})
    assert r.status_code == 200 and r.json()["flagged_objections"] == []
    r = api.post(f"/platforms/{pid}/objections", "bureau", {**body, "business_date": "2022-10-10"})
    assert r.status_code == 200 and r.json()["admissible"] is True
    assert r.json()["status"] == "notified" and r.json()["flagged_objections"] == ["1"]
    assert api.get(f"/platforms/{pid}", "bureau").json()["flagged_objections"] == ["1"]
    objected = history(api, pid)[-1]
    assert (objected["actor"], objected["role"], objected["business_date"]) == ("public", "public", "2022-10-10")
    assert objected["recorded_by"] == {"actor_id": "bureau", "role": "bureau"}
    assert objected["data"]["after_notice"] is True
    r = api.post(f"/platforms/{pid}/objections/1/resolution", "bureau",
                 {"outcome": "upheld", **RULING, "business_date": "2022-10-20"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert r.json()["flagged_objections"] == []
    ledger = api.get("/funding-ledger", "finance").json()
    mine = [(e["kind"], e["amount"], e["business_date"]) for e in ledger["entries"] if e["platform_id"] == pid]
    assert mine == [("commitment", "1000000.00", "2022-09-01"), ("release", "1000000.00", "2022-10-20")]
    line = api.get("/publicity-list", None).json()["items"][0]["platforms"][0]
    assert (line["objections"], line["late_objections"], line["outcome"]) == (1, 0, "upheld")
    assert date.fromisoformat(api.get(f"/platforms/{pid}", "bureau").json()["stage_dates"]["rejected"]) == date(
        2022, 10, 20)
