"""Projection failures (投影故障): a read model stopped at an event it cannot apply.

The runner retries a batch that failed because the store could not be reached or used just now
(:func:`projections.reconnect.is_transient`: that passes). Any other failure is the batch's
content: retrying it forever would freeze the model, and every read waiting for a position,
without saying why. So the runner finds the event, stops the models that cannot apply it (the
others go on), and records the position, the event and the reason here: in
``projection_failures`` (read by ``/readyz`` and ``platforms projections status`` from any
process) and in the log at ERROR. A runner started again, with the cause fixed, resumes from the
stored position and clears the record once the model is past the event; so does a rebuild.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from .db import write_transaction
from .tables import failures_table

log = logging.getLogger(__name__)

REASON_MAX = 1000


def describe(n: Any) -> str:
    """The event of notification ``n`` as an operator looks it up: topic, aggregate, version."""
    return f"{n.topic} of {n.originator_id} v{n.originator_version}"


class Failures:
    """The models a runner has stopped, and their records in the database."""

    def __init__(self, engine: sa.Engine, models: Iterable[str]) -> None:
        self.engine = engine
        self.models = tuple(models)
        self.stopped: dict[str, dict[str, Any]] = {}
        # Records left by an earlier run, cleared when this runner gets a model past them.
        self._left: dict[str, int] = {name: f["position"] for name, f in self.recorded().items()}

    def recorded(self) -> dict[str, dict[str, Any]]:
        """Each stopped model's ``position``, ``event``, ``reason`` and ``failed_at``."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(failures_table).where(failures_table.c.name.in_(self.models)))
            return {r.name: {"position": int(r.position), "event": r.event, "reason": r.reason,
                             "failed_at": r.failed_at} for r in rows}

    def stop(self, model: str, n: Any, exc: BaseException) -> None:
        """Stop ``model`` at notification ``n``, which it cannot apply because of ``exc``."""
        failure = {"position": int(n.id), "event": describe(n),
                   "reason": f"{type(exc).__name__}: {exc}"[:REASON_MAX],
                   "failed_at": datetime.now(UTC).isoformat(timespec="seconds")}
        self.stopped[model] = failure
        log.error("projection %s stopped at position %s: cannot apply %s: %s", model, failure["position"],
                  failure["event"], failure["reason"],
                  extra={"model": model, "position": failure["position"], "event": failure["event"],
                         "reason": failure["reason"]})
        try:
            with write_transaction(self.engine) as conn:
                conn.execute(failures_table.delete().where(failures_table.c.name == model))
                conn.execute(failures_table.insert().values(name=model, **failure))
        except Exception:  # the model stays stopped; the ERROR above says why
            log.exception("could not record the failure of projection %s", model)
        self._left.pop(model, None)

    def clear_passed(self, conn: sa.Connection, models: Iterable[str], position: int) -> None:
        """In the batch's transaction: forget the records of ``models`` now at ``position``,
        past the event they had stopped at."""
        if not self._left:
            return
        passed = [m for m in models if m in self._left and self._left[m] <= position]
        if passed:
            conn.execute(failures_table.delete().where(failures_table.c.name.in_(passed)))
            for m in passed:
                del self._left[m]


def clear(conn: sa.Connection, models: Iterable[str]) -> None:
    """Forget the failures of ``models`` (rebuilt from the whole log, so past every event)."""
    conn.execute(failures_table.delete().where(failures_table.c.name.in_(list(models))))


__all__ = ["Failures", "describe", "clear"]
