"""Prometheus metrics (监控指标) at ``GET /metrics``, outside the JSON contract.

What the serving processes count as they work: HTTP requests by route *template* (never the raw
path, so a client cannot mint label values), method and status class, with their latency
(``platforms_http_request_duration_seconds``: its ``_count`` is the request count); commands by
type and outcome (``ok``, ``refused`` with the refusal's code, ``error``); and, on SQLite, how many
commands each group commit saved together (:mod:`aggregates.group_commit`).

What the store says at the moment of the scrape, read there by whichever worker answers, so it
is right in every process: the log position (the highest notification id), each read model's
position and lag (events recorded but not yet applied to it), and the age of the latest signed
checkpoint.

Several workers (``platforms serve --workers N``) each count their own requests; the counters
live in files of one directory (prometheus_client's multiprocess mode, chosen by
:func:`prepare_shared_dir` before the workers start) and a scrape sums them, so any worker gives
the totals. The directory is emptied when the server starts; a worker that dies leaves its
files, so the totals never go back (the files of a restarted worker are added to them).

Only clients in ``PLATFORMS_METRICS_CLIENTS`` (default: loopback) may read the page; anyone else
gets the 404 of an unknown path. The client's address is the one the server decided, believing
``X-Forwarded-For`` only from ``PLATFORMS_TRUSTED_PROXIES``.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aggregates.errors import DomainError

from .settings import shared_metrics_dir

log = logging.getLogger(__name__)

# No `_created` series beside each counter and histogram: Prometheus does not need them, and
# they would double the page.
disable_created_metrics()

METRICS_PATH = "/metrics"

# The counters and histograms of this process, apart from prometheus_client's default registry
# (whose process and interpreter figures would be one worker's alone under several workers).
PROCESS = CollectorRegistry(auto_describe=True)

REQUESTS = Histogram(
    "platforms_http_request_duration_seconds",
    "HTTP requests by route template, method and status class, and how long they took",
    ["route", "method", "status"], registry=PROCESS,
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
COMMANDS = Counter("platforms_commands", "Commands by type and outcome (ok, refused with its code, error)",
                   ["command", "outcome", "code"], registry=PROCESS)
GROUP_COMMITS = Histogram("platforms_group_commit_commands",
                          "Commands saved together in one transaction by a group commit (SQLite)",
                          registry=PROCESS, buckets=(1, 2, 4, 8, 16, 32, 64))

# A label value of every request must come from a bounded set: a method no route answers is
# counted as "other", a path no route matches as "unmatched".
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


class CommandMetrics:
    """Counts what the committer reports (:class:`aggregates.committer.Committer`'s observer)."""

    def command(self, name: str, error: BaseException | None) -> None:
        if error is None:
            COMMANDS.labels(name, "ok", "").inc()
        elif isinstance(error, DomainError):
            COMMANDS.labels(name, "refused", error.code).inc()
        else:
            COMMANDS.labels(name, "error", "").inc()

    def group_saved(self, commands: int) -> None:
        GROUP_COMMITS.observe(commands)


class RequestMetrics:
    """ASGI middleware timing every HTTP request into :data:`REQUESTS` (no body is read)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # One child per label set, found without the library's label lookup and its lock.
        self._children: dict[tuple[str, str, str], Any] = {}
        # Each route's full template, worked out at the first request it matched.
        self._templates: dict[int, str] = {}
        self._routes: list[Any] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        root_path = scope.get("root_path", "")

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            # The router left the route it matched in the scope: its template is the label. A
            # mount (static files, the docs' assets) leaves its path as the root path instead:
            # the files below it are not routes, and the mount's path is the label.
            route = scope.get("route")
            if route is not None:
                label = self._template(route, scope)
            else:
                mounted = scope.get("root_path", "")
                label = mounted if mounted != root_path else UNMATCHED
            key = (label,
                   scope["method"] if scope["method"] in _METHODS else "other", f"{status // 100}xx")
            child = self._children.get(key)
            if child is None:
                child = self._children[key] = REQUESTS.labels(*key)
            child.observe(time.perf_counter() - started)

    def _template(self, route: Any, scope: Scope) -> str:
        template = self._templates.get(id(route))
        if template is None:
            template = self._templates[id(route)] = full_template(route, scope)
            self._routes.append(route)  # its id stays its own while the app lives
        return template


def full_template(route: Any, scope: Scope) -> str:
    """The full template of the ``route`` a request matched (``/api/v1/platforms/{platform_id}``).
    A route of an included router knows its path only below the router's prefix: the prefix is
    what the request's path has before the route's path filled in with the request's path
    parameters."""
    path: str = getattr(route, "path", "") or UNMATCHED
    params = scope.get("path_params") or {}
    filled = _PARAMETER.sub(lambda m: str(params.get(m.group(1), m.group(0))), path)
    full: str = scope["path"]
    return full[:len(full) - len(filled)] + path if full.endswith(filled) else path


_PARAMETER = re.compile(r"{([^}:]+)(?::[^}]*)?}")


class StoreCollector(Collector):
    """The figures read from the store at each scrape: log position, read-model lag,
    checkpoint age. A store that does not answer gives ``platforms_store_up 0`` and no others."""

    def __init__(self, container: Any) -> None:
        self.container = container

    def collect(self) -> Iterator[Metric]:
        from audit.checkpoint_store import latest_checkpoint
        from projections.runner import max_position

        app = self.container.app
        try:
            head = max_position(app)
            models = self.container.runner.positions()
            checkpoint = latest_checkpoint(app)
        except Exception as exc:  # noqa: BLE001 - a store that does not answer is itself the figure
            log.warning("metrics: the store did not answer: %s", exc.__class__.__name__)
            yield GaugeMetricFamily("platforms_store_up", "Whether the event store answered this scrape", 0)
            return
        yield GaugeMetricFamily("platforms_store_up", "Whether the event store answered this scrape", 1)
        yield GaugeMetricFamily("platforms_log_position", "The event log's last position (highest notification id)",
                                head)
        position = GaugeMetricFamily("platforms_projection_position", "The last log position each read model applied",
                                     labels=["model"])
        lag = GaugeMetricFamily("platforms_projection_lag_events",
                                "Events recorded but not yet applied, per read model", labels=["model"])
        for name, at in sorted(models.items()):
            position.add_metric([name], at)
            lag.add_metric([name], max(0, head - at))
        yield position
        yield lag
        if checkpoint is not None:
            signed = datetime.fromisoformat(checkpoint.signed_at.replace("Z", "+00:00"))
            age = GaugeMetricFamily("platforms_checkpoint_age_seconds", "Seconds since the latest signed checkpoint",
                                    max(0.0, (datetime.now(UTC) - signed).total_seconds()))
            yield age
            yield GaugeMetricFamily("platforms_checkpoint_size", "Events covered by the latest signed checkpoint",
                                    checkpoint.size)


def _allowed(request: Request) -> bool:
    """Whether the client's address is in ``PLATFORMS_METRICS_CLIENTS``."""
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n) for n in request.app.state.container.settings.metrics_clients)


