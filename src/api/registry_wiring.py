"""The registry and the schema beside its log, wired from the settings, and nothing of the web
application: what every entry point needs (:mod:`api.bootstrap` builds the whole service on it),
and all that the commands which only replay the log need (``platforms projections rebuild``,
which so starts without importing the web framework, the metrics or the accounts).
"""

from __future__ import annotations

import logging

from aggregates.application import RegistryApp
from aggregates.calendar import WorkingDayCalendar
from aggregates.policy import PolicyRegistry
from aggregates.store import StoreConfig

from .settings import Settings

log = logging.getLogger(__name__)


def build_policies(settings: Settings) -> PolicyRegistry:
    """The bundled policy versions and the operator's (``PLATFORMS_POLICY_DIR``)."""
    return PolicyRegistry.load(settings.extra_policy_dir)


def build_calendar(settings: Settings) -> WorkingDayCalendar:
    """The bundled working-day schedules and the operator's (``PLATFORMS_CALENDAR_FILE``)."""
    if settings.calendar_file is not None:
        return WorkingDayCalendar.from_file(settings.calendar_file)
    return WorkingDayCalendar()


def build_registry(settings: Settings, store: StoreConfig | None = None, **env: str) -> RegistryApp:
    """The registry on ``store`` (default: the settings' own), with the operator's policies,
    calendar, cache size and pool size; ``env`` adds the library's settings
    (``CREATE_TABLE="no"`` for a store that must already exist)."""
    store = store or settings.store
    pool = settings.postgres_pool_size
    sized = {"POSTGRES_POOL_SIZE": str(pool), "POSTGRES_MAX_OVERFLOW": str(pool)} if store.is_postgres else {}
    return RegistryApp(store, policies=build_policies(settings), calendar=build_calendar(settings),
                       env={"AGGREGATE_CACHE_MAXSIZE": str(settings.aggregate_cache), **sized, **env})


def pool_options(settings: Settings) -> dict[str, int]:
    """The pool of a SQLAlchemy engine on the store's database (read models, accounts): on
    PostgreSQL ``PLATFORMS_POSTGRES_POOL_SIZE`` connections kept and as many again in a burst,
    as the event store's own pool, so that an operator can fit the processes of a deployment
    within the server's ``max_connections``; on SQLite the library's defaults."""
    size = settings.postgres_pool_size
    return {"pool_size": size, "max_overflow": size} if settings.store.is_postgres else {}


def prepare_schema(settings: Settings, store: StoreConfig) -> None:
    """The start-up check of the tables beside the event log (:mod:`aggregates.migrations`): in
    production a schema not at this release's newest revision is refused
    (:class:`~aggregates.migrations.SchemaNotCurrent`, naming ``platforms migrate``); in
    development it is migrated here, so a fresh checkout, the demo and the tests need no step
    of their own."""
    from aggregates.schema_heads import at_heads

    if at_heads(store):  # the usual case, told without importing Alembic (aggregates/schema_heads.py)
        return
    from aggregates.migrations import check_current, migrate

    if settings.is_production:
        check_current(store)
        return
    for line in migrate(store):
        log.info("schema migrated: %s", line)


__all__ = ["build_calendar", "build_policies", "build_registry", "pool_options", "prepare_schema"]
