"""Art. 8(6): objections are open to anyone, so the JSON route limits them per client address,
like the public page's form; the bureau recording paper objections is not limited."""

from __future__ import annotations

import pytest

from api.page_security import SlidingWindowLimiter
from api_client import to_in_publicity

pytestmark = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)


def test_art8_6_public_objections_are_rate_limited_per_address(api):
    pid, _ = to_in_publicity(api)
    api.client.app.state.objection_limiter = SlidingWindowLimiter(limit=2, window=600)
    body = {"objector_name": "市民", "contact": "13800000000", "content": "对申报数据有疑问，请核实"}
    for _ in range(3):  # paper objections recorded by the bureau do not count against anyone
        paper = body | {"business_date": "2022-09-30"}
        assert api.post(f"/platforms/{pid}/objections", "bureau", paper).status_code == 200
    # The public objects today (after the 2022 window: recorded, not admissible), twice at most.
    assert [api.post(f"/platforms/{pid}/objections", None, body).status_code for _ in range(2)] == [200, 200]
    refused = api.post(f"/platforms/{pid}/objections", None, body)
    assert refused.status_code == 429 and refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "rate_limited" and int(refused.headers["Retry-After"]) > 0
    detail = api.get(f"/platforms/{pid}", "bureau").json()
    assert len(detail["objections"]) == 5  # the refused one wrote nothing


def test_art8_6_the_public_gets_a_receipt_not_the_platforms_file(api):
    pid, _ = to_in_publicity(api)
    body = {"objector_name": "市民", "contact": "13800000000", "content": "对申报数据有疑问，请核实"}
    receipt = api.post(f"/platforms/{pid}/objections", None, body)
    assert receipt.status_code == 200
    assert set(receipt.json()) == {"objection_id", "admissible", "received_on", "position"}


def test_art8_6_a_signed_in_non_bureau_objector_is_recorded_as_the_public(api):
    pid, _ = to_in_publicity(api)
    body = {"objector_name": "竞争对手的员工", "contact": "x@example.com", "content": "对申报数据有疑问，请核实"}
    assert api.post(f"/platforms/{pid}/objections", "other_applicant", body).status_code == 200
    history = api.get(f"/platforms/{pid}/history", "applicant").json()["items"]
    objected = [e for e in history if e["type"] == "Objected"]
    assert [(e["actor"], e["role"]) for e in objected] == [("public", "public")]
    assert "竞争对手的员工" not in str(history) and "other_applicant" not in str(history)


def test_art8_6_the_publics_objection_is_awaited_in_its_group_commit_and_its_key_replayed(api, monkeypatch):
    """On SQLite the public's objection is awaited in the event loop, no command thread waiting for
    it; the bureau's paper objection (answered with the platform's file) still runs on one. A
    retry with the same key gets the first receipt, and the key sent with another body is refused."""
    import api.routes_commands as routes

    handed: list[str] = []
    original = routes.run_blocking

    async def counting(call, *args, **kwargs):
        handed.append(call.__name__)
        return await original(call, *args, **kwargs)

    monkeypatch.setattr(routes, "run_blocking", counting)
    pid, _ = to_in_publicity(api)
    body = {"objector_name": "市民", "contact": "13800000000", "content": "对申报数据有疑问，请核实"}
    first = api.post(f"/platforms/{pid}/objections", None, body, **{"Idempotency-Key": "form-1"})
    again = api.post(f"/platforms/{pid}/objections", None, body, **{"Idempotency-Key": "form-1"})
    assert first.status_code == again.status_code == 200 and again.json() == first.json()
    other = api.post(f"/platforms/{pid}/objections", None, body | {"content": "另一条异议，内容不同"},
                     **{"Idempotency-Key": "form-1"})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    paper = api.post(f"/platforms/{pid}/objections", "bureau", body | {"business_date": "2022-09-30"})
    assert paper.status_code == 200 and "status" in paper.json()
    assert handed == ["_objection"]
    assert len(api.get(f"/platforms/{pid}", "bureau").json()["objections"]) == 2
