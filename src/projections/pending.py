"""Row changes buffered between two commits of a projection (读模型待写变更).

A projection turns events into row changes here and writes them, with its position, in one
transaction at the end of a batch: many events per round trip, and nothing half-written if the
batch fails (the buffer is simply dropped and the batch replayed from the stored position).

Writes go to the driver as ``executemany`` of plain tuples (the column types' own bind
processors applied, e.g. dates on SQLite), one statement per kind of change: a full row is an
upsert (``INSERT ... ON CONFLICT (pk) DO UPDATE``, on SQLite and PostgreSQL alike), which
replaces a stored row exactly as a delete and an insert would, in one statement.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa


class _Sql:
    """A table's statements and bind processors for one dialect."""

    def __init__(self, table: sa.Table, dialect: sa.Dialect) -> None:
        prep = dialect.identifier_preparer
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.cols = [c.name for c in table.columns]
        self.pk = [c.name for c in table.primary_key.columns]
        self.procs: dict[str, Callable[[Any], Any] | None] = {
            c.name: _safe_text(c, dialect, c.type.dialect_impl(dialect).bind_processor(dialect))
            for c in table.columns}
        q = prep.quote
        name = prep.format_table(table)
        where = " AND ".join(f"{q(k)} = {mark}" for k in self.pk)
        rest = [c for c in self.cols if c not in self.pk]
        self.upsert = (f"INSERT INTO {name} ({', '.join(q(c) for c in self.cols)}) "  # noqa: S608 - fixed names
                       f"VALUES ({', '.join(mark for _ in self.cols)}) "
                       f"ON CONFLICT ({', '.join(q(k) for k in self.pk)}) ")
        self.upsert += (f"DO UPDATE SET {', '.join(f'{q(c)} = excluded.{q(c)}' for c in rest)}"
                        if rest else "DO NOTHING")
        self.delete = f"DELETE FROM {name} WHERE {where}"  # noqa: S608 - fixed names
        self._where = where
        self._name = name
        self._mark = mark
        self._q = q
        self.updates: dict[tuple[str, ...], str] = {}

    def update(self, cols: tuple[str, ...]) -> str:
        stmt = self.updates.get(cols)
        if stmt is None:
            sets = ", ".join(f"{self._q(c)} = {self._mark}" for c in cols)
            stmt = self.updates[cols] = f"UPDATE {self._name} SET {sets} WHERE {self._where}"  # noqa: S608 - fixed names
        return stmt

    def values(self, cols: list[str] | tuple[str, ...], get: Callable[[str], Any]) -> list[Any]:
        procs = self.procs
        out = []
        for c in cols:
            v = get(c)
            p = procs[c]
            out.append(v if p is None or v is None else p(v))
        return out

    def key(self, key: tuple) -> list[Any]:
        return self.values(self.pk, dict(zip(self.pk, key, strict=True)).get)


# What a NUL in the log's text becomes in a read-model row on PostgreSQL, whose ``text`` cannot
# hold U+0000: the replacement character, visibly not the original. The event keeps the NUL.
NUL_STAND_IN = "\ufffd"


def _safe_text(column: sa.Column, dialect: sa.Dialect, proc: Callable[[Any], Any] | None,
               ) -> Callable[[Any], Any] | None:
    """The bind processor of a text column, made safe for anything already in the event log
    (input is checked at the edge, but the log is forever: no event may stall a projection)."""
    if dialect.name != "postgresql" or not isinstance(column.type, sa.String):
        return proc

    def safe(value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            value = value.replace("\x00", NUL_STAND_IN)
        return value if proc is None else proc(value)
    return safe


# A table's statements per dialect, built once: a projection batch makes fresh Pending buffers,
# and rebuilding the statements and bind processors each time cost the runner a millisecond per
# batch. Weak keys: shadow tables of a finished rebuild are dropped with their statements.
_STATEMENTS: weakref.WeakKeyDictionary[sa.Table, dict[str, _Sql]] = weakref.WeakKeyDictionary()


def statements_for(table: sa.Table, dialect: sa.Dialect) -> _Sql:
    by_dialect = _STATEMENTS.setdefault(table, {})
    sql = by_dialect.get(dialect.name)
    if sql is None:
        sql = by_dialect[dialect.name] = _Sql(table, dialect)
    return sql


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
        if not self.rows and not self.updates:
            return
        sql = statements_for(self.table, conn.dialect)
        if self.rows:
            deletes = [tuple(sql.key(key)) for key, row in self.rows.items() if row is None]
            if deletes:
                conn.exec_driver_sql(sql.delete, deletes)
            cols = sql.cols
            procs = [sql.procs[c] for c in cols]
            if any(p is not None for p in procs):
                rows = [tuple(v if p is None or v is None else p(v)
                              for v, p in zip([r.get(c) for c in cols], procs, strict=True))
                        for r in self.rows.values() if r is not None]
            else:
                rows = [tuple([r.get(c) for c in cols]) for r in self.rows.values() if r is not None]
            if rows:
                conn.exec_driver_sql(sql.upsert, rows)
        if self.updates:
            groups: dict[tuple[str, ...], list[tuple]] = {}
            for key, values in self.updates.items():
                cols_ = tuple(sorted(values))
                groups.setdefault(cols_, []).append(tuple(sql.values(cols_, values.get) + sql.key(key)))
            for cols_, params in groups.items():
                conn.exec_driver_sql(sql.update(cols_), params)
        self.rows.clear()
        self.updates.clear()


__all__ = ["Pending", "NUL_STAND_IN"]
