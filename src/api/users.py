"""People who sign in (用户), kept in the event store's database, beside the events.

Accounts cannot be rebuilt from the log, so they must not live where the read models do: on
SQLite that is a file of its own that may be deleted and rebuilt at any time. The ``users``
table sits in the event file (SQLite) or the event store's schema (PostgreSQL), in this
module's own ``MetaData``, so one backup holds the log and its accounts and no rebuild touches
them. A deployment from before kept them in the read-model file; :meth:`UserRepository.move_from`
moves them once. Passwords are stored only as argon2id hashes (salted, deliberately slow).
The table is created and changed by the migrations (:mod:`aggregates.migrations`), never here.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from aggregates.credit_code import validate_credit_code
from aggregates.errors import InvalidInput
from aggregates.event_table import store_adapter
from aggregates.store import StoreConfig
from aggregates.values import Role
from projections.reconnect import is_connection_loss

from .password_policy import check_password

log = logging.getLogger(__name__)
metadata = MetaData()

users_table = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("credit_code", String(18), nullable=True),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Raised whenever the account's tokens must stop working (a new password, disabling): a
    # token carries the value it was issued under and is refused once they differ.
    Column("token_version", Integer, nullable=False, server_default="0"),
    Column("disabled_at", DateTime(timezone=True), nullable=True),
    # The latest time too many wrong passwords locked the account (api.login_throttle).
    Column("last_lockout_at", DateTime(timezone=True), nullable=True),
)

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$")
# Roles a person can sign in with: the public needs no account, the system is the registry itself.
LOGIN_ROLES = tuple(r for r in Role if r not in (Role.PUBLIC, Role.SYSTEM))
# argon2id at the library's current recommended cost. Looked up by every call rather than bound
# once, so that a test session can put a cheaper one in its place (tests/conftest.py).
PASSWORD_HASHER = PasswordHasher()
# Verifying against this when the user is unknown keeps the response time the same either way,
# so timing does not reveal which usernames exist.
_DUMMY_HASH = PASSWORD_HASHER.hash("not-a-real-password")


@dataclass(frozen=True)
class User:
    username: str
    role: Role
    credit_code: str | None
    created_at: datetime
    token_version: int = 0
    disabled_at: datetime | None = None
    last_lockout_at: datetime | None = None


class UserExists(Exception):
    """A second user with the same name."""


class UnknownUser(Exception):
    """No user of that name."""


# The anonymous public acts as "public": no account may take that name.
RESERVED_USERNAMES = frozenset({"public", "system"})


def users_engine(store: StoreConfig, **kwargs: Any) -> Engine:
    """An engine on the event store's own database: the event file on SQLite (a busy timeout
    waits out the event writers' short transactions), the store's schema on PostgreSQL;
    ``kwargs`` size its pool (:func:`api.registry_wiring.pool_options`)."""
    return store_adapter(store).store_engine(store, **kwargs)


# A positional placeholder in each DB-API parameter style the supported drivers use (sqlite3,
# psycopg).
_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


class UserRepository:
    """Create, find and authenticate users."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        placeholder = _PLACEHOLDERS.get(engine.dialect.paramstyle)
        # The account check's statement, in the driver's own parameter style (None: built by
        # SQLAlchemy each time, for a driver of another style).
        self._accepts_sql = None if placeholder is None else (
            f"SELECT token_version, disabled_at FROM {users_table.name} "  # noqa: S608 - fixed names
            f"WHERE username = {placeholder}")

    def move_from(self, legacy: Engine) -> int:
        """Move the accounts an older release kept in ``legacy`` (the read-model database) into
        this store, once: rows are copied (a name already here keeps its row), then the old
        table is dropped, so no password hash is left in a file meant to be thrown away. A
        move cut short is finished by the next start. Returns the number of accounts copied."""
        if legacy.url == self.engine.url or not sa.inspect(legacy).has_table(users_table.name):
            return 0
        with legacy.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(select(
                users_table.c.username, users_table.c.role, users_table.c.credit_code,
                users_table.c.password_hash, users_table.c.created_at))]
        with self.engine.begin() as conn:
            have = set(conn.execute(select(users_table.c.username)).scalars())
            moved = [r for r in rows if r["username"] not in have]
            if moved:
                conn.execute(insert(users_table), moved)
        with legacy.begin() as conn:
            users_table.drop(conn)
        log.warning("user accounts moved from the read-model database into the event store",
                    extra={"moved": len(moved), "found": len(rows)})
        return len(moved)

    def add(self, username: str, role: Role | str, password: str, credit_code: str | None = None) -> User:
        """A new user; applicants and experts need a credit code (host unit / affiliation)."""
        if not USERNAME.match(username or ""):
            raise InvalidInput("invalid_username", "a username is 2-64 letters, digits or . _ @ -", "username")
        try:
            role = Role(role)
        except ValueError:
            raise InvalidInput("invalid_role", f"role must be one of {', '.join(r.value for r in LOGIN_ROLES)}",
                               "role") from None
        if role not in LOGIN_ROLES:
            raise InvalidInput("invalid_role", f"role must be one of {', '.join(r.value for r in LOGIN_ROLES)}",
                               "role")
        check_password(password or "")
        if credit_code:
            credit_code = validate_credit_code(credit_code, "credit_code")
        elif role is Role.APPLICANT:
            raise InvalidInput("credit_code_required",
                               "an applicant is bound to its host unit's unified social credit code", "credit_code")
        elif role is Role.EXPERT:
            # Art. 8(3): recusal (回避) compares the expert's affiliation with the host unit's.
            raise InvalidInput("credit_code_required",
                               "an expert's affiliation (its unified social credit code) is required for recusal "
                               "(Art. 8(3))", "credit_code")
        if username.lower() in RESERVED_USERNAMES:
            raise InvalidInput("reserved_username", f"'{username}' is reserved", "username")
        created = datetime.now(UTC)
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(users_table).values(
                    username=username, role=role.value, credit_code=credit_code or None,
                    password_hash=PASSWORD_HASHER.hash(password), created_at=created))
        except IntegrityError:
            raise UserExists(f"user {username!r} already exists") from None
        return User(username, role, credit_code or None, created)

    def get(self, username: str) -> User | None:
        row = self._row(username)
        return None if row is None else _user(row)

    def authenticate(self, username: str, password: str) -> User | None:
        """The user if the password matches and the account is enabled, else None (same cost
        either way)."""
        row = self._row(username)
        if row is None or row.disabled_at is not None:
            try:
                PASSWORD_HASHER.verify(_DUMMY_HASH, password)
            except VerificationError:
                pass
            return None
        try:
            PASSWORD_HASHER.verify(row.password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        return _user(row)

    def set_password(self, username: str, password: str) -> None:
        """A new password (under the policy); every token issued before stops working."""
        check_password(password or "")
        self._update(username, password_hash=PASSWORD_HASHER.hash(password),
                     token_version=users_table.c.token_version + 1)
        log.info("password changed", extra={"username": username})

    def disable(self, username: str) -> None:
        """No sign-in and no token from now on; tokens issued before stay refused if the account
        is enabled again."""
        self._update(username, disabled_at=datetime.now(UTC),
                     token_version=users_table.c.token_version + 1)
        log.warning("user disabled", extra={"username": username})

    def enable(self, username: str) -> None:
        """Sign-in allowed again (with a new token: the old ones were revoked by disabling)."""
        self._update(username, disabled_at=None)
        log.warning("user enabled", extra={"username": username})

    def accepts(self, username: str, token_version: int) -> bool:
        """Whether a token issued to ``username`` under ``token_version`` is still good: the
        account exists, is enabled, and neither its password nor its state changed since.
        Asked on every authenticated request, so that a change made by any process (the CLI,
        another worker) takes effect at once."""
        try:
            row = self._account_state(username)
        except Exception as exc:
            if not is_connection_loss(exc):
                raise
            log.warning("accounts read lost its database connection; reading once more",
                        extra={"error": f"{type(exc).__name__}: {exc}"})
            row = self._account_state(username)
        return row is not None and row[1] is None and row[0] == token_version

    def _account_state(self, username: str) -> tuple[Any, ...] | None:
        """``(token_version, disabled_at)`` of ``username``'s row, or None: one fixed statement
        on a pooled connection's driver cursor. This is on the event loop for every signed-in
        request, and building, compiling and wrapping a SQLAlchemy select cost more than ten
        times the query itself (issue 17: 190 -> 15 us a check on SQLite). The pool still
        pings (PostgreSQL), resets and replaces connections; a lost one is invalidated here."""
        if self._accepts_sql is None:
            row = self._read(select(users_table.c.token_version, users_table.c.disabled_at)
                             .where(users_table.c.username == username)).first()
            return None if row is None else tuple(row)
        conn = self.engine.raw_connection()
        try:
            cursor = conn.cursor()
            try:
                cursor.execute(self._accepts_sql, (username,))
                return cursor.fetchone()
            finally:
                cursor.close()
        except Exception as exc:
            if is_connection_loss(exc):
                conn.invalidate(exc)
            raise
        finally:
            conn.close()

    def _read(self, query: sa.Select) -> sa.Result:
        """``query``'s rows, read once more on a fresh connection when the server ended the
        session while the query was on the wire (a failover, ``pg_terminate_backend``): every
        authenticated request, commands included, reads its account first, and such a loss
        would refuse it with 503 (the soak saw one). A read changes nothing, so repeating it is
        safe; the pool replaces the dead connection."""
        try:
            with self.engine.connect() as conn:
                return conn.execute(query).freeze()()
        except Exception as exc:
            if not is_connection_loss(exc):
                raise
            log.warning("accounts read lost its database connection; reading once more",
                        extra={"error": f"{type(exc).__name__}: {exc}"})
            with self.engine.connect() as conn:
                return conn.execute(query).freeze()()

    def _update(self, username: str, **values: object) -> None:
        with self.engine.begin() as conn:
            changed = conn.execute(update(users_table).where(users_table.c.username == username)
                                   .values(**values)).rowcount
        if not changed:
            raise UnknownUser(f"no user {username!r}")

    def count(self) -> int:
        return len(self._read(select(users_table.c.id)).all())

    def all(self) -> list[User]:
        return [_user(r) for r in self._read(select(users_table).order_by(users_table.c.username))]

    def _row(self, username: str):  # noqa: ANN202
        return self._read(select(users_table).where(users_table.c.username == username)).first()


def _user(row) -> User:  # noqa: ANN001
    return User(row.username, Role(row.role), row.credit_code, row.created_at, row.token_version,
                row.disabled_at, row.last_lockout_at)
