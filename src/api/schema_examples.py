"""The examples of the OpenAPI document (接口示例): one believable round of the programme, from the
application of 星河智能算力开放创新平台 to its grant, as :mod:`api.schemas` shows it to client
developers.

The values are the demonstration programme's (:mod:`api.demo`): invented host units whose credit
codes carry a correct check character (Art. 8(1)), the real policy 长科发〔2021〕36号 and its dates.
Each body and each answer is whole and valid for its model; tests/test_openapi_complete.py
validates every one, so they change with the models or the test fails. schemathesis sends the
bodies in its explicit phase.
"""

from __future__ import annotations

from typing import Any

POLICY = "长科发〔2021〕36号"
PLATFORM_ID = "96a668fc-affb-4404-ab9c-de6b3276cd99"
SECOND_PLATFORM_ID = "52b30fac-e5d2-47e5-8c4f-9dfbcf8343ee"
BATCH_ID = "0a0820a8-d1d6-554f-88e0-c8fac4c316d1"
PLATFORM_NAME = "星河智能算力开放创新平台"
SUBFIELD = "智能算力"
HOST_NAME = "湖南星河智算科技有限公司"
HOST_CODE = "91430100MA4L16JQ9D"
CO_BUILDER_CODE = "12100000444870000Q"
EXPERT_CODE = "12430000444876000L"
BATCH_REF = "长科公示〔2022〕1号"
MEDIA = "长沙晚报、长沙市科学技术局网站"
TOKEN = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJidXJlYXUiLCJyb2xlIjoiYnVyZWF1IiwiY3JlZGl0X2NvZGUiOm51"
         "bGwsInZlciI6MCwiaXNzIjoicGxhdGZvcm0tcmVnaXN0cnkiLCJpYXQiOjE3OTYwMjAyMDEsImV4cCI6MTc5NjAyMzgwMX0."
         "9jiDy2PpDv2AHg2IltGIycJB3fYVbhrvlMHxn-FZTzs")
HASH = "51bef86942bdd813b83584790c30e6b8ecde82e98427efc82f36f5bcaaae786e"
PREV_HASH = "0000000000000000000000000000000000000000000000000000000000000000"

# ---------------------------------------------------------------------------- request bodies
CERTIFICATE = {"number": "GR202143000123", "valid_until": "2024-12-31"}
HOST_UNIT = {"name": HOST_NAME, "credit_code": HOST_CODE, "high_tech_certificate": CERTIFICATE}
CO_BUILDER = {"name": "中南大学", "credit_code": CO_BUILDER_CODE}
ACHIEVEMENT = {"title": "智算调度系统", "stage": "industrial"}
BASIC_CONDITIONS = {"technical_strength": "省级以上研发平台，发明专利30项",
                    "open_sharing": "面向中小企业开放共享服务，年服务200家以上",
                    "service_mechanism": "理事会领导下的主任负责制，服务考核办法已制定"}
APPLY = {"name": PLATFORM_NAME, "subfield": SUBFIELD, "host_unit": HOST_UNIT, "co_builders": [CO_BUILDER],
         "commitments": "每年投入不少于1000万元研发经费，专职团队不少于50人，开放算力与数据资源",
         "achievements": [ACHIEVEMENT], "basic_conditions": BASIC_CONDITIONS}
INTAKE = {"decision": "accepted", "reasons": "材料齐全，予以受理", "business_date": "2021-12-20",
          "document_ref": "长生促受〔2021〕12号"}
SCORES = {"technical_strength": 22, "open_sharing_capability": 23, "operating_mechanism": 18,
          "host_unit_commitment": 13, "pilot_or_industrial_results": 13}
SCORING = {"scores": SCORES, "comment": "算力调度技术领先，开放服务机制健全"}
SCORE_SHEET = {"expert_id": "expert1", "expert_name": "张伟", "affiliation": EXPERT_CODE, "scores": SCORES,
               "comment": "算力调度技术领先，开放服务机制健全"}
SCORE_SHEETS = {"business_date": "2022-03-10", "meeting_ref": "评审会议纪要〔2022〕3号", "sheets": [SCORE_SHEET]}
INSPECTION = {"passed": True, "findings": "现场考察情况与申报材料相符", "business_date": "2022-04-08",
              "document_ref": "考察报告〔2022〕5号"}
