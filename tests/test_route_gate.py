"""The query router's path gate (api.route_gate) only skips what would not have matched: every
query path still reaches its route, and a path known with another method still answers 405."""

from __future__ import annotations

from uuid import uuid4

from starlette.routing import Match

from api.route_gate import PathGatedRouter
from api.routes_queries import router as queries_router


def test_the_gate_lets_every_query_path_through(tmp_path) -> None:
    from api_client import make_api

    client_api, container = make_api("sqlite:///" + str(tmp_path / "events.sqlite3"), tmp_path)
    try:
        assert isinstance(queries_router, PathGatedRouter)
        gate = queries_router._gate_pattern()
        assert gate is not None
        for route in queries_router.routes:
            path = "/api/v1" + route.path_format.replace("{platform_id}", str(uuid4()))
            assert gate.fullmatch(path), path
        assert gate.fullmatch(f"/api/v1/platforms/{uuid4()}/objections") is None
        scope = {"type": "http", "method": "POST", "path": f"/api/v1/platforms/{uuid4()}/objections",
                 "root_path": ""}
        assert queries_router.matches(scope) == (Match.NONE, {})
    finally:
        container.close()


def test_other_methods_and_unknown_paths_answer_as_before(tmp_path) -> None:
    from api_client import make_api

    client_api, container = make_api("sqlite:///" + str(tmp_path / "events.sqlite3"), tmp_path)
    try:
        with client_api.client as client:
            assert client.get("/api/v1/publicity-list").status_code == 200
            # A query path with a command's method, a command path with a query's method: 405.
            wrong = client.post("/api/v1/publicity-list", json={})
            assert wrong.status_code == 405 and wrong.headers["allow"] == "GET"
            assert client.get(f"/api/v1/platforms/{uuid4()}/objections").status_code == 405
            assert client.get("/api/v1/no-such-list").status_code == 404
    finally:
        container.close()
