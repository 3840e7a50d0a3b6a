"""Replaying an ``@event`` method's event onto its aggregate (事件重放), without the library's
per-call work.

The library applies such an event by looking up the decorated method, filtering the event's
fields through the method's signature (a cached signature, but a lookup and a filter per call)
and calling it. Every load and every rebuild replays each stored event this way: here the
method and its parameter names are found once per event class, and the event is applied with
exactly the library's checks and effects (README, "Performance": rebuild). An event class whose
own ``apply`` does more than call the method keeps the library's path.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from eventsourcing.domain import (
    CanMutateAggregate,
    DecoratedFuncCaller,
    OriginatorIDError,
    OriginatorVersionError,
    decorated_funcs,
)

Applier = tuple[Callable[..., None], tuple[str, ...]]

_appliers: dict[type, Applier | None] = {}


def _applier(cls: type) -> Applier | None:
    """The method an event class's ``apply`` calls and the names it takes, or None where the
    library's ``apply`` must run (no decorated method, or an ``apply`` of its own besides)."""
    if not issubclass(cls, DecoratedFuncCaller) or cls not in decorated_funcs:
        return None
    after = cls.__mro__[cls.__mro__.index(DecoratedFuncCaller) + 1:]
    chained = next(c.__dict__["apply"] for c in after if "apply" in c.__dict__)
    if chained is not CanMutateAggregate.apply:  # its super().apply() would do something
        return None
    func = decorated_funcs[cls]
    return func, tuple(name for name in inspect.signature(func).parameters if name != "self")


def mutate_decorated(event: Any, aggregate: Any) -> bool:
    """Apply ``event`` to ``aggregate`` as the library's ``CanMutateAggregate.mutate`` would,
    if its class is a plain ``@event`` method's; False (nothing done) otherwise."""
    cls = type(event)
    try:
        applier = _appliers[cls]
    except KeyError:
        applier = _appliers[cls] = _applier(cls)
    if applier is None:
        return False
    originator_id = event.originator_id
    if originator_id is not aggregate.id and originator_id != aggregate.id:  # a replay's ids are one object
        raise OriginatorIDError(originator_id, aggregate.id)
    next_version = aggregate.version + 1
    if event.originator_version != next_version:
        raise OriginatorVersionError(event.originator_version, next_version)
    func, names = applier
    fields = event.__dict__
    func(aggregate, **{name: fields[name] for name in names if name in fields})
    aggregate.version = event.originator_version
    aggregate.modified_on = event.timestamp
    return True


__all__ = ["mutate_decorated"]
