"""Where the system keeps what it keeps: one URL (``PLATFORMS_DATABASE_URL``) chooses SQLite or
PostgreSQL for the events, and one directory (``PLATFORMS_VAR_DIR``, default ``./var``) holds every
file whose own variable is not set.

The embedded default is a SQLite file in that directory so a newcomer needs no server;
PostgreSQL (``postgresql+psycopg://user@host:port/db``) is the production store. An optional
``?schema=NAME`` puts the tables in their own PostgreSQL schema (used by the tests).

Messages name a store by :attr:`StoreConfig.label`, never by its raw URL: a PostgreSQL URL may
carry a password, and error output ends up in terminals, logs and tickets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .private_files import ensure_private_file

URL_ENV = "PLATFORMS_DATABASE_URL"
VAR_DIR_ENV = "PLATFORMS_VAR_DIR"
EVENTS_FILE = "platforms.sqlite3"
POSTGRES_SCHEMES = ("postgresql", "postgresql+psycopg")
MASK = "***"
# scheme://userinfo@host...: userinfo ends at the last "@" before the path, as urlsplit reads it.
_AUTHORITY = re.compile(r"^(?P<scheme>[^:/?#]+://)(?P<netloc>[^/?#]*)(?P<rest>.*)$", re.S)


class StoreUrlError(ValueError):
    """A store URL that cannot name any store (a typo, not an absent store): a configuration
    error, reported before anything is opened."""


class StoreUnavailable(RuntimeError):
    """The store (or its read models) is missing, empty or does not answer. The message is one
    line and names the store with its password masked, fit to print as it is."""


@dataclass(frozen=True)
class StoreConfig:
    """A store's URL, and how messages name it: ``origin`` says which setting chose it (built by
    :attr:`api.settings.Settings.store`), else the URL with its password masked."""

    url: str
    origin: str | None = field(default=None, compare=False)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith("postgresql")

    @property
    def in_memory(self) -> bool:
        """Whether the events are kept in one process's memory (``memory:``, or a SQLite
        database in memory), where no other process or connection can read them."""
        return self.url == "memory:" or (self.is_sqlite and self.sqlite_path == ":memory:")

    @property
    def sqlite_path(self) -> str:
        path = self.url.split(":///", 1)[1].split("?", 1)[0]
        return path

    @property
    def schema(self) -> str | None:
        values = parse_qs(urlsplit(self.url).query).get("schema")
        return values[0] if values else None

    @property
    def sqlalchemy_url(self) -> str:
        """The URL without our own query parameters, for SQLAlchemy."""
        return self.url.split("?", 1)[0]

    @property
    def masked(self) -> str:
        """The URL with its password (if any) replaced by ``***``; never raises, even on a
        malformed URL, since it is what error messages about malformed URLs print."""
        match = _AUTHORITY.match(self.url)
        if not match:
            return self.url
        userinfo, at, host = match["netloc"].rpartition("@")
        if not at or ":" not in userinfo:
            return self.url
        return f"{match['scheme']}{userinfo.split(':', 1)[0]}:{MASK}@{host}{match['rest']}"

    @property
    def label(self) -> str:
        """How a message names this store: the setting that chose it, password masked."""
        return self.origin or self.masked

    def redact(self, text: str) -> str:
        """``text`` (an error from a driver or a library) with this store's password masked
        wherever it appears, as written in the URL or percent-decoded."""
        text = text.replace(self.url, self.masked)
        match = _AUTHORITY.match(self.url)
        userinfo = match["netloc"].rpartition("@")[0] if match else ""
        password = userinfo.split(":", 1)[1] if ":" in userinfo else ""
        for form in sorted({password, unquote(password)} - {""}, key=len, reverse=True):
            text = text.replace(form, MASK)
        return text

    def check(self) -> None:
        """Refuse a URL that cannot name a store, before anything is opened or created."""
        if self.url == "memory:":
            return
        try:
            parts = urlsplit(self.url)
            parts.port  # noqa: B018 - parsing the port is the check (a non-number raises)
        except ValueError as exc:
            raise StoreUrlError(f"malformed store URL ({self.label}): {self.redact(str(exc))}") from None
        if parts.scheme == "sqlite" or parts.scheme.startswith("sqlite+"):
            if not self.url.startswith("sqlite:///") or not self.sqlite_path:
                raise StoreUrlError(f"malformed SQLite store URL ({self.label}): write sqlite:///relative/path "
                                    "or sqlite:////absolute/path")
            return
        if parts.scheme in POSTGRES_SCHEMES:
            if not parts.path.strip("/"):
                raise StoreUrlError(f"the store URL names no database ({self.label}): write "
                                    "postgresql+psycopg://user@host:port/database")
            return
        raise StoreUrlError(f"unsupported store URL ({self.label}): use sqlite:///path or "
                            "postgresql+psycopg://user@host:port/database")

    def postgres_params(self) -> dict[str, Any]:
        """libpq connection parameters (host, port, dbname, user, password) of a PostgreSQL URL."""
        parts = urlsplit(self.url)
        return {
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or 5432,
            "dbname": parts.path.lstrip("/"),
            "user": unquote(parts.username or "postgres"),
            "password": unquote(parts.password or ""),
        }

    def eventsourcing_env(self) -> dict[str, str]:
        """The ``eventsourcing`` library's persistence settings for this store."""
        self.check()
        if self.url == "memory:":
            return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
        if self.is_sqlite:
            path = self.sqlite_path
            if path != ":memory:" and not path.startswith("file:"):
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                ensure_private_file(path)
            return {
                "PERSISTENCE_MODULE": "aggregates.writable:RecoveringSQLiteFactory",
                "SQLITE_DBNAME": path,
                "SQLITE_LOCK_TIMEOUT": "30",
                "APPLICATION_RECORDER_TOPIC": "aggregates.log_seal:SealedSQLiteRecorder",
            }
        params = self.postgres_params()
        env = {
            "PERSISTENCE_MODULE": "aggregates.pg_pool:PurgingPostgresFactory",  # dead connections purged
            "POSTGRES_DBNAME": params["dbname"],
            "POSTGRES_HOST": params["host"],
            "POSTGRES_PORT": str(params["port"]),
            "POSTGRES_USER": params["user"],
            "POSTGRES_PASSWORD": params["password"],
            "POSTGRES_POOL_SIZE": "10",
            "POSTGRES_MAX_OVERFLOW": "10",
            "APPLICATION_RECORDER_TOPIC": "aggregates.log_seal_postgres:SealedPostgresRecorder",
        }
        if self.schema:
            env["POSTGRES_SCHEMA"] = self.schema
        return env
