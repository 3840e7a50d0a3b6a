"""The one catalogue of problem codes covers every code the service can raise, and each entry can
be said in Chinese with the parameters its refusals carry (api.problem_catalogue)."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import textwrap
from pathlib import Path

import pytest

from aggregates.errors import DomainError
from api.errors import HTTP_CODES
from api.problem_catalogue import CATALOGUE, article_zh, problem_type

SRC = Path(__file__).resolve().parent.parent / "src"

# The calls that raise or answer a problem code, and the position of the code among their
# positional arguments. ``Refusal`` is the archive import's refusal of a line (api.archive_import);
# ``_refuse`` the password policy's (api.password_policy).
CODE_ARGUMENT = {"RuleViolation": 0, "InvalidInput": 0, "NotFound": 0, "DomainError": 0, "UnknownWitness": 0,
                 "ProblemException": 1, "problem": 2, "_refuse": 0}
ARCHIVE_REFUSAL = SRC / "api" / "archive_import.py"


def _name(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def raised_codes() -> dict[str, list[str]]:
    """Every code written in src, with where: the string constants in the code argument of
    each call above (an f-string there is refused: its codes could not be listed)."""
    found: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node)
            position = CODE_ARGUMENT.get(name or "")
            if name == "Refusal" and path == ARCHIVE_REFUSAL:
                position = 1
            if position is None or len(node.args) <= position:
                continue
            argument = node.args[position]
            where = f"{path.relative_to(SRC)}:{node.lineno}"
            assert not any(isinstance(n, ast.JoinedStr) for n in ast.walk(argument)), \
                f"{where}: a problem code made by an f-string cannot be checked against the catalogue"
            for code in _constants(argument):
                found.setdefault(code, []).append(where)
    return found


def _constants(node: ast.expr) -> list[str]:
    """The codes an argument can be: a string, either branch of ``a if c else b``; a name or an
    attribute passes on a code raised elsewhere (``exc.code``), checked where it was raised."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _constants(node.body) + _constants(node.orelse)
    return []


def test_the_scan_finds_the_codes_it_should() -> None:
    # A scan that found nothing would pass the test below without checking anything.
    codes = raised_codes()
    for code in ("subfield_taken", "wrong_stage", "not_your_platform", "password_common", "unknown_act",
                 "unknown_objection", "archive_refused", "payload_too_large"):
        assert code in codes, code


def test_every_code_raised_in_src_is_in_the_catalogue() -> None:
    missing = {code: where for code, where in raised_codes().items() if code not in CATALOGUE}
    assert not missing, f"codes raised but not in api/problem_catalogue.py: {missing}"


def test_every_http_level_code_is_in_the_catalogue() -> None:
    assert set(HTTP_CODES.values()) | {"http_error"} <= CATALOGUE.keys()


def _domain_error_classes() -> list[type[DomainError]]:
    for package in ("aggregates", "audit", "projections", "api"):
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, f"{package}."):
            importlib.import_module(info.name)
    seen: list[type[DomainError]] = []
    todo: list[type[DomainError]] = [DomainError]
    while todo:
        cls = todo.pop()
        seen.append(cls)
        todo.extend(cls.__subclasses__())
    return seen


def test_every_domain_error_class_raises_a_catalogued_code() -> None:
    """A subclass either passes its caller's code through (``code`` among its parameters) or
    fixes its own, in its ``super().__init__(...)``: that one must be listed."""
    classes = _domain_error_classes()
    assert len(classes) >= 8
    for cls in classes:
        parameters = inspect.signature(cls.__init__).parameters
        if "code" in parameters:
            continue
        tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
        fixed = [n.args[0].value for n in ast.walk(tree)
                 if isinstance(n, ast.Call) and _name(n) == "__init__" and n.args
                 and isinstance(n.args[0], ast.Constant)]
        assert fixed, f"{cls.__name__} neither takes a code nor fixes one"
        for code in fixed:
            assert code in CATALOGUE, f"{cls.__name__} raises {code!r}, not in the catalogue"


def test_params_passed_by_refusals_fill_their_chinese_templates() -> None:
    """Where a refusal passes ``params``, they are exactly the names its Chinese detail takes,
    so none is forgotten and none is missing on either side."""
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _name(node) not in CODE_ARGUMENT:
                continue
            keyword = next((k for k in node.keywords if k.arg == "params"), None)
            position = CODE_ARGUMENT[_name(node) or ""]
            if keyword is None or len(node.args) <= position:
                continue
            code_node = node.args[position]
            if not isinstance(code_node, ast.Constant):
                continue
            value = keyword.value.body if isinstance(keyword.value, ast.IfExp) else keyword.value
            assert isinstance(value, ast.Dict), f"{path}:{node.lineno}: params as a dict literal"
            names = {k.value for k in value.keys if isinstance(k, ast.Constant)}
            assert names == problem_type(code_node.value).parameters, \
                f"{path}:{node.lineno}: {code_node.value} passes {sorted(names)}, its template takes " \
                f"{sorted(problem_type(code_node.value).parameters)}"


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_each_entry_is_complete_and_speaks_chinese(code: str) -> None:
    kind = CATALOGUE[code]
    assert kind.code == code and 400 <= kind.status <= 599
    for text in (kind.title_zh, kind.title_en, kind.meaning_zh, kind.meaning_en, kind.remedy_zh, kind.remedy_en):
        assert text.strip()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in kind.title_zh + kind.meaning_zh + kind.remedy_zh)
    # The Chinese detail renders with its parameters, and falls back to the explanation without.
    filled = kind.chinese_detail({name: "X" for name in kind.parameters})
    assert "{" not in filled.replace("{name, target}", "").replace("{id}", "").replace("{n}", "")
    assert kind.chinese_detail({}) in (kind.meaning_zh, kind.detail_zh or kind.meaning_zh)
    if kind.article:
        assert article_zh(kind.article), kind.article


def test_article_in_chinese() -> None:
    assert article_zh("Art. 5") == "第五条"
    assert article_zh("Art. 8(6)") == "第八条第（六）项"
    assert article_zh("Art. 15") == "第十五条"
    assert article_zh("Art. 6, 7") == "第六条、第七条"
    assert article_zh(None) is None


def test_a_refusal_in_chinese_carries_its_values() -> None:
    kind = CATALOGUE["high_tech_certificate_expired"]
    assert kind.chinese_detail({"valid_until": "2022-04-30", "business_date": "2023-12-05"}) == \
        "高新技术企业证书已于 2022-04-30 到期，早于 2023-12-05。"
    assert CATALOGUE["basic_conditions_missing"].chinese_detail({"missing": ["open_sharing", "service_mechanism"]}) \
        == "申请缺少基本条件：open_sharing、service_mechanism。"
