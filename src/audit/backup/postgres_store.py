"""A PostgreSQL store's schema dumped online with ``pg_dump``, and restored with ``pg_restore``.

The dump is of the store's schema (``?schema=``, else ``public``) in ``pg_dump``'s custom format:
the events, snapshots, log seal, accounts, throttle, checkpoints and cosignatures with their
data; the read models' tables (``rm_*``, their positions and recorded failures) by definition
only, without rows: they are rebuilt from the events after a restore, and leaving their rows out
keeps the dump to what cannot be rebuilt. The transaction that reads the log's head and the last
checkpoint exports its snapshot and ``pg_dump --snapshot`` dumps exactly that snapshot, so the
manifest describes the dump to the event while writers carry on (neither blocks the other:
``pg_dump`` takes only ACCESS SHARE locks).

The dump restores into a schema of the same name (PostgreSQL names every object in a dump by
its schema, and the event store's function refers to its tables through it): a scratch restore
goes into another database, a new one, with the same ``?schema=``. ``pg_dump`` must be of the
server's major version or newer; it is looked for on ``PATH`` and in ``/usr/lib/postgresql/*/bin``
(Debian's and Ubuntu's layout), the newest first.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from aggregates.existing_store import events_table
from aggregates.store import StoreConfig
from audit.tables import CHECKPOINTS
from projections.tables import MODEL_TABLES, POSITIONS

from .manifest import PRIVATE_FILE, BackupRefused, LogHead

__all__ = ["check_empty", "copy_events", "put_back", "schema_of", "tools"]

Say = Callable[[str], None]
FAILURES = "projection_failures"
APP_NAME = "platforms-backup"
_VERSION = re.compile(r"\b(\d+)(?:\.\d+)*\b")


def schema_of(store: StoreConfig) -> str:
    return store.schema or "public"


def _read_model_tables() -> list[str]:
    tables = [t for names in MODEL_TABLES.values() for t in names]
    return [*tables, *(f"{t}__new" for t in tables), POSITIONS, FAILURES]


def _connect(store: StoreConfig, **kwargs: Any) -> psycopg.Connection[Any]:
    p = store.postgres_params()
    return psycopg.connect(host=p["host"], port=p["port"], dbname=p["dbname"], user=p["user"],
                           password=p["password"] or None, connect_timeout=10, application_name=APP_NAME, **kwargs)


@contextmanager
def _conninfo(store: StoreConfig) -> Iterator[str]:
    """The connection string for the client programs. A password goes in a passfile of this
    process's own (0600, removed afterwards), never on a command line, which every user of the
    machine can read."""
    p = store.postgres_params()
    params = {"host": str(p["host"]), "port": str(p["port"]), "dbname": p["dbname"], "user": p["user"],
              "application_name": APP_NAME, "connect_timeout": "10"}
    if not p["password"]:
        yield make_conninfo(**params)
        return
    with tempfile.NamedTemporaryFile("w", prefix="platforms-pgpass-", encoding="utf-8") as fh:
        fields = [params["host"], params["port"], params["dbname"], params["user"], p["password"]]
        fh.write(":".join(f.replace("\\", "\\\\").replace(":", "\\:") for f in fields) + "\n")
        fh.flush()
        yield make_conninfo(**params, passfile=fh.name)


def _major(program: str) -> int | None:
    try:
        out = subprocess.run([program, "--version"], capture_output=True, text=True, timeout=10, check=False).stdout
    except OSError:
        return None
    match = _VERSION.search(out.rsplit(")", 1)[-1]) or _VERSION.search(out)
    return int(match.group(1)) if match else None


def tools(server_major: int) -> tuple[str, str]:
    """``(pg_dump, pg_restore)`` of the newest major version found, which must be at least
    ``server_major``; :class:`BackupRefused` saying what is missing otherwise."""
    candidates = {p for p in [shutil.which("pg_dump"), *glob.glob("/usr/lib/postgresql/*/bin/pg_dump")] if p}
    found = sorted(((major, p) for p in candidates if (major := _major(p)) is not None), reverse=True)
    for major, dump in found:
        restore = str(Path(dump).with_name("pg_restore"))
        if major >= server_major and os.access(restore, os.X_OK):
            return dump, restore
    seen = ", ".join(f"{p} ({m})" for m, p in found) or "none"
    raise BackupRefused(f"no pg_dump/pg_restore of major version {server_major} or newer (the server's) on PATH "
                        f"or in /usr/lib/postgresql/*/bin; found: {seen}; install postgresql-client-{server_major}")


def _server_major(conn: psycopg.Connection[Any]) -> int:
    (num,) = conn.execute("SHOW server_version_num").fetchone() or (0,)
    return int(num) // 10000


def _run(command: list[str], say: Say | None, what: str) -> None:
    """Run a client program in verbose mode, passing each line it reports to ``say``; its last
    lines name the failure if it fails."""
    tail: deque[str] = deque(maxlen=5)
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          errors="replace") as proc:
        assert proc.stderr is not None
        for line in proc.stderr:
            line = line.strip()
            tail.append(line)
            if say is not None and line:
                say(line.split(": ", 1)[-1])
    if proc.returncode != 0:
        detail = " | ".join(t for t in tail if t)
        raise BackupRefused(f"{what} failed (exit {proc.returncode}): {detail}")


def copy_events(store: StoreConfig, dest: Path, say: Say | None = None) -> LogHead:
    """Dump ``store``'s schema to ``dest`` (custom format, 0600) as of one snapshot; the log's
    head and last checkpoint in that snapshot."""
    schema = schema_of(store)
    with _connect(store) as conn:
        dump, _ = tools(_server_major(conn))
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        events = f'"{schema}".{events_table(store)}'
        count, top = conn.execute(f"SELECT COUNT(*), COALESCE(MAX(notification_id), 0) FROM {events}").fetchone()  # type: ignore[misc]  # noqa: S608 - fixed names
        cp = conn.execute(f'SELECT size, root FROM "{schema}".{CHECKPOINTS} ORDER BY id DESC LIMIT 1').fetchone()  # noqa: S608 - fixed names
        (snapshot,) = conn.execute("SELECT pg_export_snapshot()").fetchone()  # type: ignore[misc]
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        os.close(fd)
        excluded = [f"--exclude-table-data={_quoted(schema)}.{_quoted(t)}" for t in _read_model_tables()]
        with _conninfo(store) as conninfo:
            _run([dump, "--format=custom", "--verbose", f"--snapshot={snapshot}", f"--schema={_quoted(schema)}",
                  *excluded, f"--file={dest}", f"--dbname={conninfo}"], say, "pg_dump")
        conn.execute("COMMIT")
    os.chmod(dest, PRIVATE_FILE)
    return LogHead(int(top), int(count), int(cp[0]) if cp else None, str(cp[1]) if cp else None)


def _quoted(name: str) -> str:
    """``name`` as a pg_dump pattern matching exactly it (double-quoted, so case and dots are literal)."""
    return '"' + name.replace('"', '""') + '"'


def _relations(conn: psycopg.Connection[Any], schema: str) -> list[str]:
    rows = conn.execute("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') ORDER BY 1",
                        (schema,)).fetchall()
    return [name for (name,) in rows]


def check_empty(store: StoreConfig) -> None:
    """Refuse unless ``store``'s schema is absent or holds no table, view or sequence."""
    schema = schema_of(store)
    try:
        with _connect(store, autocommit=True) as conn:
            found = _relations(conn, schema)
    except psycopg.Error as exc:
        raise BackupRefused(f"cannot reach the target store ({store.label}): "
                            f"{store.redact(str(exc)).strip().splitlines()[0]}") from None
    if found:
        raise BackupRefused(f"the target store is not empty: schema {schema!r} holds {len(found)} tables and "
                            f"sequences ({', '.join(found[:3])}…) ({store.label}); restore into an empty store")


