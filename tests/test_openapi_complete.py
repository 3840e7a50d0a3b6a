"""The OpenAPI document tells a client developer everything (issue 15, item 1): every operation
has a summary and a description; every property of every component schema a description and an
example; every path, query and header parameter a description and an example; every request
body an example. And the examples are valid: each model-level example of a model of
:mod:`api.schemas` and :mod:`api.audit_schemas` is accepted by that model, so an example cannot rot when a field changes
(schemathesis sends them too, in its explicit phase: tests/test_api_schemathesis.py).

The document is read live from ``/openapi.json``, as a client generator reads it. A failure
names every place that lacks what it should have."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from aggregates.credit_code import validate_credit_code
from aggregates.errors import InvalidInput
from api import audit_schemas, schemas
from api_client import make_api

METHODS = ("get", "post", "put", "patch", "delete")
# FastAPI's own default 422 body, which it adds to routes that declare no 422 of their own. The
# API never sends it (api.errors answers every refusal as application/problem+json), so it is not
# this document's to describe; the error documentation replaces it.
FASTAPI_OWN = {"HTTPValidationError", "ValidationError"}
CREDIT_CODE_NAMES = {"credit_code", "affiliation", "host_credit_code"}
MODEL_MODULES = (schemas, audit_schemas)


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp: Path = tmp_path_factory.mktemp("openapi")
    api, container = make_api(f"sqlite:///{tmp / 'events.sqlite3'}", tmp)
    try:
        response = api.client.get("/openapi.json")
        assert response.status_code == 200
        yield response.json()
    finally:
        container.close()


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def _has_example(node: dict[str, Any]) -> bool:
    return bool(node.get("examples")) or "example" in node


def test_every_operation_has_a_summary_and_a_description(document: dict[str, Any]) -> None:
    missing = [f"{name}: {what}" for name, op in _operations(document)
               for what in ("summary", "description") if not str(op.get(what, "")).strip()]
    assert not missing, "operations without a summary or description:\n" + "\n".join(missing)


def test_every_property_of_every_schema_has_a_description_and_an_example(document: dict[str, Any]) -> None:
    """A property that is a bare ``$ref`` has the referenced schema's examples (pydantic drops the
    field's own when they repeat the model's)."""
    components = document["components"]["schemas"]
    missing = []
    for name, schema in components.items():
        if name in FASTAPI_OWN:
            continue
        for prop, spec in schema.get("properties", {}).items():
            referenced = components.get(spec.get("$ref", "").rsplit("/", 1)[-1], {})
            if not str(spec.get("description", "")).strip():
                missing.append(f"{name}.{prop}: description")
            if not (_has_example(spec) or _has_example(referenced)):
                missing.append(f"{name}.{prop}: example")
    assert not missing, f"{len(missing)} schema properties lack a description or example:\n" + "\n".join(missing)


def test_every_parameter_has_a_description_and_an_example(document: dict[str, Any]) -> None:
    missing = []
    for name, op in _operations(document):
        for param in op.get("parameters", []):
            label = f"{name} {param['in']} {param['name']}"
            if not str(param.get("description", "")).strip():
                missing.append(f"{label}: description")
            if not (_has_example(param) or _has_example(param.get("schema", {}))):
                missing.append(f"{label}: example")
    assert not missing, f"{len(missing)} parameters lack a description or example:\n" + "\n".join(missing)


def test_every_request_body_has_an_example(document: dict[str, Any]) -> None:
    components = document["components"]["schemas"]
    missing = []
    for name, op in _operations(document):
        for media, content in op.get("requestBody", {}).get("content", {}).items():
            schema = content.get("schema", {})
            ref = schema.get("$ref", "")
            target = components.get(ref.rsplit("/", 1)[-1], {}) if ref else schema
            if not (_has_example(content) or _has_example(target)):
                missing.append(f"{name} ({media})")
    assert not missing, "request bodies without an example:\n" + "\n".join(missing)


def _models_in(document: dict[str, Any]) -> list[tuple[str, type[BaseModel]]]:
    found = []
    for name in document["components"]["schemas"]:
        for module in MODEL_MODULES:
            model = getattr(module, name, None)
            if isinstance(model, type) and issubclass(model, BaseModel):
                found.append((name, model))
                break
    return found


def test_every_model_of_the_document_has_a_whole_example_it_accepts(document: dict[str, Any]) -> None:
    """Request bodies and responses alike: ``Model.model_validate(example)`` for each, so an
    example that no longer fits its model (a renamed field, a new required one) fails here. The
    examples are the model's own: FastAPI writes the document without null values
    (``exclude_none``), which drops an example's null-valued keys."""
    models = _models_in(document)
    assert len(models) > 60  # the bodies and responses of api.schemas, not an empty loop
    missing, invalid = [], []
    for name, model in models:
        examples = model.model_json_schema().get("examples") or []
        if not examples:
            missing.append(name)
        for example in examples:
            try:
                model.model_validate(example)
            except ValueError as exc:
                invalid.append(f"{name}: {exc}")
    assert not missing, "models without a whole example:\n" + "\n".join(missing)
    assert not invalid, "examples their model refuses:\n" + "\n".join(invalid)


