"""The ``Platform`` aggregate's rules, one article at a time, on an aggregate built directly
through its own commands: no application service, no store, no calendar (the publicity window
and the acceptance deadline are handed in as the service would compute them), so each test runs
in milliseconds. The same rules through ``RegistryApp`` and the API are in test_art*_… and
test_api_*; these pin down the aggregate's own part."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest

from aggregates.errors import InvalidInput, RuleViolation
from aggregates.platform import Platform
from aggregates.policy import PolicyRegistry
from aggregates.programme import INDICATORS, application, expert_affiliation, host_unit
from aggregates.publicity_window import PublicityWindow
from aggregates.values import Act, ChangeKind, RevocationGround, Role

POLICY = PolicyRegistry.load().get("长科发〔2021〕36号")
GRANT = POLICY.funding_amount
# The 2022 round: publicity from 2022-09-29, five working days across National Day.
FIRST_DAY, LAST_DAY = date(2022, 9, 29), date(2022, 10, 10)
WINDOW = PublicityWindow(FIRST_DAY, FIRST_DAY, LAST_DAY)
ACCEPTANCE_DUE = date(2023, 11, 30)  # a month after the period 2022-11-01..2023-10-31


def on(iso: str, role: Role = Role.BUREAU, *refs: str, who: str | None = None) -> Act:
    day = date.fromisoformat(iso)
    return Act(who or f"{role.value}-1", role, day, refs, recorded_on=day)


def full_marks() -> dict[str, int]:
    return {c.criterion: c.max_points for c in POLICY.rubric}


def applied(**overrides: object) -> Platform:
    return Platform.apply(policy=POLICY, act=on("2022-03-01", Role.APPLICANT), **application(**overrides))


def accept(p: Platform) -> None:
    p.review_formally(True, "材料齐全", on("2022-03-10", Role.SERVICE_AGENCY))


def score(p: Platform) -> None:
    for i in range(POLICY.min_experts):
        p.score(POLICY, expert_affiliation(i), full_marks(), "良好", on("2022-04-15", Role.EXPERT, who=f"expert-{i}"))


def inspect(p: Platform) -> None:
    p.inspect(True, "现场考察通过", on("2022-05-20"))


def approve(p: Platform) -> None:
    p.approve(POLICY, "党组会〔2022〕12号", "副市长审定〔2022〕3号", "资金安排〔2022〕7号", None, on("2022-09-01"))


def publicize(p: Platform) -> None:
    p.publicize(uuid4(), "公示-1", "长沙晚报", WINDOW, on("2022-09-28"))


def notify(p: Platform) -> None:
    p.issue_notice(WINDOW, on("2022-10-11", Role.BUREAU, "长科发〔2022〕50号"))


def sign_task_book(p: Platform) -> None:
    p.sign_task_book(POLICY, list(INDICATORS), date(2022, 11, 1), None, ACCEPTANCE_DUE,
                     on("2022-11-01", Role.BUREAU, "任务书2022-01"))


def apply_for_acceptance(p: Platform) -> None:
    p.apply_for_acceptance("任务完成", ACCEPTANCE_DUE, on("2023-11-20", Role.APPLICANT))


def achieved(*missed: str) -> list[dict[str, object]]:
    return [{"name": i["name"], "achieved": i["name"] not in missed} for i in INDICATORS]


def qualify(p: Platform) -> None:
    p.review_acceptance(["专家甲", "专家乙", "专家丙"], achieved(), True, True, on("2023-12-01", Role.SERVICE_AGENCY))


def recognize(p: Platform) -> None:
    p.recognize("CS-AI-2023-01", on("2023-12-10", Role.BUREAU, "长科发〔2023〕80号"))


def fund(p: Platform) -> None:
    p.fund(POLICY, None, on("2023-12-20", Role.FINANCE, "长财教〔2023〕99号"))


STEPS: list[tuple[str, Callable[[Platform], None]]] = [
    ("accepted", accept), ("reviewed", score), ("inspected", inspect), ("approved", approve),
    ("in_publicity", publicize), ("notified", notify), ("under_construction", sign_task_book),
    ("acceptance_applied", apply_for_acceptance), ("qualified", qualify), ("recognized", recognize),
    ("funded", fund),
]


def at(stage: str, **overrides: object) -> Platform:
    """A platform applied on 2022-03-01 (``overrides`` shaping the application) and taken to
    ``stage`` on the 2022 round's dates."""
    p = applied(**overrides)
    steps = iter(STEPS)
    while p.status != stage:
        _, step = next(steps)
        step(p)
    return p


