"""Reconciliation (对账): rebuild every read model in memory from the log and compare it, row by
row, with the stored one; and the funding ledger's totals with the events, to the fen.

Each model is rebuilt up to the position the stored model says it has reached, so a model that
merely lags behind the log is not reported as different. Nothing is written.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from projections.reconcile import reconcile as ledger_reconcile
from projections.runner import read_positions
from projections.tables import LIVE, MODEL_TABLES, MODELS

from .timetravel import read_models_at

__all__ = ["reconcile_read_models"]

MAX_DIFFS = 20


def _rows(conn: Any, table: Any) -> dict[Any, dict[str, Any]]:
    key = [c.name for c in table.primary_key.columns] or [c.name for c in table.columns]
    out = {}
    for row in conn.execute(sa.select(table)).mappings():
        out[tuple(row[k] for k in key)] = {k: _norm(v) for k, v in row.items()}
    return out


def _norm(value: Any) -> Any:
    # SQLite and PostgreSQL give dates, JSON and numbers back in different Python types.
    return value if isinstance(value, (int, str, type(None))) else str(value)


def reconcile_read_models(app: Any, engine: Any) -> dict[str, Any]:
    """``{"ok", "models": {name: {"position", "ok", "differences": [...]}}, "ledger": {...}}``."""
    with engine.connect() as conn:
        positions = read_positions(conn, MODELS)
    report: dict[str, Any] = {"models": {}}
    ok = True
    for model in MODELS:
        position = positions.get(model, 0)
        memory = read_models_at(app, position, (model,))
        differences: list[dict[str, Any]] = []
        for name in MODEL_TABLES[model]:
            table = LIVE[name]
            with engine.connect() as conn:
                stored = _rows(conn, table)
            with memory.connect() as conn:
                rebuilt = _rows(conn, table)
            for key in sorted(set(stored) | set(rebuilt), key=repr):
                a, b = stored.get(key), rebuilt.get(key)
                if a != b and len(differences) < MAX_DIFFS:
                    fields = sorted(k for k in set(a or {}) | set(b or {}) if (a or {}).get(k) != (b or {}).get(k))
                    differences.append({"table": name, "key": [str(k) for k in key],
                                        "stored": a, "rebuilt": b, "fields": fields})
        memory.dispose()
        report["models"][model] = {"position": position, "ok": not differences, "differences": differences}
        ok = ok and not differences
    with engine.connect() as conn:
        ledger = ledger_reconcile(app, conn)
    report["ledger"] = ledger
    report["ok"] = ok and bool(ledger.get("ok"))
    return report
