"""Tokens die with their account's state: disabling a user or changing its password refuses every
token issued before, at once, even when another process (the CLI, another worker) made the change
and this one had already verified the token."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from aggregates.store import StoreConfig
from api.cli import app
from api.users import UnknownUser, UserRepository, users_engine, users_table
from api_client import PASSWORD, Api

NEW_PASSWORD = "a-brand-new-passphrase"


def sign_in(api: Api, username: str, password: str):
    return api.client.post("/api/v1/auth/token", data={"username": username, "password": password})


def platforms(api: Api, token: str):
    return api.client.get("/api/v1/platforms", headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def elsewhere(api: Api):
    """The accounts as another process sees them: its own engine on the same store."""
    engine = users_engine(api.container.settings.store)
    yield UserRepository(engine)
    engine.dispose()


def test_disabling_a_user_revokes_its_tokens_and_refuses_its_sign_in(api: Api, elsewhere: UserRepository) -> None:
    token = sign_in(api, "bureau", PASSWORD).json()["access_token"]
    assert platforms(api, token).status_code == 200  # verified, and remembered by this process

    elsewhere.disable("bureau")
    refused = platforms(api, token)
    assert refused.status_code == 401 and "已被撤销" in refused.json()["detail"]
    assert sign_in(api, "bureau", PASSWORD).status_code == 401

    elsewhere.enable("bureau")
    assert platforms(api, token).status_code == 401  # revoked for good
    fresh = sign_in(api, "bureau", PASSWORD).json()["access_token"]
    assert platforms(api, fresh).status_code == 200


def test_a_new_password_revokes_the_tokens_issued_under_the_old_one(api: Api, elsewhere: UserRepository) -> None:
    token = sign_in(api, "finance", PASSWORD).json()["access_token"]
    assert platforms(api, token).status_code == 200

    elsewhere.set_password("finance", NEW_PASSWORD)
    assert platforms(api, token).status_code == 401
    assert sign_in(api, "finance", PASSWORD).status_code == 401
    fresh = sign_in(api, "finance", NEW_PASSWORD).json()["access_token"]
    assert platforms(api, fresh).status_code == 200


def test_a_deleted_users_token_is_refused(api: Api, elsewhere: UserRepository) -> None:
    token = sign_in(api, "auditor", PASSWORD).json()["access_token"]
    assert platforms(api, token).status_code == 200
    with elsewhere.engine.begin() as conn:
        conn.execute(sa.delete(users_table).where(users_table.c.username == "auditor"))
    assert platforms(api, token).status_code == 401


def test_set_password_keeps_to_the_policy_and_names_unknown_users(elsewhere: UserRepository) -> None:
    from aggregates.errors import InvalidInput

    with pytest.raises(InvalidInput):
        elsewhere.set_password("bureau", "12345678")
    with pytest.raises(UnknownUser):
        elsewhere.set_password("nobody", NEW_PASSWORD)
    with pytest.raises(UnknownUser):
        elsewhere.disable("nobody")


def test_the_users_commands_disable_enable_and_reset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLATFORMS_DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'events.sqlite3'}")
    monkeypatch.setenv("PLATFORMS_MODE", "development")
    monkeypatch.setenv("COLUMNS", "200")  # the list's table on one line per user
    runner = CliRunner()
    assert runner.invoke(app, ["users", "add", "alice", "--role", "bureau", "--password-stdin"],
                         input=f"{PASSWORD}\n").exit_code == 0

    r = runner.invoke(app, ["users", "disable", "alice"])
    assert r.exit_code == 0, r.output
    listed = runner.invoke(app, ["users", "list"]).output
    alice = next(line for line in listed.splitlines() if "alice" in line)
    assert "disabled since" in listed and alice.count(str(date.today().year)) == 2  # created, disabled
    engine = users_engine(StoreConfig(f"sqlite:///{tmp_path / 'var' / 'events.sqlite3'}"))
    users = UserRepository(engine)
    try:
        assert users.authenticate("alice", PASSWORD) is None
        assert runner.invoke(app, ["users", "enable", "alice"]).exit_code == 0
        assert users.authenticate("alice", PASSWORD) is not None

        r = runner.invoke(app, ["users", "set-password", "alice"], input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
        assert r.exit_code == 0, r.output
        assert NEW_PASSWORD not in r.output
        assert users.authenticate("alice", NEW_PASSWORD) is not None
        weak = runner.invoke(app, ["users", "set-password", "alice", "--password-stdin"], input="aaaaaaaaaaaa\n")
        assert weak.exit_code == 2 and users.authenticate("alice", NEW_PASSWORD) is not None
        assert runner.invoke(app, ["users", "disable", "nobody"]).exit_code == 1
    finally:
        engine.dispose()
