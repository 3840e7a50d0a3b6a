"""The OpenAPI document's shape (api.openapi): short unique operation ids, a tag by stage and
the roles the routes really admit (``x-roles``), optional authentication on the public routes that know a
signed-in caller, and every error documented as the problem+json the API sends. Its content
(descriptions, examples) is tested in test_openapi_complete; Spectral's rules run in `make lint`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from api.openapi import OPERATIONS, STAGES, UndocumentedRoute, operation_id
from api_client import Api, make_api

CAMEL = re.compile(r"^[a-z]+(?:[A-Z][a-z0-9]*)*$")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, dict[str, Any]]]:
    tmp: Path = tmp_path_factory.mktemp("openapi")
    api, container = make_api(f"sqlite:///{tmp / 'events.sqlite3'}", tmp)
    try:
        yield api, api.client.get("/openapi.json").json()
    finally:
        container.close()


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            yield method.upper(), path, operation


def test_operation_ids_are_short_unique_and_name_every_route(served: tuple[Api, dict[str, Any]]) -> None:
    _, doc = served
    ids = [op["operationId"] for _, _, op in _operations(doc)]
    assert len(ids) == len(set(ids))
    assert all(CAMEL.match(i) for i in ids), [i for i in ids if not CAMEL.match(i)]
    assert {"applyPlatform", "fileObjection", "listPublicity", "fundPlatform", "verifyLog"} <= set(ids)
    # Every entry of the table is a route of the document: none is left over from a removed route.
    assert sorted(ids) == sorted(op for op, _ in OPERATIONS.values())


def test_a_route_without_an_operation_id_stops_the_app() -> None:
    app = FastAPI(generate_unique_id_function=operation_id)
    with pytest.raises(UndocumentedRoute, match="/api/v1/unnamed"):
        @app.get("/api/v1/unnamed")
        def unnamed() -> dict[str, str]:
            return {}


def test_each_operation_has_its_stage_as_tag_and_the_roles_it_admits(served: tuple[Api, dict[str, Any]]) -> None:
    api, doc = served
    stages = {name for name, _ in STAGES}
    assert {t["name"] for t in doc["tags"]} == stages
    roles = {"public", "applicant", "service_agency", "expert", "bureau", "finance", "auditor"}
    for method, path, op in _operations(doc):
        # One tag: the docs pages list an operation once per tag.
        assert len(op["tags"]) == 1 and op["tags"][0] in stages, (method, path, op["tags"])
        assert op["x-roles"] and set(op["x-roles"]) <= roles, (method, path)
    by_id = {op["operationId"]: op for _, _, op in _operations(doc)}
    assert (by_id["fundPlatform"]["tags"], by_id["fundPlatform"]["x-roles"]) == (["funding"], ["finance"])
    assert by_id["applyPlatform"]["x-roles"] == ["applicant", "bureau", "service_agency"]
    assert by_id["listPublicity"]["x-roles"] == ["public"]
    # The roles say what the API enforces: a role they leave out is refused.
    r = api.post("/platforms/00000000-0000-0000-0000-000000000001/funding", "bureau",
                 {"joint_document_ref": "X", "amount": "1000000.00"})
    assert r.status_code == 403


def test_public_routes_need_no_token_and_objections_take_one_optionally(served: tuple[Api, dict[str, Any]]) -> None:
    _, doc = served
    by_id = {op["operationId"]: op for _, _, op in _operations(doc)}
    assert by_id["fileObjection"]["security"] == [{}, {"OAuth2PasswordBearer": []}]
    for public in ("listPublicity", "listSubfields", "listPolicies", "getLatestCheckpoint", "getConsistencyProof"):
        assert "security" not in by_id[public], public
    assert by_id["applyPlatform"]["security"] == [{"OAuth2PasswordBearer": []}]


def test_every_error_is_documented_as_problem_json(served: tuple[Api, dict[str, Any]]) -> None:
    _, doc = served
    assert "HTTPValidationError" not in str(doc)
    shared = doc["components"]["responses"]
    for method, path, op in _operations(doc):
        errors = {s: r for s, r in op["responses"].items() if s.startswith(("4", "5"))}
        for status, response in errors.items():
            if "$ref" in response:
                response = shared[response["$ref"].rsplit("/", 1)[1]]
            assert response["content"] == {"application/problem+json": {"schema": {
                "$ref": "#/components/schemas/Problem"}}}, (method, path, status)
        if op.get("security") == [{"OAuth2PasswordBearer": []}]:
            assert {"401", "403"} <= set(errors), (method, path)
        if "{" in path:
            assert "404" in errors, (method, path)
        if "requestBody" in op:
            assert {"400", "413", "422"} <= set(errors), (method, path)


def test_each_status_lists_its_problem_codes(served: tuple[Api, dict[str, Any]]) -> None:
    """A client learns the codes a status can carry from the document, each with its page."""
    from api.problem_catalogue import CATALOGUE

    _, doc = served
    conflict = doc["components"]["responses"]["Conflict"]["description"]
    assert "`objections_unresolved`" in conflict and "`subfield_taken`" in conflict
    assert "/problems/{code}" in conflict
    listed = {code for response in doc["components"]["responses"].values()
              for code in CATALOGUE if f"`{code}`" in response["description"]}
    answered = {int(status) for _, _, op in _operations(doc) for status in op["responses"]}
    assert listed == {code for code, entry in CATALOGUE.items() if entry.status in answered}


def test_cli_writes_the_document_without_opening_the_store(cli_env: Path, served: tuple[Api, dict[str, Any]]) -> None:
    """`platforms openapi --out FILE` (what `make lint` hands to Spectral) writes the served
    document; the configured store is neither opened nor created."""
    import json

    from typer.testing import CliRunner

    from api.cli import app

    out = cli_env / "openapi.json"
    r = CliRunner().invoke(app, ["openapi", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text(encoding="utf-8")) == served[1]
    assert not list((cli_env / "var").glob("*.sqlite3"))


def test_served_examples_are_valid_for_their_models(served: tuple[Api, dict[str, Any]]) -> None:
    """Each model's whole example, as the document serves it (nulls included), is accepted by
    the model it illustrates: a client developer can paste it."""
    from pydantic import BaseModel

    from api import audit_schemas, schemas

    _, doc = served
    models = {name: model for module in (schemas, audit_schemas) for name, model in vars(module).items()
              if isinstance(model, type) and issubclass(model, BaseModel)}
    checked = 0
    for name, component in doc["components"]["schemas"].items():
        if name in models:
            for example in component.get("examples", []):
                models[name].model_validate(example)
                checked += 1
    assert checked > 50
