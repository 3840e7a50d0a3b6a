"""A read whose database connection is lost in flight is read once more and answered (the soak
saw one ledger read answer 503 when its session was killed); a read that keeps failing is still
a clear 503, and a write is never re-run here."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

import projections.queries


def _lost() -> sa.exc.OperationalError:
    return sa.exc.OperationalError("SELECT ...", {}, Exception("server closed the connection unexpectedly"),
                                   connection_invalidated=True)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_read_that_lost_its_connection_is_answered(api, monkeypatch: pytest.MonkeyPatch) -> None:
    real = projections.queries.funding_ledger
    calls: list[int] = []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise _lost()
        return real(*args, **kwargs)

    monkeypatch.setattr(projections.queries, "funding_ledger", flaky)
    r = api.get("/funding-ledger", "finance")
    assert r.status_code == 200 and "entries" in r.json()
    assert len(calls) == 2


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_read_that_keeps_failing_is_a_503(api, monkeypatch: pytest.MonkeyPatch) -> None:
    def down(*args: Any, **kwargs: Any) -> Any:
        raise _lost()

    monkeypatch.setattr(projections.queries, "funding_ledger", down)
    r = api.get("/funding-ledger", "finance")
    assert r.status_code == 503 and r.json()["code"] == "store_unavailable"


class _FailsOnce:
    """An engine whose first connection is lost with the query on the wire."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.calls = 0

    def connect(self) -> Any:
        self.calls += 1
        if self.calls == 1:
            raise _lost()
        return self.engine.connect()

    def raw_connection(self) -> Any:  # the account check's (api.users)
        self.calls += 1
        if self.calls == 1:
            raise _lost()
        return self.engine.raw_connection()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_command_whose_account_read_lost_its_connection_is_recorded(api) -> None:
    """Every authenticated request reads its account first (a disabled user's token is refused
    at once); a command is not retried by its route, so the account read itself is read once more."""
    from api_client import application

    api.headers("applicant")  # the token, minted before the connection is lost
    flaky = _FailsOnce(api.container.users.engine)
    api.container.users.engine = flaky
    r = api.post("/platforms", "applicant", application())
    assert r.status_code == 201, r.text
    assert flaky.calls == 2
