"""Policy versions as data: validity (Art. 15), subfields (Art. 4), the expert rubric and the
review result (Art. 8(3), criteria of Art. 6 and Art. 7), funding (Art. 9(3))."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from aggregates.errors import InvalidInput, NotFound, RuleViolation
from aggregates.policy import BUNDLED_DIR, Policy, PolicyDataError, PolicyRegistry
from api.registry_wiring import build_policies
from api.settings import Settings

REF = "长科发〔2021〕36号"
BUNDLED_FILE = BUNDLED_DIR / "changkefa-2021-36.json"
SUBFIELDS = [
    "数据存储与分析", "智能芯片", "智能传感器", "智能算力", "自主无人驾驶", "动态环境感知",
    "智能软硬件(嵌入式)", "智能软硬件(工业软件)", "智能音视频合成处理", "空天智能", "时空信息安全",
    "生物技术智能", "智能检测及品控", "智能(工业)机器人", "智能终端", "医疗辅助诊断系统", "智慧金融",
    "智慧政务平台",
]  # fmt: skip


@pytest.fixture()
def raw() -> dict:
    return json.loads(BUNDLED_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def policy() -> Policy:
    return Policy.load(BUNDLED_FILE)


def successor(raw: dict, ref: str = "长科发〔2023〕99号", start: str = "2023-11-12", end: str | None = None) -> dict:
    """A hypothetical successor version (marked as a demonstration)."""
    data = copy.deepcopy(raw)
    data["policy"] = ref
    data["demonstration"] = True
    data["effective_from"]["value"] = start
    data["effective_to"]["value"] = end
    data["scoring_method"]["value"] = "mean"
    return data


def write(directory: Path, name: str, data: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


# --- Art. 15: validity ----------------------------------------------------------------------


def test_art15_bundled_policy_loads_with_typed_values(policy):
    assert policy.policy == REF
    assert policy.title == "长沙市新一代人工智能开放创新平台认定管理暂行办法"
    assert policy.demonstration is False
    assert (policy.effective_from, policy.effective_to) == (date(2021, 11, 12), date(2023, 11, 11))
    assert policy.publicity_working_days == 5 and policy.publicity_start_day_counts is True
    assert policy.execution_period_months == 12 and policy.acceptance_window_months == 1
    assert policy.funding_amount == Decimal("1000000.00")
    assert str(policy.funding_amount) == "1000000.00"
    assert policy.min_experts == 5 and policy.scoring_method == "trimmed_mean"
    assert policy.article("effective_to") == "Art. 15"
    assert policy.article("publicity") == "Art. 8(6)"
    assert policy.article("funding_amount") == "Art. 9(3)"


@pytest.mark.parametrize(
    ("day", "in_force"),
    [
        (date(2021, 11, 11), False),
        (date(2021, 11, 12), True),
        (date(2023, 11, 11), True),
        (date(2023, 11, 12), False),
    ],
)
def test_art15_validity_window_is_inclusive(policy, day, in_force):
    assert policy.in_force_on(day) is in_force


def test_art15_registry_in_force_boundaries():
    registry = PolicyRegistry.load()
    assert registry.in_force(date(2021, 11, 12)).policy == REF
    assert registry.in_force(date(2023, 11, 11)).policy == REF


def test_art15_before_first_version_is_refused():
    with pytest.raises(RuleViolation) as exc:
        PolicyRegistry.load().in_force(date(2021, 11, 11))
    assert exc.value.code == "no_policy_in_force"
    assert exc.value.article == "Art. 15"
    assert exc.value.policy is None
    assert "2021-11-11" in exc.value.message


@pytest.mark.parametrize("day", [date(2023, 11, 12), date(2024, 3, 1)])
def test_art15_after_expiry_is_refused_naming_the_expired_version(day):
    with pytest.raises(RuleViolation) as exc:
        PolicyRegistry.load().in_force(day)
    assert exc.value.code == "no_policy_in_force"
    assert f"no policy version is in force on {day.isoformat()}" in exc.value.message
    assert exc.value.article == "Art. 15"
    assert exc.value.policy == REF


def test_art15_second_version_from_policy_dir(tmp_path, raw):
    write(tmp_path / "policies", "successor.json", successor(raw))
    registry = build_policies(Settings.from_env(env={"PLATFORMS_POLICY_DIR": str(tmp_path / "policies")}))
    assert [p.policy for p in registry.all()] == [REF, "长科发〔2023〕99号"]
    assert registry.in_force(date(2023, 11, 11)).policy == REF
    assert registry.in_force(date(2023, 11, 12)).policy == "长科发〔2023〕99号"
    assert registry.in_force(date(2030, 1, 1)).effective_to is None
    assert registry.latest().policy == "长科发〔2023〕99号"
    assert registry.get(REF).policy == REF
    assert registry.latest().to_public_dict()["effective_to"] is None


def test_art15_no_policy_dir_is_bundled_only(tmp_path):
    # Production loads only what the operator names; development also var/policies, if present.
    production = Settings.from_env(env={"PLATFORMS_MODE": "production"}, secret_key="k" * 32, var_dir=tmp_path)
    assert [p.policy for p in build_policies(production).all()] == [REF]
    assert [p.policy for p in build_policies(Settings.from_env(env={}, var_dir=tmp_path)).all()] == [REF]


def test_art15_overlapping_versions_are_refused(tmp_path, raw):
    write(tmp_path, "overlap.json", successor(raw, start="2023-11-01", end="2025-10-31"))
    with pytest.raises(PolicyDataError, match="overlap") as exc:
        PolicyRegistry.load(tmp_path)
    assert REF in str(exc.value) and "长科发〔2023〕99号" in str(exc.value)


def test_art15_duplicate_policy_ref_is_refused(tmp_path, raw):
    write(tmp_path, "copy.json", successor(raw, ref=REF, start="2030-01-01"))
    with pytest.raises(PolicyDataError, match="loaded twice"):
        PolicyRegistry.load(tmp_path)


def test_art15_missing_policy_dir_is_refused(tmp_path):
    with pytest.raises(PolicyDataError, match="does not exist"):
        PolicyRegistry.load(tmp_path / "nowhere")


def test_art15_unknown_ref_is_not_found():
    with pytest.raises(NotFound):
        PolicyRegistry.load().get("长科发〔2099〕1号")


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("title"), "title"),
        (lambda d: d.update(surprise=1), "surprise"),
        (lambda d: d["effective_from"].update(value="2021/11/12"), "effective_from.value"),
        (lambda d: d["effective_to"].update(value="2021-11-01"), "effective_to"),
        (lambda d: d["publicity"].update(working_days=0), "publicity.working_days"),
        (lambda d: d["publicity"].update(start_day_counts="yes"), "publicity.start_day_counts"),
        (lambda d: d["publicity"].pop("article"), "publicity.article"),
        (lambda d: d["funding_amount"].update(value=1000000.0), "funding_amount.value"),
        (lambda d: d["funding_amount"].update(value="1000000.005"), "funding_amount.value"),
        (lambda d: d["rubric"][0].update(max_points=30), "rubric"),
        (lambda d: d["rubric"][0].update(criterion="Tech Strength"), "rubric[0].criterion"),
        (lambda d: d["rubric"][1].update(criterion="technical_strength"), "rubric"),
        (lambda d: d["scoring_method"].update(value="median"), "scoring_method.value"),
        (lambda d: d["min_experts"].update(value=2), "min_experts"),
        (lambda d: d["subfields"]["value"].append("智能芯片"), "subfields"),
        (lambda d: d.update(demonstration="no"), "demonstration"),
    ],
)
def test_art15_policy_file_is_validated_strictly(raw, mutate, field):
    mutate(raw)
    with pytest.raises(PolicyDataError) as exc:
        Policy.from_dict(raw, origin="test.json")
    assert exc.value.field == field
    assert "test.json" in str(exc.value)


def test_art15_public_dict_matches_api(policy):
    public = policy.to_public_dict()
    assert set(public) == {
        "policy", "title", "demonstration", "effective_from", "effective_to", "subfields",
        "funding_amount", "publicity_working_days", "rubric", "min_experts", "scoring_method",
    }  # fmt: skip
    assert public["effective_from"] == "2021-11-12" and public["effective_to"] == "2023-11-11"
    assert public["funding_amount"] == "1000000.00"
    assert public["publicity_working_days"] == 5
    assert public["rubric"][0] == {"criterion": "technical_strength", "max_points": 25}
    json.dumps(public)  # serialisable as is


# --- Art. 4: subfields --------------------------------------------------------------------


def test_art4_eighteen_subfields_exactly_as_listed(policy):
    assert list(policy.subfields) == SUBFIELDS
    assert policy.article("subfields").startswith("Art. 4")


def test_art4_canonical_subfield_forgives_full_width_brackets(policy):
    assert policy.canonical_subfield(" 智能软硬件（嵌入式） ") == "智能软硬件(嵌入式)"
    assert "智能软硬件（嵌入式）" not in policy.subfields  # the stored spelling is the policy's own
    with pytest.raises(InvalidInput) as exc:
        policy.canonical_subfield("智能汽车")
    assert exc.value.code == "unknown_subfield" and exc.value.field == "subfield"


# --- Art. 8(3): rubric and review result -----------------------------------------------------

FULL = {
    "technical_strength": 20,
    "open_sharing_capability": "21.5",
    "operating_mechanism": 15.5,
    "host_unit_commitment": Decimal("12"),
    "pilot_or_industrial_results": "10.0",
}


def test_art8_rubric_comes_from_art6_and_art7_and_sums_to_100(policy):
    assert sum(c.max_points for c in policy.rubric) == 100
    assert [c.article for c in policy.rubric] == ["Art. 6(1)", "Art. 6(2)", "Art. 6(3)", "Art. 7(1)", "Art. 7(2)"]


def test_art8_validate_scores_returns_decimals_in_rubric_order(policy):
    scores = policy.validate_scores(FULL)
    assert list(scores) == [c.criterion for c in policy.rubric]
    assert scores["open_sharing_capability"] == Decimal("21.5")
    assert scores["operating_mechanism"] == Decimal("15.5")
    assert sum(scores.values()) == Decimal("79.0")


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"novelty": 5}, "unknown_criterion", "scores.novelty"),
        ({"technical_strength": None}, "invalid_score", "scores.technical_strength"),
        ({"technical_strength": 26}, "invalid_score", "scores.technical_strength"),
        ({"technical_strength": -1}, "invalid_score", "scores.technical_strength"),
        ({"technical_strength": "12.25"}, "invalid_score", "scores.technical_strength"),
        ({"technical_strength": "abc"}, "invalid_score", "scores.technical_strength"),
        ({"technical_strength": float("nan")}, "invalid_score", "scores.technical_strength"),
        ({"technical_strength": True}, "invalid_score", "scores.technical_strength"),
    ],
)
def test_art8_invalid_scores_name_the_criterion(policy, change, code, field):
    with pytest.raises(InvalidInput) as exc:
        policy.validate_scores({**FULL, **change})
    assert (exc.value.code, exc.value.field) == (code, field)


def test_art8_missing_score_is_refused(policy):
    scores = dict(FULL)
    del scores["operating_mechanism"]
    with pytest.raises(InvalidInput) as exc:
        policy.validate_scores(scores)
    assert (exc.value.code, exc.value.field) == ("missing_score", "scores.operating_mechanism")


def test_art8_boundaries_zero_and_max_are_allowed(policy):
    top = {c.criterion: c.max_points for c in policy.rubric}
    assert sum(policy.validate_scores(top).values()) == 100
    assert sum(policy.validate_scores(dict.fromkeys(top, 0)).values()) == 0


def test_art8_trimmed_mean_drops_one_highest_and_one_lowest(policy):
    totals = [Decimal("90"), Decimal("80"), Decimal("85"), Decimal("60"), Decimal("95")]
    assert policy.result(totals) == Decimal("85.00")  # (90 + 80 + 85) / 3
    # Ties: only one copy of the highest and of the lowest is dropped.
    assert policy.result([Decimal("80"), Decimal("80"), Decimal("70"), Decimal("70")]) == Decimal("75.00")


def test_art8_result_rounds_half_up_to_cents(policy):
    # Trimmed over [70, 80.1, 80.0, 80.0, 90]: (80.1 + 80.0 + 80.0) / 3 = 80.0333… → 80.03.
    assert policy.result([Decimal(x) for x in ("70", "80.1", "80.0", "80.0", "90")]) == Decimal("80.03")
    # An exact half: (80.0 + 80.05) / 2 = 80.025 → 80.03 (banker's rounding would give 80.02).
    mean = Policy(**{**policy.__dict__, "scoring_method": "mean"})
    assert mean.result([Decimal("80.0"), Decimal("80.05")]) == Decimal("80.03")


def test_art8_mean_method(policy):
    mean = Policy(**{**policy.__dict__, "scoring_method": "mean"})
    assert mean.result([Decimal("90"), Decimal("81")]) == Decimal("85.50")
    with pytest.raises(RuleViolation):
        mean.result([])


def test_art8_trimmed_mean_needs_three_totals(policy):
    with pytest.raises(RuleViolation) as exc:
        policy.result([Decimal("90"), Decimal("80")])
    assert exc.value.code == "not_enough_scores"
    assert exc.value.article == "Art. 8(3)" and exc.value.policy == REF