def refused(command: Callable[[], object], code: str, article: str) -> RuleViolation:
    with pytest.raises(RuleViolation) as exc:
        command()
    assert (exc.value.code, exc.value.article, exc.value.policy) == (code, article, "长科发〔2021〕36号")
    return exc.value


# ---------------------------------------------------------------- Art. 4, 6, 7: the application
def test_art4_the_subfield_is_kept_in_the_policys_spelling() -> None:
    assert applied(subfield=" 智能软硬件（嵌入式） ").subfield == "智能软硬件(嵌入式)"


def test_art7_1_the_certificate_must_be_valid_on_the_application_date() -> None:
    refused(lambda: applied(host_unit=host_unit(valid_until=date(2022, 2, 28))), "high_tech_certificate_expired",
            "Art. 7(1)")
    assert applied(host_unit=host_unit(valid_until=date(2022, 3, 1))).status == "applied"


def test_art7_1_the_host_unit_must_commit_support() -> None:
    refused(lambda: applied(commitments="  "), "commitments_missing", "Art. 7(1)")


def test_art7_2_an_achievement_must_be_at_pilot_or_industrial_stage() -> None:
    refused(lambda: applied(achievements=[{"title": "实验室样机", "stage": "lab"}]), "achievement_missing",
            "Art. 7(2)")


def test_art6_the_formal_review_accepts_only_with_the_basic_conditions() -> None:
    p = applied(basic_conditions={"technical_strength": "领先", "open_sharing": " ", "service_mechanism": "有"})
    refused(lambda: accept(p), "basic_conditions_missing", "Art. 6")
    assert p.status == "applied"


def test_art8_2_not_accepted_ends_the_application_with_its_reasons() -> None:
    p = applied()
    with pytest.raises(InvalidInput) as exc:
        p.review_formally(False, " ", on("2022-03-10", Role.SERVICE_AGENCY))
    assert exc.value.code == "reasons_required"
    p.review_formally(False, "材料不全", on("2022-03-10", Role.SERVICE_AGENCY))
    assert (p.status, p.end_reason) == ("not_accepted", "材料不全")
    refused(lambda: accept(p), "wrong_stage", "Art. 8(2)")


# ---------------------------------------------------------------- Art. 8(3)-(5): review to approval
def test_art8_3_each_expert_scores_once() -> None:
    p = at("accepted")
    p.score(POLICY, expert_affiliation(0), full_marks(), "良好", on("2022-04-15", Role.EXPERT, who="expert-0"))
    refused(lambda: p.score(POLICY, expert_affiliation(0), full_marks(), "再评",
                            on("2022-04-15", Role.EXPERT, who="expert-0")), "already_scored", "Art. 8(3)")
    assert list(p.scores) == ["expert-0"]


def test_art8_3_an_expert_of_the_host_unit_or_a_co_builder_recuses() -> None:
    builder = expert_affiliation(90)
    p = at("accepted", co_builders=[{"name": "某大学", "credit_code": builder}])
    for affiliation in (p.host_credit_code, builder.lower()):
        refused(lambda a=affiliation: p.score(POLICY, a, full_marks(), "良好", on("2022-04-15", Role.EXPERT)),
                "expert_conflict_of_interest", "Art. 8(3)")
    assert p.scores == {}


def test_art8_3_the_review_completes_at_the_minimum_with_the_trimmed_mean() -> None:
    p = at("accepted")
    for i, short in enumerate([0, 10, 20, 30, 80]):  # totals 100, 90, 80, 70, 20
        marks = full_marks()
        for criterion in marks:
            taken = min(short, marks[criterion])
            marks[criterion] -= taken
            short -= taken
        assert p.status == "accepted"
        p.score(POLICY, expert_affiliation(i), marks, "意见", on("2022-04-15", Role.EXPERT, who=f"expert-{i}"))
    assert (p.status, p.review_result, p.review_experts) == ("reviewed", Decimal("80.00"), POLICY.min_experts)


def test_art8_4_a_failed_inspection_rejects_the_application() -> None:
    p = at("reviewed")
    p.inspect(False, "中试线尚未建成", on("2022-05-20"))
    assert (p.status, p.end_reason, p.committed) == ("rejected", "inspection failed", Decimal("0.00"))


def test_art8_5_approval_needs_its_three_references_and_commits_the_grant() -> None:
    p = at("inspected")
    with pytest.raises(InvalidInput) as exc:
        p.approve(POLICY, "党组会〔2022〕12号", " ", "资金安排〔2022〕7号", None, on("2022-09-01"))
    assert (exc.value.code, exc.value.field) == ("reference_required", "vice_mayor_approval_ref")
    approve(p)
    assert (p.status, p.committed, p.holds_subfield) == ("approved", GRANT, True)


