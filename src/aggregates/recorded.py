"""The base of every aggregate in the registry: events that say who, when and on what
authority, chained by hash.

Every event carries an :class:`~aggregates.values.Act` (actor id, role, business date,
document references) and ``prev_hash``, the hash of the previous event of the same stream
(:data:`~aggregates.hashing.GENESIS` for the first). The decisions of a stream are never dated
before the decisions recorded before them (checked here) and no act lies in the future (checked
as the act is made, against the day it is recorded on: :class:`~aggregates.values.Act`;
docs/DOMAIN.md, "What every event carries"). A received submission (an objection, a score sheet)
keeps the day it was received, whenever it is recorded: it neither moves that mark nor is held
to it by the submissions recorded before it.

A command hashes each event it triggers at once, to chain the next one to it. Replaying a
stream (a load, the read models, a rebuild) hashes nothing: the replayed aggregate keeps its last
event and hashes it only when asked for :attr:`~RecordedAggregate.last_hash`, by a command
chaining a new event to it or by a snapshot, which keeps the hash.
"""

from __future__ import annotations

import copy
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.domain import Snapshot as LibrarySnapshot
from eventsourcing.utils import get_topic, register_topic

from .errors import RuleViolation
from .hashing import GENESIS, event_hash, new_event_hash
from .values import Act


class RecordedAggregate(Aggregate):
    """An aggregate whose events form a tamper-evident, attributed record."""

    # The business date of the latest decision: a later decision may not be dated before it.
    last_business_date = None  # not annotated: annotations would become constructor fields
    # Within a platform decisions are never dated backwards. An aggregate that records acts of
    # many platforms (a subfield seat) receives back-filled acts out of order, so may opt out.
    monotonic_business_dates = True
    # Names of the events that record a submission received from outside (e.g. "Objected"): dated
    # on the day it was received, postmark or stamp, it may be recorded after later decisions and
    # later-dated submissions, so it does not move ``last_business_date``.
    received_submissions = frozenset[str]()  # not annotated (it would become a constructor field)
    # Fields holding a dict of records that events replace whole and never change in place
    # (a platform's objections, which anyone may file, so they can be many). A copy gets its own
    # dict and shares the records: one dict copy, not a deep copy per record, per command.
    replaced_records = frozenset[str]()  # of field names; not annotated (it would become a constructor field)

    class Event(Aggregate.Event):
        prev_hash: str
        act: Act

        def mutate(self, aggregate: Any) -> Any:
            aggregate = super().mutate(aggregate)
            # The new head of the chain, hashed only when asked for (last_hash): a replay never is.
            state = aggregate.__dict__
            state[_UNHASHED_HEAD] = self
            state.pop("last_hash", None)
            if type(self).__name__ not in aggregate.received_submissions:
                aggregate.last_business_date = self.act.business_date
            return aggregate

    class Snapshot(LibrarySnapshot):
        """A snapshot keeps the chain's head as its hash, as it always has (its state is plain
        data, never an event), so snapshots stored before the head was hashed lazily still load."""

        TOPIC = "platform-registry/Snapshot"

        @classmethod
        def take(cls, aggregate: Any) -> Any:
            aggregate._settle_head()
            return super().take(aggregate)

    @property
    def last_hash(self) -> str:
        """The hash of this stream's last event, which its next event names as ``prev_hash``."""
        self._settle_head()
        return self.__dict__["last_hash"]

    def _settle_head(self, new: bool = False) -> None:
        """Hash the chain's head if it is not hashed yet, and keep the hash in its place; ``new``:
        the head is the event a command just triggered, whose hashed bytes the store will keep."""
        state = self.__dict__
        head = state.pop(_UNHASHED_HEAD, None)
        if head is not None:
            state["last_hash"] = new_event_hash(head) if new else event_hash(get_topic(type(head)), head.__dict__)

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        # The repository's cache hands out deep copies so a refused command never leaves its
        # half-applied changes behind: one copy per command, so it must be cheap.
        clone = object.__new__(type(self))
        shared = self.replaced_records
        # The unhashed head is an event, which never changes: shared.
        clone.__dict__.update({k: v.copy() if k in shared else v if type(v) in _IMMUTABLE or k == _UNHASHED_HEAD
                               else copy_state(v) for k, v in self.__dict__.items()})
        return clone

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        # Chain each new event to its predecessor; callers never pass prev_hash themselves.
        kwargs["prev_hash"] = self.last_hash
        super().trigger_event(event_class, **kwargs)
        # A command's own event is hashed at once, as it was applied: the copy the command
        # leaves in the repository's cache then holds the hash, not the event.
        self._settle_head(new=True)

    @classmethod
    def _create_recorded(cls, event_class: Any, act: Act, **kwargs: Any) -> Any:
        aggregate = cls._create(event_class, act=act, prev_hash=GENESIS, **kwargs)
        aggregate._settle_head(new=True)  # as trigger_event does
        return aggregate

    def check_act(self, act: Act) -> None:
        check_business_date(act, previous=self.last_business_date if self.monotonic_business_dates else None)


# Pinned like the events' topics, so stored snapshots survive a move of this module.
register_topic(RecordedAggregate.Snapshot.TOPIC, RecordedAggregate.Snapshot)

# The state key of the stream's last event while its hash is not yet computed (the hash is then
# kept as ``last_hash``, the key snapshots have always stored).
_UNHASHED_HEAD = "_unhashed_head"

# Values that are never changed in place, so a copy may share them.
_IMMUTABLE = frozenset({str, int, float, bool, type(None), Decimal, date, datetime, UUID, bytes, Act})


def copy_state(value: Any) -> Any:
    """A deep copy of an aggregate's state. The state is plain data (dicts and lists of strings,
    numbers, dates, ids, acts), copied here container by container with the immutable leaves
    shared, several times faster than ``copy.deepcopy`` or a pickle round trip; anything else is
    left to ``copy.deepcopy``. Aggregates never alias one container from two places, so copying
    each reference separately is exact."""
    kind = type(value)
    if kind is dict:
        out = value.copy()
        for key, item in out.items():
            if type(item) not in _IMMUTABLE:
                out[key] = copy_state(item)
        return out
    if kind is list:
        return [item if type(item) in _IMMUTABLE else copy_state(item) for item in value]
    if kind in _IMMUTABLE:
        return value
    if kind is tuple:
        return tuple(copy_state(item) for item in value)
    return copy.deepcopy(value)


def check_business_date(act: Act, previous: Any) -> None:
    """A business date may be back-filled (clerks record paper acts later) but never precedes
    the stream's previous decision. (That it never lies in the future the act itself checked,
    against the day it is recorded on.)"""
    if previous is not None and act.business_date < previous:
        raise RuleViolation(
            "business_date_before_previous",
            f"business date {act.business_date} is before the previous recorded decision ({previous})",
            params={"business_date": act.business_date, "previous": previous},
        )
