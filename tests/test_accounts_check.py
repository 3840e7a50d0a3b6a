"""The account check every signed-in request makes (``UserRepository.accepts``) reads the row on
a pooled connection's driver cursor (issue 17): it answers from the row as it is now, on either
store, and a connection lost under it is thrown away and the check read once more."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from aggregates.store import StoreConfig
from api.users import UserRepository, metadata, users_engine

PASSWORD = "a-long-enough-passphrase"


@pytest.fixture
def users(store_url: str) -> Iterator[UserRepository]:
    engine = users_engine(StoreConfig(store_url))
    metadata.create_all(engine)
    yield UserRepository(engine)
    engine.dispose()


def test_the_check_follows_the_row(users: UserRepository) -> None:
    users.add("bureau-1", "bureau", PASSWORD)
    assert users.accepts("bureau-1", 0)
    assert not users.accepts("bureau-1", 1)
    assert not users.accepts("nobody", 0)
    users.set_password("bureau-1", "another-long-passphrase")
    assert not users.accepts("bureau-1", 0) and users.accepts("bureau-1", 1)
    users.disable("bureau-1")
    assert not users.accepts("bureau-1", 1) and not users.accepts("bureau-1", 2)
    users.enable("bureau-1")
    assert users.accepts("bureau-1", 2)


class _LosesFirstQuery:
    """A driver connection whose first query finds the server gone."""

    lost = False

    def __init__(self, real: Any) -> None:
        self.real = real

    def cursor(self) -> Any:
        outer = self

        class Cursor:
            def __init__(self) -> None:
                self.real = outer.real.cursor()

            def execute(self, *args: Any) -> Any:
                if not _LosesFirstQuery.lost:
                    _LosesFirstQuery.lost = True
                    raise psycopg.OperationalError("server closed the connection unexpectedly")
                return self.real.execute(*args)

            def __getattr__(self, name: str) -> Any:
                return getattr(self.real, name)

        return Cursor()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_connection_lost_under_the_check_is_replaced_and_the_check_read_again(
        users: UserRepository, monkeypatch: pytest.MonkeyPatch) -> None:
    users.add("finance-1", "finance", PASSWORD)
    engine = users.engine
    raw = engine.raw_connection
    handed: list[Any] = []

    def losing() -> Any:
        conn = raw()
        handed.append(conn.dbapi_connection)
        if not _LosesFirstQuery.lost:
            conn.dbapi_connection = _LosesFirstQuery(conn.dbapi_connection)  # type: ignore[misc]
        return conn

    _LosesFirstQuery.lost = False
    monkeypatch.setattr(engine, "raw_connection", losing)
    assert users.accepts("finance-1", 0)
    assert len(handed) == 2 and handed[0] is not handed[1]
    monkeypatch.undo()
    with engine.connect() as conn:  # the lost one was invalidated, not put back in the pool
        assert conn.connection.dbapi_connection is not handed[0]
        assert conn.execute(sa.text("SELECT 1")).scalar() == 1


@pytest.mark.postgres
def test_the_check_answers_right_after_every_session_is_killed(
        postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from support import drop_schema, fresh_schema, terminate_backends

    url, schema = fresh_schema(postgres_url)
    name = f"accounts-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("PGAPPNAME", name)
    engine = users_engine(StoreConfig(url))
    try:
        metadata.create_all(engine)
        users = UserRepository(engine)
        users.add("auditor-1", "auditor", PASSWORD)
        assert users.accepts("auditor-1", 0)
        for _ in range(2):
            assert terminate_backends(url, name) > 0
            assert users.accepts("auditor-1", 0)
        users.disable("auditor-1")
        assert not users.accepts("auditor-1", 0)
    finally:
        engine.dispose()
        drop_schema(postgres_url, schema)