APPROVAL = {"party_group_meeting_ref": "局党组会议纪要〔2022〕1号",
            "vice_mayor_approval_ref": "市政府分管副市长批示〔2022〕1号", "funding_plan_ref": "长财教〔2022〕1号",
            "business_date": "2022-05-20"}
PUBLICITY_BATCH = {"batch_ref": BATCH_REF, "media": MEDIA, "start_date": "2022-06-06",
                   "platform_ids": [PLATFORM_ID, SECOND_PLATFORM_ID], "business_date": "2022-06-02"}
OBJECTION = {"objector_name": "李明", "contact": "0731-88888888",
             "content": "该平台申报的发明专利数量与实际不符，请予核实。"}
OBJECTION_RESOLUTION = {"outcome": "dismissed",
                        "handling_opinion": "经与市财政局核实，异议所述情况不属实，维持审定结果",
                        "vice_mayor_decision_ref": "副市长批示〔2022〕17号", "business_date": "2022-06-20"}
NOTICE = {"document_ref": "长科发〔2022〕41号", "business_date": "2022-06-24"}
INDICATORS = [{"name": "开放服务企业数", "target": "≥200家"}, {"name": "新增发明专利", "target": "≥10项"},
              {"name": "行业标准", "target": "≥1项"}]
TASK_BOOK = {"task_book_ref": "建设任务书-2022-001", "indicators": INDICATORS, "period_start": "2022-07-01",
             "period_end": "2023-06-30", "business_date": "2022-07-01"}
MAJOR_CHANGE = {"kind": "unit_name", "description": "完成股份制改造，单位更名",
                "new_value": "湖南星河智算科技股份有限公司", "document_ref": "星河智算〔2023〕5号"}
CHANGE_DECISION = {"approved": True, "reasons": "更名不影响建设任务，同意", "business_date": "2023-03-01",
                   "document_ref": "长科函〔2023〕12号"}
ACCEPTANCE_APPLICATION = {"summary": "建设任务已按任务书完成：开放服务企业236家，新增发明专利12项，"
                                     "牵头制定行业标准1项；建设经费使用合规，提交验收材料"}
INDICATOR_RESULTS = [{"name": "开放服务企业数", "achieved": True}, {"name": "新增发明专利", "achieved": True},
                     {"name": "行业标准", "achieved": True}]
ACCEPTANCE_REVIEW = {"panel": ["张伟", "李娜", "王强"], "indicator_results": INDICATOR_RESULTS,
                     "funds_use_compliant": True, "conclusion": "qualified", "business_date": "2023-08-15",
                     "document_ref": "验收意见〔2023〕1号"}
RENEWED_CERTIFICATE = {"number": "GR202343000456", "valid_until": "2026-12-31", "business_date": "2023-12-20",
                       "document_ref": "湘科高〔2023〕7号"}
SUBFIELD_ADMISSION = {"name": "智能农业", "document_ref": "长科发〔2022〕8号",
                      "reasons": "农业智能化应用需求迫切，经局务会研究增列", "policy": POLICY,
                      "business_date": "2022-02-15"}
RECOGNITION = {"document_ref": "长科发〔2023〕61号", "plaque_no": "CSAI-2023-01", "business_date": "2023-09-05"}
FUNDING = {"joint_document_ref": "长财教〔2023〕81号", "amount": "1000000.00", "business_date": "2023-09-20"}
RECOVERY = {"amount": "1000000.00", "document_ref": "长财教〔2024〕51号",
            "reasons": "平台被撤销，依托单位退回建设经费", "business_date": "2024-07-30"}
REVOCATION = {"ground": "serious_adverse_impact", "document_ref": "长科发〔2024〕33号",
              "reasons": "依托单位发生重大数据安全事件，造成严重社会不良影响", "business_date": "2024-06-18"}
WITHDRAWAL = {"reasons": "因企业战略调整，申请撤回认定申请", "document_ref": "星河智算〔2022〕2号"}
TERMINATION = {"ground": "acceptance_deadline_missed", "document_ref": "长科发〔2023〕98号",
               "reasons": "执行期满后未在规定期限内提出验收申请", "business_date": "2023-12-15"}
LATE_ACCEPTANCE = {"justification": "依托单位因主要负责人变更延误申请，验收材料已齐备，经局务会研究同意受理",
                   "document_ref": "长科函〔2023〕90号", "business_date": "2023-08-10"}
