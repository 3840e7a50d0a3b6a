"""The public home page at scale (issue 15, item 6): the batches come a page at a time, open ones
first, and a store of 40,000 events (years of rounds) gives a page under 100 KB (it was 939 KB
with every batch on it). A size, not a timing."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api import routes_page
from cohorts import batch_ref, cohort
from demo_store import SECRET, DemoStore, make_container

pytestmark = pytest.mark.timeout(900)  # generating 40,000 events takes a minute, more on a busy machine

EVENTS = 40_000
PAGE_LIMIT = 100_000  # bytes


def _batches(html: str) -> list[tuple[str, str]]:
    """(state, batch_ref) of each batch on a page, in order."""
    return re.findall(r'<section class="batch batch-(\w+)"[^>]*data-batch="([^"]+)"', html)


@pytest.fixture(scope="module")
def big_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, int]]:
    """A store of at least 40,000 events: cohorts of twelve platforms with every ending
    (tests/cohorts.py), each publicized in a batch of its own."""
    from aggregates.programme import Programme
    from api.app import create_app
    from api.bootstrap import build_container
    from api.settings import Settings
    from projections.runner import max_position

    root = tmp_path_factory.mktemp("big-store")
    container = build_container(Settings.from_env(database_url=f"sqlite:///{root / 'events.sqlite3'}",
                                                   var_dir=root / "var", secret_key=SECRET, checkpoint_signer=False,
                                                   deadline_watch=False))
    try:
        programme, cohorts = Programme(container.app), 0
        while max_position(container.app) < EVENTS:
            cohort(programme, cohorts)
            cohorts += 1
        container.runner.catch_up()
        with TestClient(create_app(container)) as client:
            yield client, cohorts
    finally:
        container.close()


def test_home_page_of_a_40000_event_store_is_under_100_kb(big_site: tuple[TestClient, int]) -> None:
    client, cohorts = big_site
    first = client.get("/")
    assert first.status_code == 200
    assert len(first.content) < PAGE_LIMIT, f"{len(first.content):,} bytes"
    shown = _batches(first.text)
    assert len(shown) == routes_page.BATCHES_PER_PAGE
    # Every batch is closed (the cohorts' rounds are in 2022): newest first.
    assert [ref for _, ref in shown] == [batch_ref(i) for i in range(cohorts - 1, cohorts - 11, -1)]
    pages = -(-cohorts // routes_page.BATCHES_PER_PAGE)
    assert f"第 1 / {pages} 页" in first.text and 'href="/?page=2" rel="next"' in first.text
    last = client.get("/", params={"page": pages})
    assert last.status_code == 200 and len(last.content) < PAGE_LIMIT
    assert [ref for _, ref in _batches(last.text)][-1] == batch_ref(0)  # the oldest, on the last page
    assert 'rel="next"' not in last.text and f'href="/?page={pages - 1}" rel="prev"' in last.text
    # Every batch is on exactly one page.
    seen = [ref for n in range(1, pages + 1) for _, ref in _batches(client.get("/", params={"page": n}).text)]
    assert sorted(seen) == sorted(batch_ref(i) for i in range(cohorts))
    # A batch's own page is found by its reference, whatever page lists it.
    assert client.get(f"/publicity/{batch_ref(0)}").status_code == 200


@pytest.fixture
def demo_site(demo_store: DemoStore, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    from api.app import create_app

    monkeypatch.setattr(routes_page, "BATCHES_PER_PAGE", 1)  # the demo's few batches, one a page
    container = make_container(demo_store)
    with TestClient(create_app(container)) as client:
        yield client
    container.close()


def test_open_batches_come_first_across_pages(demo_site: TestClient) -> None:
    states = []
    page = 1
    while True:
        r = demo_site.get("/", params={"page": page})
        assert r.status_code == 200
        shown = _batches(r.text)
        assert len(shown) == 1
        states.append(shown[0][0])
        if 'rel="next"' not in r.text:
            break
        page += 1
    assert len(states) > 1 and states[0] == "open"
    order = {"open": 0, "upcoming": 1, "closed": 2}
    assert [order[s] for s in states] == sorted(order[s] for s in states)


@pytest.mark.parametrize("page", ["0", "-1", "x", "99", "１", "1" * 30])
def test_a_page_that_does_not_exist_is_a_404_page(demo_site: TestClient, page: str) -> None:
    r = demo_site.get("/", params={"page": page})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "没有这一页" in r.text

