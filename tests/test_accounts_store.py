"""User accounts live with the events: deleting or dropping the read models loses none, and an
older deployment's accounts in the read-model file are moved over once."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa

import api.users
from aggregates.event_table import read_model_path
from aggregates.store import StoreConfig
from api.bootstrap import build_container
from api.settings import Settings
from projections.db import make_engine

PASSWORD = "correct-horse-battery"


def _container(store_url: str, tmp_path: Path):
    settings = Settings.from_env(database_url=store_url, var_dir=tmp_path / "var",
                                 secret_key="test-secret-key-of-at-least-32-characters!!",
                                 checkpoint_signer=False)
    return build_container(settings)


def _drop_read_models(store_url: str) -> None:
    """What an operator may do at any time: delete the read-model file (SQLite) or drop every
    read-model table and the read models' revision (PostgreSQL)."""
    store = StoreConfig(store_url)
    if store.is_sqlite:
        for suffix in ("", "-wal", "-shm"):
            path = read_model_path(store.sqlite_path) + suffix
            if os.path.exists(path):
                os.remove(path)
        return
    from projections.tables import POSITIONS_MD, build_metadata

    engine = make_engine(store)
    try:
        with engine.begin() as conn:
            build_metadata()[0].drop_all(conn, checkfirst=True)
            POSITIONS_MD.drop_all(conn, checkfirst=True)
            # with their revision, so that the next migration creates them again
            conn.execute(sa.text("DELETE FROM alembic_version WHERE substr(version_num, 1, 4) = 'read'"))
    finally:
        engine.dispose()


def test_accounts_survive_the_read_models_being_dropped(store_url: str, tmp_path: Path) -> None:
    c = _container(store_url, tmp_path)
    c.users.add("alice", "bureau", PASSWORD)
    c.runner.catch_up()
    c.close()
    _drop_read_models(store_url)

    c = _container(store_url, tmp_path)
    try:
        user = c.users.authenticate("alice", PASSWORD)
        assert user is not None and user.role.value == "bureau"
    finally:
        c.close()


def test_accounts_in_an_old_read_model_file_are_moved_into_the_event_store(tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path / 'events.sqlite3'}"
    c = _container(store_url, tmp_path)
    c.close()
    # An older release kept the users table in the read-model file.
    legacy = make_engine(StoreConfig(store_url))
    api.users.metadata.create_all(legacy)
    api.users.UserRepository(legacy).add("bob", "finance", PASSWORD)
    legacy.dispose()

    c = _container(store_url, tmp_path)
    try:
        assert c.users.authenticate("bob", PASSWORD) is not None
        assert not sa.inspect(c.engine).has_table("users")  # no hashes left in the throwaway file
    finally:
        c.close()
    _drop_read_models(store_url)
    c = _container(store_url, tmp_path)
    try:
        assert c.users.authenticate("bob", PASSWORD) is not None
    finally:
        c.close()


def test_an_accounts_table_from_before_revocation_gains_its_columns_when_adopted(store_url: str,
                                                                                 tmp_path: Path) -> None:
    from api.users import users_engine

    engine = users_engine(StoreConfig(store_url))
    with engine.begin() as conn:  # the store as a release before migrations and revocation left it
        conn.execute(sa.text("DROP TABLE users"))
        conn.execute(sa.text("DELETE FROM alembic_version WHERE substr(version_num, 1, 5) = 'store'"))
    old = sa.MetaData()
    sa.Table("users", old, sa.Column("id", sa.Integer, primary_key=True), sa.Column("username", sa.String(64)),
             sa.Column("role", sa.String(32)), sa.Column("credit_code", sa.String(18)),
             sa.Column("password_hash", sa.String(255)), sa.Column("created_at", sa.DateTime(timezone=True)))
    old.create_all(engine)
    engine.dispose()

    c = _container(store_url, tmp_path)
    try:
        c.users.add("carol", "auditor", PASSWORD)
        c.users.disable("carol")
        assert c.users.get("carol").disabled_at is not None
        assert c.users.authenticate("carol", PASSWORD) is None
    finally:
        c.close()