CHECKPOINT_TEXT = "kjj.changsha.gov.cn/platform-registry\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
COSIGNATURE_LINE = ("— sjj.changsha.example/witness GJ4XiAAAAABpJc4T0PXCAUYjH/+I88o/Z3j2AweOHh8Jlf0bzRPQsBWXV8Jd"
                    "BG2d8x8Dup/F6XIjZiXHpFXKPPdCQlntX38BHXVTDA==")
COSIGNATURE = {"checkpoint": CHECKPOINT_TEXT, "cosignature": COSIGNATURE_LINE}
SIGN_IN = {"grant_type": "password", "username": "bureau", "password": "example-password-of-the-account"}
ARCHIVE_LINE = ('{"act": "admit_subfield", "actor": {"id": "bureau-1", "role": "bureau"}, "business_date": '
                '"2022-02-15", "documents": ["长科发〔2022〕8号"], "data": {"name": "智能农业", "reasons": '
                '"农业智能化应用需求迫切，经局务会研究增列"}}\n')

# ---------------------------------------------------------------------------- answers
TOKEN_ANSWER = {"access_token": TOKEN, "token_type": "bearer", "expires_in": 3600, "role": "bureau"}
HOST_UNIT_OUT = {"name": HOST_NAME, "credit_code": HOST_CODE}
REVIEW = {"experts": 5, "result": "88.67", "method": "trimmed_mean"}
PUBLICITY = {"batch_id": BATCH_ID, "batch_ref": BATCH_REF, "media": MEDIA, "start_date": "2022-06-06",
             "first_day": "2022-06-06", "end_date": "2022-06-10"}
OBJECTION_OUT = {"objection_id": "1", "received_on": "2022-06-08", "admissible": True, "outcome": "dismissed"}
TASK_BOOK_VERSION = {"version": 1, "indicators": INDICATORS, "effective_from": "2022-07-01",
                     "document_ref": "建设任务书-2022-001", "change_id": None}
TASK_BOOK_OUT = {"task_book_ref": "建设任务书-2022-001", "indicators": INDICATORS, "period_start": "2022-07-01",
                 "period_end": "2023-06-30", "acceptance_due": "2023-07-31", "version": 1, "period_reason": None,
                 "versions": [TASK_BOOK_VERSION]}
FUNDING_OUT = {"committed": "1000000.00", "disbursed": "1000000.00", "recovered": "0.00"}
DEADLINES = {"publicity_end": "2022-06-10", "acceptance_due": "2023-07-31", "acceptance_missed_on": None,
             "late_acceptance_admitted_on": None}
TERMINATION_OUT = {"ground": "acceptance_deadline_missed", "document_ref": "长科发〔2023〕98号",
                   "reasons": "执行期满后未在规定期限内提出验收申请", "terminated_on": "2023-12-15"}
PLATFORM_ITEM = {"id": PLATFORM_ID, "name": PLATFORM_NAME, "subfield": SUBFIELD, "host_unit": HOST_UNIT_OUT,
                 "status": "funded", "version": 18}
MAJOR_CHANGE_OUT = {"change_id": "1", "kind": "unit_name", "description": "完成股份制改造，单位更名",
                    "new_value": "湖南星河智算科技股份有限公司", "reported_on": "2023-02-15", "decision": "approved",
                    "reasons": "更名不影响建设任务，同意", "decided_on": "2023-03-01"}
