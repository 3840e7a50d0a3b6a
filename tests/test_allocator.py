"""The long-running processes tune glibc's allocator (``api/allocator.py``): at most two malloc
arenas and a fixed 64 KiB mmap threshold. Without them, the soak's API workers grew 5 to 11 MB
over ten minutes with nothing retained. `platforms serve` passes both to its workers through
the environment; an operator's own values are kept."""

from __future__ import annotations

import os
import platform
import uuid
from pathlib import Path

import pytest

from api.allocator import tune_allocator
from support import drop_schema, fresh_schema, serving

TUNED = {"MALLOC_ARENA_MAX": "2", "MALLOC_MMAP_THRESHOLD_": "65536"}


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
def test_serving_workers_are_started_with_the_tuned_allocator(postgres_url: str, tmp_path: Path) -> None:
    url, schema = fresh_schema(postgres_url)
    try:
        with serving(tmp_path, "--workers", "2", PLATFORMS_DATABASE_URL=url,
                     PLATFORMS_SECRET_KEY=uuid.uuid4().hex * 2) as (_, proc):
            # The two workers (and multiprocessing's helpers); a child gone since it was listed
            # was none of them.
            tuned = [{k: env.get(k) for k in TUNED} for env in map(_environ, _children(proc.pid)) if env is not None]
            assert len(tuned) >= 2 and tuned == [TUNED] * len(tuned)
    finally:
        drop_schema(postgres_url, schema)


def test_an_operators_settings_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "131072")
    tune_allocator()
    assert (os.environ["MALLOC_ARENA_MAX"], os.environ["MALLOC_MMAP_THRESHOLD_"]) == ("4", "131072")


def test_the_settings_are_passed_to_the_processes_started_later(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    took = tune_allocator()
    assert {k: os.environ[k] for k in TUNED} == TUNED
    assert took == (platform.libc_ver()[0] == "glibc")


def test_a_setting_that_is_not_a_number_is_left_to_glibc(monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "two")
    assert tune_allocator() is False
    assert "MALLOC_ARENA_MAX is not a whole number" in caplog.text
