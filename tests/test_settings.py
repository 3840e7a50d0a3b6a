"""Configuration in one place: only :mod:`api.settings` reads the environment; every other
module is handed its settings. And an operator's policy file that cannot be trusted stops the
service, naming the file and the field."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import api
from aggregates.policy import BUNDLED_DIR, PolicyDataError
from api.registry_wiring import build_policies
from api.settings import Settings, SettingsError

SRC = Path(api.__file__).resolve().parents[1]
SETTINGS_MODULE = SRC / "api" / "settings.py"
ENVIRONMENT_READERS = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}


def _reads_of_the_environment(path: Path) -> list[str]:
    """Where ``path`` touches the process environment: ``os.environ``, ``os.getenv``... or an
    import of one of them."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in ENVIRONMENT_READERS:
            found.append(f"{path.relative_to(SRC)}:{node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            found += [f"{path.relative_to(SRC)}:{node.lineno}: from os import {a.name}"
                      for a in node.names if a.name in ENVIRONMENT_READERS]
    return found


def test_only_the_settings_module_reads_the_environment() -> None:
    modules = sorted(SRC.rglob("*.py"))
    assert SETTINGS_MODULE in modules and len(modules) > 50
    offenders = [hit for path in modules if path != SETTINGS_MODULE for hit in _reads_of_the_environment(path)]
    assert offenders == []
    assert _reads_of_the_environment(SETTINGS_MODULE)  # the check sees a read where there is one


def test_production_without_a_secret_key_refuses_to_start() -> None:
    with pytest.raises(SettingsError, match="PLATFORMS_SECRET_KEY is required in production"):
        Settings.from_env(env={"PLATFORMS_MODE": "production"})


@pytest.mark.parametrize(("env", "variable"), [
    ({"PLATFORMS_MODE": "staging"}, "PLATFORMS_MODE"),
    ({"PLATFORMS_TOKEN_MINUTES": "an hour"}, "PLATFORMS_TOKEN_MINUTES"),
    ({"PLATFORMS_CHECKPOINT_SECONDS": "0"}, "PLATFORMS_CHECKPOINT_SECONDS"),
    ({"PLATFORMS_LOGIN_ACCOUNT_FAILURES": "2.5"}, "PLATFORMS_LOGIN_ACCOUNT_FAILURES"),
    ({"PLATFORMS_RUN_PROJECTIONS": "sometimes"}, "PLATFORMS_RUN_PROJECTIONS"),
    ({"PLATFORMS_LOG_ORIGIN": "two words"}, "PLATFORMS_LOG_ORIGIN"),
])
def test_a_wrong_variable_is_refused_by_name(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env(env=env)


def test_the_defaults_of_the_readme(tmp_path: Path) -> None:
    s = Settings.from_env(env={"PLATFORMS_VAR_DIR": str(tmp_path)})
    assert s.store.url == f"sqlite:///{tmp_path / 'platforms.sqlite3'}" and s.runs_projections
    assert (s.mode, s.token_minutes, s.checkpoint_seconds, s.checkpoint_events) == ("development", 60, 60.0, 1000)
    assert (s.login_account_failures, s.login_address_failures, s.login_window) == (5, 20, 900.0)
    assert (s.objection_rate_limit, s.objection_rate_window, s.integrity_check_seconds) == (5, 600.0, 600.0)
    assert s.checkpoint_keys.private == tmp_path / "keys" / "checkpoint-ed25519.pem"
    assert s.checkpoint_keys.origin == "kjj.changsha.gov.cn/platform-registry"
    assert s.trusted_proxies == () and s.witness_keys is None and s.calendar_file is None
    assert not (tmp_path / "secret.key").exists()  # reading settings creates nothing
    on_postgres = Settings.from_env(env={"PLATFORMS_DATABASE_URL": "postgresql+psycopg://u@db/registry"})
    assert not on_postgres.runs_projections


# ---------------------------------------------------------------- policy files
def _bundled() -> dict:
    return json.loads(next(BUNDLED_DIR.glob("*.json")).read_text(encoding="utf-8"))


def _successor(**changes: object) -> dict:
    policy = _bundled()
    policy["policy"] = "长科发〔2023〕99号"
    policy["effective_from"]["value"], policy["effective_to"]["value"] = "2023-11-12", None
    policy.update(changes)
    return policy


@pytest.mark.parametrize(("change", "field", "says"), [
    ({"funding_amount": {"value": 1000000, "article": "Art. 9(3)"}}, "funding_amount.value", "as text"),
    ({"publicity": {"working_days": 5, "start_day_counts": "yes", "article": "Art. 8(6)"}},
     "publicity.start_day_counts", "boolean"),
    ({"min_experts": {"value": 3}}, "min_experts.article", "is missing"),
    ({"scoring_method": {"value": "median", "article": "Art. 8(3)"}}, "scoring_method.value", "'median'"),
    ({"effective_from": {"value": "2023-02-30", "article": "Art. 15"}}, "effective_from.value",
     "not a calendar date"),
    ({"deadline": "soon"}, "deadline", "is not a known field"),
])
def test_an_invalid_policy_file_stops_the_service_naming_the_file_and_the_field(
        tmp_path: Path, change: dict, field: str, says: str) -> None:
    bad = tmp_path / "policies" / "successor.json"
    bad.parent.mkdir()
    bad.write_text(json.dumps(_successor(**change), ensure_ascii=False), encoding="utf-8")
    with pytest.raises(PolicyDataError) as refused:
        build_policies(Settings.from_env(env={"PLATFORMS_POLICY_DIR": str(bad.parent)}))
    assert refused.value.field == field
    assert str(bad) in str(refused.value) and f"'{field}'" in str(refused.value) and says in str(refused.value)


def test_a_valid_successor_file_loads(tmp_path: Path) -> None:
    (tmp_path / "successor.json").write_text(json.dumps(_successor(), ensure_ascii=False), encoding="utf-8")
    registry = build_policies(Settings.from_env(env={"PLATFORMS_POLICY_DIR": str(tmp_path)}))
    assert [p.policy for p in registry.all()] == ["长科发〔2021〕36号", "长科发〔2023〕99号"]
    assert registry.latest().effective_to is None and registry.latest().article("publicity") == "Art. 8(6)"