PLATFORM = {
    **PLATFORM_ITEM, "policy": POLICY,
    "stage_dates": {"applied": "2021-12-06", "accepted": "2021-12-20", "reviewed": "2022-03-10",
                    "inspected": "2022-04-08", "approved": "2022-05-20", "in_publicity": "2022-06-02",
                    "notified": "2022-06-24", "under_construction": "2022-07-01", "acceptance_applied": "2023-07-10",
                    "qualified": "2023-08-15", "recognized": "2023-09-05", "funded": "2023-09-20"},
    "review": REVIEW,
    "inspection": {"passed": True, "findings": "现场考察情况与申报材料相符", "date": "2022-04-08"},
    "approval": {key: APPROVAL[key] for key in ("party_group_meeting_ref", "vice_mayor_approval_ref",
                                                "funding_plan_ref")} | {"subfield_exception": None},
    "publicity": PUBLICITY, "objections": [OBJECTION_OUT], "flagged_objections": [],
    "notice_ref": "长科发〔2022〕41号", "task_book": TASK_BOOK_OUT, "major_changes": [MAJOR_CHANGE_OUT],
    "acceptance": {"summary": "建设任务已按任务书完成，提交验收材料", "early": False, "applied_on": "2023-07-10",
                   "late_admitted": False, "panel": ["张伟", "李娜", "王强"], "indicator_results": INDICATOR_RESULTS,
                   "funds_use_compliant": True, "conclusion": "qualified", "reviewed_on": "2023-08-15",
                   "task_book_version": 1, "justification": None},
    "recognition": {"document_ref": "长科发〔2023〕61号", "plaque_no": "CSAI-2023-01", "recognized_on": "2023-09-05"},
    "funding": FUNDING_OUT, "end_reason": None, "late_acceptance": None, "termination": None,
    "deadlines": DEADLINES,
}
COMMAND_ANSWER = {**PLATFORM, "position": 188}
OBJECTION_ANSWER = {**COMMAND_ANSWER, "objection_id": "1", "admissible": True}
OBJECTION_RECEIPT = {"objection_id": "1", "admissible": True, "received_on": "2022-06-08", "position": 57}
CHANGE_ANSWER = {**COMMAND_ANSWER, "change_id": "1"}
SUBFIELD_ADMISSION_ANSWER = {"policy": POLICY, "subfield": "智能农业", "document_ref": "长科发〔2022〕8号",
                             "reasons": "农业智能化应用需求迫切，经局务会研究增列", "admitted_on": "2022-02-15",
                             "position": 3}
PLATFORM_PAGE = {"items": [PLATFORM_ITEM], "next_cursor": "cDox", "total": 3}
PUBLICITY_PLATFORM = {"id": PLATFORM_ID, "name": PLATFORM_NAME, "host_unit": HOST_UNIT_OUT, "subfield": SUBFIELD,
                      "objections": 1, "late_objections": 0, "outcome": "dismissed"}
PUBLICITY_BATCH_OUT = {"batch_ref": BATCH_REF, "media": MEDIA, "start_date": "2022-06-06", "first_day": "2022-06-06",
                       "end_date": "2022-06-10", "pending": False, "open": False, "published_on": "2022-06-05",
                       "platforms": [PUBLICITY_PLATFORM]}
PUBLICITY_BATCH_ANSWER = {**PUBLICITY_BATCH_OUT, "open": True, "position": 52}
PUBLICITY_PAGE = {"items": [PUBLICITY_BATCH_OUT], "next_cursor": "Yjox", "total": 4}
HOLDER = {"id": PLATFORM_ID, "name": PLATFORM_NAME, "host_unit": HOST_UNIT_OUT, "status": "funded"}
SUBFIELD_OUT = {"name": SUBFIELD, "admission": None, "holder": HOLDER, "exception_holders": [],
                "history": [HOLDER | {"exception": None, "from_date": "2022-05-20", "to_date": None}]}
SUBFIELD_PAGE = {"policy": POLICY, "items": [SUBFIELD_OUT], "next_cursor": None, "total": 18}
LEDGER_EVENT = {"position": 188, "type": "Funded", "originator_version": 19}
LEDGER_ENTRY = {"entry_id": "188", "kind": "disbursement", "platform_id": PLATFORM_ID, "host_unit": HOST_UNIT_OUT,
                "amount": "1000000.00", "business_date": "2023-09-20", "fiscal_year": 2023,
                "document_ref": "长财教〔2023〕81号", "event": LEDGER_EVENT}
COMMITMENT_ENTRY = {**LEDGER_ENTRY, "entry_id": "31", "kind": "commitment", "business_date": "2022-05-20",
                    "fiscal_year": 2022, "document_ref": "长财教〔2022〕1号",
                    "event": {"position": 31, "type": "Approved", "originator_version": 6}}
LEDGER_TOTALS = {"opening_balance": "0.00", "committed": "1000000.00", "released": "0.00", "disbursed": "1000000.00",
                 "recovered": "0.00", "commitment_change": "0.00", "closing_balance": "0.00",
                 "outstanding_commitments": "0.00"}
LEDGER_YEAR_TOTALS = {"fiscal_year": 2023, "opening_balance": "1000000.00", "committed": "0.00", "released": "0.00",
                      "disbursed": "1000000.00", "recovered": "0.00", "commitment_change": "-1000000.00",
                      "closing_balance": "0.00", "outstanding_commitments": "0.00"}
