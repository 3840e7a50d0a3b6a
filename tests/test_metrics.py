"""``GET /metrics`` (api/metrics.py), read as Prometheus reads it (its text parser): the families;
requests counted by route template; commands by outcome; group-commit sizes; the log position,
read-model lag and checkpoint age read from the store; who may read the page; several workers'
counters summed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from api.settings import Settings, SettingsError
from api_client import Api, application, make_api, to_in_publicity
from support import serving, wait_until

OBJECTION = {"objector_name": "市民", "contact": "13800000000", "content": "对申报数据有疑问，请予核查"}
LOCAL = ("127.0.0.1", 40000)


def scrape(client: TestClient | None = None, text: str | None = None) -> dict[tuple[str, tuple], float]:
    """The page as {(sample name, sorted labels): value}, parsed with Prometheus's parser."""
    if text is None:
        assert client is not None
        response = client.get("/metrics")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain")
        text = response.text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def families(text: str) -> set[str]:
    return {f.name for f in text_string_to_metric_families(text)}


def sample(page: dict, name: str, **labels: str) -> float:
    return page.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def quiet_api(tmp_path: Path) -> Iterator[Api]:
    """The app on a SQLite store whose read models nobody follows until the test says so."""
    api, container = make_api(f"sqlite:///{tmp_path / 'events.sqlite3'}", tmp_path, run_projections=False)
    try:
        with api.client:
            yield api
    finally:
        container.close()


def local(api: Api) -> TestClient:
    """A client of the same app calling from the loopback address."""
    return TestClient(api.client.app, client=LOCAL)


def test_the_page_has_every_family_and_is_not_in_the_openapi_document(api: Api) -> None:
    to_in_publicity(api)
    c = api.container
    from audit.checkpoints import sign_checkpoint

    sign_checkpoint(c.app, c.checkpoint_signer(), c.settings.checkpoint_keys)
    text = local(api).get("/metrics").text
    assert families(text) >= {
        "platforms_http_request_duration_seconds", "platforms_commands", "platforms_store_up",
        "platforms_log_position", "platforms_projection_position", "platforms_projection_lag_events",
        "platforms_checkpoint_age_seconds", "platforms_checkpoint_size"}
    if c.app.store.is_sqlite:  # one writer: commands are saved in groups
        assert "platforms_group_commit_commands" in families(text)
    assert "/metrics" not in api.client.get("/openapi.json").json()["paths"]


def test_requests_are_counted_by_route_template_method_and_status_class(quiet_api: Api) -> None:
    client = local(quiet_api)
    before = scrape(client)
    for _ in range(3):
        assert client.get(f"/api/v1/platforms/{uuid.uuid4()}").status_code == 401
    assert client.get("/api/v1/healthz").status_code == 200
    assert client.get("/no/such/page").status_code == 404
    assert client.get("/static/nothing/static").status_code == 404
    assert client.get("/static/site.css").status_code == 200
    after = scrape(client)
    count = "platforms_http_request_duration_seconds_count"

    def moved(**labels: str) -> float:
        return sample(after, count, **labels) - sample(before, count, **labels)

    # Three different ids, one label set: the template, not the raw path.
    assert moved(route="/api/v1/platforms/{platform_id}", method="GET", status="4xx") == 3
    assert moved(route="/api/v1/healthz", method="GET", status="2xx") == 1
    assert moved(route="unmatched", method="GET", status="4xx") == 1
    # Files are not routes: the mount's path is the label, whatever the file.
    assert moved(route="/static", method="GET", status="4xx") == 1
    assert moved(route="/static", method="GET", status="2xx") == 1
    assert not any(str(uuid_label).count("-") == 4 for (_, labels) in after for (_, uuid_label) in labels)


def test_commands_are_counted_by_type_and_outcome(quiet_api: Api) -> None:
    client = local(quiet_api)
    before = scrape(client)
    assert quiet_api.post("/platforms", "applicant", application()).status_code == 201
    unknown = quiet_api.post(f"/platforms/{uuid.uuid4()}/objections", None, OBJECTION)
    assert unknown.status_code == 404
    after = scrape(client)
    name = "platforms_commands_total"
    assert sample(after, name, command="apply", outcome="ok", code="") - \
        sample(before, name, command="apply", outcome="ok", code="") == 1
    assert sample(after, name, command="object", outcome="refused", code="platform_not_found") - \
        sample(before, name, command="object", outcome="refused", code="platform_not_found") == 1
    # On SQLite every saved command was saved in some group commit: the sizes add up to them.
    groups = "platforms_group_commit_commands_sum"
    assert sample(after, groups) - sample(before, groups) == 1


def test_the_log_position_and_the_lag_of_each_read_model_follow_a_write(quiet_api: Api) -> None:
    client = local(quiet_api)
    assert scrape(client)[("platforms_log_position", ())] == 0
    position = quiet_api.post("/platforms", "applicant", application()).json()["position"]
    page = scrape(client)
    assert page[("platforms_log_position", ())] == position
    assert sample(page, "platforms_projection_lag_events", model="platforms") == position
    assert sample(page, "platforms_projection_position", model="platforms") == 0

    quiet_api.container.runner.catch_up()
    page = scrape(client)
    assert sample(page, "platforms_projection_lag_events", model="platforms") == 0
    assert sample(page, "platforms_projection_position", model="platforms") == position
    assert page[("platforms_store_up", ())] == 1


