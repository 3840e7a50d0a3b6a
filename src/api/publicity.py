"""A publicity batch as the publicity list shows it, built from the aggregates: the answer to
``POST /publicity-batches`` must not wait for the read models, yet has the list's shape."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from aggregates.application import RegistryApp
from aggregates.batch import PublicityBatch
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
    start, first, last = batch.start_date, batch.first_day, batch.last_day
    opens = first or start
    is_open = opens <= today and (last is None or today <= last)
    return {
        "batch_ref": batch.batch_ref,
        "media": batch.media,
        "start_date": start.isoformat(),
        "first_day": first.isoformat() if first else None,
        "end_date": last.isoformat() if last else None,
        "pending": last is None,
        "open": is_open,
        "state": "open" if is_open else ("upcoming" if today < opens else "closed"),
        "working_days": batch.working_days,
        "platforms": platforms,
    }