# ---------------------------------------------------------------- Art. 8(6)-(7): publicity to task book
def test_art8_6_publicity_cannot_start_before_the_approval() -> None:
    p = at("approved")
    early = PublicityWindow(date(2022, 8, 31), date(2022, 8, 31), date(2022, 9, 6))
    refused(lambda: p.publicize(uuid4(), "公示-1", "长沙晚报", early, on("2022-09-01")),
            "publicity_before_approval", "Art. 8(6)")


def test_art8_6_an_objection_outside_the_window_is_recorded_but_inadmissible() -> None:
    p = at("in_publicity")
    on_the_last_day = p.object(WINDOW, "张三", "138", "数据不实", on("2022-10-10", Role.PUBLIC))
    late = p.object(WINDOW, "李四", "139", "逾期意见", on("2022-10-11", Role.PUBLIC))
    assert [p.objections[o]["admissible"] for o in (on_the_last_day, late)] == [True, False]


def test_art8_6_an_upheld_objection_rescinds_the_approval_and_releases_the_grant() -> None:
    p = at("in_publicity")
    objection = p.object(WINDOW, "张三", "138", "数据不实", on("2022-09-30", Role.PUBLIC))
    p.resolve_objection(objection, True, "经核实属实", "副市长批〔2022〕5号", on("2022-10-12"))
    assert (p.status, p.committed, p.holds_subfield) == ("rejected", Decimal("0.00"), False)
    refused(lambda: p.resolve_objection(objection, False, "再议", "副市长批〔2022〕6号", on("2022-10-13")),
            "objection_already_resolved", "Art. 8(6)")


def test_art8_6_after_the_notice_an_objection_cannot_rescind_the_approval() -> None:
    p = at("notified")
    late = p.object(WINDOW, "张三", "138", "数据不实", on("2022-10-12", Role.PUBLIC))
    refused(lambda: p.resolve_objection(late, True, "属实", "副市长批〔2022〕5号", on("2022-10-12")),
            "objection_upheld_after_publicity", "Art. 8(6)")


def test_art8_7_the_notice_waits_for_the_window_to_close_and_every_objection_to_be_resolved() -> None:
    p = at("in_publicity")
    notice = on("2022-10-10", Role.BUREAU, "长科发〔2022〕50号")
    refused(lambda: p.issue_notice(WINDOW, notice), "publicity_window_open", "Art. 8(7)")
    pending = PublicityWindow(FIRST_DAY, None, None)
    refused(lambda: p.issue_notice(pending, notice), "publicity_window_open", "Art. 8(7)")
    objection = p.object(WINDOW, "张三", "138", "数据不实", on("2022-10-10", Role.PUBLIC))
    refused(lambda: notify(p), "objections_unresolved", "Art. 8(7)")
    p.resolve_objection(objection, False, "不属实", "副市长批〔2022〕5号", on("2022-10-11"))
    notify(p)
    assert (p.status, p.notice_ref) == ("notified", "长科发〔2022〕50号")


def test_art8_7_the_task_book_runs_one_year_from_its_start() -> None:
    p = at("under_construction")
    assert (p.task_book["period_start"], p.task_book["period_end"]) == (date(2022, 11, 1), date(2023, 10, 31))


# ---------------------------------------------------------------- Art. 9: acceptance and the grant
def test_art9_1_an_early_application_is_marked_early() -> None:
    p = at("under_construction")
    p.apply_for_acceptance("提前完成", None, on("2023-06-30", Role.APPLICANT))
    assert (p.status, p.acceptance["early"]) == ("acceptance_applied", True)


def test_art9_1_an_application_after_the_deadline_is_refused() -> None:
    p = at("under_construction")
    refused(lambda: p.apply_for_acceptance("逾期", ACCEPTANCE_DUE, on("2023-12-01", Role.APPLICANT)),
            "acceptance_deadline_passed", "Art. 9(1)")
    p.apply_for_acceptance("按期", ACCEPTANCE_DUE, on("2023-11-30", Role.APPLICANT))
    assert (p.status, p.acceptance["early"]) == ("acceptance_applied", False)


def test_art9_3_the_results_cover_exactly_the_task_books_indicators() -> None:
    p = at("acceptance_applied")
    refused(lambda: p.review_acceptance(["专家甲"], achieved()[:1], True, True, on("2023-12-01", Role.SERVICE_AGENCY)),
            "indicator_results_mismatch", "Art. 9(3)")