def test_request_body_examples_as_served_are_accepted(document: dict[str, Any]) -> None:
    """What a client copies from the document (and schemathesis sends) is a body the API takes."""
    components = document["components"]["schemas"]
    checked, invalid = 0, []
    for name, op in _operations(document):
        schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
        model_name = schema.get("$ref", "").rsplit("/", 1)[-1]
        model = getattr(schemas, model_name, None)
        if model is None:
            continue
        for example in components[model_name].get("examples", []):
            checked += 1
            try:
                model.model_validate(example)
            except ValueError as exc:
                invalid.append(f"{name} ({model_name}): {exc}")
    assert checked >= 25
    assert not invalid, "served request examples their body refuses:\n" + "\n".join(invalid)


def test_field_examples_are_valid_for_their_field(document: dict[str, Any]) -> None:
    """Each field's own examples, put in a copy of its model's whole example, are accepted too."""
    invalid = []
    for name, model in _models_in(document):
        whole = (model.model_json_schema().get("examples") or [None])[0]
        if whole is None:
            continue
        for field, info in model.model_fields.items():
            for value in info.examples or []:
                try:
                    model.model_validate({**whole, field: value})
                except ValueError as exc:
                    invalid.append(f"{name}.{field} = {value!r}: {exc}")
    assert not invalid, "field examples their field refuses:\n" + "\n".join(invalid)


def _credit_code_examples(node: Any, key: str | None, found: set[str]) -> None:
    """Every example value of a field or parameter named as a credit code, and every such key in
    a whole example."""
    if isinstance(node, dict):
        named = node.get("name") if "in" in node else None  # a parameter object
        for k, v in node.items():
            if isinstance(v, dict) and (k in CREDIT_CODE_NAMES or named in CREDIT_CODE_NAMES):
                found.update(e for e in v.get("examples", []) if isinstance(e, str))
            _credit_code_examples(v, k, found)
    elif isinstance(node, list):
        for item in node:
            _credit_code_examples(item, key, found)
    elif isinstance(node, str) and key in CREDIT_CODE_NAMES:
        found.add(node)


def test_art8_credit_code_examples_carry_a_correct_check_character(document: dict[str, Any]) -> None:
    """Art. 8(1): a host unit is identified by its unified social credit code, whose check
    character the API verifies; an example a client copies must pass that check."""
    found: set[str] = set()
    _credit_code_examples(document, None, found)
    assert len(found) >= 3  # host units, a co-builder, an expert's unit
    wrong = []
    for code in sorted(found):
        try:
            validate_credit_code(code)
        except InvalidInput as exc:
            wrong.append(f"{code}: {exc}")
    assert not wrong, "credit-code examples with a wrong check character:\n" + "\n".join(wrong)
