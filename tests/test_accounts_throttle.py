"""Login throttling: repeated wrong passwords for one account, or from one client address, lock
further sign-ins (429 problem+json with Retry-After, the right password included) until the
window is over; the lockout is logged and kept on the account; counts are shared by every worker
through the store and the table stays bounded."""

from __future__ import annotations

import logging
import time

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from aggregates.store import StoreConfig
from api.login_throttle import LoginThrottle, ThrottleLimits, throttle_table
from api.users import users_engine
from api_client import PASSWORD, Api

WRONG = "not-the-password-at-all"


def sign_in(client: TestClient, username: str, password: str):
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def elsewhere(api: Api) -> TestClient:
    """The same service seen from another client address."""
    return TestClient(api.client.app, client=("198.51.100.7", 40000))


def test_wrong_passwords_lock_the_account_with_429_and_retry_after(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    for _ in range(4):
        assert sign_in(api.client, "bureau", WRONG).status_code == 401
    with caplog.at_level(logging.WARNING, logger="api.login_throttle"):
        locked = sign_in(api.client, "bureau", WRONG)
    assert locked.status_code == 429
    assert locked.headers["content-type"].startswith("application/problem+json")
    assert locked.json()["code"] == "too_many_login_attempts" and locked.headers["Retry-After"] == "900"
    assert any("locked" in r.getMessage() and r.subject == "account:bureau" for r in caplog.records)
    assert api.container.users.get("bureau").last_lockout_at is not None

    # The right password, from this address or another, waits like the wrong ones.
    assert sign_in(api.client, "bureau", PASSWORD).status_code == 429
    assert sign_in(elsewhere(api), "bureau", PASSWORD).status_code == 429
    assert sign_in(api.client, "finance", PASSWORD).status_code == 200  # other accounts are not locked

    later = time.time() + 901
    api.container.throttle.clock = lambda: later
    assert sign_in(api.client, "bureau", PASSWORD).status_code == 200


def test_a_right_password_starts_the_accounts_count_again(api: Api) -> None:
    for _ in range(4):
        assert sign_in(api.client, "finance", WRONG).status_code == 401
    assert sign_in(api.client, "finance", PASSWORD).status_code == 200
    for _ in range(4):
        assert sign_in(api.client, "finance", WRONG).status_code == 401
    assert sign_in(api.client, "finance", PASSWORD).status_code == 200


def test_an_address_guessing_many_accounts_is_locked(api: Api) -> None:
    answers = [sign_in(api.client, f"guess{i}", WRONG).status_code for i in range(20)]
    assert answers == [401] * 19 + [429]
    refused = sign_in(api.client, "auditor", PASSWORD)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert sign_in(elsewhere(api), "auditor", PASSWORD).status_code == 200


def test_names_no_account_can_have_are_answered_401_and_counted(api: Api) -> None:
    for name in ("\x00bureau", "b" * 500, "bureau\u202e"):
        assert sign_in(api.client, name, WRONG).status_code == 401


def test_every_worker_counts_the_same_failures(store_url: str) -> None:
    engines = [users_engine(StoreConfig(store_url)) for _ in range(2)]
    try:
        first, second = (LoginThrottle(e, ThrottleLimits(account_failures=3, address_failures=100)) for e in engines)
        assert first.failed("bureau", "203.0.113.1") == 0
        assert second.failed("bureau", "203.0.113.2") == 0
        assert first.failed("bureau", "203.0.113.3") == 900
        assert second.retry_after("bureau", "203.0.113.4") > 0
        assert second.retry_after("finance", "203.0.113.4") == 0
    finally:
        for e in engines:
            e.dispose()


def test_the_throttle_table_stays_bounded_and_forgets_what_is_over(store_url: str) -> None:
    engine = users_engine(StoreConfig(store_url))
    try:
        now = [1_800_000_000.0]
        throttle = LoginThrottle(engine, ThrottleLimits(max_rows=10, window=60), clock=lambda: now[0])

        def rows() -> int:
            with engine.connect() as conn:
                return conn.execute(sa.select(sa.func.count()).select_from(throttle_table)).scalar_one()

        for i in range(50):
            now[0] += 0.01
            throttle.failed(f"name{i}", f"192.0.2.{i}")
        assert rows() <= 10
        now[0] += 61
        throttle.failed("late", "192.0.2.200")
        assert rows() == 2
    finally:
        engine.dispose()
