"""The examples of the OpenAPI document (接口示例): one believable round of the programme, from the
application of 星河智能算力开放创新平台 to its grant, as :mod:`api.schemas` shows it to client
developers.

The values are the demonstration programme's (:mod:`api.demo`): invented host units whose credit
codes carry a correct check character (Art. 8(1)), the real policy 长科发〔2021〕36号 and its dates.
Each body and each answer is whole and valid for its model; tests/test_openapi_complete.py
validates every one, so they change with the models or the test fails. schemathesis sends the
bodies in its explicit phase.

The audit answers (审计) are the bodies of one real run, so that they agree with each other as a
client checking them would find: the demo loaded (259 events, signed as checkpoint 1), one paper
application keyed in by the service agency (event 260, checkpoint 2, cosigned by the audit
bureau's witness), then one stored event (position 14) garbled behind the registry's back for
the unreadable entry and the verifier's finding. ``PLATFORM_ID`` is 星河's id in that run.
"""

from __future__ import annotations

from typing import Any

POLICY = "长科发〔2021〕36号"
PLATFORM_ID = "ac4b36e6-adfa-4196-8481-9d7752222ff4"
SECOND_PLATFORM_ID = "9886e12f-21ab-47a0-97d4-70e48b3fda13"
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
HASH = "51ab564757c9432bbbc168671d37c7b8f8cb59832d5cadd56f135b53b5cd1740"  # 星河's Accepted, position 13
PREV_HASH = "f3789aa739625e1d9b5da539d4ee09e3b45e9d8833b160967643b24b6509a0aa"  # its Applied

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
LOG_ORIGIN = "kjj.changsha.gov.cn/platform-registry"
WITNESS_KEY_NAME = "sjj.changsha.example/witness"
CHECKPOINT_TEXT = f"{LOG_ORIGIN}\n260\n6WUE7g0M/dSyXRvuHb9HwotcSD8Gavf6RCE3VfFu8Pw=\n"
COSIGNATURE_VALUE = ("eM1zUQAAAABrDSpkEQ8pKWz0LEmjyQX2/l40uQP3ijeAKYD7rFyemEoELu/zqeihehbvjzCAjjoSlJQLyt9gM1Lz4rFAqLbX"
                     "/V6xAg==")
COSIGNATURE_LINE = f"— {WITNESS_KEY_NAME} {COSIGNATURE_VALUE}"
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
                       "end_date": "2022-06-10", "pending": False, "open": False, "state": "closed", "working_days": 5,
                       "published_on": "2022-06-02", "platforms": [PUBLICITY_PLATFORM]}