LEDGER_HOST_TOTALS = {**LEDGER_TOTALS, "credit_code": HOST_CODE, "name": HOST_NAME}
LEDGER = {"entries": [COMMITMENT_ENTRY, LEDGER_ENTRY], "totals": LEDGER_TOTALS,
          "by_fiscal_year": [{**LEDGER_YEAR_TOTALS, "fiscal_year": 2022, "opening_balance": "0.00",
                              "committed": "1000000.00", "disbursed": "0.00", "commitment_change": "1000000.00",
                              "closing_balance": "1000000.00", "outstanding_commitments": "1000000.00"},
                             LEDGER_YEAR_TOTALS],
          "by_host_unit": [LEDGER_HOST_TOTALS]}
YEAR_2023 = {"opening_balance": "1000000.00", "commitments": "0.00", "releases": "0.00",
             "disbursements": "1000000.00", "recoveries": "0.00", "closing_balance": "0.00"}
PLATFORM_YEAR = {"platform_id": PLATFORM_ID, "name": PLATFORM_NAME, "host_unit": HOST_UNIT_OUT, **YEAR_2023}
FISCAL_YEAR = {"fiscal_year": 2023, "platforms": [PLATFORM_YEAR], "totals": YEAR_2023}
LEDGER_BY_YEAR = {"fiscal_years": [FISCAL_YEAR], "totals": YEAR_2023}
HISTORY_EVENT = {"sequence": 2, "type": "Accepted", "recorded_at": "2021-12-20T02:15:04.038799+00:00",
                 "business_date": "2021-12-20", "actor": "agency", "role": "service_agency", "recorded_by": None,
                 "data": {"reasons": "材料齐全，予以受理"}, "hash": HASH, "prev_hash": PREV_HASH}
HISTORY = {"platform_id": PLATFORM_ID, "items": [HISTORY_EVENT], "next_cursor": None, "total": 1}
DEADLINE = {"kind": "acceptance_due", "platform_id": PLATFORM_ID, "platform_name": PLATFORM_NAME,
            "due_date": "2023-07-31", "pending": False, "overdue": False, "missed_on": None,
            "late_admitted_on": None}
DEADLINES_PAGE = {"items": [DEADLINE], "next_cursor": None, "total": 1}
POLICY_OUT = {"policy": POLICY, "title": "长沙市新一代人工智能开放创新平台认定管理暂行办法", "demonstration": False,
              "effective_from": "2021-11-12", "effective_to": "2023-11-11",
              "subfields": ["数据存储与分析", "智能芯片", "智能传感器", SUBFIELD],
              "funding_amount": "1000000.00", "publicity_working_days": 5,
              "rubric": [{"criterion": "technical_strength", "max_points": 25},
                         {"criterion": "open_sharing_capability", "max_points": 25},
                         {"criterion": "operating_mechanism", "max_points": 20},
                         {"criterion": "host_unit_commitment", "max_points": 15},
                         {"criterion": "pilot_or_industrial_results", "max_points": 15}],
              "min_experts": 5, "scoring_method": "trimmed_mean"}
POLICY_PAGE = {"items": [POLICY_OUT], "next_cursor": None, "total": 1}
HEALTH = {"status": "ok"}
PROJECTIONS = {"max_lag": 0, "models": [{"name": "platforms", "position": 259, "lag": 0}], "threshold": 1000,
               "stalled": {}}
AUDIT_WATCH = {"status": "intact", "checked_at": "2023-09-20T06:30:01+00:00", "first_failure": None,
               "latest_checkpoint": None, "signing": False}
READINESS = {"status": "ready", "database": "ok", "projections": PROJECTIONS, "audit": AUDIT_WATCH,
             "store": "writable"}
PROBLEM = {"type": "https://kjj.changsha.gov.cn/registry/problems/subfield_taken", "title": "该细分领域已有平台",
           "status": 409,
           "detail": f"细分领域“{SUBFIELD}”已由平台 {PLATFORM_ID} 承建；原则上每个细分领域只认定一个平台。",
           "code": "subfield_taken",
           "field": None, "errors": None, "article": "Art. 5", "policy": POLICY}


def examples(*values: Any) -> dict[str, Any]:
    """The ``json_schema_extra`` of a model: its whole examples, as OpenAPI 3.1 lists them."""
    return {"examples": list(values)}
