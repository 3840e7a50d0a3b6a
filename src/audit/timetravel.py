"""Time travel: a platform, or the read models, as they stood at a past moment.

A platform is rebuilt with one repository load: ``repository.get(id, version=N)`` starts from
the nearest snapshot at or below N (the application snapshots platforms every 50 events) and
replays only the events after it, so any version of a long history replays at most 49 events.
As of a recorded instant (events whose ``timestamp`` is at or before it) or a business date
(events whose act's ``business_date`` is on or before it; the business date is when the act
happened, which clerks may record later), the version is first found from the stream's stored
rows (plain JSON, no domain objects), then loaded the same way. The result has the shape of
``GET /platforms/{id}`` (:func:`projections.views.summarize`).

The read models at a past log position ("what did the publicity list show then?") are rebuilt
in a private in-memory SQLite database by the projection code itself, replaying the log up to
that position; the stored read models and the event store are only read.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.utils import get_topic
from sqlalchemy.pool import StaticPool

from aggregates.clock import today_in_shanghai
from aggregates.errors import InvalidInput, NotFound
from aggregates.platform import Platform
from projections.projector import Projector
from projections.queries import funding_ledger, publicity_list
from projections.runner import log_batches
from projections.tables import LIVE, LIVE_MD, MODELS
from projections.views import summarize

from .history import decode_state
from .rows import iter_rows, stream_rows

__all__ = ["as_of_version", "as_of_instant", "as_of_date", "diff_versions", "read_models_at",
           "publicity_list_at", "funding_ledger_at"]


def _summary(app: Any, platform_id: UUID, version: int) -> dict[str, Any]:
    return summarize(app.get_platform(platform_id, version=version))


def as_of_version(app: Any, platform_id: UUID, version: int) -> dict[str, Any]:
    """The platform's summary as of ``version`` (1 = as applied)."""
    if version < 1:
        raise InvalidInput("invalid_version", "versions start at 1", "as_of_version")
    # One load: the repository stops at the last version <= N, so a shorter result means N is
    # beyond the platform's history.
    platform = app.get_platform(platform_id, version=version)  # NotFound for an unknown id
    if platform.version != version:
        raise NotFound("version_not_found", f"the platform has {platform.version} versions, not {version}",
            params={"versions": platform.version, "version": version})
    return summarize(platform)


def _last_version(app: Any, platform_id: UUID, reached: Any) -> int:
    """The last version whose stored event satisfies ``reached`` (which holds for a prefix of
    the stream); NotFound when the stream is not a platform's."""
    rows = stream_rows(app, platform_id)
    prefix = get_topic(Platform) + "/"
    if not rows or not rows[0].topic.startswith(prefix):
        raise NotFound("platform_not_found", f"no platform {platform_id}", params={"platform_id": platform_id})
    last = 0
    for row in rows:
        try:
            if not reached(decode_state(row.state)):
                break
        except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError):
            break  # history cannot be replayed past an undecodable event
        last = row.version
    return last


def as_of_instant(app: Any, platform_id: UUID, instant: datetime) -> dict[str, Any]:
    """The platform as recorded at ``instant`` (timezone-aware)."""
    if instant.tzinfo is None:
        raise InvalidInput("naive_instant", "as_of needs an offset, e.g. 2022-10-01T12:00:00+08:00", "as_of")
    version = _last_version(app, platform_id, lambda d: datetime.fromisoformat(d["timestamp"]) <= instant)
    if not version:
        raise NotFound("not_yet_recorded", f"the platform had not been recorded at {instant.isoformat()}")
    return _summary(app, platform_id, version)


def as_of_date(app: Any, platform_id: UUID, day: date) -> dict[str, Any]:
    """The platform at the end of business date ``day`` (Asia/Shanghai)."""
    iso = day.isoformat()
    version = _last_version(app, platform_id, lambda d: d["act"]["business_date"] <= iso)
    if not version:
        raise NotFound("not_yet_recorded", f"the platform had not applied by {iso}")
    return _summary(app, platform_id, version)


def diff_versions(app: Any, platform_id: UUID, from_version: int, to_version: int) -> dict[str, Any]:
    """The summary keys that differ between two versions, with both values."""
    before = as_of_version(app, platform_id, from_version)
    after = as_of_version(app, platform_id, to_version)
    changes = {k: {"from": before.get(k), "to": after.get(k)}
               for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)}
    return {"platform_id": str(platform_id), "from_version": from_version, "to_version": to_version,
            "changes": changes}


def read_models_at(app: Any, position: int, models: Iterable[str] | None = None) -> Any:
    """A SQLAlchemy engine on a private in-memory database holding the read models rebuilt from
    the log up to and including ``position``."""
    if position < 0:
        raise InvalidInput("invalid_position", "positions start at 0", "position")
    chosen = tuple(models) if models else MODELS
    engine = sa.create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    LIVE_MD.create_all(engine)
    projector = Projector(app, chosen)
    projector.bind(LIVE)
    for batch in log_batches(app, upto=position):
        for n in batch:
            projector.process_notification(n)
    with engine.begin() as conn:
        projector.flush(conn)
    return engine


def publicity_list_at(app: Any, position: int, today: date | None = None, limit: int = 200,
                      cursor: str | None = None) -> dict[str, Any]:
    """The publicity list (公示名单) as it stood at log ``position``, judged open or closed on
    ``today`` (default: the business date of the event at that position); one page of it."""
    engine = read_models_at(app, position, ("publicity",))
    day = today or _business_date_at(app, position)
    with engine.connect() as conn:
        return publicity_list(conn, open_only=False, today=day, limit=limit, cursor=cursor,
                              calendar=app.calendar, policies=app.policies)


def funding_ledger_at(app: Any, position: int) -> dict[str, Any]:
    """The funding ledger as it stood at log ``position``."""
    engine = read_models_at(app, position, ("ledger",))
    with engine.connect() as conn:
        return funding_ledger(conn)


def _business_date_at(app: Any, position: int) -> date:
    for row in iter_rows(app, after=max(0, position - 1), upto=position):
        try:
            return date.fromisoformat(decode_state(row.state)["act"]["business_date"])
        except (KeyError, TypeError, ValueError, UnicodeDecodeError, RecursionError):
            break
    return today_in_shanghai()
