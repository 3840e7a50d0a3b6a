"""The raw floor of ``platforms audit verify`` on SQLite, as a process of its own (run by
bench_audit.py): open the store, read every stored event row in log order, and hash each once
with SHA-256.

Nothing of the registry is imported: only the interpreter, ``sqlite3`` and ``hashlib``, so that
the figure is what reading and hashing the log costs at the least, start-up included. It reads
the columns the verifier reads, as it reads them (read-only, text as bytes, the same batches),
and prints how many rows it hashed.

    python bench/audit_floor.py sqlite:///path/to/store.sqlite3
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys

BATCH = 20000  # as aggregates.event_table.base.BATCH


def main(url: str) -> int:
    conn = sqlite3.connect(f"file:{url.removeprefix('sqlite:///')}?mode=ro", uri=True)
    conn.text_factory = bytes
    cur = conn.execute("SELECT rowid, originator_id, originator_version, topic, state FROM stored_events "
                       "ORDER BY rowid")
    sha256 = hashlib.sha256
    n = 0
    while batch := cur.fetchmany(BATCH):
        for _pos, _oid, _ver, _topic, state in batch:
            sha256(state).digest()
        n += len(batch)
    conn.close()
    print(n)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
