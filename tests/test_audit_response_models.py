"""The audit routes' response models (api/audit_schemas.py) against the bodies the routes really
send, on SQLite and PostgreSQL, and the OpenAPI document that declares them.

The routes send the audit modules' bodies untouched (``JSONResponse``: FastAPI validates nothing
on the way out), so only these tests keep the document honest. Each body is validated from its
bytes in pydantic's strict mode (an int sent as a string, a missing or misspelt field, a hash of
the wrong length fail) and must hold no field its model does not declare, so that a field
added, renamed or dropped in the audit modules fails here until the model says so. A store is
taken through a real round: events, checkpoints with and without a signed note, a witness's
cosignature sent twice, proofs, a diff, the read models at a past position; then an event is
altered and another made unreadable behind the registry's back.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import uuid4

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from aggregates.programme import Driver
from api import audit_schemas as a
from api.routes_audit import router as audit_router
from api.schemas import Ledger, Problem, PublicityPage
from api_client import Api, application
from audit import note
from audit.checkpoint_store import latest_stored, store_checkpoint
from audit.history import log_entries
from audit.signing import CheckpointSigner
from audit.witness import load_witness_key
from support import tamper_event
from witness_support import Keys, sql

WITNESS = "sjj.changsha.example/witness"
M = TypeVar("M", bound=BaseModel)


@pytest.fixture
def site(keys: Keys, export_site: Api) -> Api:
    """``export_site`` (two checkpoints, both with signed notes under the test origin, and events
    after them) with one witness listed; ``keys`` first, so the site is wired to its witness list."""
    keys.add_witness(WITNESS, "市审计局")
    return export_site


def undeclared(value: Any, path: str = "body") -> list[str]:
    """Every field of ``value`` (a validated body) that an audit model does not declare. The
    read models at a past position are the live list's and ledger's (api/schemas.py), whose
    models name the documented fields and allow more: their fields are compared with the live
    routes' instead (:func:`test_every_audit_body_matches_its_model`)."""
    found: list[str] = []
    if isinstance(value, BaseModel):
        if type(value).__module__ == a.__name__ and not isinstance(value, PublicityPage | Ledger):
            found += [f"{path}.{k}" for k in value.model_extra or {}]
            for name in type(value).model_fields:
                found += undeclared(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += undeclared(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            found += undeclared(item, f"{path}.{key}")
    return found


def conforms(model: type[M], response: Any, status: int = 200) -> M:
    """The response's body, validated strictly from its bytes as ``model``, with nothing undeclared."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == "application/json"
    body = model.model_validate_json(response.content, strict=True)
    assert undeclared(body) == [], f"{model.__name__}: fields sent but not declared"
    return body


def problem(response: Any, status: int, code: str) -> None:
    """``response`` is the problem+json refusal ``code`` with ``status``, as the document declares."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == "application/problem+json"
    assert Problem.model_validate_json(response.content, strict=True).code == code


def cosignature(api: Api, keys: Keys, when: datetime) -> dict[str, str]:
    """The witness's cosignature of the latest checkpoint, as POST /audit/cosignatures takes it."""
    text, _ = note.parse_note(api.client.get("/api/v1/audit/checkpoint").json()["note"])
    key_name, key = load_witness_key(keys.witnesses[WITNESS])
    return {"checkpoint": text, "cosignature": note.cosign(text, key_name, key, int(when.timestamp())).line()}


def garble(app: Any, position: int) -> None:
    """Replace the stored state at log ``position`` by bytes that are not JSON, behind the
    application's back."""
    table = app.recorder.events_table_name
    where = "rowid" if app.store.is_sqlite else "notification_id"
    sql(app, f"UPDATE {{schema}}{table} SET state = ? WHERE {where} = ?", (b"\xffnot json", position))


def test_every_audit_body_matches_its_model(site: Api, keys: Keys) -> None:
    app, get = site.container.app, site.client.get
    auditor = site.headers("auditor")
    # A paper application keyed in by the service agency: an act with its recorder.
    paper = site.post("/platforms", "service_agency",
                      application(name="纸质申报平台", document_ref="收件〔2022〕017号"))
    assert paper.status_code == 201, paper.text

    # The log, paged: a full page names the next page's `after`, the last names none.
    first = conforms(a.AuditLogPage, get("/api/v1/audit/log", params={"limit": 5}, headers=auditor))
    assert [e.position for e in first.items] == [1, 2, 3, 4, 5] and first.next_after == 5
    whole = conforms(a.AuditLogPage, get("/api/v1/audit/log", params={"limit": 1000}, headers=auditor))
    assert whole.next_after is None and all(isinstance(e, a.LogEntry) for e in whole.items)
    size = len(whole.items)
    recorded = next(e for e in whole.items if isinstance(e, a.LogEntry) and e.platform_id == paper.json()["id"])
    assert recorded.recorded_by == a.RecordedBy(actor_id="service_agency", role="service_agency")

    for deep in (False, True):
        report = conforms(a.VerifyReportOut, get("/api/v1/audit/verify", params={"deep": deep}, headers=auditor))
        assert report.ok and report.failures == [] and report.mode == ("deep" if deep else "full")
        assert report.latest_checkpoint is not None and report.unattested_events > 0

    # A checkpoint signed before the registry published notes: origin and note null.
    latest = latest_stored(app)
    assert latest is not None
    signer = site.container.settings.checkpoint_keys.load_signer()
    store_checkpoint(app, signer.sign(latest.checkpoint.size, bytes.fromhex(latest.checkpoint.root_hex),
                                      datetime.now(UTC)))
    old = conforms(a.PublishedCheckpoint, get("/api/v1/audit/checkpoint"))
    assert (old.origin, old.note, old.cosignatures) == (None, None, [])
    problem(get("/api/v1/audit/checkpoint", headers={"Accept": "text/plain"}), 406, "no_signed_note")

    signed = conforms(a.SignedCheckpointOut, site.client.post("/api/v1/audit/checkpoints", headers=auditor), 201)
    assert signed.size == size

    # A witness cosigns it: 201 with what is kept; the same head again, later: 200 with the first.
    now = datetime.now(UTC)
    kept = conforms(a.StoredCosignatureOut, site.client.post(
        "/api/v1/audit/cosignatures", json=cosignature(site, keys, now)), 201)
    again = conforms(a.StoredCosignatureOut, site.client.post(
        "/api/v1/audit/cosignatures", json=cosignature(site, keys, now + timedelta(seconds=5))), 200)
    assert (kept.size, kept.root, kept.witness) == (signed.size, signed.root, "市审计局")
    assert again.line == kept.line and again.timestamp == kept.timestamp

    published = conforms(a.PublishedCheckpoint, get("/api/v1/audit/checkpoint"))
    assert published.note is not None and [c.line for c in published.cosignatures] == [kept.line]
    page = conforms(a.CheckpointPage, get("/api/v1/audit/checkpoints", params={"limit": 2}))
    assert page.next_after == page.items[-1].id
    rest = conforms(a.CheckpointPage, get("/api/v1/audit/checkpoints", params={"after": page.next_after}))
    assert rest.next_after is None
    assert [c.id for c in page.items + rest.items] == [1, 2, 3, 4]
    assert [c.note is None for c in page.items + rest.items] == [False, False, True, False]

    inclusion = conforms(a.InclusionProof, get("/api/v1/audit/proofs/inclusion",
                                               params={"position": 1, "size": size}, headers=auditor))
    assert (inclusion.index, inclusion.root) == (0, signed.root)
    consistency = conforms(a.ConsistencyProof, get("/api/v1/audit/proofs/consistency",
                                                   params={"old_size": page.items[0].size, "new_size": size}))
    assert (consistency.old_root, consistency.new_root) == (page.items[0].root, signed.root)

    platform = next(e for e in whole.items if e.type == "Applied")
    diff = conforms(a.VersionDiff, get(f"/api/v1/platforms/{platform.platform_id}/diff",
                                       params={"from_version": 1, "to_version": 5}, headers=auditor))
    assert str(diff.platform_id) == platform.platform_id and "status" in diff.changes

    # The read models at a past position have the live routes' shape, and the position.
    site.container.runner.wait_for(size, timeout=30.0)
    bureau = site.headers("bureau")
    publicity = conforms(a.PublicityListAt, get("/api/v1/audit/publicity-list", params={"position": size},
                                                headers=auditor))
    live_list = get("/api/v1/publicity-list", headers=bureau).json()
    assert publicity.position == size and publicity.items
    assert set(publicity.model_dump()) == {"position", *live_list}
    assert set(publicity.model_dump()["items"][0]) == set(live_list["items"][0])
    ledger = conforms(a.LedgerAt, get("/api/v1/audit/funding-ledger", params={"position": size}, headers=auditor))
    live_ledger = get("/api/v1/funding-ledger", headers=bureau).json()
    assert ledger.model_dump(mode="json") == {"position": size, **live_ledger}

    # Behind the registry's back: one event altered, another made unreadable.
    tamper_event(app, 3)
    garble(app, 7)
    log = conforms(a.AuditLogPage, get("/api/v1/audit/log", params={"limit": 1000}, headers=auditor))
    unreadable = [e for e in log.items if isinstance(e, a.UndecodableLogEntry)]
    assert [e.position for e in unreadable] == [7] and unreadable[0].prev_hash is None
    for deep in (False, True):
        report = conforms(a.VerifyReportOut, get("/api/v1/audit/verify", params={"deep": deep}, headers=auditor))
        assert not report.ok and report.first_failure is not None and report.first_failure.position == 3
        assert {3, 7} <= {f.position for f in report.failures} and report.failure_count >= 2
    problem(site.client.post("/api/v1/audit/checkpoints", headers=auditor), 409, "log_not_intact")


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_audit_routes_refuse_with_the_problems_they_declare(site: Api) -> None:
    get, auditor = site.client.get, site.headers("auditor")
    problem(get("/api/v1/audit/log"), 401, "unauthorized")
    problem(get("/api/v1/audit/verify", headers=site.headers("applicant")), 403, "forbidden")
    problem(get("/api/v1/audit/log", params={"limit": 0}, headers=auditor), 422, "invalid_input")
    problem(get("/api/v1/audit/checkpoints", params={"after": -1}), 422, "invalid_input")
    problem(get("/api/v1/audit/proofs/inclusion", params={"position": 10**6}, headers=auditor), 404,
            "position_not_found")
    problem(get("/api/v1/audit/proofs/consistency", params={"old_size": 1, "new_size": 10**6}), 404,
            "size_not_found")
    problem(get("/api/v1/audit/proofs/consistency", params={"old_size": 10**6}), 422, "invalid_size")
    problem(get(f"/api/v1/platforms/{uuid4()}/diff", params={"from_version": 1, "to_version": 2},
                headers=auditor), 404, "platform_not_found")
    problem(get("/api/v1/audit/funding-ledger", params={"position": -1}, headers=auditor), 422, "invalid_input")
    problem(site.client.post("/api/v1/audit/cosignatures", json={"checkpoint": "x\n", "cosignature": "y"}),
            422, "malformed_checkpoint")


def test_a_renamed_missing_or_mistyped_field_fails_its_model(memory_registry: Any) -> None:
    """The strict validation the tests above use refuses a body whose field was renamed, dropped or
    sent as another type, also inside the log's two kinds of entry."""
    signer = CheckpointSigner(Ed25519PrivateKey.generate())
    real = signer.sign(8, bytes(range(32)), datetime(2026, 11, 30, 6, 0, tzinfo=UTC)).to_dict()
    a.SignedCheckpointOut.model_validate_json(json.dumps(real), strict=True)
    renamed = {("signedAt" if k == "signed_at" else k): v for k, v in real.items()}
    for body in (renamed, {k: v for k, v in real.items() if k != "root"}, {**real, "size": "8"},
                 {**real, "root": real["root"][:-1]}, {**real, "signed_at": "2026-11-30T06:00:00"}):
        with pytest.raises(ValidationError):
            a.SignedCheckpointOut.model_validate_json(json.dumps(body), strict=True)

    Driver(memory_registry).to("accepted")
    entries = list(log_entries(memory_registry))
    page = {"items": entries, "next_cursor": None, "total": len(entries), "next_after": None}
    a.AuditLogPage.model_validate_json(json.dumps(page), strict=True)
    renamed_entry = {("recorded" if k == "recorded_at" else k): v for k, v in entries[0].items()}
    for item in (renamed_entry, {k: v for k, v in entries[0].items() if k != "data"},
                 {**entries[0], "sequence": str(entries[0]["sequence"])}):
        with pytest.raises(ValidationError):  # neither a readable nor an undecodable entry
            a.AuditLogPage.model_validate_json(json.dumps({**page, "items": [item]}), strict=True)


# What each audit route answers: its success status and model, and the problems it declares.
ROUTES: dict[tuple[str, str], tuple[dict[int, type[BaseModel] | None], set[int]]] = {
    ("get", "/audit/log"): ({200: a.AuditLogPage}, {401, 403, 422, 503}),
    ("get", "/audit/verify"): ({200: a.VerifyReportOut}, {401, 403, 422, 503}),
    ("get", "/audit/checkpoint"): ({200: a.PublishedCheckpoint}, {404, 406, 503}),
    ("get", "/audit/checkpoints"): ({200: a.CheckpointPage}, {422, 503}),
    ("post", "/audit/cosignatures"): ({201: a.StoredCosignatureOut, 200: a.StoredCosignatureOut},
                                      {400, 403, 404, 413, 422, 503}),
    ("post", "/audit/checkpoints"): ({201: a.SignedCheckpointOut}, {401, 403, 409, 503}),
    ("get", "/audit/proofs/inclusion"): ({200: a.InclusionProof}, {401, 403, 404, 422, 503}),
    ("get", "/audit/proofs/consistency"): ({200: a.ConsistencyProof}, {404, 422, 503}),
    ("get", "/platforms/{platform_id}/diff"): ({200: a.VersionDiff}, {401, 403, 404, 422, 503}),
    ("get", "/audit/publicity-list"): ({200: a.PublicityListAt}, {401, 403, 422, 503}),
    ("get", "/audit/funding-ledger"): ({200: a.LedgerAt}, {401, 403, 422, 503}),
    ("get", "/audit/export"): ({200: None}, {401, 403, 503}),
}


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_openapi_document_types_every_audit_route(api: Api) -> None:
    doc = api.client.get("/openapi.json").json()
    components = doc["components"]["schemas"]
    declared = {(m.lower(), r.path) for r in audit_router.routes if isinstance(r, APIRoute) for m in r.methods}
    assert declared == set(ROUTES)
    for (method, path), (bodies, errors) in ROUTES.items():
        responses = doc["paths"][f"/api/v1{path}"][method]["responses"]
        assert {int(s) for s in responses} == set(bodies) | errors, (method, path)
        for status, model in bodies.items():
            content = responses[str(status)]["content"]
            if model is None:
                assert list(content) == ["application/x-ndjson"]
                continue
            assert content["application/json"]["schema"] == {"$ref": f"#/components/schemas/{model.__name__}"}
            schema = components[model.__name__]
            assert set(schema["properties"]) == set(model.model_json_schema(mode="serialization")["properties"])
        for status in errors:
            response = responses[str(status)]
            if "$ref" in response:  # the shared answer of its status (api.openapi)
                response = doc["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
            assert response["content"] == {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}, (method, path)
        assert "HTTPValidationError" not in json.dumps(responses)
