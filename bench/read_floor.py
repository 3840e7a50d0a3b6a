"""The raw floor of a rebuild (重建下限): read every stored event row and decode its JSON state,
in one process, and nothing else. Run as a whole process by ``bench/bench_projections.py``,
beside ``platforms projections rebuild`` on the same store.

    python bench/read_floor.py sqlite PATH TABLE
    python bench/read_floor.py postgres CONNINFO SCHEMA.TABLE

Only the standard library (and ``psycopg`` on PostgreSQL) is imported: the floor pays the start
of an interpreter, not the registry's imports. Prints ``{"events": n}`` as JSON.
"""

from __future__ import annotations

import json
import sys

BATCH = 20000


def sqlite_rows(path: str, table: str) -> int:
    import sqlite3

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.text_factory = bytes
    n = 0
    loads = json.loads
    cur = conn.execute(f"SELECT rowid, originator_id, originator_version, topic, state FROM {table} ORDER BY rowid")
    while rows := cur.fetchmany(BATCH):
        for row in rows:
            loads(row[4])
        n += len(rows)
    conn.close()
    return n


def postgres_rows(conninfo: str, table: str) -> int:
    import psycopg
    from psycopg.sql import SQL, Identifier

    schema, name = table.split(".", 1)
    n = 0
    loads = json.loads
    with psycopg.connect(conninfo) as conn, conn.cursor(name="floor") as cur:
        cur.itersize = BATCH
        cur.execute(SQL("SELECT notification_id, originator_id, originator_version, topic, state FROM {} "
                        "ORDER BY notification_id").format(Identifier(schema, name)))
        while rows := cur.fetchmany(BATCH):
            for row in rows:
                loads(row[4])
            n += len(rows)
    return n


def main() -> None:
    kind, where, table = sys.argv[1:4]
    n = sqlite_rows(where, table) if kind == "sqlite" else postgres_rows(where, table)
    print(json.dumps({"events": n}))


if __name__ == "__main__":
    main()