PUBLICITY_BATCH_ANSWER = {**PUBLICITY_BATCH_OUT, "open": True, "state": "open", "position": 52}
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
HISTORY_EVENT = {"sequence": 2, "type": "Accepted", "recorded_at": "2026-11-30T07:48:50.862765+00:00",
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


# ---------------------------------------------------------------------------- audit answers 审计
ROOT = "e96504ee0d0cfdd4b25d1bee1dbf47c28b5c483f066af7fa44213755f16ef0fc"  # checkpoint 2: events 1..260
FIRST_ROOT = "1e5e518f946482d8e64ad12ead5975dcddea10a8c7b784208fca479009697491"  # checkpoint 1: 1..259
LOG_KEY_ID = "a1882d76c321492c"
SIGNED_AT = "2026-11-30T07:48:52+00:00"
CHECKPOINT_SIGNATURE = "52fusgVNhtEcEMS/W4VoqLxXq5eiyY202Db+EFBGNCkDJe4+Pz8y1hut8GZIhpdHHgBaMZlx/io95ThlTmavAA=="
SIGNED_CHECKPOINT = {"size": 260, "root": ROOT, "signed_at": SIGNED_AT, "key_id": LOG_KEY_ID,
                     "signature": CHECKPOINT_SIGNATURE}
COSIGNATURE_OUT = {"witness": "市审计局", "key_name": WITNESS_KEY_NAME, "key_id": "78cd7351", "timestamp": 1796024932,
                   "cosigned_at": SIGNED_AT, "signature": COSIGNATURE_VALUE, "line": COSIGNATURE_LINE,
                   "received_at": SIGNED_AT}
STORED_COSIGNATURE = {"origin": LOG_ORIGIN, "size": 260, "root": ROOT, **COSIGNATURE_OUT}
NOTE = (f"{CHECKPOINT_TEXT}\n— {LOG_ORIGIN} 6DeXv6eVC3gt1aOCUXyPvv9nIXxzcX9OjZ4z9yUQP/qzWQ1z/uJXvg/6E4XVVT2MJ9ypsUZ"
        f"BtNivdvQnbQy4B7LkVAE=\n{COSIGNATURE_LINE}\n")
PUBLISHED_CHECKPOINT = {"id": 2, **SIGNED_CHECKPOINT, "origin": LOG_ORIGIN, "note": NOTE,
                        "cosignatures": [COSIGNATURE_OUT]}
FIRST_CHECKPOINT = {"id": 1, "size": 259, "root": FIRST_ROOT, "signed_at": SIGNED_AT, "key_id": LOG_KEY_ID,
                    "signature": ("ycImymy75xzgc3BhowXGqj1Jbi8JbwLnwmQNgpOGFxUG5h3mGYSApevsQiIAUdfl93ryP3wd0OCWQGHPQ"
                                  "KMwBQ=="),
                    "origin": LOG_ORIGIN,
                    "note": f"{LOG_ORIGIN}\n259\nHl5Rj5RkgtjmStEurVl13N3qEKjHt4Qgj8pHkAlpdJE=\n\n— {LOG_ORIGIN} "
                            "6DeXv8AIdPWjSHLlytcG67wSNbdqo1A42JfEaNmn5HPSRoGHcK0MtmQZegBpa29ZylFEQPwhSsK3LLzF18EgHBxADA8=\n",
                    "cosignatures": []}
CHECKPOINT_PAGE = {"items": [FIRST_CHECKPOINT, PUBLISHED_CHECKPOINT], "next_cursor": None, "total": None,
                   "next_after": None}
TAMPERED_ID = SECOND_PLATFORM_ID  # 麓山's stream: its Accepted event, position 14, garbled
VERIFY_FAILURE = {"code": "event_altered",
                  "reason": "the stored Accepted event (version 2) at position 14 hashes to 362791d9547bccdb..., but "
                            "its write sealed b35a5edebe20df60...: the event was altered after it was written (or its "
                            "seal was)",
                  "position": 14, "platform_id": TAMPERED_ID, "version": 2, "detected_at": 14}
VERIFY_REPORT: dict[str, Any] = {"ok": True, "events_checked": 260, "first_failure": None, "failures": [],
                                 "failure_count": 0, "mode": "full", "size": 260, "root": ROOT, "streams": 34,
                                 "checkpoints_checked": 2, "latest_checkpoint": SIGNED_CHECKPOINT,
                                 "unattested_events": 0}
INCLUSION_PROOF = {"position": 13, "index": 12, "size": 260, "leaf_hash": HASH, "root": ROOT,
                   "proof": ["b35a5edebe20df60f33821a37dbb8f526e28ade9fc5c13f204234963dddaeadb",
                             "afd435119f2c307ad630a2cb56a403bc3fcc392d85c9574bfa999935e2173014",
                             "590aa010ff4ae5b033af363fd0e1a45697a97dcce20425858afdef61f7a38fd2",
                             "633f93f74d186f49598ad533417d7c7836855fb2fbc3ac278378ef341a694e29",
                             "19d2d5f9f1f08255e7a92275cd299a3c44708107544cfab07e19a40f6f829da5",
                             "c5e5d22779cf84a0d0c37b107a64344694b4886b5c70dd3f7ab0ff7fd8a11cd2",
                             "d093eedb9d4369b6214c6cf286aca2f208919044b8f3f20fb29ed47aad554bb3",
                             "a0a6133f830bd43dcd0370ed6bf1f73f73513078ee0a78fc543612d817effda3",
                             "27592f47b61341a43cd67ab658615e0ce6ff26caa3ddd30d0397e8834fea55f7"]}
CONSISTENCY_PROOF = {"old_size": 259, "new_size": 260, "old_root": FIRST_ROOT, "new_root": ROOT,
                     "proof": ["cf0292a296e16765ea4574d102a00b82e95ec8dc7155a31547cd5a3abc4a1867",
                               "5ca64ccd5e21fb3b5f51af636ae09c2c8d4ab6a5db40948b2678b8e776e9c056",
                               "b1c8958dc661be139bbdf2bf20135ed9544b383cd983120d6b9ace798b46fb4a",
                               "684214d85d6d18d890d660dac74b366b3cbeab48a1e64ffa2da6bf44bb1f32d0"]}
RECORDED_BY = {"actor_id": "service_agency", "role": "service_agency"}  # the paper application, event 260
LOG_ENTRY = {"position": 13, "platform_id": PLATFORM_ID, "aggregate": "Platform", "sequence": 2, "type": "Accepted",
             "topic": "platform-registry/Platform/Accepted", "hash": HASH, "prev_hash": PREV_HASH, "leaf_hash": HASH,
             "recorded_at": HISTORY_EVENT["recorded_at"], "business_date": "2021-12-20", "actor": "agency",
             "role": "service_agency", "recorded_by": None, "document_refs": [], "data": HISTORY_EVENT["data"]}
UNDECODABLE_LOG_ENTRY = {
    "position": 14, "platform_id": TAMPERED_ID, "aggregate": "Platform", "sequence": 2, "type": "Accepted",
    "topic": "platform-registry/Platform/Accepted",
    "hash": "362791d9547bccdbe812ae1c6f8adde2031b00600f5a9370e5ddf20b9a462471", "prev_hash": None,
    "leaf_hash": "362791d9547bccdbe812ae1c6f8adde2031b00600f5a9370e5ddf20b9a462471",
    "error": "undecodable: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"}
AUDIT_LOG_PAGE = {"items": [LOG_ENTRY], "next_cursor": "bDoxMw", "total": 260, "next_after": 13}
VALUE_CHANGE = {"from": "applied", "to": "accepted"}
VERSION_DIFF = {"platform_id": PLATFORM_ID, "from_version": 1, "to_version": 2,
                "changes": {"stage_dates": {"from": {"applied": "2021-12-06"},
                                            "to": {"applied": "2021-12-06", "accepted": "2021-12-20"}},
                            "status": VALUE_CHANGE, "version": {"from": 1, "to": 2}}}
PUBLICITY_LIST_AT = {**PUBLICITY_PAGE, "position": 260}
LEDGER_AT = {**LEDGER, "position": 260}


def examples(*values: Any) -> dict[str, Any]:
    """The ``json_schema_extra`` of a model: its whole examples, as OpenAPI 3.1 lists them."""
    return {"examples": list(values)}
