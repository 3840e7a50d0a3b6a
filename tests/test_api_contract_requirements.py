"""The contract says what the rules need (docs/API.md, "Commands"): a field the domain requires
later is required when the request comes in, so a client written to the contract never creates
an application that could only ever be refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from api_client import Api, application

pytestmark = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)

ARCHIVE = Path(__file__).resolve().parents[1] / "docs" / "archive-example.jsonl"
FULL = application()["basic_conditions"]


def _without(**conditions: Any) -> dict[str, Any]:
    return application(basic_conditions={**FULL, **conditions})


CASES = [
    ({k: v for k, v in application().items() if k != "basic_conditions"}, "basic_conditions"),
    (_without(open_sharing=None), "basic_conditions.open_sharing"),
    (_without(technical_strength=""), "basic_conditions.technical_strength"),
    (_without(service_mechanism=" \n\t "), "basic_conditions.service_mechanism"),
]


@pytest.mark.parametrize(("body", "field"), CASES)
def test_art6_applying_without_the_basic_conditions_is_refused_at_entry(api: Api, body: dict, field: str) -> None:
    if field != "basic_conditions":
        body["basic_conditions"] = {k: v for k, v in body["basic_conditions"].items() if v is not None}
    r = api.post("/platforms", "applicant", body)
    assert r.status_code == 422, r.text
    assert (r.json()["code"], r.json()["field"]) == ("invalid_input", field)
    # A paper application keyed in on the host unit's behalf is held to the same contract.
    r = api.post("/platforms", "service_agency", {**body, "document_ref": "收件〔2022〕031号"})
    assert r.status_code == 422 and r.json()["field"] == field
    assert api.get("/platforms", "bureau").json()["items"] == []  # nothing was written


def test_art6_an_application_made_to_the_contract_passes_the_formal_review(api: Api) -> None:
    r = api.post("/platforms", "applicant", application())
    assert r.status_code == 201, r.text
    r = api.post(f"/platforms/{r.json()['id']}/intake", "service_agency",
                 {"decision": "accepted", "reasons": "材料齐全", "business_date": "2022-03-05"})
    assert r.status_code == 200 and r.json()["status"] == "accepted"


def test_art6_an_archive_application_without_basic_conditions_is_refused_by_line(api: Api) -> None:
    lines = [json.loads(x) for x in ARCHIVE.read_text(encoding="utf-8").splitlines() if x.strip()]
    apply = next(i for i, x in enumerate(lines) if x["act"] == "apply")
    del lines[apply]["data"]["basic_conditions"]
    content = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines).encode() + b"\n"
    r = api.client.post("/api/v1/imports?dry_run=true", content=content,
                        headers=api.headers("bureau", **{"Content-Type": "application/x-ndjson"}))
    assert r.status_code == 422 and r.json()["code"] == "archive_refused", r.text
    refusal = r.json()["refusals"][0]
    assert (refusal["line"], refusal["code"], refusal["field"]) == (apply + 1, "invalid_input",
                                                                    "data.basic_conditions")
    assert refusal["title"] == "输入不符合要求"


def test_the_openapi_document_marks_them_required(api: Api) -> None:
    schemas = api.client.get("/openapi.json").json()["components"]["schemas"]
    assert "basic_conditions" in schemas["ApplyBody"]["required"]
    conditions = schemas["BasicConditions"]
    assert set(conditions["required"]) == {"technical_strength", "open_sharing", "service_mechanism"}
    assert all(conditions["properties"][k]["minLength"] == 1 for k in conditions["required"])
    assert "recused" in schemas["CoBuilder"]["properties"]["credit_code"]["description"]
