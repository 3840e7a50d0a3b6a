"""Proxies and the objection rate limit: ``X-Forwarded-For`` is believed only
from a proxy named in ``PLATFORMS_TRUSTED_PROXIES``; the in-memory limiter keeps at most its cap
of addresses; on PostgreSQL every worker counts in one shared, pruned table."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from aggregates.store import StoreConfig
from api.page_security import SlidingWindowLimiter
from api.settings import Settings, SettingsError
from api.shared_limiter import TABLE, SharedWindowLimiter
from projections.db import make_engine
from support import serving

OBJECTION = {"objector_name": "市民", "contact": "13800000000", "content": "对申报数据有疑问，请予核查"}


def _serve(tmp_path: Path, **env: str) -> Iterator[str]:
    """``platforms serve`` on an empty SQLite store, objections limited to 2 per address."""
    with serving(tmp_path, PLATFORMS_OBJECTION_RATE_LIMIT="2", **env) as (base, _):
        yield base


def _objections_from_chosen_addresses(base: str) -> list[int]:
    """Three public objections from one local client, each claiming another address."""
    url = f"{base}/api/v1/platforms/{uuid.uuid4()}/objections"
    return [httpx.post(url, json=OBJECTION, headers={"X-Forwarded-For": f"203.0.113.{i}"}, timeout=30).status_code
            for i in range(3)]


def test_a_local_client_cannot_choose_its_address_by_default(tmp_path: Path) -> None:
    for base in _serve(tmp_path):
        assert _objections_from_chosen_addresses(base)[2] == 429


def test_a_named_proxy_reports_the_visitors_address(tmp_path: Path) -> None:
    for base in _serve(tmp_path, PLATFORMS_TRUSTED_PROXIES="127.0.0.1/32, ::1"):
        assert 429 not in _objections_from_chosen_addresses(base)


def test_trusted_proxies_are_addresses_or_networks() -> None:
    env = {"PLATFORMS_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7"}
    assert Settings.from_env(env=env, secret_key="k" * 32).trusted_proxies == ("10.0.0.0/8", "192.168.1.7/32")
    assert Settings.from_env(env={}, secret_key="k" * 32).trusted_proxies == ()
    for bad in ("*", "proxy.internal"):
        with pytest.raises(SettingsError, match="PLATFORMS_TRUSTED_PROXIES"):
            Settings.from_env(env={"PLATFORMS_TRUSTED_PROXIES": bad}, secret_key="k" * 32)


def test_the_in_memory_limiter_keeps_at_most_its_cap_of_addresses() -> None:
    limiter = SlidingWindowLimiter(limit=5, window=600, clock=lambda: 1000.0, max_keys=1000)
    for i in range(5000):
        assert limiter.hit(f"198.51.{i // 256}.{i % 256}") is None
    assert len(limiter) == 1000
    # The most recent addresses are the ones still counted.
    for _ in range(4):
        limiter.hit("198.51.19.135")  # address 4999
    assert limiter.hit("198.51.19.135") is not None


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_workers_on_postgresql_share_one_count(store_url: str) -> None:
    """Two workers (two engines), 16 objections from one address at once: 5 get through."""
    engines = [make_engine(StoreConfig(store_url)) for _ in range(2)]
    try:
        limiters = [SharedWindowLimiter(e, limit=5, window=600) for e in engines]
        answers: list[float | None] = []
        lock = threading.Lock()

        def hit(i: int) -> None:
            wait = limiters[i % 2].hit("203.0.113.9")
            with lock:
                answers.append(wait)

        threads = [threading.Thread(target=hit, args=(i,)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(a is None for a in answers) == 5
        assert all(a is None or a > 0 for a in answers)
    finally:
        for e in engines:
            e.dispose()


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_the_shared_count_forgets_what_left_the_window(store_url: str) -> None:
    engine = make_engine(StoreConfig(store_url))
    now = [1_000_000.0]
    try:
        limiter = SharedWindowLimiter(engine, limit=2, window=600, clock=lambda: now[0])
        for i in range(300):
            assert limiter.hit(f"198.51.100.{i % 256}-{i}") is None
        assert [limiter.hit("203.0.113.1") for _ in range(3)][:2] == [None, None]
        now[0] += 601
        assert limiter.hit("203.0.113.1") is None  # the window moved on
        with engine.connect() as conn:
            assert conn.execute(sa.text(f"SELECT count(*) FROM {TABLE}")).scalar_one() == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_two_api_processes_on_postgresql_count_one_address_together(
        store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from api_client import make_api

    monkeypatch.setenv("PLATFORMS_OBJECTION_RATE_LIMIT", "2")
    workers = [make_api(store_url, tmp_path / str(i)) for i in range(2)]
    try:
        url = f"/api/v1/platforms/{uuid.uuid4()}/objections"
        statuses = [workers[i % 2][0].client.post(url, json=OBJECTION).status_code for i in range(4)]
        assert 429 not in statuses[:2] and statuses[2:] == [429, 429]
    finally:
        for _, container in workers:
            container.close()