def test_the_checkpoint_age_counts_from_the_latest_signed_checkpoint(quiet_api: Api) -> None:
    from audit.checkpoints import sign_checkpoint

    c = quiet_api.container
    client = local(quiet_api)
    assert families(client.get("/metrics").text).isdisjoint({"platforms_checkpoint_age_seconds"})
    quiet_api.post("/platforms", "applicant", application())
    sign_checkpoint(c.app, c.checkpoint_signer(), c.settings.checkpoint_keys,
                    now=datetime.now(UTC) - timedelta(hours=2))
    page = scrape(client)
    assert 7200 <= page[("platforms_checkpoint_age_seconds", ())] < 7200 + 600
    assert page[("platforms_checkpoint_size", ())] == page[("platforms_log_position", ())]


def test_the_page_is_refused_to_addresses_not_allowed(tmp_path: Path) -> None:
    api, container = make_api(f"sqlite:///{tmp_path / 'events.sqlite3'}", tmp_path,
                              metrics_clients=("203.0.113.0/24",))
    try:
        with api.client:
            app = api.client.app
            for client, status in ((TestClient(app, client=("198.51.100.7", 1)), 404),
                                   (TestClient(app, client=LOCAL), 404),  # loopback is not in the list
                                   (api.client, 404),  # not an address at all
                                   (TestClient(app, client=("203.0.113.9", 1)), 200)):
                response = client.get("/metrics")
                assert response.status_code == status
                if status == 404:  # as any unknown path: nothing says the page exists
                    assert response.json()["code"] == "not_found"
                    assert response.headers["content-type"] == "application/problem+json"
    finally:
        container.close()


def test_the_allowed_clients_are_loopback_unless_configured() -> None:
    key = "k" * 32
    assert Settings.from_env(env={}, secret_key=key).metrics_clients == ("127.0.0.0/8", "::1/128")
    env = {"PLATFORMS_METRICS_CLIENTS": "10.1.0.0/16, 192.0.2.5"}
    assert Settings.from_env(env=env, secret_key=key).metrics_clients == ("10.1.0.0/16", "192.0.2.5/32")
    with pytest.raises(SettingsError, match="PLATFORMS_METRICS_CLIENTS"):
        Settings.from_env(env={"PLATFORMS_METRICS_CLIENTS": "*"}, secret_key=key)


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_two_workers_count_into_one_total(store_url: str, tmp_path: Path) -> None:
    """``serve --workers 2``: each worker counts the requests it answered, in files of its own;
    whichever worker answers the scrape reports the sum."""
    shared = tmp_path / "metrics"
    shared.mkdir()
    (shared / "counter_999999.db").write_bytes(b"left by an earlier run")  # emptied at start
    with serving(tmp_path, "--workers", "2", PLATFORMS_DATABASE_URL=store_url,
                 PLATFORMS_METRICS_DIR=str(shared)) as (base, _):
        assert not (shared / "counter_999999.db").exists()
        sent = 0

        def per_worker() -> dict[str, float]:
            counts = {}
            for f in shared.glob("histogram_*.db"):
                merged = MultiProcessCollector.merge([str(f)], accumulate=True)
                counts[f.name] = sum(s.value for m in merged for s in m.samples
                                     if s.name.endswith("_count") and s.labels.get("route") == "unmatched")
            return counts

        def both_served() -> bool:
            nonlocal sent
            # A new connection each time: the workers take turns accepting as the kernel wakes them.
            assert httpx.get(f"{base}/no/such/page", timeout=10).status_code == 404
            sent += 1
            return sent >= 10 and sum(1 for n in per_worker().values() if n > 0) >= 2

        wait_until(both_served, seconds=60)
        for _ in range(4):  # whichever worker answers
            page = scrape(text=httpx.get(f"{base}/metrics", timeout=10).text)
            assert sample(page, "platforms_http_request_duration_seconds_count",
                          route="unmatched", method="GET", status="4xx") == sent


def test_a_command_that_fails_unexpectedly_is_counted_as_an_error(memory_registry) -> None:
    """Neither ok nor a refusal: a fault (a bug, a lost database) is counted apart, so that an
    alert on errors is not drowned by the refusals the rules give every day."""
    from datetime import date

    from aggregates.unit_of_work import Command
    from aggregates.values import Act, Role
    from api.metrics import PROCESS, CommandMetrics

    def decide(uow: object) -> object:
        raise RuntimeError("the disk is gone")

    memory_registry.committer.observer = CommandMetrics()
    labels = {"command": "test_fault", "outcome": "error", "code": ""}
    before = PROCESS.get_sample_value("platforms_commands_total", labels) or 0
    act = Act(actor_id="bureau", role=Role.BUREAU, business_date=date(2024, 3, 1), recorded_on=date(2024, 3, 1))
    with pytest.raises(RuntimeError):
        memory_registry.committer.run(Command("test_fault", act, None, decide))
    assert PROCESS.get_sample_value("platforms_commands_total", labels) == before + 1