def exposition(container: Any) -> bytes:
    """The metrics page: this process's counters (or every worker's, summed) and the store's figures."""
    registry = CollectorRegistry(auto_describe=False)
    shared = shared_metrics_dir()
    if shared is not None:
        MultiProcessCollector(registry, path=str(shared))
    else:
        registry.register(_Process())
    registry.register(StoreCollector(container))
    return generate_latest(registry)


class _Process(Collector):
    """This process's own counters, for a scrape registry of its own."""

    def collect(self) -> Iterator[Metric]:
        yield from PROCESS.collect()


def install(app: FastAPI) -> None:
    """Add ``GET /metrics`` (left out of the OpenAPI document) and the request timing to ``app``."""

    @app.get(METRICS_PATH, include_in_schema=False)
    def metrics(request: Request) -> Response:
        if not _allowed(request):
            raise HTTPException(404)  # as an unknown path: the page's existence is not advertised
        return Response(exposition(request.app.state.container), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(RequestMetrics)


def prepare_shared_dir(path: Path) -> None:
    """Make ``path`` the empty directory where the workers about to start keep their counters
    (what an earlier run left would be added to this run's totals)."""
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()


__all__ = ["CommandMetrics", "METRICS_PATH", "RequestMetrics", "StoreCollector", "exposition", "install",
           "prepare_shared_dir"]
