"""The objection rate limit shared by every API worker on PostgreSQL.

Each worker process counting on its own would let a client that reaches two workers object
twice as often. Here every hit is a row of ``objection_rate_hits`` in the store's schema; a hit
takes a transaction-scoped advisory lock on its key, so the count and the insert of concurrent
hits on one key (from any worker) are serialised. Every hit also deletes the rows that have
left the window, so the table holds at most the hits of one window. The migrations create the
table (:mod:`aggregates.migrations`), as :data:`hits_table` declares it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import sqlalchemy as sa

TABLE = "objection_rate_hits"
METADATA = sa.MetaData()
hits_table = sa.Table(
    TABLE, METADATA,
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("hit_at", sa.Float, nullable=False),  # Unix seconds
    sa.Index(f"{TABLE}_key", "key", "hit_at"),
    sa.Index(f"{TABLE}_at", "hit_at"),
)
# The first key of the two-key advisory locks: a namespace of its own for this limiter.
LOCK_CLASS = 0x0B1EC7


class SharedWindowLimiter:
    """At most ``limit`` hits per key within any ``window`` seconds, counted in PostgreSQL.
    ``clock`` is wall-clock seconds (workers on several hosts must keep their clocks in sync)."""

    def __init__(self, engine: sa.Engine, limit: int, window: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine, self.limit, self.window, self.clock = engine, limit, window, clock

    def hit(self, key: str) -> float | None:
        """Count one hit for ``key``: None when allowed, else the seconds until the next one
        would be (the hit is then not counted)."""
        if self.limit <= 0:
            return None
        with self.engine.begin() as conn:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:c, hashtext(:k))"), {"c": LOCK_CLASS, "k": key})
            now = self.clock()
            conn.execute(sa.text(f"DELETE FROM {TABLE} WHERE hit_at <= :cut"), {"cut": now - self.window})  # noqa: S608 - fixed names
            hits = conn.execute(sa.text(f"SELECT hit_at FROM {TABLE} WHERE key = :k ORDER BY hit_at"),  # noqa: S608 - fixed names
                                {"k": key}).scalars().all()
            if len(hits) >= self.limit:
                return max(1.0, hits[0] + self.window - now)
            conn.execute(sa.text(f"INSERT INTO {TABLE} (key, hit_at) VALUES (:k, :t)"), {"k": key, "t": now})  # noqa: S608 - fixed names
            return None


__all__ = ["METADATA", "SharedWindowLimiter", "hits_table"]
