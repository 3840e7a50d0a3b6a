"""Row changes buffered between two commits of a projection (读模型待写变更).

A projection turns events into row changes here and writes them, with its position, in one
transaction at the end of a batch: many events per round trip, and nothing half-written if the
batch fails (the buffer is simply dropped and the batch replayed from the stored position).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


class Pending:
    """Changes to one table keyed by primary key: full rows (``put``), deletions, and partial
    updates of rows written by an earlier batch (``merge``)."""

    def __init__(self, table: sa.Table) -> None:
        self.table = table
        self.pk = [c.name for c in table.primary_key.columns]
        self.rows: dict[tuple, dict[str, Any] | None] = {}
        self.updates: dict[tuple, dict[str, Any]] = {}

    def put(self, key: tuple, row: dict[str, Any]) -> None:
        self.rows[key] = row
        self.updates.pop(key, None)

    def delete(self, key: tuple) -> None:
        self.rows[key] = None
        self.updates.pop(key, None)

    def merge(self, key: tuple, values: dict[str, Any]) -> None:
        """Change some columns: in the buffered row if this batch wrote it, else in the stored
        row (an UPDATE at flush)."""
        row = self.rows.get(key)
        if row is not None:
            row.update(values)
        elif key in self.rows:
            return  # deleted in this batch: nothing to update
        else:
            self.updates.setdefault(key, {}).update(values)

    def __len__(self) -> int:
        return len(self.rows) + len(self.updates)

    def flush(self, conn: sa.Connection) -> None:
        t = self.table
        if self.rows:
            where = sa.and_(*[t.c[k] == sa.bindparam("k_" + k) for k in self.pk])
            conn.execute(t.delete().where(where),
                         [{"k_" + k: v for k, v in zip(self.pk, key)} for key in self.rows])
            inserts = [r for r in self.rows.values() if r is not None]
            if inserts:
                conn.execute(t.insert(), inserts)
        if self.updates:
            groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for key, values in self.updates.items():
                params = {"k_" + k: v for k, v in zip(self.pk, key)}
                params.update({"v_" + c: v for c, v in values.items()})
                groups.setdefault(tuple(sorted(values)), []).append(params)
            for cols, params in groups.items():
                stmt = (t.update()
                        .where(sa.and_(*[t.c[k] == sa.bindparam("k_" + k) for k in self.pk]))
                        .values({c: sa.bindparam("v_" + c) for c in cols}))
                conn.execute(stmt, params)
        self.rows.clear()
        self.updates.clear()


__all__ = ["Pending"]
