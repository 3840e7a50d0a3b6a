"""A publicity batch as the publicity list shows it, built from the aggregates: the answer to
``POST /publicity-batches`` must not wait for the read models, yet has the list's shape."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from aggregates.application import RegistryApp
from aggregates.batch import PublicityBatch
from aggregates.publicity_window import WindowState
from projections.projector import publicity_line  # the list's own line format


def batch_view(app: RegistryApp, batch_id: UUID, today: date) -> dict[str, Any]:
    batch: PublicityBatch = app.repository.get(batch_id)
    platforms = []
    for pid in batch.platform_ids:
        p = app.get_platform(UUID(pid))
        line = publicity_line(p)
        platforms.append({"id": str(p.id), "name": line["name"],
                          "host_unit": {"name": line["host_name"], "credit_code": line["host_credit_code"]},
                          "subfield": line["subfield"], "objections": line["objections"],
                          "late_objections": line["late_objections"], "outcome": line["outcome"]})
    window = batch.window
    state = window.state_on(today)
    return {
        "batch_ref": batch.batch_ref,
        "media": batch.media,
        "start_date": window.start_date.isoformat(),
        "first_day": window.first_day.isoformat() if window.first_day else None,
        "end_date": window.last_day.isoformat() if window.last_day else None,
        "pending": window.pending,
        "open": state is WindowState.OPEN,
        "state": state.value,
        "working_days": batch.working_days,
        "platforms": platforms,
    }
