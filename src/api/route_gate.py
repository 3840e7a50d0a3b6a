"""A router that says at once when none of its paths matches a request (路由预筛).

FastAPI tries the routers of an application in order, and each router its routes one by one
(a regular expression each, plus FastAPI's bookkeeping in the request's scope): a command, whose
routes come after the query routes (:mod:`api.app`), paid for trying every query route first,
about a tenth of the event loop's time on the public objection under load (py-spy, README
"Commands near the floor"). :class:`PathGatedRouter` tests the request's path against all of its
routes' paths in one combined expression first, and answers "no match" when none matches, which
is what trying them one by one would have answered: a route whose path does not match never
matches, whatever the method (a path that matches with another method still goes through the
routes, and its 405 is unchanged). Nothing else changes: the routes, their order, the paths and
the OpenAPI document are the same.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Match, get_route_path
from starlette.types import Scope

_GROUP = re.compile(r"\(\?P<\w+>")


class PathGatedRouter(APIRouter):
    """An :class:`~fastapi.APIRouter` whose :meth:`matches` first tests the path against all of
    its routes' paths at once. Include it with :meth:`include_in`, which knows the prefix."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prefixes: set[str] = set()
        self._gate: tuple[int, re.Pattern[str] | None] | None = None

    def include_in(self, app: FastAPI, prefix: str) -> None:
        """``app.include_router(self, prefix=prefix)``, the gate told the prefix."""
        self._prefixes.add(prefix)
        self._gate = None
        app.include_router(self, prefix=prefix)

    def _gate_pattern(self) -> re.Pattern[str] | None:
        """One expression matching every path one of the routes matches; None (no gate) when
        the router is included under more than one prefix, or a route is not a plain API
        route, or its expression is not the ``^...$`` of FastAPI's paths."""
        gate = self._gate
        if gate is None or gate[0] != len(self.routes):
            gate = self._gate = (len(self.routes), self._compile())
        return gate[1]

    def _compile(self) -> re.Pattern[str] | None:
        if len(self._prefixes) != 1 or not self.routes:
            return None
        alternatives = []
        for route in self.routes:
            if not isinstance(route, APIRoute):
                return None
            own = route.path_regex.pattern
            if not (own.startswith("^") and own.endswith("$")) or own.endswith("\\$"):
                return None
            # The named groups made plain ones: the alternatives share names.
            alternatives.append(_GROUP.sub("(?:", own[1:-1]))
        (prefix,) = self._prefixes
        return re.compile(re.escape(prefix) + "(?:" + "|".join(alternatives) + ")")

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http":
            pattern = self._gate_pattern()
            if pattern is not None and pattern.fullmatch(get_route_path(scope)) is None:
                return Match.NONE, {}
        return super().matches(scope)


__all__ = ["PathGatedRouter"]