def test_art9_3_qualified_needs_compliant_funds_and_a_justification_for_missed_indicators() -> None:
    p = at("acceptance_applied")
    agency = on("2023-12-01", Role.SERVICE_AGENCY)
    refused(lambda: p.review_acceptance(["专家甲"], achieved("服务企业数"), True, True, agency),
            "justification_required", "Art. 9(3)")
    refused(lambda: p.review_acceptance(["专家甲"], achieved(), False, True, agency),
            "qualified_contradicts_results", "Art. 9(3)")
    assert p.status == "acceptance_applied"
    p.review_acceptance(["专家甲"], achieved("服务企业数"), True, True, agency, "服务企业数接近目标，专家组认定合格")
    assert p.status == "qualified" and p.acceptance is not None
    assert p.acceptance["justification"] == "服务企业数接近目标，专家组认定合格"


def test_art9_3_unqualified_terminates_and_releases_the_grant() -> None:
    p = at("acceptance_applied")
    with pytest.raises(InvalidInput) as err:  # it releases the commitment: the ledger needs its document
        p.review_acceptance(["专家甲"], achieved("服务企业数"), True, False, on("2023-12-01", Role.SERVICE_AGENCY))
    assert (err.value.code, err.value.field) == ("reference_required", "document_ref")
    assert p.status == "acceptance_applied"
    p.review_acceptance(["专家甲"], achieved("服务企业数"), True, False,
                        on("2023-12-01", Role.SERVICE_AGENCY, "验收纪要"))
    assert (p.status, p.committed, p.disbursed) == ("terminated", Decimal("0.00"), Decimal("0.00"))


def test_art9_3_the_grant_is_the_policys_amount_paid_once_after_recognition() -> None:
    p = at("qualified")
    refused(lambda: fund(p), "wrong_stage", "Art. 9(3)")
    recognize(p)
    refused(lambda: p.fund(POLICY, Decimal("999999.99"), on("2023-12-20", Role.FINANCE, "长财教〔2023〕99号")),
            "funding_amount_mismatch", "Art. 9(3)")
    fund(p)
    assert (p.status, p.disbursed, p.outstanding_commitment) == ("funded", GRANT, Decimal("0.00"))
    refused(lambda: fund(p), "already_funded", "Art. 9(3)")


# ---------------------------------------------------------------- Art. 11 and 13
def test_art11_an_approved_change_takes_effect_and_is_decided_once() -> None:
    p = at("under_construction")
    refused(lambda: at("approved").report_change(ChangeKind.GOALS, "调整", "新目标", on("2022-09-02", Role.APPLICANT)),
            "wrong_stage", "Art. 11")
    change = p.report_change(ChangeKind.UNIT_NAME, "更名", "新名称有限公司", on("2023-03-01", Role.APPLICANT))
    assert p.host_unit["name"] != "新名称有限公司"
    p.decide_change(change, True, "同意", on("2023-03-15"))
    assert p.host_unit["name"] == "新名称有限公司"
    refused(lambda: p.decide_change(change, False, "撤回同意", on("2023-03-16")), "change_already_decided", "Art. 11")


def test_art13_revocation_releases_what_was_not_paid_and_is_final() -> None:
    p = at("under_construction")
    p.revoke(RevocationGround.CANNOT_FULFIL_DUTIES, "无法履职", on("2023-06-01", Role.BUREAU, "长科发〔2023〕20号"))
    assert (p.status, p.committed, p.holds_subfield) == ("revoked", Decimal("0.00"), False)
    refused(lambda: p.revoke(RevocationGround.SERIOUS_ADVERSE_IMPACT, "再撤", on("2023-06-02", Role.BUREAU, "文")),
            "wrong_stage", "Art. 13")


def test_art13_money_comes_back_only_by_recovery_up_to_what_was_paid() -> None:
    p = at("funded")
    p.revoke(RevocationGround.SERIOUS_ADVERSE_IMPACT, "严重不良影响",
             on("2024-06-18", Role.BUREAU, "长科发〔2024〕33号"))
    assert (p.disbursed, p.recovered) == (GRANT, Decimal("0.00"))
    finance = on("2024-07-30", Role.FINANCE, "长财教〔2024〕51号")
    refused(lambda: p.recover_funds(GRANT + Decimal("0.01"), "超额", finance), "recovery_exceeds_disbursed", "Art. 13")
    p.recover_funds(Decimal("250000.50"), "部分退回", finance)
    p.recover_funds(GRANT - Decimal("250000.50"), "余额退回", finance)
    assert p.recovered == GRANT
