"""Opening a store that must already exist, for the commands that only read it.

A read-only command pointed at the wrong place (run from another directory, a mistyped
``PLATFORMS_DATABASE_URL``) must not quietly create an empty store and report on it: ``OK 0
events`` from ``platforms audit verify`` would certify nothing. So the store is inspected first
through connections that cannot create anything (SQLite opened read-only by URI, never by
path; PostgreSQL in a read-only session that only asks the catalogue), and only a store whose
event table holds at least one event is opened, with the library told not to create tables.
Writing commands (``serve``, ``demo``, ``users add``, ``projections run``) construct
:class:`~aggregates.application.RegistryApp` directly and create the store as before.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

from .application import RegistryApp
from .calendar import WorkingDayCalendar
from .policy import PolicyRegistry
from .store import URL_ENV, VAR_DIR_ENV, StoreConfig, StoreUnavailable

__all__ = ["check_existing", "events_table", "open_existing", "reopen_in_child"]

log = logging.getLogger(__name__)

# Seconds to wait for a PostgreSQL server before saying it does not answer (libpq's minimum is 2).
CONNECT_TIMEOUT_S = 5
_SQLITE_HINT = f"; run from the deployment directory, or set {VAR_DIR_ENV} or {URL_ENV}"


def events_table(store: StoreConfig) -> str:
    """The event table as the ``eventsourcing`` factories name it: ``stored_events`` in a SQLite
    file, ``<application name>_events`` in a PostgreSQL schema."""
    return "stored_events" if store.is_sqlite else f"{RegistryApp.name.lower()}_events"


def check_existing(store: StoreConfig) -> None:
    """Raise :class:`~aggregates.store.StoreUrlError` for a malformed URL, or
    :class:`StoreUnavailable` unless ``store`` exists and holds at least one event. Creates nothing."""
    store.check()
    if store.url == "memory:" or (store.is_sqlite and store.sqlite_path == ":memory:"):
        raise StoreUnavailable(f"an in-memory store keeps no events between runs ({store.label}); "
                               f"set {URL_ENV} to the deployment's store")
    if store.is_sqlite:
        _check_sqlite(store)
    else:
        _check_postgres(store)


def open_existing(store: StoreConfig, policies: PolicyRegistry | None = None,
                  calendar: WorkingDayCalendar | None = None) -> RegistryApp:
    """The registry on ``store`` after :func:`check_existing`, never creating a table."""
    check_existing(store)
    log.info("opening the existing store %s", store.masked)
    return RegistryApp(store, policies=policies, calendar=calendar, env={"CREATE_TABLE": "no"})


def _check_sqlite(store: StoreConfig) -> None:
    path = Path(os.path.abspath(store.sqlite_path))
    if not path.exists():
        raise StoreUnavailable(f"no event store at {path} ({store.label}){_SQLITE_HINT}")
    if not path.is_file():
        raise StoreUnavailable(f"no event store at {path}: not a file ({store.label})")
    table = events_table(store)
    try:
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=30)
        try:
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                                (table,)).fetchone():
                raise StoreUnavailable(f"no event store at {path}: the file has no {table} table "
                                       f"({store.label}){_SQLITE_HINT}")
            if conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is None:  # noqa: S608 - a fixed name
                raise StoreUnavailable(f"the event store at {path} holds no events ({store.label})")
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"cannot read the event store at {path} ({store.label}): {exc}") from None


def _check_postgres(store: StoreConfig) -> None:
    import psycopg
    from psycopg import sql

    params = store.postgres_params()
    schema, table = store.schema or "public", events_table(store)
    where = f"{params['host']}:{params['port']}/{params['dbname']}, schema {schema}"
    name = sql.Identifier(schema, table)
    try:
        with psycopg.connect(**{**params, "password": params["password"] or None},
                             connect_timeout=CONNECT_TIMEOUT_S, autocommit=True,
                             options="-c default_transaction_read_only=on") as conn:
            found = conn.execute("SELECT to_regclass(%s)", [name.as_string(conn)]).fetchone()
            if found is None or found[0] is None:
                raise StoreUnavailable(f"no event store in {where}: no table {table} ({store.label})")
            row = conn.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(name)).fetchone()
            has_events = row is not None and row[0]
    except psycopg.Error as exc:
        reason = " ".join(store.redact(str(exc)).split())  # libpq's messages span several lines
        raise StoreUnavailable(f"cannot open the event store at {where} ({store.label}): {reason}") from None
    if not has_events:
        raise StoreUnavailable(f"the event store in {where} holds no events ({store.label})")


def reopen_in_child(app: RegistryApp) -> RegistryApp:
    """The same registry opened afresh in a forked helper process: its own connections (a
    connection must not cross a fork), the parent's configuration, and no DDL (the parent has
    the tables; on PostgreSQL helpers creating them at once race each other)."""
    return type(app)(store=app.store, policies=app.policies, calendar=app.calendar, env={"CREATE_TABLE": "no"})
