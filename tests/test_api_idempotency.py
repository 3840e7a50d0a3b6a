"""``Idempotency-Key``: a retry returns the first answer and acts once; the same key with a
different body is refused; keys survive a restart (they are stored with the events)."""

from __future__ import annotations

from pathlib import Path

from api_client import Api, application, make_api


def test_retry_acts_once_and_survives_restart(api: Api, store_url: str, tmp_path: Path) -> None:
    body = application()
    first = api.post("/platforms", "applicant", body, **{"Idempotency-Key": "apply-1"})
    again = api.post("/platforms", "applicant", body, **{"Idempotency-Key": "apply-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    items = api.get("/platforms", "bureau", min_position=first.json()["position"]).json()["items"]
    assert len(items) == 1

    pid = first.json()["id"]
    intake = {"decision": "accepted", "business_date": "2022-03-05"}
    a = api.post(f"/platforms/{pid}/intake", "service_agency", intake, **{"Idempotency-Key": "k2"})
    b = api.post(f"/platforms/{pid}/intake", "service_agency", intake, **{"Idempotency-Key": "k2"})
    assert a.json() == b.json() and a.json()["version"] == 2

    changed = api.post("/platforms", "applicant", application(name="另一个平台"), **{"Idempotency-Key": "apply-1"})
    assert changed.status_code == 422 and changed.json()["code"] == "idempotency_key_reused"

    # A new process on the same store remembers the key.
    api2, container2 = make_api(store_url, tmp_path)
    try:
        with api2.client:
            replay = api2.post("/platforms", "applicant", body, **{"Idempotency-Key": "apply-1"})
            assert replay.status_code == 201 and replay.json() == first.json()
    finally:
        container2.close()
    history = api.get(f"/platforms/{pid}/history", "auditor").json()["items"]
    assert [e["type"] for e in history] == ["Applied", "Accepted"]


def test_keys_are_per_user(api: Api) -> None:
    body = {"objector_name": "n", "contact": "n@example.com", "content": "x" * 10}
    pid = api.post("/platforms", "applicant", application()).json()["id"]
    r = api.post(f"/platforms/{pid}/withdrawal", "applicant", {"reasons": "r"}, **{"Idempotency-Key": "same"})
    assert r.status_code == 200
    # The same key string from another user is another request.
    r = api.post(f"/platforms/{pid}/objections", None, body, **{"Idempotency-Key": "same"})
    assert r.status_code == 409  # not publicized: refused on its own merits, not replayed
