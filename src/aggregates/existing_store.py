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

from .application import RegistryApp
from .calendar import WorkingDayCalendar
from .event_table import store_adapter
from .policy import PolicyRegistry
from .store import URL_ENV, StoreConfig, StoreUnavailable

__all__ = ["check_existing", "events_table", "open_existing", "reopen_in_child"]

log = logging.getLogger(__name__)


def events_table(store: StoreConfig) -> str:
    """The event table as the ``eventsourcing`` factories name it: ``stored_events`` in a SQLite
    file, ``<application name>_events`` in a PostgreSQL schema."""
    return store_adapter(store).events_table_name(RegistryApp.name)


def check_existing(store: StoreConfig) -> None:
    """Raise :class:`~aggregates.store.StoreUrlError` for a malformed URL, or
    :class:`StoreUnavailable` unless ``store`` exists and holds at least one event. Creates nothing."""
    store.check()
    if store.in_memory:
        raise StoreUnavailable(f"an in-memory store keeps no events between runs ({store.label}); "
                               f"set {URL_ENV} to the deployment's store")
    store_adapter(store).check_holds_events(store, events_table(store))


def open_existing(store: StoreConfig, policies: PolicyRegistry | None = None,
                  calendar: WorkingDayCalendar | None = None, aggregate_cache: int | None = None) -> RegistryApp:
    """The registry on ``store`` after :func:`check_existing`, never creating a table, keeping
    ``aggregate_cache`` aggregates between commands (None: the application's default)."""
    check_existing(store)
    log.info("opening the existing store %s", store.masked)
    env = {"CREATE_TABLE": "no"}
    if aggregate_cache is not None:
        env["AGGREGATE_CACHE_MAXSIZE"] = str(aggregate_cache)
    return RegistryApp(store, policies=policies, calendar=calendar, env=env)


def reopen_in_child(app: RegistryApp) -> RegistryApp:
    """The same registry opened afresh in a forked helper process: its own connections (a
    connection must not cross a fork), the parent's configuration, and no DDL (the parent has
    the tables; on PostgreSQL helpers creating them at once race each other)."""
    return type(app)(store=app.store, policies=app.policies, calendar=app.calendar, env={"CREATE_TABLE": "no"})