@contextmanager
def _listing(restore: str, dump: Path, skip_schema: str | None) -> Iterator[list[str]]:
    """``pg_restore``'s table of contents of ``dump`` without the ``CREATE SCHEMA`` of
    ``skip_schema`` (one that exists already), as the ``-L`` arguments that restore the rest."""
    if skip_schema is None:
        yield []
        return
    listing = subprocess.run([restore, "--list", str(dump)], capture_output=True, text=True, check=False)
    if listing.returncode != 0:
        raise BackupRefused(f"pg_restore cannot read {dump.name}: {listing.stderr.strip()}")
    kept = [line for line in listing.stdout.splitlines()
            if not re.match(rf"^\d+; \d+ \d+ SCHEMA - {re.escape(skip_schema)}( |$)", line)]
    with tempfile.NamedTemporaryFile("w", suffix=".list", encoding="utf-8") as fh:
        fh.write("\n".join(kept) + "\n")
        fh.flush()
        yield [f"--use-list={fh.name}"]


def put_back(dump: Path, store: StoreConfig, say: Say | None = None) -> None:
    """Restore ``dump`` into ``store`` (whose schema must be empty), in one transaction: the
    store holds all of it or nothing."""
    schema = schema_of(store)
    with _connect(store, autocommit=True) as conn:
        _, restore = tools(_server_major(conn))
        exists = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone() is not None
    with _listing(restore, dump, schema if exists else None) as use_list, _conninfo(store) as conninfo:
        _run([restore, "--verbose", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
              *use_list, f"--dbname={conninfo}", str(dump)], say, "pg_restore")
