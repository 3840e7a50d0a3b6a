"""Schema migrations (数据库结构迁移) of every table that is not the event log, with Alembic.

The event log's own tables (events, snapshots, and the log seal written in the same transaction
as the events, :mod:`aggregates.log_seal`) are created by the ``eventsourcing`` recorders as
they open a store. Everything else the registry keeps is created and changed only by the
revisions in ``versions/``, in two branches, each with its own line of revisions:

* ``store``: the tables kept with the events, which cannot be rebuilt (accounts, login
  throttle, audit checkpoints and cosignatures, the write probe, the shared rate limit);
* ``read_models``: the read models, their positions and the runner's recorded failures.

On SQLite the branches live in two files (the event file and the read-model file, each with its
own ``alembic_version``); on PostgreSQL both live in the store's schema (``?schema=``), one
``alembic_version`` table holding each branch's revision.

:func:`migrate` (``platforms migrate``) brings a store to the newest revision, in one
transaction per database that first takes the DDL lock (:mod:`aggregates.ddl_lock`: the
advisory lock on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so two processes migrating at once
are safe: the second waits, then finds nothing to do. A store from before migrations (its tables
present, no ``alembic_version``) is adopted by the first revisions, which keep what exists.
:func:`check_current` is the start-up check: a schema not at the newest revision raises
:class:`SchemaNotCurrent`, whose message names the command to run.

A new revision: a file in ``versions/`` whose ``down_revision`` is its branch's head, forward
only (no ``downgrade``). ``tests/test_migrations.py`` compares the migrated schema with the tables
the code declares, so a table or column added to the code without a revision fails it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.config import Config
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from ..ddl_lock import hold_ddl_lock
from ..event_table import WRITER_OPTION
from ..schema_heads import BRANCHES, VERSION_TABLE, Database, SchemaNotCurrent, databases
from ..store import StoreConfig

__all__ = ["BRANCHES", "COMMAND", "Database", "SchemaNotCurrent", "check_current", "databases", "heads",
           "migrate", "upgrade_connection"]

COMMAND = "platforms migrate"
# The option through which a revision reports what it does beyond its DDL (a store adopted):
# ``op.get_context().opts[REPORT_OPTION](line)``.
REPORT_OPTION = "platforms_report"

Report = Callable[[str], None]


@cache
def _script() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent))
    return ScriptDirectory.from_config(config)


def heads(branches: Iterable[str] = BRANCHES) -> dict[str, str]:
    """The newest revision of each branch."""
    script = _script()
    return {branch: script.get_revision(f"{branch}@head").revision for branch in branches}


def _context(conn: sa.Connection, **opts: Any) -> MigrationContext:
    # No schema named: on PostgreSQL the engine's search_path is the store's schema.
    return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE, **opts})


def _current(conn: sa.Connection) -> set[str]:
    """The revisions ``conn``'s database is at (none without an ``alembic_version`` table, or
    in a PostgreSQL schema that does not exist yet)."""
    if conn.dialect.name == "postgresql" and conn.exec_driver_sql("SELECT current_schema()").scalar() is None:
        return set()
    return set(_context(conn).get_current_heads())


def upgrade_connection(conn: sa.Connection, branches: Iterable[str], report: Report | None = None) -> list[str]:
    """Upgrade ``branches`` to their heads on ``conn``, inside the transaction the caller holds
    (and commits); the revisions applied, each ``"<id>: <first line of its docstring>"``."""
    applied: list[str] = []
    say = report or (lambda _line: None)

    def on_apply(*, step: Any, **_: Any) -> None:
        line = f"{step.up_revision_id}: {(step.up_revision.doc or '').splitlines()[0]}"
        applied.append(line)
        say(f"applied {line}")

    script = _script()
    for branch in branches:
        target = f"{branch}@head"

        def upgrade(rev: Any, _context: MigrationContext, target: str = target) -> Any:
            return script._upgrade_revs(target, rev)

        context = _context(conn, fn=upgrade, script=script, on_version_apply=[on_apply], **{REPORT_OPTION: say})
        with Operations.context(context):
            context.run_migrations()
    return applied


def migrate(store: StoreConfig, report: Report | None = None) -> list[str]:
    """Bring every database of ``store`` to the newest revisions (creating the SQLite files or
    the PostgreSQL schema if need be); the revisions applied (none: it was current).
    :class:`SchemaNotCurrent` for a database a newer release migrated."""
    store.check()
    say = report or (lambda _line: None)
    applied: list[str] = []
    for db in databases(store):
        wanted = set(heads(db.branches).values())
        try:
            # A current schema is only read (a store that cannot be written, opened by a command
            # that only reads it, is fine); the lock is taken, and the revision read again under
            # it, only when there is work to do.
            with db.engine.connect() as conn:
                before = _current(conn)
            _refuse_newer(before, db, store)
            if before >= wanted:
                say(f"{db.label}: at {', '.join(sorted(before))}, nothing to do")
                continue
            with db.engine.connect().execution_options(**{WRITER_OPTION: True}) as conn, conn.begin():
                hold_ddl_lock(conn)
                if conn.dialect.name == "postgresql" and store.schema:
                    conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{store.schema}"')
                before = _current(conn)
                if before >= wanted:
                    say(f"{db.label}: at {', '.join(sorted(before))}, nothing to do (migrated meanwhile)")
                    continue
                say(f"{db.label}: at {', '.join(sorted(before)) or 'no revision'}, upgrading to "
                    f"{', '.join(sorted(wanted))}")
                applied += upgrade_connection(conn, db.branches, _prefixed(say, db.label))
        finally:
            db.engine.dispose()
    return applied


def _refuse_newer(current: set[str], db: Database, store: StoreConfig) -> None:
    """A database migrated by a newer release is neither used nor migrated by this one."""
    unknown = current - {rev.revision for rev in _script().walk_revisions()}
    if unknown:
        raise SchemaNotCurrent(f"the store's schema is at revision {', '.join(sorted(unknown))}, newer than this "
                               f"release knows: {db.label} ({store.label}); run the release that migrated it")


def _prefixed(report: Report, label: str) -> Report:
    return lambda line: report(f"{label}: {line}")


def check_current(store: StoreConfig) -> None:
    """Raise :class:`SchemaNotCurrent` unless every database of ``store`` is at this release's
    newest revisions. Changes nothing (a SQLite file may be created empty)."""
    for db in databases(store):
        try:
            with db.engine.connect() as conn:
                current = _current(conn)
        finally:
            db.engine.dispose()
        wanted = set(heads(db.branches).values())
        where = f"{db.label} ({store.label})"
        if not current:
            raise SchemaNotCurrent(f"the store's schema is not migrated: {where}; run `{COMMAND}`")
        _refuse_newer(current, db, store)
        if current != wanted:
            raise SchemaNotCurrent(f"the store's schema is behind this release (at {', '.join(sorted(current))}, "
                                   f"needs {', '.join(sorted(wanted))}): {where}; run `{COMMAND}`")
