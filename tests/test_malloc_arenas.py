"""The long-running processes use at most two glibc malloc arenas (``api/malloc_arenas.py``):
without the limit, each request thread's arena kept freed memory that no other thread reused, and
the soak's API workers grew 5 to 11 MB over ten minutes with nothing retained. `platforms serve`
passes the limit to its workers through the environment; an operator's own value is kept."""

from __future__ import annotations

import os
import platform
import uuid
from pathlib import Path

import pytest

from api.malloc_arenas import limit_malloc_arenas
from support import drop_schema, fresh_schema, serving


def _environ(pid: int) -> dict[str, str] | None:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except ProcessLookupError:
        return None
    return dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@pytest.mark.postgres
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads the workers' environment from /proc")
def test_serving_workers_are_started_with_two_malloc_arenas(postgres_url: str, tmp_path: Path) -> None:
    url, schema = fresh_schema(postgres_url)
    try:
        with serving(tmp_path, "--workers", "2", PLATFORMS_DATABASE_URL=url,
                     PLATFORMS_SECRET_KEY=uuid.uuid4().hex * 2) as (_, proc):
            # The two workers (and multiprocessing's helpers); a child gone since it was listed
            # was none of them.
            limits = [env.get("MALLOC_ARENA_MAX") for env in map(_environ, _children(proc.pid)) if env is not None]
            assert len(limits) >= 2 and limits == ["2"] * len(limits)
    finally:
        drop_schema(postgres_url, schema)


def test_an_operators_malloc_arena_max_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    limit_malloc_arenas()
    assert os.environ["MALLOC_ARENA_MAX"] == "4"


def test_the_limit_is_set_for_the_processes_started_later(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    took = limit_malloc_arenas()
    assert os.environ["MALLOC_ARENA_MAX"] == "2"
    assert took == (platform.libc_ver()[0] == "glibc")
