"""Where events live: one URL (``PLATFORMS_DATABASE_URL``) chooses SQLite or PostgreSQL.

The embedded default is a SQLite file under ``./var/`` so a newcomer needs no server;
PostgreSQL (``postgresql+psycopg://user@host:port/db``) is the production store. An optional
``?schema=NAME`` puts the tables in their own PostgreSQL schema (used by the tests).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_URL = "sqlite:///var/platforms.sqlite3"


@dataclass(frozen=True)
class StoreConfig:
    url: str

    @classmethod
    def from_env(cls) -> "StoreConfig":
        return cls(os.environ.get("PLATFORMS_DATABASE_URL", DEFAULT_URL))

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith("postgresql")

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

    def eventsourcing_env(self) -> dict[str, str]:
        """The ``eventsourcing`` library's persistence settings for this store."""
        if self.is_sqlite:
            path = self.sqlite_path
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": path,
                "SQLITE_LOCK_TIMEOUT": "30",
                "APPLICATION_RECORDER_TOPIC": "aggregates.log_seal:SealedSQLiteRecorder",
            }
        if self.is_postgres:
            parts = urlsplit(self.url)
            env = {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": parts.path.lstrip("/"),
                "POSTGRES_HOST": parts.hostname or "127.0.0.1",
                "POSTGRES_PORT": str(parts.port or 5432),
                "POSTGRES_USER": unquote(parts.username or "postgres"),
                "POSTGRES_PASSWORD": unquote(parts.password or ""),
                "POSTGRES_POOL_SIZE": "10",
                "POSTGRES_MAX_OVERFLOW": "10",
                "APPLICATION_RECORDER_TOPIC": "aggregates.log_seal:SealedPostgresRecorder",
            }
            if self.schema:
                env["POSTGRES_SCHEMA"] = self.schema
            return env
        if self.url == "memory:":
            return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
        raise ValueError(f"unsupported PLATFORMS_DATABASE_URL: {self.url!r}")
