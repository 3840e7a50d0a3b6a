"""Applies events of the log to the read models (事件投影), batch by batch.

Each platform event is applied to an in-memory copy of its aggregate (``event.mutate``), so a
model sees the platform exactly as the command left it; a bounded LRU cache keeps the copies
(unbounded during a rebuild, which sees every event from the start and so never misses), and a
miss (or a copy at another version, e.g. after a failed batch) reloads the aggregate from the
store at the version just before the event. Rows that only depend on an aggregate's latest
state (platforms, subfield seats) are rendered once per flush, not once per event. The resulting
row changes are buffered in :class:`~projections.pending.Pending` and written by :meth:`Projector.flush` in the caller's
transaction, together with the positions.

Models (see :mod:`projections.tables`): ``platforms`` (平台列表与详情), ``publicity`` (公示名单),
``ledger`` (资金台账), ``subfields`` (细分领域登记), ``deadlines`` (期限).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.application import Application

from aggregates.batch import PublicityBatch
from aggregates.platform import Platform
from aggregates.seat import SubfieldSeat
from aggregates.subfield_register import SubfieldRegister

from .pending import Pending
from .tables import MODEL_TABLES, MODELS
from .views import summarize

# Records the read models do not show: idempotency keys, and the register of archive imports.
IGNORED_TOPIC_PREFIXES = ("platform-registry/IdempotencyRecord", "platform-registry/ArchiveImports")

# Funding ledger (资金台账) kinds per event type.
RELEASE_EVENTS = frozenset({"Withdrawn", "ApprovalRescinded", "Terminated", "Revoked"})

PUBLICITY_DIRTY_EVENTS = frozenset({"Objected", "ObjectionResolved", "ApprovalRescinded", "MajorChangeDecided"})
OBJECTION_EVENTS = frozenset({"Objected", "ObjectionResolved"})
DEADLINE_STATUSES = {"in_publicity": "publicity_end", "under_construction": "acceptance_due"}


def to_fen(amount: Decimal) -> int:
    """Yuan to integer fen (分), refusing anything finer than a fen: money is never rounded."""
    fen = Decimal(amount) * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"amount {amount} has more than two decimal places")
    return int(fen)


def _first_ref(refs: Iterable[str]) -> str | None:
    for r in refs:
        return r
    return None


class Projector:
    """Turns notifications into buffered row changes for the chosen models."""

    def __init__(self, app: Application, models: Iterable[str] = MODELS, cache_size: int | None = 4096) -> None:
        """``cache_size=None``: keep every aggregate (a rebuild, which replays from the start)."""
        self.app = app
        self.models = tuple(m for m in MODELS if m in set(models))
        self.cache: dict[Any, Any] = {} if cache_size is None else OrderedDict()
        self.cache_size = cache_size
        self.tables: dict[str, sa.Table] = {}
        self.pending: dict[str, Pending] = {}
        self._dirty_platforms: dict[Any, tuple[Platform, int]] = {}
        self._dirty_entries: dict[Any, Platform] = {}
        self._dirty_seats: dict[Any, tuple[SubfieldSeat, int]] = {}
        self.cache_misses = 0

    # ------------------------------------------------------------------ batches
    def bind(self, tables: dict[str, sa.Table]) -> None:
        """Write into ``tables`` (live or shadow, keyed by live name)."""
        self.tables = tables
        self.reset()

    def reset(self) -> None:
        """Drop buffered changes (a failed batch); the aggregate cache is self-checking."""
        self.pending = {name: Pending(self.tables[name]) for m in self.models for name in MODEL_TABLES[m]}
        self._dirty_platforms.clear()
        self._dirty_entries.clear()
        self._dirty_seats.clear()

    def flush(self, conn: sa.Connection) -> None:
        """Write every buffered change on ``conn`` (the caller's transaction)."""
        self.render()
        for p in self.pending.values():
            p.flush(conn)

    # ------------------------------------------------------------------ events
    def process_notification(self, n: Any, models: tuple[str, ...] | None = None) -> None:
        if n.topic.startswith(IGNORED_TOPIC_PREFIXES):
            return
        self.process_event(self.app.mapper.to_domain_event(n), n.id, models)

    def process_event(self, event: Any, position: int, models: tuple[str, ...] | None = None) -> None:
        """Apply one event at log ``position`` to the aggregate copy, then to each model in
        ``models`` (default: all of this projector's models)."""
        active = self.models if models is None else models
        agg_id = event.originator_id
        key = _key(agg_id)  # an int: hashing a UUID runs Python code, an int's does not
        version = event.originator_version
        cache = self.cache
        if version == 1:
            before = None
            before_status = None
        else:
            before = cache.get(key)
            if before is None or before.version != version - 1:
                self.cache_misses += 1
                before = self.app.repository.get(agg_id, version=version - 1)
            before_status = getattr(before, "status", None)
        agg = event.mutate(before)  # hashes nothing: the chain's head is hashed only when asked for
        if self.cache_size is None:
            if before is not agg:
                cache[key] = agg
        else:
            self._remember(key, agg)
        cls = type(agg)
        if cls is Platform:
            self._platform_event(agg, event, type(event).__name__, position, before_status, active)
        elif cls is SubfieldSeat:
            if "subfields" in active:
                self._seat_event(agg, event, type(event).__name__, position)
        elif cls is PublicityBatch:
            if "publicity" in active:
                self._batch_event(agg, event, position)
        elif cls is SubfieldRegister:
            if "subfields" in active and type(event).__name__ == "SubfieldAdmitted":
                self._subfield_admitted(agg, event, position)

    def _remember(self, agg_id: Any, agg: Any) -> None:
        cache = self.cache
        assert isinstance(cache, OrderedDict) and self.cache_size is not None  # the bounded cache
        if cache.get(agg_id) is agg:
            cache.move_to_end(agg_id)
            return
        cache[agg_id] = agg
        cache.move_to_end(agg_id)
        if len(cache) > self.cache_size:
            cache.popitem(last=False)

    # ------------------------------------------------------------------ platforms
    def _platform_event(
        self, p: Platform, event: Any, name: str, position: int, before_status: str | None, active: tuple[str, ...],
    ) -> None:
        if "platforms" in active:
            if name == "Applied":
                self.pending["rm_platforms"].put((str(p.id),), {"id": str(p.id), "seq": position})
            elif name in OBJECTION_EVENTS:
                o = p.objections[event.objection_id]
                number = int(o["objection_id"])
                self.pending["rm_platform_objections"].put((str(p.id), number), {
                    "platform_id": str(p.id), "objection_no": number, "received_on": o["received_on"],
                    "admissible": bool(o["admissible"]), "outcome": o["outcome"], "position": position})
            self._dirty_platforms[p.id] = (p, position)
        if "publicity" in active:
            if name == "Publicized":
                self._publicized(p)
            elif name in PUBLICITY_DIRTY_EVENTS and p.publicity is not None:
                self._dirty_entries[p.id] = p
        if "ledger" in active:
            self._ledger(p, event, name, position)
        if "deadlines" in active and (before_status in DEADLINE_STATUSES or p.status in DEADLINE_STATUSES):
            self._deadlines(p, before_status, position)

    def render(self) -> None:
        """Render the rows that depend on an aggregate's latest state (platforms, seats,
        publicity lines) into the buffer: :meth:`flush` does it first, and a caller that shares
        the database with other writers does it before taking the write lock (a rebuild)."""
        if self._dirty_platforms:
            rows = self.pending["rm_platforms"]
            for p, position in self._dirty_platforms.values():
                hu = p.host_unit
                rows.merge((str(p.id),), {
                    "name": p.name, "subfield": p.subfield, "host_credit_code": hu["credit_code"],
                    "host_name": hu.get("name") or "", "status": p.status, "version": p.version,
                    "position": position,
                    # Objections are rows of their own (rm_platform_objections).
                    "summary": json.dumps(summarize(p, objections=False), ensure_ascii=False,
                                          separators=(",", ":")),
                    "co_builder_codes": json.dumps(sorted({str(b["credit_code"]) for b in p.co_builders
                                                           if b.get("credit_code")})),
                    "scored_by": json.dumps(sorted(p.scores)),
                })
            self._dirty_platforms.clear()
        if self._dirty_seats:
            seats = self.pending["rm_subfield_seats"]
            for s, position in self._dirty_seats.values():
                seats.put((s.subfield,), {
                    "subfield": s.subfield, "holder_id": s.holder,
                    "exception_holders": json.dumps(list(s.exception_holders)), "position": position,
                })
            self._dirty_seats.clear()
        if self._dirty_entries:
            entries = self.pending["rm_publicity_entries"]
            for p in self._dirty_entries.values():
                assert p.publicity is not None
                entries.merge((str(p.publicity["batch_id"]), str(p.id)), publicity_line(p))
            self._dirty_entries.clear()

    # ------------------------------------------------------------------ publicity 公示名单
    def _batch_event(self, b: PublicityBatch, event: Any, position: int) -> None:
        self.pending["rm_publicity_batches"].put((str(b.id),), {
            "batch_id": str(b.id), "seq": position, "batch_ref": b.batch_ref, "media": b.media,
            "start_date": b.start_date, "first_day": b.first_day, "last_day": b.last_day,
            "working_days": b.working_days, "published_on": event.act.business_date,
        })

    def _publicized(self, p: Platform) -> None:
        assert p.publicity is not None
        batch_id = p.publicity["batch_id"]
        batch = self.cache.get(_key(batch_id))
        if batch is None:
            batch = self.app.repository.get(batch_id)
        ords = {pid: i for i, pid in enumerate(batch.platform_ids)}
        row = {"batch_id": str(batch_id), "platform_id": str(p.id), "ord": ords.get(str(p.id), len(ords)),
               "policy_ref": p.policy_ref}
        row.update(publicity_line(p))
        self.pending["rm_publicity_entries"].put((str(batch_id), str(p.id)), row)

    # ------------------------------------------------------------------ ledger 资金台账
    def _ledger(self, p: Platform, event: Any, name: str, position: int) -> None:
        if name == "Approved":
            kind, amount, doc = "commitment", event.funding_committed, event.funding_plan_ref
        elif name in RELEASE_EVENTS:
            kind, amount, doc = "release", event.released_amount, _first_ref(event.act.document_refs)
        elif name == "Funded":
            kind, amount, doc = "disbursement", event.amount, _first_ref(event.act.document_refs)
        elif name == "FundsRecovered":
            kind, amount, doc = "recovery", event.amount, _first_ref(event.act.document_refs)
        else:
            return
        if not amount:
            return  # a release of nothing (no commitment outstanding) is no ledger entry
        d: date = event.act.business_date
        self.pending["rm_ledger_entries"].put((str(position),), {
            "entry_id": str(position), "position": position, "kind": kind, "event_type": name,
            "platform_id": str(p.id), "originator_version": event.originator_version,
            "host_credit_code": p.host_unit["credit_code"], "host_name": p.host_unit.get("name") or "",
            "amount_fen": to_fen(amount), "business_date": d, "fiscal_year": d.year, "document_ref": doc,
        })

    # ------------------------------------------------------------------ subfields 细分领域
    def _seat_event(self, s: SubfieldSeat, event: Any, name: str, position: int) -> None:
        self._dirty_seats[s.id] = (s, position)  # rendered at flush, from its latest state
        history = self.pending["rm_subfield_history"]
        if name == "Occupied":
            history.put((s.subfield, event.platform_id), {
                "subfield": s.subfield, "platform_id": event.platform_id, "exception": event.exception,
                "occupied_on": event.act.business_date, "occupied_position": position,
                "released_on": None, "released_position": None,
            })
        elif name == "Released":
            history.merge((s.subfield, event.platform_id),
                          {"released_on": event.act.business_date, "released_position": position})

    def _subfield_admitted(self, r: SubfieldRegister, event: Any, position: int) -> None:
        """Art. 4: a subfield admitted by the bureau's decision joins its policy's registry."""
        decision = r.admitted[event.subfield]
        self.pending["rm_admitted_subfields"].put((r.policy_ref, event.subfield), {
            "policy_ref": r.policy_ref, "subfield": event.subfield, "document_ref": decision["document_ref"],
            "reasons": decision["reasons"], "admitted_on": decision["admitted_on"], "position": position,
        })

    # ------------------------------------------------------------------ deadlines 期限
    def _deadlines(self, p: Platform, before_status: str | None, position: int) -> None:
        rows = self.pending["rm_deadlines"]
        pid = str(p.id)
        if before_status in DEADLINE_STATUSES and before_status != p.status:
            rows.delete((pid, DEADLINE_STATUSES[before_status]))
        kind = DEADLINE_STATUSES.get(p.status)
        if kind is None:
            return
        if kind == "publicity_end":
            window = p.publicity_window
            assert window is not None
            basis, due = window.start_date, window.last_day
        else:
            task_book = p.signed_task_book
            assert task_book is not None
            basis, due = task_book.period_end, task_book.acceptance_due
        missed, late = (p.acceptance_missed, p.late_acceptance) if kind == "acceptance_due" else (None, None)
        rows.put((pid, kind), {"platform_id": pid, "kind": kind, "name": p.name,
                               "host_name": p.host_unit.get("name") or "", "policy_ref": p.policy_ref,
                               "basis_date": basis, "due_date": due, "position": position,
                               "missed_on": missed["missed_on"] if missed else None,
                               "late_admitted_on": late["admitted_on"] if late else None})


def _key(agg_id: Any) -> Any:
    """The aggregate cache's key for an aggregate id."""
    return agg_id.int if type(agg_id) is UUID else agg_id


def publicity_line(p: Platform) -> dict[str, Any]:
    """A platform's line in the publicity list: counts and outcome, never the objectors."""
    # One pass: a platform in publicity may have many objections, and its line is recomputed
    # at each batch that touches it.
    admissible = upheld = dismissed = unresolved = 0
    for o in p.objections.values():
        decided = o["outcome"]
        if o["admissible"]:
            admissible += 1
            unresolved += decided is None
        upheld += decided == "upheld"
        dismissed += decided == "dismissed"
    if upheld:
        outcome = "upheld"  # 异议成立: the approval was rescinded
    elif unresolved:
        outcome = "pending"
    elif dismissed:
        outcome = "dismissed"
    else:
        outcome = None
    return {"name": p.name, "host_name": p.host_unit.get("name") or "",
            "host_credit_code": p.host_unit["credit_code"], "subfield": p.subfield,
            "objections": len(p.objections), "late_objections": len(p.objections) - admissible,
            "upheld": upheld, "dismissed": dismissed, "unresolved": unresolved, "outcome": outcome}


__all__ = ["Projector", "to_fen", "publicity_line"]
